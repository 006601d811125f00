// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.x capture from the raw syscall exit tracepoint. When a syscall returns, its
 * arguments are still in the task's saved registers: the handler decides whether the fd
 * is a TCP connection worth following (from the task's own file table, not from
 * guesses) and copies what the syscall actually moved, up to the snap length, into the
 * ring buffer. Nothing runs at syscall entry, so a syscall that moved nothing (EAGAIN
 * from a non-blocking socket) costs one program run and a switch. A connection whose
 * first bytes are not HTTP stops producing events after that message.
 *
 * Written for kernels >= 5.8: bounded loops only, helpers of that era, CO-RE reads.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "capture.h"
#include "http1_tokens.h"
#include "process.bpf.h"
#include "conn.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define CAP_EINPROGRESS 115
#define CAP_MSG_PEEK 2
#define CAP_EBADF 9

/* ---- configuration, set by user space before load ---------------------------------- */
/* (the process filter, --port and the wakeup threshold: in the shared headers) */
const volatile __u32 snaplen = CAPTURE_SNAPLEN_DEFAULT;

/* ---- maps ---------------------------------------------------------------------------- */
/* (events, counters, conns, ignored, gens, conn_seq: in the shared headers) */
enum io_kind {
	IO_BUF = 1,    /* read/write/sendto/recvfrom: one buffer */
	IO_IOV = 2,    /* readv/writev: an iovec array */
	IO_MSG = 3,    /* sendmsg/recvmsg: a msghdr */
	IO_UNSEEN = 4, /* sendfile/splice: count only */
};

/* A data syscall's arguments, as its exit finds them in the saved registers. */
struct io_args {
	__u64 ptr;   /* buffer, iovec array or msghdr */
	__u64 count; /* iovcnt */
	__u64 key;   /* the connection's key in the conns map */
	__s32 fd;
	__u8 dir;    /* enum capture_dir */
};

/* An HTTP/2 walk in progress (h2_walk(), h2_step()), in the CPU's scratch, where the
 * step function finds it. Offsets are into the bytes the syscall moved, its iovecs one
 * after another. */
struct h2_walk_state {
	__u64 ret;      /* bytes the syscall moved */
	__u64 off;      /* walked to */
	__u64 buf;      /* the buffer (iovec) being walked: its address, */
	__u64 buf_off;  /* where in the syscall's bytes it starts, */
	__u64 buf_end;  /* and where it ends */
	__u64 iov;      /* the next iovec, */
	__u64 iov_left; /* and how many are left */
	__u32 out;      /* bytes of segments written */
	__u32 skip;     /* payload bytes of the frame in progress still to pass, */
	__u32 copy;     /* the first of them to copy */
	__u32 hlen;     /* bytes of a frame header read so far (< 9) */
	__u8 hdr[32] __attribute__((aligned(8))); /* them (or the preface, to compare) */
	/* an iovec or a msghdr read: here, not on the stack (sys_exit, follow_buf, h2_walk
	 * and h2_step together may use 512 bytes before Linux 6.14) */
	union {
		struct iovec iov;
		struct user_msghdr msg;
	} io;
	__u8 emit;      /* write segments */
	__u8 check;     /* where frames start was not known */
	__u8 first;     /* no frame header yet: the client preface may come first */
	__u8 lost;      /* a header did not pass, a read failed */
	__u8 clipped;   /* frames past the area's end were not copied */
	__u8 done;      /* walked to the end */
};

/* One event under construction per CPU: header, then room for two snap lengths so
 * that a masked offset plus a bounded length provably stays inside. An array indexed
 * by CPU rather than a per-CPU array: per-CPU values are capped at 32 KiB. */
struct scratch {
	struct capture_event hdr;
	/* HTTP/2 walks use all of it: a segment may start at its last byte (H2_AREA) */
	__u8 data[2 * CAPTURE_SNAPLEN_MAX + 8 + 8192]; /* 8192: h2_seg_size()'s mask */
	__u64 unwoken; /* bytes this CPU sent to the ring since it last woke the reader */
	struct h2_walk_state walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Processes that sent events: only their exits concern user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} active_pids SEC(".maps");

/* ---- classification: mirrors httpconn_classify() and http2_classify() ---------------- */

/* Eight bytes as a little-endian word, so a prefix compares in one masked operation. */
#define W8(a, b, c, d, e, f, g, h)                                                      \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |            \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/* What a connection's first message may start with (bpf/http1_tokens.h, the list user
 * space uses too): a method with its space, or the status line's "HTTP/1."; and last,
 * the start of the HTTP/2 client preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": user space
 * checks the rest). */
#define START_TOKEN(n, a, b, c, d, e, f, g, h) { W8(a, b, c, d, e, f, g, h), n },
static const struct {
	__u64 word;
	__u32 len;
} start_tokens[] = { HTTP1_METHOD_TOKENS(START_TOKEN) HTTP1_RESPONSE_TOKENS(START_TOKEN)
		     START_TOKEN(8, 'P', 'R', 'I', ' ', '*', ' ', 'H', 'T') };

#define H2_DATA 0
#define H2_HEADERS 1
#define H2_PRIORITY 2
#define H2_RST_STREAM 3
#define H2_SETTINGS 4
#define H2_PUSH_PROMISE 5
#define H2_PING 6
#define H2_GOAWAY 7
#define H2_WINDOW_UPDATE 8
#define H2_CONTINUATION 9

/*
 * Could the 9 bytes (@word the first 8, little-endian, then @ninth) be an HTTP/2 frame
 * header: a known type with its flags, stream and length rules? @server_first: only a
 * server's first frame passes (SETTINGS, not an ACK, on stream 0). Mirrors
 * http2_classify() and http2_frame_plausible().
 */
