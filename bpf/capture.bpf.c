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

char LICENSE[] SEC("license") = "GPL";

#define CAP_AF_INET 2
#define CAP_AF_INET6 10
#define CAP_SOCK_STREAM 1
#define CAP_PROTO_TCP 6
#define CAP_S_IFMT 00170000
#define CAP_S_IFSOCK 0140000
#define CAP_EINPROGRESS 115
#define CAP_MSG_PEEK 2
#define CAP_EBADF 9

/* ---- configuration, set by user space before load ---------------------------------- */
const volatile __u32 self_tgid = 0;      /* ehttp itself: never traced */
const volatile __u32 snaplen = CAPTURE_SNAPLEN_DEFAULT;
const volatile __u32 targ_npids = 0;
const volatile __u32 targ_pids[CAPTURE_MAX_PIDS] = {};
const volatile bool filter_comm = false;
const volatile char targ_comm[16] = {};
const volatile __u16 targ_port = 0;
/* Wake the reader only once this much is waiting; it polls on a short timer anyway,
 * and a wakeup per event would cost more than the event under load. */
const volatile __u64 wakeup_bytes = 1 << 16;

/* ---- maps ---------------------------------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space sets the size */
} events SEC(".maps");

/* Connections followed, key tgid << 32 | fd. close and dup2/dup3 forget them; entries
 * of an image that exec replaced, or of a process that exited, are told apart by their
 * generation; LRU, so none can leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct capture_conn);
} conns SEC(".maps");

/* fds known not to matter (files, pipes, UDP, filtered-out ports) → the generation
 * they were judged in. Apart from conns so that a host's file reads cannot evict its
 * connections. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} ignored SEC(".maps");

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
	__s32 fd;
	__u8 dir;    /* enum capture_dir */
};

/* One event under construction per CPU: header, then room for two snap lengths so
 * that a masked offset plus a bounded length provably stays inside. An array indexed
 * by CPU rather than a per-CPU array: per-CPU values are capped at 32 KiB. */
struct scratch {
	struct capture_event hdr;
	__u8 data[2 * CAPTURE_SNAPLEN_MAX];
	__u64 unwoken; /* bytes this CPU sent to the ring since it last woke the reader */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* user space sets the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture_counters);
} counters SEC(".maps");

/* Each process image's generation, unique within the capture: assigned when the
 * process is first seen, renewed at exec (close-on-exec fds vanish without close),
 * dropped at exit (the pid may come back as another process). Checking it costs one
 * lookup where checking the fd table costs five reads of kernel memory per syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} gens SEC(".maps");

/* Processes that sent events: only their exits concern user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} active_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_seq SEC(".maps");

/* ---- filters ------------------------------------------------------------------------- */

/*
 * The name of the current process, as ps and pgrep show it: its main thread's, not the
 * calling thread's, which may have named itself (Java's pools, servers that call
 * prctl(PR_SET_NAME) per worker). @task: the current task as a BTF pointer, to read it
 * with loads (socket hooks); or NULL, where the hook has none (the syscall hooks also
 * run before Linux 5.11, which has no bpf_get_current_task_btf()): then, by @id
 * (bpf_get_current_pid_tgid()), the main thread asks for its own name and other threads
 * read their leader's.
 */
static __always_inline void process_comm(char *dst, __u64 id, const struct task_struct *task)
{
	struct task_struct *leader;

	if (task) {
		__builtin_memcpy(dst, task->group_leader->comm, 16);
		return;
	}
	if ((__u32)id == id >> 32) {
		bpf_get_current_comm(dst, 16);
		return;
	}
	leader = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), group_leader);
	if (bpf_core_read(dst, 16, &leader->comm))
		bpf_get_current_comm(dst, 16);
}

/* @id: bpf_get_current_pid_tgid() (only its tgid half when @task is given); @task as
 * for process_comm(). */
static __always_inline bool traced_process(__u64 id, const struct task_struct *task)
{
	__u32 tgid = id >> 32;

	if (tgid == self_tgid || tgid == 0)
		return false;
	if (targ_npids) {
		bool found = false;

		for (int i = 0; i < CAPTURE_MAX_PIDS; i++) {
			if (i >= targ_npids)
				break;
			if (targ_pids[i] == tgid) {
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	if (filter_comm) {
		char comm[16];

		process_comm(comm, id, task);
		for (int i = 0; i < 16; i++) {
			if (comm[i] != targ_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

/* ---- sockets from the file table ----------------------------------------------------- */

static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;

	if (fd < 0)
		return NULL;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (!fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

static __always_inline void read_endpoint(struct sock *sk, __u16 family, struct capture_conn *c)
{
	c->local.family = c->remote.family = family;
	c->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->remote.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == CAP_AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)c->local.addr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)c->remote.addr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)c->local.addr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)c->remote.addr, sk, __sk_common.skc_v6_daddr);
	}
}

/* Is @file an IPv4/IPv6 TCP socket? Fill the 4-tuple when it is. */
static __always_inline bool tcp_socket(struct file *file, struct capture_conn *c)
{
	struct socket *sock;
	struct sock *sk;
	__u16 family, proto;
	umode_t mode;

	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & CAP_S_IFMT) != CAP_S_IFSOCK)
		return false;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != CAP_SOCK_STREAM)
		return false;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return false;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != CAP_AF_INET && family != CAP_AF_INET6)
		return false;
	/* A bitfield before 5.6, a u16 since: the probed read handles both layouts. */
	proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (proto != CAP_PROTO_TCP)
		return false;
	read_endpoint(sk, family, c);
	return true;
}

