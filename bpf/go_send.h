/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the Go probes (bpf/go_send.bpf.h, in bpf/go_http.bpf.c) tell the sk_msg program
 * (bpf/propagate.bpf.c) about the request a thread of a Go program is about to send.
 *
 * net/http writes a request from the connection's own goroutine (persistConn.writeLoop),
 * on whatever thread runs it, so the sending thread says nothing of the request being
 * served. At (*Request).write, on that goroutine, a probe finds the client span of the
 * request (Header map → roundTrip's goroutine → its state) and keeps its ids for the
 * goroutine; at the connection's first write of it (persistConnWriter.Write) another
 * publishes them for the thread it runs on. The sk_msg program, in that thread's write
 * syscall, takes them once (and deletes them whatever it does), only while they are
 * fresh and only for a head whose method and path are the request's.
 */
#ifndef EHTTP_BPF_GO_SEND_H
#define EHTTP_BPF_GO_SEND_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Threads of the selected Go processes with a publication at once. */
#define GO_SEND_MAX 8192
/* A publication older than this is not used: the goroutine was preempted or moved to
 * another thread between the probe and its write syscall, and this thread's next head
 * may be another request's. */
#define GO_SEND_MAX_AGE_NS 20000000ull
#define GO_SEND_METHOD_MAX 16
/* The first bytes of URL.Path, compared with the request line's target. */
#define GO_SEND_PATH_MAX 32

struct go_send {
	__u64 ts;    /* CLOCK_MONOTONIC at the probe */
	__u32 pid;   /* tgid of the publishing thread */
	__u8 has_parent;
	__u8 method_len;
	__u8 path_len;   /* bytes of @path to compare: up to GO_SEND_PATH_MAX, and up to the
			  * first byte the request line escapes */
	__u8 path_whole; /* @path is the whole path: the target's next byte ends it */
	__u8 trace_id[16];
	__u8 span_id[8];   /* the client span's */
	__u8 parent_id[8]; /* the server span it belongs to */
	char method[GO_SEND_METHOD_MAX];
	char path[GO_SEND_PATH_MAX];
};

/* The publications, by thread id: made by propagate.bpf.c's object, whose map the Go
 * object reuses (both define it with this). */
#define GO_SENDS_MAP                                         \
	struct {                                             \
		__uint(type, BPF_MAP_TYPE_LRU_HASH);         \
		__uint(max_entries, GO_SEND_MAX);            \
		__type(key, __u32);                          \
		__type(value, struct go_send);               \
	} go_sends SEC(".maps")

#endif
