// SPDX-License-Identifier: GPL-2.0-only
/*
 * How fast the HTTP/1.x connection parser turns syscall-sized feeds into spans, with
 * no kernel in the way: keep-alive request/response pairs as nginx serves them to wrk.
 * Usage: bench_httpconn [SECONDS]   prints one line per workload.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpconn.h"

#define CONNS 64

static const char req_wrk[] = "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

static const char resp_nginx_head[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 16:00:00 GMT\r\n"
	"Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 24 Nov 2026 10:00:00 GMT\r\n"
	"Connection: keep-alive\r\nETag: \"6740a1b0-267\"\r\nAccept-Ranges: bytes\r\n\r\n";

static const char req_browser[] =
	"GET /api/v1/items?page=2&sort=name HTTP/1.1\r\nHost: shop.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
	"Accept: application/json\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
	"Referer: https://shop.example.com/items\r\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\r\n"
	"Cookie: session=0123456789abcdef; theme=dark\r\n"
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nConnection: keep-alive\r\n\r\n";

static const char resp_chunked_head[] =
	"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	"Set-Cookie: session=0123456789abcdef; HttpOnly\r\nCache-Control: no-store\r\n\r\n";

struct workload {
	const char *name;
	const char *req;
	const char *resp_head;
	uint32_t body;	    /* Content-Length body after the head */
	bool body_captured; /* in the same feed (write) or not copied (sendfile) */
	bool chunked;	    /* resp_head is chunked: one 400-byte chunk and the last chunk */
};

static int count_span(struct span_sink *sink, const struct span *s)
{
	uint64_t *n = sink->ctx;

	(*n) += s->status == 200;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(const struct workload *w, double seconds)
{
	struct httpconn_info info = { .role = SPAN_ROLE_SERVER, .source = SPAN_SOURCE_SYSCALL };
	struct span_clock clock;
	struct httpconn_opts opts = { .clock = &clock };
	struct httpconn *conns[CONNS];
	uint64_t spans = 0, pairs = 0, bytes = 0, ts = 1;
	struct span_sink sink = { .emit = count_span, .ctx = &spans };
	size_t rl = strlen(w->req), hl = strlen(w->resp_head);
	char resp[8192];
	size_t resp_len = hl, resp_captured;
	double t0, t1;
	int i;

	span_clock_now(&clock);
	memcpy(resp, w->resp_head, hl);
	if (w->chunked) {
		resp_len += (size_t)sprintf(resp + resp_len, "190\r\n");
		memset(resp + resp_len, 'x', 400);
		resp_len += 400;
		resp_len += (size_t)sprintf(resp + resp_len, "\r\n0\r\n\r\n");
	} else if (w->body) {
		memset(resp + resp_len, 'x', w->body);
		resp_len += w->body;
	}
	resp_captured = w->body_captured || w->chunked ? resp_len : hl;
	for (i = 0; i < CONNS; i++) {
		info.conn_id = i + 1;
		conns[i] = httpconn_new(&info, &opts);
	}
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++) {
			struct httpconn *c = conns[k % CONNS];

			httpconn_feed(c, HTTPCONN_INGRESS, ts++, 1, (const uint8_t *)w->req, rl, rl, &sink);
			if (resp_captured == resp_len) {
				httpconn_feed(c, HTTPCONN_EGRESS, ts++, 1, (const uint8_t *)resp, resp_len,
					      resp_len, &sink);
			} else {
				/* nginx: the head by writev, the body by sendfile (not copied) */
				httpconn_feed(c, HTTPCONN_EGRESS, ts++, 1, (const uint8_t *)resp, hl, hl, &sink);
				httpconn_feed(c, HTTPCONN_EGRESS, ts++, 1, NULL, 0, resp_len - hl, &sink);
			}
			bytes += rl + resp_captured;
			pairs++;
		}
		t1 = now();
	} while (t1 - t0 < seconds);
	for (i = 0; i < CONNS; i++)
		httpconn_close(conns[i], ts, NULL);
	if (spans != pairs) {
		fprintf(stderr, "Error: %s: %" PRIu64 " spans for %" PRIu64 " exchanges\n", w->name,
			spans, pairs);
		exit(1);
	}
	printf("   %-34s %9.0f spans/s %8.1f MB/s parsed (%zu+%zu bytes copied per exchange)\n",
	       w->name, spans / (t1 - t0), bytes / (t1 - t0) / 1e6, rl, resp_captured);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	static const struct workload loads[] = {
		{ "wrk -> nginx (sendfile body)", req_wrk, resp_nginx_head, 615, false, false },
		{ "wrk -> nginx (body copied)", req_wrk, resp_nginx_head, 615, true, false },
		{ "browser API call, chunked JSON", req_browser, resp_chunked_head, 0, false, true },
	};
	size_t i;

	for (i = 0; i < sizeof(loads) / sizeof(loads[0]); i++)
		run(&loads[i], seconds);
	return 0;
}
