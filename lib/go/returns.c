// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every return instruction inside a function: uretprobes corrupt Go stacks (the runtime
 * moves goroutine stacks and sees the trampoline address), so ehttp puts a uprobe on each
 * RET instead. On x86-64 a 0xC3 byte may sit inside another instruction (an immediate, a
 * displacement), so the code is decoded instruction by instruction with Zydis; on arm64
 * instructions are fixed 4-byte words.
 */
#include <stdlib.h>

#include <Zydis/Zydis.h>

#include "goelf_int.h"

static int push(uint64_t **v, size_t *n, uint64_t addr)
{
	if (!(*n & (*n - 1)) || !*n) {
		uint64_t *nv = realloc(*v, (*n ? 2 * *n : 4) * sizeof(**v));

		if (!nv)
			return -1;
		*v = nv;
	}
	(*v)[(*n)++] = addr;
	return 0;
}

/* Called on each instruction decoded at @addr: nonzero stops the walk and is returned. */
typedef int (*amd64_visit)(const ZydisDecodedInstruction *insn, uint64_t addr, void *ctx);

/* Decode @code (at @base) instruction by instruction, as a disassembler would: bytes
 * that are not code (or cut short) are stepped over one at a time. Returns the first
 * nonzero @visit result, 0 at the end, -1 when the decoder cannot be set up. */
static int amd64_each(const uint8_t *code, size_t len, uint64_t base, amd64_visit visit, void *ctx)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	size_t off = 0;
	int rc;

	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -1;
	while (off < len) {
		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off,
							      &insn))) {
			off++;
			continue;
		}
		rc = visit(&insn, base + off, ctx);
		if (rc)
			return rc;
		off += insn.length;
	}
	return 0;
}

struct ret_list {
	uint64_t **v;
	size_t *n;
};

static int visit_ret(const ZydisDecodedInstruction *insn, uint64_t addr, void *ctx)
{
	struct ret_list *l = ctx;

	/* Near returns only: C3 and C2 iw (with any prefixes, e.g. "rep ret"). */
	if (insn->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	    (insn->opcode == 0xc3 || insn->opcode == 0xc2))
		return push(l->v, l->n, addr);
	return 0;
}

static int scan_amd64(const uint8_t *code, size_t len, uint64_t base, uint64_t **ret, size_t *n)
{
	struct ret_list l = { ret, n };

	return amd64_each(code, len, base, visit_ret, &l) ? -1 : 0;
}

/* A direct CALL, JMP or short JMP to *(uint64_t *)@ctx. */
static int visit_branch_to(const ZydisDecodedInstruction *insn, uint64_t addr, void *ctx)
{
	uint64_t target = *(const uint64_t *)ctx;

	return insn->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	       (insn->opcode == 0xe8 || insn->opcode == 0xe9 || insn->opcode == 0xeb) &&
	       insn->raw.imm[0].is_relative &&
	       addr + insn->length + (uint64_t)insn->raw.imm[0].value.s == target;
}

/* RET Xn (0xd65f0000 | n << 5), and RETAA/RETAB. */
static bool arm64_is_ret(uint32_t w)
{
	return (w & 0xfffffc1f) == 0xd65f0000 || w == 0xd65f0bff || w == 0xd65f0fff;
}

static int scan_arm64(const uint8_t *code, size_t len, uint64_t base, uint64_t **ret, size_t *n)
{
	size_t off;

	/* Function entries are 4-byte aligned in the file as in memory. */
	for (off = (4 - (base & 3)) & 3; off + 4 <= len; off += 4)
		if (arm64_is_ret(ld32(code + off)) && push(ret, n, base + off))
			return -1;
	return 0;
}

int scan_returns(enum goelf_arch arch, const uint8_t *code, size_t len, uint64_t base,
		 uint64_t **ret, size_t *n)
{
	return arch == GOELF_ARCH_ARM64 ? scan_arm64(code, len, base, ret, n)
					: scan_amd64(code, len, base, ret, n);
}

/* Does @code (at @base) call or jump directly to @target? ABI wrappers do, to the
 * function they wrap, which carries the same name in the pclntab. */
bool code_branches_to(enum goelf_arch arch, const uint8_t *code, size_t len, uint64_t base,
		      uint64_t target)
{
	size_t off = 0;

	if (arch == GOELF_ARCH_ARM64) {
		for (off = (4 - (base & 3)) & 3; off + 4 <= len; off += 4) {
			uint32_t w = ld32(code + off);
			int64_t imm;

			if ((w & 0x7c000000) != 0x14000000) /* B, BL */
				continue;
			/* imm26, sign-extended, times 4 */
			imm = (int64_t)(int32_t)((w & 0x03ffffff) << 6) >> 4;
			if (base + off + (uint64_t)imm == target)
				return true;
		}
		return false;
	}
	return amd64_each(code, len, base, visit_branch_to, &target) == 1;
}
