// SPDX-License-Identifier: GPL-2.0-only
/* Kernel facts read from files: release, lockdown, privileges, BTF, mounts. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel.h"

/* Capability numbers from <linux/capability.h>; older headers may lack the last two. */
#define CAP_NR_SYS_ADMIN 21
#define CAP_NR_PERFMON 38
#define CAP_NR_BPF 39

const struct kernel_paths kernel_default_paths = {
	.btf = "/sys/kernel/btf/vmlinux",
	.lockdown = "/sys/kernel/security/lockdown",
	.mounts = "/proc/self/mounts",
	.status = "/proc/self/status",
};

static const struct {
	const char *name;  /* reported name */
	const char *type;  /* filesystem type in the mount table */
	const char *where; /* where ehttp mounts it */
} kfs_info[KFS__COUNT] = {
	[KFS_TRACEFS] = { "tracefs", "tracefs", "/sys/kernel/tracing" },
	[KFS_DEBUGFS] = { "debugfs", "debugfs", "/sys/kernel/debug" },
	[KFS_SECURITYFS] = { "securityfs", "securityfs", "/sys/kernel/security" },
	[KFS_BPFFS] = { "bpffs", "bpf", "/sys/fs/bpf" },
};

int kernel_parse_release(const char *release, struct kernel_version *out)
{
	unsigned long part[3] = { 0, 0, 0 };
	const char *s = release;
	char *end;
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			break;
		errno = 0;
		part[i] = strtoul(s, &end, 10);
		if (errno || part[i] > 65535)
			return -EINVAL;
		s = end;
		if (*s != '.')
			{ i++; break; }
		s++;
	}
	/* Need at least "major.minor"; the patch level is optional ("6.18-rc1"). */
	if (i < 2)
		return -EINVAL;
	out->major = part[0];
	out->minor = part[1];
	out->patch = part[2];
	return 0;
}

enum lockdown_mode kernel_parse_lockdown(const char *text)
{
	static const struct {
		const char *word;
		enum lockdown_mode mode;
	} modes[] = {
		{ "[none]", LOCKDOWN_NONE },
		{ "[integrity]", LOCKDOWN_INTEGRITY },
		{ "[confidentiality]", LOCKDOWN_CONFIDENTIALITY },
	};
	enum lockdown_mode found = LOCKDOWN_UNKNOWN;
	size_t i;

	if (!text)
		return LOCKDOWN_UNKNOWN;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *at = strstr(text, modes[i].word);

		if (!at)
			continue;
		/* A word must stand alone, and exactly one may be selected. */
		if ((at != text && !isspace((unsigned char)at[-1])) || found != LOCKDOWN_UNKNOWN)
			return LOCKDOWN_UNKNOWN;
		at += strlen(modes[i].word);
		if (*at && !isspace((unsigned char)*at))
			return LOCKDOWN_UNKNOWN;
		found = modes[i].mode;
	}
	return found;
}

const char *lockdown_name(enum lockdown_mode mode)
{
	switch (mode) {
	case LOCKDOWN_NONE: return "none";
	case LOCKDOWN_INTEGRITY: return "integrity";
	case LOCKDOWN_CONFIDENTIALITY: return "confidentiality";
	default: return "unknown";
	}
}

