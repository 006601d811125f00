// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 frames and HPACK, driven with byte sequences: frames are written out here,
 * header blocks made by libnghttp2's deflater (an encoder independent of the decoding
 * under test, with its own dynamic table), and the expected spans are literals.
 */
#include <criterion/criterion.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/http2.h"
#include "spanfile.h"

#define IN HTTPCONN_INGRESS
#define OUT HTTPCONN_EGRESS

struct kept2 {
	struct span s;
	char method[32], target[512], host[128], req_headers[4096], resp_headers[4096];
	char grpc_service[128], grpc_method[128], grpc_message[256];
};

static struct kept2 got[64];
static int ngot;

static int keep(struct span_sink *sink, const struct span *s)
{
	struct kept2 *k = &got[ngot++];

	cr_assert_lt(ngot, 64);
	k->s = *s;
	snprintf(k->method, sizeof(k->method), "%s", s->method);
	snprintf(k->target, sizeof(k->target), "%s", s->target);
	snprintf(k->host, sizeof(k->host), "%s", s->host);
	snprintf(k->req_headers, sizeof(k->req_headers), "%.*s", (int)s->req_headers_len,
		 s->req_headers ? s->req_headers : "");
	snprintf(k->resp_headers, sizeof(k->resp_headers), "%.*s", (int)s->resp_headers_len,
		 s->resp_headers ? s->resp_headers : "");
	if (s->grpc) {
		snprintf(k->grpc_service, sizeof(k->grpc_service), "%s", s->grpc_service);
		snprintf(k->grpc_method, sizeof(k->grpc_method), "%s", s->grpc_method);
		snprintf(k->grpc_message, sizeof(k->grpc_message), "%s",
			 s->grpc_message ? s->grpc_message : "(none)");
	}
	return 0;
}

static struct span_sink sink = { .emit = keep };

/* ---- wire builders ------------------------------------------------------------------ */

struct wire {
	uint8_t b[1 << 17];
	size_t n;
};

