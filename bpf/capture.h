/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What bpf/capture.bpf.c and lib/capture.c share: fixed-width event records, the
 * limits both sides rely on, and the layout of the per-connection state user space may
 * update (to tell the kernel a connection turned out not to be HTTP).
 */
#ifndef EHTTP_BPF_CAPTURE_H
#define EHTTP_BPF_CAPTURE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "event.h"

/*
 * Payload bytes copied per syscall. 4 KiB holds the request and response heads of
 * ordinary traffic (browsers send 0.5-2 KiB with cookies, servers answer with well under
 * 1 KiB) plus the start of a small body, while keeping a saturated ring buffer's
 * throughput in events per second high; bodies past it are counted, not copied.
 */
#define CAPTURE_SNAPLEN_DEFAULT 4096
/* Power of two: the copy offsets are masked with CAPTURE_SNAPLEN_MAX - 1, and the
 * scratch buffer is twice as large so offset + length is provably inside it. */
#define CAPTURE_SNAPLEN_MAX 16384
#define CAPTURE_SNAPLEN_MIN 64
/* iovecs looked at per readv/writev/sendmsg/recvmsg (nginx writes head + body in 2-3) */
#define CAPTURE_MAX_IOV 16
/* -p PIDs the kernel filters on */
#define CAPTURE_MAX_PIDS 64
/* When a syscall moves more than the snap length, this share of it (1/4) is taken
 * from the payload's end instead of its start. */
#define CAPTURE_TAIL_SHIFT 2
/* Messages a connection picked up mid-stream may send before it is judged not HTTP:
 * its first bytes can be the middle of a body rather than a message boundary. */
#define CAPTURE_MIDSTREAM_TRIES 16

/* In the range EHTTP_EV_CAPTURE_FIRST..LAST (event.h). */
enum capture_event_type {
	CAPTURE_EV_DATA = 1,  /* bytes went through a socket (some or none copied) */
	CAPTURE_EV_CLOSE = 2, /* the process closed a connection it had sent events for */
	CAPTURE_EV_EXIT = 3,  /* a process exited: its connections are gone */
};

/* Which way bytes went, from the traced process's point of view (= enum httpconn_dir). */
enum capture_dir {
	CAPTURE_EGRESS = 0,
	CAPTURE_INGRESS = 1,
};

/* Where the kernel learned of the connection (= enum span_role). */
enum capture_role {
	CAPTURE_ROLE_UNKNOWN = 0, /* already open when the capture started */
	CAPTURE_ROLE_SERVER = 1,  /* accept/accept4 returned it */
	CAPTURE_ROLE_CLIENT = 2,  /* connect succeeded (or is in progress) on it */
};

/* The kernel's classification of a connection (= enum httpconn_state). */
enum capture_class {
	CAPTURE_CLASS_UNKNOWN = 0,  /* no payload judged yet */
	CAPTURE_CLASS_HTTP = 1,     /* first bytes were an HTTP/1.x request or status line, or HTTP/2 */
	CAPTURE_CLASS_NOT_HTTP = 2, /* first bytes were something else: no more events */
	CAPTURE_CLASS_FILTERED = 3, /* kernel only: the --port filter leaves it out */
};

enum capture_data_flag {
	CAPTURE_DF_CLASSIFY = 1u << 1,/* this message decided the connection's class */
	/* HTTP/2 (a single buffer): the payload is segments, not a head and a tail
	 * (struct capture_segment, each followed by its bytes, 4-byte aligned). */
	CAPTURE_DF_SEGMENTS = 1u << 2,
};

/*
 * An HTTP/2 connection's reads and writes carry frames, big ones many: the kernel walks
 * their frame headers and copies each (with the payload of any frame but DATA, up to
 * CAPTURE_H2_KEEP bytes), so that the frames past the snap length are not lost. A
 * segment is @n bytes found at @off of the syscall's payload.
 */
struct capture_segment {
	__u32 off;
	__u32 n;
};
#define CAPTURE_H2_KEEP 4096	 /* payload bytes copied of a frame other than DATA, per segment */
/* Steps of a walk per syscall: a step is a frame (or the part of one a syscall or an
 * iovec holds), or a move to the next iovec. A step is a global function, verified
 * once, so the bound costs the verifier a few instructions a step. */
#define CAPTURE_H2_WALK 2048
#define CAPTURE_H2_UNKNOWN 0xffffffffu /* where the next frame starts is not known */

