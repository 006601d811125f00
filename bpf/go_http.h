/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bpf/go_http.bpf.c and lib/go_source.c share: the per-binary field offsets the
 * probes read with, the per-goroutine state they keep, and the event records they send.
 */
#ifndef EHTTP_BPF_GO_HTTP_H
#define EHTTP_BPF_GO_HTTP_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Binaries (distinct executables) traced at once, and processes running them. */
#define GO_MAX_BINS 64
#define GO_MAX_PROCS 4096
/* Goroutines followed at once: spawned under a request (links), and with a request
 * or a call in flight, whose state (under 1 KiB each) is preallocated by the kernel. */
#define GO_MAX_GOROUTINES 65536
#define GO_MAX_REQUESTS 16384
/*
 * A goroutine spawned by a handler inherits the handler's request; so does one spawned
 * by that goroutine, and so on, up to this many generations below the handler. Deeper
 * than that the spawner is taken for a worker pool, not part of the request: its calls
 * are not linked and their spans say the link gave up.
 */
#define GO_LINK_MAX_DEPTH 8

/* net/http.Request read at once, at most (a power of two; 1.19's needed fields end at 208). */
#define GO_REQ_READ_MAX 512

/* String buffers: powers of two (the copy length is masked with size - 1). */
#define GO_METHOD_MAX 16
#define GO_TARGET_MAX 256
#define GO_QUERY_MAX 128
#define GO_HOST_MAX 128
#define GO_ADDR_MAX 64

/* A header line "traceparent: 00-<32 hex>-<16 hex>-<2 hex>", name case-insensitive. */
#define GO_TRACEPARENT_NAME 12 /* "traceparent:" */
#define GO_TRACEPARENT_VALUE 55
#define GO_TRACEPARENT_LINE_MAX 96

/*
 * Where net/http.Header (a map[string][]string) keeps its entries (lib/go/maps.c): the
 * probe at ServeHTTP's entry visits every slot for the key "Traceparent". Kind 0: the
 * layout is not known, and the traceparent is read from the header lines instead.
 */
enum go_map_kind { GO_MAP_UNKNOWN = 0, GO_MAP_BUCKETS = 1, GO_MAP_SWISS = 2 };
#define GO_MAP_GROUP_MAX 512 /* bytes of one bucket or group, at most */
#define GO_MAP_MAX_GROUPS 128 /* buckets or groups read per request, at most */
#define GO_MAP_MAX_DIR 16    /* Swiss directory entries, at most */
#define GO_MAP_MAX_B 6       /* hmap: 2^6 buckets, at most */
#define GO_MAP_MAX_CHAIN 8   /* hmap: a bucket and 7 overflow buckets, at most */

struct go_map_layout {
	__u32 kind; /* enum go_map_kind */
	__u32 count_off;
	__u32 flags_off, b_off, buckets_off, oldbuckets_off;              /* hmap */
	__u32 dir_ptr_off, dir_len_off, table_groups_off, table_mask_off; /* Swiss */
	__u32 group_size, key_off, key_stride, elem_off, elem_stride, overflow_off;
};

/* Probes placed where the kernel emulates the instruction instead of single-stepping
 * it (lib/go/probepoints.c): an entry probe on the stack check's jump, which passes
 * twice when the stack grows. The program ignores the pass where the jump is taken. */
enum go_probe_at {
	GO_AT_SERVE_JUMP = 1u << 0, /* ServeHTTP's entry probe */
	GO_AT_SPAWN_JUMP = 1u << 1, /* runtime.newproc's entry probe */
	/* Go < 1.21: the spawn probe (runqput's call, on the system stack) takes the spawner
	 * as its thread's m.curg, and runtime.newproc's entry is not probed: a trap fewer. */
	GO_AT_SPAWN_CURG = 1u << 2,
	GO_AT_CLIENT_JUMP = 1u << 3, /* (*Transport).roundTrip's entry probe */
	GO_AT_SEND_JUMP = 1u << 4,  /* (*Request).write's entry probe (--propagate) */
	GO_AT_CONN_JUMP = 1u << 5,  /* persistConnWriter.Write's entry probe (--propagate) */
	/* Not a placement: persistConnWriter.Write is probed, and publishes what
	 * (*Request).write keeps for its goroutine (bpf/go_send.bpf.h). */
	GO_AT_SEND_CONN = 1u << 6,
	/* roundTrip's return is probed on its JE on persistConn.roundTrip's error, emulated,
	 * and on the RETs the success branch does not reach (lib/go/probepoints.c). */
	GO_AT_CLIENT_RESULT = 1u << 7,
};