static void put(struct wire *w, const void *p, size_t n)
{
	cr_assert_leq(w->n + n, sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void frame(struct wire *w, uint8_t type, uint8_t flags, uint32_t sid, const void *payload,
		  size_t len)
{
	uint8_t h[9] = { len >> 16, len >> 8, len, type, flags, sid >> 24, sid >> 16, sid >> 8, sid };

	put(w, h, 9);
	if (len)
		put(w, payload, len);
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

/* A header block from @d for @nva. */
static size_t block(nghttp2_hd_deflater *d, uint8_t *out, size_t cap, const nghttp2_nv *nva, size_t n)
{
	ssize_t rv = nghttp2_hd_deflate_hd(d, out, cap, nva, n);

	cr_assert_geq(rv, 0);
	return (size_t)rv;
}

static struct http2 *conn(uint8_t role, bool midstream)
{
	struct httpconn_info info = { .conn_id = 7, .pid = 42, .role = role, .midstream = midstream,
				      .source = SPAN_SOURCE_SYSCALL };

	ngot = 0;
	memcpy(info.comm, "srv", 4);
	return http2_new(&info, NULL);
}

static void feed(struct http2 *c, int dir, uint64_t ts, const struct wire *w)
{
	cr_assert_geq(http2_feed(c, dir, ts, 1, w->b, w->n, w->n, &sink), 0);
}

static const uint8_t settings_payload[] = { 0, 3, 0, 0, 0, 100 }; /* MAX_CONCURRENT_STREAMS 100 */

/* ---- tests -------------------------------------------------------------------------- */

Test(http2, classify)
{
	static const uint8_t settings[] = { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3 };
	static const uint8_t ack[] = { 0, 0, 0, 4, 1, 0, 0, 0, 0 };

	cr_assert_eq(http2_classify((const uint8_t *)HTTP2_PREFACE, 24, 0), HTTP2_YES);
	cr_assert_eq(http2_classify((const uint8_t *)HTTP2_PREFACE, 10, 0), HTTP2_MAYBE);
	cr_assert_eq(http2_classify((const uint8_t *)"PRI * HTTP/1.1", 14, 0), HTTP2_NO);
	cr_assert_eq(http2_classify(settings, sizeof(settings), 1), HTTP2_YES);
	cr_assert_eq(http2_classify(settings, 5, 1), HTTP2_MAYBE);
	cr_assert_eq(http2_classify(ack, sizeof(ack), 1), HTTP2_NO);
	cr_assert_eq(http2_classify((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 0), HTTP2_NO);
	cr_assert_eq(http2_classify((const uint8_t *)"\0\0\7\4\0\0\0\0\0", 9, 0), HTTP2_NO);
}

/* A server's view: preface, SETTINGS and one GET in, SETTINGS, HEADERS, DATA out. */
static void one_exchange(struct http2 *c, nghttp2_hd_deflater *req_enc, nghttp2_hd_deflater *resp_enc,
			 uint32_t sid, const char *path, bool bytewise, size_t *req_len, size_t *resp_len)
{
	nghttp2_nv req[] = { NV(":method", "GET"), NV(":scheme", "http"), { (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
			     NV(":authority", "example.test"), NV("user-agent", "unit/1"),
			     NV("authorization", "Bearer secret"), NV("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") };
	nghttp2_nv resp[] = { NV(":status", "200"), NV("content-type", "text/plain"), NV("set-cookie", "a=b") };
	struct wire in = { .n = 0 }, out = { .n = 0 };
	uint8_t blk[1024];
	size_t n;

	if (sid == 1) {
		put(&in, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
		frame(&in, 4, 0, 0, settings_payload, sizeof(settings_payload));
	}
	n = block(req_enc, blk, sizeof(blk), req, 7);
	frame(&in, 1, 0x5, sid, blk, n);
	*req_len = 9 + n;
	if (sid == 1)
		frame(&out, 4, 0, 0, settings_payload, sizeof(settings_payload));
	n = block(resp_enc, blk, sizeof(blk), resp, 3);
	frame(&out, 1, 0x4, sid, blk, n);
	frame(&out, 0, 0x1, sid, "hello\n", 6);
	*resp_len = 9 + n + 9 + 6;
	if (bytewise) {
		for (size_t i = 0; i < in.n; i++)
			cr_assert_geq(http2_feed(c, IN, 1000 + i, 1, in.b + i, 1, 1, &sink), 0);
		for (size_t i = 0; i < out.n; i++)
			cr_assert_geq(http2_feed(c, OUT, 5000 + i, 1, out.b + i, 1, 1, &sink), 0);
	} else {
		feed(c, IN, 1000, &in);
		feed(c, OUT, 5000, &out);
	}
}

static void check_get(const struct kept2 *k, uint32_t sid, const char *path, size_t rq, size_t rs)
{
	cr_assert_str_eq(k->method, "GET");
	cr_assert_str_eq(k->target, path);
	cr_assert_str_eq(k->host, "example.test");
	cr_assert_eq(k->s.status, 200);
	cr_assert_eq(k->s.http_major, 2);
	cr_assert_eq(k->s.stream_id, sid);
	cr_assert_eq(k->s.req_bytes, rq);
	cr_assert_eq(k->s.resp_bytes, rs);
	cr_assert_eq(k->s.role, SPAN_ROLE_SERVER);
	cr_assert(k->s.has_parent);
	cr_assert_eq(k->s.trace_id[0], 0x0a);
	cr_assert_eq(k->s.parent_span_id[7], 0x31);
	cr_assert_str_eq(k->req_headers, "user-agent: unit/1\r\nauthorization: [redacted]\r\n"
					 "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n");
	cr_assert_str_eq(k->resp_headers, "content-type: text/plain\r\nset-cookie: [redacted]\r\n");
	cr_assert(k->s.flags & SPAN_F_REDACTED);
	cr_assert_not(k->s.flags & (SPAN_F_PARTIAL | SPAN_F_HPACK_UNSEEN | SPAN_F_TRUNCATED));
	cr_assert_not(k->s.grpc);
}

Test(http2, get_whole_and_bytewise)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		nghttp2_hd_deflater *qe, *pe;
		struct http2 *c = conn(SPAN_ROLE_SERVER, false);
		size_t rq, rs;

		nghttp2_hd_deflate_new(&qe, 4096);
		nghttp2_hd_deflate_new(&pe, 4096);
		one_exchange(c, qe, pe, 1, "/a?b=1", bytewise, &rq, &rs);
		cr_assert_eq(ngot, 1, "bytewise %d: %d spans", bytewise, ngot);
		check_get(&got[0], 1, "/a?b=1", rq, rs);
		/* from the first byte of the HEADERS frame */
		cr_assert_eq(got[0].s.start_ns, bytewise ? 1000 + 24 + 15 : 1000);
		/* the second exchange uses the encoders' dynamic tables */
		one_exchange(c, qe, pe, 3, "/a?b=1", bytewise, &rq, &rs);
		cr_assert_eq(ngot, 2);
		check_get(&got[1], 3, "/a?b=1", rq, rs);
		cr_assert_lt(rq, 40, "the second block is mostly table references (%zu)", rq);
		http2_close(c, 9999, &sink);
		cr_assert_eq(ngot, 2);
		nghttp2_hd_deflate_del(qe);
		nghttp2_hd_deflate_del(pe);
	}
}

/* HEADERS with PADDED and PRIORITY, the block split over two CONTINUATIONs, a request
 * body; a second stream the server resets; the client's view (egress requests). */
Test(http2, continuation_padding_priority_rst)
{
	nghttp2_nv req[] = { NV(":method", "POST"), NV(":scheme", "http"), NV(":path", "/upload/big"),
			     NV(":authority", "h"), NV("x-long", "0123456789012345678901234567890123456789") };
	nghttp2_nv req2[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":path", "/two"),
			      NV(":authority", "h") };
	nghttp2_nv resp[] = { NV(":status", "201") };
	static const uint8_t cancel[4] = { 0, 0, 0, 8 };
	nghttp2_hd_deflater *qe, *pe;
	struct http2 *c = conn(SPAN_ROLE_CLIENT, false);
	struct wire out = { .n = 0 }, in = { .n = 0 };
	uint8_t blk[1024], pl[1200];
	size_t n, a, b, rq1, rq3, rs1;

	nghttp2_hd_deflate_new(&qe, 4096);
	nghttp2_hd_deflate_new(&pe, 4096);
	put(&out, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	frame(&out, 4, 0, 0, NULL, 0);
	n = block(qe, blk, sizeof(blk), req, 5);
	a = n / 3, b = 2 * n / 3;
	/* pad length 3, 5 priority bytes, the first fragment, 3 padding bytes */
	pl[0] = 3;
	memset(pl + 1, 0, 5);
	pl[5] = 16;
	memcpy(pl + 6, blk, a);
	memset(pl + 6 + a, 0, 3);
	frame(&out, 1, 0x8 | 0x20, 1, pl, 6 + a + 3);
	frame(&out, 9, 0, 1, blk + a, b - a);
	frame(&out, 9, 0x4, 1, blk + b, n - b);
	frame(&out, 0, 0x1, 1, "body=1", 6);
	rq1 = 9 + 6 + a + 3 + 9 + (b - a) + 9 + (n - b) + 9 + 6;
	n = block(qe, pl, sizeof(pl), req2, 4);
	frame(&out, 1, 0x5, 3, pl, n);
	rq3 = 9 + n;
	feed(c, OUT, 100, &out);
	cr_assert_eq(ngot, 0);

	frame(&in, 4, 0, 0, NULL, 0);
	frame(&in, 4, 1, 0, NULL, 0);
	frame(&in, 3, 0, 3, cancel, 4);
	n = block(pe, blk, sizeof(blk), resp, 1);
	frame(&in, 1, 0x5, 1, blk, n);
	rs1 = 9 + n;
	feed(c, IN, 200, &in);
	cr_assert_eq(ngot, 2);
	/* the reset one first */
	cr_assert_str_eq(got[0].target, "/two");
	cr_assert_eq(got[0].s.stream_id, 3);
	cr_assert_eq(got[0].s.status, 0);
	cr_assert_eq(got[0].s.req_bytes, rq3);
	cr_assert_eq(got[0].s.resp_bytes, 9 + 4);
	cr_assert(got[0].s.flags & SPAN_F_PARTIAL);
	cr_assert_str_eq(got[1].method, "POST");
	cr_assert_str_eq(got[1].target, "/upload/big");
	cr_assert_str_eq(got[1].req_headers, "x-long: 0123456789012345678901234567890123456789\r\n");
	cr_assert_eq(got[1].s.status, 201);
	cr_assert_eq(got[1].s.role, SPAN_ROLE_CLIENT);
	cr_assert_eq(got[1].s.req_bytes, rq1);
	cr_assert_eq(got[1].s.resp_bytes, rs1);
	cr_assert_eq(got[1].s.start_ns, 100);
	cr_assert_eq(got[1].s.end_ns, 200);
	cr_assert_eq(got[1].s.flags, 0);
	http2_close(c, 300, &sink);
	cr_assert_eq(ngot, 2);
	nghttp2_hd_deflate_del(qe);
	nghttp2_hd_deflate_del(pe);
}

/* gRPC: a unary call answered with trailers, a failing call answered trailers-only. */
Test(http2, grpc_trailers)
{
	nghttp2_nv req[] = { NV(":method", "POST"), NV(":scheme", "http"), NV(":path", "/echo.Echo/Say"),
			     NV(":authority", "g"), NV("content-type", "application/grpc"), NV("te", "trailers") };
	nghttp2_nv head[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_nv trailers[] = { NV("grpc-status", "0") };
	nghttp2_nv only[] = { NV(":status", "200"), NV("content-type", "application/grpc+proto"),
			      NV("grpc-status", "5"), NV("grpc-message", "no%20such%20thing") };
	static const uint8_t msg[] = { 0, 0, 0, 0, 2, 0x0a, 0x00 };
	nghttp2_hd_deflater *qe, *pe;
	struct http2 *c = conn(SPAN_ROLE_SERVER, false);
	struct wire in = { .n = 0 }, out = { .n = 0 };
	uint8_t blk[512];
	size_t n;

	nghttp2_hd_deflate_new(&qe, 4096);
	nghttp2_hd_deflate_new(&pe, 4096);
	put(&in, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	frame(&in, 4, 0, 0, NULL, 0);
	for (uint32_t sid = 1; sid <= 3; sid += 2) {
		n = block(qe, blk, sizeof(blk), req, 6);
		frame(&in, 1, 0x4, sid, blk, n);
		frame(&in, 0, 0x1, sid, msg, sizeof(msg));
	}
	feed(c, IN, 10, &in);
	frame(&out, 4, 0, 0, NULL, 0);
	n = block(pe, blk, sizeof(blk), head, 2);
	frame(&out, 1, 0x4, 1, blk, n);
	frame(&out, 0, 0, 1, msg, sizeof(msg));
	n = block(pe, blk, sizeof(blk), trailers, 1);
	frame(&out, 1, 0x5, 1, blk, n);
	n = block(pe, blk, sizeof(blk), only, 4);
	frame(&out, 1, 0x5, 3, blk, n);
	feed(c, OUT, 20, &out);
	cr_assert_eq(ngot, 2);
	cr_assert(got[0].s.grpc);
	cr_assert_str_eq(got[0].grpc_service, "echo.Echo");
	cr_assert_str_eq(got[0].grpc_method, "Say");
	cr_assert_eq(got[0].s.grpc_status, 0);
	cr_assert_str_eq(got[0].grpc_message, "(none)");
	cr_assert_str_eq(got[0].resp_headers, "content-type: application/grpc\r\ngrpc-status: 0\r\n");
	cr_assert(got[1].s.grpc);
	cr_assert_eq(got[1].s.grpc_status, 5);
	cr_assert_str_eq(got[1].grpc_message, "no%20such%20thing");
	cr_assert_eq(got[1].s.status, 200);
	http2_close(c, 30, &sink);
	nghttp2_hd_deflate_del(qe);
	nghttp2_hd_deflate_del(pe);
}

/*
 * Picked up mid-connection: the encoder's table holds entries from before. Fields that
 * name them are unknown (no path is guessed), literals and static entries are decoded,
 * and entries added after the pick-up are known.
 */
Test(http2, midstream_unseen_table)
{
	nghttp2_nv before[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":path", "/secret/path"),
				NV(":authority", "old.test") };
	nghttp2_nv fresh[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":path", "/new/one"),
			       NV(":authority", "old.test"), NV("x-id", "abc") };
	nghttp2_nv resp[] = { NV(":status", "404") };
	nghttp2_hd_deflater *qe, *pe;
	struct http2 *c = conn(SPAN_ROLE_UNKNOWN, true);
	struct wire in, out;
	uint8_t blk[512];
	size_t n;

	nghttp2_hd_deflate_new(&qe, 4096);
	nghttp2_hd_deflate_new(&pe, 4096);
	/* before the capture: fills the tables */
	block(qe, blk, sizeof(blk), before, 4);
	block(pe, blk, sizeof(blk), resp, 1);
	/* Stream 5 repeats an old request: :method GET and :scheme http from the static
	 * table, :path and :authority as the two newest dynamic entries (libnghttp2's
	 * encoder never indexes :path; Go's does). */
	in.n = 0;
	frame(&in, 1, 0x5, 5, "\x82\x86\xbf\xbe", 4);
	feed(c, IN, 10, &in);
	out.n = 0;
	n = block(pe, blk, sizeof(blk), resp, 1);
	frame(&out, 1, 0x5, 5, blk, n);
	feed(c, OUT, 20, &out);
	cr_assert_eq(ngot, 1);
	cr_assert_str_eq(got[0].method, "GET");
	cr_assert_str_eq(got[0].target, "", "a dynamic-table :path is unknown, not guessed: '%s'",
			 got[0].target);
	cr_assert_str_eq(got[0].host, "");
	cr_assert(got[0].s.flags & SPAN_F_HPACK_UNSEEN);
	cr_assert(got[0].s.flags & SPAN_F_MIDSTREAM);
	cr_assert_eq(got[0].s.role, SPAN_ROLE_SERVER, "requests came in: the process serves");
	cr_assert_eq(got[0].s.stream_id, 5);
	/* :status 404 is in the static table */
	cr_assert_eq(got[0].s.status, 404);

	/* stream 7: a new path is a literal (and enters the table), then used again */
	in.n = 0;
	n = block(qe, blk, sizeof(blk), fresh, 5);
	frame(&in, 1, 0x5, 7, blk, n);
	n = block(qe, blk, sizeof(blk), fresh, 5);
	frame(&in, 1, 0x5, 9, blk, n);
	feed(c, IN, 30, &in);
	out.n = 0;
	n = block(pe, blk, sizeof(blk), resp, 1);
	frame(&out, 1, 0x5, 7, blk, n);
	n = block(pe, blk, sizeof(blk), resp, 1);
	frame(&out, 1, 0x5, 9, blk, n);
	feed(c, OUT, 40, &out);
	cr_assert_eq(ngot, 3);
	cr_assert_str_eq(got[1].target, "/new/one");
	cr_assert_str_eq(got[1].req_headers, "x-id: abc\r\n");
	cr_assert(got[1].s.flags & SPAN_F_HPACK_UNSEEN, "its :authority is an old entry");
	cr_assert_str_eq(got[2].target, "/new/one", "an entry added since pick-up is known");
	cr_assert_str_eq(got[2].req_headers, "x-id: abc\r\n");
	http2_close(c, 50, &sink);
	nghttp2_hd_deflate_del(qe);
	nghttp2_hd_deflate_del(pe);
}

/* A table that evicts: many distinct values through a small table, seen from the start
 * (the inflater) and from a pick-up (the known entries): never a wrong value. */
Test(http2, table_eviction)
{
	for (int mid = 0; mid < 2; mid++) {
		nghttp2_hd_deflater *qe, *pe;
		struct http2 *c = conn(SPAN_ROLE_SERVER, mid);
		struct wire in, out;
		uint8_t blk[512];
		char path[64], val[64];
		int known = 0;
		size_t n;

		nghttp2_hd_deflate_new(&qe, 4096);
		nghttp2_hd_deflate_new(&pe, 4096);
		in.n = out.n = 0;
		if (!mid) {
			put(&in, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
			frame(&in, 4, 0, 0, NULL, 0);
		}
		for (int i = 0; i < 200; i++) {
			snprintf(path, sizeof(path), "/item/%d/%040d", i % 37, i % 37);
			snprintf(val, sizeof(val), "v%d", i % 11);
			nghttp2_nv req[] = { NV(":method", "GET"), NV(":scheme", "http"),
					     { (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
					     NV(":authority", "e.test"),
					     { (uint8_t *)"x-v", (uint8_t *)val, 3, strlen(val), 0 } };
			nghttp2_nv resp[] = { NV(":status", "200") };
			uint32_t sid = 1 + 2 * i;

			n = block(qe, blk, sizeof(blk), req, 5);
			frame(&in, 1, 0x5, sid, blk, n);
			n = block(pe, blk, sizeof(blk), resp, 1);
			frame(&out, 1, 0x5, sid, blk, n);
			feed(c, IN, 10 + i, &in);
			feed(c, OUT, 10 + i, &out);
			in.n = out.n = 0;
			cr_assert_eq(ngot, 1);
			if (*got[0].target || !mid)
				cr_assert_str_eq(got[0].target, path, "mid %d, stream %u", mid, sid);
			if (!mid)
				cr_assert_not(got[0].s.flags & SPAN_F_HPACK_UNSEEN);
			else if (i > 100)
				known += *got[0].target != 0;
			ngot = 0;
		}
		if (mid)
			cr_assert_gt(known, 50, "entries added since pick-up resolve (%d)", known);
		http2_close(c, 0, NULL);
		nghttp2_hd_deflate_del(qe);
		nghttp2_hd_deflate_del(pe);
	}
}

/* The fields HTTP/2 adds survive a span file (format 1.1) and its JSON has them. */
Test(http2, spanfile_and_json)
{
	struct span s = { 0 }, back;
	struct spanfile_meta meta = { 0 };
	struct spanfile_writer *w;
	struct spanfile_reader *r;
	struct spanfile_process proc;
	char *a, *b, *data;
	FILE *f = tmpfile();
	long len;

	s.start_ns = 1000;
	s.end_ns = 3000;
	s.method = "POST";
	s.target = "/echo.Echo/Say";
	s.host = "g";
	s.status = 200;
	s.http_major = 2;
	s.stream_id = 77;
	s.flags = SPAN_F_HPACK_UNSEEN;
	s.grpc = true;
	s.grpc_status = 14;
	s.grpc_service = "echo.Echo";
	s.grpc_method = "Say";
	s.grpc_message = "unavailable";
	a = json_dumps(span_to_json(&s, false), JSON_SORT_KEYS);
	cr_assert(strstr(a, "\"version\": \"HTTP/2\""), "%s", a);
	cr_assert(strstr(a, "\"stream_id\": 77"), "%s", a);
	cr_assert(strstr(a, "\"grpc_status\": 14"), "%s", a);
	cr_assert(strstr(a, "\"grpc_service\": \"echo.Echo\""), "%s", a);
	cr_assert(strstr(a, "\"hpack_unseen\""), "%s", a);
	cr_assert_eq(spanfile_writer_fdopen(&w, dup(fileno(f)), &meta), 0);
	cr_assert_eq(spanfile_write_span(w, &s), 0);
	cr_assert_eq(spanfile_writer_close(w), 0);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	data = malloc(len);
	cr_assert_eq(fread(data, 1, len, f), (size_t)len);
	cr_assert(memmem(data, len, "ehttp spans 1.", 14)); /* the fields above are 1.1's */
	cr_assert(SPANFILE_VERSION_MINOR >= 1);
	cr_assert_eq(spanfile_reader_open_mem(&r, data, len, "t"), 0);
	cr_assert_eq(spanfile_next(r, &back, &proc), SPANFILE_SPAN);
	b = json_dumps(span_to_json(&back, false), JSON_SORT_KEYS);
	cr_assert_str_eq(a, b);
	spanfile_reader_close(r);
	free(a);
	free(b);
	free(data);
	fclose(f);
}

/* Through the HTTP/1 parser: prior knowledge is told by the first bytes, and an
 * Upgrade: h2c answered 101 goes on as HTTP/2 with the request as stream 1. */
Test(http2, via_httpconn_prior_knowledge_and_upgrade)
{
	static const char up_req[] = "GET /up HTTP/1.1\r\nHost: u.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
				     "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n";
	static const char up_resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
	struct httpconn_info info = { .conn_id = 9, .pid = 1, .role = SPAN_ROLE_SERVER };
	nghttp2_nv resp[] = { NV(":status", "200"), NV("server", "t") };
	nghttp2_nv req[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":path", "/pk"), NV(":authority", "p") };
	nghttp2_hd_deflater *pe, *qe;
	struct wire in = { .n = 0 }, out = { .n = 0 };
	struct httpconn *c;
	uint8_t blk[256];
	size_t n, rs;

	ngot = 0;
	nghttp2_hd_deflate_new(&pe, 4096);
	nghttp2_hd_deflate_new(&qe, 4096);
	c = httpconn_new(&info, NULL);
	cr_assert_eq(httpconn_feed(c, IN, 10, 1, (const uint8_t *)up_req, sizeof(up_req) - 1,
				   sizeof(up_req) - 1, &sink), HTTPCONN_HTTP);
	/* the 101, the server's SETTINGS and stream 1's response in one write */
	put(&out, up_resp, sizeof(up_resp) - 1);
	frame(&out, 4, 0, 0, settings_payload, sizeof(settings_payload));
	n = block(pe, blk, sizeof(blk), resp, 2);
	frame(&out, 1, 0x4, 1, blk, n);
	frame(&out, 0, 0x1, 1, "ok", 2);
	rs = sizeof(up_resp) - 1 + 9 + n + 9 + 2;
	cr_assert_eq(httpconn_feed(c, OUT, 20, 1, out.b, out.n, out.n, &sink), HTTPCONN_HTTP);
	cr_assert_eq(ngot, 1);
	cr_assert_str_eq(got[0].method, "GET");
	cr_assert_str_eq(got[0].target, "/up");
	cr_assert_str_eq(got[0].host, "u.test");
	cr_assert_eq(got[0].s.status, 200);
	cr_assert_eq(got[0].s.http_major, 2);
	cr_assert_eq(got[0].s.stream_id, 1);
	cr_assert_eq(got[0].s.req_bytes, sizeof(up_req) - 1);
	cr_assert_eq(got[0].s.resp_bytes, rs);
	cr_assert_eq(got[0].s.start_ns, 10);
	cr_assert_eq(got[0].s.end_ns, 20);
	cr_assert_str_eq(got[0].resp_headers, "server: t\r\n");
	/* then the client's preface and a second request on stream 3 */
	put(&in, HTTP2_PREFACE, HTTP2_PREFACE_LEN);
	frame(&in, 4, 0, 0, NULL, 0);
	n = block(qe, blk, sizeof(blk), req, 4);
	frame(&in, 1, 0x5, 3, blk, n);
	cr_assert_eq(httpconn_feed(c, IN, 30, 1, in.b, in.n, in.n, &sink), HTTPCONN_HTTP);
	out.n = 0;
	n = block(pe, blk, sizeof(blk), resp, 2);
	frame(&out, 1, 0x5, 3, blk, n);
	cr_assert_eq(httpconn_feed(c, OUT, 40, 1, out.b, out.n, out.n, &sink), HTTPCONN_HTTP);
	cr_assert_eq(ngot, 2);
	cr_assert_str_eq(got[1].target, "/pk");
	httpconn_close(c, 50, &sink);
	cr_assert_eq(ngot, 2);

	/* prior knowledge: a client whose first bytes are the preface */
	ngot = 0;
	info.role = SPAN_ROLE_CLIENT;
	c = httpconn_new(&info, NULL);
	cr_assert_eq(httpconn_feed(c, OUT, 60, 1, in.b, in.n, in.n, &sink), HTTPCONN_HTTP);
	cr_assert_eq(httpconn_feed(c, IN, 70, 1, out.b, out.n, out.n, &sink), HTTPCONN_HTTP);
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].s.role, SPAN_ROLE_CLIENT);
	cr_assert_str_eq(got[0].target, "/pk");
	httpconn_close(c, 80, &sink);
	nghttp2_hd_deflate_del(pe);
	nghttp2_hd_deflate_del(qe);
}