static __always_inline bool h2_frame(__u64 word, __u8 ninth, bool server_first)
{
	__u32 flen = (word & 0xff) << 16 | (word >> 8 & 0xff) << 8 | (word >> 16 & 0xff);
	__u8 type = word >> 24, fl = word >> 32;
	__u32 sid = (word >> 40 & 0xff) << 24 | (word >> 48 & 0xff) << 16 | (word >> 56 & 0xff) << 8 | ninth;

	if (server_first)
		return type == H2_SETTINGS && !fl && !sid && flen % 6 == 0;
	if (sid & 0x80000000)
		return false;
	switch (type) {
	case H2_DATA:
		return sid && !(fl & ~0x09);
	case H2_HEADERS:
		return sid && flen && !(fl & ~0x2d);
	case H2_PRIORITY:
		return sid && flen == 5 && !fl;
	case H2_RST_STREAM:
		return sid && flen == 4 && !fl;
	case H2_SETTINGS:
		return !sid && flen % 6 == 0 && !(fl & ~1) && (!(fl & 1) || !flen);
	case H2_PUSH_PROMISE:
		return sid && flen >= 4 && !(fl & ~0x0c);
	case H2_PING:
		return !sid && flen == 8 && !(fl & ~1);
	case H2_GOAWAY:
		return !sid && flen >= 8 && !fl;
	case H2_WINDOW_UPDATE:
		return flen == 4 && !fl;
	case H2_CONTINUATION:
		return sid && !(fl & ~0x04);
	}
	return false;
}

static __always_inline __u64 low_bytes_mask(__u32 n)
{
	return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/* HTTP when the bytes start with a token or an HTTP/2 server's first frame (or, on a
 * connection already open, @role unknown, any HTTP/2 frame: its first bytes here are
 * mostly a frame's), UNKNOWN while they are a proper prefix of a token (too short to
 * say), NOT_HTTP otherwise. HTTP/1 and HTTP/2 are one class: user space tells them
 * apart by the same bytes. Mirrors httpconn_classify() and http2_classify(). */
static __always_inline __u8 classify(const __u8 *data, __u32 len, __u8 role, __u8 *h2)
{
	const int preface = sizeof(start_tokens) / sizeof(start_tokens[0]) - 1;
	__u8 verdict = CAPTURE_CLASS_NOT_HTTP;
	__u64 word = 0;
	int i;

	for (i = 0; i < 8; i++)
		if (i < len)
			word |= (__u64)data[i] << (8 * i);
	for (i = 0; i < sizeof(start_tokens) / sizeof(start_tokens[0]); i++) {
		__u32 n = start_tokens[i].len, seen = len < n ? len : n;

		if ((word ^ start_tokens[i].word) & low_bytes_mask(seen))
			continue;
		if (len >= n) {
			*h2 = i == preface;
			return CAPTURE_CLASS_HTTP;
		}
		verdict = CAPTURE_CLASS_UNKNOWN;
	}
	if (len >= 9 && h2_frame(word, data[8], role != CAPTURE_ROLE_UNKNOWN)) {
		*h2 = 1;
		return CAPTURE_CLASS_HTTP;
	}
	return verdict;
}

/* Segments of an HTTP/2 walk (each a struct capture_segment, then up to
 * 9 + CAPTURE_H2_KEEP bytes) go in the first H2_AREA bytes of the scratch, which has room
 * past them for one that starts at the last. The event's size stays below H2_AREA. */
#define H2_AREA (2 * CAPTURE_SNAPLEN_MAX)

/* h2_walk()'s @flags: the syscall's enum io_kind, its direction << H2_DIR_SHIFT, and */
#define H2_POSITION (1u << 8) /* only find where the next syscall's first frame starts */
#define H2_DIR_SHIFT 16
#define H2_NO_WALK 0xffffffffu /* h2_walk(): no segments, copy as for any connection */

/* The client preface: a client's first bytes, also after an upgrade to h2c. */
#define H2_PREFACE_0 W8('P', 'R', 'I', ' ', '*', ' ', 'H', 'T')
#define H2_PREFACE_1 W8('T', 'P', '/', '2', '.', '0', '\r', '\n')
#define H2_PREFACE_2 W8('\r', '\n', 'S', 'M', '\r', '\n', '\r', '\n')
#define H2_PREFACE_LEN 24

/* A segment's size, which is at most 9 + CAPTURE_H2_KEEP: masked so that the verifiers
 * of 5.10 and 6.1 see no negative minimum on paths whose bounds crossed (copy_size()
 * says more); the barrier keeps clang from dropping the mask. */
static __always_inline __u64 h2_seg_size(__u64 n)
{
	barrier_var(n);
	return n & 8191;
}

/* Bytes [@off, @off + @n) of the syscall's, at user address @src, as a segment of the
 * event: while they fit the area, and every one before them did. */
static __always_inline void h2_segment(struct h2_walk_state *w, __u8 *dst, __u64 off, __u64 src,
				       __u64 n)
{
	__u32 out = w->out;
	struct capture_segment *sg;

	if (!w->emit || !n)
		return;
	if (out + sizeof(*sg) + n >= H2_AREA) {
		w->emit = 0;
		w->clipped = 1;
		return;
	}
	sg = (struct capture_segment *)(dst + (out & (H2_AREA - 1)));
	sg->off = off;
	sg->n = n;
	if (bpf_probe_read_user(dst + ((out + sizeof(*sg)) & (H2_AREA - 1)), h2_seg_size(n),
				(void *)src)) {
		w->emit = 0;
		w->clipped = 1;
		return;
	}
	w->out = out + sizeof(*sg) + ((n + 3) & ~3u);
}

/*
 * One step of the walk in this CPU's scratch (h2_walk()): the next iovec, the payload
 * of the frame in progress (copied up to CAPTURE_H2_KEEP bytes a step when it is not
 * DATA), or a frame header with the start of its payload in the same buffer. A header
 * the buffer ends inside is kept, and finished by the next. Returns 1 to go on, 0 when
 * done (@w->lost: the walk lost its place). A global function: the verifier checks it
 * once, whatever the number of steps.
 */
__noinline int h2_step(void)
{
	__u32 cpu = bpf_get_smp_processor_id(), hlen, flen;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);
	struct h2_walk_state *w;
	__u64 off, rem, src, n, pay, pass, word;

	if (!sc)
		return 0;
	w = &sc->walk;
	off = w->off;
	if (off >= w->buf_end) {
		__u64 len;

		if (w->buf_end >= w->ret || !w->iov_left) {
			w->done = 1;
			return 0;
		}
		if (bpf_probe_read_user(&w->io.iov, sizeof(w->io.iov), (void *)w->iov))
			goto lost;
		w->iov += sizeof(w->io.iov);
		w->iov_left--;
		w->buf = (__u64)w->io.iov.iov_base;
		w->buf_off = w->buf_end;
		len = w->io.iov.iov_len;
		w->buf_end += len < w->ret - w->buf_end ? len : w->ret - w->buf_end;
		return 1;
	}
	rem = w->buf_end - off;
	src = w->buf + (off - w->buf_off);
	if (w->skip) {
		n = w->skip < rem ? w->skip : rem;
		if (w->copy) {
			n = n < w->copy ? n : w->copy;
			n = n < CAPTURE_H2_KEEP ? n : CAPTURE_H2_KEEP;
			h2_segment(w, sc->data, off, src, n);
			w->copy -= n;
		}
		w->skip -= n;
		w->off = off + n;
		return 1;
	}
	hlen = w->hlen;
	if (hlen >= 9)
		goto lost;
	if (w->first && !hlen && rem >= H2_PREFACE_LEN) {
		__u64 *p = (__u64 *)w->hdr;

		if (bpf_probe_read_user(p, H2_PREFACE_LEN, (void *)src))
			goto lost;
		if (p[0] == H2_PREFACE_0 && p[1] == H2_PREFACE_1 && p[2] == H2_PREFACE_2) {
			h2_segment(w, sc->data, off, src, H2_PREFACE_LEN);
			w->first = 0;
			w->off = off + H2_PREFACE_LEN;
			return 1;
		}
	}
	n = 9 - hlen < rem ? 9 - hlen : rem;
	pass = n; /* (9 at most) masked as h2_seg_size() does */
	barrier_var(pass);
	if (bpf_probe_read_user(w->hdr + (hlen & 7), pass & 15, (void *)src))
		goto lost;
	hlen += n;
	if (hlen < 9) { /* the next buffer or syscall has the rest */
		h2_segment(w, sc->data, off, src, n);
		w->hlen = hlen;
		w->off = off + n;
		return 1;
	}
	w->hlen = 0;
	__builtin_memcpy(&word, w->hdr, sizeof(word));
	if (!h2_frame(word, w->hdr[8], false))
		goto lost;
	w->first = 0;
	flen = (__u32)w->hdr[0] << 16 | (__u32)w->hdr[1] << 8 | w->hdr[2];
	w->copy = w->hdr[3] == H2_DATA ? 0 : flen;
	rem -= n;
	pay = w->copy < rem ? w->copy : rem;
	pay = pay < CAPTURE_H2_KEEP ? pay : CAPTURE_H2_KEEP;
	h2_segment(w, sc->data, off, src, n + pay);
	w->copy -= pay;
	/* a payload not copied (DATA) is passed over in the same step */
	pass = w->copy ? 0 : flen - pay < rem - pay ? flen - pay : rem - pay;
	w->skip = flen - pay - pass;
	w->off = off + n + pay + pass;
	return 1;
lost:
	w->lost = 1;
	return 0;
}

