// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.x reassembly, parsing and pairing, driven with hand-written wire bytes. The
 * expected spans are written out here (byte counts are the lengths of the literals fed),
 * never derived from the parser.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http1_lines.h"
#include "httpconn.h"

#define IN HTTPCONN_INGRESS
#define OUT HTTPCONN_EGRESS

/* ---- a sink that keeps copies ----------------------------------------------------------- */

struct kept {
	struct span s;
	char method[32], target[4096], host[256];
	char req_headers[8192], resp_headers[8192];
};

struct collector {
	struct kept spans[64];
	int n;
	int fail_with; /* emit returns this */
};

static int collect(struct span_sink *sink, const struct span *s)
{
	struct collector *col = sink->ctx;
	struct kept *k;

	cr_assert_lt(col->n, 64);
	k = &col->spans[col->n++];
	k->s = *s;
	cr_assert_not_null(s->method);
	cr_assert_not_null(s->target);
	cr_assert_not_null(s->host);
	snprintf(k->method, sizeof(k->method), "%s", s->method);
	snprintf(k->target, sizeof(k->target), "%s", s->target);
	snprintf(k->host, sizeof(k->host), "%s", s->host);
	k->req_headers[0] = k->resp_headers[0] = '\0';
	if (s->req_headers)
		snprintf(k->req_headers, sizeof(k->req_headers), "%.*s", (int)s->req_headers_len,
			 s->req_headers);
	if (s->resp_headers)
		snprintf(k->resp_headers, sizeof(k->resp_headers), "%.*s", (int)s->resp_headers_len,
			 s->resp_headers);
	return col->fail_with;
}

static struct collector col;
static struct span_sink sink = { .emit = collect, .ctx = &col };

static void reset(void)
{
	memset(&col, 0, sizeof(col));
}

static struct httpconn *conn(uint8_t role, bool midstream)
{
	struct httpconn_info info = { .conn_id = 7, .pid = 1234, .role = role,
				      .midstream = midstream, .source = SPAN_SOURCE_SYSCALL };
	struct httpconn_opts opts = { 0 };

	strcpy(info.comm, "nginx");
	info.local.family = AF_INET;
	info.local.port = 8080;
	inet_pton(AF_INET, "127.0.0.1", info.local.addr);
	info.remote.family = AF_INET;
	info.remote.port = 50000;
	inet_pton(AF_INET, "127.0.0.1", info.remote.addr);
	reset();
	return httpconn_new(&info, &opts);
}

static int feed(struct httpconn *c, enum httpconn_dir dir, uint64_t ts, const char *bytes)
{
	size_t n = strlen(bytes);

	return httpconn_feed(c, dir, ts, 99, (const uint8_t *)bytes, n, n, &sink);
}

/* @len bytes on the wire, only the first @captured of @bytes copied */
static int feed_cut(struct httpconn *c, enum httpconn_dir dir, uint64_t ts, const char *bytes,
		    uint32_t captured, uint64_t len)
{
	return httpconn_feed(c, dir, ts, 99, (const uint8_t *)bytes, captured, len, &sink);
}

#define REQ1 "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
#define RESP1 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
#define REQ2 "POST /api/items HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\n\r\n{\"id\":1234}"
#define RESP2 "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n"

static void expect_span(int i, const char *method, const char *target, const char *host,
			uint16_t status, uint64_t req_bytes, uint64_t resp_bytes, uint32_t flags)
{
	const struct kept *k;

	cr_assert_lt(i, col.n, "span %d missing (have %d)", i, col.n);
	k = &col.spans[i];
	cr_expect_str_eq(k->method, method, "span %d method", i);
	cr_expect_str_eq(k->target, target, "span %d target", i);
	cr_expect_str_eq(k->host, host, "span %d host", i);
	cr_expect_eq(k->s.status, status, "span %d status %u, want %u", i, k->s.status, status);
	cr_expect_eq(k->s.req_bytes, req_bytes, "span %d req_bytes %lu, want %lu", i,
		     (unsigned long)k->s.req_bytes, (unsigned long)req_bytes);
	cr_expect_eq(k->s.resp_bytes, resp_bytes, "span %d resp_bytes %lu, want %lu", i,
		     (unsigned long)k->s.resp_bytes, (unsigned long)resp_bytes);
	cr_expect_eq(k->s.flags, flags, "span %d flags %#x, want %#x", i, k->s.flags, flags);
}

/* ---- classification ---------------------------------------------------------------------- */

static int classify(const char *s)
{
	return httpconn_classify((const uint8_t *)s, strlen(s));
}