/* Field offsets in one binary; -1 = not known (the probe leaves that field empty). */
struct go_offsets {
	__s32 req_method, req_url, req_content_length, req_host, req_remote_addr, req_request_uri;
	__s32 req_proto_major, req_proto_minor;
	/* Bytes of net/http.Request from its start that hold every req_ field above: the
	 * probes read them at once (0: field by field, each a bpf_probe_read_user). */
	__u32 req_read_len;
	__s32 url_host, url_path, url_raw_query;
	__s32 resp_status_code, resp_content_length, resp_proto_major, resp_proto_minor;
	__s32 response_req, response_status; /* net/http.response (the HTTP/1 ResponseWriter) */
	__s32 g_goid;
	__s32 g_parent_goid; /* Go 1.21+; -1 before: then newproc1's entry says who spawns */
	__s32 g_m, m_curg;   /* runtime.g.m, runtime.m.curg (DWARF): for GO_AT_SPAWN_CURG */
	/* Which argument of runtime.newproc1 is the creating goroutine (1-based): 4 in
	 * Go 1.17 (fn, argp, narg, callergp), 2 from 1.18 (fn, callergp, ...). */
	__u32 newproc_creator_arg; /* 0: the running goroutine (probe on runtime.newproc) */
	/* Where the spawned g is: 1 newproc1's result (its RETs), 2 the second argument of
	 * the call to runqput in runtime.newproc's closure (that CALL instruction). */
	__u32 spawn_newg_arg;
	__u32 probe_at; /* enum go_probe_at */
	__s32 req_header;
	struct go_map_layout header_map;
};

/* One traced process: which binary's offsets apply. */
struct go_proc {
	__u32 bin; /* key of go_bins */
	__u32 pad;
};

/*
 * Maps of per-goroutine state are keyed by process and goroutine id. Go never reuses a
 * goid (it does reuse g structs), so nothing stale can be taken for a new goroutine's,
 * and no probe on goroutine exit is needed: the maps are LRU.
 */
struct go_key {
	__u32 pid;
	__u32 pad;
	__u64 goid;
};

enum go_event_type {
	GO_EV_SERVER = 1, /* serverHandler.ServeHTTP returned */
	GO_EV_CLIENT = 2, /* (*Transport).roundTrip returned */
	GO_EV_EXEC = 3,   /* a process executed a new image: maybe a Go binary to trace */
};

enum go_event_flag {
	GO_F_TRACEPARENT = 1u << 0,  /* server: the request carried a valid traceparent */
	GO_F_LINK_SERVER = 1u << 1,  /* client: made by the handler's own goroutine */
	GO_F_LINK_SPAWNED = 1u << 2, /* client: made by a goroutine the handler's spawned */
	GO_F_LINK_GAVE_UP = 1u << 3, /* client: spawned too many generations below a handler */
	GO_F_PARENT_ENDED = 1u << 4, /* client: the request it belongs to had already ended */
	GO_F_ERROR = 1u << 5,        /* client: roundTrip returned an error, no response */
	GO_F_HTTP1_WRITER = 1u << 6, /* server: the ResponseWriter is net/http's HTTP/1 one */
	GO_F_TARGET_CUT = 1u << 7,   /* a string was longer than its buffer */
	GO_F_TP_UNREAD = 1u << 8,    /* server: the Header map was too big to look in for a traceparent */
};