static __always_inline void count_h2(bool lost)
{
	__u32 zero = 0;
	struct capture_counters *cnt = bpf_map_lookup_elem(&counters, &zero);

	if (!cnt)
		return;
	if (lost)
		cnt->h2_lost++;
	else
		cnt->h2_clipped++;
}

/*
 * The @ret bytes an HTTP/2 connection moved (@flags: which way, one buffer at @ptr,
 * @count iovecs at @ptr or a msghdr at @ptr): walk their frames from where the
 * connection's last walk that way said the next frame starts, or, where that is not
 * known, from the first byte (the client preface may come first), believing it only if
 * every frame header of the chain passes. When they are more than the snap length, copy
 * every frame header and the payload of any frame but DATA to the scratch as segments:
 * returns their bytes. H2_NO_WALK: copy as for any other connection (the bytes fit the
 * snap length, H2_POSITION, or the walk failed). User space checks the frames itself: a
 * wrong walk loses bytes, never makes them up. A global function, scalars only (@key:
 * the connection's in the conns map), as Linux 5.10 takes.
 */
__noinline __u32 h2_walk(__u64 key, __u64 ptr, __u64 count, __u64 ret, __u32 flags)
{
	__u32 cpu = bpf_get_smp_processor_id(), d = flags >> H2_DIR_SHIFT & 1, kind = flags & 0xff;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);
	struct capture_conn *c = bpf_map_lookup_elem(&conns, &key);
	struct h2_walk_state *w;
	bool emit;

	if (!c || !sc)
		return H2_NO_WALK;
	w = &sc->walk;
	barrier_var(d);
	d &= 1;
	emit = !(flags & H2_POSITION) && ret > snaplen;
	w->ret = ret;
	w->off = 0;
	w->out = 0;
	w->emit = emit;
	w->lost = w->clipped = w->done = 0;
	w->skip = c->h2_skip[d];
	w->check = w->first = w->skip == CAPTURE_H2_UNKNOWN;
	if (w->check) {
		w->skip = w->copy = w->hlen = 0;
	} else {
		w->copy = c->h2_copy[d] < w->skip ? c->h2_copy[d] : w->skip;
		w->hlen = c->h2_hlen[d];
		__builtin_memcpy(w->hdr, c->h2_hdr[d], sizeof(c->h2_hdr[d]));
	}
	/* until the walk ends where it should */
	c->h2_skip[d] = CAPTURE_H2_UNKNOWN;
	w->buf = ptr;
	w->buf_off = w->buf_end = 0;
	w->iov = ptr;
	w->iov_left = count;
	if (kind == IO_BUF) {
		w->buf_end = ret;
	} else if (kind == IO_MSG) {
		if (bpf_probe_read_user(&w->io.msg, sizeof(w->io.msg), (void *)ptr))
			return H2_NO_WALK;
		w->iov = (__u64)w->io.msg.msg_iov;
		w->iov_left = w->io.msg.msg_iovlen;
	}
	/* (the steps' count is not looked at after the loop: the verifier then finds the
	 * states after each alike) */
	for (int i = 0; i < CAPTURE_H2_WALK; i++)
		if (!h2_step())
			break;
	if (!w->done || w->off != ret) {
		if (!w->check)
			count_h2(true);
		return H2_NO_WALK;
	}
	c->h2_skip[d] = w->skip;
	c->h2_copy[d] = w->copy;
	c->h2_hlen[d] = w->hlen;
	__builtin_memcpy(c->h2_hdr[d], w->hdr, sizeof(c->h2_hdr[d]));
	if (w->clipped)
		count_h2(false);
	return emit ? w->out : H2_NO_WALK;
}

/*
 * The bytes an HTTP/1 connection (@key) moved @dir, copied to this CPU's scratch (its
 * header says how many): when they are a switch to h2c ("HTTP/1.1 101" with an
 * Upgrade: h2c line), the connection is HTTP/2 from the head's end on. This way frames
 * start after the head (in the same syscall, perhaps), the other way the client's next
 * bytes start with the preface. Only the first 1024 bytes are looked at. Returns 1 when
 * they are a switch, for h2_walk() to walk them (the head its first segment): not its
 * caller, as a chain of calls has 512 bytes of stack in all before Linux 6.14.
 */