Test(httpconn, classify_first_bytes)
{
	cr_expect_eq(classify("GET / HTTP/1.1\r\n"), HTTPCONN_HTTP);
	cr_expect_eq(classify("POST "), HTTPCONN_HTTP);
	cr_expect_eq(classify("OPTIONS * HTTP/1.1"), HTTPCONN_HTTP);
	cr_expect_eq(classify("PATCH /x"), HTTPCONN_HTTP);
	cr_expect_eq(classify("HTTP/1.1 200 OK"), HTTPCONN_HTTP);
	cr_expect_eq(classify("HTTP/1.0 "), HTTPCONN_HTTP);
	cr_expect_eq(classify(""), HTTPCONN_UNKNOWN);
	cr_expect_eq(classify("GE"), HTTPCONN_UNKNOWN);
	cr_expect_eq(classify("DELETE"), HTTPCONN_UNKNOWN, "no space yet");
	cr_expect_eq(classify("HTTP/"), HTTPCONN_UNKNOWN);
	cr_expect_eq(classify("GETX / HTTP/1.1"), HTTPCONN_NOT_HTTP);
	cr_expect_eq(classify("get / HTTP/1.1"), HTTPCONN_NOT_HTTP, "methods are case-sensitive");
	cr_expect_eq(classify("HTTP/2 200"), HTTPCONN_NOT_HTTP);
	cr_expect_eq(classify("PRI * HTTP/2.0\r\n"), HTTPCONN_NOT_HTTP, "h2 preface");
	cr_expect_eq(classify("SSH-2.0-OpenSSH_9.2"), HTTPCONN_NOT_HTTP);
	cr_expect_eq(httpconn_classify((const uint8_t *)"\x16\x03\x01\x02\x00\x01", 6),
		     HTTPCONN_NOT_HTTP, "TLS ClientHello");
	cr_expect_eq(httpconn_classify((const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8),
		     HTTPCONN_NOT_HTTP, "PostgreSQL SSLRequest");
}

Test(http1, start_lines)
{
	struct http1_request_line rl;
	struct http1_status_line sl;

	cr_assert(http1_parse_request_line("GET /a?b=c HTTP/1.1", 19, &rl));
	cr_expect_eq(rl.method_len, 3);
	cr_expect_eq(rl.target_len, 6);
	cr_expect_eq(rl.minor, 1);
	cr_expect(http1_parse_request_line("PROPFIND / HTTP/1.0", 19, &rl));
	cr_expect_not(http1_parse_request_line("GET  HTTP/1.1", 13, &rl));
	cr_expect_not(http1_parse_request_line("GET / HTTP/2.0", 14, &rl));
	cr_expect_not(http1_parse_request_line("GET /a b HTTP/1.1", 17, &rl));
	cr_expect_not(http1_parse_request_line("get / HTTP/1.1", 14, &rl));
	cr_assert(http1_parse_status_line("HTTP/1.0 404 Not Found", 22, &sl));
	cr_expect_eq(sl.status, 404);
	cr_expect_eq(sl.minor, 0);
	cr_expect(http1_parse_status_line("HTTP/1.1 200", 12, &sl));
	cr_expect_not(http1_parse_status_line("HTTP/1.1 20", 11, &sl));
	cr_expect_not(http1_parse_status_line("HTTP/1.1 700 X", 14, &sl));
	cr_expect_not(http1_parse_status_line("HTTP/1.1 2000", 13, &sl));
}

Test(http1, fields)
{
	uint64_t n;

	cr_expect(http1_parse_content_length("42", 2, &n) && n == 42);
	cr_expect(http1_parse_content_length("42, 42", 6, &n) && n == 42);
	cr_expect_not(http1_parse_content_length("42, 43", 6, &n));
	cr_expect_not(http1_parse_content_length("-1", 2, &n));
	cr_expect_not(http1_parse_content_length("", 0, &n));
	cr_expect_not(http1_parse_content_length("99999999999999999999", 20, &n));
	cr_expect(http1_te_chunked("gzip, chunked", 13));
	cr_expect(http1_te_chunked("Chunked", 7));
	cr_expect_not(http1_te_chunked("chunked, gzip", 13));
	cr_expect(http1_parse_chunk_size("1a;name=val", 11, &n) && n == 26);
	cr_expect(http1_parse_chunk_size("FF ", 3, &n) && n == 255);
	cr_expect_not(http1_parse_chunk_size("", 0, &n));
	cr_expect_not(http1_parse_chunk_size("zz", 2, &n));
	cr_expect_not(http1_parse_chunk_size("1000000000000000", 16, &n));
	cr_expect_eq(http1_field_kind("Set-Cookie", 10), HTTP1_F_CREDENTIAL);
	cr_expect_eq(http1_field_kind("PROXY-AUTHORIZATION", 19), HTTP1_F_CREDENTIAL);
	cr_expect_eq(http1_field_kind("content-length", 14), HTTP1_F_CONTENT_LENGTH);
}

Test(http1, field_names)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~";
	const char *name, *value;
	size_t name_len, value_len;
	unsigned int c;

	/* A name is a token (RFC 9110 tchar) right up to the first colon. */
	for (c = 0; c < 0x100; c++) {
		char line[] = { 'X', (char)c, ':', ' ', 'v' };
		bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || (c && strchr(tchars, c));

		if (c == ':')
			continue;
		cr_expect_eq(http1_parse_field(line, sizeof(line), &name, &name_len, &value,
					       &value_len),
			     tchar, "byte %#x", c);
	}
	cr_assert(http1_parse_field("A:b:c", 5, &name, &name_len, &value, &value_len));
	cr_expect(name_len == 1 && value_len == 3 && !memcmp(value, "b:c", 3));
	cr_expect_not(http1_parse_field(":x", 2, &name, &name_len, &value, &value_len));
	cr_expect_not(http1_parse_field("Host", 4, &name, &name_len, &value, &value_len));
	cr_expect_not(http1_parse_field("Ho st: x", 8, &name, &name_len, &value, &value_len));
	cr_expect_not(http1_parse_field("Host : x", 8, &name, &name_len, &value, &value_len));
	cr_assert(http1_parse_field("Host:", 5, &name, &name_len, &value, &value_len));
	cr_expect(name_len == 4 && value_len == 0);

	/* Kinds ignore ASCII case only. */
	cr_expect_eq(http1_field_kind("hOsT", 4), HTTP1_F_HOST);
	cr_expect_eq(http1_field_kind("TraceParent", 11), HTTP1_F_TRACEPARENT);
	cr_expect_eq(http1_field_kind("Transfer-ENCODING", 17), HTTP1_F_TRANSFER_ENCODING);
	cr_expect_eq(http1_field_kind("cookie", 6), HTTP1_F_CREDENTIAL);
	cr_expect_eq(http1_field_kind("Authorization", 13), HTTP1_F_CREDENTIAL);
	cr_expect_eq(http1_field_kind("Host", 3), HTTP1_F_OTHER);
	cr_expect_eq(http1_field_kind("Hosts", 5), HTTP1_F_OTHER);
	cr_expect_eq(http1_field_kind("Date", 4), HTTP1_F_OTHER);
	cr_expect_eq(http1_field_kind("H\0st", 4), HTTP1_F_OTHER);
	cr_expect_eq(http1_field_kind("Hos\xd4", 4), HTTP1_F_OTHER);
	cr_expect_eq(http1_field_kind("Set\rCookie", 10), HTTP1_F_OTHER, "'-' is no '\\r'");
}

/* ---- exchanges ------------------------------------------------------------------------- */

Test(httpconn, keepalive_server)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	cr_expect_eq(feed(c, IN, 1000, REQ1), HTTPCONN_HTTP);
	cr_expect_eq(col.n, 0);
	feed(c, OUT, 2000, RESP1);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/index.html?a=1", "example.com", 200, strlen(REQ1), strlen(RESP1), 0);
	cr_expect_eq(col.spans[0].s.start_ns, 1000);
	cr_expect_eq(col.spans[0].s.end_ns, 2000);
	cr_expect_eq(col.spans[0].s.pid, 1234);
	cr_expect_eq(col.spans[0].s.tid, 99);
	cr_expect_str_eq(col.spans[0].s.comm, "nginx");
	cr_expect_eq(col.spans[0].s.role, SPAN_ROLE_SERVER);
	cr_expect_eq(col.spans[0].s.source, SPAN_SOURCE_SYSCALL);
	cr_expect_eq(col.spans[0].s.conn_id, 7);
	cr_expect_eq(col.spans[0].s.local.port, 8080);
	cr_expect_eq(col.spans[0].s.remote.port, 50000);
	cr_expect_eq(col.spans[0].s.http_major, 1);
	cr_expect_eq(col.spans[0].s.http_minor, 1);
	cr_expect_not(col.spans[0].s.has_parent);
	cr_expect_str_eq(col.spans[0].req_headers, "Host: example.com\r\nUser-Agent: t\r\n");
	cr_expect_str_eq(col.spans[0].resp_headers,
			 "Content-Length: 5\r\nContent-Type: text/plain\r\n");

	feed(c, IN, 3000, REQ2);
	feed(c, OUT, 4000, RESP2);
	cr_assert_eq(col.n, 2);
	expect_span(1, "POST", "/api/items", "example.com", 201, strlen(REQ2), strlen(RESP2), 0);
	cr_expect_eq(col.spans[1].s.start_ns, 3000);
	cr_expect_eq(col.spans[1].s.end_ns, 4000);
	cr_expect_neq(memcmp(col.spans[0].s.span_id, col.spans[1].s.span_id, 8), 0);
	cr_expect_eq(httpconn_state(c), HTTPCONN_HTTP);
	httpconn_close(c, 5000, &sink);
	cr_expect_eq(col.n, 2, "nothing pending at close");
}

