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
