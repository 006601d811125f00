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
