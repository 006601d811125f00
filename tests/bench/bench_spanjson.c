// SPDX-License-Identifier: GPL-2.0-only
/*
 * How fast spans become JSON lines, as attach -j prints them: span_write_json into a
 * buffered stream on /dev/null, with a newline per span, so only the formatting and
 * stdio are timed; and indented, as attach -p prints them through the same writer.
 * Usage: bench_spanjson [SECONDS]   prints one line per workload.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "jsonw.h"
#include "span.h"

static const char req_hdrs_wrk[] = "Host: 127.0.0.1:8080\r\n";

static const char resp_hdrs_nginx[] =
	"Server: nginx/1.22.1\r\nDate: Wed, 25 Nov 2026 16:00:00 GMT\r\n"
	"Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 24 Nov 2026 10:00:00 GMT\r\n"
	"Connection: keep-alive\r\nETag: \"6740a1b0-267\"\r\nAccept-Ranges: bytes\r\n";

static const char req_hdrs_browser[] =
	"Host: shop.example.com\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
	"Accept: application/json\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
	"Referer: https://shop.example.com/items\r\nAuthorization: [redacted]\r\n"
	"Cookie: [redacted]\r\n"
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nConnection: keep-alive\r\n";

static const char resp_hdrs_chunked[] =
	"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
	"Set-Cookie: [redacted]\r\nCache-Control: no-store\r\n";

struct workload {
	const char *name;
	bool v6, browser, with_headers;
	bool pretty; /* -p: indented, through the same writer */
};

static void write_span(FILE *f, const struct span *s, const struct workload *w)
{
	static struct jsonw jw;

	if (!w->pretty) {
		span_write_json(f, s, w->with_headers);
		putc_unlocked('\n', f);
		return;
	}
	jsonw_init(&jw, f, true);
	span_jsonw(&jw, s, w->with_headers);
	jsonw_eol(&jw);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(const struct workload *w, double seconds, FILE *f)
{
	struct span s = {
		.start_ns = 1764086400123456789ull, .end_ns = 1764086400123498765ull,
		.pid = 1234, .tid = 1234, .comm = "nginx", .role = SPAN_ROLE_SERVER,
		.source = SPAN_SOURCE_SYSCALL, .http_major = 1, .http_minor = 1,
		.flags = SPAN_F_BODY_UNSEEN, .conn_id = 4242, .method = "GET",
		.target = "/index.html", .host = "127.0.0.1:8080", .status = 200,
		.req_bytes = 50, .resp_bytes = 853,
		.req_headers = req_hdrs_wrk, .req_headers_len = sizeof(req_hdrs_wrk) - 1,
		.resp_headers = resp_hdrs_nginx, .resp_headers_len = sizeof(resp_hdrs_nginx) - 1,
	};
	uint64_t spans = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *m;
	double t0, t1;

	s.local.family = s.remote.family = w->v6 ? AF_INET6 : AF_INET;
	s.local.port = 8080;
	s.remote.port = 51234;
	if (w->v6) {
		inet_pton(AF_INET6, "2001:db8::10", s.local.addr);
		inet_pton(AF_INET6, "2001:db8::1:2", s.remote.addr);
	} else {
		inet_pton(AF_INET, "127.0.0.1", s.local.addr);
		inet_pton(AF_INET, "127.0.0.1", s.remote.addr);
	}
	if (w->browser) {
		strcpy(s.comm, "api-server");
		s.method = "GET";
		s.target = "/api/v1/items?page=2&sort=name";
		s.host = "shop.example.com";
		s.flags = SPAN_F_REDACTED;
		s.has_parent = true;
		memset(s.trace_id, 0x4b, sizeof(s.trace_id));
		memset(s.parent_span_id, 0xb7, sizeof(s.parent_span_id));
		s.req_headers = req_hdrs_browser;
		s.req_headers_len = sizeof(req_hdrs_browser) - 1;
		s.resp_headers = resp_hdrs_chunked;
		s.resp_headers_len = sizeof(resp_hdrs_chunked) - 1;
	}
	span_new_id(s.span_id);
	/* /dev/null has no length: measure one line */
	m = open_memstream(&text, &len);
	if (!m) {
		perror("open_memstream");
		exit(1);
	}
	write_span(m, &s, w);
	fclose(m);
	free(text);
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++) {
			s.start_ns += 1000;
			s.end_ns += 1000;
			s.remote.port = 32768 + (k & 16383);
			write_span(f, &s, w);
		}
		spans += 1000;
		t1 = now();
	} while (t1 - t0 < seconds);
	fflush(f);
	printf("   %-34s %9.0f spans/s %8.1f MB/s written (%zu bytes per span)\n", w->name,
	       spans / (t1 - t0), spans * len / (t1 - t0) / 1e6, len);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	static const struct workload loads[] = {
		{ "wrk -> nginx, no headers", false, false, false },
		{ "wrk -> nginx, with headers", false, false, true },
		{ "browser API call, IPv6, headers", true, true, true },
		{ "wrk -> nginx, no headers, -p", false, false, false, true },
	};
	FILE *f = fopen("/dev/null", "w");
	size_t i;

	if (!f) {
		perror("/dev/null");
		return 1;
	}
	/* attach prints to stdout, flushed once per poll round: a large buffer */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	for (i = 0; i < sizeof(loads) / sizeof(loads[0]); i++)
		run(&loads[i], seconds, f);
	fclose(f);
	return 0;
}
