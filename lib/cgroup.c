// SPDX-License-Identifier: GPL-2.0-only
/* cgroup v2 selection (see cgroup.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cgroup.h"
#include "cli.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* Mount points of cgroup2 in /proc/self/mounts: @fn(arg, dir) for each, until it says stop. */
static void each_cgroup2_mount(bool (*fn)(void *arg, const char *dir), void *arg)
{
	char line[1024], dev[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2") &&
		    !fn(arg, dir))
			break;
	if (f)
		fclose(f);
}

static bool first_mount(void *arg, const char *dir)
{
	snprintf(arg, 512, "%s", dir);
	return false;
}

struct containing {
	const char *path;
	char best[512];
};

/* The longest mount point that @c->path is under. */
static bool containing_mount(void *arg, const char *dir)
{
	struct containing *c = arg;
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		n = 0;
	if (!strncmp(c->path, dir, n) && (c->path[n] == '/' || !c->path[n]) &&
	    (!c->best[0] || n > strlen(c->best)))
		snprintf(c->best, sizeof(c->best), "%s", n ? dir : "/");
	return true;
}

static bool is_cgroup2_dir(const char *path)
{
	struct statfs sfs;
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode) && !statfs(path, &sfs) &&
	       sfs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_resolve(const char *arg, struct cgroup_sel *out, char *err, size_t errlen)
{
	char root[512] = "", path[1100], real[PATH_MAX];
	struct containing c = { 0 };
	size_t n;

	memset(out, 0, sizeof(*out));
	each_cgroup2_mount(first_mount, root);
	if (is_cgroup2_dir(arg)) {
		snprintf(path, sizeof(path), "%s", arg);
	} else if (arg[0] == '/' && root[0]) {
		/* the hierarchy's own path, as /proc/PID/cgroup gives it */
		snprintf(path, sizeof(path), "%s%s", root, arg);
		if (!is_cgroup2_dir(path)) {
			snprintf(err, errlen, "'%s' is no cgroup v2 directory, neither as a path nor under %s",
				 arg, root);
			return -1;
		}
	} else {
		snprintf(err, errlen, root[0] ? "'%s' is no cgroup v2 directory" :
			 "'%s' is no cgroup v2 directory (and cgroup v2 is not mounted)", arg);
		return -1;
	}
	if (!realpath(path, real) || strlen(real) >= sizeof(out->dir)) {
		snprintf(err, errlen, "'%s': %s", arg, strerror(errno ? errno : ENAMETOOLONG));
		return -1;
	}
	snprintf(out->dir, sizeof(out->dir), "%s", real);
	c.path = out->dir;
	each_cgroup2_mount(containing_mount, &c);
	if (!c.best[0]) {
		snprintf(err, errlen, "'%s' is under no cgroup2 mount ehttp can see", arg);
		return -1;
	}
	n = strcmp(c.best, "/") ? strlen(c.best) : 0;
	snprintf(out->rel, sizeof(out->rel), "%s", out->dir[n] ? out->dir + n : "/");
	return 0;
}

bool cgroup_has_pid(const struct cgroup_sel *sel, uint32_t pid)
{
	char path[64], line[1024];
	bool in = false;
	size_t n = strlen(sel->rel);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + 3;

		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* the cgroup itself or one below it; "/" holds every one */
		in = !strcmp(sel->rel, "/") || (!strncmp(p, sel->rel, n) && (p[n] == '/' || !p[n]));
		break;
	}
	fclose(f);
	return in;
}

static void each_pid_in(const char *dir, int depth, void (*fn)(void *arg, uint32_t pid), void *arg)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned int pid;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	while (f && fscanf(f, "%u", &pid) == 1)
		fn(arg, pid);
	if (f)
		fclose(f);
	if (depth > 64 || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
			each_pid_in(path, depth + 1, fn, arg);
	}
	closedir(d);
}

void cgroup_each_pid(const struct cgroup_sel *sel, void (*fn)(void *arg, uint32_t pid), void *arg)
{
	each_pid_in(sel->dir, 0, fn, arg);
}

int cgroup_sel_to_map(const struct cgroup_sel *sel, int map_fd)
{
	uint32_t zero = 0;
	int fd, err = 0;

	fd = open(sel->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The array holds the cgroup itself, not the descriptor. */
	if (bpf_map_update_elem(map_fd, &zero, &fd, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

int cgroup2_root(char *out, size_t len, char *mounted, size_t mlen)
{
	static const char mnt[] = "/run/ehttp/cgroup2";
	char found[512] = "";

	each_cgroup2_mount(first_mount, found);
	if (found[0]) {
		snprintf(out, len, "%s", found);
		return 0;
	}
	mkdir("/run/ehttp", 0700);
	mkdir(mnt, 0700);
	if (mount("cgroup2", mnt, "cgroup2", 0, NULL)) {
		int err = -errno;

		p_err("cgroup v2 is not mounted and mounting it at %s failed: %s", mnt, strerror(errno));
		return err;
	}
	snprintf(mounted, mlen, "%s", mnt);
	snprintf(out, len, "%s", mnt);
	return 0;
}

void cgroup2_unmount(const char *mounted)
{
	if (mounted && mounted[0])
		umount2(mounted, MNT_DETACH);
}
