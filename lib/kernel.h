/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel facts: release, BTF, lockdown, privileges, pseudo-filesystems and BPF feature
 * probes. `ehttp check` reports them and the loader gates on them, so the two always agree.
 * Every file read goes through struct kernel_paths so tests can feed fixture files.
 */
#ifndef EHTTP_KERNEL_H
#define EHTTP_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kernel_version {
	unsigned int major, minor, patch;
};

/* "6.18.44-fc-v782" → 6.18.44. Returns 0, or -EINVAL when there is no leading x.y. */
int kernel_parse_release(const char *release, struct kernel_version *out);

enum lockdown_mode {
	LOCKDOWN_UNKNOWN = 0, /* could not be read, or unparseable: never taken as "none" */
	LOCKDOWN_NONE,
	LOCKDOWN_INTEGRITY,
	LOCKDOWN_CONFIDENTIALITY,
};

/* The securityfs file reads "none [integrity] confidentiality": the bracketed word wins. */
enum lockdown_mode kernel_parse_lockdown(const char *text);
const char *lockdown_name(enum lockdown_mode mode);

struct kernel_paths {
	const char *btf;      /* /sys/kernel/btf/vmlinux */
	const char *lockdown; /* /sys/kernel/security/lockdown */
	const char *mounts;   /* /proc/self/mounts */
	const char *status;   /* /proc/self/status, for CapEff */
};
extern const struct kernel_paths kernel_default_paths;

/* Pseudo-filesystems ehttp cares about. */
enum kernel_fs {
	KFS_TRACEFS,
	KFS_DEBUGFS,
	KFS_SECURITYFS,
	KFS_BPFFS,
	KFS__COUNT,
};

struct kernel_fs_state {
	bool mounted;
	bool mounted_by_ehttp; /* we mounted it during this run */
	int error;             /* errno of a failed mount attempt, 0 if none was tried */
	char path[256];        /* where it is mounted, or where ehttp mounts it */
};

const char *kernel_fs_name(enum kernel_fs fs);
/* Fill @st from the mount table (no side effects). */
void kernel_fs_query(const struct kernel_paths *p, enum kernel_fs fs, struct kernel_fs_state *st);
/* Like query, and mount the filesystem at its usual place when it is missing and we may. */
int kernel_fs_ensure(const struct kernel_paths *p, enum kernel_fs fs, struct kernel_fs_state *st);

struct kernel_privileges {
	uid_t euid;
	bool caps_known; /* CapEff was readable */
	bool cap_sys_admin, cap_bpf, cap_perfmon;
};

int kernel_read_privileges(const struct kernel_paths *p, struct kernel_privileges *out);
/* Parse the CapEff line of a /proc/PID/status text. */
int kernel_parse_capeff(const char *status_text, unsigned long long *capeff);
/* Loading tracing programs needs CAP_SYS_ADMIN, or CAP_BPF together with CAP_PERFMON. */
bool kernel_may_trace(const struct kernel_privileges *priv);

struct btf;
/* The running kernel's BTF, parsed once per process (NULL with *@err set when not). */
const struct btf *kernel_vmlinux_btf(long *err);
/* The BTF id libbpf attaches a raw tracepoint program on @tp with, or a negative errno
 * (-ENOENT when this kernel has no such tracepoint). */
int kernel_raw_tp_btf_id(const char *tp);

/* Is vmlinux BTF present and parseable? @why gets the reason when not. */
bool kernel_btf_usable(const struct kernel_paths *p, char *why, size_t why_len);

/*
 * Lockdown mode, mounting securityfs first when it is missing and we are root.
 * @why explains UNKNOWN (no LSM, securityfs not mountable, unreadable file...).
 */
enum lockdown_mode kernel_read_lockdown(const struct kernel_paths *p, struct kernel_fs_state *sfs,
					char *why, size_t why_len);

/* ---- feature probes (kernel_probe.c): each loads or attaches a real program ---- */

/* The name of every program and map the probes load. */
#define PROBE_PROG_NAME "ehttp_probe"

enum kernel_feature {
	FEAT_RINGBUF,          /* BPF_MAP_TYPE_RINGBUF can be created */
	FEAT_TRACEPOINT,       /* a tracepoint program loads and attaches */
	FEAT_UPROBE,           /* a uprobe attaches to a function of this executable */
	FEAT_KPROBE,           /* a kprobe attaches (this tool does not need it) */
	FEAT_PROBE_WRITE_USER, /* the verifier accepts bpf_probe_write_user */
	FEAT_RAW_SYSCALLS,     /* a BTF raw tracepoint program attaches to raw_syscalls sys_exit */
	FEAT_SOCKET_TRACEPOINTS, /* ...and to sock_send_length, sock_recv_length and
				  * inet_sock_set_state (Linux >= 6.3) */
	FEAT__COUNT,
};

struct probe_result {
	bool ok;
	char reason[256]; /* why not, or a detail when ok */
};

const char *kernel_feature_name(enum kernel_feature feat);
/* Probes run once per process; later calls return the cached answer. */
const struct probe_result *kernel_probe(enum kernel_feature feat);

/* Close the perf events the probes left open (in parallel: each close waits for RCU). */
void kernel_probe_release(void);

/* The syscalls HTTP capture follows. It sees them through the socket tracepoints
 * (FEAT_SOCKET_TRACEPOINTS) or the raw_syscalls exit tracepoint (FEAT_RAW_SYSCALLS);
 * their own tracepoints are probed for the report. */
extern const char *const capture_syscalls[];
extern const size_t capture_syscalls_count;
/* Attach a trivial program to syscalls/sys_{enter,exit}_@name. */
const struct probe_result *kernel_probe_syscall(const char *name, bool exit);

#endif