/* An endpoint, as struct span_addr wants it: address in network order, port host order. */
struct capture_addr {
	__u8 addr[16];
	__u16 port;
	__u8 family; /* AF_INET, AF_INET6, 0 when unknown */
	__u8 pad;
};

/* Every record starts with this. */
struct capture_event {
	/* = struct ehttp_event_hdr */
	__u32 type;     /* enum capture_event_type */
	__u32 size;     /* this header and the @captured bytes after it */
	__u64 ts_ns;    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) at syscall exit */
	__u64 conn_id;  /* unique per connection within a capture */
	__u64 len;      /* bytes the syscall moved (return value) */
	__u32 pid;      /* tgid */
	__u32 tid;
	__s32 fd;
	__u32 captured; /* payload bytes following this header (<= snaplen) */
	__u32 flags;    /* enum capture_data_flag */
	__u8 dir;       /* enum capture_dir */
	__u8 role;      /* enum capture_role */
	__u8 class;     /* enum capture_class after this message */
	__u8 pad;
	/* The last @tail of the @captured bytes are the payload's last bytes, not its
	 * next ones: when a syscall moves more than the snap length, the next message
	 * often starts near its end (pipelining, a body's end and the next head). */
	__u32 tail;
	__u32 pad1;
	/* Bytes this connection moved (egress, ingress) whose events the ring buffer had no
	 * room for since its last event: user space counts them as unseen, in order. */
	__u64 gap[2];
	char comm[16];
	struct capture_addr local, remote;
	/* Bytes sendfile/splice moved on the connection (egress, ingress) since it was
	 * learned, up to this event: running totals, so that user space can also read them
	 * from the conns map when no event follows. They cost no event of their own. */
	__u64 unseen[2];
	__u64 unseen_ts; /* when the last of them moved */
	__u32 seq;       /* this event's number on the connection (1, 2, ...) */
	__u32 pad2;
	/* __u8 data[captured] follows for CAPTURE_EV_DATA */
};

/*
 * The conns map. Syscall hooks key it by tgid << 32 | fd; socket hooks by the socket's
 * cookie, which is then also the connection id (unique for the kernel's uptime).
 */
struct capture_conn {
	__u64 gen;     /* syscall hooks: the process image it was learned in (exec differs) */
	__u64 conn_id;
	__u64 file;    /* syscall hooks: the struct file the fd named when learned */
	struct capture_addr local, remote; /* family 0 until learned */
	__u8 role;     /* enum capture_role */
	__u8 class;    /* enum capture_class; user space may set NOT_HTTP */
	__u8 announced;/* an event went out: user space holds state and needs the close */
	__u8 tries;    /* unclassified messages so far */
	__u32 pid;     /* socket hooks: who last moved bytes on it, and through which fd: */
	__s32 fd;      /* its close, seen in any context, is reported as theirs */
	__u32 seq;     /* events numbered so far, those the ring had no room for included */
	__u64 gap[2];  /* bytes of dropped events, per direction, not yet reported */
	__u64 unseen[2]; /* as in struct capture_event, running */
	__u64 unseen_ts;
	__u8 closing;  /* socket hooks: ended inside a send of its user, whose event comes first */
	__u8 h2;       /* HTTP/2 (by its first bytes, or upgraded): reads and writes are walked */
	__u8 pad[2];
	/* HTTP/2, each way: payload bytes of the frame in progress that the next syscall
	 * starts with (CAPTURE_H2_UNKNOWN: where frames start is not known), how many of
	 * them to copy (the rest of a header block the last syscall cut), and the first
	 * bytes of a frame header the last syscall ended inside. */
	__u32 h2_skip[2];
	__u32 h2_copy[2];
	__u8 h2_hlen[2];
	__u8 pad3[6];
	__u8 h2_hdr[2][8];
};

/* Per-CPU counters (an array map of these, one slot per CPU). */
struct capture_counters {
	__u64 dropped;     /* events the ring buffer had no room for */
	__u64 dropped_bytes;
	/* HTTP/2 syscalls whose walk lost its place (more frames than CAPTURE_H2_WALK
	 * steps, a frame header that does not pass): frames are lost until one starts a
	 * syscall again. */
	__u64 h2_lost;
	/* HTTP/2 syscalls whose frames did not all fit the event: the rest are unseen,
	 * the walk still knows where the next syscall's first frame starts. */
	__u64 h2_clipped;
};

#endif
