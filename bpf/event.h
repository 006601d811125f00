/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The header every record on an ehttp ring buffer starts with, whichever BPF object
 * wrote it: a reader dispatches on @type and steps over @size bytes, so that several
 * objects can share one ring buffer, and a reader can pass over records it does not
 * know. Types are numbered per object in ranges that never overlap.
 */
#ifndef EHTTP_BPF_EVENT_H
#define EHTTP_BPF_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

struct ehttp_event_hdr {
	__u32 type; /* one of the ranges below */
	__u32 size; /* bytes of the whole record, this header included */
};

enum ehttp_event_range {
	EHTTP_EV_CAPTURE_FIRST = 1,  /* bpf/capture.bpf.c: enum capture_event_type */
	EHTTP_EV_CAPTURE_LAST = 15,
	EHTTP_EV_GO_FIRST = 16,      /* Go uprobes */
	EHTTP_EV_GO_LAST = 31,
};

#endif
