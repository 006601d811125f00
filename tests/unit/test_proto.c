// SPDX-License-Identifier: GPL-2.0-only
/* The protocol table and the connection that holds what its first bytes chose. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto/proto.h"

static int count(struct span_sink *sink, const struct span *s)
{
	(*(int *)sink->ctx)++;
	return 0;
}

static int feed(struct httpconn *c, enum httpconn_dir dir, uint64_t ts, const char *text,
		struct span_sink *sink)
{
	return httpconn_feed(c, dir, ts, 1, (const uint8_t *)text, strlen(text), strlen(text), sink);
}

Test(proto, table_names_http1)
{
	const struct proto_ops *h = proto_find("http1");

	cr_assert_not_null(h);
	cr_expect_str_eq(h->name, "http1");
	cr_expect(h->resyncs, "HTTP/1 judges unclaimed and mid-stream connections");
	cr_expect_null(proto_find("gopher"));
	cr_expect_eq(h->classify((const uint8_t *)"GET ", 4, HTTPCONN_INGRESS), PROTO_YES);
	cr_expect_eq(h->classify((const uint8_t *)"GE", 2, HTTPCONN_INGRESS), PROTO_MAYBE);
	cr_expect_eq(h->classify((const uint8_t *)"\x16\x03\x01", 3, HTTPCONN_INGRESS), PROTO_NO);
}

Test(proto, first_bytes_choose_and_the_choice_holds)
{
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .role = SPAN_ROLE_SERVER };
	struct httpconn *c = httpconn_new(&info, NULL);
	int spans = 0;
	struct span_sink sink = { count, &spans };

	cr_assert_not_null(c);
	cr_expect_null(httpconn_proto(c), "nothing chosen before any byte");
	cr_expect_eq(httpconn_state(c), HTTPCONN_UNKNOWN);
	/* A first read of two bytes: too short for the first-bytes test, held. */
	cr_expect_eq(feed(c, HTTPCONN_INGRESS, 10, "GE", &sink), HTTPCONN_UNKNOWN);
	cr_expect_eq(feed(c, HTTPCONN_INGRESS, 11, "T / HTTP/1.1\r\nHost: a\r\n\r\n", &sink),
		     HTTPCONN_HTTP);
	cr_expect_eq(httpconn_proto(c), proto_find("http1"));
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 20, "HTTP/1.1 204 No Content\r\n\r\n", &sink),
		     HTTPCONN_HTTP);
	cr_expect_eq(spans, 1);
	httpconn_close(c, 30, &sink);
}

Test(proto, bytes_no_protocol_claims)
{
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .role = SPAN_ROLE_CLIENT };
	struct httpconn *c = httpconn_new(&info, NULL);

	cr_assert_not_null(c);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 10, "\x16\x03\x01\x02\x00\x01\x00", NULL),
		     HTTPCONN_NOT_HTTP, "a TLS hello is nobody's");
	cr_expect_eq(httpconn_state(c), HTTPCONN_NOT_HTTP);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 11, "GET / HTTP/1.1\r\n\r\n", NULL), HTTPCONN_NOT_HTTP,
		     "and stays so");
	httpconn_close(c, 20, NULL);
}

/* ---- ids: made at the request's start, a trace id for every span ---------------------- */

struct kept {
	int n;
	struct span s[4];
};

static int keep(struct span_sink *sink, const struct span *s)
{
	struct kept *k = sink->ctx;

	if (k->n < 4)
		k->s[k->n] = *s;
	k->n++;
	return 0;
}

Test(proto, every_span_has_a_trace_id)
{
	static const char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	static const uint8_t want_trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
						0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .role = SPAN_ROLE_SERVER };
	struct httpconn *c = httpconn_new(&info, NULL);
	struct kept k = { 0 };
	struct span_sink sink = { keep, &k };
	char req[256];
	static const uint8_t zero[16];

	cr_assert_not_null(c);
	/* Two pipelined requests, the first without a traceparent, the second with one. */
	snprintf(req, sizeof(req), "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
		 "GET /b HTTP/1.1\r\nHost: h\r\ntraceparent: %s\r\n\r\n", tp);
	feed(c, HTTPCONN_INGRESS, 10, req, &sink);
	feed(c, HTTPCONN_EGRESS, 20, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	     &sink);
	/* A third request is cut short by the close: a partial span has ids too. */
	feed(c, HTTPCONN_INGRESS, 30, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n", &sink);
	httpconn_close(c, 40, &sink);
	cr_assert_eq(k.n, 3);
	cr_expect(!k.s[0].has_parent);
	cr_expect_neq(memcmp(k.s[0].trace_id, zero, 16), 0, "a fresh trace id without a traceparent");
	cr_expect(k.s[1].has_parent);
	cr_expect_arr_eq(k.s[1].trace_id, want_trace, 16, "the incoming trace id, not a fresh one");
	cr_expect(k.s[2].flags & SPAN_F_PARTIAL);
	cr_expect_neq(memcmp(k.s[2].trace_id, zero, 16), 0);
	cr_expect_neq(memcmp(k.s[0].trace_id, k.s[2].trace_id, 16), 0, "each request its own trace");
	cr_expect_neq(memcmp(k.s[0].span_id, k.s[1].span_id, 8), 0);
	cr_expect_neq(memcmp(k.s[1].span_id, k.s[2].span_id, 8), 0);
}

