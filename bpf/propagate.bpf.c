// SPDX-License-Identifier: GPL-2.0-only
/*
 * W3C trace context propagation without touching the application: a traceparent
 * header is inserted into the outgoing HTTP/1.x requests of the processes the user
 * selected, in the kernel, as they are sent.
 *
 * - Claim: when a selected process connects (inet_sock_set_state to SYN_SENT, in its
 *   own context), its socket gets this object's per-socket state; once established,
 *   the cgroup sock_ops program puts it in the sockhash. Only those sockets: a socket
 *   some other program's sockmap holds stays theirs (the update fails with EBUSY).
 * - Rewrite: the sk_msg program runs on every send of a claimed socket, before TCP
 *   segments it. It follows the request stream's message boundaries (Content-Length,
 *   chunked bodies chunk by chunk, in TCP sequence numbers), and at a request head that starts a write and ends in it, it
 *   inserts "traceparent: 00-<trace>-<span>-01\r\n" after the request line
 *   (bpf_msg_push_data). A head that already has a traceparent is left alone; heads
 *   pipelined after the first in one write, split across writes, or longer than
 *   PROPAGATE_HEAD_MAX are left alone too, and a record says why.
 * - Context: an incoming request head of a selected process (sock_recv_length) makes
 *   its ids the receiving thread's context until that thread sends on the same
 *   socket (the response, not an interim 1xx): requests the thread sends meanwhile
 *   are its children. The receive side follows the request stream (bodies by count,
 *   chunk framing byte by byte, heads split across receives kept with the socket), so
 *   that every request on a keep-alive connection gets its context.
 *
 * Every id written is minted here and sent to user space in a record, so the spans the
 * capture builds carry exactly the ids that went on the wire. Nothing is pinned: the
 * links and maps live as long as ehttp's descriptors, and when they go the kernel puts
 * the sockets back as they were.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "capture.h" /* CAPTURE_MAX_PIDS, for process.bpf.h */
#include "go_send.h"
#include "propagate.h"
#include "process.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define P_AF_INET 2
#define P_AF_INET6 10
#define P_SOCK_STREAM 1
#define P_PROTO_TCP 6
#define P_TCP_SYN_SENT 2
#define P_MSG_PEEK 2
#define P_SK_PASS 1
#define P_EBUSY 16

#define HEAD_MASK (PROPAGATE_HEAD_MAX - 1)

/* ---- configuration, set by user space before load ---------------------------------- */
/* -p and --comm: process.bpf.h's knobs, as the capture has them */
const volatile bool all_processes = false; /* the explicit host-wide word */
const volatile __u16 targ_port = 0;

/* ---- maps ---------------------------------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* The claimed sockets, by cookie: the sk_msg program is attached to this map only. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} socks SEC(".maps");

enum sock_role { ROLE_NONE = 0, ROLE_CLIENT = 1, ROLE_SERVER = 2 };

/* Per-socket state, freed with the socket. The sk_msg program runs under the socket's
 * lock, so its fields need no atomics. */
struct sock_state {
	__u64 cookie;
	__u64 body_left;  /* receive side: bytes of the current body still to come */
	__u32 next_seq;   /* send side, in_body: the TCP sequence number its next head starts at */
	__u8 in_body;
	__u32 pid, tid;   /* who connected */
	__u8 role;        /* enum sock_role */
	__u8 claimed;     /* in the sockhash */
	__u8 rstate;      /* receive side: enum recv_state */
	__u8 in_chunks;   /* send side: in a chunked body; next_seq is its next chunk-size line */
	__u8 lost;        /* boundaries lost: an enum propagate_outcome for what follows */
	__u8 heads;       /* request heads seen (saturating): the first decides HTTP/1.x */
	__u8 rflags;      /* receive side, in a chunk-size line or the trailers: RF_* */
};

/*
 * Where the receive side stands in the request stream of a server connection. Bodies
 * are passed over by count (Content-Length, and each chunk's data with its CRLF); the
 * framing between chunks (size lines, extensions, trailers) is read byte by byte, so
 * that it may be split across receives anywhere.
 */
enum recv_state {
	RECV_HEAD = 0,       /* a request head is due */
	RECV_BODY = 1,       /* body_left bytes of a Content-Length body */
	RECV_CHUNK_LINE = 2, /* in a chunk-size line; body_left holds the size so far */
	RECV_CHUNK_DATA = 3, /* body_left bytes of a chunk's data and its CRLF */
	RECV_TRAILER = 4,    /* after the last chunk: trailer lines up to an empty one */
	RECV_HEAD_PART = 5,  /* a head begun in an earlier receive: its bytes in pending_heads */
};
#define RF_DIGITS 1     /* the size line has a digit */
#define RF_EXT 2        /* in a chunk extension: up to the line's end */
#define RF_LINE_EMPTY 4 /* trailers: nothing on this line yet */

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_state);
} sock_states SEC(".maps");

/* A request head that did not end in the receive it began in: its bytes so far, kept
 * with the socket until the receive that ends it (then deleted). */
struct pending_head {
	__u64 ts;    /* of the receive it began in: the server span's start */
	__u32 len;   /* < PROPAGATE_HEAD_MAX */
	__u8 no_ctx; /* it began after a body in its receive: boundaries only, no context */
	__u8 pad[3];
	__u8 buf[PROPAGATE_HEAD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_head);
} pending_heads SEC(".maps");

/*
 * The server requests a thread is serving: each from its head's arrival until the
 * thread sends on that connection (the response). A request the thread sends is the
 * child of the one it serves when it serves exactly one; an event loop serving several
 * at once cannot say which, and its requests begin traces rather than join a wrong one.
 */
#define SERVING_SLOTS 4

struct serving_req {
	__u64 cookie; /* 0: a free slot */
	__u8 trace_id[PROPAGATE_TRACE_ID_LEN];
	__u8 span_id[PROPAGATE_SPAN_ID_LEN];
};

struct serving {
	struct serving_req req[SERVING_SLOTS];
	__u8 crowded; /* more at once than the slots hold, since the thread last had none */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32); /* tid */
	__type(value, struct serving);
} serving SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct propagate_counters);
} counters SEC(".maps");

/* Go programs among the selected processes, filled by user space. Their sending thread
 * says nothing of the request it serves (a connection's own goroutine writes each
 * request): their requests take the ids the Go probes publish for the thread that
 * sends (go_sends), or begin traces of their own, never the thread's context. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} go_processes SEC(".maps");

/* The Go probes' publications (bpf/go_send.h): the Go object reuses this map. */
GO_SENDS_MAP;

/* Processes whose requests get their traceparent written into their own buffers
 * (--propagate=auto, Go programs where the kernel allows memory writes), filled by user
 * space: their connections are not claimed, so nothing is inserted twice. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} memory_procs SEC(".maps");

/* What a scan of a head found (offsets into the scratch). */
struct scan {
	__u32 n;            /* bytes in the scratch */
	__u32 line_start;
	__u32 req_line_end; /* just after the request line's "\n"; 0 until seen */
	__u32 head_end;     /* just after the empty line's "\n"; 0 until seen */
	__u32 tp_off, tp_len; /* the first traceparent field's value */
	__u64 clen;
	__u8 has_clen, chunked, has_tp, bad;
};

