/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Other BPF programs on the tracepoints a capture hooks. Every socket call on the host
 * (or every syscall, for sys_exit) runs each of them, so two captures cost twice:
 * `ehttp check` lists them and attach warns about them.
 *
 * Found through BPF links of the raw tracepoint kind, which is how tp_btf and raw_tp
 * programs are attached (ehttp's own, libbpf tools'); programs attached to a tracepoint
 * through a perf event without a link (bpftrace's tracepoint probes) are not seen.
 */
#ifndef EHTTP_HOOK_USERS_H
#define EHTTP_HOOK_USERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hook_user {
	char tracepoint[64];
	uint32_t link_id;
	uint32_t prog_id;
	char prog_name[16];
	int32_t pid;  /* a process holding the link; 0 when none does (pinned, or gone) */
	char comm[16];
};

/*
 * Up to @max links on the capture's tracepoints (sock_send_length, sock_recv_length,
 * inet_sock_set_state, sys_exit, sys_enter), those held by @self left out, into @out;
 * @total gets how many there are. Returns how many were stored, or a negative errno
 * (-EPERM without privileges).
 */
int hook_users_find(struct hook_user *out, size_t max, pid_t self, size_t *total);

#endif
