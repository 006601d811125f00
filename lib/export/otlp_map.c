// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonw.h"
#include "span_stats.h"
#include "export/otlp_map.h"

/* ---- queue items ---------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

size_t otlp_utf8_len(const char *in, size_t len)
{
	size_t n = len, i;

	if (jsonw_utf8_valid(in, len))
		return len;
	for (i = 0; i < len; i++)
		n += (unsigned char)in[i] >= 0x80 ? 2 : 0;
	return n;
}

size_t otlp_utf8_copy(char *out, size_t cap, const char *in, size_t len)
{
	bool valid = jsonw_utf8_valid(in, len);
	size_t o = 0, i;

	if (!cap)
		return 0;
	for (i = 0; i < len;) {
		unsigned char c = (unsigned char)in[i];
		/* a valid string is cut only between characters */
		size_t n = !valid && c >= 0x80 ? 3 : c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (o + n >= cap)
			break;
		if (!valid && c >= 0x80) {
			memcpy(out + o, REPLACEMENT, 3);
			i++;
		} else {
			memcpy(out + o, in + i, n);
			i += n;
		}
		o += n;
	}
	out[o] = '\0';
	return o;
}

struct otlp_item *otlp_item_new(const struct span *span, const struct export_resource *res)
{
	const char *method = span->method ? span->method : "";
	const char *target = span->target ? span->target : "";
	const char *host = span->host ? span->host : "";
	size_t ml = strlen(method), tl = strlen(target), hl = strlen(host);
	size_t mo = otlp_utf8_len(method, ml), to = otlp_utf8_len(target, tl), ho = otlp_utf8_len(host, hl);
	struct otlp_item *it = malloc(sizeof(*it) + mo + to + ho + 3);
	char *s;

	if (!it)
		return NULL;
	it->next = NULL;
	it->res = res;
	it->start_ns = span->start_ns;
	it->end_ns = span->end_ns < span->start_ns ? span->start_ns : span->end_ns;
	memcpy(it->trace_id, span->trace_id, sizeof(it->trace_id));
	if (all_zero(it->trace_id, sizeof(it->trace_id))) {
		span_new_id(it->trace_id);
		span_new_id(it->trace_id + SPAN_SPAN_ID_LEN);
	}
	memcpy(it->span_id, span->span_id, sizeof(it->span_id));
	if (all_zero(it->span_id, sizeof(it->span_id)))
		span_new_id(it->span_id);
	memcpy(it->parent_span_id, span->parent_span_id, sizeof(it->parent_span_id));
	it->has_parent = span->has_parent && !all_zero(span->parent_span_id, SPAN_SPAN_ID_LEN);
	it->role = span->role;
	it->source = span->source;
	it->http_major = span->http_major;
	it->http_minor = span->http_minor;
	it->status = span->status;
	it->flags = span->flags;
	it->local = span->local;
	it->remote = span->remote;
	it->conn_id = span->conn_id;
	it->propagation = span->propagation;
	it->propagation_reason = span->propagation_reason;
	it->req_bytes = span->req_bytes;
	it->resp_bytes = span->resp_bytes;
	s = it->strings;
	it->method = s;
	s += otlp_utf8_copy(s, mo + 1, method, ml) + 1;
	it->target = s;
	s += otlp_utf8_copy(s, to + 1, target, tl) + 1;
	it->host = s;
	otlp_utf8_copy(s, ho + 1, host, hl);
	return it;
}

/* ---- arena ---------------------------------------------------------------------------- */

#define ARENA_BLOCK (64u << 10)

struct otlp_arena_block {
	struct otlp_arena_block *next;
	size_t used, cap;
	char data[];
};

void *otlp_arena_alloc(struct otlp_arena *a, size_t size)
{
	struct otlp_arena_block *b = a->head;

	size = (size + 15) & ~(size_t)15;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	b->used += size;
	return b->data + b->used - size;
}