__noinline int h2_upgrade(__u64 key, __u32 dir)
{
	__u32 cpu = bpf_get_smp_processor_id(), d = dir, word = 0, len, head = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);
	struct capture_conn *c = bpf_map_lookup_elem(&conns, &key);
	__u32 h2c = 0, diff;

	if (!sc || !c)
		return 0;
	len = sc->hdr.captured - sc->hdr.tail;
	if (len < 13 || *(__u64 *)sc->data != W8('H', 'T', 'T', 'P', '/', '1', '.', '1') ||
	    sc->data[8] != ' ' || sc->data[9] != '1' || sc->data[10] != '0' || sc->data[11] != '1')
		return 0;
	for (__u32 i = 0; i < 1024; i++) {
		if (i >= len)
			break;
		word = word << 8 | sc->data[i & 1023];
		/* without a branch (h2c |= diff == 0): a state per outcome would not prune */
		diff = word ^ ('h' << 24 | '2' << 16 | 'c' << 8 | '\r');
		h2c |= ((diff - 1) & ~diff) >> 31;
		if (word == ('\r' << 24 | '\n' << 16 | '\r' << 8 | '\n')) {
			head = i + 1;
			break;
		}
	}
	if (!h2c || !head)
		return 0;
	barrier_var(d);
	d &= 1;
	c->h2 = 1;
	c->h2_skip[d ^ 1] = CAPTURE_H2_UNKNOWN;
	/* the head as the first frame's payload, copied */
	c->h2_skip[d] = c->h2_copy[d] = head;
	c->h2_hlen[d] = 0;
	return 1;
}

/* ---- events --------------------------------------------------------------------------- */

/* For data events: wake the reader each time this CPU has sent it @wakeup_bytes more.
 * A count in the CPU's scratch, where asking the ring what is waiting costs a helper
 * call per event (tens of nanoseconds on kernels with return-stack mitigations). */
static __always_inline __u64 data_wakeup_flags(struct scratch *sc, __u32 size)
{
	sc->unwoken += size;
	if (sc->unwoken < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	sc->unwoken = 0;
	return BPF_RB_FORCE_WAKEUP;
}

/*
 * @n, at most @limit (a power of two, a constant), in a form every verifier since 5.8
 * can bound. The mask changes no value (n <= limit), but the verifiers of 5.10 and 6.1
 * go on exploring paths whose bounds have crossed (out > len in copy_iov), where the
 * clamp alone leaves a negative minimum and the copy is refused ("R2 min value is
 * negative"); after the mask the minimum is 0 on every path. The barrier keeps clang
 * from dropping it.
 */
static __always_inline __u64 copy_size(__u64 n, const __u32 limit)
{
	if (n > limit)
		n = limit;
	barrier_var(n);
	return n & ((2 * (__u64)limit) - 1);
}

/*
 * Copy the first @len bytes of the stream scattered over @cnt iovecs at @iov to @dst, at
 * most @limit (a power of two, a constant): with it the verifier can bound every write.
 * Few values live across iterations (the bytes copied, nothing else), so the verifier
 * finds the states of one iteration like those of the next and stops exploring.
 */
static __always_inline __u32 copy_iov(__u8 *dst, const struct iovec *iov, __u64 cnt, __u64 len,
				      const __u32 limit)
{
	__u64 out = 0; /* 64-bit: the bound checked is the register passed */

	for (int i = 0; i < CAPTURE_MAX_IOV; i++) {
		struct iovec v;
		__u64 n;

		/* out >= limit changes nothing (len <= limit), but before 6.x a verifier
		 * decides a comparison only against a constant: without it 5.10 walks on
		 * through paths where out >= len was false for impossible ranges, and
		 * stops at its million instructions. */
		if (i >= cnt || out >= len || out >= limit)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		n = copy_size(len - out < v.iov_len ? len - out : v.iov_len, limit);
		if (bpf_probe_read_user(dst + (out & (limit - 1)), n, v.iov_base))
			break;
		out += n;
	}
	return out;
}

/* Copy bytes [@from, @to) of what the syscall moved (one buffer, iovecs, or a msghdr's
 * iovecs) to @dst. Only a single buffer has a tail (@from > 0): iovecs start at 0. */
static __always_inline __u32 copy_payload(__u8 *dst, const struct io_args *a, const __u8 kind,
					  __u64 from, __u64 to, const __u32 limit)
{
	struct user_msghdr msg;
	__u64 n = copy_size(to - from, limit);

	switch (kind) {
	case IO_BUF:
		return bpf_probe_read_user(dst, n, (__u8 *)a->ptr + from) ? 0 : n;
	case IO_IOV:
		return copy_iov(dst, (const struct iovec *)a->ptr, a->count, to, limit);
	case IO_MSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a->ptr))
			return 0;
		return copy_iov(dst, msg.msg_iov, msg.msg_iovlen, to, limit);
	}
	return 0;
}

/* sendfile/splice moved @ret bytes on @c: no event. The next one on the connection
 * carries the running total, and user space reads it from the conns map when none comes
 * (nginx sends a static body right after its head, so this is one event in three). */
static __always_inline void count_unseen(struct capture_conn *c, __u32 dir, __u64 ret)
{
	__u32 d = dir;

	barrier_var(d); /* the verifier sees the index bounded where it is used */
	d &= 1;
	c->unseen[d] += ret;
	c->unseen_ts = bpf_ktime_get_ns();
	if (!c->h2 || c->h2_skip[d] == CAPTURE_H2_UNKNOWN)
		return;
	/* HTTP/2 (nginx's DATA payloads by sendfile, after their frame headers): the walk
	 * goes on after them when they end within the frame in progress. */
	if (ret > c->h2_skip[d] || c->h2_hlen[d]) {
		c->h2_skip[d] = CAPTURE_H2_UNKNOWN;
		return;
	}
	c->h2_skip[d] -= ret;
	c->h2_copy[d] = c->h2_copy[d] > ret ? c->h2_copy[d] - ret : 0;
}

/* @kind is a constant at each inlined call, so each copy is verified with its own copy
 * path only. @task_filled as for fill_header(). */
