// SPDX-License-Identifier: GPL-2.0-only
/*
 * BPF feature probes. Each one loads or attaches a real program: kernel versions say
 * nothing about lockdown, config options or distribution patches, and libbpf 1.1's
 * libbpf_probe_bpf_helper() reports bpf_probe_write_user usable under lockdown, when
 * the verifier refuses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel.h"

const char *const capture_syscalls[] = {
	"connect", "accept", "accept4", "close",   "read",	  "write",
	"readv",   "writev", "sendto",  "recvfrom", "sendmsg", "recvmsg",
};
const size_t capture_syscalls_count = sizeof(capture_syscalls) / sizeof(capture_syscalls[0]);

static const char *const feature_names[FEAT__COUNT] = {
	[FEAT_RINGBUF] = "ringbuf",
	[FEAT_TRACEPOINT] = "tracepoint",
	[FEAT_UPROBE] = "uprobe",
	[FEAT_KPROBE] = "kprobe",
	[FEAT_PROBE_WRITE_USER] = "probe_write_user",
	[FEAT_RAW_SYSCALLS] = "raw_syscalls",
	[FEAT_SOCKET_TRACEPOINTS] = "socket_tracepoints",
};

const char *kernel_feature_name(enum kernel_feature feat)
{
	return feat < FEAT__COUNT ? feature_names[feat] : "?";
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ST_DW(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)
#define CALL(f) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* r0 = 0; exit */
static int load_trivial(enum bpf_prog_type type, char *log, size_t log_len)
{
	const struct bpf_insn insns[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = log_len, .log_level = 1);
	int fd;

	fd = bpf_prog_load(type, PROBE_PROG_NAME, "GPL", insns, 2, &opts);
	return fd < 0 ? -errno : fd;
}

/* First meaningful line of a verifier log, for a one-line reason. */
static void log_reason(const char *log, char *out, size_t len)
{
	const char *line = log, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		/* Skip the instruction dump ("0: (b7) r1 = 0"); keep the complaint. */
		if (!(line[0] >= '0' && line[0] <= '9')) {
			snprintf(out, len, "%.*s", (int)(nl ? nl - line : (long)strlen(line)), line);
			return;
		}
		line = nl ? nl + 1 : NULL;
	}
	snprintf(out, len, "refused by the verifier");
}

/*
 * Closing a perf event on a tracepoint or uprobe unregisters it and waits for RCU grace
 * periods under a global mutex: about 40 ms per event here, serialised, so closing the
 * 26 events the probes open would take a second. Probes park their events; release
 * hands the last references to a detached grandchild that closes them after we are
 * gone, and our own closes are then cheap (not the last reference).
 */
#define MAX_PARKED 64
static int parked[MAX_PARKED];
static size_t nparked;

static void park_fd(int fd)
{
	/* Probes may run on several threads (check overlaps the slow uprobe probe). */
	size_t slot = __atomic_fetch_add(&nparked, 1, __ATOMIC_RELAXED);

	if (slot < MAX_PARKED) {
		parked[slot] = fd;
	} else {
		__atomic_fetch_sub(&nparked, 1, __ATOMIC_RELAXED);
		close(fd);
	}
}

void kernel_probe_release(void)
{
	int gate[2] = { -1, -1 };
	pid_t child;
	size_t i;
	char c;

	if (!nparked)
		return;
	if (pipe2(gate, O_CLOEXEC) == 0) {
		child = fork();
		if (child == 0) {
			/* Detach from our parent so it never waits for the slow closes. */
			if (fork() != 0)
				_exit(0);
			close(gate[1]);
			/* Nor may a pipe reading our output wait for it. */
			for (i = 0; i < 3; i++)
				close(i);
			/* Hold our references until the parent dropped its own: ours must be last. */
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			for (i = 0; i < nparked; i++)
				close(parked[i]);
			_exit(0);
		}
		if (child > 0)
			waitpid(child, NULL, 0);
		close(gate[0]);
	}
	for (i = 0; i < nparked; i++)
		close(parked[i]);
	if (gate[1] >= 0)
		close(gate[1]);
	nparked = 0;
}

static int perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu)
{
	return syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Attach @prog_fd to an open perf event; returns 0 or -errno. */
static int perf_attach(int pfd, int prog_fd)
{
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0))
		return -errno;
	return 0;
}

static const char *tracefs_root(void)
{
	/* Same choice as libbpf: debugfs's tracing directory when it is there. */
	if (access("/sys/kernel/debug/tracing/events", F_OK) == 0)
		return "/sys/kernel/debug/tracing";
	return "/sys/kernel/tracing";
}

static int tracepoint_id(const char *category, const char *name)
{
	char path[256];
	FILE *f;
	int id = -1;

	snprintf(path, sizeof(path), "%s/events/%s/%s/id", tracefs_root(), category, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

static int pmu_type(const char *pmu)
{
	char path[128];
	FILE *f;
	int type = -1;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &type) != 1)
		type = -EINVAL;
	fclose(f);
	return type;
}

