/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per (method, route) statistics over a stream of spans in constant memory: a bounded
 * route table (an overflow row takes the rest) and a log-linear latency histogram per
 * route, so percentiles are within 1/64 of the true value whatever the input size.
 */
#ifndef EHTTP_SPAN_STATS_H
#define EHTTP_SPAN_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "span.h"

#define SPAN_STATS_MAX_ROUTES 1024
#define SPAN_STATS_ROUTE_LEN 256
#define SPAN_STATS_OVERFLOW_ROUTE "(other routes)"

/* Values below 2^HIST_LINEAR_BITS ns are exact; above, 2^HIST_LINEAR_BITS buckets per
 * power of two; values from 2^40 ns (18 minutes) up share the last bucket's range. */
#define SPAN_HIST_SUB_BITS 5
#define SPAN_HIST_MAX_EXP 40
#define SPAN_HIST_BUCKETS ((1u << SPAN_HIST_SUB_BITS) * (SPAN_HIST_MAX_EXP - SPAN_HIST_SUB_BITS + 1))

struct span_hist {
	uint64_t count, max, min;
	uint32_t buckets[SPAN_HIST_BUCKETS];
};

void span_hist_add(struct span_hist *h, uint64_t value);
/* Nearest-rank percentile (0 < p <= 100): the middle of the bucket holding it, clamped to
 * the observed min and max. 0 when empty. */
uint64_t span_hist_percentile(const struct span_hist *h, double p);

struct span_route_stats {
	char method[16];
	char route[SPAN_STATS_ROUTE_LEN];
	uint64_t count;
	uint64_t errors; /* 5xx, or no response at all */
	struct span_hist *latency;
};

struct span_stats {
	struct span_route_stats *routes; /* open addressing, SPAN_STATS_MAX_ROUTES * 2 slots */
	size_t nroutes;
	struct span_route_stats overflow; /* routes beyond the table */
	struct span_route_stats total;
	uint64_t first_ns, last_ns;
};

/* "/users/42?x=1" → "/users/{id}": numbers, hex with a digit, long hex, UUIDs. Returns
 * the length written (always NUL-terminated, truncated to @cap - 1). */
size_t span_route_of(const char *target, char *out, size_t cap);

int span_stats_init(struct span_stats *st);
void span_stats_add(struct span_stats *st, const struct span *span);
void span_stats_free(struct span_stats *st);

/* Rows sorted by count (highest first), overflow last when used; caller frees the array. */
struct span_route_stats **span_stats_sorted(const struct span_stats *st, size_t *n);

struct jsonw;
/* {"routes": [...], "total": {...}, ...}: what replay -j --stats prints. */
void span_stats_jsonw(struct jsonw *w, const struct span_stats *st);
void span_stats_print(const struct span_stats *st, FILE *f);

/* A pipeline sink feeding @st (lib/pipeline.h); the caller prints and frees @st. */
struct pipeline_sink;
void span_stats_sink(struct pipeline_sink *sink, struct span_stats *st);

#endif