static __always_inline void emit_data(__u64 id, struct capture_conn *c, const struct io_args *a,
				      __u64 ret, const __u8 kind, const bool task_filled)
{
	__u32 tgid, cpu = bpf_get_smp_processor_id();
	struct scratch *sc;
	__u32 total = 0, tail_len = 0, size, walked = H2_NO_WALK;
	bool segments = false;
	__u64 len64;
	__u8 class, h2 = 0;

	if (kind == IO_UNSEEN) {
		count_unseen(c, a->dir, ret);
		return;
	}
	sc = bpf_map_lookup_elem(&scratch, &cpu);
	if (!sc)
		return;

	/* HTTP/2, whatever the size: the walk must see every frame of the direction to
	 * know where the next syscall's first frame starts. */
	if (c->h2) {
		walked = h2_walk(a->key, a->ptr, a->count, ret, kind | a->dir << H2_DIR_SHIFT);
		if (walked != H2_NO_WALK) {
			segments = true;
			total = walked;
		}
		walked = H2_NO_WALK;
	}
	if (segments) {
	} else if (kind == IO_BUF && ret > snaplen) {
		/* The start, and the end, where the next message may begin. Single buffers
		 * only: a second walk over iovecs would exceed what the verifier explores. */
		__u32 tail = snaplen >> CAPTURE_TAIL_SHIFT, head = snaplen - tail;

		total = copy_payload(sc->data, a, kind, 0, head, CAPTURE_SNAPLEN_MAX);
		if (total == head) {
			tail_len = copy_payload(sc->data + (head & (CAPTURE_SNAPLEN_MAX - 1)), a, kind,
						ret - tail, ret, CAPTURE_SNAPLEN_MAX >> CAPTURE_TAIL_SHIFT);
			total += tail_len;
		}
	} else {
		total = copy_payload(sc->data, a, kind, 0, ret < snaplen ? ret : snaplen, CAPTURE_SNAPLEN_MAX);
	}
	if (total > (segments ? H2_AREA - 1 : CAPTURE_SNAPLEN_MAX))
		total = segments ? H2_AREA - 1 : CAPTURE_SNAPLEN_MAX;

	fill_header(&sc->hdr, CAPTURE_EV_DATA, id, a->fd, c, task_filled);
	tgid = sc->hdr.pid;
	sc->hdr.len = ret;
	sc->hdr.dir = a->dir;
	sc->hdr.flags = segments ? CAPTURE_DF_SEGMENTS : 0;
	sc->hdr.tail = tail_len;
	sc->hdr.gap[0] = c->gap[0];
	sc->hdr.gap[1] = c->gap[1];
	sc->hdr.unseen[0] = c->unseen[0];
	sc->hdr.unseen[1] = c->unseen[1];
	sc->hdr.unseen_ts = c->unseen_ts;
	/* Numbered before it goes: user space trusts the map's totals only when it has
	 * taken every event numbered so far. */
	sc->hdr.seq = ++c->seq;

	if (c->class == CAPTURE_CLASS_UNKNOWN && total && !segments) {
		class = classify(sc->data, total - tail_len, c->role, &h2);
		if (class == CAPTURE_CLASS_NOT_HTTP && c->role == CAPTURE_ROLE_UNKNOWN &&
		    ++c->tries < CAPTURE_MIDSTREAM_TRIES)
			class = CAPTURE_CLASS_UNKNOWN; /* mid-body, perhaps: look at the next one */
		if (class != CAPTURE_CLASS_UNKNOWN) {
			c->class = class;
			sc->hdr.flags |= CAPTURE_DF_CLASSIFY;
			c->h2 = h2;
			c->h2_skip[0] = c->h2_skip[1] = CAPTURE_H2_UNKNOWN;
			/* The first bytes walked too: where the next syscall's frames start,
			 * and segments instead of a head and a tail when they are many. */
			if (h2)
				walked = h2_walk(a->key, a->ptr, a->count, ret, kind | a->dir << H2_DIR_SHIFT);
		}
		sc->hdr.class = class;
	} else if (c->class == CAPTURE_CLASS_HTTP && !c->h2 && !segments) {
		sc->hdr.captured = total;
		if (h2_upgrade(a->key, a->dir))
			walked = h2_walk(a->key, a->ptr, a->count, ret, kind | a->dir << H2_DIR_SHIFT);
	}
	if (walked != H2_NO_WALK) {
		sc->hdr.flags |= CAPTURE_DF_SEGMENTS;
		sc->hdr.tail = 0;
		total = walked < H2_AREA - 1 ? walked : H2_AREA - 1;
	}

	sc->hdr.captured = total;
	/* The mask is a no-op for the value (total <= CAPTURE_SNAPLEN_MAX) that gives the
	 * verifier its bound; the barrier keeps the compiler from dropping it as such. */
	len64 = total;
	barrier_var(len64);
	size = sizeof(sc->hdr) + (len64 & (2 * CAPTURE_SNAPLEN_MAX - 1));
	sc->hdr.size = size;
	if (bpf_ringbuf_output(&events, sc, size, data_wakeup_flags(sc, size))) {
		count_drop(ret);
		if (a->dir <= CAPTURE_INGRESS)
			c->gap[a->dir & 1] += ret;
		return;
	}
	c->gap[0] = c->gap[1] = 0;
	if (!c->announced) {
		__u8 one = 1;

		c->announced = 1;
		bpf_map_update_elem(&active_pids, &tgid, &one, BPF_ANY);
	}
}

/* The connection @c, which thread @id reached through @fd, is gone: tell user space
 * when it holds state for it (it sent an event). */
