// SPDX-License-Identifier: GPL-2.0-only
/* Other BPF programs on a capture's tracepoints, and the processes holding them. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "hook_users.h"
#include "kernel.h"

static const char *const capture_tracepoints[] = {
	"sock_send_length", "sock_recv_length", "inet_sock_set_state", "sys_exit", "sys_enter",
};

static bool is_capture_tracepoint(const char *name)
{
	for (size_t i = 0; i < sizeof(capture_tracepoints) / sizeof(capture_tracepoints[0]); i++)
		if (!strcmp(name, capture_tracepoints[i]))
			return true;
	return false;
}

/* The raw tracepoint link @id is on: false when it is another kind of link, or gone. */
static bool link_tracepoint(uint32_t id, struct hook_user *u)
{
	struct bpf_link_info info;
	struct bpf_prog_info prog;
	uint32_t len = sizeof(info);
	int fd, prog_fd;

	fd = bpf_link_get_fd_by_id(id);
	if (fd < 0)
		return false;
	memset(&info, 0, sizeof(info));
	memset(u, 0, sizeof(*u));
	info.raw_tracepoint.tp_name = (uint64_t)(uintptr_t)u->tracepoint;
	info.raw_tracepoint.tp_name_len = sizeof(u->tracepoint);
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.type != BPF_LINK_TYPE_RAW_TRACEPOINT) {
		close(fd);
		return false;
	}
	close(fd);
	u->tracepoint[sizeof(u->tracepoint) - 1] = '\0';
	u->link_id = id;
	u->prog_id = info.prog_id;
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	if (prog_fd >= 0) {
		memset(&prog, 0, sizeof(prog));
		len = sizeof(prog);
		if (!bpf_obj_get_info_by_fd(prog_fd, &prog, &len))
			memcpy(u->prog_name, prog.name, sizeof(u->prog_name) - 1);
		close(prog_fd);
	}
	return true;
}

/* The link id in /proc/PID/fdinfo/FD (the fd @dirfd/@name), 0 when it is no link. */
static uint32_t fdinfo_link_id(int dirfd, const char *name)
{
	char buf[1024], *p;
	ssize_t n;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nlink_id:");
	return p ? (uint32_t)strtoul(p + 9, NULL, 10) : 0;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	comm[0] = '\0';
	if (!f)
		return;
	if (fgets(comm, (int)len, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* Which processes hold the links in @v: one pass over every process's fds. Links
 * held by @self are marked with pid -1 for the caller to drop. */
static void find_holders(struct hook_user *v, size_t n, pid_t self)
{
	DIR *proc = opendir("/proc");
	struct dirent *pd;

	if (!proc)
		return;
	while ((pd = readdir(proc))) {
		char path[64];
		struct dirent *fde;
		DIR *fds;
		pid_t pid;

		if (!isdigit((unsigned char)pd->d_name[0]))
			continue;
		pid = (pid_t)atoi(pd->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fde = readdir(fds))) {
			uint32_t id;

			if (!isdigit((unsigned char)fde->d_name[0]))
				continue;
			id = fdinfo_link_id(dirfd(fds), fde->d_name);
			for (size_t i = 0; id && i < n; i++) {
				if (v[i].link_id != id || v[i].pid)
					continue;
				v[i].pid = pid == self ? -1 : pid;
				if (pid != self)
					read_comm(pid, v[i].comm, sizeof(v[i].comm));
			}
		}
		closedir(fds);
	}
	closedir(proc);
}

int hook_users_find(struct hook_user *out, size_t max, pid_t self, size_t *total)
{
	struct hook_user *v = NULL, u;
	size_t n = 0, cap = 0, kept = 0;
	uint32_t id = 0;

	*total = 0;
	while (!bpf_link_get_next_id(id, &id)) {
		/* ehttp's feature probes (check, and the loader's gates) are attached for a
		 * moment and never see traffic worth the name; a detached child of theirs
		 * may still be closing them. */
		if (!link_tracepoint(id, &u) || !is_capture_tracepoint(u.tracepoint) ||
		    !strcmp(u.prog_name, PROBE_PROG_NAME))
			continue;
		if (n == cap) {
			struct hook_user *p = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (!p) {
				free(v);
				return -ENOMEM;
			}
			v = p;
			cap = cap ? cap * 2 : 16;
		}
		v[n++] = u;
	}
	if (errno == EPERM || errno == EACCES) {
		free(v);
		return -EPERM;
	}
	if (n)
		find_holders(v, n, self);
	for (size_t i = 0; i < n; i++) {
		if (v[i].pid < 0)
			continue;
		if (kept < max)
			out[kept++] = v[i];
		(*total)++;
	}
	free(v);
	return (int)kept;
}
