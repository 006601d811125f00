/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RED metrics for Prometheus: request-duration histograms per service, method, route
 * and status code (the semantic conventions' http.server.request.duration and
 * http.client.request.duration, in seconds, with their bucket boundaries), and ehttp's
 * own counters, served as /metrics in the Prometheus text format (libmicrohttpd).
 *
 * Routes are the grouping `replay --stats` uses; beyond max_routes per service a
 * route's spans fold into the route "(other routes)" and are counted.
 */
#ifndef EHTTP_EXPORT_METRICS_H
#define EHTTP_EXPORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"
#include "export/otlp.h"
#include "export/resource.h"

#define METRICS_DEFAULT_MAX_ROUTES 100
#define METRICS_NBUCKETS 14

struct metrics_opts {
	const char *listen;      /* "[ADDR:]PORT"; ADDR defaults to 127.0.0.1 */
	unsigned int max_routes; /* per service */
};

/* What the capture and the exporters count, for the ehttp_* series. */
struct metrics_counters {
	uint64_t events, events_dropped, spans, spans_lost;
	bool have_otlp;
	struct otlp_stats otlp;
};

struct metrics;

/* The registry alone (no server: listen NULL), or serving /metrics. Reports its own
 * errors. Returns 0 or a negative errno. */
int metrics_open(struct metrics **out, const struct metrics_opts *opts);
/* The address it listens on ("127.0.0.1:9464"), for the startup line. */
const char *metrics_address(const struct metrics *m);
void metrics_observe(struct metrics *m, const struct span *span, const struct export_resource *res);
void metrics_set_counters(struct metrics *m, const struct metrics_counters *c);
/* The exposition text (malloc'ed). */
char *metrics_render(struct metrics *m);
uint64_t metrics_folded(struct metrics *m);
void metrics_close(struct metrics *m);

/* Parse "[ADDR:]PORT" ("9464", "0.0.0.0:9464", "[::1]:9464"); ADDR must be an IPv4
 * or IPv6 address. */
bool metrics_parse_listen(const char *text, char *addr, size_t addr_len, unsigned int *port);

#endif