Test(httpconn, client_role_and_clock)
{
	struct httpconn_info info = { .pid = 5, .role = SPAN_ROLE_CLIENT, .source = SPAN_SOURCE_SYSCALL };
	struct span_clock clock = { .mono_ns = 1000, .real_ns = 1700000000000000000ull };
	struct httpconn_opts opts = { .clock = &clock };
	struct httpconn *c;

	reset();
	c = httpconn_new(&info, &opts);
	feed(c, OUT, 1500, REQ1);
	feed(c, IN, 2500, RESP1);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/index.html?a=1", "example.com", 200, strlen(REQ1), strlen(RESP1), 0);
	cr_expect_eq(col.spans[0].s.role, SPAN_ROLE_CLIENT);
	cr_expect_eq(col.spans[0].s.start_ns, 1700000000000000500ull);
	cr_expect_eq(col.spans[0].s.end_ns, 1700000000000001500ull);
	httpconn_close(c, 3000, &sink);
}

Test(httpconn, role_inferred_from_requests)
{
	struct httpconn *c = conn(SPAN_ROLE_UNKNOWN, false);

	/* the process sent the request: it is the client */
	feed(c, OUT, 10, REQ1);
	feed(c, IN, 20, RESP1);
	cr_assert_eq(col.n, 1);
	cr_expect_eq(col.spans[0].s.role, SPAN_ROLE_CLIENT);
	expect_span(0, "GET", "/index.html?a=1", "example.com", 200, strlen(REQ1), strlen(RESP1), 0);
	httpconn_close(c, 30, &sink);

	/* it received a request in pieces: server */
	c = conn(SPAN_ROLE_UNKNOWN, false);
	feed(c, IN, 10, "G");
	feed(c, IN, 11, "ET / HTTP/1.0\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.0 204 No Content\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_eq(col.spans[0].s.role, SPAN_ROLE_SERVER);
	expect_span(0, "GET", "/", "", 204, 18, 27, 0);
	cr_expect_eq(col.spans[0].s.http_minor, 0);
	httpconn_close(c, 30, &sink);
}

/*
 * The same keep-alive exchange (two requests and responses, chunked and Content-Length)
 * split into two feeds at every byte position of each direction, and into single bytes:
 * the spans must be the same whatever the split.
 */
#define KA_REQ REQ1 REQ2
#define KA_RESP RESP1 RESP2

static void run_split(size_t req_cut, size_t resp_cut, bool bytewise)
{
	const char *rq = KA_REQ, *rs = KA_RESP;
	size_t r1 = strlen(REQ1), p1 = strlen(RESP1), rn = strlen(rq), pn = strlen(rs);
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	size_t i;

	/* ts: request 1 bytes at 100, response 1 at 200, request 2 at 300, response 2 at 400 */
	if (bytewise) {
		for (i = 0; i < r1; i++)
			httpconn_feed(c, IN, 100, 1, (const uint8_t *)rq + i, 1, 1, &sink);
		for (i = 0; i < p1; i++)
			httpconn_feed(c, OUT, 200, 1, (const uint8_t *)rs + i, 1, 1, &sink);
		for (i = r1; i < rn; i++)
			httpconn_feed(c, IN, 300, 1, (const uint8_t *)rq + i, 1, 1, &sink);
		for (i = p1; i < pn; i++)
			httpconn_feed(c, OUT, 400, 1, (const uint8_t *)rs + i, 1, 1, &sink);
	} else {
		/* a cut inside request 1 puts the rest of request 1 and request 2 in one feed */
		size_t a = req_cut, b = resp_cut;

		if (a <= r1) {
			httpconn_feed(c, IN, 100, 1, (const uint8_t *)rq, a, a, &sink);
			httpconn_feed(c, IN, 100, 1, (const uint8_t *)rq + a, r1 - a, r1 - a, &sink);
		} else {
			httpconn_feed(c, IN, 100, 1, (const uint8_t *)rq, r1, r1, &sink);
		}
		if (b <= p1) {
			httpconn_feed(c, OUT, 200, 1, (const uint8_t *)rs, b, b, &sink);
			httpconn_feed(c, OUT, 200, 1, (const uint8_t *)rs + b, p1 - b, p1 - b, &sink);
		} else {
			httpconn_feed(c, OUT, 200, 1, (const uint8_t *)rs, p1, p1, &sink);
		}
		if (a > r1) {
			httpconn_feed(c, IN, 300, 1, (const uint8_t *)rq + r1, a - r1, a - r1, &sink);
			httpconn_feed(c, IN, 300, 1, (const uint8_t *)rq + a, rn - a, rn - a, &sink);
		} else {
			httpconn_feed(c, IN, 300, 1, (const uint8_t *)rq + r1, rn - r1, rn - r1, &sink);
		}
		if (b > p1) {
			httpconn_feed(c, OUT, 400, 1, (const uint8_t *)rs + p1, b - p1, b - p1, &sink);
			httpconn_feed(c, OUT, 400, 1, (const uint8_t *)rs + b, pn - b, pn - b, &sink);
		} else {
			httpconn_feed(c, OUT, 400, 1, (const uint8_t *)rs + p1, pn - p1, pn - p1, &sink);
		}
	}
	cr_assert_eq(col.n, 2, "split %zu/%zu: %d spans", req_cut, resp_cut, col.n);
	expect_span(0, "GET", "/index.html?a=1", "example.com", 200, 66, 69, 0);
	expect_span(1, "POST", "/api/items", "example.com", 201, 78, 94, 0);
	cr_expect_eq(col.spans[0].s.start_ns, 100);
	cr_expect_eq(col.spans[0].s.end_ns, 200);
	cr_expect_eq(col.spans[1].s.start_ns, 300);
	cr_expect_eq(col.spans[1].s.end_ns, 400);
	cr_expect_str_eq(col.spans[1].resp_headers, "Transfer-Encoding: chunked\r\n");
	cr_expect_str_eq(col.spans[1].req_headers, "Host: example.com\r\nContent-Length: 11\r\n");
	httpconn_close(c, 500, &sink);
	cr_expect_eq(col.n, 2);
}

Test(httpconn, literal_sizes)
{
	/* the byte counts written in run_split, checked once against the literals */
	cr_assert_eq(strlen(REQ1), 66);
	cr_assert_eq(strlen(RESP1), 69);
	cr_assert_eq(strlen(REQ2), 78);
	cr_assert_eq(strlen(RESP2), 94);
}

Test(httpconn, split_at_every_request_byte)
{
	size_t i;

	for (i = 0; i <= strlen(KA_REQ); i++)
		run_split(i, 0, false);
}

Test(httpconn, split_at_every_response_byte)
{
	size_t i;

	for (i = 0; i <= strlen(KA_RESP); i++)
		run_split(0, i, false);
}

Test(httpconn, split_both_ways)
{
	size_t i, j;

	for (i = 0; i <= strlen(KA_REQ); i += 7)
		for (j = 0; j <= strlen(KA_RESP); j += 5)
			run_split(i, j, false);
}

Test(httpconn, one_byte_per_feed)
{
	run_split(0, 0, true);
}

/*
 * A pipelined exchange with every kind of framing, fed as one request stream and one
 * response stream, each cut at two positions: the spans never depend on the cuts.
 */
#define PIPE_REQ                                                                             \
	REQ1 "HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n"                                          \
	     "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n0\r\nT: 1\r\n\r\n" \
	     "GET /n HTTP/1.1\r\nIf-None-Match: \"e\"\r\n\r\n"
#define PIPE_RESP                                                                            \
	RESP1 "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"                               \
	      "HTTP/1.1 100 Continue\r\n\r\n" RESP2 "HTTP/1.1 304 Not Modified\r\n\r\n"

static void run_pipe_split(size_t a1, size_t a2, size_t b1, size_t b2)
{
	const uint8_t *rq = (const uint8_t *)PIPE_REQ, *rs = (const uint8_t *)PIPE_RESP;
	size_t rn = strlen(PIPE_REQ), pn = strlen(PIPE_RESP);
	size_t rc[4] = { 0, a1, a2, rn }, pc[4] = { 0, b1, b2, pn };
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	int i;

	for (i = 0; i < 3; i++)
		httpconn_feed(c, IN, 100, 1, rq + rc[i], rc[i + 1] - rc[i], rc[i + 1] - rc[i], &sink);
	for (i = 0; i < 3; i++)
		httpconn_feed(c, OUT, 200, 1, rs + pc[i], pc[i + 1] - pc[i], pc[i + 1] - pc[i], &sink);
	cr_assert_eq(col.n, 4, "cuts %zu,%zu / %zu,%zu: %d spans", a1, a2, b1, b2, col.n);
	expect_span(0, "GET", "/index.html?a=1", "example.com", 200, 66, 69, 0);
	expect_span(1, "HEAD", "/h", "h", 200, 29, 39, 0);
	expect_span(2, "POST", "/c", "", 201, 70, 25 + 94, 0);
	expect_span(3, "GET", "/n", "", 304, 39, 29, 0);
	httpconn_close(c, 300, &sink);
	cr_assert_eq(col.n, 4);
}

Test(httpconn, pipelined_split_anywhere)
{
	size_t rn = strlen(PIPE_REQ), pn = strlen(PIPE_RESP), i, j;

	cr_assert_eq(rn, 66 + 29 + 70 + 39);
	cr_assert_eq(pn, 69 + 39 + 25 + 94 + 29);
	for (i = 0; i <= rn; i++)
		for (j = i; j <= rn; j += 3)
			run_pipe_split(i, j, pn / 2, pn / 2);
	for (i = 0; i <= pn; i++)
		for (j = i; j <= pn; j += 3)
			run_pipe_split(rn / 3, rn / 3, i, j);
}

Test(httpconn, pipelining_fifo)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
			"HEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n"
			"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n");
	cr_expect_eq(col.n, 0);
	/* the HEAD response announces a length but carries no body */
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nab"
			 "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
			 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 3);
	expect_span(0, "GET", "/1", "h", 200, 28, 40, 0);
	expect_span(1, "HEAD", "/2", "h", 200, 29, 41, 0);
	expect_span(2, "GET", "/3", "h", 404, 28, 45, 0);
	httpconn_close(c, 30, &sink);
	cr_expect_eq(col.n, 3);
}

