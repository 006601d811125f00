/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bpf/propagate.bpf.c and lib/propagate.c share: the records the kernel side sends
 * for every request it rewrote or left alone, and the limits both sides rely on.
 */
#ifndef EHTTP_BPF_PROPAGATE_H
#define EHTTP_BPF_PROPAGATE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bytes of a message's start looked at for a request head. A power of two: offsets are
 * masked with it. A head longer than this is left alone (it is rare: browsers send
 * 0.5-2 KiB with cookies). */
#define PROPAGATE_HEAD_MAX 4096
/* Request heads followed in one message (pipelining): their bodies' lengths keep the
 * connection's message boundaries known; past this many, they are lost. */
#define PROPAGATE_MAX_HEADS 8
/* Heads and chunk-size lines followed in one message, all told. */
#define PROPAGATE_MAX_STEPS 32
/* "traceparent: 00-" 32 hex "-" 16 hex "-01\r\n" */
#define PROPAGATE_LINE_LEN 70
#define PROPAGATE_TRACE_ID_LEN 16
#define PROPAGATE_SPAN_ID_LEN 8

enum propagate_event_type {
	PROPAGATE_EV_CLAIM = 1,  /* a selected process's connection: joined the sockhash or not */
	PROPAGATE_EV_CLIENT = 2, /* an outgoing request head: what was done with it */
	PROPAGATE_EV_SERVER = 3, /* an incoming request head: the ids of its server span */
	PROPAGATE_EV_RELEASE = 4, /* nothing more to rewrite on a connection: take it out */
};

/* What happened to an outgoing request (PROPAGATE_EV_CLIENT), or why a connection was
 * not claimed (PROPAGATE_EV_CLAIM). Mirrored by enum span_propagation_reason. */
enum propagate_outcome {
	PROPAGATE_INJECTED = 1,       /* the header was inserted after the request line */
	PROPAGATE_EXISTING = 2,       /* the request carried a traceparent: left alone */
	PROPAGATE_SKIP_PIPELINED = 3, /* a request after the first in one write */
	PROPAGATE_SKIP_SPLIT = 4,     /* its head did not end in the write it started in */
	PROPAGATE_SKIP_NOT_HTTP1 = 5, /* the connection does not speak HTTP/1.x */
	PROPAGATE_SKIP_LONG_HEAD = 6, /* the head is longer than PROPAGATE_HEAD_MAX */
	PROPAGATE_SKIP_FRAMING = 7,   /* the connection's message boundaries were lost */
	PROPAGATE_SKIP_NO_MEMORY = 8, /* bpf_msg_push_data could not make room */
	PROPAGATE_SKIP_BUSY = 9,      /* claim: another program's sockmap holds the socket */
	PROPAGATE_SKIP_CLAIM = 10,    /* claim: the sockhash refused it (full, or an error) */
	PROPAGATE_OUTCOME__COUNT,
};

/* Where a Go process's request took its ids from (bpf/go_send.h). Not Go: 0. */
enum propagate_go_ctx {
	PROPAGATE_GO_NOT = 0,    /* not a Go process: the sending thread's context */
	PROPAGATE_GO_LINKED = 1, /* the Go probe's publication: the client span's own ids */
	PROPAGATE_GO_NONE = 2,   /* no publication for the sending thread: a new trace */
	PROPAGATE_GO_STALE = 3,  /* one too old, or for another request: a new trace */
};

struct propagate_event {
	__u64 ts_ns;  /* CLOCK_MONOTONIC: in the send (sk_msg) or in the receive that saw it */
	__u64 cookie; /* the socket's cookie: the capture's connection id on socket hooks */
	__u32 type;   /* enum propagate_event_type */
	__u32 pid;    /* tgid of the sender/receiver (of the connecting process for claims) */
	__u32 tid;
	__u8 outcome; /* enum propagate_outcome (client and claim records) */
	__u8 has_parent;  /* parent_id is valid */
	__u8 head;    /* the head's number in its message: 0 first, 1.. pipelined after it */
	__u8 go_ctx;  /* client records of Go processes: enum propagate_go_ctx */
	__s32 err;    /* claims: the negative errno of the sockhash update */
	__u32 pad2;
	__u8 trace_id[PROPAGATE_TRACE_ID_LEN];
	__u8 span_id[PROPAGATE_SPAN_ID_LEN];   /* the span this request is */
	__u8 parent_id[PROPAGATE_SPAN_ID_LEN]; /* its parent: the server request the thread
						* serves (client), the caller (server) */
};

/* Per-CPU counters: what happened to every request head, records included or not. */
struct propagate_counters {
	__u64 outcomes[PROPAGATE_OUTCOME__COUNT]; /* by enum propagate_outcome */
	__u64 claimed;      /* connections put in the sockhash */
	__u64 server_heads; /* incoming request heads whose ids became a thread's context */
	__u64 dropped;      /* records the ring buffer had no room for */
};

#endif
