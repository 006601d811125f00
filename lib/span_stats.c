// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonw.h"
#include "pipeline.h"
#include "span_stats.h"

#define SLOTS (SPAN_STATS_MAX_ROUTES * 2)
#define SUB (1u << SPAN_HIST_SUB_BITS)

static unsigned int bucket_of(uint64_t v)
{
	unsigned int e;

	if (v < SUB)
		return (unsigned int)v;
	if (v >> SPAN_HIST_MAX_EXP)
		v = (1ull << SPAN_HIST_MAX_EXP) - 1;
	e = 63 - __builtin_clzll(v);
	return SUB * (e - SPAN_HIST_SUB_BITS + 1) + (unsigned int)((v >> (e - SPAN_HIST_SUB_BITS)) - SUB);
}

static uint64_t bucket_mid(unsigned int idx)
{
	unsigned int e, sub;
	uint64_t low, width;

	if (idx < SUB)
		return idx;
	e = idx / SUB + SPAN_HIST_SUB_BITS - 1;
	sub = idx % SUB;
	low = (uint64_t)(SUB + sub) << (e - SPAN_HIST_SUB_BITS);
	width = 1ull << (e - SPAN_HIST_SUB_BITS);
	return low + (width - 1) / 2;
}

void span_hist_add(struct span_hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->buckets[bucket_of(v)]++;
}

uint64_t span_hist_percentile(const struct span_hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	unsigned int i;

	if (!h || !h->count)
		return 0;
	if (p >= 100)
		return h->max;
	rank = (uint64_t)(p / 100.0 * (double)h->count);
	if ((double)rank < p / 100.0 * (double)h->count)
		rank++; /* ceil */
	if (rank < 1)
		rank = 1;
	for (i = 0; i < SPAN_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			break;
	}
	v = bucket_mid(i < SPAN_HIST_BUCKETS ? i : SPAN_HIST_BUCKETS - 1);
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

static bool all_hex(const char *s, size_t n, bool *digit)
{
	size_t i;

	*digit = false;
	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			*digit = true;
		else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return n > 0;
}

static bool is_uuid(const char *s, size_t n)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	size_t i, o = 0;
	bool digit;

	if (n != 36)
		return false;
	for (i = 0; i < 5; i++) {
		if (!all_hex(s + o, groups[i], &digit))
			return false;
		o += groups[i];
		if (i < 4 && s[o++] != '-')
			return false;
	}
	return true;
}

/* An identifier rather than a name: all digits; hex with at least one digit; hex of 16+
 * characters (hashes); a UUID. */
static bool is_id_segment(const char *s, size_t n)
{
	bool digit;

	if (is_uuid(s, n))
		return true;
	if (!all_hex(s, n, &digit))
		return false;
	return digit || n >= 16;
}

size_t span_route_of(const char *target, char *out, size_t cap)
{
	size_t o = 0, n;
	const char *p = target ? target : "", *end;

	if (!cap)
		return 0;
	end = p + strcspn(p, "?#");
	if (p == end) {
		snprintf(out, cap, "%s", "/");
		return strlen(out);
	}
	while (p < end) {
		const char *seg;
		const char *piece;
		size_t plen;

		if (*p == '/') {
			if (o + 1 < cap)
				out[o++] = '/';
			p++;
			continue;
		}
		seg = p;
		while (p < end && *p != '/')
			p++;
		n = p - seg;
		if (is_id_segment(seg, n)) {
			piece = "{id}";
			plen = 4;
		} else {
			piece = seg;
			plen = n;
		}
		if (plen > cap - 1 - o)
			plen = cap - 1 - o;
		memcpy(out + o, piece, plen);
		o += plen;
	}
	out[o] = '\0';
	return o;
}

int span_stats_init(struct span_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->routes = calloc(SLOTS, sizeof(*st->routes));
	st->total.latency = calloc(1, sizeof(struct span_hist));
	st->overflow.latency = calloc(1, sizeof(struct span_hist));
	if (!st->routes || !st->total.latency || !st->overflow.latency) {
		span_stats_free(st);
		return -1;
	}
	snprintf(st->total.method, sizeof(st->total.method), "*");
	snprintf(st->total.route, sizeof(st->total.route), "(total)");
	snprintf(st->overflow.method, sizeof(st->overflow.method), "*");
	snprintf(st->overflow.route, sizeof(st->overflow.route), SPAN_STATS_OVERFLOW_ROUTE);
	return 0;
}