static __always_inline __u64 next_conn_id(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&conn_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	/* CPU in the top bits, a per-CPU sequence below: unique without atomics. */
	return ((__u64)bpf_get_smp_processor_id() + 1) << 44 | (*seq & ((1ull << 44) - 1));
}

static __always_inline __u64 conn_key(__u32 tgid, int fd)
{
	return (__u64)tgid << 32 | (__u32)fd;
}

static __always_inline __u64 proc_gen(__u32 tgid)
{
	__u64 *gen = bpf_map_lookup_elem(&gens, &tgid), fresh;

	if (gen)
		return *gen;
	fresh = next_conn_id();
	bpf_map_update_elem(&gens, &tgid, &fresh, BPF_NOEXIST);
	gen = bpf_map_lookup_elem(&gens, &tgid);
	return gen ? *gen : fresh;
}

/*
 * The state for @fd of the current process: the entry learned earlier in this process
 * image, or learned now from the fd table when there is none or @fresh (accept/connect
 * just made it). NULL when the fd is not a TCP connection the filters let through.
 */
static __always_inline struct capture_conn *conn_get(__u32 tgid, int fd, __u8 role, bool fresh)
{
	struct capture_conn *c, n = {};
	__u64 key = conn_key(tgid, fd), gen = proc_gen(tgid), *ig;
	struct file *file;

	c = bpf_map_lookup_elem(&conns, &key);
	if (c && c->gen == gen && !fresh)
		return c;
	ig = bpf_map_lookup_elem(&ignored, &key);
	if (ig && *ig == gen && !fresh)
		return NULL;
	file = fd_file(fd);
	if (!file)
		return NULL;
	n.gen = gen;
	if (!tcp_socket(file, &n) ||
	    (targ_port && n.local.port != targ_port && n.remote.port != targ_port)) {
		bpf_map_update_elem(&ignored, &key, &gen, BPF_ANY);
		if (c)
			bpf_map_delete_elem(&conns, &key);
		return NULL;
	}
	if (ig)
		bpf_map_delete_elem(&ignored, &key);
	n.role = role;
	n.file = (__u64)file;
	n.conn_id = next_conn_id();
	bpf_map_update_elem(&conns, &key, &n, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &key);
}

/* ---- classification: mirrors httpconn_classify() ------------------------------------- */

/* Eight bytes as a little-endian word, so a prefix compares in one masked operation. */
#define W8(a, b, c, d, e, f, g, h)                                                      \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |            \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/* What a connection's first message may start with: the methods httpconn_classify()
 * accepts, each with its space, and the status line's "HTTP/1.". */
static const struct {
	__u64 word;
	__u32 len;
} start_tokens[] = {
	{ W8('G', 'E', 'T', ' ', 0, 0, 0, 0), 4 },
	{ W8('H', 'E', 'A', 'D', ' ', 0, 0, 0), 5 },
	{ W8('P', 'O', 'S', 'T', ' ', 0, 0, 0), 5 },
	{ W8('P', 'U', 'T', ' ', 0, 0, 0, 0), 4 },
	{ W8('D', 'E', 'L', 'E', 'T', 'E', ' ', 0), 7 },
	{ W8('C', 'O', 'N', 'N', 'E', 'C', 'T', ' '), 8 },
	{ W8('O', 'P', 'T', 'I', 'O', 'N', 'S', ' '), 8 },
	{ W8('T', 'R', 'A', 'C', 'E', ' ', 0, 0), 6 },
	{ W8('P', 'A', 'T', 'C', 'H', ' ', 0, 0), 6 },
	{ W8('H', 'T', 'T', 'P', '/', '1', '.', 0), 7 },
};

static __always_inline __u64 low_bytes_mask(__u32 n)
{
	return n >= 8 ? ~0ull : (1ull << (8 * n)) - 1;
}

/* HTTP when the bytes start with a token, UNKNOWN while they are a proper prefix of
 * one (too short to say), NOT_HTTP otherwise. Mirrors httpconn_classify(). */
