/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which processes a BPF object traces: never ehttp itself; with -p only those pids,
 * with --comm only processes of that name, with --cgroup only processes in that cgroup
 * or below it. Configured through rodata before load (and the cgroup, a map, after),
 * so every object including this gets the same knobs under the same names.
 */
#ifndef EHTTP_PROCESS_BPF_H
#define EHTTP_PROCESS_BPF_H

const volatile __u32 self_tgid = 0;      /* ehttp itself: never traced */
const volatile __u32 targ_npids = 0;
const volatile __u32 targ_pids[CAPTURE_MAX_PIDS] = {};
const volatile bool filter_comm = false;
const volatile char targ_comm[16] = {};
const volatile bool filter_cgroup = false;

/* --cgroup's cgroup, at index 0 (lib/cgroup.c). The kernel's test covers the cgroups
 * below it too, and processes that move in after ehttp started. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} targ_cgroup SEC(".maps");

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
 * for process_comm(). Of the current task only: the cgroup test is the current one's. */
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
	/* 1: under it; 0: not; negative: no cgroup in the map, which selects nothing */
	if (filter_cgroup && bpf_current_task_under_cgroup(&targ_cgroup, 0) != 1)
		return false;
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

#endif
