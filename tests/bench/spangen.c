// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write a span file of N synthetic spans through the span file writer: the input of the
 * replay benchmark, and seeds for the reader's fuzzer. Deterministic for a given N.
 *   spangen OUT N [START_EPOCH_S]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "spanfile.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static bool fake_process(uint32_t pid, const char *comm, struct spanfile_process *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->exe, sizeof(p->exe), "/usr/bin/%s", comm);
	memcpy(p->cmdline, "server\0--port\0008080", 18);
	p->cmdline_len = 18;
	snprintf(p->cgroup, sizeof(p->cgroup), "0::/system.slice/%s.service", comm);
	return true;
}

int main(int argc, char **argv)
{
	static const char *const methods[] = { "GET", "GET", "GET", "POST", "PUT", "DELETE" };
	static const char req_h[] = "Host: shop.example\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n";
	static const char resp_h[] = "Content-Type: application/json\r\nContent-Length: 512\r\n";
	struct spanfile_meta meta = { .hostname = "bench", .kernel = "6.1.0", .version = "bench",
				      .targets = "all processes", .filters = "" };
	struct spanfile_writer *w;
	struct span s;
	uint64_t n, i, t;
	char target[128];

	if (argc < 3) {
		fprintf(stderr, "usage: spangen OUT N [START_EPOCH_S]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	t = (argc > 3 ? strtoull(argv[3], NULL, 10) : 1764000000ull) * 1000000000ull;
	meta.clock.real_ns = t;
	meta.clock.mono_ns = 1000000000ull;
	if (spanfile_writer_open(&w, argv[1], &meta))
		return 1;
	spanfile_writer_set_lookup(w, fake_process);
	memset(&s, 0, sizeof(s));
	s.role = SPAN_ROLE_SERVER;
	s.source = SPAN_SOURCE_SYSCALL;
	s.http_major = 1;
	s.http_minor = 1;
	s.local.family = s.remote.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.1", s.local.addr);
	inet_pton(AF_INET, "10.0.0.2", s.remote.addr);
	s.local.port = 8080;
	s.host = "shop.example";
	for (i = 0; i < n; i++) {
		uint64_t r = next_rand(), dur;

		switch (r % 5) {
		case 0: snprintf(target, sizeof(target), "/users/%llu", (unsigned long long)(r >> 20) % 100000); break;
		case 1: snprintf(target, sizeof(target), "/api/v1/orders/%08llx?page=2", (unsigned long long)(r >> 24) & 0xffffffff); break;
		case 2: snprintf(target, sizeof(target), "/static/app.js"); break;
		case 3: snprintf(target, sizeof(target), "/health"); break;
		default: snprintf(target, sizeof(target), "/search?q=%llu", (unsigned long long)(r >> 30) % 1000); break;
		}
		s.method = methods[(r >> 8) % 6];
		s.target = target;
		s.status = (r >> 12) % 100 < 95 ? 200 : (r >> 12) % 100 < 98 ? 404 : 500;
		dur = 50000 + ((r >> 32) % 1000) * ((r >> 42) % 1000); /* 50 us .. ~1 s, skewed */
		t += 1000 + (r >> 50) % 20000;
		s.start_ns = t;
		s.end_ns = t + dur;
		s.pid = 1000 + (uint32_t)(r % 7);
		s.tid = s.pid + (uint32_t)((r >> 4) % 3);
		snprintf(s.comm, sizeof(s.comm), "server%u", s.pid % 7);
		s.remote.port = 30000 + (uint16_t)(r % 30000);
		s.conn_id = 1 + i / 10;
		s.req_bytes = 80 + (r >> 20) % 400;
		s.resp_bytes = 200 + (r >> 30) % 4000;
		s.has_parent = (r >> 3) % 4 == 0;
		memset(s.trace_id, s.has_parent ? 0xab : 0, sizeof(s.trace_id));
		memset(s.parent_span_id, s.has_parent ? 0xcd : 0, sizeof(s.parent_span_id));
		memcpy(s.span_id, &r, sizeof(s.span_id));
		s.req_headers = req_h;
		s.req_headers_len = sizeof(req_h) - 1;
		s.resp_headers = resp_h;
		s.resp_headers_len = sizeof(resp_h) - 1;
		if (spanfile_write_span(w, &s)) {
			fprintf(stderr, "spangen: write failed\n");
			return 1;
		}
	}
	return spanfile_writer_close(w) ? 1 : 0;
}