Test(httpconn, no_body_statuses)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n");
	feed(c, IN, 30, "GET /b HTTP/1.1\r\n\r\n");
	feed(c, OUT, 40, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n");
	feed(c, IN, 50, "GET /c HTTP/1.1\r\n\r\n");
	feed(c, OUT, 60, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 3);
	expect_span(0, "GET", "/a", "", 204, 19, 46, 0);
	expect_span(1, "GET", "/b", "", 304, 19, 40, 0);
	expect_span(2, "GET", "/c", "", 200, 19, 38, 0);
	httpconn_close(c, 70, &sink);
}

Test(httpconn, interim_100_continue)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 100 Continue\r\n\r\n");
	cr_expect_eq(col.n, 0);
	feed(c, IN, 30, "data");
	feed(c, OUT, 40, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
			 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	cr_assert_eq(col.n, 1);
	/* 70 + 4 request bytes; 25 + 44 + 40 response bytes, interim ones included */
	expect_span(0, "PUT", "/up", "h", 200, 74, 109, 0);
	cr_expect_eq(col.spans[0].s.end_ns, 40);
	cr_expect_str_eq(col.spans[0].resp_headers, "Content-Length: 2\r\n");
	httpconn_close(c, 50, &sink);
}

Test(httpconn, switching_protocols_ends_http)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	cr_expect_eq(feed(c, OUT, 20, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"),
		     HTTPCONN_NOT_HTTP);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/ws", "h", 101, 70, 56, 0); /* the head only */
	cr_expect_eq(feed(c, IN, 30, "\x81\x85garbage"), HTTPCONN_NOT_HTTP);
	httpconn_close(c, 40, &sink);
	cr_expect_eq(col.n, 1);
}

