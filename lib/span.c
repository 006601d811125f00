// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "output.h"
#include "span.h"

void span_clock_now(struct span_clock *clock)
{
	struct timespec mono, real;

	/* Read monotonic on both sides of realtime and keep the midpoint. */
	uint64_t m1, m2;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	m1 = (uint64_t)mono.tv_sec * 1000000000ull + mono.tv_nsec;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	m2 = (uint64_t)mono.tv_sec * 1000000000ull + mono.tv_nsec;
	clock->mono_ns = m1 + (m2 - m1) / 2;
	clock->real_ns = (uint64_t)real.tv_sec * 1000000000ull + real.tv_nsec;
}

const char *span_role_name(uint8_t role)
{
	switch (role) {
	case SPAN_ROLE_SERVER: return "server";
	case SPAN_ROLE_CLIENT: return "client";
	default: return "unknown";
	}
}

const char *span_source_name(uint8_t source)
{
	switch (source) {
	case SPAN_SOURCE_SYSCALL: return "syscall";
	case SPAN_SOURCE_GO_UPROBE: return "go_uprobe";
	default: return "unknown";
	}
}

char *span_addr_format(const struct span_addr *addr, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (addr->family == AF_INET && inet_ntop(AF_INET, addr->addr, ip, sizeof(ip)))
		snprintf(buf, len, "%s:%u", ip, addr->port);
	else if (addr->family == AF_INET6 && inet_ntop(AF_INET6, addr->addr, ip, sizeof(ip)))
		snprintf(buf, len, "[%s]:%u", ip, addr->port);
	else
		snprintf(buf, len, "-");
	return buf;
}

void span_new_id(uint8_t id[SPAN_SPAN_ID_LEN])
{
	/* Seeded once from the kernel, then a splitmix64 stream: ids need to be unique,
	 * not secret, and a syscall per span would cost more than the rest of the span. */
	static uint64_t state;
	static bool seeded;
	uint64_t z;

	if (!seeded) {
		if (getrandom(&state, sizeof(state), 0) != sizeof(state)) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			state = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
		}
		seeded = true;
	}
	do {
		z = (state += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
	} while (z == 0);
	memcpy(id, &z, SPAN_SPAN_ID_LEN);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* W3C requires lowercase hex */
}

static bool parse_hex(const char *s, uint8_t *out, size_t n)
{
	bool nonzero = false;
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = hi << 4 | lo;
		nonzero |= out[i] != 0;
	}
	return nonzero;
}