/* Where the walk over one receive's bytes stands between the calls of its steps
 * (recv_head(), recv_framing()): the socket's receive state, copied in and back. */
struct recv_walk {
	__u64 buf;       /* the receive's user buffer (its first iovec) */
	__u64 body_left; /* as in struct sock_state */
	__u64 cookie;
	__u64 ts;        /* a split head's: the end of the receive it began in; else 0 */
	__u32 ret;       /* bytes the receive brought */
	__u32 avail;     /* of those, how many @buf holds */
	__u32 off;       /* where the walk is */
	__u32 pend;      /* bytes of a split head at the scratch's start */
	__u32 tgid, tid;
	__u8 state, flags; /* enum recv_state, RF_* */
	__u8 heads;      /* heads completed in this receive */
	__u8 lost;       /* an enum propagate_outcome once the boundaries are lost */
	__u8 no_ctx;     /* the head being read gives no context (see struct pending_head) */
	__u8 seen_head;  /* the connection has had a request head */
	__u8 pad[2];
};

/* A message's start, copied for scanning, what its scan found, and where the walk over one message's heads
 * stands between calls of one_head(). */
struct scratch {
	/* twice the largest head: a split head's first part and what the next receive
	 * adds, each up to PROPAGATE_HEAD_MAX, and its 2 * PROPAGATE_HEAD_MAX bound */
	__u8 buf[4 * PROPAGATE_HEAD_MAX];
	struct scan scan;
	__u8 line[32]; /* a chunk-size line */
	struct walk_state {
		__u32 size;  /* the message's bytes as the application wrote them */
		__u32 off;   /* of those, where the next head starts */
		__u32 shift; /* bytes inserted before it */
		__u32 seq;   /* the TCP sequence number of the message's first byte */
		__u64 ts, id;
	} walk;
	struct recv_walk recv;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* ---- small helpers --------------------------------------------------------------------- */

static __always_inline struct propagate_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline void count_outcome(__u8 outcome)
{
	struct propagate_counters *c = counters_get();

	if (c && outcome < PROPAGATE_OUTCOME__COUNT)
		c->outcomes[outcome]++;
}

static __always_inline bool inet_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return (family == P_AF_INET || family == P_AF_INET6) && sk->sk_protocol == P_PROTO_TCP &&
	       sk->sk_type == P_SOCK_STREAM;
}

static __always_inline __u64 sock_cookie(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((void *)sk);
}

/* Is the current process one the user selected (-p, --comm, --cgroup)? Unlike the
 * capture, no selection selects nothing: host-wide needs all_processes. */
static __always_inline bool selected(const struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (all_processes)
		return tgid != self_tgid && tgid != 0;
	return (targ_npids || filter_comm || filter_cgroup) && traced_process((__u64)tgid << 32, task);
}

static __always_inline void new_id(__u8 *id, int words)
{
	for (int i = 0; i < words; i++) {
		__u32 r = bpf_get_prandom_u32();

		if (i == 0 && !r)
			r = 1; /* all-zero ids are invalid */
		__builtin_memcpy(id + 4 * i, &r, 4);
	}
}

/* ---- request heads --------------------------------------------------------------------- */