static __always_inline void emit_close(const struct capture_conn *c, __u64 id, int fd)
{
	struct capture_event *e;

	if (!c->announced)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(0);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(e, CAPTURE_EV_CLOSE, id, fd, c, false);
	e->gap[0] = c->gap[0];
	e->gap[1] = c->gap[1];
	e->unseen[0] = c->unseen[0];
	e->unseen[1] = c->unseen[1];
	e->unseen_ts = c->unseen_ts;
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* ---- handlers ------------------------------------------------------------------------- */

/*
 * A data syscall on @fd moved @ret bytes: 1 when @fd is a connection followed, else 0.
 * The handlers below are global functions: the verifier checks each once, with its
 * arguments unknown, instead of once per syscall that calls it (inlined into one
 * program, the copy paths of every syscall exceed what it explores).
 */
static __always_inline int follow_io(long ret, int fd, __u64 ptr, __u64 count, const __u8 kind,
				     __u32 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct capture_conn *c;
	struct io_args a = { .ptr = ptr, .count = count, .key = conn_key(id >> 32, fd), .fd = fd,
			     .dir = dir };

	c = conn_get(id >> 32, fd, CAPTURE_ROLE_UNKNOWN, false);
	if (!c)
		return 0;
	if (ret > 0 && c->class < CAPTURE_CLASS_NOT_HTTP)
		emit_data(id, c, &a, ret, kind, false);
	return 1;
}

__noinline int follow_buf(long ret, int fd, __u64 buf, __u32 dir)
{
	return follow_io(ret, fd, buf, 0, IO_BUF, dir);
}

__noinline int follow_iov(long ret, int fd, __u64 iov, __u64 iovcnt, __u32 dir)
{
	return follow_io(ret, fd, iov, iovcnt, IO_IOV, dir);
}

__noinline int follow_msg(long ret, int fd, __u64 msg, __u32 dir)
{
	return follow_io(ret, fd, msg, 0, IO_MSG, dir);
}

__noinline int follow_unseen(long ret, int fd, __u32 dir)
{
	return follow_io(ret, fd, 0, 0, IO_UNSEEN, dir);
}

/* accept/accept4/connect made @fd a connection in @role. */
__noinline int learn_conn(int fd, __u32 role)
{
	conn_get(bpf_get_current_pid_tgid() >> 32, fd, role, true);
	return 0;
}

/*
 * The fd stopped naming what it named (close, or dup2/dup3 onto it): tell user space
 * (when it holds state for the connection) and forget it. By the time this runs
 * another thread may already have reused the number for a new connection and learned
 * it; an entry for the file the slot holds now is that one, and stays.
 */
__noinline int forget_fd(int fd)
{
	__u64 id = bpf_get_current_pid_tgid(), key = conn_key(id >> 32, fd);
	struct capture_conn *c;

	bpf_map_delete_elem(&ignored, &key);
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || (c->file && c->file == (__u64)fd_file(fd)))
		return 0;
	emit_close(c, id, fd);
	bpf_map_delete_elem(&conns, &key);
	return 0;
}

/*
 * Syscall numbers of the calls followed. One raw tracepoint sees every syscall: the
 * per-syscall tracepoints cost a trace buffer and an argument copy for every call of
 * every process before a program can even look at the pid, this costs a program run.
 * arm64 numbers are the generic ones: no dup2 there.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_CLOSE 3
#define NR_READV 19
#define NR_WRITEV 20
#define NR_DUP2 33
#define NR_SENDFILE 40
#define NR_CONNECT 42
#define NR_ACCEPT 43
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_SPLICE 275
#define NR_ACCEPT4 288
#define NR_DUP3 292
#elif defined(__TARGET_ARCH_arm64)
#define NR_DUP3 24
#define NR_CLOSE 57
#define NR_READ 63
#define NR_WRITE 64
#define NR_READV 65
#define NR_WRITEV 66
#define NR_SENDFILE 71
#define NR_SPLICE 76
#define NR_ACCEPT 202
#define NR_CONNECT 203
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_ACCEPT4 242
#else
#error "syscall numbers are known for x86 and arm64 only"
#endif

/*
 * The BTF-typed raw tracepoint hands the program the task's saved user registers as a
 * typed pointer: fields are loaded directly (CO-RE relocated), with no helper call per
 * argument. A syscall leaves them as it found them but for the return value, which
 * goes to ax on x86-64 and to x0 on arm64 (whose first argument stays in orig_x0).
 */
#if defined(__TARGET_ARCH_x86)
/* A 32-bit task's syscalls use another table: the same numbers mean other calls. */
#define COMPAT_TASK(r) (((r)->cs & 0xffff) != 0x33) /* not __USER_CS */
#define SYSCALL_NR(r) ((r)->orig_ax)
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10)
#else
#define COMPAT_TASK(r) ((r)->pstate & 0x10) /* PSR_MODE32_BIT */
#define SYSCALL_NR(r) ((r)->syscallno)
#define ARG1(r) ((r)->orig_x0)
#define ARG2(r) ((r)->regs[1])
#define ARG3(r) ((r)->regs[2])
#define ARG4(r) ((r)->regs[3])
#endif

/* raw_syscalls:sys_exit(regs, ret): the process filter first, as nearly every call of
 * the host lands here. */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (!traced_process(id, NULL) || COMPAT_TASK(regs))
		return 0;
	switch (SYSCALL_NR(regs)) {
	/* Nothing moved (EAGAIN, mostly): nothing to do for the data calls. */
	case NR_READ:
		return ret <= 0 ? 0 : follow_buf(ret, ARG1(regs), ARG2(regs), CAPTURE_INGRESS);
	case NR_WRITE:
	case NR_SENDTO:
		return ret <= 0 ? 0 : follow_buf(ret, ARG1(regs), ARG2(regs), CAPTURE_EGRESS);
	case NR_RECVFROM:
		if (ret <= 0 || ARG4(regs) & CAP_MSG_PEEK) /* peeked bytes will be read again */
			return 0;
		return follow_buf(ret, ARG1(regs), ARG2(regs), CAPTURE_INGRESS);
	case NR_READV:
		return ret <= 0 ? 0 : follow_iov(ret, ARG1(regs), ARG2(regs), ARG3(regs), CAPTURE_INGRESS);
	case NR_WRITEV:
		return ret <= 0 ? 0 : follow_iov(ret, ARG1(regs), ARG2(regs), ARG3(regs), CAPTURE_EGRESS);
	case NR_SENDMSG:
		return ret <= 0 ? 0 : follow_msg(ret, ARG1(regs), ARG2(regs), CAPTURE_EGRESS);
	case NR_RECVMSG:
		if (ret <= 0 || ARG3(regs) & CAP_MSG_PEEK)
			return 0;
		return follow_msg(ret, ARG1(regs), ARG2(regs), CAPTURE_INGRESS);
	/* sendfile(out_fd, in_fd, offset, count): nginx's static bodies, counted not copied. */
	case NR_SENDFILE:
		return ret <= 0 ? 0 : follow_unseen(ret, ARG1(regs), CAPTURE_EGRESS);
	/* splice(fd_in, off_in, fd_out, off_out, len, flags): whichever end is a socket. */
	case NR_SPLICE:
		if (ret <= 0 || follow_unseen(ret, ARG3(regs), CAPTURE_EGRESS))
			return 0;
		return follow_unseen(ret, ARG1(regs), CAPTURE_INGRESS);
	/* accept/accept4 return the server side of a connection. At exit alone, so a
	 * server already blocked in accept when the capture started still gets its role. */
	case NR_ACCEPT:
	case NR_ACCEPT4:
		return ret < 0 ? 0 : learn_conn(ret, CAPTURE_ROLE_SERVER);
	/* connect: the client side; the local port is bound by the time it returns, even
	 * when a non-blocking connect is still in progress. */
	case NR_CONNECT:
		if (ret != 0 && ret != -CAP_EINPROGRESS)
			return 0;
		return learn_conn(ARG1(regs), CAPTURE_ROLE_CLIENT);
	/* close releases the fd even when it reports an error, unless there was none. */
	case NR_CLOSE:
		return ret == -CAP_EBADF ? 0 : forget_fd(ARG1(regs));
#ifdef NR_DUP2
	case NR_DUP2:
#endif
	case NR_DUP3:
		/* dup2/dup3(oldfd, newfd) returned newfd, which names oldfd's file now. */
		return ret < 0 || ARG1(regs) == ARG2(regs) ? 0 : forget_fd(ARG2(regs));
	}
	return 0;
}