static __always_inline __u8 classify(const __u8 *data, __u32 len)
{
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
		if (len >= n)
			return CAPTURE_CLASS_HTTP;
		verdict = CAPTURE_CLASS_UNKNOWN;
	}
	return verdict;
}

/* ---- events --------------------------------------------------------------------------- */

static __always_inline void count_drop(__u64 bytes)
{
	__u32 zero = 0;
	struct capture_counters *cnt = bpf_map_lookup_elem(&counters, &zero);

	if (cnt) {
		cnt->dropped++;
		cnt->dropped_bytes += bytes;
	}
}

/* For the rare events (close, exit): wake the reader when enough is waiting. */
static __always_inline __u64 wakeup_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

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

/* @task_filled: the socket hooks put the ids and name of the task in the header
 * already (scratch_task()); elsewhere they come from @id and process_comm(). */
static __always_inline void fill_header(struct capture_event *e, __u32 type, __u64 id, int fd,
					const struct capture_conn *c, const bool task_filled)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	if (!task_filled) {
		e->pid = id >> 32;
		e->tid = (__u32)id;
		process_comm(e->comm, id, NULL);
	}
	e->fd = fd;
	e->conn_id = c->conn_id;
	e->role = c->role;
	e->class = c->class;
	e->local = c->local;
	e->remote = c->remote;
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
	c->unseen[dir & 1] += ret;
	c->unseen_ts = bpf_ktime_get_ns();
}

/* @kind is a constant at each inlined call, so each copy is verified with its own copy
 * path only. @task_filled as for fill_header(). */
static __always_inline void emit_data(__u64 id, struct capture_conn *c, const struct io_args *a,
				      __u64 ret, const __u8 kind, const bool task_filled)
{
	__u32 tgid, cpu = bpf_get_smp_processor_id();
	struct scratch *sc;
	__u32 total = 0, tail_len = 0, size;
	__u64 len64;
	__u8 class;

	if (kind == IO_UNSEEN) {
		count_unseen(c, a->dir, ret);
		return;
	}
	sc = bpf_map_lookup_elem(&scratch, &cpu);
	if (!sc)
		return;

	if (kind == IO_BUF && ret > snaplen) {
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
	if (total > CAPTURE_SNAPLEN_MAX)
		total = CAPTURE_SNAPLEN_MAX;

	fill_header(&sc->hdr, CAPTURE_EV_DATA, id, a->fd, c, task_filled);
	tgid = sc->hdr.pid;
	sc->hdr.len = ret;
	sc->hdr.dir = a->dir;
	sc->hdr.flags = 0;
	sc->hdr.tail = tail_len;
	sc->hdr.gap[0] = c->gap[0];
	sc->hdr.gap[1] = c->gap[1];
	sc->hdr.unseen[0] = c->unseen[0];
	sc->hdr.unseen[1] = c->unseen[1];
	sc->hdr.unseen_ts = c->unseen_ts;
	/* Numbered before it goes: user space trusts the map's totals only when it has
	 * taken every event numbered so far. */
	sc->hdr.seq = ++c->seq;

	if (c->class == CAPTURE_CLASS_UNKNOWN && total) {
		class = classify(sc->data, total - tail_len);
		if (class == CAPTURE_CLASS_NOT_HTTP && c->role == CAPTURE_ROLE_UNKNOWN &&
		    ++c->tries < CAPTURE_MIDSTREAM_TRIES)
			class = CAPTURE_CLASS_UNKNOWN; /* mid-body, perhaps: look at the next one */
		if (class != CAPTURE_CLASS_UNKNOWN) {
			c->class = class;
			sc->hdr.flags |= CAPTURE_DF_CLASSIFY;
		}
		sc->hdr.class = class;
	}

	sc->hdr.captured = total;
	/* The mask is a no-op for the value (total <= CAPTURE_SNAPLEN_MAX) that gives the
	 * verifier its bound; the barrier keeps the compiler from dropping it as such. */
	len64 = total;
	barrier_var(len64);
	size = sizeof(sc->hdr) + (len64 & (2 * CAPTURE_SNAPLEN_MAX - 1));
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
	struct io_args a = { .ptr = ptr, .count = count, .fd = fd, .dir = dir };

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

/* The state of the connection @sk (cookie @cookie), learned now if it is new. */
static __always_inline struct capture_conn *sock_conn(const struct sock *sk, __u64 cookie)
{
	struct capture_conn *c = bpf_map_lookup_elem(&conns, &cookie), n = {};

	if (c) {
		if (!c->local.family) /* made at the handshake, before the port was bound */
			sock_endpoints(sk, c);
		return c;
	}
	n.conn_id = cookie;
	sock_endpoints(sk, &n);
	bpf_map_update_elem(&conns, &cookie, &n, BPF_NOEXIST);
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
	struct io_args a = { .ptr = ptr, .count = count, .fd = (__s32)fd_dir, .dir = fd_dir >> 32 };

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
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->fd = -1;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}
