// SPDX-License-Identifier: GPL-2.0-only
/* replay --stats: route grouping, percentiles against exact values computed here,
 * the bounded route table, and the --since/--until time parser. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "span_stats.h"
#include "timeparse.h"

static const char *route(const char *target)
{
	static char buf[SPAN_STATS_ROUTE_LEN];

	span_route_of(target, buf, sizeof(buf));
	return buf;
}

Test(span_stats, route_grouping)
{
	cr_expect_str_eq(route("/users/42"), "/users/{id}");
	cr_expect_str_eq(route("/users/42/orders/7?expand=1"), "/users/{id}/orders/{id}");
	cr_expect_str_eq(route("/blobs/deadbeef01"), "/blobs/{id}");
	cr_expect_str_eq(route("/commits/0123456789abcdef0123456789abcdef01234567"), "/commits/{id}");
	cr_expect_str_eq(route("/sessions/123e4567-e89b-12d3-a456-426614174000/end"),
			 "/sessions/{id}/end");
	cr_expect_str_eq(route("/sessions/123E4567-E89B-12D3-A456-426614174000"), "/sessions/{id}");
	/* words that happen to be hex letters stay: cafe, add, bad */
	cr_expect_str_eq(route("/cafe/add/bad"), "/cafe/add/bad");
	cr_expect_str_eq(route("/api/v1/health"), "/api/v1/health");
	cr_expect_str_eq(route("/static/app.js#top"), "/static/app.js");
	cr_expect_str_eq(route("/"), "/");
	cr_expect_str_eq(route("?only=query"), "/");
	cr_expect_str_eq(route(""), "/");
	cr_expect_str_eq(route("/a//b/"), "/a//b/");
	cr_expect_str_eq(route("*"), "*");
}

Test(span_stats, route_truncated_not_overflowed)
{
	char target[1000], out[16];

	memset(target, 'g', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	cr_expect_eq(span_route_of(target, out, sizeof(out)), 15);
	cr_expect_eq(strlen(out), 15);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank, straight from the definition. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * n);

	return sorted[(rank ? rank : 1) - 1];
}

Test(span_stats, percentiles_within_bucket_error)
{
	static const double ps[] = { 1, 50, 90, 99, 99.9, 100 };
	static uint64_t v[20000];
	struct span_hist *h = calloc(1, sizeof(*h));
	size_t n = sizeof(v) / sizeof(v[0]), i, j;

	srand(99);
	for (i = 0; i < n; i++) {
		/* log-uniform from 1 ns to ~100 s */
		double e = (double)rand() / RAND_MAX * 11;

		v[i] = (uint64_t)pow(10, e);
		span_hist_add(h, v[i]);
	}
	qsort(v, n, sizeof(v[0]), cmp_u64);
	for (j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
		uint64_t want = exact_percentile(v, n, ps[j]), got = span_hist_percentile(h, ps[j]);
		double err = fabs((double)got - (double)want) / (double)want;

		cr_expect_leq(err, 1.0 / 32, "p%g: got %lu want %lu", ps[j], (unsigned long)got,
			      (unsigned long)want);
	}
	cr_expect_eq(span_hist_percentile(h, 100), v[n - 1]);
	/* small values are exact */
	memset(h, 0, sizeof(*h));
	for (i = 1; i <= 10; i++)
		span_hist_add(h, i);
	cr_expect_eq(span_hist_percentile(h, 50), 5);
	cr_expect_eq(span_hist_percentile(h, 90), 9);
	cr_expect_eq(span_hist_percentile(h, 100), 10);
	free(h);
}

static void add(struct span_stats *st, const char *method, const char *target, uint16_t status,
		uint64_t dur)
{
	struct span s = { .method = method, .target = target, .status = status,
			  .start_ns = 1000, .end_ns = 1000 + dur };

	span_stats_add(st, &s);
}

