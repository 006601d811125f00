/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connections: from a process's fd to its TCP socket and endpoints, the conns map that
 * follows them (keyed by tgid << 32 | fd, or by socket cookie), connection ids unique
 * within a capture, and process-image generations. Needs process.bpf.h's filters
 * first; --port is applied here.
 */
#ifndef EHTTP_CONN_BPF_H
#define EHTTP_CONN_BPF_H

#define CAP_AF_INET 2
#define CAP_AF_INET6 10
#define CAP_SOCK_STREAM 1
#define CAP_PROTO_TCP 6
#define CAP_S_IFMT 00170000
#define CAP_S_IFSOCK 0140000

const volatile __u16 targ_port = 0;

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} conn_seq SEC(".maps");

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

#endif