char *otlp_arena_printf(struct otlp_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = n >= 0 ? otlp_arena_alloc(a, (size_t)n + 1) : NULL;
	if (!s)
		return (char *)"";
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void otlp_arena_free(struct otlp_arena *a)
{
	struct otlp_arena_block *b, *next;

	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/* ---- mapping -------------------------------------------------------------------------- */

static void add_str(struct otlp_mapped *m, const char *key, const char *v)
{
	if (m->nattrs < OTLP_MAX_ATTRS && v)
		m->attrs[m->nattrs++] = (struct otlp_attr){ .key = key, .type = OTLP_STRING, .str = v };
}

static void add_int(struct otlp_mapped *m, const char *key, int64_t v)
{
	if (m->nattrs < OTLP_MAX_ATTRS)
		m->attrs[m->nattrs++] = (struct otlp_attr){ .key = key, .type = OTLP_INT, .i = v };
}

static const char *addr_ip(const struct span_addr *a, struct otlp_arena *ar)
{
	char buf[INET6_ADDRSTRLEN];

	if (!a->family || !inet_ntop(a->family, a->addr, buf, sizeof(buf)))
		return NULL;
	return otlp_arena_printf(ar, "%s", buf);
}

/* The host part of a Host header value ("example.com:8080", "[::1]:80"). */
static const char *host_name_of(const char *host, struct otlp_arena *a)
{
	const char *end;

	if (!*host)
		return NULL;
	if (*host == '[') {
		end = strchr(host, ']');
		return end ? otlp_arena_printf(a, "%.*s", (int)(end - host - 1), host + 1) : NULL;
	}
	end = strchr(host, ':');
	return otlp_arena_printf(a, "%.*s", (int)(end ? end - host : (long)strlen(host)), host);
}

static const char *const sensitive_params[] = { "AWSAccessKeyId", "Signature", "sig",
						"X-Goog-Signature" };

static bool sensitive_param(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(sensitive_params) / sizeof(*sensitive_params); i++)
		if (len == strlen(sensitive_params[i]) && !strncmp(name, sensitive_params[i], len))
			return true;
	return false;
}

const char *otlp_redact_query(const char *query, struct otlp_arena *a)
{
	size_t nparams = 1, o = 0;
	const char *p;
	char *out;

	for (p = query; *p; p++)
		nparams += *p == '&';
	/* each parameter grows by at most "REDACTED" (its value may have been empty) */
	out = otlp_arena_alloc(a, strlen(query) + nparams * 8 + 1);
	if (!out)
		return "";
	for (p = query;;) {
		size_t plen = strcspn(p, "&");
		const char *eq = memchr(p, '=', plen);

		if (eq && sensitive_param(p, eq - p)) {
			memcpy(out + o, p, eq - p + 1);
			o += eq - p + 1;
			memcpy(out + o, "REDACTED", 8);
			o += 8;
		} else {
			memcpy(out + o, p, plen);
			o += plen;
		}
		if (!p[plen])
			break;
		out[o++] = '&';
		p += plen + 1;
	}
	out[o] = '\0';
	return out;
}

static const char *const known_methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
					     "CONNECT", "OPTIONS", "TRACE", "PATCH" };

static bool known_method(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof(known_methods) / sizeof(*known_methods); i++)
		if (!strcmp(m, known_methods[i]))
			return true;
	return false;
}

static const char *flag_names(uint32_t flags, struct otlp_arena *a)
{
	static const char *const names[] = { "truncated", "partial", "midstream", "redacted",
					     "body_unseen", "hpack_unseen", "traceparent_unread" };
	/* bits of enum span_flag, in order */
	char buf[128];
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (flags & (1u << i))
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? "," : "", names[i]);
	return o ? otlp_arena_printf(a, "%s", buf) : NULL;
}

