/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cgroup v2 for process selection (--cgroup) and for the cgroup BPF programs: where the
 * hierarchy is mounted, which directory a user's path names, whether a process is in a
 * cgroup or below it.
 */
#ifndef EHTTP_CGROUP_H
#define EHTTP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cgroup as --cgroup selects it: the cgroup and every cgroup below it. */
struct cgroup_sel {
	char dir[512]; /* its directory, absolute, on a cgroup2 mount */
	char rel[512]; /* its path in the hierarchy, as /proc/PID/cgroup writes it ("/a/b") */
};

/*
 * Resolve @arg: a cgroup v2 directory (/sys/fs/cgroup/system.slice/nginx.service), or a
 * path in the hierarchy as /proc/PID/cgroup shows it (/system.slice/nginx.service), taken
 * under the first cgroup2 mount. 0, or -1 with @err saying why.
 */
int cgroup_resolve(const char *arg, struct cgroup_sel *out, char *err, size_t errlen);
/* Is process @pid in @sel's cgroup or one below it (its /proc/PID/cgroup, now)? */
bool cgroup_has_pid(const struct cgroup_sel *sel, uint32_t pid);
/* Call @fn for every process in @sel's cgroup and below, now. */
void cgroup_each_pid(const struct cgroup_sel *sel, void (*fn)(void *arg, uint32_t pid), void *arg);
/*
 * Give the BPF side of bpf/process.bpf.h its cgroup: @map_fd is an object's targ_cgroup
 * (a cgroup array; the kernel tests membership of the current task, descendants
 * included). 0, or a negative errno.
 */
int cgroup_sel_to_map(const struct cgroup_sel *sel, int map_fd);

/*
 * Where cgroup v2 is mounted (@out), mounting it at a directory of ehttp's own when
 * nothing has: then @mounted gets that directory, to unmount when done (cgroup2_unmount).
 * Reports its own error; 0 or a negative errno.
 */
int cgroup2_root(char *out, size_t len, char *mounted, size_t mlen);
void cgroup2_unmount(const char *mounted);

#endif