static __always_inline __u8 lower(__u8 c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Does the line at @start begin with @lit (lower case, ':' included)? */
static __always_inline bool name_is(const __u8 *buf, __u32 start, __u32 len, const char *lit,
				    const __u32 n)
{
	if (len < n)
		return false;
	for (__u32 i = 0; i < n; i++)
		if (lower(buf[(start + i) & HEAD_MASK]) != (__u8)lit[i])
			return false;
	return true;
}

static __always_inline void field(struct scan *s, const __u8 *buf, __u32 start, __u32 len)
{
	__u32 v, end = start + len;

	if (name_is(buf, start, len, "content-length:", 15)) {
		__u64 val = 0;
		bool digits = false;

		v = start + 15;
		for (int i = 0; i < 24; i++, v++) {
			__u8 c;

			if (v >= end)
				break;
			c = buf[v & HEAD_MASK];
			if (c == ' ' || c == '\t') {
				if (digits)
					break;
				continue;
			}
			if (c < '0' || c > '9') {
				s->bad = 1; /* a length we cannot read: no boundaries after it */
				return;
			}
			val = val * 10 + (c - '0');
			digits = true;
		}
		if (!digits || (s->has_clen && s->clen != val))
			s->bad = 1;
		s->clen = val;
		s->has_clen = 1;
	} else if (name_is(buf, start, len, "transfer-encoding:", 18)) {
		/* Only the last coding counts: the value ends with "chunked". */
		__u32 e = end;

		for (int i = 0; i < 8; i++)
			if (e > start + 18 && (buf[(e - 1) & HEAD_MASK] == ' ' || buf[(e - 1) & HEAD_MASK] == '\t'))
				e--;
		s->chunked = e >= start + 18 + 7 && lower(buf[(e - 7) & HEAD_MASK]) == 'c' &&
			     lower(buf[(e - 6) & HEAD_MASK]) == 'h' && lower(buf[(e - 5) & HEAD_MASK]) == 'u' &&
			     lower(buf[(e - 4) & HEAD_MASK]) == 'n' && lower(buf[(e - 3) & HEAD_MASK]) == 'k' &&
			     lower(buf[(e - 2) & HEAD_MASK]) == 'e' && lower(buf[(e - 1) & HEAD_MASK]) == 'd';
		if (!s->chunked)
			s->bad = 1; /* another coding last: the body runs to the close */
	} else if (!s->has_tp && name_is(buf, start, len, "traceparent:", 12)) {
		s->has_tp = 1;
		v = start + 12;
		for (int i = 0; i < 8; i++)
			if (v < end && (buf[v & HEAD_MASK] == ' ' || buf[v & HEAD_MASK] == '\t'))
				v++;
		s->tp_off = v;
		s->tp_len = end - v;
	}
}

/* The request line ends with " HTTP/1.0" or " HTTP/1.1". */
static __always_inline bool request_line(const __u8 *buf, __u32 start, __u32 len)
{
	__u32 e = start + len;

	return len >= 14 && buf[(e - 9) & HEAD_MASK] == ' ' && buf[(e - 8) & HEAD_MASK] == 'H' &&
	       buf[(e - 7) & HEAD_MASK] == 'T' && buf[(e - 6) & HEAD_MASK] == 'T' &&
	       buf[(e - 5) & HEAD_MASK] == 'P' && buf[(e - 4) & HEAD_MASK] == '/' &&
	       buf[(e - 3) & HEAD_MASK] == '1' && buf[(e - 2) & HEAD_MASK] == '.' &&
	       (buf[(e - 1) & HEAD_MASK] == '0' || buf[(e - 1) & HEAD_MASK] == '1');
}

/*
 * One line of the head in the scratch, whose "\n" is at @i. A global function: the
 * verifier checks it once, where inlined into the byte loop's callback it would be
 * checked for every state the loop reaches. Returns 1 when the scan is over.
 */
__noinline int scan_line(__u32 i)
{
	__u32 zero = 0, start, len;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	struct scan *s;
	__u8 *buf;

	if (!sc)
		return 1;
	s = &sc->scan;
	buf = sc->buf;
	start = s->line_start;
	len = i - start;
	if (len && buf[(i - 1) & HEAD_MASK] == '\r')
		len--;
	s->line_start = i + 1;
	if (!s->req_line_end) {
		s->req_line_end = i + 1;
		if (!request_line(buf, start, len)) {
			s->bad = 1;
			return 1;
		}
		return 0;
	}
	if (!len) {
		s->head_end = i + 1;
		return 1;
	}
	field(s, buf, start, len);
	return 0;
}

struct scan_ctx {
	struct scratch *sc;
};

/*
 * bpf_loop callback: the @w-th eight bytes of the scratch; the lines whose "\n" is among
 * them are looked at. Most words hold none, which one test on the whole word tells (a
 * callback per byte cost a microsecond per head).
 */
static long scan_word(__u32 w, struct scan_ctx *ctx)
{
	struct scratch *sc = ctx->sc;
	__u32 base = w * 8;
	__u64 v, x;

	if (base >= sc->scan.n)
		return 1;
	v = *(__u64 *)&sc->buf[base & HEAD_MASK];
	x = v ^ 0x0a0a0a0a0a0a0a0aull;
	if (!((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull))
		return 0;
	for (int b = 0; b < 8; b++) {
		__u32 i = base + b;

		if (i >= sc->scan.n)
			return 1;
		if (sc->buf[i & HEAD_MASK] == '\n' && scan_line(i))
			return 1;
	}
	return 0;
}

/* Eight bytes as a little-endian word, so a method compares in one masked operation. */
#define W8(a, b, c, d, e, f, g, h)                                                      \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |            \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/* The methods the capture's HTTP/1.x parser knows, each with its space. */
static const struct {
	__u64 word;
	__u32 len;
} methods[] = {
	{ W8('G', 'E', 'T', ' ', 0, 0, 0, 0), 4 },
	{ W8('H', 'E', 'A', 'D', ' ', 0, 0, 0), 5 },
	{ W8('P', 'O', 'S', 'T', ' ', 0, 0, 0), 5 },
	{ W8('P', 'U', 'T', ' ', 0, 0, 0, 0), 4 },
	{ W8('D', 'E', 'L', 'E', 'T', 'E', ' ', 0), 7 },
	{ W8('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '), 8 },
	{ W8('T', 'R', 'A', 'C', 'E', ' ', 0, 0), 6 },
	{ W8('P', 'A', 'T', 'C', 'H', ' ', 0, 0), 6 },
};

/* Does the scratch start with a method and its space? (CONNECT is left out on
 * purpose: what follows its answer is a tunnel, not requests.) */
static __always_inline bool starts_request(const __u8 *buf, __u32 n)
{
	__u64 word = 0;
	int i;

	if (n < 8)
		return false; /* "GET / HTTP/1.1\r\n\r\n" is longer than this anyway */
	for (i = 0; i < 8; i++)
		word |= (__u64)buf[i] << (8 * i);
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		__u64 mask = methods[i].len >= 8 ? ~0ull : (1ull << (8 * methods[i].len)) - 1;

		if (!((word ^ methods[i].word) & mask))
			return true;
	}
	return false;
}

/* How much of @len bytes the scratch takes: at most PROPAGATE_HEAD_MAX. The mask keeps
 * the value and gives the verifier its bound, which the compiler's sign extension of a
 * clamped 32-bit value loses; the barrier keeps the compiler from dropping it. */
static __always_inline __u32 window(__u32 len)
{
	__u64 n = len > PROPAGATE_HEAD_MAX ? PROPAGATE_HEAD_MAX : len;

	barrier_var(n);
	return n & (2 * PROPAGATE_HEAD_MAX - 1);
}

/* Scan the @n bytes of a head in the scratch: the results are in @sc->scan. */
static __always_inline struct scan *scan_head(struct scratch *sc, __u32 n)
{
	struct scan_ctx ctx = { .sc = sc };

	__builtin_memset(&sc->scan, 0, sizeof(sc->scan));
	sc->scan.n = n;
	bpf_loop(PROPAGATE_HEAD_MAX / 8, scan_word, &ctx, 0);
	return &sc->scan;
}

static __always_inline int hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static __always_inline bool parse_hex(const __u8 *buf, __u32 off, __u8 *out, const int n)
{
	__u8 nonzero = 0;

	for (int i = 0; i < n; i++) {
		int hi = hexval(buf[(off + 2 * i) & HEAD_MASK]);
		int lo = hexval(buf[(off + 2 * i + 1) & HEAD_MASK]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = hi << 4 | lo;
		nonzero |= out[i];
	}
	return nonzero;
}

/* The traceparent value the scan found, as lib/span.c's span_parse_traceparent() reads it. */
static __always_inline bool parse_traceparent(const struct scan *s, const __u8 *buf, __u8 *trace,
					      __u8 *parent)
{
	__u32 off = s->tp_off, len = s->tp_len;
	int v0, v1, version;

	for (int i = 0; i < 8; i++)
		if (len && (buf[(off + len - 1) & HEAD_MASK] == ' ' || buf[(off + len - 1) & HEAD_MASK] == '\t'))
			len--;
	if (len < 55 || buf[(off + 2) & HEAD_MASK] != '-' || buf[(off + 35) & HEAD_MASK] != '-' ||
	    buf[(off + 52) & HEAD_MASK] != '-')
		return false;
	v0 = hexval(buf[off & HEAD_MASK]);
	v1 = hexval(buf[(off + 1) & HEAD_MASK]);
	if (v0 < 0 || v1 < 0)
		return false;
	version = v0 << 4 | v1;
	if (version == 0xff || (version == 0 && len != 55))
		return false;
	if (version > 0 && len > 55 && buf[(off + 55) & HEAD_MASK] != '-')
		return false;
	if (hexval(buf[(off + 53) & HEAD_MASK]) < 0 || hexval(buf[(off + 54) & HEAD_MASK]) < 0)
		return false;
	return parse_hex(buf, off + 3, trace, PROPAGATE_TRACE_ID_LEN) &&
	       parse_hex(buf, off + 36, parent, PROPAGATE_SPAN_ID_LEN);
}

static __always_inline void send_record(struct propagate_event *ev)
{
	struct propagate_counters *c;

	if (!bpf_ringbuf_output(&events, ev, sizeof(*ev), 0))
		return;
	c = counters_get();
	if (c)
		c->dropped++;
}

/*
 * Nothing more will be rewritten on the connection (not HTTP/1.x, or its boundaries
 * are lost). A record says why to what follows, and asks user space to take the
 * socket out of the sockhash (programs of this type may not), so that a database or
 * TLS connection of a selected process does not keep paying the sockmap paths for
 * nothing. The current message goes out as it is.
 */
static __always_inline void give_up(struct sock_state *st, __u8 why)
{
	struct propagate_event ev = {};

	st->lost = why;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.type = PROPAGATE_EV_RELEASE;
	ev.cookie = st->cookie;
	ev.pid = st->pid;
	ev.outcome = why;
	send_record(&ev);
}

/* ---- claiming the selected processes' connections ---------------------------------- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(prop_connect, struct sock *sk, int oldstate, int newstate)
{
	struct task_struct *task;
	struct sock_state *st;

	if (newstate != P_TCP_SYN_SENT || !inet_tcp(sk))
		return 0;
	task = bpf_get_current_task_btf();
	if (!selected(task) || bpf_map_lookup_elem(&memory_procs, &(__u32){ task->tgid }))
		return 0;
	/* The local port is bound after SYN_SENT: the remote one says. */
	if (targ_port && bpf_ntohs(sk->__sk_common.skc_dport) != targ_port)
		return 0;
	st = bpf_sk_storage_get(&sock_states, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->role = ROLE_CLIENT;
	st->pid = task->tgid;
	st->tid = task->pid;
	return 0;
}

SEC("sockops")
int prop_sockops(struct bpf_sock_ops *skops)
{
	struct propagate_event ev = {};
	struct propagate_counters *c;
	struct sock_state *st;
	struct bpf_sock *sk;
	long err;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;
	sk = skops->sk;
	if (!sk)
		return 1;
	st = bpf_sk_storage_get(&sock_states, sk, 0, 0);
	if (!st || st->role != ROLE_CLIENT || st->claimed)
		return 1;
	st->cookie = bpf_get_socket_cookie(skops);
	err = bpf_sock_hash_update(skops, &socks, &st->cookie, BPF_NOEXIST);
	ev.ts_ns = bpf_ktime_get_ns();
	ev.type = PROPAGATE_EV_CLAIM;
	ev.cookie = st->cookie;
	ev.pid = st->pid;
	ev.tid = st->tid;
	ev.err = err;
	if (err) {
		ev.outcome = err == -P_EBUSY ? PROPAGATE_SKIP_BUSY : PROPAGATE_SKIP_CLAIM;
		st->lost = ev.outcome;
		count_outcome(ev.outcome);
	} else {
		st->claimed = 1;
		c = counters_get();
		if (c)
			c->claimed++;
	}
	send_record(&ev);
	return 1;
}

/* ---- rewriting requests ---------------------------------------------------------------- */

static __always_inline __u8 hex_digit(__u8 v)
{
	return v < 10 ? '0' + v : 'a' + v - 10;
}

static __always_inline void hex_put(__u8 *dst, const __u8 *src, const int n)
{
	for (int i = 0; i < n; i++) {
		dst[2 * i] = hex_digit(src[i] >> 4);
		dst[2 * i + 1] = hex_digit(src[i] & 15);
	}
}

/*
 * Insert the traceparent line at @at (bytes from the message's start). Returns 0 or
 * the error of the helper that failed. On failure the message is as it was: room made
 * but not writable is taken out again (bpf_msg_pop_data), since uninitialised bytes in
 * a request would be worse than no header.
 */
static __always_inline long insert_line(struct sk_msg_md *msg, __u32 at, const struct propagate_event *ev)
{
	__u8 line[PROPAGATE_LINE_LEN];
	void *data, *data_end;
	long err;

	__builtin_memcpy(line, "traceparent: 00-", 16);
	hex_put(line + 16, ev->trace_id, PROPAGATE_TRACE_ID_LEN);
	line[48] = '-';
	hex_put(line + 49, ev->span_id, PROPAGATE_SPAN_ID_LEN);
	__builtin_memcpy(line + 65, "-01\r\n", 5);

	err = bpf_msg_push_data(msg, at, PROPAGATE_LINE_LEN, 0);
	if (err)
		return err;
	err = bpf_msg_pull_data(msg, at, at + PROPAGATE_LINE_LEN, 0);
	if (err) {
		/* The room exists but cannot be written: take it out again. */
		bpf_msg_pop_data(msg, at, PROPAGATE_LINE_LEN, 0);
		return err;
	}
	data = msg->data;
	data_end = msg->data_end;
	if (data + PROPAGATE_LINE_LEN > data_end) {
		bpf_msg_pop_data(msg, at, PROPAGATE_LINE_LEN, 0);
		return -1;
	}
	__builtin_memcpy(data, line, PROPAGATE_LINE_LEN);
	return 0;
}

/* The client record for a head, with the ids it gets: the sending thread's server
 * request as parent and its trace, or a fresh trace. */
static __always_inline void client_ids(struct propagate_event *ev, __u64 cookie, __u64 id)
{
	__u32 tid = (__u32)id, tgid = id >> 32;
	bool go = bpf_map_lookup_elem(&go_processes, &tgid) != NULL;
	struct serving *sv = go ? NULL : bpf_map_lookup_elem(&serving, &tid);
	struct serving_req *one = NULL;
	int n = 0;

	if (sv && !sv->crowded) {
		for (int i = 0; i < SERVING_SLOTS; i++) {
			if (sv->req[i].cookie) {
				one = &sv->req[i];
				n++;
			}
		}
	}

	ev->type = PROPAGATE_EV_CLIENT;
	ev->cookie = cookie;
	ev->pid = id >> 32;
	ev->tid = tid;
	ev->go_ctx = go ? PROPAGATE_GO_NONE : PROPAGATE_GO_NOT; /* go_context() may do better */
	if (one && n == 1) {
		__builtin_memcpy(ev->trace_id, one->trace_id, PROPAGATE_TRACE_ID_LEN);
		__builtin_memcpy(ev->parent_id, one->span_id, PROPAGATE_SPAN_ID_LEN);
		ev->has_parent = 1;
	} else {
		new_id(ev->trace_id, PROPAGATE_TRACE_ID_LEN / 4);
	}
	new_id(ev->span_id, PROPAGATE_SPAN_ID_LEN / 4);
}

/*
 * A head that begins its message: the ids the Go probes published for the sending
 * thread (bpf/go_send.h) replace the others, when the publication is the process's,
 * fresh, and for this request (the request line begins with its method and path). It is
 * taken once, whatever it held: another request's head on this thread must not find it.
 * A publication of the process makes it a Go program even before user space has said so
 * (go_processes; one that started after ehttp is learnt at its first connection): then
 * the thread's context is no parent, and a stale one means a new trace. @buf holds the
 * head's @n bytes.
 */
static __always_inline void go_context(struct propagate_event *ev, const __u8 *buf, __u32 n)
{
	__u32 tid = ev->tid, i, ml, pl;
	struct go_send *p = bpf_map_lookup_elem(&go_sends, &tid);
	bool same = true;
	__u8 c;

	if (!p)
		return; /* as client_ids() left it: PROPAGATE_GO_NONE for a Go process */
	if (p->pid != ev->pid) {
		bpf_map_delete_elem(&go_sends, &tid); /* a thread id of a process gone */
		return;
	}
	ml = p->method_len;
	pl = p->path_len;
	if (ev->ts_ns < p->ts || ev->ts_ns - p->ts > GO_SEND_MAX_AGE_NS ||
	    !ml || ml >= GO_SEND_METHOD_MAX || pl > GO_SEND_PATH_MAX || ml + pl + 2 > n)
		same = false;
	for (i = 0; i < GO_SEND_METHOD_MAX && same && i < ml; i++)
		same = buf[i] == (__u8)p->method[i];
	same = same && buf[ml & HEAD_MASK] == ' ';
	for (i = 0; i < GO_SEND_PATH_MAX && same && i < pl; i++)
		same = buf[(ml + 1 + i) & HEAD_MASK] == (__u8)p->path[i];
	if (same && p->path_whole) {
		c = buf[(ml + 1 + pl) & HEAD_MASK];
		same = c == ' ' || c == '?';
	}
	if (same) {
		__builtin_memcpy(ev->trace_id, p->trace_id, PROPAGATE_TRACE_ID_LEN);
		__builtin_memcpy(ev->span_id, p->span_id, PROPAGATE_SPAN_ID_LEN);
		__builtin_memcpy(ev->parent_id, p->parent_id, PROPAGATE_SPAN_ID_LEN);
		ev->has_parent = p->has_parent;
		ev->go_ctx = PROPAGATE_GO_LINKED;
	} else {
		if (ev->go_ctx == PROPAGATE_GO_NOT) { /* not known for Go yet: the thread's ids */
			new_id(ev->trace_id, PROPAGATE_TRACE_ID_LEN / 4);
			__builtin_memset(ev->parent_id, 0, PROPAGATE_SPAN_ID_LEN);
			ev->has_parent = 0;
		}
		ev->go_ctx = PROPAGATE_GO_STALE;
	}
	bpf_map_delete_elem(&go_sends, &tid);
}

/* The state of the message's socket and the walk over it; NULL when there is none. */
static __always_inline struct scratch *walk_get(struct sk_msg_md *msg, struct sock_state **st)
{
	struct bpf_sock *sk = msg->sk;
	__u32 zero = 0;

	if (!sk)
		return NULL;
	*st = bpf_sk_storage_get(&sock_states, sk, 0, 0);
	if (!*st)
		return NULL;
	return bpf_map_lookup_elem(&scratch, &zero);
}

/* Copy @n bytes from @off of what the application wrote (bytes inserted before it
 * accounted for) to @dst, @n bounded by the caller for the verifier. 0, or -1. */
static __always_inline int copy_out(struct sk_msg_md *msg, const struct walk_state *w, __u32 off,
				    void *dst, __u32 n)
{
	void *data, *data_end;

	if (bpf_msg_pull_data(msg, off + w->shift, off + w->shift + n, 0))
		return -1;
	data = (void *)(long)msg->data;
	data_end = (void *)(long)msg->data_end;
	if (data + n > data_end || bpf_probe_read_kernel(dst, n, data))
		return -1;
	return 0;
}

/*
 * The request head at @w->off of the message (the @h-th in it): rewrite or leave it,
 * record why, and move @w past its body. Returns 1 when another head follows in the
 * message, 2 when a chunked body does (at @w->off), 0 when the message is done. A
 * global function, verified once on its own rather than once per head the caller's
 * loop could reach.
 */
__noinline int one_head(struct sk_msg_md *msg, __u32 h)
{
	struct propagate_event ev = {};
	struct sock_state *st;
	struct scratch *sc;
	struct walk_state *w;
	struct scan *s;
	__u32 n, off, size;
	__u8 outcome;

	sc = walk_get(msg, &st);
	if (!sc)
		return 0;
	w = &sc->walk;
	off = w->off;
	size = w->size;
	if (off >= size)
		return 0;
	n = window(size - off);
	if (copy_out(msg, w, off, sc->buf, n))
		goto no_memory;
	ev.ts_ns = w->ts;
	ev.head = h;
	client_ids(&ev, st->cookie, w->id);
	if (!starts_request(sc->buf, n)) {
		/* The first message decides whether the connection speaks HTTP/1.x;
		 * later, a message that starts with no request where one was due means
		 * its boundaries are not what this program thought. */
		ev.outcome = st->heads ? PROPAGATE_SKIP_FRAMING : PROPAGATE_SKIP_NOT_HTTP1;
		give_up(st, ev.outcome);
		count_outcome(ev.outcome);
		send_record(&ev);
		return 0;
	}
	if (st->heads < 255)
		st->heads++;
	s = scan_head(sc, n);
	if (s->bad || !s->req_line_end || !s->head_end) {
		if (s->bad)
			outcome = st->heads > 1 ? PROPAGATE_SKIP_FRAMING : PROPAGATE_SKIP_NOT_HTTP1;
		else
			outcome = n == PROPAGATE_HEAD_MAX ? PROPAGATE_SKIP_LONG_HEAD : PROPAGATE_SKIP_SPLIT;
		/* Where this head's body ends is unknown: nothing more is rewritten. */
		ev.outcome = outcome;
		give_up(st, outcome == PROPAGATE_SKIP_NOT_HTTP1 ? outcome : PROPAGATE_SKIP_FRAMING);
		count_outcome(outcome);
		send_record(&ev);
		return 0;
	}
	if (h == 0)
		go_context(&ev, sc->buf, n);
	if (s->has_tp) {
		outcome = PROPAGATE_EXISTING;
	} else if (h > 0 || off > 0) {
		outcome = PROPAGATE_SKIP_PIPELINED;
	} else if (insert_line(msg, s->req_line_end, &ev)) {
		outcome = PROPAGATE_SKIP_NO_MEMORY;
	} else {
		outcome = PROPAGATE_INJECTED;
		w->shift += PROPAGATE_LINE_LEN;
	}
	ev.outcome = outcome;
	count_outcome(outcome);
	send_record(&ev);

	off += s->head_end;
	if (s->chunked) {
		w->off = off;
		return 2;
	}
	if (s->has_clen) {
		if (s->clen >= size - off) {
			/* Where the body ends, in the sequence space of what is queued: a
			 * count of the messages' sizes would take bytes the kernel runs the
			 * program on twice (the rest of a message it could not push whole)
			 * for two. */
			st->in_body = 1;
			st->next_seq = w->seq + off + w->shift + (__u32)s->clen;
			return 0;
		}
		off += s->clen;
	}
	w->off = off;
	return off < size;

no_memory:
	give_up(st, PROPAGATE_SKIP_FRAMING);
	count_outcome(PROPAGATE_SKIP_NO_MEMORY);
	return 0;
}

/* Lost: nothing more on the connection is rewritten. */
static __always_inline int lose(struct sock_state *st)
{
	give_up(st, PROPAGATE_SKIP_FRAMING);
	count_outcome(PROPAGATE_SKIP_FRAMING);
	return 0;
}

/*
 * The chunk whose size line is at @w->off: its data are passed over. Returns 1 when
 * another chunk's size line follows in the message, 2 when this was the last chunk
 * (the body ends; a head may follow at @w->off), 0 when the message is done: ends inside
 * the chunk, whose end, or the next size line, is then a sequence number away. A size
 * line split across messages, or trailers, lose the boundaries rather than guess them.
 */
__noinline int one_chunk(struct sk_msg_md *msg)
{
	struct walk_state *w;
	struct sock_state *st;
	struct scratch *sc;
	__u32 off, size, n, i, end = 0;
	__u64 len = 0, n64;
	bool digits = false, ext = false;

	sc = walk_get(msg, &st);
	if (!sc)
		return 0;
	w = &sc->walk;
	off = w->off;
	size = w->size;
	if (off >= size) {
		/* The message ends where a size line begins. */
		st->in_chunks = 1;
		st->next_seq = w->seq + w->shift + off;
		return 0;
	}
	n = size - off < sizeof(sc->line) ? size - off : sizeof(sc->line);
	/* n <= 32: the mask keeps it and gives the verifier its bound (see window()) */
	n64 = n;
	barrier_var(n64);
	if (copy_out(msg, w, off, sc->line, n64 & 63))
		return lose(st);
	for (i = 0; i < sizeof(sc->line); i++) {
		__u8 c = sc->line[i];
		int v = hexval(c);

		if (i >= n)
			break;
		if (c == '\n') {
			end = i + 1;
			break;
		}
		if (ext || c == '\r')
			continue;
		if (c == ';') {
			ext = true;
		} else if (v >= 0 && len < (1ull << 56)) {
			len = len << 4 | v;
			digits = true;
		} else {
			return lose(st);
		}
	}
	if (!end || !digits)
		return lose(st);
	if (!len) {
		/* The last chunk: "0\r\n\r\n" without trailers ends the body. */
		if (end + 2 > n || sc->line[end & 31] != '\r' || sc->line[(end + 1) & 31] != '\n')
			return lose(st);
		w->off = off + end + 2;
		st->in_chunks = 0;
		return 2;
	}
	if ((__u64)off + end + len + 2 >= size) {
		st->in_chunks = 1;
		st->next_seq = w->seq + w->shift + off + end + (__u32)len + 2;
		return 0;
	}
	w->off = off + end + (__u32)len + 2;
	return 1;
}

SEC("sk_msg")
int prop_msg(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct sock_state *st;
	struct scratch *sc;
	struct tcp_sock *tp;
	__u32 zero = 0, size, seq, off = 0;
	int step, h = 0;
	bool chunks = false;

	if (!sk)
		return P_SK_PASS;
	st = bpf_sk_storage_get(&sock_states, sk, 0, 0);
	if (!st || !st->claimed || st->lost)
		return P_SK_PASS;
	size = msg->size;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return P_SK_PASS;
	seq = tp->write_seq; /* where this message's first byte goes in the stream */
	if (st->in_body || st->in_chunks) {
		__s32 left = st->next_seq - seq;

		if (left >= (__s32)size)
			return P_SK_PASS;
		if (left < 0)
			return lose(st);
		off = left;
		st->in_body = 0;
		chunks = st->in_chunks;
		st->in_chunks = 0;
	}
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return P_SK_PASS;
	sc->walk.size = size;
	sc->walk.off = off;
	sc->walk.shift = 0;
	sc->walk.seq = seq;
	sc->walk.ts = bpf_ktime_get_ns();
	sc->walk.id = bpf_get_current_pid_tgid();
	/* Heads and the chunks of chunked bodies, in the order they come. */
	for (step = 0; step < PROPAGATE_MAX_STEPS; step++) {
		int r = chunks ? one_chunk(msg) : one_head(msg, h++);

		if (r == 2)
			chunks = !chunks;
		else if (r != 1)
			return P_SK_PASS;
	}
	/* More heads and chunks in one message than followed: boundaries lost. */
	lose(st);
	return P_SK_PASS;
}

/*
 * The receive side of the claimed sockets: every byte passes, into the socket's psock
 * queue, where recvmsg and ioctl(FIONREAD) find it. Without a verdict program, the
 * kernel's sockmap ioctl counts only that queue, empty then, and FIONREAD says 0 with
 * data waiting: programs that size their reads by it stall (seen with nginx).
 */
SEC("sk_skb")
int prop_skb(struct __sk_buff *skb)
{
	return P_SK_PASS;
}

/* ---- the context of the server requests the selected processes serve --------------- */

/*
 * The bytes of a selected process's receive or send come from the syscall's user
 * buffer (read/recvfrom, write/sendto: the buffer; readv/recvmsg, writev/sendmsg: the
 * first iovec), which the receive has just filled, or the send has just sent.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_READV 19
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define SYSCALL_NR(r) ((r)->orig_ax)
#define ARG2(r) ((r)->si)
#elif defined(__TARGET_ARCH_arm64)
#define NR_READ 63
#define NR_WRITE 64
#define NR_READV 65
#define NR_WRITEV 66
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define SYSCALL_NR(r) ((r)->syscallno)
#define ARG2(r) ((r)->regs[1])
#endif

/* The user buffer of the current receive (@send: send) syscall, @len cut to what it
 * holds; 0 when the syscall is none of those (io_uring, sendfile...). */
static __always_inline __u64 io_buffer(struct task_struct *task, __u32 *len, bool send)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct user_msghdr mh;
	struct iovec iov;
	long nr;

	if (!regs)
		return 0;
	nr = SYSCALL_NR(regs);
	if (nr == (send ? NR_WRITE : NR_READ) || nr == (send ? NR_SENDTO : NR_RECVFROM))
		return ARG2(regs);
	if (nr == (send ? NR_WRITEV : NR_READV)) {
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)ARG2(regs)))
			return 0;
	} else if (nr == (send ? NR_SENDMSG : NR_RECVMSG)) {
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)ARG2(regs)) ||
		    bpf_probe_read_user(&iov, sizeof(iov), mh.msg_iov))
			return 0;
	} else {
		return 0;
	}
	if (iov.iov_len < *len)
		*len = iov.iov_len;
	return (__u64)iov.iov_base;
}