/* ---- socket hooks ---------------------------------------------------------------------
 *
 * Where the kernel has them (Linux >= 6.3), the sock:sock_send_length and
 * sock:sock_recv_length tracepoints fire for socket I/O only, so the rest of the
 * host's syscalls run no program at all; the syscall and its arguments still come
 * from the task's saved registers. A connection is its socket, keyed by the socket's
 * cookie; sock:inet_sock_set_state gives its role (a SYN sent or received) and its
 * end (whatever context the last state change runs in).
 */
#define CAP_TCP_SYN_SENT 2
#define CAP_TCP_SYN_RECV 3
#define CAP_TCP_FIN_WAIT1 4
#define CAP_TCP_CLOSE 7
#define CAP_TCP_LAST_ACK 9

static __always_inline bool inet_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return (family == CAP_AF_INET || family == CAP_AF_INET6) &&
	       sk->sk_protocol == CAP_PROTO_TCP && sk->sk_type == CAP_SOCK_STREAM;
}

static __always_inline void sock_endpoints(const struct sock *sk, struct capture_conn *c)
{
	__u16 family = sk->__sk_common.skc_family;

	c->local.family = c->remote.family = family;
	c->local.port = sk->__sk_common.skc_num;
	c->remote.port = bpf_ntohs(sk->__sk_common.skc_dport);
	if (family == CAP_AF_INET) {
		__builtin_memcpy(c->local.addr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(c->remote.addr, &sk->__sk_common.skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)c->local.addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)c->remote.addr, sk, __sk_common.skc_v6_daddr);
	}
	if (targ_port && c->local.port != targ_port && c->remote.port != targ_port)
		c->class = CAPTURE_CLASS_FILTERED;
}

/* Learn the connection @sk (cookie @cookie). A subprogram of its own: the new entry
 * is built on its stack, not on that of sock_send and sock_recv, whose chain of calls
 * down to h2_step() may use 512 bytes in all before Linux 6.14. */
static __noinline void sock_conn_learn(const struct sock *sk, __u64 cookie)
{
	struct capture_conn n = {};

	n.conn_id = cookie;
	sock_endpoints(sk, &n);
	bpf_map_update_elem(&conns, &cookie, &n, BPF_NOEXIST);
}

/* The state of the connection @sk (cookie @cookie), learned now if it is new. */
static __always_inline struct capture_conn *sock_conn(const struct sock *sk, __u64 cookie)
{
	struct capture_conn *c = bpf_map_lookup_elem(&conns, &cookie);

	if (c) {
		if (!c->local.family) /* made at the handshake, before the port was bound */
			sock_endpoints(sk, c);
		return c;
	}
	sock_conn_learn(sk, cookie);
	return bpf_map_lookup_elem(&conns, &cookie);
}

/*
 * The current task's ids and name, into this CPU's scratch header for the emit
 * subprograms below: loads from the task_struct the caller holds, where the callees
 * (which cannot take that pointer as an argument before Linux 6.8) would need helper
 * calls. Nothing else runs on this CPU in between but interrupts, and the programs
 * those run do not use the scratch.
 */
static __always_inline bool scratch_task(const struct task_struct *task)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);

	if (!sc)
		return false;
	sc->hdr.pid = task->tgid;
	sc->hdr.tid = task->pid;
	process_comm(sc->hdr.comm, 0, task);
	return true;
}

/* One per kind of copy, as for the syscall hooks; @fd_dir is fd | dir << 32. */
static __always_inline int sock_emit(struct capture_conn *c, long ret, __u64 fd_dir, __u64 ptr,
				     __u64 count, const __u8 kind)
{
	/* socket hooks key a connection by its cookie, which is its id */
	struct io_args a = { .ptr = ptr, .count = count, .key = c ? c->conn_id : 0,
			     .fd = (__s32)fd_dir, .dir = fd_dir >> 32 };

	if (!c)
		return 0;
	emit_data(0, c, &a, ret, kind, true);
	return 0;
}

__noinline int sock_emit_buf(struct capture_conn *c, long ret, __u64 fd_dir, __u64 buf)
{
	return sock_emit(c, ret, fd_dir, buf, 0, IO_BUF);
}

__noinline int sock_emit_iov(struct capture_conn *c, long ret, __u64 fd_dir, __u64 iov, __u64 iovcnt)
{
	return sock_emit(c, ret, fd_dir, iov, iovcnt, IO_IOV);
}

__noinline int sock_emit_msg(struct capture_conn *c, long ret, __u64 fd_dir, __u64 msg)
{
	return sock_emit(c, ret, fd_dir, msg, 0, IO_MSG);
}

/* The connection @c ends: tell user space, in the name of its last user (the context
 * may be any: softirq for a reset), and forget it. */
static __always_inline void sock_end(struct capture_conn *c, __u64 cookie)
{
	emit_close(c, (__u64)c->pid << 32 | c->pid, c->fd);
	bpf_map_delete_elem(&conns, &cookie);
}

/* The socket's cookie: once it has one (the first bpf_get_socket_cookie() makes it),
 * a load rather than a helper call. */
static __always_inline __u64 sock_cookie(const struct sock *sk)
{
	__u64 cookie = sk->__sk_common.skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((void *)sk);
}