bool span_parse_traceparent(const char *value, size_t len, uint8_t trace_id[SPAN_TRACE_ID_LEN],
			    uint8_t parent_id[SPAN_SPAN_ID_LEN])
{
	uint8_t version, flags, tid[SPAN_TRACE_ID_LEN], pid[SPAN_SPAN_ID_LEN];

	/* Optional whitespace around the value is allowed by HTTP. */
	while (len && (*value == ' ' || *value == '\t'))
		value++, len--;
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	/* version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 */
	if (len < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-')
		return false;
	if (hexval(value[0]) < 0 || hexval(value[1]) < 0)
		return false;
	version = hexval(value[0]) << 4 | hexval(value[1]);
	if (version == 0xff || (version == 0 && len != 55))
		return false;
	if (version > 0 && len > 55 && value[55] != '-')
		return false;
	if (!parse_hex(value + 3, tid, SPAN_TRACE_ID_LEN) ||
	    !parse_hex(value + 36, pid, SPAN_SPAN_ID_LEN))
		return false;
	if (hexval(value[53]) < 0 || hexval(value[54]) < 0)
		return false;
	flags = hexval(value[53]) << 4 | hexval(value[54]);
	(void)flags;
	memcpy(trace_id, tid, sizeof(tid));
	memcpy(parent_id, pid, sizeof(pid));
	return true;
}

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * JSON carries UTF-8 only, while a span's strings are bytes from the wire or from a
 * file. A string that is not valid UTF-8 is printed with every non-ASCII byte as '?':
 * the span is still printed, and what is shown is never mistaken for what was sent.
 */
static json_t *json_text(const char *text, size_t len)
{
	json_t *j;
	char *copy;
	size_t i;

	if (!text)
		return json_string("");
	j = json_stringn(text, len);
	if (j)
		return j;
	copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	for (i = 0; i < len; i++)
		copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

static void set_text(json_t *o, const char *key, const char *text)
{
	json_object_set_new(o, key, json_text(text, text ? strlen(text) : 0));
}

json_t *span_to_json(const struct span *s, bool with_headers)
{
	char local[64], remote[64], version[16], span_id[17], trace_id[33], parent[17];
	json_t *o = json_object();

	if (!o)
		return NULL;
	snprintf(version, sizeof(version), "HTTP/%u.%u", s->http_major, s->http_minor);
	hex_encode(s->span_id, SPAN_SPAN_ID_LEN, span_id);
	json_object_set_new(o, "start_ns", json_integer((json_int_t)s->start_ns));
	json_object_set_new(o, "end_ns", json_integer((json_int_t)s->end_ns));
	json_object_set_new(o, "duration_ns", json_integer((json_int_t)(s->end_ns - s->start_ns)));
	json_object_set_new(o, "role", json_string(span_role_name(s->role)));
	set_text(o, "method", s->method);
	set_text(o, "target", s->target);
	set_text(o, "host", s->host);
	json_object_set_new(o, "status", json_integer(s->status));
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "pid", json_integer(s->pid));
	json_object_set_new(o, "tid", json_integer(s->tid));
	json_object_set_new(o, "comm", json_text(s->comm, strnlen(s->comm, sizeof(s->comm))));
	json_object_set_new(o, "local",
			    json_string(span_addr_format(&s->local, local, sizeof(local))));
	json_object_set_new(o, "remote",
			    json_string(span_addr_format(&s->remote, remote, sizeof(remote))));
	json_object_set_new(o, "req_bytes", json_integer((json_int_t)s->req_bytes));
	json_object_set_new(o, "resp_bytes", json_integer((json_int_t)s->resp_bytes));
	json_object_set_new(o, "source", json_string(span_source_name(s->source)));
	json_object_set_new(o, "span_id", json_string(span_id));
	if (s->has_parent) {
		hex_encode(s->trace_id, SPAN_TRACE_ID_LEN, trace_id);
		hex_encode(s->parent_span_id, SPAN_SPAN_ID_LEN, parent);
		json_object_set_new(o, "trace_id", json_string(trace_id));
		json_object_set_new(o, "parent_span_id", json_string(parent));
	}
	if (s->conn_id)
		json_object_set_new(o, "conn_id", json_integer((json_int_t)s->conn_id));
	if (s->flags) {
		static const char *const names[] = { "truncated", "partial", "midstream",
						     "redacted", "body_unseen" };
		json_t *flags = json_array();
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (s->flags & (1u << i))
				json_array_append_new(flags, json_string(names[i]));
		json_object_set_new(o, "flags", flags);
	}
	if (with_headers) {
		if (s->req_headers)
			json_object_set_new(o, "req_headers",
					    json_text(s->req_headers, s->req_headers_len));
		if (s->resp_headers)
			json_object_set_new(o, "resp_headers",
					    json_text(s->resp_headers, s->resp_headers_len));
	}
	return o;
}

static void format_bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 10000)
		snprintf(buf, len, "%" PRIu64 "B", n);
	else if (n < 10000ull * 1024)
		snprintf(buf, len, "%.1fK", n / 1024.0);
	else
		snprintf(buf, len, "%.1fM", n / 1048576.0);
}

static void format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.0fus", ns / 1e3);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

char *span_format_text(const struct span *s, char *buf, size_t len)
{
	char when[32], remote[64], dur[24], req[16], resp[16], status[8];
	time_t secs = s->start_ns / 1000000000ull;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	format_duration(s->end_ns - s->start_ns, dur, sizeof(dur));
	format_bytes(s->req_bytes, req, sizeof(req));
	format_bytes(s->resp_bytes, resp, sizeof(resp));
	if (s->status)
		snprintf(status, sizeof(status), "%u", s->status);
	else
		snprintf(status, sizeof(status), "---");
	snprintf(buf, len, "%s.%06u %s[%u] %s %s %s %s %s %s %s/%s%s%s", when,
		 (unsigned int)(s->start_ns % 1000000000ull / 1000), s->comm, s->pid,
		 span_role_name(s->role),
		 span_addr_format(&s->remote, remote, sizeof(remote)),
		 s->method && *s->method ? s->method : "-", s->target && *s->target ? s->target : "-",
		 status, dur, req, resp, s->flags & SPAN_F_PARTIAL ? " partial" : "",
		 s->flags & SPAN_F_TRUNCATED ? " truncated" : "");
	return buf;
}

static int printer_emit(struct span_sink *sink, const struct span *s)
{
	struct span_printer *p = sink->ctx;
	char line[8192];

	if (json_output) {
		json_t *j = span_to_json(s, p->with_headers);

		if (p->batch ? out_json_buffered(j) : out_json(j))
			return -EPIPE;
	} else {
		if (printf("%s\n", span_format_text(s, line, sizeof(line))) < 0 ||
		    (!p->batch && fflush(stdout)))
			return -EPIPE;
	}
	p->printed++;
	return 0;
}

void span_printer_init(struct span_sink *sink, struct span_printer *printer)
{
	sink->emit = printer_emit;
	sink->ctx = printer;
}
