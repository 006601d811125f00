// SPDX-License-Identifier: GPL-2.0-only
/* Kernel facts parsed from text: releases, lockdown file contents, capabilities. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel.h"

struct release_case {
	char release[64]; /* inline: parameters cross a process boundary */
	int err;
	unsigned int major, minor, patch;
};

ParameterizedTestParameters(kernel, parse_release)
{
	static struct release_case cases[] = {
		{ "6.18.44-fc-v782", 0, 6, 18, 44 },
		{ "5.14.0-427.el9.x86_64", 0, 5, 14, 0 },
		{ "4.19.0-26-amd64", 0, 4, 19, 0 },
		{ "6.1.0-rpi7-rpi-v8", 0, 6, 1, 0 },
		{ "6.18-rc1", 0, 6, 18, 0 },
		{ "5.8.0", 0, 5, 8, 0 },
		{ "6", -EINVAL, 0, 0, 0 },
		{ "", -EINVAL, 0, 0, 0 },
		{ "linux", -EINVAL, 0, 0, 0 },
		{ "-6.1.0", -EINVAL, 0, 0, 0 },
		{ "6.x.1", -EINVAL, 0, 0, 0 },
		{ "99999999999.1.1", -EINVAL, 0, 0, 0 },
	};
	return cr_make_param_array(struct release_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct release_case *c, kernel, parse_release)
{
	struct kernel_version v = { 0, 0, 0 };
	int err = kernel_parse_release(c->release, &v);

	cr_assert_eq(err, c->err, "release '%s': err %d, want %d", c->release, err, c->err);
	if (!err) {
		cr_expect_eq(v.major, c->major, "'%s' major", c->release);
		cr_expect_eq(v.minor, c->minor, "'%s' minor", c->release);
		cr_expect_eq(v.patch, c->patch, "'%s' patch", c->release);
	}
}

Test(kernel, parse_release_null)
{
	struct kernel_version v;

	cr_expect_eq(kernel_parse_release(NULL, &v), -EINVAL);
}

struct lockdown_case {
	char text[64];
	enum lockdown_mode mode;
};

ParameterizedTestParameters(kernel, parse_lockdown)
{
	static struct lockdown_case cases[] = {
		{ "[none] integrity confidentiality\n", LOCKDOWN_NONE },
		{ "none [integrity] confidentiality\n", LOCKDOWN_INTEGRITY },
		{ "none integrity [confidentiality]\n", LOCKDOWN_CONFIDENTIALITY },
		{ "none [integrity] confidentiality", LOCKDOWN_INTEGRITY },
		{ "", LOCKDOWN_UNKNOWN },
		{ "\n", LOCKDOWN_UNKNOWN },
		{ "none integrity confidentiality\n", LOCKDOWN_UNKNOWN },
		{ "[none] [integrity] confidentiality\n", LOCKDOWN_UNKNOWN },
		{ "x[none] integrity\n", LOCKDOWN_UNKNOWN },
		{ "[none]x integrity\n", LOCKDOWN_UNKNOWN },
		{ "[bogus] none\n", LOCKDOWN_UNKNOWN },
		{ "\xff\xfe garbage", LOCKDOWN_UNKNOWN },
	};
	return cr_make_param_array(struct lockdown_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct lockdown_case *c, kernel, parse_lockdown)
{
	cr_expect_eq(kernel_parse_lockdown(c->text), c->mode, "'%s' → %s, want %s", c->text,
		     lockdown_name(kernel_parse_lockdown(c->text)), lockdown_name(c->mode));
}

Test(kernel, lockdown_names)
{
	cr_expect_str_eq(lockdown_name(LOCKDOWN_NONE), "none");
	cr_expect_str_eq(lockdown_name(LOCKDOWN_INTEGRITY), "integrity");
	cr_expect_str_eq(lockdown_name(LOCKDOWN_CONFIDENTIALITY), "confidentiality");
	cr_expect_str_eq(lockdown_name(LOCKDOWN_UNKNOWN), "unknown");
	cr_expect_eq(kernel_parse_lockdown(NULL), LOCKDOWN_UNKNOWN);
}

/* Write @text to a temporary file; returns its path (static buffer per slot). */
static const char *fixture(int slot, const char *text)
{
	static char paths[4][64];
	int fd;

	snprintf(paths[slot], sizeof(paths[slot]), "/tmp/ehttp-unit-XXXXXX");
	fd = mkstemp(paths[slot]);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return paths[slot];
}

Test(kernel, read_lockdown_from_injected_file)
{
	struct kernel_paths p = kernel_default_paths;
	struct kernel_fs_state sfs;
	char why[256];

	p.lockdown = fixture(0, "none integrity [confidentiality]\n");
	cr_expect_eq(kernel_read_lockdown(&p, &sfs, why, sizeof(why)), LOCKDOWN_CONFIDENTIALITY);
	unlink(p.lockdown);

	p.lockdown = fixture(0, "garbage\n");
	cr_expect_eq(kernel_read_lockdown(&p, &sfs, why, sizeof(why)), LOCKDOWN_UNKNOWN);
	cr_expect(strstr(why, "unexpected") != NULL, "why: %s", why);
	unlink(p.lockdown);
}

Test(kernel, missing_lockdown_file_is_unknown_not_none)
{
	struct kernel_paths p = kernel_default_paths;
	struct kernel_fs_state sfs;
	char why[256] = "";

	p.lockdown = "/nonexistent/ehttp/lockdown";
	/* A mount table without securityfs: the reason must say so. */
	p.mounts = fixture(1, "proc /proc proc rw 0 0\n");
	cr_expect_eq(kernel_read_lockdown(&p, &sfs, why, sizeof(why)), LOCKDOWN_UNKNOWN);
	cr_expect(strstr(why, "securityfs is not mounted") != NULL, "why: %s", why);
	unlink(p.mounts);

	p.mounts = fixture(1, "securityfs /sys/kernel/security securityfs rw 0 0\n");
	cr_expect_eq(kernel_read_lockdown(&p, &sfs, why, sizeof(why)), LOCKDOWN_UNKNOWN);
	cr_expect(strstr(why, "missing") != NULL, "why: %s", why);
	unlink(p.mounts);
}

Test(kernel, fs_query_reads_mount_table)
{
	struct kernel_paths p = kernel_default_paths;
	struct kernel_fs_state st;

	p.mounts = fixture(2, "sysfs /sys sysfs rw 0 0\n"
			      "tracefs /mnt/trace tracefs rw 0 0\n"
			      "tracefs /sys/kernel/tracing tracefs rw 0 0\n"
			      "none /sys/fs/bpf bpf rw 0 0\n");
	kernel_fs_query(&p, KFS_TRACEFS, &st);
	cr_expect(st.mounted);
	cr_expect_str_eq(st.path, "/sys/kernel/tracing", "canonical place preferred");
	kernel_fs_query(&p, KFS_BPFFS, &st);
	cr_expect(st.mounted);
	cr_expect_str_eq(st.path, "/sys/fs/bpf");
	kernel_fs_query(&p, KFS_DEBUGFS, &st);
	cr_expect_not(st.mounted);
	kernel_fs_query(&p, KFS_SECURITYFS, &st);
	cr_expect_not(st.mounted);
	unlink(p.mounts);
}

Test(kernel, capeff)
{
	unsigned long long cap = 0;

	cr_expect_eq(kernel_parse_capeff("Name:\tx\nCapEff:\t000001ffffffffff\nCapBnd:\t0\n", &cap), 0);
	cr_expect_eq(cap, 0x1ffffffffffull);
	cr_expect_eq(kernel_parse_capeff("CapEff:\t0000000000000000\n", &cap), 0);
	cr_expect_eq(cap, 0);
	cr_expect_eq(kernel_parse_capeff("Name:\tx\n", &cap), -ENOENT);
	cr_expect_eq(kernel_parse_capeff("CapEff:\tzz\n", &cap), -EINVAL);
}

Test(kernel, privileges_from_injected_status)
{
	struct kernel_paths p = kernel_default_paths;
	struct kernel_privileges priv;

	/* CAP_BPF (39) and CAP_PERFMON (38) without CAP_SYS_ADMIN (21) may trace. */
	p.status = fixture(3, "CapEff:\t000000c000000000\n");
	cr_assert_eq(kernel_read_privileges(&p, &priv), 0);
	cr_expect(priv.caps_known);
	cr_expect(priv.cap_bpf && priv.cap_perfmon && !priv.cap_sys_admin);
	cr_expect(kernel_may_trace(&priv));
	unlink(p.status);

	/* CAP_BPF alone may not attach tracing programs. */
	p.status = fixture(3, "CapEff:\t0000008000000000\n");
	cr_assert_eq(kernel_read_privileges(&p, &priv), 0);
	cr_expect(priv.cap_bpf && !priv.cap_perfmon);
	cr_expect_not(kernel_may_trace(&priv));
	unlink(p.status);
}

Test(kernel, btf_missing_file, .init = cr_redirect_stderr)
{
	struct kernel_paths p = kernel_default_paths;
	char why[256];

	p.btf = "/nonexistent/vmlinux";
	cr_expect_not(kernel_btf_usable(&p, why, sizeof(why)));
	cr_expect(strstr(why, "/nonexistent/vmlinux") != NULL);
	p.btf = fixture(0, "not btf at all");
	cr_expect_not(kernel_btf_usable(&p, why, sizeof(why)));
	unlink(p.btf);
}
