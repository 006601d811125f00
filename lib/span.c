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

#include "jsonw.h"
#include "output.h"
#include "pipeline.h"
#include "span.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Realtime read between two monotonic reads: the midpoint is off by at most half the
 * window. A thread preempted inside the window (a loaded host, an emulated one) would
 * shift every span's wall time by up to the preemption's length, so a few windows are
 * read and the narrowest kept.
 */
void span_clock_now(struct span_clock *clock)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 5; i++) {
		uint64_t m1 = clock_ns(CLOCK_MONOTONIC);
		uint64_t real = clock_ns(CLOCK_REALTIME);
		uint64_t m2 = clock_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < best) {
			best = m2 - m1;
			clock->mono_ns = m1 + (m2 - m1) / 2;
			clock->real_ns = real;
		}
	}
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
	case SPAN_SOURCE_GO_UPROBE: return "go";
	default: return "unknown";
	}
}

const char *span_go_link_name(uint8_t link)
{
	switch (link) {
	case SPAN_GO_LINK_ROOT: return "root";
	case SPAN_GO_LINK_INCOMING: return "traceparent";
	case SPAN_GO_LINK_HANDLER: return "handler";
	case SPAN_GO_LINK_SPAWNED: return "spawned";
	case SPAN_GO_LINK_GAVE_UP: return "gave_up";
	default: return "none";
	}
}

/* Room for the longest address text: "[" IPv6 "]:65535". */
#define ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 16)

/* span_addr_format()'s text at @out (ADDR_TEXT_MAX bytes), not terminated; returns its
 * length. IPv6 keeps the C library's form (zero compression, embedded IPv4). */
static size_t addr_text(const struct span_addr *addr, char *out)
{
	char *p = out;
	int i;

	if (addr->family == AF_INET) {
		for (i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = jsonw_put_dec(p, addr->addr[i]);
		}
	} else if (addr->family == AF_INET6 &&
		   inet_ntop(AF_INET6, addr->addr, out + 1, INET6_ADDRSTRLEN)) {
		out[0] = '[';
		p = out + 1 + strlen(out + 1);
		*p++ = ']';
	} else {
		out[0] = '-';
		return 1;
	}
	*p++ = ':';
	p = jsonw_put_dec(p, addr->port);
	return p - out;
}