/* Thread @tid serves a request on connection @cookie now, with these ids. */
static __always_inline void serve(__u32 tid, __u64 cookie, const __u8 *trace_id, const __u8 *span_id)
{
	struct serving fresh = {}, *sv = bpf_map_lookup_elem(&serving, &tid);
	int slot = -1;

	if (!sv) {
		bpf_map_update_elem(&serving, &tid, &fresh, BPF_NOEXIST);
		sv = bpf_map_lookup_elem(&serving, &tid);
		if (!sv)
			return;
	}
	/* Its connection's slot (a request pipelined behind an unanswered one replaces
	 * it: the answers come in order), else a free one. */
	for (int i = 0; i < SERVING_SLOTS; i++)
		if (sv->req[i].cookie == cookie)
			slot = i;
	for (int i = 0; i < SERVING_SLOTS && slot < 0; i++)
		if (!sv->req[i].cookie)
			slot = i;
	if (slot < 0) {
		sv->crowded = 1;
		slot = 0;
	}
	slot &= SERVING_SLOTS - 1;
	sv->req[slot].cookie = cookie;
	__builtin_memcpy(sv->req[slot].trace_id, trace_id, PROPAGATE_TRACE_ID_LEN);
	__builtin_memcpy(sv->req[slot].span_id, span_id, PROPAGATE_SPAN_ID_LEN);
}