/* ---- choosing among several: a made-up protocol "XP/1" beside HTTP/1 --------------- */

static struct {
	int feeds;
	uint64_t ts[8];
	char bytes[256];
	size_t len;
	bool closed;
} xp;

static int xp_classify(const uint8_t *data, uint32_t len, int dir)
{
	static const char magic[] = "XP/1";
	uint32_t n = len < 4 ? len : 4;

	if (memcmp(data, magic, n))
		return PROTO_NO;
	return len >= 4 ? PROTO_YES : PROTO_MAYBE;
}

static void *xp_new(const struct httpconn_info *info, const struct httpconn_opts *opts)
{
	memset(&xp, 0, sizeof(xp));
	return &xp;
}

static int xp_feed(void *p, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
		   uint32_t captured, uint64_t len, struct span_sink *sink)
{
	if (xp.feeds < 8)
		xp.ts[xp.feeds] = ts_ns;
	xp.feeds++;
	if (xp.len + captured < sizeof(xp.bytes)) {
		memcpy(xp.bytes + xp.len, data, captured);
		xp.len += captured;
	}
	return HTTPCONN_HTTP;
}

static void xp_close(void *p, uint64_t ts_ns, struct span_sink *sink)
{
	xp.closed = true;
}

static const struct proto_ops proto_xp = {
	.name = "xp", .classify = xp_classify, .new = xp_new, .feed = xp_feed, .close = xp_close,
};

static void with_xp(void)
{
	extern const struct proto_ops proto_http1;
	static const struct proto_ops *const table[] = { &proto_xp, &proto_http1, NULL };

	proto_use_table(table);
}

static void builtin_table(void)
{
	proto_use_table(NULL);
}

TestSuite(proto_choice, .init = with_xp, .fini = builtin_table);

static struct httpconn *conn(bool midstream)
{
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .role = SPAN_ROLE_CLIENT,
				      .midstream = midstream };

	return httpconn_new(&info, NULL);
}

Test(proto_choice, unsure_bytes_are_held_and_handed_over_as_they_came)
{
	struct httpconn *c = conn(false);

	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 1, "X", NULL), HTTPCONN_UNKNOWN);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 2, "P", NULL), HTTPCONN_UNKNOWN);
	cr_expect_null(httpconn_proto(c));
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 3, "/1 hello", NULL), HTTPCONN_HTTP);
	cr_expect_eq(httpconn_proto(c), &proto_xp);
	cr_expect_eq(xp.feeds, 3, "three feeds, as they came");
	cr_expect(xp.ts[0] == 1 && xp.ts[1] == 2 && xp.ts[2] == 3, "with their own times");
	cr_expect_eq(xp.len, 10);
	cr_expect_eq(memcmp(xp.bytes, "XP/1 hello", 10), 0);
	feed(c, HTTPCONN_INGRESS, 4, "XP/1 ok", NULL);
	cr_expect_eq(xp.feeds, 4, "and everything after");
	httpconn_close(c, 5, NULL);
	cr_expect(xp.closed);
}

Test(proto_choice, a_first_feed_longer_than_the_hold_still_chooses)
{
	struct httpconn *c = conn(false);
	char big[200];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "XP/1", 4);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 1, big, NULL), HTTPCONN_HTTP);
	cr_expect_eq(httpconn_proto(c), &proto_xp);
	cr_expect_eq(xp.len, sizeof(big) - 1);
	httpconn_close(c, 2, NULL);
}

Test(proto_choice, http1_keeps_what_is_its_own_and_judges_the_unclaimed)
{
	struct httpconn *c = conn(false);

	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", NULL),
		     HTTPCONN_HTTP);
	cr_expect_eq(httpconn_proto(c), proto_find("http1"));
	httpconn_close(c, 2, NULL);

	/* "X" might be XP: held; "XGET" is not, nor HTTP/1: HTTP/1 is told, and says no. */
	c = conn(false);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 1, "X", NULL), HTTPCONN_UNKNOWN);
	cr_expect_eq(feed(c, HTTPCONN_EGRESS, 2, "GET / HTTP/1.1\r\n\r\n", NULL), HTTPCONN_NOT_HTTP);
	cr_expect_eq(httpconn_proto(c), proto_find("http1"));
	httpconn_close(c, 3, NULL);

	/* Mid-stream, first bytes are no message start: HTTP/1, which resyncs. */
	c = conn(true);
	feed(c, HTTPCONN_EGRESS, 1, "XP/1 hello", NULL);
	cr_expect_eq(httpconn_proto(c), proto_find("http1"));
	httpconn_close(c, 2, NULL);
}