static void attach_tracepoint(const char *category, const char *name, struct probe_result *res)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr) };
	char log[4096] = "";
	int id, prog, pfd, err;

	id = tracepoint_id(category, name);
	if (id < 0) {
		snprintf(res->reason, sizeof(res->reason), "%s/%s: %s%s", category, name,
			 strerror(-id), id == -ENOENT ? " (tracefs not mounted, or no such tracepoint)" : "");
		return;
	}
	prog = load_trivial(BPF_PROG_TYPE_TRACEPOINT, log, sizeof(log));
	if (prog < 0) {
		snprintf(res->reason, sizeof(res->reason), "tracepoint program refused: %s",
			 strerror(-prog));
		return;
	}
	attr.config = id;
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	pfd = perf_event_open(&attr, -1, 0);
	if (pfd < 0) {
		snprintf(res->reason, sizeof(res->reason), "perf_event_open(%s/%s): %s", category,
			 name, strerror(errno));
		close(prog);
		return;
	}
	err = perf_attach(pfd, prog);
	if (err)
		snprintf(res->reason, sizeof(res->reason), "attach to %s/%s: %s", category, name,
			 strerror(-err));
	else
		res->ok = true;
	park_fd(pfd);
	close(prog);
}

/* What the capture's programs are: BTF-typed raw tracepoint programs on @tps (of
 * @category, for the messages). They need kernel BTF, not tracefs. */
static void probe_btf_tracepoints(struct probe_result *res, const char *category,
				  const char *const *tps, size_t ntps)
{
	const struct bpf_insn insns[] = { MOV64_IMM(BPF_REG_0, 0), EXIT() };
	char log[4096];
	int btf_id, prog, fd;
	size_t i;

	for (i = 0; i < ntps; i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
			    .log_level = 1, .expected_attach_type = BPF_TRACE_RAW_TP);

		log[0] = '\0';
		btf_id = kernel_raw_tp_btf_id(tps[i]);
		if (btf_id < 0) {
			snprintf(res->reason, sizeof(res->reason), "%s/%s not in the kernel BTF: %s",
				 category, tps[i], strerror(-btf_id));
			return;
		}
		opts.attach_btf_id = btf_id;
		prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, PROBE_PROG_NAME, "GPL", insns, 2, &opts);
		if (prog < 0) {
			int err = errno;

			if (log[0])
				log_reason(log, res->reason, sizeof(res->reason));
			else
				snprintf(res->reason, sizeof(res->reason),
					 "raw tracepoint program for %s/%s refused: %s", category,
					 tps[i], strerror(err));
			return;
		}
		fd = bpf_raw_tracepoint_open(NULL, prog);
		if (fd < 0) {
			snprintf(res->reason, sizeof(res->reason), "attach to %s/%s: %s", category,
				 tps[i], strerror(errno));
			close(prog);
			return;
		}
		park_fd(fd);
		close(prog);
	}
	res->ok = true;
}

static void probe_ringbuf(struct probe_result *res)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, PROBE_PROG_NAME, 0, 0, 4096, NULL);

	if (fd < 0) {
		snprintf(res->reason, sizeof(res->reason), "ring buffer map refused: %s",
			 strerror(errno));
		return;
	}
	close(fd);
	res->ok = true;
}

/* The uprobe probe attaches here; noinline and used so it has a real address. */
__attribute__((noinline, used)) int ehttp_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

/* File offset of @addr in this executable, from /proc/self/maps. */
static long self_file_offset(const void *addr, char *path, size_t path_len)
{
	unsigned long start, end, pgoff, a = (unsigned long)addr;
	char line[512], perms[8], file[256];
	long off = -ENOENT;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		file[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &start, &end, perms, &pgoff, file) < 4)
			continue;
		if (a >= start && a < end && perms[2] == 'x' && file[0] == '/') {
			off = a - start + pgoff;
			snprintf(path, path_len, "%s", file);
			break;
		}
	}
	fclose(f);
	return off;
}

static void probe_uprobe(struct probe_result *res)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	char log[4096] = "", path[256];
	int type, prog, pfd, err;
	long off;

	type = pmu_type("uprobe");
	if (type < 0) {
		snprintf(res->reason, sizeof(res->reason),
			 "no uprobe PMU in /sys/bus/event_source (kernel without CONFIG_UPROBE_EVENTS?)");
		return;
	}
	off = self_file_offset((const void *)ehttp_uprobe_target, path, sizeof(path));
	if (off < 0) {
		snprintf(res->reason, sizeof(res->reason), "cannot locate own code: %s",
			 strerror((int)-off));
		return;
	}
	prog = load_trivial(BPF_PROG_TYPE_KPROBE, log, sizeof(log));
	if (prog < 0) {
		snprintf(res->reason, sizeof(res->reason), "uprobe program refused: %s",
			 strerror(-prog));
		return;
	}
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)path;
	attr.config2 = off;
	pfd = perf_event_open(&attr, getpid(), -1);
	if (pfd < 0) {
		snprintf(res->reason, sizeof(res->reason), "uprobe perf_event_open: %s",
			 strerror(errno));
		close(prog);
		return;
	}
	err = perf_attach(pfd, prog);
	if (err)
		snprintf(res->reason, sizeof(res->reason), "uprobe attach: %s", strerror(-err));
	else
		res->ok = true;
	ehttp_uprobe_target(1);
	park_fd(pfd);
	close(prog);
}