/* Read a small text file whole; NULL with errno set on failure. Caller frees. */
static char *read_text(const char *path, size_t limit)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len;
	int saved;

	if (!f)
		return NULL;
	buf = malloc(limit + 1);
	if (!buf) {
		fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	len = fread(buf, 1, limit, f);
	saved = ferror(f) ? EIO : 0;
	fclose(f);
	if (saved) {
		free(buf);
		errno = saved;
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

const char *kernel_fs_name(enum kernel_fs fs)
{
	return fs < KFS__COUNT ? kfs_info[fs].name : "?";
}

void kernel_fs_query(const struct kernel_paths *p, enum kernel_fs fs, struct kernel_fs_state *st)
{
	char line[1024], dev[256], dir[256], type[64];
	FILE *f;

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s", kfs_info[fs].where);
	f = fopen(p->mounts, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %255s %63s", dev, dir, type) != 3)
			continue;
		if (strcmp(type, kfs_info[fs].type) != 0)
			continue;
		/* Prefer the canonical place when the filesystem is mounted several times. */
		if (!st->mounted || strcmp(dir, kfs_info[fs].where) == 0)
			snprintf(st->path, sizeof(st->path), "%s", dir);
		st->mounted = true;
	}
	fclose(f);
}

int kernel_fs_ensure(const struct kernel_paths *p, enum kernel_fs fs, struct kernel_fs_state *st)
{
	kernel_fs_query(p, fs, st);
	if (st->mounted)
		return 0;
	if (mount(kfs_info[fs].type, kfs_info[fs].where, kfs_info[fs].type, 0, NULL)) {
		st->error = errno;
		return -st->error;
	}
	st->mounted = true;
	st->mounted_by_ehttp = true;
	return 0;
}

int kernel_parse_capeff(const char *status_text, unsigned long long *capeff)
{
	const char *line = status_text;

	while (line && *line) {
		if (strncmp(line, "CapEff:", 7) == 0) {
			char *end;

			errno = 0;
			*capeff = strtoull(line + 7, &end, 16);
			if (errno || end == line + 7)
				return -EINVAL;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

int kernel_read_privileges(const struct kernel_paths *p, struct kernel_privileges *out)
{
	unsigned long long capeff;
	char *status;
	int err;

	memset(out, 0, sizeof(*out));
	out->euid = geteuid();
	status = read_text(p->status, 16384);
	if (!status)
		return -errno;
	err = kernel_parse_capeff(status, &capeff);
	free(status);
	if (err)
		return err;
	out->caps_known = true;
	out->cap_sys_admin = capeff >> CAP_NR_SYS_ADMIN & 1;
	out->cap_perfmon = capeff >> CAP_NR_PERFMON & 1;
	out->cap_bpf = capeff >> CAP_NR_BPF & 1;
	return 0;
}

bool kernel_may_trace(const struct kernel_privileges *priv)
{
	return priv->cap_sys_admin || (priv->cap_bpf && priv->cap_perfmon);
}

/* Parsing the kernel's BTF reads 5-6 MB from sysfs 4 KiB at a time and is the largest
 * part of what check costs: once per process. */
static struct btf *vmlinux_btf;
static long vmlinux_btf_err;
static pthread_once_t vmlinux_btf_once = PTHREAD_ONCE_INIT;

static void vmlinux_btf_parse(void)
{
	vmlinux_btf = btf__parse(kernel_default_paths.btf, NULL);
	vmlinux_btf_err = libbpf_get_error(vmlinux_btf);
	if (vmlinux_btf_err)
		vmlinux_btf = NULL;
}

const struct btf *kernel_vmlinux_btf(long *err)
{
	/* check asks from two threads. */
	pthread_once(&vmlinux_btf_once, vmlinux_btf_parse);
	if (err)
		*err = vmlinux_btf_err;
	return vmlinux_btf;
}

int kernel_raw_tp_btf_id(const char *tp)
{
	const struct btf *btf = kernel_vmlinux_btf(NULL);
	char name[128];

	if (!btf)
		return -ENOENT;
	/* What libbpf_find_vmlinux_btf_id() looks for, without parsing the BTF again. */
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
}

bool kernel_btf_usable(const struct kernel_paths *p, char *why, size_t why_len)
{
	const struct btf *btf;
	struct btf *own = NULL;
	long err;

	if (access(p->btf, R_OK)) {
		snprintf(why, why_len, "%s: %s (kernel built without CONFIG_DEBUG_INFO_BTF?)",
			 p->btf, strerror(errno));
		return false;
	}
	if (!strcmp(p->btf, kernel_default_paths.btf)) {
		btf = kernel_vmlinux_btf(&err);
	} else {
		btf = own = btf__parse(p->btf, NULL);
		err = libbpf_get_error(own);
	}
	if (err) {
		snprintf(why, why_len, "%s does not parse as BTF: %s", p->btf, strerror(-err));
		return false;
	}
	snprintf(why, why_len, "%s, %u types", p->btf, btf__type_cnt(btf) - 1);
	btf__free(own);
	return true;
}

enum lockdown_mode kernel_read_lockdown(const struct kernel_paths *p, struct kernel_fs_state *sfs,
					char *why, size_t why_len)
{
	enum lockdown_mode mode;
	char *text;

	/* The file lives in securityfs; mount it when it is not there and we can. */
	if (access(p->lockdown, F_OK) && p == &kernel_default_paths) {
		if (geteuid() == 0)
			kernel_fs_ensure(p, KFS_SECURITYFS, sfs);
		else
			kernel_fs_query(p, KFS_SECURITYFS, sfs);
	} else {
		kernel_fs_query(p, KFS_SECURITYFS, sfs);
	}

	text = read_text(p->lockdown, 256);
	if (!text) {
		int err = errno;

		if (!sfs->mounted && sfs->error)
			snprintf(why, why_len, "securityfs is not mounted and mounting it failed: %s",
				 strerror(sfs->error));
		else if (!sfs->mounted)
			snprintf(why, why_len,
				 "securityfs is not mounted (run as root, or: mount -t securityfs "
				 "securityfs /sys/kernel/security)");
		else if (err == ENOENT)
			snprintf(why, why_len, "%s is missing (kernel without the lockdown LSM?)",
				 p->lockdown);
		else
			snprintf(why, why_len, "%s: %s", p->lockdown, strerror(err));
		return LOCKDOWN_UNKNOWN;
	}
	mode = kernel_parse_lockdown(text);
	if (mode == LOCKDOWN_UNKNOWN)
		snprintf(why, why_len, "%s has unexpected contents", p->lockdown);
	else
		snprintf(why, why_len, "read from %s", p->lockdown);
	free(text);
	return mode;
}