static __always_inline struct recv_walk *recv_walk_get(struct scratch **sc)
{
	__u32 zero = 0;

	*sc = bpf_map_lookup_elem(&scratch, &zero);
	return *sc ? &(*sc)->recv : NULL;
}

/* The connection's boundaries are lost: nothing more on it is followed. */
static __always_inline int recv_lose(struct recv_walk *w, __u8 why)
{
	w->lost = why;
	return 0;
}

/*
 * The request head at @w->off of the receive, or the rest of one begun in an earlier
 * receive (its @w->pend bytes at the scratch's start). A complete head that begins a
 * receive makes its ids the thread's context and sends their record; one after a body
 * in its receive is followed for its boundaries only (the thread has not answered
 * the request before it yet, so which one a request it sends belongs to is not known).
 * A head that does not end in the receive waits in the scratch for the next one
 * (RECV_HEAD_PART). Returns 1 when the walk goes on, 0 when it stops. A global
 * function, verified once on its own.
 */
__noinline int recv_head(void)
{
	struct propagate_event ev = {};
	struct propagate_counters *c;
	struct recv_walk *w;
	struct scratch *sc;
	struct scan *s;
	__u32 plen, take, n;

	w = recv_walk_get(&sc);
	if (!w)
		return 0;
	if (w->off >= w->avail) /* bytes of another iovec: not read */
		return recv_lose(w, PROPAGATE_SKIP_FRAMING);
	plen = w->pend & HEAD_MASK; /* < PROPAGATE_HEAD_MAX: see recv_save() */
	take = w->avail - w->off;
	if (take > PROPAGATE_HEAD_MAX - plen)
		take = PROPAGATE_HEAD_MAX - plen;
	take = window(take);
	if (bpf_probe_read_user(sc->buf + plen, take, (void *)(w->buf + w->off)))
		return recv_lose(w, PROPAGATE_SKIP_FRAMING);
	n = plen + take;
	if (n >= 8 && !starts_request(sc->buf, n))
		return recv_lose(w, w->seen_head ? PROPAGATE_SKIP_FRAMING : PROPAGATE_SKIP_NOT_HTTP1);
	s = scan_head(sc, n);
	if (s->bad)
		return recv_lose(w, w->seen_head ? PROPAGATE_SKIP_FRAMING : PROPAGATE_SKIP_NOT_HTTP1);
	if (!s->head_end) {
		/* The head goes on in the next receive, if this one ended and it has room. */
		if (n >= PROPAGATE_HEAD_MAX || w->off + take < w->ret)
			return recv_lose(w, PROPAGATE_SKIP_FRAMING);
		if (!plen) {
			w->no_ctx = w->off > 0;
			w->ts = bpf_ktime_get_ns(); /* see below */
		}
		w->pend = n;
		w->off = w->ret;
		w->state = RECV_HEAD_PART;
		return 0;
	}
	w->seen_head = 1;
	if (w->off == 0 && !w->heads && !w->no_ctx) {
		/* After the scan: the capture's program on this tracepoint runs after this
		 * one (attached later), and the server span takes the record nearest to
		 * its start, which a slow scan (an emulated CPU) must not push away. */
		ev.ts_ns = w->ts ? w->ts : bpf_ktime_get_ns();
		ev.type = PROPAGATE_EV_SERVER;
		ev.cookie = w->cookie;
		ev.pid = w->tgid;
		ev.tid = w->tid;
		if (s->has_tp && parse_traceparent(s, sc->buf, ev.trace_id, ev.parent_id))
			ev.has_parent = 1;
		else
			new_id(ev.trace_id, PROPAGATE_TRACE_ID_LEN / 4);
		new_id(ev.span_id, PROPAGATE_SPAN_ID_LEN / 4);
		serve(ev.tid, ev.cookie, ev.trace_id, ev.span_id);
		c = counters_get();
		if (c)
			c->server_heads++;
		send_record(&ev);
	}
	if (w->heads < 255)
		w->heads++;
	/* head_end > plen: the empty line that ends it came in this receive */
	w->off += s->head_end - plen;
	w->pend = 0;
	w->no_ctx = 0;
	w->flags = 0;
	w->body_left = 0;
	if (s->chunked)
		w->state = RECV_CHUNK_LINE;
	else if (s->has_clen && s->clen)
		w->state = RECV_BODY, w->body_left = s->clen;
	else
		w->state = RECV_HEAD;
	return 1;
}

