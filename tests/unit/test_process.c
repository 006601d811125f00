// SPDX-License-Identifier: GPL-2.0-only
/* Process records: read once from /proc and kept, against what /proc says of processes
 * this test starts itself; container ids from the cgroup paths runtimes make. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "process.h"

static const char id[] = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

static const char *container(const char *fmt)
{
	static char out[PROCESS_CONTAINER_ID_LEN + 1];
	char cg[512];

	snprintf(cg, sizeof(cg), fmt, id);
	process_container_id(cg, out);
	return out;
}

Test(process, container_ids_of_the_runtimes)
{
	cr_expect_str_eq(container("0::/system.slice/docker-%s.scope"), id, "docker, systemd driver");
	cr_expect_str_eq(container("12:pids:/docker/%s\n11:memory:/docker/%s"), id, "docker, v1");
	cr_expect_str_eq(container("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/"
				   "cri-containerd-%s.scope"), id, "containerd under kubernetes");
	cr_expect_str_eq(container("0::/machine.slice/libpod-%s.scope/container"), id, "podman");
	cr_expect_str_eq(container("0::/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/%s"), id,
			 "the pod's uuid is not the container");
	cr_expect_str_eq(container("0::/user.slice/user-0.slice/session-3.scope"), "", "no container");
	cr_expect_str_eq(container("0::/x/%sff"), "", "65 hex digits are no id");
}

Test(process, read_once_and_kept_after_exit)
{
	char exe[4096], want_cmdline[] = "sleep\0" "30";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const struct process_info *p;
	pid_t child;

	cr_assert_gt(n, 0);
	exe[n] = '\0';
	process_cache_clear();
	p = process_lookup(getpid(), "ignored");
	cr_assert_not_null(p);
	cr_expect_str_eq(p->exe, exe, "exe as /proc/self/exe says");
	cr_expect(!p->gone);

	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	/* until the exec shows */
	for (int i = 0; i < 200; i++) {
		char path[64], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/comm", child);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strcmp(comm, "sleep\n")) {
			fclose(f);
			break;
		}
		if (f)
			fclose(f);
		usleep(10000);
	}
	p = process_lookup(child, "x");
	cr_assert_not_null(p);
	cr_expect_str_eq(p->comm, "sleep");
	cr_expect_eq(p->cmdline_len, sizeof(want_cmdline) - 1);
	cr_expect_eq(memcmp(p->cmdline, want_cmdline, sizeof(want_cmdline) - 1), 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	process_exited(child);
	p = process_lookup(child, "x");
	cr_assert_not_null(p, "what was known stays after the exit");
	cr_expect_str_eq(p->comm, "sleep");
	cr_expect(!p->gone);

	/* Never seen alive: only the span's comm, or nothing at all. */
	process_cache_clear();
	cr_expect_null(process_lookup(child, NULL));
	p = process_lookup(child, "late");
	cr_assert_not_null(p);
	cr_expect(p->gone);
	cr_expect_str_eq(p->comm, "late");
	process_cache_clear();
}
