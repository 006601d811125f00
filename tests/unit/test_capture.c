// SPDX-License-Identifier: GPL-2.0-only
/* The capture source's options, as attach and record parse them. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "capture.h"

static int parse(struct capture_opts *o, const char *a, const char *b)
{
	char *argv[3] = { (char *)a, (char *)b, NULL };

	return capture_parse_opt(o, b ? 2 : 1, argv);
}

Test(capture, options_take_their_values)
{
	struct capture_opts o;

	capture_opts_init(&o);
	cr_expect_eq(parse(&o, "-c", "5"), 2);
	cr_expect_eq(o.max_spans, 5);
	cr_expect_eq(parse(&o, "--count", "7"), 2);
	cr_expect_eq(o.max_spans, 7);
	cr_expect_eq(parse(&o, "--duration", "3"), 2);
	cr_expect_eq(o.duration_s, 3);
	cr_expect_eq(parse(&o, "--snaplen", "100"), 2);
	cr_expect_eq(o.snaplen, 100);
	cr_expect_eq(parse(&o, "--no-redact", NULL), 1);
	cr_expect(o.no_redact);
}

Test(capture, filters_go_to_the_shared_parser)
{
	struct capture_opts o;

	capture_opts_init(&o);
	cr_expect_eq(parse(&o, "--port", "8080"), 2);
	cr_expect_eq(o.filter.port, 8080);
	cr_expect_eq(parse(&o, "-p", "42"), 2);
	cr_expect_eq(parse(&o, "-p", "43"), 2);
	cr_expect_eq(o.filter.npids, 2);
	cr_expect_eq(parse(&o, "--status", "5xx"), 2);
	cr_expect_eq(o.filter.status_min, 500);
	cr_expect_eq(o.filter.status_max, 599);
}

Test(capture, not_ours_is_zero, .init = cr_redirect_stderr)
{
	struct capture_opts o;

	capture_opts_init(&o);
	cr_expect_eq(parse(&o, "--headers", NULL), 0);
	cr_expect_eq(parse(&o, "-o", "file"), 0);
}

Test(capture, bad_values_are_errors, .init = cr_redirect_stderr)
{
	struct capture_opts o;

	capture_opts_init(&o);
	cr_expect_eq(parse(&o, "-c", NULL), -1);
	cr_expect_eq(parse(&o, "-c", "0"), -1);
	cr_expect_eq(parse(&o, "--snaplen", "10"), -1);      /* below the minimum */
	cr_expect_eq(parse(&o, "--snaplen", "20000"), -1);   /* above what the kernel side holds */
	cr_expect_eq(parse(&o, "--duration", "soon"), -1);
	cr_expect_eq(o.max_spans, 0);
	cr_expect_eq(o.snaplen, 0);
}
