// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "output.h"
#include "span_stats.h"
#include "export/metrics.h"

#define SLOTS 4096

/* The semantic conventions' advice for http.*.request.duration, in seconds. */
static const double bounds[METRICS_NBUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
						  0.5, 0.75, 1, 2.5, 5, 7.5, 10 };

struct series {
	struct series *next;
	uint8_t role;
	char *service, *method, *route;
	uint16_t status;
	uint64_t count;
	double sum;
	uint64_t buckets[METRICS_NBUCKETS]; /* not cumulative; +Inf is count */
};

/* A route some service was seen with: what the cardinality cap counts. */
struct svc_route {
	struct svc_route *next;
	char *service, *route;
};

struct svc {
	struct svc *next;
	char *service;
	unsigned int routes;
};

struct metrics {
	struct metrics_opts opts;
	pthread_mutex_t mu;
	struct series *series[SLOTS];
	struct svc_route *routes[SLOTS];
	struct svc *svcs[SLOTS];
	size_t nseries;
	uint64_t folded;
	struct metrics_counters counters;
	struct MHD_Daemon *daemon;
	char address[80];
};

static uint64_t hash(uint64_t h, const char *s)
{
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static bool route_allowed(struct metrics *m, const char *service, const char *route)
{
	uint64_t h = hash(hash(0xcbf29ce484222325ull, service), route) % SLOTS;
	uint64_t hs = hash(0xcbf29ce484222325ull, service) % SLOTS;
	struct svc_route *r;
	struct svc *s;

	for (r = m->routes[h]; r; r = r->next)
		if (!strcmp(r->service, service) && !strcmp(r->route, route))
			return true;
	for (s = m->svcs[hs]; s; s = s->next)
		if (!strcmp(s->service, service))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || !(s->service = strdup(service))) {
			free(s);
			return false;
		}
		s->next = m->svcs[hs];
		m->svcs[hs] = s;
	}
	if (s->routes >= m->opts.max_routes)
		return false;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->service = strdup(service)) || !(r->route = strdup(route))) {
		if (r)
			free(r->service);
		free(r);
		return false;
	}
	r->next = m->routes[h];
	m->routes[h] = r;
	s->routes++;
	return true;
}

void metrics_observe(struct metrics *m, const struct span *span, const struct export_resource *res)
{
	char route[SPAN_STATS_ROUTE_LEN];
	const char *method = span->method && *span->method ? span->method : "_OTHER";
	double secs = (double)(span->end_ns > span->start_ns ? span->end_ns - span->start_ns : 0) / 1e9;
	struct series *s;
	uint64_t h;
	unsigned int i;

	if (span->role != SPAN_ROLE_SERVER && span->role != SPAN_ROLE_CLIENT)
		return;
	span_route_of(span->target, route, sizeof(route));
	pthread_mutex_lock(&m->mu);
	if (!route_allowed(m, res->service, route)) {
		snprintf(route, sizeof(route), "%s", SPAN_STATS_OVERFLOW_ROUTE);
		m->folded++;
	}
	h = hash(hash(hash(span->role * 31 + span->status, res->service), method), route) % SLOTS;
	for (s = m->series[h]; s; s = s->next)
		if (s->role == span->role && s->status == span->status && !strcmp(s->service, res->service) &&
		    !strcmp(s->method, method) && !strcmp(s->route, route))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || !(s->service = strdup(res->service)) || !(s->method = strdup(method)) ||
		    !(s->route = strdup(route))) {
			if (s) {
				free(s->service);
				free(s->method);
			}
			free(s);
			pthread_mutex_unlock(&m->mu);
			return;
		}
		s->role = span->role;
		s->status = span->status;
		s->next = m->series[h];
		m->series[h] = s;
		m->nseries++;
	}
	s->count++;
	s->sum += secs;
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (secs <= bounds[i]) {
			s->buckets[i]++;
			break;
		}
	pthread_mutex_unlock(&m->mu);
}

void metrics_set_counters(struct metrics *m, const struct metrics_counters *c)
{
	pthread_mutex_lock(&m->mu);
	m->counters = *c;
	pthread_mutex_unlock(&m->mu);
}