static void probe_kprobe(struct probe_result *res)
{
#if defined(__x86_64__)
	static const char symbol[] = "__x64_sys_getpid";
#elif defined(__aarch64__)
	static const char symbol[] = "__arm64_sys_getpid";
#else
	static const char symbol[] = "sys_getpid";
#endif
	struct perf_event_attr attr = { .size = sizeof(attr) };
	char log[4096] = "";
	int type, prog, pfd, err;

	type = pmu_type("kprobe");
	if (type < 0) {
		snprintf(res->reason, sizeof(res->reason),
			 "no kprobe PMU: kernel built without CONFIG_KPROBES (ehttp does not need it)");
		return;
	}
	prog = load_trivial(BPF_PROG_TYPE_KPROBE, log, sizeof(log));
	if (prog < 0) {
		snprintf(res->reason, sizeof(res->reason), "kprobe program refused: %s",
			 strerror(-prog));
		return;
	}
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)symbol;
	pfd = perf_event_open(&attr, -1, 0);
	if (pfd < 0) {
		snprintf(res->reason, sizeof(res->reason), "kprobe on %s: %s", symbol,
			 strerror(errno));
		close(prog);
		return;
	}
	err = perf_attach(pfd, prog);
	if (err)
		snprintf(res->reason, sizeof(res->reason), "kprobe attach: %s", strerror(-err));
	else
		res->ok = true;
	park_fd(pfd);
	close(prog);
}

/*
 * A uprobe-type program (BPF_PROG_TYPE_KPROBE) that calls bpf_probe_write_user: the
 * exact combination Go traceparent propagation loads. Under lockdown the verifier has
 * no such helper for tracing programs.
 */
static void probe_write_user(struct probe_result *res)
{
	const struct bpf_insn insns[] = {
		ST_DW(BPF_REG_10, -8, 0),
		MOV64_IMM(BPF_REG_1, 0),
		MOV64_REG(BPF_REG_2, BPF_REG_10),
		ADD64_IMM(BPF_REG_2, -8),
		MOV64_IMM(BPF_REG_3, 8),
		CALL(BPF_FUNC_probe_write_user),
		MOV64_IMM(BPF_REG_0, 0),
		EXIT(),
	};
	static char log[16384];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	int fd;

	log[0] = '\0';
	fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "ehttp_pwu", "GPL", insns,
			   sizeof(insns) / sizeof(insns[0]), &opts);
	if (fd < 0) {
		int err = errno;

		if (log[0])
			log_reason(log, res->reason, sizeof(res->reason));
		else
			snprintf(res->reason, sizeof(res->reason), "program load failed: %s",
				 strerror(err));
		return;
	}
	close(fd);
	res->ok = true;
}

const struct probe_result *kernel_probe(enum kernel_feature feat)
{
	static struct probe_result results[FEAT__COUNT];
	static bool done[FEAT__COUNT];
	struct probe_result *res;

	if (feat >= FEAT__COUNT)
		return NULL;
	res = &results[feat];
	if (done[feat])
		return res;
	memset(res, 0, sizeof(*res));
	switch (feat) {
	case FEAT_RINGBUF: probe_ringbuf(res); break;
	case FEAT_TRACEPOINT: attach_tracepoint("syscalls", "sys_enter_getpid", res); break;
	case FEAT_UPROBE: probe_uprobe(res); break;
	case FEAT_KPROBE: probe_kprobe(res); break;
	case FEAT_PROBE_WRITE_USER: probe_write_user(res); break;
	case FEAT_RAW_SYSCALLS: {
		static const char *const tps[] = { "sys_exit" };

		probe_btf_tracepoints(res, "raw_syscalls", tps, 1);
		break;
	}
	case FEAT_SOCKET_TRACEPOINTS: {
		static const char *const tps[] = { "sock_send_length", "sock_recv_length",
						   "inet_sock_set_state" };

		probe_btf_tracepoints(res, "sock", tps, 3);
		break;
	}
	default: break;
	}
	done[feat] = true;
	return res;
}

const struct probe_result *kernel_probe_syscall(const char *name, bool exit)
{
	static struct probe_result cache[2][16];
	static bool done[2][16];
	static struct probe_result other;
	struct probe_result *res = &other;
	char tp[64];
	size_t i;

	for (i = 0; i < capture_syscalls_count && i < 16; i++) {
		if (strcmp(capture_syscalls[i], name) == 0) {
			if (done[exit][i])
				return &cache[exit][i];
			res = &cache[exit][i];
			done[exit][i] = true;
			break;
		}
	}
	memset(res, 0, sizeof(*res));
	snprintf(tp, sizeof(tp), "sys_%s_%s", exit ? "exit" : "enter", name);
	attach_tracepoint("syscalls", tp, res);
	return res;
}
