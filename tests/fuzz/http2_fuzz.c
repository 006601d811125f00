// fuzz-sources: lib/proto/http2.c lib/http1_lines.c lib/span.c lib/jsonw.c lib/output.c
/*
 * The HTTP/2 connection parser (frames, streams, HPACK through libnghttp2 and the
 * unseen-table decoder) under arbitrary bytes. The input is a setup byte, then a
 * script of feeds in both directions with arbitrary splits and bytes not captured.
 * Checked on every span: bytes never counted twice, strings printable and bounded,
 * times ordered, stream ids valid, the span serializes to JSON.
 *
 * Setup byte: bits 0-1 role (mod 3), 2 midstream, 3 no redaction, 4-5 header cap, 6 no
 * header blocks kept, 7 an h2c upgrade made stream 1.
 *
 * Then the script of tests/fuzz/feed_script.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_script.h"
#include "proto/http2.h"

struct totals {
	uint64_t fed[2], spent; /* bytes fed (gaps included), bytes spans counted */
	uint64_t upgrade_bytes; /* counted before any feed: the upgrade's HTTP/1 bytes */
	uint32_t max_header_bytes;
	bool no_blocks;
	uint64_t last_ts;
};

#include <stdio.h>
/* What failed is printed: the artifact alone does not say. */
#define require(ok)                                                                        \
	do {                                                                               \
		if (!(ok)) {                                                               \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #ok);           \
			abort();                                                           \
		}                                                                          \
	} while (0)

static void printable(const char *s, size_t max, bool block)
{
	require(s != NULL);
	for (size_t i = 0; s[i]; i++) {
		unsigned char ch = s[i];

		require(i < max);
		require((ch >= 0x20 && ch < 0x7f) || (block && (ch == '\t' || ch == '\r' || ch == '\n')));
	}
}

static int emit(struct span_sink *sink, const struct span *s)
{
	struct totals *t = sink->ctx;
	json_t *j;

	t->spent += s->req_bytes + s->resp_bytes;
	printable(s->method, 64, false);
	printable(s->target, 8192, false);
	printable(s->host, 512, false);
	require(s->end_ns >= s->start_ns && s->end_ns <= t->last_ts);
	require(s->status == 0 || (s->status >= 200 && s->status <= 599));
	require(s->http_major == 2 && s->stream_id && s->stream_id < (1u << 31));
	require(s->role == SPAN_ROLE_SERVER || s->role == SPAN_ROLE_CLIENT);
	require(!t->no_blocks || (!s->req_headers && !s->resp_headers));
	if (s->req_headers) {
		require(s->req_headers_len <= t->max_header_bytes && !s->req_headers[s->req_headers_len]);
		printable(s->req_headers, t->max_header_bytes + 1, true);
	}
	if (s->resp_headers) {
		require(s->resp_headers_len <= t->max_header_bytes && !s->resp_headers[s->resp_headers_len]);
		printable(s->resp_headers, t->max_header_bytes + 1, true);
	}
	if (s->grpc) {
		require(s->grpc_service && s->grpc_method);
		require(s->grpc_status >= -1);
	}
	j = span_to_json(s, true);
	require(j != NULL);
	json_decref(j);
	return 0;
}

static struct http2 *open_conn(uint8_t setup, struct totals *t)
{
	struct httpconn_info info;
	struct httpconn_opts opts;
	struct http2 *c;

	script_setup(setup, &info, &opts);
	memset(t, 0, sizeof(*t));
	t->no_blocks = opts.no_header_blocks;
	t->max_header_bytes = opts.max_header_bytes ? opts.max_header_bytes : 4096;
	c = http2_new(&info, &opts);
	require(c != NULL);
	if (setup & 0x80) {
		struct http2_upgrade up = { .method = "GET", .target = "/up", .host = "h",
					    .req_headers = "Upgrade: h2c\r\n", .req_headers_len = 14,
					    .start_ts = 1, .req_bytes = 70, .resp_bytes = 60 };

		http2_upgraded(c, &up);
		t->upgrade_bytes = 130;
	}
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct totals t;
	struct span_sink sink = { .emit = emit, .ctx = &t };
	struct http2 *c;
	struct script_step st;
	size_t i = 0;
	uint64_t ts = 1;

	if (size < 1)
		return 0;
	http2_classify(data, size, 0);
	if (size >= HTTP2_FRAME_HEADER_LEN)
		http2_frame_plausible(data);
	c = open_conn(data[i++], &t);
	while (script_next(data, size, &i, &ts, &st)) {
		int rc;

		t.last_ts = ts;
		if (st.reopen) {
			http2_close(c, ts, &sink);
			require(t.spent <= t.fed[0] + t.fed[1] + t.upgrade_bytes);
			if (st.last)
				return 0;
			c = open_conn(st.setup, &t);
			continue;
		}
		t.fed[st.dir] += st.n + st.gap;
		rc = http2_feed(c, st.dir, ts, 7, st.data, st.n, st.n + st.gap, &sink);
		require(rc == HTTPCONN_UNKNOWN || rc == HTTPCONN_HTTP || rc == HTTPCONN_NOT_HTTP);
		require(t.spent <= t.fed[0] + t.fed[1] + t.upgrade_bytes);
	}
	t.last_ts = ts;
	http2_close(c, ts + 1, &sink);
	require(t.spent <= t.fed[0] + t.fed[1] + t.upgrade_bytes);
	return 0;
}