/*
 * The framing of a chunked body at @w->off: a chunk-size line (its extension passed
 * over), or after the last chunk its trailers up to the empty line, byte by byte, in
 * as many receives as it comes in. Returns 1 when the walk goes on, 0 when it stops.
 */
__noinline int recv_framing(void)
{
	struct recv_walk *w;
	struct scratch *sc;
	__u32 n, i;
	__u64 n64;

	w = recv_walk_get(&sc);
	if (!w)
		return 0;
	if (w->off >= w->avail)
		return recv_lose(w, PROPAGATE_SKIP_FRAMING);
	n = w->avail - w->off < sizeof(sc->line) ? w->avail - w->off : sizeof(sc->line);
	n64 = n; /* <= 32: the mask keeps it and gives the verifier its bound (see window()) */
	barrier_var(n64);
	if (bpf_probe_read_user(sc->line, n64 & 63, (void *)(w->buf + w->off)))
		return recv_lose(w, PROPAGATE_SKIP_FRAMING);
	for (i = 0; i < sizeof(sc->line); i++) {
		__u8 c = sc->line[i];
		int v = hexval(c);

		if (i >= n)
			break;
		if (w->state == RECV_TRAILER) {
			if (c == '\n' && (w->flags & RF_LINE_EMPTY)) {
				w->state = RECV_HEAD; /* the body is over */
				w->off += i + 1;
				return 1;
			}
			if (c == '\n')
				w->flags |= RF_LINE_EMPTY;
			else if (c != '\r')
				w->flags &= ~RF_LINE_EMPTY;
			continue;
		}
		if (c == '\n') {
			if (!(w->flags & RF_DIGITS))
				return recv_lose(w, PROPAGATE_SKIP_FRAMING);
			w->off += i + 1;
			if (!w->body_left) {
				w->state = RECV_TRAILER; /* the last chunk */
				w->flags = RF_LINE_EMPTY;
			} else {
				w->state = RECV_CHUNK_DATA;
				w->body_left += 2; /* the CRLF after the data */
				w->flags = 0;
			}
			return 1;
		}
		if (c == '\r' || (w->flags & RF_EXT))
			continue;
		if (c == ';')
			w->flags |= RF_EXT;
		else if (v >= 0 && w->body_left < (1ull << 56))
			w->body_left = w->body_left << 4 | v, w->flags |= RF_DIGITS;
		else if (c != ' ' && c != '\t')
			return recv_lose(w, PROPAGATE_SKIP_FRAMING);
	}
	w->off += n;
	return 1;
}