Test(span_stats, rows_counts_and_errors)
{
	struct span_stats st;
	struct span_route_stats **rows;
	size_t n;

	cr_assert_eq(span_stats_init(&st), 0);
	add(&st, "GET", "/users/1", 200, 100);
	add(&st, "GET", "/users/2?x", 500, 300);
	add(&st, "GET", "/users/3", 0, 200); /* no response counts as an error */
	add(&st, "POST", "/users/3", 201, 50);
	add(&st, "GET", "/health", 404, 10);
	rows = span_stats_sorted(&st, &n);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(rows[0]->method, "GET");
	cr_expect_str_eq(rows[0]->route, "/users/{id}");
	cr_expect_eq(rows[0]->count, 3);
	cr_expect_eq(rows[0]->errors, 2);
	cr_expect_eq(rows[0]->latency->max, 300);
	/* 200 falls in the bucket [200, 203]: its middle is reported */
	cr_expect_geq(span_hist_percentile(rows[0]->latency, 50), 200);
	cr_expect_leq(span_hist_percentile(rows[0]->latency, 50), 203);
	cr_expect_eq(st.total.count, 5);
	cr_expect_eq(st.total.errors, 2);
	free(rows);
	span_stats_free(&st);
}

Test(span_stats, bounded_route_table)
{
	struct span_stats st;
	char target[64];
	int i;

	cr_assert_eq(span_stats_init(&st), 0);
	for (i = 0; i < SPAN_STATS_MAX_ROUTES + 100; i++) {
		snprintf(target, sizeof(target), "/route-%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
			 'a' + i / 676 % 26);
		add(&st, "GET", target, 200, 5);
		add(&st, "GET", target, 200, 5);
	}
	cr_expect_eq(st.nroutes, SPAN_STATS_MAX_ROUTES);
	cr_expect_eq(st.overflow.count, 200);
	cr_expect_eq(st.total.count, 2 * (SPAN_STATS_MAX_ROUTES + 100));
	span_stats_free(&st);
}

Test(timeparse, accepted_forms)
{
	uint64_t ns;

	cr_assert(parse_time_arg("1795625400", &ns));
	cr_expect_eq(ns, 1795625400000000000ull);
	cr_assert(parse_time_arg("1795625400.25", &ns));
	cr_expect_eq(ns, 1795625400250000000ull);
	/* 2026-11-25T16:50:00Z = 1795625400 (date -u -d ... +%s) */
	cr_assert(parse_time_arg("2026-11-25T16:50:00Z", &ns));
	cr_expect_eq(ns, 1795625400000000000ull);
	cr_assert(parse_time_arg("2026-11-25 17:50:00.5+01:00", &ns));
	cr_expect_eq(ns, 1795625400500000000ull);
	cr_assert(parse_time_arg("2026-11-25T12:20:00-04:30", &ns));
	cr_expect_eq(ns, 1795625400000000000ull);
	cr_assert(parse_time_arg("2026-11-25t16:50:00.000000001z", &ns));
	cr_expect_eq(ns, 1795625400000000001ull);
	setenv("TZ", "UTC", 1);
	cr_assert(parse_time_arg("2026-11-25T16:50:00", &ns));
	cr_expect_eq(ns, 1795625400000000000ull);
}

Test(timeparse, refused_forms)
{
	uint64_t ns;

	cr_expect_not(parse_time_arg("", &ns));
	cr_expect_not(parse_time_arg("yesterday", &ns));
	cr_expect_not(parse_time_arg("1764089400.", &ns));
	cr_expect_not(parse_time_arg("12x", &ns));
	cr_expect_not(parse_time_arg("2026-13-25T16:50:00Z", &ns));
	cr_expect_not(parse_time_arg("2026-11-25T16:50Z", &ns));
	cr_expect_not(parse_time_arg("2026-11-25T16:50:00+0100", &ns));
	cr_expect_not(parse_time_arg("2026-11-25T16:50:00Zjunk", &ns));
}
