/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bpf/go_memwrite.bpf.c and lib/go_memwrite.c share: the processes selected for
 * --propagate=memory, with what the probe needs of their binary, and its counters.
 */
#ifndef EHTTP_BPF_GO_MEMWRITE_H
#define EHTTP_BPF_GO_MEMWRITE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* "Traceparent: 00-<32 hex>-<16 hex>-01\r\n" */
#define GO_MEMWRITE_LINE_LEN 70

/* One process whose outgoing requests get a traceparent written into their buffer. */
struct go_memwrite_proc {
	/* The run-time address of the binary's itab for (*bufio.Writer, io.Writer): the
	 * first word of writeSubset's io.Writer argument when it is a *bufio.Writer. */
	__u64 bufio_itab;
	__s32 buf_off; /* bufio.Writer.buf, a []byte: data pointer, len, cap */
	__s32 n_off;   /* bufio.Writer.n, an int: bytes buffered */
	__u32 probe_at; /* GO_MW_AT_JUMP: the probe sits on the stack check's jump */
	__u32 pad;
};

#define GO_MW_AT_JUMP 1u

/* go_event.prop_reason when the write was skipped (= enum span_propagation_reason). */
enum go_memwrite_skip {
	GO_MW_SKIP_NO_ROOM = 13,
	GO_MW_SKIP_NOT_BUFIO = 14,
	GO_MW_SKIP_WRITE_FAILED = 15,
	GO_MW_SKIP_NO_ITAB = 16,
};

/* What the probe did, per CPU. */
struct go_memwrite_counters {
	__u64 written;    /* traceparent lines written */
	__u64 existing;   /* requests that carried one: left alone */
	__u64 no_room;    /* the buffer had less room than the line */
	__u64 not_bufio;  /* the writer was no *bufio.Writer */
	__u64 failed;     /* the kernel refused the write (a page not writable, ...) */
};

#endif