/* Bodies are passed over by count: no bytes to read. */
static __always_inline void recv_skip(struct recv_walk *w)
{
	__u32 left = w->ret - w->off;
	__u64 skip = w->body_left < left ? w->body_left : left;

	w->body_left -= skip;
	w->off += skip;
	if (!w->body_left) {
		w->state = w->state == RECV_CHUNK_DATA ? RECV_CHUNK_LINE : RECV_HEAD;
		w->flags = 0;
	}
}

/* Bytes of a receive in the middle of a body that it does not finish. */
static __always_inline bool recv_in_body(struct sock_state *st, __u32 ret)
{
	if ((st->rstate != RECV_BODY && st->rstate != RECV_CHUNK_DATA) || st->body_left <= ret)
		return false;
	st->body_left -= ret;
	return true;
}

/* A head split across receives: its bytes so far into the socket's pending_heads, or
 * back into the scratch. 0, or -1 when they could not be kept. */
static __always_inline int recv_save(struct sock *sk, struct scratch *sc)
{
	struct pending_head *ph = bpf_sk_storage_get(&pending_heads, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	__u32 n = sc->recv.pend & HEAD_MASK; /* < PROPAGATE_HEAD_MAX: recv_head() says so */

	if (!ph || bpf_probe_read_kernel(ph->buf, n, sc->buf))
		return -1;
	ph->len = n;
	ph->ts = sc->recv.ts;
	ph->no_ctx = sc->recv.no_ctx;
	return 0;
}

static __always_inline int recv_restore(struct sock *sk, struct scratch *sc)
{
	struct pending_head *ph = bpf_sk_storage_get(&pending_heads, sk, 0, 0);
	__u32 n;

	if (!ph)
		return -1;
	n = ph->len & HEAD_MASK;
	if (bpf_probe_read_kernel(sc->buf, n, ph->buf))
		return -1;
	sc->recv.pend = n;
	sc->recv.ts = ph->ts;
	sc->recv.no_ctx = ph->no_ctx;
	return 0;
}

/*
 * A receive of a selected process: the request stream of its server connection is
 * followed (heads, Content-Length and chunked bodies, heads split across receives), and
 * each request head that begins a receive gives the receiving thread its context.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(prop_recv, struct sock *sk, int ret, int flags)
{
	struct task_struct *task;
	struct sock_state *st;
	struct recv_walk *w;
	struct scratch *sc;
	__u32 avail = ret;
	bool resumed;

	if (ret <= 0 || (flags & P_MSG_PEEK) || !inet_tcp(sk))
		return 0;
	task = bpf_get_current_task_btf();
	if (!selected(task))
		return 0;
	st = bpf_sk_storage_get(&sock_states, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st || st->role == ROLE_CLIENT || st->lost)
		return 0;
	if (recv_in_body(st, ret))
		return 0; /* most receives of a large body: no bytes looked at */
	w = recv_walk_get(&sc);
	if (!w)
		return 0;
	__builtin_memset(w, 0, sizeof(*w));
	w->buf = io_buffer(task, &avail, false);
	w->avail = w->buf ? avail : 0;
	w->ret = ret;
	w->cookie = sock_cookie(sk);
	w->tgid = task->tgid;
	w->tid = task->pid;
	w->state = st->rstate;
	w->flags = st->rflags;
	w->body_left = st->body_left;
	w->seen_head = st->heads > 0;
	resumed = w->state == RECV_HEAD_PART;
	if (resumed) {
		if (recv_restore(sk, sc)) {
			st->lost = PROPAGATE_SKIP_FRAMING;
			return 0;
		}
		w->state = RECV_HEAD;
	}
	for (int i = 0; i < PROPAGATE_MAX_STEPS && w->off < w->ret; i++) {
		int more;

		if (w->state == RECV_BODY || w->state == RECV_CHUNK_DATA) {
			recv_skip(w);
			continue;
		}
		more = w->state == RECV_HEAD ? recv_head() : recv_framing();
		if (!more)
			break;
	}
	if (!w->lost && w->off < w->ret && w->state != RECV_HEAD_PART)
		w->lost = PROPAGATE_SKIP_FRAMING; /* more heads and chunks than followed */
	if (!w->lost && w->state == RECV_HEAD_PART && recv_save(sk, sc))
		w->lost = PROPAGATE_SKIP_FRAMING;
	else if (resumed && w->state != RECV_HEAD_PART)
		bpf_sk_storage_delete(&pending_heads, sk);
	st->rstate = w->state;
	st->rflags = w->flags;
	st->body_left = w->body_left;
	if (w->seen_head) {
		st->role = ROLE_SERVER;
		if (!st->heads)
			st->heads = 1;
	}
	if (w->lost)
		st->lost = w->lost;
	return 0;
}