char *span_addr_format(const struct span_addr *addr, char *buf, size_t len)
{
	char text[ADDR_TEXT_MAX];
	size_t n = addr_text(addr, text);

	/* as snprintf would: cut to fit, terminated, nothing written when len is 0 */
	if (len) {
		if (n > len - 1)
			n = len - 1;
		memcpy(buf, text, n);
		buf[n] = '\0';
	}
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

void span_new_trace_id(uint8_t id[SPAN_TRACE_ID_LEN])
{
	span_new_id(id);
	span_new_id(id + SPAN_SPAN_ID_LEN);
}

bool span_trace_id_set(const uint8_t id[SPAN_TRACE_ID_LEN])
{
	for (int i = 0; i < SPAN_TRACE_ID_LEN; i++)
		if (id[i])
			return true;
	return false;
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

const char *span_propagation_text(uint8_t propagation, uint8_t reason, char *buf, size_t len)
{
	static const char *const reasons[SPAN_PROP_REASON__COUNT] = {
		[SPAN_PROP_R_PIPELINED] = "pipelined after the first request in one write",
		[SPAN_PROP_R_SPLIT] = "head split across writes",
		[SPAN_PROP_R_NOT_HTTP1] = "not HTTP/1",
		[SPAN_PROP_R_LONG_HEAD] = "head longer than 4096 bytes",
		[SPAN_PROP_R_FRAMING] = "message boundaries lost on the connection",
		[SPAN_PROP_R_NO_MEMORY] = "no room in the message",
		[SPAN_PROP_R_BUSY] = "socket held by another sockmap",
		[SPAN_PROP_R_CLAIM] = "socket could not be claimed",
		[SPAN_PROP_R_UNCLAIMED] = "connection opened before ehttp started",
		[SPAN_PROP_R_NO_RECORD] = "kernel record lost",
		[SPAN_PROP_R_GO_NONE] = "no Go context for the sending thread",
		[SPAN_PROP_R_GO_STALE] = "the sending thread's Go context was stale or another request's",
		[SPAN_PROP_R_NO_ROOM] = "no room in the write buffer",
		[SPAN_PROP_R_NOT_BUFIO] = "headers not written through a bufio.Writer",
		[SPAN_PROP_R_WRITE_FAILED] = "the kernel refused the memory write",
		[SPAN_PROP_R_NO_ITAB] = "the binary's bufio.Writer itab is not known",
		[SPAN_PROP_R_NOT_WRITTEN] = "no HTTP/1 header write seen",
	};

	switch (propagation) {
	case SPAN_PROP_SOCKMSG:
		if (reason == SPAN_PROP_R_GO_NONE || reason == SPAN_PROP_R_GO_STALE) {
			snprintf(buf, len, "sockmsg; new trace: %s", reasons[reason]);
			return buf;
		}
		return "sockmsg";
	case SPAN_PROP_EXISTING:
		return "existing";
	case SPAN_PROP_MEMORY:
		return "memory";
	case SPAN_PROP_SKIPPED:
		snprintf(buf, len, "skipped: %s",
			 reason < SPAN_PROP_REASON__COUNT && reasons[reason] ? reasons[reason] : "unknown");
		return buf;
	}
	return NULL;
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
 * Span JSON is written member by member through the writer's fast paths (literal names,
 * strings known to need no escaping) rather than built as a jansson object and dumped:
 * attach prints tens of thousands of spans a second on the host it observes, and
 * building objects cost several times more than the rest of the pipeline.
 * span_to_json() parses this same text, so there is one serialization.
 */
#define JSON_UINT(w, key, v) (jsonw_next_name_lit(w, key), jsonw_uint(w, v))
#define JSON_TEXT(w, key, text, len) (jsonw_next_name_lit(w, key), jsonw_string_len(w, text, len))
#define JSON_CSTR(w, key, text) \
	(jsonw_next_name_lit(w, key), jsonw_string_len(w, text ? text : "", text ? strlen(text) : 0))
#define JSON_PLAIN(w, key, text, len) (jsonw_next_name_lit(w, key), jsonw_plain_len(w, text, len))

void span_jsonw(struct jsonw *w, const struct span *s, bool with_headers)
{
	static const struct {
		const char *name;
		size_t len;
	} flag_names[] = {
#define FLAG(n) { n, sizeof(n) - 1 }
		FLAG("truncated"), FLAG("partial"), FLAG("midstream"), FLAG("redacted"),
		FLAG("body_unseen"), FLAG("hpack_unseen"), FLAG("traceparent_unread"),
#undef FLAG
	};
	char addr[ADDR_TEXT_MAX], version[16], hexid[33], prop[96], *p;
	const char *name;
	size_t i;

	/* "HTTP/1.1"; HTTP/2 has no minor version ("HTTP/2") */
	p = jsonw_put_dec(version + 5, s->http_major);
	if (s->http_major != 2) {
		*p++ = '.';
		p = jsonw_put_dec(p, s->http_minor);
	}
	memcpy(version, "HTTP/", 5);
	jsonw_start_object(w);
	jsonw_name_lit(w, "start_ns");
	jsonw_uint(w, s->start_ns);
	JSON_UINT(w, "end_ns", s->end_ns);
	JSON_UINT(w, "duration_ns", s->end_ns - s->start_ns);
	name = span_role_name(s->role);
	JSON_PLAIN(w, "role", name, strlen(name));
	JSON_CSTR(w, "method", s->method);
	JSON_CSTR(w, "target", s->target);
	JSON_CSTR(w, "host", s->host);
	JSON_UINT(w, "status", s->status);
	JSON_PLAIN(w, "version", version, p - version);
	JSON_UINT(w, "pid", s->pid);
	JSON_UINT(w, "tid", s->tid);
	JSON_TEXT(w, "comm", s->comm, strnlen(s->comm, sizeof(s->comm)));
	JSON_PLAIN(w, "local", addr, addr_text(&s->local, addr));
	JSON_PLAIN(w, "remote", addr, addr_text(&s->remote, addr));
	JSON_UINT(w, "req_bytes", s->req_bytes);
	JSON_UINT(w, "resp_bytes", s->resp_bytes);
	name = span_source_name(s->source);
	JSON_PLAIN(w, "source", name, strlen(name));
	hex_encode(s->span_id, SPAN_SPAN_ID_LEN, hexid);
	JSON_PLAIN(w, "span_id", hexid, 2 * SPAN_SPAN_ID_LEN);
	if (span_trace_id_set(s->trace_id)) {
		hex_encode(s->trace_id, SPAN_TRACE_ID_LEN, hexid);
		JSON_PLAIN(w, "trace_id", hexid, 2 * SPAN_TRACE_ID_LEN);
	}
	if (s->has_parent) {
		hex_encode(s->parent_span_id, SPAN_SPAN_ID_LEN, hexid);
		JSON_PLAIN(w, "parent_span_id", hexid, 2 * SPAN_SPAN_ID_LEN);
	}
	if (s->conn_id)
		JSON_UINT(w, "conn_id", s->conn_id);
	name = span_propagation_text(s->propagation, s->propagation_reason, prop, sizeof(prop));
	if (name)
		JSON_CSTR(w, "propagation", name);
	if (s->stream_id)
		JSON_UINT(w, "stream_id", s->stream_id);
	if (s->grpc) {
		JSON_CSTR(w, "grpc_service", s->grpc_service);
		JSON_CSTR(w, "grpc_method", s->grpc_method);
		if (s->grpc_status >= 0)
			JSON_UINT(w, "grpc_status", (uint64_t)s->grpc_status);
		if (s->grpc_message)
			JSON_CSTR(w, "grpc_message", s->grpc_message);
	}
	if (s->go_link) {
		if (s->goid)
			JSON_UINT(w, "goroutine", s->goid);
		name = span_go_link_name(s->go_link);
		JSON_PLAIN(w, "link", name, strlen(name));
		if (s->role == SPAN_ROLE_CLIENT && s->go_link != SPAN_GO_LINK_ROOT)
			JSON_UINT(w, "link_depth", s->go_depth);
		if (s->parent_ended)
			jsonw_bool_field(w, "parent_ended", true);
		jsonw_bool_field(w, "wire", s->go_wire);
	}
	if (s->flags) {
		jsonw_next_name_lit(w, "flags");
		jsonw_start_array(w);
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (s->flags & (1u << i))
				jsonw_plain_len(w, flag_names[i].name, flag_names[i].len);
		jsonw_end_array(w);
	}
	if (with_headers && s->req_headers)
		JSON_TEXT(w, "req_headers", s->req_headers, s->req_headers_len);
	if (with_headers && s->resp_headers)
		JSON_TEXT(w, "resp_headers", s->resp_headers, s->resp_headers_len);
	jsonw_end_object(w);
}

void span_write_json(FILE *f, const struct span *s, bool with_headers)
{
	struct jsonw w;

	jsonw_init(&w, f, false);
	span_jsonw(&w, s, with_headers);
}

struct span_json_args {
	const struct span *span;
	bool with_headers;
};

static void span_json_write(struct jsonw *w, const void *arg)
{
	const struct span_json_args *a = arg;

	span_jsonw(w, a->span, a->with_headers);
}

json_t *span_to_json(const struct span *s, bool with_headers)
{
	struct span_json_args a = { s, with_headers };

	return jsonw_read_back(span_json_write, &a);
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
	char when[32], remote[64], dur[24], req[16], resp[16], status[8], grpc[24] = "";
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
	if (s->grpc && s->grpc_status >= 0)
		snprintf(grpc, sizeof(grpc), " grpc=%d", (int)s->grpc_status);
	else if (s->grpc)
		snprintf(grpc, sizeof(grpc), " grpc=---");
	snprintf(buf, len, "%s.%06u %s[%u] %s %s %s %s %s%s %s %s/%s%s%s%s", when,
		 (unsigned int)(s->start_ns % 1000000000ull / 1000), s->comm, s->pid,
		 span_role_name(s->role),
		 span_addr_format(&s->remote, remote, sizeof(remote)),
		 s->method && *s->method ? s->method : "-", s->target && *s->target ? s->target : "-",
		 status, grpc, dur, req, resp, s->flags & SPAN_F_PARTIAL ? " partial" : "",
		 s->flags & SPAN_F_TRUNCATED ? " truncated" : "",
		 s->flags & SPAN_F_HPACK_UNSEEN ? " hpack_unseen" : "");
	return buf;
}

static int printer_emit(void *ctx, const struct span *s)
{
	struct span_printer *p = ctx;
	char line[8192];

	if (json_output) {
		struct jsonw *w = out_jsonw();

		span_jsonw(w, s, p->with_headers);
		jsonw_eol(w);
		if (w->failed || (!p->batch && fflush(stdout)))
			return -EPIPE;
	} else {
		if (printf("%s\n", span_format_text(s, line, sizeof(line))) < 0 ||
		    (!p->batch && fflush(stdout)))
			return -EPIPE;
	}
	p->printed++;
	return 0;
}

static int printer_flush(void *ctx)
{
	return fflush(stdout) ? (errno ? -errno : -EIO) : 0;
}

void span_printer_sink(struct pipeline_sink *sink, struct span_printer *printer)
{
	*sink = (struct pipeline_sink){
		.name = "printer",
		.ctx = printer,
		.emit = printer_emit,
		.flush = printer->flush_rounds ? printer_flush : NULL,
		.close = printer_flush,
	};
}