Test(httpconn, connect_tunnel_ends_http)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
	cr_expect_eq(feed(c, OUT, 20, "HTTP/1.1 200 Connection Established\r\n\r\n"), HTTPCONN_NOT_HTTP);
	cr_assert_eq(col.n, 1);
	expect_span(0, "CONNECT", "example.com:443", "example.com:443", 200, 59, 39, 0);
	httpconn_close(c, 40, &sink);
}

Test(httpconn, response_delimited_by_close)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /old HTTP/1.0\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
	feed(c, OUT, 30, "</html>");
	cr_expect_eq(col.n, 0);
	httpconn_close(c, 40, &sink);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/old", "", 200, 21, 57, 0);
	cr_expect_eq(col.spans[0].s.end_ns, 30, "end is the last byte, not the close");
	cr_expect_eq(col.spans[0].s.http_minor, 0);
}

Test(httpconn, connection_close_after_response)
{
	struct httpconn *c = conn(SPAN_ROLE_CLIENT, false);

	feed(c, OUT, 10, "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	feed(c, IN, 20, "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/", "h", 500, 46, 79, 0);
	httpconn_close(c, 30, &sink);
	cr_expect_eq(col.n, 1);
}

Test(httpconn, partial_at_close)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feed(c, OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
	cr_assert_eq(col.n, 1);
	httpconn_close(c, 40, &sink);
	cr_assert_eq(col.n, 2);
	expect_span(0, "GET", "/a", "", 200, 19, 38, 0);
	/* cut short: partial, keeps its status and the bytes seen */
	expect_span(1, "GET", "/b", "", 200, 19, 44, SPAN_F_PARTIAL);

	c = conn(SPAN_ROLE_SERVER, false);
	feed(c, IN, 10, "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n");
	httpconn_close(c, 40, &sink);
	cr_assert_eq(col.n, 1);
	expect_span(0, "DELETE", "/x", "h", 0, 31, 0, SPAN_F_PARTIAL);
	cr_expect_eq(col.spans[0].s.end_ns, col.spans[0].s.start_ns);

	/* a NULL sink just frees */
	c = conn(SPAN_ROLE_SERVER, false);
	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\n");
	httpconn_close(c, 40, NULL);
	cr_expect_eq(col.n, 0);
}

Test(httpconn, request_body_in_pieces)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123");
	feed(c, IN, 11, "45");
	feed(c, IN, 12, "6789GET /next HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(0, "POST", "/u", "", 200, 50, 38, 0);
	expect_span(1, "GET", "/next", "", 200, 22, 38, 0);
	cr_expect_eq(col.spans[1].s.start_ns, 12);
	httpconn_close(c, 30, &sink);
}

Test(httpconn, chunked_request_with_trailers)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	const char *req = "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
			  "5\r\nhello\r\n1A ; x=\"y\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nDigest: z\r\nMore: 1\r\n\r\n";

	feed(c, IN, 10, req);
	feed(c, IN, 11, "GET /after HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feed(c, OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(0, "POST", "/c", "", 200, 148, 38, 0);
	expect_span(1, "GET", "/after", "", 200, 23, 38, 0);
	httpconn_close(c, 40, &sink);
}

/* ---- bytes not captured ------------------------------------------------------------------ */

Test(httpconn, body_past_snaplen_is_counted)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"; /* 44 */

	feed(c, IN, 10, "GET /big HTTP/1.1\r\n\r\n");
	/* headers by writev with the first body bytes, then sendfile: nothing copied */
	feed_cut(c, OUT, 20, head, 44, 44 + 4096);
	feed_cut(c, OUT, 30, NULL, 0, 1000000 - 4096 - 100);
	cr_expect_eq(col.n, 0);
	feed_cut(c, OUT, 40, NULL, 0, 100);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/big", "", 200, 21, 1000044, SPAN_F_BODY_UNSEEN);
	cr_expect_eq(col.spans[0].s.end_ns, 40);
	/* the next exchange parses as usual */
	feed(c, IN, 50, "GET /small HTTP/1.1\r\n\r\n");
	feed(c, OUT, 60, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/small", "", 200, 23, 39, 0);
	httpconn_close(c, 70, &sink);
}

Test(httpconn, gap_in_chunked_body_falls_back)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"; /* 55 */

	feed(c, IN, 10, "GET /stream HTTP/1.1\r\n\r\n"); /* 24 */
	/* 16-byte chunk, 4 seen, then 12 unseen and 300 more unseen: past the chunk end */
	feed_cut(c, OUT, 20, r, 55, 55 + 12 + 300);
	feed(c, OUT, 30, "more chunk bytes\r\n0\r\n\r\n"); /* 23 */
	cr_expect_eq(col.n, 0, "the end of the response is unknown");
	/* the next request ends it */
	feed(c, IN, 40, "GET /next HTTP/1.1\r\n\r\n"); /* 22 */
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/stream", "", 200, 24, 55 + 312 + 23, SPAN_F_BODY_UNSEEN);
	cr_expect_eq(col.spans[0].s.end_ns, 30);
	/* and the stream finds the next response start */
	feed(c, OUT, 50, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/next", "", 200, 22, 40, 0);
	httpconn_close(c, 60, &sink);
}

Test(httpconn, gap_in_chunked_body_ends_at_close)
{
	struct httpconn *c = conn(SPAN_ROLE_CLIENT, false);

	feed(c, OUT, 10, "GET /s HTTP/1.1\r\n\r\n");
	feed_cut(c, IN, 20, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", 50, 50 + 1000);
	httpconn_close(c, 30, &sink);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/s", "", 200, 19, 1050, SPAN_F_BODY_UNSEEN);
}

Test(httpconn, gap_in_chunk_data_only)
{
	/* the gap ends inside a chunk: chunk framing goes on */
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n"; /* 52 */

	feed(c, IN, 10, "GET / HTTP/1.1\r\n\r\n");
	feed_cut(c, OUT, 20, r, 52, 52 + 200);
	feed(c, OUT, 30, "01234567890123456789012345678901234567890123456789012345\r\n0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/", "", 200, 18, 52 + 200 + 56 + 7, SPAN_F_BODY_UNSEEN);
	httpconn_close(c, 40, &sink);
}

Test(httpconn, gap_in_request_head_truncates)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static const char req[] = "GET /long HTTP/1.1\r\nHost: h\r\nX-Big: aaaa"; /* 40 */

	feed_cut(c, IN, 10, req, 40, 40 + 5000);
	feed(c, OUT, 20, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/long", "h", 431, 5040, 67, SPAN_F_TRUNCATED);
	/* the next request starts a syscall: picked up again */
	feed(c, IN, 30, "GET /ok HTTP/1.1\r\n\r\n");
	feed(c, OUT, 40, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/ok", "", 200, 20, 38, 0);
	httpconn_close(c, 50, &sink);
}

Test(httpconn, gap_in_start_line)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed_cut(c, IN, 10, "GET /very/long/pa", 17, 3000);
	feed(c, OUT, 20, "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/very/long/pa", "", 414, 3000, 48, SPAN_F_TRUNCATED);
	httpconn_close(c, 50, &sink);
}

Test(httpconn, gap_in_response_head)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\n");
	feed_cut(c, OUT, 20, "HTTP/1.1 200 OK\r\nSet-Cookie: aaaa", 33, 6000);
	cr_expect_eq(col.n, 0);
	feed(c, IN, 30, "GET /b HTTP/1.1\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/a", "", 200, 19, 6000, SPAN_F_TRUNCATED);
	feed(c, OUT, 40, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/b", "", 200, 19, 38, 0);
	httpconn_close(c, 50, &sink);
}

Test(httpconn, whole_response_unseen_keeps_pairing)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\n");
	/* the kernel could not copy any of the response */
	feed_cut(c, OUT, 20, NULL, 0, 500);
	cr_expect_eq(col.n, 0);
	feed(c, IN, 30, "GET /b HTTP/1.1\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/a", "", 0, 19, 500, SPAN_F_TRUNCATED);
	cr_expect_eq(col.spans[0].s.end_ns, 20);
	feed(c, OUT, 40, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/b", "", 200, 19, 38, 0);
	httpconn_close(c, 50, &sink);
}

Test(httpconn, whole_request_unseen_keeps_pairing)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /a HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feed_cut(c, IN, 30, NULL, 0, 77);
	feed(c, OUT, 40, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	expect_span(1, "", "", "", 404, 77, 45, SPAN_F_TRUNCATED);
	feed(c, IN, 50, "GET /c HTTP/1.1\r\n\r\n");
	feed(c, OUT, 60, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 3);
	expect_span(2, "GET", "/c", "", 200, 19, 38, 0);
	httpconn_close(c, 70, &sink);
}

Test(httpconn, http10_keepalive)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	int i;

	for (i = 0; i < 3; i++) {
		feed(c, IN, 10 + i, "GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
		feed(c, OUT, 20 + i, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc");
	}
	cr_assert_eq(col.n, 3);
	for (i = 0; i < 3; i++) {
		expect_span(i, "GET", "/k", "", 200, 43, 65, 0);
		cr_expect_eq(col.spans[i].s.http_minor, 0);
	}
	httpconn_close(c, 50, &sink);
}

Test(httpconn, response_to_nothing_is_dropped)
{
	struct httpconn *c = conn(SPAN_ROLE_CLIENT, false);

	/* a response with no request seen (e.g. a server's unsolicited 408) */
	feed(c, IN, 10, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
	cr_expect_eq(col.n, 0);
	feed(c, OUT, 20, "GET /after HTTP/1.1\r\n\r\n");
	feed(c, IN, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/after", "", 200, 23, 38, 0);
	httpconn_close(c, 40, &sink);
}

Test(httpconn, midstream_with_unknown_role)
{
	struct httpconn *c = conn(SPAN_ROLE_UNKNOWN, true);

	feed(c, OUT, 10, "rest of something\r\n");
	feed(c, IN, 20, "xyz");
	/* the process sends a request: a client */
	feed(c, OUT, 30, "PUT /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");
	feed(c, IN, 40, "HTTP/1.1 204 No Content\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_eq(col.spans[0].s.role, SPAN_ROLE_CLIENT);
	expect_span(0, "PUT", "/p", "", 204, 40, 27, SPAN_F_MIDSTREAM);
	httpconn_close(c, 50, &sink);
}

/* ---- garbage and mid-stream ------------------------------------------------------------- */

Test(httpconn, garbage_is_not_http)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	cr_expect_eq(feed(c, IN, 10, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), HTTPCONN_NOT_HTTP);
	cr_expect_eq(httpconn_state(c), HTTPCONN_NOT_HTTP);
	cr_expect_eq(feed(c, OUT, 20, "HTTP/1.1 200 OK\r\n\r\n"), HTTPCONN_NOT_HTTP);
	httpconn_close(c, 30, &sink);
	cr_expect_eq(col.n, 0);

	/* undecided until enough bytes are there */
	c = conn(SPAN_ROLE_SERVER, false);
	cr_expect_eq(feed(c, IN, 10, "PO"), HTTPCONN_UNKNOWN);
	cr_expect_eq(feed(c, IN, 11, "SX"), HTTPCONN_NOT_HTTP);
	httpconn_close(c, 30, &sink);

	/* a valid first message, then garbage where the next one should start: after
	 * HTTP was seen, that is taken as misread framing, and parsing resumes at the
	 * next message start */
	c = conn(SPAN_ROLE_SERVER, false);
	feed(c, IN, 10, "GET / HTTP/1.1\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_expect_eq(feed(c, IN, 30, "\x01\x02\x03 binary\r\nmore"), HTTPCONN_HTTP);
	feed(c, IN, 40, "GET /b HTTP/1.1\r\n\r\n");
	feed(c, OUT, 50, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	httpconn_close(c, 60, &sink);
	cr_assert_eq(col.n, 2);
	expect_span(1, "GET", "/b", "", 200, 19, 38, 0);

	/* an SMTP banner where a server's response would be */
	c = conn(SPAN_ROLE_CLIENT, false);
	cr_expect_eq(feed(c, IN, 10, "220 mail.example.com ESMTP\r\n"), HTTPCONN_NOT_HTTP);
	httpconn_close(c, 40, &sink);
}

Test(httpconn, midstream_picks_up_at_boundary)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, true);

	/* the tail of a request body and of a response already under way */
	cr_expect_eq(feed(c, IN, 10, "ody\":1}\r\n"), HTTPCONN_UNKNOWN);
	feed(c, OUT, 20, "ta of an earlier response\r\n");
	cr_expect_eq(col.n, 0);
	cr_expect_eq(feed(c, IN, 30, "GET /fresh HTTP/1.1\r\nHost: h\r\n\r\n"), HTTPCONN_HTTP);
	feed(c, OUT, 40, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nnew");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/fresh", "h", 200, 32, 41, SPAN_F_MIDSTREAM);
	httpconn_close(c, 50, &sink);
}

Test(httpconn, midstream_boundary_inside_a_feed)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, true);

	/* the response to a request sent before the capture: parsed, paired with nothing */
	feed(c, IN, 10, "a=1&b=2");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nold!");
	cr_expect_eq(col.n, 0);
	/* the end of some body and a request in the same read */
	feed(c, IN, 30, "&c=3\nGET /x HTTP/1.1\r\n\r\n");
	feed(c, OUT, 40, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/x", "", 201, 19, 43, SPAN_F_MIDSTREAM);
	httpconn_close(c, 30, &sink);
}

Test(httpconn, midstream_false_start_is_skipped)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, true);

	/* body text that starts like a request, then a real one */
	cr_expect_eq(feed(c, IN, 10, "GET is what we said\r\nHTTP/1.1 is nice\r\n"), HTTPCONN_UNKNOWN);
	cr_expect_eq(feed(c, IN, 20, "GET /real HTTP/1.1\r\n\r\n"), HTTPCONN_HTTP);
	feed(c, OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/real", "", 200, 22, 38, SPAN_F_MIDSTREAM);
	httpconn_close(c, 40, &sink);
}

Test(httpconn, midstream_nothing_found_gives_up)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, true);
	static char junk[65536];
	int i, st = HTTPCONN_UNKNOWN;

	memset(junk, 'x', sizeof(junk));
	for (i = 0; i < 20 && st == HTTPCONN_UNKNOWN; i++)
		st = httpconn_feed(c, IN, 10, 1, (const uint8_t *)junk, sizeof(junk), sizeof(junk), &sink);
	cr_expect_eq(st, HTTPCONN_NOT_HTTP);
	httpconn_close(c, 20, &sink);
}

/* ---- headers kept, redaction, trace context -------------------------------------------- */

#define CRED_REQ                                                                             \
	"GET /me HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer s3cr3t\r\n"                 \
	"Proxy-Authorization: Basic dXNlcjpwdw==\r\nCookie: sid=abc;\r\n  folded=secret\r\n"  \
	"Accept: */*\r\n\r\n"
#define CRED_RESP "HTTP/1.1 200 OK\r\nSet-Cookie: sid=new; HttpOnly\r\nContent-Length: 0\r\n\r\n"

Test(httpconn, credentials_redacted)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, CRED_REQ);
	feed(c, OUT, 20, CRED_RESP);
	cr_assert_eq(col.n, 1);
	expect_span(0, "GET", "/me", "api", 200, strlen(CRED_REQ), strlen(CRED_RESP), SPAN_F_REDACTED);
	cr_expect_str_eq(col.spans[0].req_headers,
			 "Host: api\r\nAuthorization: [redacted]\r\nProxy-Authorization: [redacted]\r\n"
			 "Cookie: [redacted]\r\nAccept: */*\r\n");
	cr_expect_str_eq(col.spans[0].resp_headers, "Set-Cookie: [redacted]\r\nContent-Length: 0\r\n");
	httpconn_close(c, 30, &sink);
}