/* Does the current send begin an interim (1xx) response, "100 Continue" most often? The
 * request it answers is still being served: its context stays. */
static __always_inline bool interim_response(struct task_struct *task, int ret)
{
	__u32 len = ret;
	__u8 b[10];
	__u64 buf;

	if (ret < (int)sizeof(b))
		return false;
	buf = io_buffer(task, &len, true);
	if (!buf || len < sizeof(b) || bpf_probe_read_user(b, sizeof(b), (void *)buf))
		return false;
	return b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && b[5] == '1' &&
	       b[6] == '.' && b[8] == ' ' && b[9] == '1';
}

/* A selected thread sends on a connection whose request it serves: the response.
 * That request's context ends, unless the send is an interim response. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(prop_send, struct sock *sk, int ret, int flags)
{
	struct task_struct *task;
	struct serving *sv;
	bool busy = false, mine = false;
	__u64 cookie;
	__u32 tid;

	if (!inet_tcp(sk))
		return 0;
	/* Every send of the host comes here: loads first, the map for selected threads only. */
	task = bpf_get_current_task_btf();
	if (!selected(task))
		return 0;
	tid = task->pid;
	sv = bpf_map_lookup_elem(&serving, &tid);
	if (!sv)
		return 0;
	cookie = sock_cookie(sk);
	for (int i = 0; i < SERVING_SLOTS; i++)
		mine |= sv->req[i].cookie == cookie;
	if (!mine || interim_response(task, ret))
		return 0;
	for (int i = 0; i < SERVING_SLOTS; i++) {
		if (sv->req[i].cookie == cookie)
			sv->req[i].cookie = 0;
		busy |= sv->req[i].cookie != 0;
	}
	if (!busy)
		bpf_map_delete_elem(&serving, &tid); /* crowded no more */
	return 0;
}