uint64_t metrics_folded(struct metrics *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->mu);
	n = m->folded;
	pthread_mutex_unlock(&m->mu);
	return n;
}

/* ---- exposition ----------------------------------------------------------------------- */

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += n;
			return;
		}
		char *nb = realloc(t->buf, t->cap * 2 + n);

		if (!nb) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = t->cap * 2 + n;
	}
}

/* Label values escape backslash, double quote and newline (the text format's rule). */
static void put_label(struct text *t, const char *name, const char *v, bool comma)
{
	put(t, "%s%s=\"", comma ? "," : "", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			put(t, "\\%c", *v);
		else if (*v == '\n')
			put(t, "\\n");
		else
			put(t, "%c", *v);
	}
	put(t, "\"");
}

static void put_labels(struct text *t, const struct series *s)
{
	char status[8] = "";

	if (s->status)
		snprintf(status, sizeof(status), "%u", s->status);
	put_label(t, "service", s->service, false);
	put_label(t, "method", s->method, true);
	put_label(t, "route", s->route, true);
	put_label(t, "status_code", status, true);
}

static void put_histograms(struct text *t, struct metrics *m, uint8_t role, const char *name,
			   const char *help)
{
	struct series *s;
	size_t slot;
	unsigned int i;

	put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (slot = 0; slot < SLOTS; slot++) {
		for (s = m->series[slot]; s; s = s->next) {
			uint64_t cum = 0;

			if (s->role != role)
				continue;
			for (i = 0; i < METRICS_NBUCKETS; i++) {
				cum += s->buckets[i];
				put(t, "%s_bucket{", name);
				put_labels(t, s);
				put(t, ",le=\"%g\"} %llu\n", bounds[i], (unsigned long long)cum);
			}
			put(t, "%s_bucket{", name);
			put_labels(t, s);
			put(t, ",le=\"+Inf\"} %llu\n%s_sum{", (unsigned long long)s->count, name);
			put_labels(t, s);
			put(t, "} %.9f\n%s_count{", s->sum, name);
			put_labels(t, s);
			put(t, "} %llu\n", (unsigned long long)s->count);
		}
	}
}

static void put_counter(struct text *t, const char *name, const char *help, uint64_t v)
{
	put(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	    (unsigned long long)v);
}