Test(httpconn, malformed_credential_fields_redacted)
{
	struct httpconn *c = conn(SPAN_ROLE_CLIENT, false);

	feed(c, OUT, 10, "GET / HTTP/1.1\r\nCookie : sid=abc\r\nauthorization\t: Basic eA==\r\n\r\n");
	feed(c, IN, 20, "HTTP/1.1 200 OK\r\nSET-COOKIE: a=b\r\n continued=secret\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_str_eq(col.spans[0].req_headers, "Cookie : [redacted]\r\nauthorization\t: [redacted]\r\n");
	cr_expect_str_eq(col.spans[0].resp_headers, "SET-COOKIE: [redacted]\r\nContent-Length: 0\r\n");
	cr_expect_eq(col.spans[0].s.flags, SPAN_F_REDACTED);
	httpconn_close(c, 30, &sink);
}

Test(httpconn, credentials_kept_with_no_redact)
{
	struct httpconn_info info = { .role = SPAN_ROLE_SERVER };
	struct httpconn_opts opts = { .no_redact = true };
	struct httpconn *c;

	reset();
	c = httpconn_new(&info, &opts);
	feed(c, IN, 10, CRED_REQ);
	feed(c, OUT, 20, CRED_RESP);
	cr_assert_eq(col.n, 1);
	cr_expect_eq(col.spans[0].s.flags, 0);
	cr_expect_str_eq(col.spans[0].req_headers,
			 "Host: api\r\nAuthorization: Bearer s3cr3t\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n"
			 "Cookie: sid=abc;\r\n  folded=secret\r\nAccept: */*\r\n");
	cr_expect_str_eq(col.spans[0].resp_headers,
			 "Set-Cookie: sid=new; HttpOnly\r\nContent-Length: 0\r\n");
	httpconn_close(c, 30, &sink);
}

Test(httpconn, header_block_capped)
{
	struct httpconn_info info = { .role = SPAN_ROLE_SERVER };
	struct httpconn_opts opts = { .max_header_bytes = 20 };
	struct httpconn *c;

	reset();
	c = httpconn_new(&info, &opts);
	feed(c, IN, 10, "GET / HTTP/1.1\r\nHost: example.org\r\nAccept: text/html\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_str_eq(col.spans[0].req_headers, "Host: example.org\r\nA");
	cr_expect_str_eq(col.spans[0].resp_headers, "Content-Length: 0\r\n");
	cr_expect_eq(col.spans[0].s.flags, SPAN_F_TRUNCATED);
	cr_expect_str_eq(col.spans[0].host, "example.org", "semantics do not depend on the cap");
	httpconn_close(c, 30, &sink);
}

/* Without a kept copy, a span says what it says with one (truncated, redacted), and
 * carries no block. */
Test(httpconn, header_blocks_not_kept)
{
	struct httpconn_info info = { .role = SPAN_ROLE_SERVER };
	struct httpconn_opts opts = { .max_header_bytes = 20, .no_header_blocks = true };
	struct httpconn *c;

	reset();
	c = httpconn_new(&info, &opts);
	feed(c, IN, 10, "GET / HTTP/1.1\r\nHost: example.org\r\nAccept: text/html\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feed(c, IN, 30, "GET /x HTTP/1.1\r\nCookie: a=b\r\n\r\n");
	feed(c, OUT, 40, "HTTP/1.1 204 No Content\r\n\r\n");
	cr_assert_eq(col.n, 2);
	cr_expect_null(col.spans[0].s.req_headers);
	cr_expect_eq(col.spans[0].s.req_headers_len, 0);
	cr_expect_null(col.spans[0].s.resp_headers);
	cr_expect_eq(col.spans[0].s.flags, SPAN_F_TRUNCATED, "the block would not have fit");
	cr_expect_str_eq(col.spans[0].host, "example.org");
	cr_expect_eq(col.spans[1].s.flags, SPAN_F_REDACTED, "the block would have been redacted");
	httpconn_close(c, 50, &sink);
}

Test(httpconn, traceparent)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static const uint8_t tid[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t pid[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };

	feed(c, IN, 10, "GET /t HTTP/1.1\r\nTRACEPARENT: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n"
			"GET /u HTTP/1.1\r\ntraceparent: 00-zzz\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 2);
	cr_expect(col.spans[0].s.has_parent);
	cr_expect_arr_eq(col.spans[0].s.trace_id, tid, 16);
	cr_expect_arr_eq(col.spans[0].s.parent_span_id, pid, 8);
	cr_expect_not(col.spans[1].s.has_parent, "an invalid traceparent is ignored");
	httpconn_close(c, 30, &sink);
}

Test(httpconn, non_ascii_kept_printable)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	feed(c, IN, 10, "GET /caf\xc3\xa9 HTTP/1.1\r\nX-Name: Jos\xc3\xa9\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_str_eq(col.spans[0].target, "/caf??");
	cr_expect_str_eq(col.spans[0].req_headers, "X-Name: Jos??\r\n");
	httpconn_close(c, 30, &sink);
}

/* What a span keeps of a byte: printable ASCII, and in a header block tabs and line ends. */
static char kept_byte(unsigned char b, bool block)
{
	if (b >= 0x20 && b < 0x7f)
		return b;
	return block && (b == '\t' || b == '\r' || b == '\n') ? b : '?';
}

Test(httpconn, every_byte_cleaned_at_every_alignment)
{
	/* Every byte but the line feed in a header value and in Host, and the visible
	 * ones in the target, shifted through 8 alignments so that each byte is copied
	 * both in a whole word and alone. */
	char req[2048], want_hdrs[1024], want_host[512], want_target[512];
	struct httpconn *c;
	size_t shift;

	for (shift = 0; shift < 8; shift++) {
		size_t n = 0, h = 0, t = 0, hl;
		unsigned int b;

		c = conn(SPAN_ROLE_SERVER, false);
		n += sprintf(req + n, "GET /%.*s", (int)shift, "ssssssss");
		want_target[t++] = '/';
		memset(want_target + t, 's', shift);
		t += shift;
		for (b = 0x21; b < 0x100; b++) {
			if (b == 0x7f)
				continue; /* not a visible byte: the request line would not parse */
			req[n++] = b;
			want_target[t++] = kept_byte(b, false);
		}
		want_target[t] = '\0';
		/* Host is kept up to 256 bytes: leave out the top 8 */
		n += sprintf(req + n, " HTTP/1.1\r\nHost: %.*s", (int)shift, "hhhhhhhh");
		hl = sprintf(want_hdrs, "Host: %.*s", (int)shift, "hhhhhhhh");
		memset(want_host, 'h', shift);
		h = shift;
		for (b = 1; b < 0xf8; b++) {
			if (b == '\n')
				continue;
			req[n++] = b;
			want_host[h++] = kept_byte(b, false);
			want_hdrs[hl++] = kept_byte(b, true);
		}
		want_host[h] = '\0';
		n += sprintf(req + n, "\r\nX-Bytes: %.*s", (int)shift, "xxxxxxxx");
		hl += sprintf(want_hdrs + hl, "\r\nX-Bytes: %.*s", (int)shift, "xxxxxxxx");
		for (b = 0; b < 0x100; b++) {
			if (b == '\n')
				continue;
			req[n++] = b;
			want_hdrs[hl++] = kept_byte(b, true);
		}
		n += sprintf(req + n, "\r\n\r\n");
		hl += sprintf(want_hdrs + hl, "\r\n");
		cr_assert_lt(n, sizeof(req));
		cr_assert_eq(httpconn_feed(c, IN, 10, 99, (const uint8_t *)req, n, n, &sink),
			     HTTPCONN_HTTP);
		feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		cr_assert_eq(col.n, 1, "shift %zu", shift);
		cr_expect_str_eq(col.spans[0].target, want_target, "shift %zu", shift);
		cr_expect_str_eq(col.spans[0].host, want_host, "shift %zu", shift);
		cr_expect_eq(col.spans[0].s.req_headers_len, hl, "shift %zu", shift);
		cr_expect_str_eq(col.spans[0].req_headers, want_hdrs, "shift %zu", shift);
		cr_expect_eq(col.spans[0].s.flags, 0);
		httpconn_close(c, 30, &sink);
	}
}

/* ---- limits and errors ------------------------------------------------------------------ */

Test(httpconn, deep_pipelining_stays_in_order)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	char buf[64];
	int i;

	/* more requests in flight than are tracked: the excess is counted, not misattributed */
	for (i = 0; i < 40; i++) {
		snprintf(buf, sizeof(buf), "GET /%02d HTTP/1.1\r\n\r\n", i);
		feed(c, IN, 10 + i, buf);
	}
	for (i = 0; i < 40; i++) {
		col.n = 0;
		feed(c, OUT, 100 + i, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		if (i < 32) {
			snprintf(buf, sizeof(buf), "/%02d", i);
			cr_assert_eq(col.n, 1, "response %d", i);
			cr_expect_str_eq(col.spans[0].target, buf);
		} else {
			cr_expect_eq(col.n, 0, "response %d to an untracked request", i);
		}
	}
	/* and the next one is tracked again */
	col.n = 0;
	feed(c, IN, 200, "GET /again HTTP/1.1\r\n\r\n");
	feed(c, OUT, 201, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_str_eq(col.spans[0].target, "/again");
	httpconn_close(c, 300, &sink);
}

Test(httpconn, long_lines_are_cut_not_buffered)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);
	static char big[20000];
	int i;

	feed(c, IN, 10, "GET /");
	memset(big, 'a', sizeof(big) - 1);
	for (i = 0; i < 3; i++)
		feed(c, IN, 11, big);
	feed(c, IN, 12, " HTTP/1.1\r\nX-Long: ");
	feed(c, IN, 13, big);
	feed(c, IN, 14, "\r\nHost: h\r\n\r\n");
	feed(c, OUT, 20, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(col.n, 1);
	cr_expect_str_eq(col.spans[0].method, "GET");
	cr_expect_str_eq(col.spans[0].host, "h");
	cr_expect_eq(col.spans[0].s.status, 200);
	cr_expect(col.spans[0].s.flags & SPAN_F_TRUNCATED);
	cr_expect_eq(col.spans[0].s.req_bytes, 5 + 3 * 19999 + 19 + 19999 + 13);
	httpconn_close(c, 30, &sink);
}

Test(httpconn, sink_error_is_returned)
{
	struct httpconn *c = conn(SPAN_ROLE_SERVER, false);

	col.fail_with = -EPIPE;
	feed(c, IN, 10, REQ1);
	cr_expect_eq(feed(c, OUT, 20, RESP1), -EPIPE);
	cr_expect_eq(col.n, 1);
	httpconn_close(c, 30, NULL);
}
