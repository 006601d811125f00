// fuzz-sources: lib/proto/proto.c lib/proto/http1.c lib/proto/http2.c lib/http1_lines.c lib/span.c lib/jsonw.c lib/output.c
/*
 * The HTTP/1.x connection parser under arbitrary bytes: the input is a connection
 * setup byte, then a script of feeds in both directions with arbitrary splits, bytes
 * not captured (gaps), and a close at the end (or midway, starting a new connection).
 * Checked on every span: byte counts never exceed what was fed (each byte counts once),
 * strings are there and printable, times are ordered, the span serializes to JSON.
 *
 * Setup byte: bits 0-1 role (mod 3), 2 midstream, 3 no redaction, 4-5 header cap, 6 no
 * header blocks kept.
 *
 * Then the script of tests/fuzz/feed_script.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed_script.h"
#include "http1_lines.h"
#include "httpconn.h"

struct totals {
	uint64_t fed[2];    /* bytes fed per direction, gaps included */
	uint64_t spent[2];  /* bytes spans counted: [0] requests, [1] responses */
	uint8_t role;
	uint32_t max_header_bytes;
	bool no_blocks;     /* header blocks parsed, not kept: spans carry none */
	uint64_t last_ts;
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_str(const char *s, size_t max)
{
	size_t i;

	check(s != NULL);
	for (i = 0; s[i]; i++) {
		check(i < max);
		check((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f);
	}
}

static void check_block(const char *p, uint32_t len, uint32_t max)
{
	uint32_t i;

	if (!p) {
		check(len == 0);
		return;
	}
	check(len <= max);
	check(p[len] == '\0');
	for (i = 0; i < len; i++) {
		unsigned char ch = p[i];

		check((ch >= 0x20 && ch < 0x7f) || ch == '\t' || ch == '\r' || ch == '\n');
	}
}

static int emit(struct span_sink *sink, const struct span *s)
{
	struct totals *t = sink->ctx;
	json_t *j;

	t->spent[0] += s->req_bytes;
	t->spent[1] += s->resp_bytes;
	check_str(s->method, 64);
	check_str(s->target, 8192);
	check_str(s->host, 512);
	check(s->end_ns >= s->start_ns);
	check(s->end_ns <= t->last_ts);
	check(s->status == 0 || (s->status >= 100 && s->status <= 599));
	check((s->flags & ~0x3fu) == 0);
	check(s->role == SPAN_ROLE_SERVER || s->role == SPAN_ROLE_CLIENT);
	check(t->role == SPAN_ROLE_UNKNOWN || s->role == t->role);
	check(s->http_major == 1 || (s->http_major == 2 && s->stream_id)); /* h2c: upgraded or prior knowledge */
	check(!t->no_blocks || (!s->req_headers && !s->resp_headers));
	check_block(s->req_headers, s->req_headers_len, t->max_header_bytes);
	check_block(s->resp_headers, s->resp_headers_len, t->max_header_bytes);
	j = span_to_json(s, true);
	check(j != NULL);
	json_decref(j);
	return 0;
}

/* Each byte is counted toward at most one span: totals never exceed what was fed. */
static void check_totals(const struct totals *t)
{
	if (t->role == SPAN_ROLE_SERVER) {
		check(t->spent[0] <= t->fed[HTTPCONN_INGRESS]);
		check(t->spent[1] <= t->fed[HTTPCONN_EGRESS]);
	} else if (t->role == SPAN_ROLE_CLIENT) {
		check(t->spent[0] <= t->fed[HTTPCONN_EGRESS]);
		check(t->spent[1] <= t->fed[HTTPCONN_INGRESS]);
	} else {
		check(t->spent[0] + t->spent[1] <= t->fed[0] + t->fed[1]);
	}
}

static struct httpconn *open_conn(uint8_t setup, struct totals *t)
{
	struct httpconn_info info;
	struct httpconn_opts opts;

	script_setup(setup, &info, &opts);
	memset(t, 0, sizeof(*t));
	t->no_blocks = opts.no_header_blocks;
	t->role = info.role;
	t->max_header_bytes = opts.max_header_bytes ? opts.max_header_bytes : 4096;
	return httpconn_new(&info, &opts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct totals t;
	struct span_sink sink = { .emit = emit, .ctx = &t };
	struct httpconn *c;
	struct script_step st;
	size_t i = 0;
	uint64_t ts = 1;

	if (size < 1)
		return 0;
	httpconn_classify(data, size);
	c = open_conn(data[i++], &t);
	check(c != NULL);
	while (script_next(data, size, &i, &ts, &st)) {
		int rc;

		t.last_ts = ts;
		if (st.reopen) {
			httpconn_close(c, ts, &sink);
			check_totals(&t);
			if (st.last)
				return 0;
			c = open_conn(st.setup, &t);
			check(c != NULL);
			continue;
		}
		t.fed[st.dir] += st.n + st.gap;
		rc = httpconn_feed(c, st.dir, ts, 7, st.data, st.n, st.n + st.gap, &sink);
		check(rc == HTTPCONN_UNKNOWN || rc == HTTPCONN_HTTP || rc == HTTPCONN_NOT_HTTP);
		check(rc == (int)httpconn_state(c));
		check_totals(&t);
	}
	t.last_ts = ts;
	httpconn_close(c, ts + 1, &sink);
	check_totals(&t);
	return 0;
}
