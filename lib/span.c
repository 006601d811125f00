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
#include "pipeline.h"
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

/* Two decimal digits for each of 0..99. */
static const char dec2[] = "00010203040506070809101112131415161718192021222324252627282930"
			   "31323334353637383940414243444546474849505152535455565758596061"
			   "62636465666768697071727374757677787980818283848586878889909192"
			   "93949596979899";

/*
 * @v in decimal at @p (up to 20 bytes, not terminated); returns the end. Numbers are
 * most of a span's JSON and addresses are in every span: printf's machinery for
 * them cost more than the rest of the line.
 */
static char *put_dec(char *p, uint64_t v)
{
	static const uint64_t pow10[] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull,
	};
	size_t n = 1;
	char *d;

	/* the length first, then the digits in place from the end */
	while (n < 20 && v >= pow10[n])
		n++;
	d = p + n;
	while (v >= 100) {
		d -= 2;
		memcpy(d, dec2 + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		d -= 2;
		memcpy(d, dec2 + v * 2, 2);
	} else {
		*--d = '0' + v;
	}
	return p + n;
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
			p = put_dec(p, addr->addr[i]);
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
	p = put_dec(p, addr->port);
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
	};

	switch (propagation) {
	case SPAN_PROP_SOCKMSG:
		return "sockmsg";
	case SPAN_PROP_EXISTING:
		return "existing";
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
 * Span JSON is written directly rather than built as a jansson object and dumped:
 * attach prints tens of thousands of spans a second on the host it observes, and
 * building objects cost several times more than the rest of the pipeline.
 * span_to_json() parses this same text, so there is one serialization.
 *
 * A span is assembled in a buffer on the stack and handed to stdio in one call (more
 * only for big header blocks): a stdio call per key, number and escaped byte cost more
 * than the formatting itself.
 */
struct jout {
	FILE *f;
	size_t len;
	char buf[4096];
};

static void jout_flush(struct jout *o)
{
	if (o->len)
		fwrite_unlocked(o->buf, 1, o->len, o->f);
	o->len = 0;
}

/* Where @n more bytes can go (@n at most the buffer's size); the caller adds to len. */
static char *jout_room(struct jout *o, size_t n)
{
	if (n > sizeof(o->buf) - o->len)
		jout_flush(o);
	return o->buf + o->len;
}

static void jout_put(struct jout *o, const char *p, size_t n)
{
	if (n > sizeof(o->buf) - o->len) {
		jout_flush(o);
		if (n > sizeof(o->buf)) {
			fwrite_unlocked(p, 1, n, o->f);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void jout_putc(struct jout *o, char c)
{
	*jout_room(o, 1) = c;
	o->len++;
}

/* Literals (keys with their separator: ",\"pid\":") go by their size, not strlen. */
#define JOUT_LIT(o, lit) jout_put(o, "" lit, sizeof(lit) - 1)

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static bool utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			uint64_t w;

			/* mostly ASCII: skip it 8 bytes at a time */
			i++;
			while (i + 8 <= len && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull)))
				i += 8;
			continue;
		}
		n = utf8_seq(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* What a byte needs in a JSON string: an escape, or '?' when the string is not UTF-8. */
enum { J_ESC = 1, J_HIGH = 2 };
static const uint8_t json_byte[256] = {
	[0x00 ... 0x1f] = J_ESC, ['"'] = J_ESC, ['\\'] = J_ESC, [0x80 ... 0xff] = J_HIGH,
};

/*
 * A JSON string. JSON carries UTF-8 only, while a span's strings are bytes from the
 * wire or from a file: in a string that is not valid UTF-8 every non-ASCII byte is
 * written as '?', so the span prints and what is shown is never mistaken for what
 * was sent. Runs of bytes that need nothing are copied as they are.
 */
static void json_put_string(struct jout *o, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	uint8_t stop = utf8_valid(text, len) ? J_ESC : J_ESC | J_HIGH;
	size_t i = 0, run;
	char *p;

	jout_putc(o, '"');
	while (i < len) {
		unsigned char c;

		for (run = i; i < len && !(json_byte[s[i]] & stop); i++)
			;
		jout_put(o, text + run, i - run);
		if (i == len)
			break;
		c = s[i++];
		p = jout_room(o, 6);
		if (c >= 0x80) {
			p[0] = '?';
			o->len += 1;
			continue;
		}
		p[0] = '\\';
		o->len += 2;
		switch (c) {
		case '"': p[1] = '"'; break;
		case '\\': p[1] = '\\'; break;
		case '\n': p[1] = 'n'; break;
		case '\r': p[1] = 'r'; break;
		case '\t': p[1] = 't'; break;
		case '\b': p[1] = 'b'; break;
		case '\f': p[1] = 'f'; break;
		default:
			memcpy(p + 1, "u00", 3);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			o->len += 4;
			break;
		}
	}
	jout_putc(o, '"');
}

/* A string known to need no escaping (names, ids, addresses): as it is. */
static void json_put_plain(struct jout *o, const char *text, size_t len)
{
	char *p = jout_room(o, len + 2);

	p[0] = '"';
	memcpy(p + 1, text, len);
	p[len + 1] = '"';
	o->len += len + 2;
}

/* Members are written with their key literal, separator included: ",\"pid\":". */
static void json_put_uint(struct jout *o, const char *key, size_t key_len, uint64_t v)
{
	char *p = jout_room(o, key_len + 20);

	memcpy(p, key, key_len);
	o->len = put_dec(p + key_len, v) - o->buf;
}

static void json_put_text(struct jout *o, const char *key, size_t key_len, const char *text,
			  size_t len)
{
	jout_put(o, key, key_len);
	json_put_string(o, text ? text : "", text ? len : 0);
}

static void json_put_cstr(struct jout *o, const char *key, size_t key_len, const char *text)
{
	json_put_text(o, key, key_len, text, text ? strlen(text) : 0);
}

static void json_put_cplain(struct jout *o, const char *key, size_t key_len, const char *text,
			    size_t len)
{
	jout_put(o, key, key_len);
	json_put_plain(o, text, len);
}

#define JSON_UINT(o, key, v) json_put_uint(o, "" key, sizeof(key) - 1, v)
#define JSON_TEXT(o, key, text, len) json_put_text(o, "" key, sizeof(key) - 1, text, len)
#define JSON_CSTR(o, key, text) json_put_cstr(o, "" key, sizeof(key) - 1, text)
#define JSON_PLAIN(o, key, text, len) json_put_cplain(o, "" key, sizeof(key) - 1, text, len)

void span_write_json(FILE *f, const struct span *s, bool with_headers)
{
	static const struct {
		const char *name;
		size_t len;
	} flag_names[] = {
#define FLAG(n) { n, sizeof(n) - 1 }
		FLAG("truncated"), FLAG("partial"), FLAG("midstream"), FLAG("redacted"),
		FLAG("body_unseen"),
#undef FLAG
	};
	char addr[ADDR_TEXT_MAX], version[16], hexid[33], prop[96], *p;
	const char *name;
	struct jout o;
	bool first = true;
	size_t i;

	o.f = f; /* not an initializer: that would clear the whole buffer */
	o.len = 0;
	p = put_dec(version + 5, s->http_major);
	*p++ = '.';
	p = put_dec(p, s->http_minor);
	memcpy(version, "HTTP/", 5);
	JSON_UINT(&o, "{\"start_ns\":", s->start_ns);
	JSON_UINT(&o, ",\"end_ns\":", s->end_ns);
	JSON_UINT(&o, ",\"duration_ns\":", s->end_ns - s->start_ns);
	name = span_role_name(s->role);
	JSON_PLAIN(&o, ",\"role\":", name, strlen(name));
	JSON_CSTR(&o, ",\"method\":", s->method);
	JSON_CSTR(&o, ",\"target\":", s->target);
	JSON_CSTR(&o, ",\"host\":", s->host);
	JSON_UINT(&o, ",\"status\":", s->status);
	JSON_PLAIN(&o, ",\"version\":", version, p - version);
	JSON_UINT(&o, ",\"pid\":", s->pid);
	JSON_UINT(&o, ",\"tid\":", s->tid);
	JSON_TEXT(&o, ",\"comm\":", s->comm, strnlen(s->comm, sizeof(s->comm)));
	JSON_PLAIN(&o, ",\"local\":", addr, addr_text(&s->local, addr));
	JSON_PLAIN(&o, ",\"remote\":", addr, addr_text(&s->remote, addr));
	JSON_UINT(&o, ",\"req_bytes\":", s->req_bytes);
	JSON_UINT(&o, ",\"resp_bytes\":", s->resp_bytes);
	name = span_source_name(s->source);
	JSON_PLAIN(&o, ",\"source\":", name, strlen(name));
	hex_encode(s->span_id, SPAN_SPAN_ID_LEN, hexid);
	JSON_PLAIN(&o, ",\"span_id\":", hexid, 2 * SPAN_SPAN_ID_LEN);
	if (span_trace_id_set(s->trace_id)) {
		hex_encode(s->trace_id, SPAN_TRACE_ID_LEN, hexid);
		JSON_PLAIN(&o, ",\"trace_id\":", hexid, 2 * SPAN_TRACE_ID_LEN);
	}
	if (s->has_parent) {
		hex_encode(s->parent_span_id, SPAN_SPAN_ID_LEN, hexid);
		JSON_PLAIN(&o, ",\"parent_span_id\":", hexid, 2 * SPAN_SPAN_ID_LEN);
	}
	if (s->conn_id)
		JSON_UINT(&o, ",\"conn_id\":", s->conn_id);
	name = span_propagation_text(s->propagation, s->propagation_reason, prop, sizeof(prop));
	if (name)
		JSON_CSTR(&o, ",\"propagation\":", name);
	if (s->flags) {
		JOUT_LIT(&o, ",\"flags\":[");
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
			if (!(s->flags & (1u << i)))
				continue;
			if (!first)
				jout_putc(&o, ',');
			first = false;
			json_put_plain(&o, flag_names[i].name, flag_names[i].len);
		}
		jout_putc(&o, ']');
	}
	if (with_headers && s->req_headers)
		JSON_TEXT(&o, ",\"req_headers\":", s->req_headers, s->req_headers_len);
	if (with_headers && s->resp_headers)
		JSON_TEXT(&o, ",\"resp_headers\":", s->resp_headers, s->resp_headers_len);
	jout_putc(&o, '}');
	jout_flush(&o);
}

json_t *span_to_json(const struct span *s, bool with_headers)
{
	char *text = NULL;
	size_t len = 0;
	json_t *o = NULL;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	span_write_json(f, s, with_headers);
	if (!fclose(f))
		o = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	free(text);
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

static int printer_emit(void *ctx, const struct span *s)
{
	struct span_printer *p = ctx;
	char line[8192];

	if (json_output && pretty_output) {
		json_t *j = span_to_json(s, p->with_headers);

		if (p->batch ? out_json_buffered(j) : out_json(j))
			return -EPIPE;
	} else if (json_output) {
		span_write_json(stdout, s, p->with_headers);
		if (putc_unlocked('\n', stdout) == EOF || (!p->batch && fflush(stdout)))
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