/* go_event.prop: the values of enum span_propagation (lib/span.h, which checks them). */
enum go_prop {
	GO_PROP_NONE = 0,
	GO_PROP_EXISTING = 2, /* the request carried a traceparent: the span adopts it */
	GO_PROP_SKIPPED = 3,  /* prop_reason says why (enum span_propagation_reason) */
	GO_PROP_MEMORY = 4,   /* bpf/go_memwrite.bpf.c wrote it into the request's buffer */
};

/*
 * A finished (or aborted) request: the record sent to user space, and the state kept
 * per goroutine while the request runs. Lengths are the strings' real lengths; the
 * bytes copied are at most the buffer size - 1.
 */
struct go_event {
	__u32 type;  /* enum go_event_type */
	__u32 size;  /* of this record */
	__u32 pid, tid;
	__u32 flags; /* enum go_event_flag */
	__u16 status;
	__u8 depth;  /* client: generations between the handler and the caller (0 = itself) */
	__u8 proto_major, proto_minor;
	__u8 role;   /* 1 server, 2 client (= enum span_role) */
	/* client, --propagate: what was done with the request's trace context (= enum
	 * span_propagation, and enum span_propagation_reason when skipped) */
	__u8 prop, prop_reason;
	__u64 g, goid;
	__u64 start_ns, end_ns; /* CLOCK_MONOTONIC: entry and return of the probed function */
	__s64 req_content_length, resp_content_length;
	__u8 trace_id[16];
	__u8 span_id[8];
	__u8 parent_span_id[8]; /* all zero: none */
	__u16 method_len, target_len, query_len, host_len, url_host_len, remote_len;
	__u16 pad2[2];
	char comm[16];
	char method[GO_METHOD_MAX];
	char target[GO_TARGET_MAX]; /* server: RequestURI as sent; client: URL.Path */
	char query[GO_QUERY_MAX];   /* client: URL.RawQuery */
	char host[GO_HOST_MAX];     /* Request.Host */
	char url_host[GO_HOST_MAX]; /* client: URL.Host (where it connects) */
	char remote[GO_ADDR_MAX];   /* server: Request.RemoteAddr "ip:port" */
};

/* Per-goroutine request state: the event under construction, and what its return needs. */
struct go_req {
	struct go_event ev;
	__u64 writer; /* server: the ResponseWriter's data pointer (a *response for HTTP/1) */
	__u64 req;    /* server: the *Request (an HTTP/1 *response points back at it) */
	__u64 hdr;    /* client: the request's Header map (the key of client_hdrs) */
};

/*
 * An outgoing request's Header map, while its roundTrip runs: net/http writes the request
 * from the connection's own goroutine (persistConn.writeLoop), not the caller's, and
 * passes it the same Header map, also to each retry (rewindBody copies the Request but
 * not its map). Probes on the writing goroutine find the client span through it.
 */
struct go_hdr_key {
	__u32 pid;
	__u32 pad;
	__u64 hdr; /* the map's address: Request.Header */
};

/* The request a goroutine was spawned under, copied at spawn time. */
struct go_link {
	__u8 trace_id[16];
	__u8 span_id[8]; /* of the server span */
	__u64 server_goid; /* the handler's goroutine, to tell whether it still runs that request */
	__u8 depth;      /* 1 = spawned by the handler's goroutine */
	__u8 gave_up;    /* deeper than GO_LINK_MAX_DEPTH: not linked */
	__u8 pad[6];
};

/* A traceparent header line seen on a goroutine, for the request it is reading. */
struct go_traceparent {
	__u8 trace_id[16];
	__u8 parent_id[8];
};

/* Per-CPU counters. */
struct go_counters {
	__u64 dropped;  /* events the ring buffer had no room for */
	__u64 no_state; /* request state that did not fit the maps */
	__u64 tp_unread; /* requests whose Header map was too big to look in */
	__u64 unwoken;   /* bytes sent since this CPU last woke the reader */
};

#endif