char *metrics_render(struct metrics *m)
{
	struct text t = { .buf = malloc(64 << 10), .cap = 64 << 10 };
	const struct metrics_counters *c = &m->counters;

	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	pthread_mutex_lock(&m->mu);
	put_histograms(&t, m, SPAN_ROLE_SERVER, "http_server_request_duration_seconds",
		       "Duration of HTTP server requests, from ehttp's spans.");
	put_histograms(&t, m, SPAN_ROLE_CLIENT, "http_client_request_duration_seconds",
		       "Duration of HTTP client requests, from ehttp's spans.");
	put_counter(&t, "ehttp_events_total", "Events read from the kernel.", c->events);
	put_counter(&t, "ehttp_events_dropped_total",
		    "Events the kernel could not queue (ring buffer full).", c->events_dropped);
	put_counter(&t, "ehttp_spans_total", "Spans built from the capture.", c->spans);
	put_counter(&t, "ehttp_spans_lost_total", "Spans that could not be built.", c->spans_lost);
	put_counter(&t, "ehttp_metrics_routes_folded_total",
		    "Spans counted under the route \"" SPAN_STATS_OVERFLOW_ROUTE
		    "\" because their service had reached the route cap.", m->folded);
	if (c->have_otlp) {
		put_counter(&t, "ehttp_otlp_spans_exported_total", "Spans an OTLP receiver accepted.",
			    c->otlp.exported);
		put_counter(&t, "ehttp_otlp_export_failures_total",
			    "OTLP requests that failed (each retry counts).", c->otlp.failed_requests);
		put(&t, "# HELP ehttp_otlp_spans_dropped_total Spans not delivered to the OTLP receiver, by reason.\n"
			"# TYPE ehttp_otlp_spans_dropped_total counter\n"
			"ehttp_otlp_spans_dropped_total{reason=\"queue_full\"} %llu\n"
			"ehttp_otlp_spans_dropped_total{reason=\"retries_exhausted\"} %llu\n"
			"ehttp_otlp_spans_dropped_total{reason=\"rejected\"} %llu\n",
		    (unsigned long long)c->otlp.dropped_queue,
		    (unsigned long long)c->otlp.dropped_failed,
		    (unsigned long long)c->otlp.dropped_rejected);
	}
	pthread_mutex_unlock(&m->mu);
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

/* ---- the server ----------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;
	char *body = NULL;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char msg[] = "only GET\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics")) {
		static const char msg[] = "ehttp serves /metrics\n";

		resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	} else {
		body = metrics_render(m);
		if (!body)
			return MHD_NO;
		resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(body);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", code == MHD_HTTP_OK
					  ? "text/plain; version=0.0.4; charset=utf-8"
					  : "text/plain");
	ret = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

bool metrics_parse_listen(const char *text, char *addr, size_t addr_len, unsigned int *port)
{
	const char *colon = strrchr(text, ':'), *p;
	struct in6_addr a6;
	struct in_addr a4;
	char *end;
	unsigned long n;

	p = colon ? colon + 1 : text;
	n = strtoul(p, &end, 10);
	if (!*p || *end || !n || n > 65535)
		return false;
	*port = (unsigned int)n;
	if (!colon) {
		snprintf(addr, addr_len, "127.0.0.1");
		return true;
	}
	if (text[0] == '[' && colon > text + 1 && colon[-1] == ']')
		snprintf(addr, addr_len, "%.*s", (int)(colon - text - 2), text + 1);
	else
		snprintf(addr, addr_len, "%.*s", (int)(colon - text), text);
	return inet_pton(AF_INET, addr, &a4) == 1 || inet_pton(AF_INET6, addr, &a6) == 1;
}

int metrics_open(struct metrics **out, const struct metrics_opts *opts)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct sockaddr_storage ss = { 0 };
	char addr[64];
	unsigned int port = 0;

	if (!m)
		return -ENOMEM;
	m->opts = *opts;
	if (!m->opts.max_routes)
		m->opts.max_routes = METRICS_DEFAULT_MAX_ROUTES;
	pthread_mutex_init(&m->mu, NULL);
	if (opts->listen) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

		if (!metrics_parse_listen(opts->listen, addr, sizeof(addr), &port)) {
			p_err("--metrics %s: not [ADDR:]PORT", opts->listen);
			metrics_close(m);
			return -EINVAL;
		}
		if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
			in4->sin_family = AF_INET;
			in4->sin_port = htons(port);
			snprintf(m->address, sizeof(m->address), "%s:%u", addr, port);
		} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons(port);
			flags |= MHD_USE_IPv6;
			snprintf(m->address, sizeof(m->address), "[%s]:%u", addr, port);
		} else {
			p_err("--metrics %s: '%s' is not an IPv4 or IPv6 address", opts->listen, addr);
			metrics_close(m);
			return -EINVAL;
		}
		m->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, m,
					     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
					     MHD_OPTION_CONNECTION_LIMIT, 16u,
					     MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
		if (!m->daemon) {
			p_err("--metrics %s: cannot listen on %s", opts->listen, m->address);
			metrics_close(m);
			return -EADDRINUSE;
		}
	}
	*out = m;
	return 0;
}

const char *metrics_address(const struct metrics *m)
{
	return m->address;
}

void metrics_close(struct metrics *m)
{
	size_t i;

	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	for (i = 0; i < SLOTS; i++) {
		struct series *s, *sn;
		struct svc_route *r, *rn;
		struct svc *v, *vn;

		for (s = m->series[i]; s; s = sn) {
			sn = s->next;
			free(s->service);
			free(s->method);
			free(s->route);
			free(s);
		}
		for (r = m->routes[i]; r; r = rn) {
			rn = r->next;
			free(r->service);
			free(r->route);
			free(r);
		}
		for (v = m->svcs[i]; v; v = vn) {
			vn = v->next;
			free(v->service);
			free(v);
		}
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}
