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
	bool test_bx;              /* TEST RBX, RBX: a second result compared with nil */
	ZydisMnemonic mnemonic;
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
		it->mnemonic = in.mnemonic;
		it->test_bx = in.mnemonic == ZYDIS_MNEMONIC_TEST && in.opcode == 0x85 &&
			      in.raw.rex.W && !in.raw.rex.R && !in.raw.rex.B && in.raw.modrm.mod == 3 &&
			      in.raw.modrm.reg == 3 && in.raw.modrm.rm == 3;
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

/* The instruction of @v (sorted, @nv of them) at @addr; -1 when none starts there. */
static long insn_at(const struct insn *v, size_t nv, uint64_t addr)
{
	size_t lo = 0, hi = nv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].addr == addr)
			return (long)mid;
		if (v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool ends_flow(const struct insn *it)
{
	return it->mnemonic == ZYDIS_MNEMONIC_RET || it->mnemonic == ZYDIS_MNEMONIC_JMP ||
	       it->mnemonic == ZYDIS_MNEMONIC_INT3 || it->mnemonic == ZYDIS_MNEMONIC_UD2;
}

/* Can running reach the instruction after @v[k] from @v[k]? Alignment NOPs after a JMP
 * cannot, unless something jumps to them. */
static bool falls_through(const struct insn *v, size_t nv, size_t k)
{
	size_t i;

	for (;; k--) {
		if (ends_flow(&v[k]))
			return false;
		if (v[k].mnemonic != ZYDIS_MNEMONIC_NOP || k == 0)
			return true;
		for (i = 0; i < nv; i++)
			if (v[i].target == v[k].addr && !v[i].call)
				return true;
	}
}

/* How many instructions the success branch may span before the analysis gives up. */
#define SUCCESS_MAX_INSNS 256

/*
 * The success branch from the JE at index @je: every instruction reached from its target
 * by falling through, direct jumps (both ways of a Jcc) and calls (which come back), up
 * to the RETs, marked in @in. Only forward of the JE, no indirect jump; then nothing
 * outside may jump or fall into it, so its RETs are reached from the JE alone. The RETs
 * into (@rets, @nrets). false when the code has another shape.
 */
static bool success_branch(const struct insn *v, size_t nv, size_t je, bool *in, uint64_t *rets,
			   size_t *nrets)
{
	size_t stack[SUCCESS_MAX_INSNS], top = 0, seen = 0, k;
	long t = insn_at(v, nv, v[je].target);

	*nrets = 0;
	if (t < 0)
		return false;
	stack[top++] = (size_t)t;
	while (top) {
		size_t i = stack[--top];
		const struct insn *it = &v[i];
		long to;

		if (in[i])
			continue;
		if (i <= je || ++seen > SUCCESS_MAX_INSNS)
			return false;
		in[i] = true;
		if (it->mnemonic == ZYDIS_MNEMONIC_RET) {
			if (*nrets == GOELF_SUCCESS_MAX_RETS)
				return false;
			rets[(*nrets)++] = it->addr;
			continue;
		}
		if (it->mnemonic == ZYDIS_MNEMONIC_INT3 || it->mnemonic == ZYDIS_MNEMONIC_UD2)
			continue; /* a panic's end: nothing comes back */
		if (it->flow && !it->target)
			return false; /* an indirect jump, a syscall: not followed */
		if (it->flow && it->target) {
			if ((to = insn_at(v, nv, it->target)) < 0 || top == SUCCESS_MAX_INSNS)
				return false;
			stack[top++] = (size_t)to;
			if (it->mnemonic == ZYDIS_MNEMONIC_JMP)
				continue;
		}
		/* straight on: the next instruction, which must follow this one exactly */
		if (i + 1 >= nv || v[i + 1].addr != it->addr + it->len || top == SUCCESS_MAX_INSNS)
			return false;
		stack[top++] = i + 1;
	}
	if (je + 1 < nv && in[je + 1])
		return false; /* the branch joins the error's way */
	for (k = 0; k < nv; k++) {
		long to;

		if (in[k] || k == je)
			continue;
		/* a jump from elsewhere into the branch, or code falling into it */
		if (v[k].target && !v[k].call && (to = insn_at(v, nv, v[k].target)) >= 0 && in[to])
			return false;
		if (k + 1 < nv && in[k + 1] && falls_through(v, nv, k))
			return false;
	}
	return *nrets > 0;
}

int goelf_result_check(struct goelf *g, const struct goelf_func *f, uint64_t callee,
		       struct goelf_result_check *out)
{
	struct insn *v;
	size_t nv, i, j, k, call = 0, ncalls = 0;
	bool *in = NULL;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	if (g->arch != GOELF_ARCH_AMD64)
		return 1;
	if (decode_all(g, f, &v, &nv))
		return -1;
	for (i = 0; i < nv; i++)
		if (v[i].call && v[i].target == callee) {
			call = i;
			ncalls++;
		}
	if (ncalls != 1)
		goto out;
	/* CALL callee; NOP...; TEST RBX, RBX; JE success */
	for (j = call + 1; j < nv && v[j].mnemonic == ZYDIS_MNEMONIC_NOP; j++)
		;
	if (j + 1 >= nv || !v[j].test_bx || v[j + 1].mnemonic != ZYDIS_MNEMONIC_JZ ||
	    !v[j + 1].emulated || !v[j + 1].target)
		goto out;
	/* Another way into that stretch is only the other branch of an if/else of calls
	 * giving the same results (Go 1.19's pconn.alt.RoundTrip): a JMP right after a CALL,
	 * to the TEST or a NOP before it. */
	for (k = 0; k < nv; k++) {
		if (!v[k].target || v[k].call || v[k].target <= v[call].addr || v[k].target > v[j + 1].addr)
			continue;
		if (k == 0 || v[k].mnemonic != ZYDIS_MNEMONIC_JMP || !v[k - 1].call ||
		    v[k].target > v[j].addr)
			goto out;
	}
	if (!(in = calloc(nv, sizeof(*in)))) {
		rc = -1;
		goto out;
	}
	if (!success_branch(v, nv, j + 1, in, out->rets, &out->nrets))
		goto out;
	out->check = v[j + 1].addr;
	rc = 0;
out:
	if (rc)
		out->nrets = 0;
	free(in);
	free(v);
	return rc;
}
