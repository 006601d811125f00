/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the Go objects share: the register ABI their uprobes read, and the Go source's
 * maps that the memory-writing object (bpf/go_memwrite.bpf.c) is given the descriptors
 * of (bpf_map__reuse_fd), so both must define them alike.
 */
#ifndef EHTTP_BPF_GO_COMMON_BPF_H
#define EHTTP_BPF_GO_COMMON_BPF_H

#include "go_http.h"

/* The register ABI (src/cmd/compile/abi-internal.md): a method's receiver first, an
 * interface as two words (itab, data). */
#if defined(__TARGET_ARCH_x86)
#define GO_G(ctx) ((ctx)->r14)
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#define GO_ARG4(ctx) ((ctx)->di)
/* The stack check's JBE is taken (to morestack) when CF or ZF is set. */
#define GO_JUMP_TAKEN(ctx) (((ctx)->flags & 0x41) != 0)
#elif defined(__TARGET_ARCH_arm64)
#define GO_G(ctx) (((struct user_pt_regs *)(ctx))->regs[28])
#define GO_ARG1(ctx) (((struct user_pt_regs *)(ctx))->regs[0])
#define GO_ARG2(ctx) (((struct user_pt_regs *)(ctx))->regs[1])
#define GO_ARG3(ctx) (((struct user_pt_regs *)(ctx))->regs[2])
#define GO_ARG4(ctx) (((struct user_pt_regs *)(ctx))->regs[3])
#define GO_JUMP_TAKEN(ctx) 0 /* entry probes are not placed on jumps on arm64 */
#else
#error "Go probes: amd64 and arm64 only"
#endif

/* The traced processes → their binary (key of go_bins); an exit takes a process out, so
 * a pid reused by another program is not taken for the old one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GO_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct go_proc);
} go_procs SEC(".maps");

/* Outgoing calls in flight, by the calling goroutine: the client span under construction. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_MAX_REQUESTS);
	__type(key, struct go_key);
	__type(value, struct go_req);
} client_reqs SEC(".maps");

/* Outgoing requests' Header maps → the goroutine whose roundTrip sends them (the key of
 * client_reqs), from roundTrip's entry to its return. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_MAX_REQUESTS);
	__type(key, struct go_hdr_key);
	__type(value, __u64);
} client_hdrs SEC(".maps");

#endif