void span_stats_free(struct span_stats *st)
{
	size_t i;

	if (st->routes)
		for (i = 0; i < SLOTS; i++)
			free(st->routes[i].latency);
	free(st->routes);
	free(st->total.latency);
	free(st->overflow.latency);
	memset(st, 0, sizeof(*st));
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static void count(struct span_route_stats *r, const struct span *s, uint64_t dur)
{
	r->count++;
	/* a gRPC call fails with a grpc-status other than 0 (OK), whatever its :status */
	if (s->status >= 500 || s->status == 0 || (s->grpc && s->grpc_status != 0))
		r->errors++;
	span_hist_add(r->latency, dur);
}

void span_stats_add(struct span_stats *st, const struct span *s)
{
	char route[SPAN_STATS_ROUTE_LEN], method[16];
	uint64_t dur = s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0, h;
	struct span_route_stats *r = NULL;
	size_t i;

	if (!st->total.count || s->start_ns < st->first_ns)
		st->first_ns = s->start_ns;
	if (s->start_ns > st->last_ns)
		st->last_ns = s->start_ns;
	count(&st->total, s, dur);

	span_route_of(s->target, route, sizeof(route));
	/* gRPC calls are all POSTs: their rows say what they are */
	snprintf(method, sizeof(method), "%s",
		 s->grpc ? "gRPC" : s->method && *s->method ? s->method : "-");
	h = hash_str(hash_str(0xcbf29ce484222325ull, method), route);
	for (i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct span_route_stats *slot = &st->routes[i];

		if (!slot->latency) {
			if (st->nroutes >= SPAN_STATS_MAX_ROUTES)
				break;
			slot->latency = calloc(1, sizeof(*slot->latency));
			if (!slot->latency)
				break;
			memcpy(slot->method, method, sizeof(slot->method));
			memcpy(slot->route, route, sizeof(slot->route));
			st->nroutes++;
			r = slot;
			break;
		}
		if (!strcmp(slot->route, route) && !strcmp(slot->method, method)) {
			r = slot;
			break;
		}
	}
	count(r ? r : &st->overflow, s, dur);
}

static int by_count(const void *a, const void *b)
{
	const struct span_route_stats *x = *(const struct span_route_stats *const *)a;
	const struct span_route_stats *y = *(const struct span_route_stats *const *)b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = strcmp(x->route, y->route);
	return c ? c : strcmp(x->method, y->method);
}

struct span_route_stats **span_stats_sorted(const struct span_stats *st, size_t *n)
{
	struct span_route_stats **rows = calloc(st->nroutes + 1, sizeof(*rows));
	size_t i, k = 0;

	*n = 0;
	if (!rows)
		return NULL;
	for (i = 0; i < SLOTS; i++)
		if (st->routes[i].latency)
			rows[k++] = &st->routes[i];
	qsort(rows, k, sizeof(*rows), by_count);
	if (st->overflow.count)
		rows[k++] = (struct span_route_stats *)&st->overflow;
	*n = k;
	return rows;
}

/* A row's members; the total has no method or route. */
static void row_members(struct jsonw *w, const struct span_route_stats *r, bool named)
{
	if (named) {
		jsonw_string_field(w, "method", r->method);
		jsonw_string_field(w, "route", r->route);
	}
	jsonw_uint_field(w, "count", r->count);
	jsonw_uint_field(w, "errors", r->errors);
	jsonw_double_field(w, "error_rate", r->count ? (double)r->errors / r->count : 0.0);
	jsonw_uint_field(w, "p50_ns", span_hist_percentile(r->latency, 50));
	jsonw_uint_field(w, "p90_ns", span_hist_percentile(r->latency, 90));
	jsonw_uint_field(w, "p99_ns", span_hist_percentile(r->latency, 99));
	jsonw_uint_field(w, "max_ns", r->latency ? r->latency->max : 0);
}

void span_stats_jsonw(struct jsonw *w, const struct span_stats *st)
{
	struct span_route_stats **rows;
	size_t n, i;

	rows = span_stats_sorted(st, &n);
	jsonw_start_object(w);
	jsonw_name(w, "routes");
	jsonw_start_array(w);
	for (i = 0; rows && i < n; i++) {
		jsonw_start_object(w);
		row_members(w, rows[i], true);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
	free(rows);
	jsonw_name(w, "total");
	jsonw_start_object(w);
	row_members(w, &st->total, false);
	jsonw_end_object(w);
	jsonw_uint_field(w, "first_start_ns", st->first_ns);
	jsonw_uint_field(w, "last_start_ns", st->last_ns);
	jsonw_bool_field(w, "routes_overflowed", st->overflow.count > 0);
	jsonw_end_object(w);
}

static void fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

static void print_row(FILE *f, const struct span_route_stats *r, int route_w)
{
	char p50[16], p90[16], p99[16], max[16];

	fmt_ns(span_hist_percentile(r->latency, 50), p50, sizeof(p50));
	fmt_ns(span_hist_percentile(r->latency, 90), p90, sizeof(p90));
	fmt_ns(span_hist_percentile(r->latency, 99), p99, sizeof(p99));
	fmt_ns(r->latency ? r->latency->max : 0, max, sizeof(max));
	fprintf(f, "%-7s %-*s %10" PRIu64 " %6.2f%% %9s %9s %9s %9s\n", r->method, route_w, r->route,
		r->count, r->count ? 100.0 * r->errors / r->count : 0.0, p50, p90, p99, max);
}

void span_stats_print(const struct span_stats *st, FILE *f)
{
	struct span_route_stats **rows;
	size_t n, i;
	int w = 5;

	rows = span_stats_sorted(st, &n);
	for (i = 0; rows && i < n; i++)
		if ((int)strlen(rows[i]->route) > w)
			w = strlen(rows[i]->route) > 60 ? 60 : (int)strlen(rows[i]->route);
	fprintf(f, "%-7s %-*s %10s %7s %9s %9s %9s %9s\n", "METHOD", w, "ROUTE", "COUNT", "ERRORS",
		"P50", "P90", "P99", "MAX");
	for (i = 0; rows && i < n; i++)
		print_row(f, rows[i], w);
	free(rows);
	print_row(f, &st->total, w);
}

static int stats_emit(void *ctx, const struct span *s)
{
	span_stats_add(ctx, s);
	return 0;
}

void span_stats_sink(struct pipeline_sink *sink, struct span_stats *st)
{
	*sink = (struct pipeline_sink){ .name = "stats", .ctx = st, .emit = stats_emit };
}
