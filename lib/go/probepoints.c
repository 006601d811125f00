// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where a uprobe costs least. On x86-64 the kernel runs most probed instructions by
 * copying them out of line and single-stepping the copy: two exceptions. Direct calls,
 * direct jumps and conditional jumps it emulates instead: one. On some hypervisors the
 * single-step is what costs (measured on ehttp's test VM: about 16 us per hit on a
 * function's first instruction or a RET, 0.5 us on a CALL or a Jcc), so the Go source
 * places its per-request probes on such instructions where the code allows:
 *
 *  - a function's entry: on the conditional jump of Go's stack check (CMP against
 *    g.stackguard0 in R14, then JBE to morestack). Nothing before it changes an argument
 *    register; the probe program skips the hits where the jump is taken (the function
 *    comes back to its entry after growing the stack and passes again).
 *  - a function's return: right after each direct call to it, in every caller: the first
 *    emulated instruction that follows, with only straight-line code (or calls, which
 *    come back) between, and no jump from elsewhere landing in that stretch.
 *  - a call: on the CALL instruction itself, where the callee's arguments are in their
 *    registers.
 *
 * arm64 simulates branches and RET already; these are x86-64 only.
 */
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "goelf_int.h"

/* How far after a call its return point is looked for, in instructions. */
#define AFTER_CALL_MAX_INSNS 48

static bool decoder(ZydisDecoder *dec)
{
	return ZYAN_SUCCESS(ZydisDecoderInit(dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64));
}

/* A direct branch's target (CALL rel32, JMP rel8/32, Jcc rel8/32). */
static bool direct_target(const ZydisDecodedInstruction *in, uint64_t addr, uint64_t *target)
{
	if (!in->raw.imm[0].is_relative || !(in->attributes & ZYDIS_ATTRIB_IS_RELATIVE))
		return false;
	*target = addr + in->length + (uint64_t)in->raw.imm[0].value.s;
	return true;
}

/* Does the kernel emulate a uprobe on @in (arch/x86/kernel/uprobes.c, branch_setup_xol_ops):
 * a prefix-free CALL rel32, JMP rel8/rel32 or Jcc rel8/rel32. */
static bool emulated(const ZydisDecodedInstruction *in)
{
	if (in->raw.prefix_count)
		return false;
	if (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT)
		return in->opcode == 0xe8 || in->opcode == 0xe9 || in->opcode == 0xeb ||
		       (in->opcode >= 0x70 && in->opcode <= 0x7f);
	return in->opcode_map == ZYDIS_OPCODE_MAP_0F && in->opcode >= 0x80 && in->opcode <= 0x8f;
}

static bool is_call(const ZydisDecodedInstruction *in)
{
	return in->mnemonic == ZYDIS_MNEMONIC_CALL;
}

bool goelf_entry_jump(struct goelf *g, const struct goelf_func *f, uint64_t *addr)
{
	const uint8_t *code = g->data + f->offset;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZydisDecodedInstruction in;
	ZydisDecoder dec;
	size_t off = 0;
	bool cmp_g = false;
	int i;

	if (g->arch != GOELF_ARCH_AMD64 || !decoder(&dec))
		return false;
	/* [LEAQ -n(SP), R12;] CMPQ 16(R14), SP|R12; JBE morestack */
	for (i = 0; i < 3 && off < f->size; i++) {
		if (ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, code + off, f->size - off, &in, ops)))
			return false;
		if (in.mnemonic == ZYDIS_MNEMONIC_CMP) {
			cmp_g = in.operand_count >= 2 &&
				((ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[0].mem.base == ZYDIS_REGISTER_R14) ||
				 (ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[1].mem.base == ZYDIS_REGISTER_R14));
		} else if (in.mnemonic == ZYDIS_MNEMONIC_JBE) {
			if (!cmp_g || !emulated(&in))
				return false;
			*addr = f->address + off;
			return true;
		} else if (in.mnemonic != ZYDIS_MNEMONIC_LEA) {
			return false;
		}
		off += in.length;
	}
	return false;
}

struct insn {
	uint64_t addr;
	uint8_t len;
	bool emulated, call, flow; /* flow: any other change of control (RET, JMP reg, INT3...) */
	uint64_t target;           /* direct branches and calls; 0 otherwise */
};

static int decode_all(struct goelf *g, const struct goelf_func *f, struct insn **out, size_t *n)
{
	const uint8_t *code = g->data + f->offset;
	ZydisDecodedInstruction in;
	ZydisDecoder dec;
	struct insn *v = NULL;
	size_t off = 0, cap = 0;

	*n = 0;
	if (!decoder(&dec))
		return -1;
	while (off < f->size) {
		struct insn *it;

		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, f->size - off, &in))) {
			off++;
			continue;
		}
		if (*n == cap) {
			struct insn *nv = realloc(v, (cap ? cap * 2 : 256) * sizeof(*v));

			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
			cap = cap ? cap * 2 : 256;
		}
		it = &v[(*n)++];
		memset(it, 0, sizeof(*it));
		it->addr = f->address + off;
		it->len = in.length;
		it->emulated = emulated(&in);
		it->call = is_call(&in);
		it->flow = !it->call && (in.meta.branch_type != ZYDIS_BRANCH_TYPE_NONE ||
					 in.meta.category == ZYDIS_CATEGORY_RET ||
					 in.meta.category == ZYDIS_CATEGORY_INTERRUPT ||
					 in.meta.category == ZYDIS_CATEGORY_SYSCALL ||
					 in.mnemonic == ZYDIS_MNEMONIC_UD2);
		if (!direct_target(&in, it->addr, &it->target))
			it->target = 0;
		off += in.length;
	}
	*out = v;
	return 0;
}

int goelf_calls_to(struct goelf *g, const struct goelf_func *f, uint64_t target,
		   struct goelf_call **out, size_t *n)
{
	struct insn *v;
	size_t nv, i, j, k;

	if (g->arch != GOELF_ARCH_AMD64)
		return 0;
	if (decode_all(g, f, &v, &nv))
		return -1;
	for (i = 0; i < nv; i++) {
		struct goelf_call c = { .call = v[i].addr };
		struct goelf_call *nc;

		if (!v[i].call || v[i].target != target)
			continue;
		c.call_emulated = v[i].emulated;
		for (j = i + 1; j < nv && j <= i + AFTER_CALL_MAX_INSNS; j++)
			if (v[j].emulated || v[j].flow)
				break;
		if (j < nv && j <= i + AFTER_CALL_MAX_INSNS) {
			c.after = v[j].addr;
			c.after_emulated = v[j].emulated;
			/* nothing else may reach [the return address, the probe] */
			for (k = 0; k < nv && c.after; k++)
				if (v[k].target && v[k].target > v[i].addr && v[k].target <= c.after)
					c.after = 0;
		}
		if (!c.after)
			c.after_emulated = false;
		nc = realloc(*out, (*n + 1) * sizeof(**out));
		if (!nc) {
			free(v);
			return -1;
		}
		*out = nc;
		(*out)[(*n)++] = c;
	}
	free(v);
	return 0;
}