/* A send on @sk returned: end the connection if it ended inside it (sock_state). */
static __always_inline void sock_end_deferred(struct sock *sk)
{
	__u64 cookie = sock_cookie(sk);
	struct capture_conn *c = bpf_map_lookup_elem(&conns, &cookie);

	if (c && c->closing)
		sock_end(c, cookie);
}

/* The socket's fd in syscall @nr, which moves bytes @dir: splice(fd_in, off_in, fd_out,
 * ...) sends to fd_out; every other call names it first. */
static __always_inline int sock_fd(const struct pt_regs *regs, __u64 nr, __u32 dir)
{
	return nr == NR_SPLICE && dir == CAPTURE_EGRESS ? ARG3(regs) : ARG1(regs);
}

/*
 * Every socket send and receive of the host comes here, so each helper call counts: on
 * kernels with return-stack mitigations (SRSO safe RET, retpolines) a call costs tens of
 * nanoseconds. The task's fields, the socket's cookie and the wakeup decision are loads.
 */
static __always_inline int sock_io(struct sock *sk, int ret, int flags, __u32 dir)
{
	struct task_struct *task;
	__u64 nr, fd_dir, cookie;
	struct capture_conn *c;
	struct pt_regs *regs;
	__u32 tgid;
	int fd;

	/* Loads before calls: what is not TCP (unix sockets, UDP) and reads that found
	 * nothing (a server's EAGAIN after each request) leave without one. */
	if (ret <= 0 && dir == CAPTURE_INGRESS)
		return 0;
	if (!inet_tcp(sk))
		return 0;
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	if (!traced_process((__u64)tgid << 32, task))
		return 0;
	if (ret <= 0) {
		/* A send that failed (reset by the peer, mostly) may still owe a close. */
		sock_end_deferred(sk);
		return 0;
	}
	if (dir == CAPTURE_INGRESS && (flags & CAP_MSG_PEEK)) /* the bytes will be read again */
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs || COMPAT_TASK(regs))
		return 0;
	nr = SYSCALL_NR(regs);
	fd = sock_fd(regs, nr, dir);
	cookie = sock_cookie(sk);
	c = sock_conn(sk, cookie);
	if (!c)
		return 0;
	if (c->class >= CAPTURE_CLASS_NOT_HTTP)
		goto out;
	c->pid = tgid;
	c->fd = fd;
	fd_dir = (__u64)dir << 32 | (__u32)fd;
	if (nr != NR_SENDFILE && nr != NR_SPLICE && !scratch_task(task))
		goto out;
	switch (nr) {
	case NR_READ:
	case NR_WRITE:
	case NR_RECVFROM:
	case NR_SENDTO:
		sock_emit_buf(c, ret, fd_dir, ARG2(regs));
		break;
	case NR_READV:
	case NR_WRITEV:
		sock_emit_iov(c, ret, fd_dir, ARG2(regs), ARG3(regs));
		break;
	case NR_RECVMSG:
	case NR_SENDMSG:
		sock_emit_msg(c, ret, fd_dir, ARG2(regs));
		break;
	case NR_SENDFILE:
	case NR_SPLICE:
		count_unseen(c, dir, ret);
		break;
	/* Other callers (sendmmsg, io_uring, the kernel itself) are not followed. */
	}
out:
	if (c->closing)
		sock_end(c, cookie);
	return 0;
}

/*
 * Is the current task inside a send on @c's fd? On loopback (and wherever the answer
 * comes back in the same softirq) a peer's reset to what the send transmits ends the
 * connection within the send, before the send's tracepoint: the close must wait for
 * that event, or the bytes sent would arrive after the connection's end.
 */
static __always_inline bool sending_on(const struct capture_conn *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	__u64 nr;

	if (task->tgid != c->pid)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs || COMPAT_TASK(regs))
		return false;
	nr = SYSCALL_NR(regs);
	switch (nr) {
	case NR_WRITE:
	case NR_WRITEV:
	case NR_SENDTO:
	case NR_SENDMSG:
	case NR_SENDFILE:
	case NR_SPLICE:
		return sock_fd(regs, nr, CAPTURE_EGRESS) == c->fd;
	}
	return false;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send, struct sock *sk, int ret, int flags)
{
	return sock_io(sk, ret, flags, CAPTURE_EGRESS);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv, struct sock *sk, int ret, int flags)
{
	return sock_io(sk, ret, flags, CAPTURE_INGRESS);
}

/*
 * A TCP socket changed state. SYN_SENT: connect() on it, in the connecting process.
 * SYN_RECV: a listener's new child, in softirq context (no process to filter on). The
 * first of FIN_WAIT1 (this side closed or shut down writing), LAST_ACK (closed after
 * the peer) or CLOSE (reset, or a handshake that failed) ends the connection.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct capture_conn n = {}, *c;
	__u64 cookie;

	if (!inet_tcp(sk))
		return 0;
	switch (newstate) {
	case CAP_TCP_SYN_SENT:
		if (!traced_process(bpf_get_current_pid_tgid(), NULL))
			return 0;
		n.role = CAPTURE_ROLE_CLIENT;
		break;
	case CAP_TCP_SYN_RECV:
		n.role = CAPTURE_ROLE_SERVER;
		break;
	case CAP_TCP_FIN_WAIT1:
	case CAP_TCP_LAST_ACK:
	case CAP_TCP_CLOSE:
		cookie = sock_cookie(sk);
		c = bpf_map_lookup_elem(&conns, &cookie);
		if (!c)
			return 0;
		if (sending_on(c))
			c->closing = 1; /* the send's event first, then the end */
		else
			sock_end(c, cookie);
		return 0;
	default:
		return 0;
	}
	cookie = sock_cookie(sk);
	n.conn_id = cookie;
	bpf_map_update_elem(&conns, &cookie, &n, BPF_ANY);
	return 0;
}

/* A new image: fds closed on exec vanished without close; learn the rest anew. */
SEC("tracepoint/sched/sched_process_exec")
int process_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 fresh = next_conn_id();

	bpf_map_update_elem(&gens, &tgid, &fresh, BPF_ANY);
	return 0;
}

/* A process ended: user space drops what it held for it. */
SEC("tracepoint/sched/sched_process_exit")
int process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct capture_event *e;

	if ((__u32)id != tgid)
		return 0;
	bpf_map_delete_elem(&gens, &tgid);
	if (!bpf_map_lookup_elem(&active_pids, &tgid))
		return 0;
	bpf_map_delete_elem(&active_pids, &tgid);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(0);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = CAPTURE_EV_EXIT;
	e->size = sizeof(*e);
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->fd = -1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}
