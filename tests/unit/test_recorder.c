// SPDX-License-Identifier: GPL-2.0-only
/* record's rotation: file names as tcpdump makes them, size and time rotation, the ring. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "recorder.h"

static char dir[] = "/tmp/ehttp-unit-recorder.XXXXXX";

static void setup(void)
{
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(recorder, .init = setup, .fini = teardown);

static const char *name(const struct recorder_opts *o, uint64_t i)
{
	static char buf[256];

	recorder_file_name(o, i, 0, buf, sizeof(buf));
	return buf;
}

Test(recorder, file_names)
{
	struct recorder_opts o = { .path = "out" };

	cr_expect_str_eq(name(&o, 0), "out");
	o.rotate_bytes = 1;
	cr_expect_str_eq(name(&o, 0), "out");
	cr_expect_str_eq(name(&o, 1), "out1");
	cr_expect_str_eq(name(&o, 12), "out12");
	o.ring = 3;
	cr_expect_str_eq(name(&o, 0), "out0");
	cr_expect_str_eq(name(&o, 2), "out2");
	cr_expect_str_eq(name(&o, 3), "out0");
	o.ring = 12;
	cr_expect_str_eq(name(&o, 0), "out00");
	cr_expect_str_eq(name(&o, 11), "out11");
	cr_expect_str_eq(name(&o, 12), "out00");
	/* -G with strftime conversions and no -C/-W: the time names the file */
	o = (struct recorder_opts){ .path = "spans-%Y.pcapng", .rotate_ns = 1 };
	setenv("TZ", "UTC", 1);
	cr_expect_str_eq(name(&o, 5), "spans-1970.pcapng");
	o.rotate_bytes = 1;
	cr_expect_str_eq(name(&o, 5), "spans-1970.pcapng5");
}

Test(recorder, option_combinations)
{
	struct recorder_opts o = { .path = "-", .rotate_bytes = 1 };

	cr_redirect_stderr();
	cr_expect_not(recorder_opts_valid(&o));
	o = (struct recorder_opts){ .path = "x", .ring = 3 };
	cr_expect_not(recorder_opts_valid(&o));
	o = (struct recorder_opts){ .path = "" };
	cr_expect_not(recorder_opts_valid(&o));
	o = (struct recorder_opts){ .path = "x", .ring = 3, .rotate_ns = 1 };
	cr_expect(recorder_opts_valid(&o));
}

static void span_at(struct span *s, uint64_t i)
{
	memset(s, 0, sizeof(*s));
	s->start_ns = 1000000000ull * 1764000000 + i;
	s->end_ns = s->start_ns + 5;
	s->pid = 1;
	s->method = "GET";
	s->target = "/0123456789012345678901234567890123456789";
	s->host = "h";
}

static int count_spans(const char *path)
{
	struct spanfile_reader *r;
	struct span s;
	int n = 0;

	cr_assert_eq(spanfile_reader_open(&r, path), 0, "%s", path);
	while (spanfile_next(r, &s, NULL) == SPANFILE_SPAN)
		n++;
	spanfile_reader_close(r);
	return n;
}

Test(recorder, size_rotation_in_a_ring)
{
	struct recorder_opts o = { .rotate_bytes = 2000, .ring = 3 };
	struct recorder_stats st;
	struct recorder *r;
	struct span s;
	char path[256], f[300];
	int i, total = 0;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/ring", dir);
	o.path = path;
	cr_assert_eq(recorder_open(&r, &o, 0), 0);
	for (i = 0; i < 100; i++) {
		span_at(&s, i);
		cr_assert_eq(recorder_write(r, &s, 0), 0);
	}
	recorder_get_stats(r, &st);
	cr_assert_eq(recorder_close(r), 0);
	cr_expect_eq(st.spans, 100);
	cr_expect_gt(st.files, 3, "enough spans to go round the ring");
	for (i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%d", path, i);
		cr_assert_eq(stat(f, &sb), 0, "%s exists", f);
		cr_expect_eq(sb.st_mode & 0777, 0600);
		/* a file ends once it reaches the limit: at most one span past it */
		cr_expect_lt(sb.st_size, 2000 + 300);
		total += count_spans(f);
	}
	snprintf(f, sizeof(f), "%s3", path);
	cr_expect_neq(stat(f, &sb), 0, "no fourth file");
	cr_expect_lt(total, 100, "the oldest files were overwritten");
	cr_expect_gt(total, 0);
}

Test(recorder, time_rotation_numbers_files)
{
	struct recorder_opts o = { .rotate_ns = 1000 };
	struct recorder *r;
	struct span s;
	char path[256], f[300];
	int i;

	snprintf(path, sizeof(path), "%s/t", dir);
	o.path = path;
	cr_assert_eq(recorder_open(&r, &o, 0), 0);
	for (i = 0; i < 30; i++) {
		span_at(&s, i);
		cr_assert_eq(recorder_write(r, &s, (uint64_t)i * 100), 0); /* 10 spans per period */
		cr_assert_eq(recorder_tick(r, (uint64_t)i * 100 + 50), 0);
	}
	cr_assert_eq(recorder_close(r), 0);
	cr_expect_eq(count_spans(path), 10);
	snprintf(f, sizeof(f), "%s1", path);
	cr_expect_eq(count_spans(f), 10);
	snprintf(f, sizeof(f), "%s2", path);
	cr_expect_eq(count_spans(f), 10);
}
