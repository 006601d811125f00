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

/* ---- capture_feed: bytes sendfile moved come as running totals ---------------------- */

#include <string.h>

#include "capture_feed.h"

struct seen {
	int spans;
	uint64_t resp_bytes, end_ns;
	uint16_t status;
};

static int keep(struct span_sink *sink, const struct span *s)
{
	struct seen *seen = sink->ctx;

	seen->spans++;
	seen->resp_bytes = s->resp_bytes;
	seen->end_ns = s->end_ns;
	seen->status = s->status;
	return 0;
}

static int feed_text(struct httpconn *conn, struct capture_feed_pos *pos, struct capture_event *ev,
		     uint8_t dir, uint64_t ts, const char *text, struct span_sink *sink)
{
	ev->type = CAPTURE_EV_DATA;
	ev->dir = dir;
	ev->ts_ns = ts;
	ev->len = ev->captured = strlen(text);
	return capture_feed(conn, pos, ev, (const uint8_t *)text, ev->captured, sink);
}

Test(capture, unseen_totals_end_a_body_once)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .role = SPAN_ROLE_SERVER };
	struct httpconn_opts opts = { 0 };
	struct capture_feed_pos pos = { { 0 } };
	struct capture_event ev = { 0 };
	struct seen seen = { 0 };
	struct span_sink sink = { keep, &seen };
	struct httpconn *conn = httpconn_new(&info, &opts);
	__u64 unseen[2] = { 600, 0 };

	cr_assert_not_null(conn);
	feed_text(conn, &pos, &ev, CAPTURE_INGRESS, 100, "GET /f HTTP/1.1\r\nHost: a\r\n\r\n", &sink);
	feed_text(conn, &pos, &ev, CAPTURE_EGRESS, 200, head, &sink);
	cr_assert(httpconn_in_body(conn), "the body is awaited");
	/* Read from the kernel's map: 600 of 1000 so far, then all of it. */
	capture_feed_unseen(conn, &pos, unseen, 300, &sink);
	cr_assert_eq(seen.spans, 0);
	unseen[0] = 1000;
	capture_feed_unseen(conn, &pos, unseen, 400, &sink);
	cr_assert_eq(seen.spans, 1);
	cr_assert_eq(seen.status, 200);
	cr_assert_eq(seen.resp_bytes, strlen(head) + 1000);
	cr_assert_eq(seen.end_ns, 400, "the response ends when its last unseen byte went");
	cr_assert_not(httpconn_in_body(conn));
	/* The next event carries the same totals (or stale ones): nothing fed twice. */
	ev.unseen[0] = 1000;
	feed_text(conn, &pos, &ev, CAPTURE_INGRESS, 500, "GET /g HTTP/1.1\r\nHost: a\r\n\r\n", &sink);
	ev.unseen[0] = 900;
	feed_text(conn, &pos, &ev, CAPTURE_EGRESS, 600, "HTTP/1.1 204 No Content\r\n\r\n", &sink);
	cr_assert_eq(seen.spans, 2);
	cr_assert_eq(seen.status, 204);
	cr_assert_eq(seen.resp_bytes, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
	cr_assert_eq(pos.unseen[0], 1000);
	httpconn_close(conn, 700, NULL);
}
