// SPDX-License-Identifier: GPL-2.0-only
/* --cgroup's resolution against this machine's own cgroup v2 mount and the test's own
 * cgroup (as /proc/self/cgroup says it): both spellings name one cgroup, membership
 * counts the cgroups below, and what is no cgroup is refused with a reason. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

/* This process's cgroup v2 path, or "" when it has none (no unified hierarchy). */
static void own_cgroup(char *out, size_t len)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");

	out[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line + 3);
		}
	if (f)
		fclose(f);
}

Test(cgroup, both_spellings_name_one_cgroup)
{
	char rel[1024], err[256], dir[2048];
	struct cgroup_sel a, b, root;

	own_cgroup(rel, sizeof(rel));
	if (!rel[0] || cgroup_resolve("/", &root, err, sizeof(err)))
		cr_skip_test("no cgroup v2 here");
	cr_assert_eq(cgroup_resolve(rel, &a, err, sizeof(err)), 0, "%s: %s", rel, err);
	cr_expect_str_eq(a.rel, rel);
	snprintf(dir, sizeof(dir), "%s", a.dir);
	cr_assert_eq(cgroup_resolve(dir, &b, err, sizeof(err)), 0, "%s: %s", dir, err);
	cr_expect_str_eq(b.dir, a.dir);
	cr_expect_str_eq(b.rel, rel);
	cr_expect(cgroup_has_pid(&a, getpid()), "in its own cgroup");
	cr_expect(cgroup_has_pid(&root, getpid()), "the root holds every one");
	cr_expect_str_eq(root.rel, "/");
}

Test(cgroup, an_ancestor_holds_its_descendants_a_sibling_prefix_does_not)
{
	char rel[1024], err[256], up[1024], longer[1100];
	struct cgroup_sel sel;
	char *slash;

	own_cgroup(rel, sizeof(rel));
	if (!rel[0] || strcmp(rel, "/") == 0 || cgroup_resolve(rel, &sel, err, sizeof(err)))
		cr_skip_test("not in a cgroup below the root");
	snprintf(up, sizeof(up), "%s", rel);
	slash = strrchr(up, '/');
	if (slash == up)
		slash[1] = '\0';
	else
		*slash = '\0';
	cr_assert_eq(cgroup_resolve(up, &sel, err, sizeof(err)), 0, "%s: %s", up, err);
	cr_expect(cgroup_has_pid(&sel, getpid()), "%s holds %s", up, rel);
	/* "/a/bc" is not below "/a/b": a prefix of the name is no ancestor */
	snprintf(longer, sizeof(longer), "%s", rel);
	snprintf(sel.rel, sizeof(sel.rel), "%.*s", (int)strlen(longer) - 1, longer);
	if (sel.rel[0] && strcmp(sel.rel, "/") && sel.rel[strlen(sel.rel) - 1] != '/')
		cr_expect(!cgroup_has_pid(&sel, getpid()), "%s does not hold %s", sel.rel, rel);
}

Test(cgroup, what_is_no_cgroup_is_refused)
{
	struct cgroup_sel sel;
	char err[256];

	cr_expect_eq(cgroup_resolve("/no/such/cgroup.here", &sel, err, sizeof(err)), -1);
	cr_expect(strstr(err, "is no cgroup v2 directory") != NULL, "%s", err);
	cr_expect_eq(cgroup_resolve("/tmp", &sel, err, sizeof(err)), -1, "a directory of another filesystem");
	cr_expect_eq(cgroup_resolve("relative/path", &sel, err, sizeof(err)), -1);
}