void otlp_map_span(const struct otlp_item *it, struct otlp_arena *a, struct otlp_mapped *m)
{
	bool server = it->role == SPAN_ROLE_SERVER, client = it->role == SPAN_ROLE_CLIENT;
	const struct span_addr *srv = client ? &it->remote : &it->local;
	const char *q = strchr(it->target, '?'), *path, *query = NULL, *method, *srv_name;
	char route[SPAN_STATS_ROUTE_LEN];
	bool redacted = it->flags & SPAN_F_REDACTED;

	memset(m, 0, sizeof(*m));
	m->status_message = "";
	/* The name and route are the grouping `replay --stats` uses. */
	span_route_of(it->target, route, sizeof(route));
	method = known_method(it->method) ? it->method : "_OTHER";
	m->name = otlp_arena_printf(a, "%s %s", *it->method ? method : "HTTP", route);
	m->kind = server ? OTLP_KIND_SERVER : client ? OTLP_KIND_CLIENT : OTLP_KIND_UNSPECIFIED;

	path = q ? otlp_arena_printf(a, "%.*s", (int)(q - it->target), it->target) : it->target;
	/* A request whose credential headers were redacted keeps its query out as well:
	 * the query often carries the same secrets. Otherwise only the values of the
	 * parameters known to carry credentials are hidden. */
	if (q && q[1] && !redacted)
		query = otlp_redact_query(q + 1, a);

	if (*it->method) {
		add_str(m, "http.request.method", method);
		if (method != it->method)
			add_str(m, "http.request.method_original", it->method);
	}
	add_str(m, "url.scheme", "http");
	if (server) {
		add_str(m, "url.path", path);
		add_str(m, "url.query", query);
		add_str(m, "http.route", otlp_arena_printf(a, "%s", route));
	}
	if (it->status)
		add_int(m, "http.response.status_code", it->status);
	srv_name = host_name_of(it->host, a);
	if (!srv_name)
		srv_name = addr_ip(srv, a);
	add_str(m, "server.address", srv_name);
	if (srv->family)
		add_int(m, "server.port", srv->port);
	if (client && srv_name) {
		const char *authority = it->host;

		if (!*authority)
			authority = !srv->family ? srv_name
				    : srv->family == AF_INET6 ? otlp_arena_printf(a, "[%s]:%u", srv_name, srv->port)
							      : otlp_arena_printf(a, "%s:%u", srv_name, srv->port);
		add_str(m, "url.full", otlp_arena_printf(a, "http://%s%s%s%s", authority, path,
							 query ? "?" : "", query ? query : ""));
	}
	if (server && it->remote.family) {
		add_str(m, "client.address", addr_ip(&it->remote, a));
		add_int(m, "client.port", it->remote.port);
	}
	if (it->remote.family) {
		add_str(m, "network.peer.address", addr_ip(&it->remote, a));
		add_int(m, "network.peer.port", it->remote.port);
	}
	add_str(m, "network.transport", "tcp");
	if (it->local.family)
		add_str(m, "network.type", it->local.family == AF_INET6 ? "ipv6" : "ipv4");
	if (it->http_major)
		add_str(m, "network.protocol.version",
			it->http_major >= 2 ? otlp_arena_printf(a, "%u", it->http_major)
					    : otlp_arena_printf(a, "%u.%u", it->http_major, it->http_minor));
	/* Whole messages on the wire, head included: what ehttp counts (the semantic
	 * conventions' http.*.size, not .body.size, which would exclude the head). */
	add_int(m, "http.request.size", (int64_t)it->req_bytes);
	if (it->status)
		add_int(m, "http.response.size", (int64_t)it->resp_bytes);

	if (!it->status) {
		m->status = OTLP_STATUS_ERROR;
		m->status_message = "no complete response (the connection closed or the capture stopped)";
		add_str(m, "error.type", "incomplete");
	} else if (it->status >= 500 || (client && it->status >= 400)) {
		m->status = OTLP_STATUS_ERROR;
		add_str(m, "error.type", otlp_arena_printf(a, "%u", it->status));
	}

	add_str(m, "ehttp.source", span_source_name(it->source));
	add_str(m, "ehttp.flags", flag_names(it->flags, a));
	if (it->conn_id)
		add_int(m, "ehttp.conn_id", (int64_t)it->conn_id);
	/* What --propagate did for the request: sockmsg, existing, or skipped and why. */
	if (it->propagation) {
		char buf[96];
		const char *p = span_propagation_text(it->propagation, it->propagation_reason, buf, sizeof(buf));

		if (p)
			add_str(m, "ehttp.propagation", otlp_arena_printf(a, "%s", p));
	}
}

size_t otlp_map_resource(const struct export_resource *res, struct otlp_attr *attrs, size_t cap)
{
	struct otlp_mapped m = { 0 };
	const char *base = strrchr(res->exe, '/');

	add_str(&m, "service.name", res->service);
	add_int(&m, "process.pid", res->pid);
	if (res->exe[0]) {
		add_str(&m, "process.executable.path", res->exe);
		add_str(&m, "process.executable.name", base ? base + 1 : res->exe);
	} else if (res->comm[0]) {
		add_str(&m, "process.executable.name", res->comm);
	}
	if (res->host[0])
		add_str(&m, "host.name", res->host);
	if (res->container_id[0])
		add_str(&m, "container.id", res->container_id);
	add_str(&m, "telemetry.sdk.name", "ehttp");
	add_str(&m, "telemetry.sdk.version", EHTTP_VERSION);
	if (m.nattrs > cap)
		m.nattrs = cap;
	memcpy(attrs, m.attrs, m.nattrs * sizeof(*attrs));
	return m.nattrs;
}
