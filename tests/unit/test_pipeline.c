// SPDX-License-Identifier: GPL-2.0-only
/* The pipeline with two scripted sources and two recording sinks: what reaches the
 * sinks and in what order, -c over both sources, --duration and ticks on a clock the
 * test turns, flush and close, and a sink error stopping the sources cleanly. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "pipeline.h"

#define MAX_SEEN 256

/* A source handing out @per_round spans each poll, numbered id*1000 + n, until it has
 * given @total (0 = never ends); its finish hands one partial span more. */
struct fake_source {
	int id;
	int per_round, total;
	int given, polls, finishes, destroyed;
	bool finish_had_sink;
	int enough_seen; /* times the pipeline said PIPELINE_ENOUGH */
	int last_rc;     /* a negative errno the pipeline returned */
	int fd;
};

struct fake_sink {
	uint32_t seen[MAX_SEEN]; /* span pids, in order */
	int nseen, flushes, ticks, closes;
	int fail_at;             /* emit number (1-based) that fails with -EPIPE; 0 = never */
	int buffered;            /* spans since the last flush */
	int flushed_total;       /* spans that a flush or close pushed out */
	uint64_t last_tick;
};

static uint64_t fake_ns;
static uint64_t fake_step = 1000000; /* each reading of the clock moves it 1 ms */

static uint64_t fake_now(void)
{
	fake_ns += fake_step;
	return fake_ns;
}

static void reset_clock(void)
{
	fake_ns = 0;
	fake_step = 1000000;
}

static int give(struct fake_source *s, struct span_sink *out, uint32_t flags)
{
	struct span sp = { .method = "GET", .target = "/", .host = "", .flags = flags };
	int rc;

	sp.pid = s->id * 1000 + s->given++;
	rc = out->emit(out, &sp);
	if (rc == PIPELINE_ENOUGH)
		s->enough_seen++;
	else if (rc < 0)
		s->last_rc = rc;
	return rc;
}

static int src_poll(void *ctx, struct span_sink *out)
{
	struct fake_source *s = ctx;
	int i, rc;

	s->polls++;
	for (i = 0; i < s->per_round; i++) {
		if (s->total && s->given >= s->total)
			return 1;
		rc = give(s, out, 0);
		if (rc < 0)
			return rc;
		if (rc == PIPELINE_ENOUGH)
			return 1;
	}
	return s->total && s->given >= s->total ? 1 : 0;
}

static void src_finish(void *ctx, struct span_sink *out)
{
	struct fake_source *s = ctx;

	s->finishes++;
	s->finish_had_sink = out != NULL;
	if (out)
		give(s, out, SPAN_F_PARTIAL);
}

static void src_stats(void *ctx, struct pipeline_stats *st)
{
	struct fake_source *s = ctx;

	st->events += s->given;
}

static void src_destroy(void *ctx)
{
	((struct fake_source *)ctx)->destroyed++;
}

static int src_fd(void *ctx)
{
	return ((struct fake_source *)ctx)->fd;
}

static int sink_emit(void *ctx, const struct span *span)
{
	struct fake_sink *k = ctx;

	if (k->fail_at && k->nseen + 1 == k->fail_at)
		return -EPIPE;
	if (k->nseen < MAX_SEEN)
		k->seen[k->nseen] = span->pid;
	k->nseen++;
	k->buffered++;
	return 0;
}

static int sink_flush(void *ctx)
{
	struct fake_sink *k = ctx;

	k->flushes++;
	k->flushed_total += k->buffered;
	k->buffered = 0;
	return 0;
}

static int sink_tick(void *ctx, uint64_t now)
{
	struct fake_sink *k = ctx;

	k->ticks++;
	k->last_tick = now;
	return 0;
}

static int sink_close(void *ctx)
{
	struct fake_sink *k = ctx;

	k->closes++;
	k->flushed_total += k->buffered;
	k->buffered = 0;
	return 0;
}

static void sink_stats(void *ctx, struct pipeline_stats *st)
{
	st->written_spans += ((struct fake_sink *)ctx)->nseen;
}

static struct pipeline *make(const struct pipeline_opts *o, struct fake_source *a,
			     struct fake_source *b, struct fake_sink *x, struct fake_sink *y)
{
	struct pipeline_opts opts = *o;
	struct pipeline *p;
	struct fake_source *srcs[2] = { a, b };
	struct fake_sink *sinks[2] = { x, y };
	int i;

	if (!opts.now)
		opts.now = fake_now;
	reset_clock();
	cr_assert_eq(pipeline_new(&p, &opts), 0);
	for (i = 0; i < 2; i++) {
		struct pipeline_source s = { .name = "fake", .ctx = srcs[i], .poll = src_poll,
					     .finish = src_finish, .stats = src_stats,
					     .destroy = src_destroy };
		struct pipeline_sink k = { .name = "fake", .ctx = sinks[i], .emit = sink_emit,
					   .tick = sink_tick, .flush = sink_flush,
					   .close = sink_close, .stats = sink_stats };

		if (!srcs[i])
			continue;
		if (srcs[i]->fd > 0)
			s.fd = src_fd;
		cr_assert_eq(pipeline_add_source(p, &s), 0);
		cr_assert_eq(pipeline_add_sink(p, &k), 0);
	}
	return p;
}

Test(pipeline, every_sink_sees_every_span_in_source_order)
{
	struct fake_source a = { .id = 1, .per_round = 2, .total = 4 };
	struct fake_source b = { .id = 2, .per_round = 1, .total = 3 };
	struct fake_sink x = { 0 }, y = { 0 };
	struct pipeline_opts o = { 0 };
	struct pipeline_stats st;
	struct pipeline *p = make(&o, &a, &b, &x, &y);
	/* round 1: a0 a1 b0; round 2: a2 a3 b1; round 3: b2; then the finishes' partials */
	const uint32_t want[] = { 1000, 1001, 2000, 1002, 1003, 2001, 2002, 1004, 2003 };
	size_t i;

	cr_assert_eq(pipeline_run(p), 0);
	cr_assert_eq(x.nseen, (int)(sizeof(want) / sizeof(want[0])));
	cr_assert_eq(y.nseen, x.nseen);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_expect_eq(x.seen[i], want[i], "span %zu: %u, not %u", i, x.seen[i], want[i]);
		cr_expect_eq(y.seen[i], want[i]);
	}
	cr_expect_eq(a.polls, 2, "a complete after its second round, not polled again");
	cr_expect_eq(b.polls, 3);
	cr_expect(a.finish_had_sink && b.finish_had_sink);
	pipeline_get_stats(p, &st);
	cr_expect_eq(st.spans, 9);
	cr_expect_eq(st.events, 4 + 1 + 3 + 1, "each source added its own counters");
	cr_expect_eq(st.written_spans, 18, "and each sink its own");
	pipeline_free(p);
	cr_expect_eq(a.destroyed, 1);
	cr_expect_eq(b.destroyed, 1);
}

Test(pipeline, count_is_over_every_source)
{
	struct fake_source a = { .id = 1, .per_round = 1 };
	struct fake_source b = { .id = 2, .per_round = 1 };
	struct fake_sink x = { 0 }, y = { 0 };
	struct pipeline_opts o = { .max_spans = 5 };
	struct pipeline_stats st;
	struct pipeline *p = make(&o, &a, &b, &x, &y);

	cr_assert_eq(pipeline_run(p), 0);
	cr_expect_eq(x.nseen, 5, "-c 5 over two sources: five spans, not five each");
	cr_expect_eq(y.nseen, 5);
	/* rounds: a0 b0, a1 b1, a2 (the fifth): b is not polled once the count is reached */
	cr_expect_eq(x.seen[4], 1002);
	cr_expect_eq(a.enough_seen, 1 + 1, "told at its fifth span, and at its partial one");
	cr_expect_eq(b.polls, 2);
	cr_expect(a.finish_had_sink, "a count is no error: finish still gets the sink");
	cr_expect_eq(a.enough_seen + b.enough_seen, 3, "and the partial spans are left out");
	pipeline_get_stats(p, &st);
	cr_expect_eq(st.spans, 5);
	pipeline_free(p);
}

Test(pipeline, filters_before_the_count)
{
	struct fake_source a = { .id = 1, .per_round = 1, .total = 10 };
	struct fake_sink x = { 0 };
	struct span_filter f;
	struct pipeline_opts o = { .max_spans = 2, .filter = &f };
	struct pipeline_stats st;
	struct pipeline *p;

	span_filter_init(&f);
	f.npids = 2;
	f.pids[0] = 1003;
	f.pids[1] = 1007;
	p = make(&o, &a, NULL, &x, NULL);
	cr_assert_eq(pipeline_run(p), 0);
	cr_assert_eq(x.nseen, 2);
	cr_expect_eq(x.seen[0], 1003);
	cr_expect_eq(x.seen[1], 1007);
	pipeline_get_stats(p, &st);
	cr_expect_eq(st.filtered, 6, "1000-1002 and 1004-1006 left out");
	pipeline_free(p);
}

Test(pipeline, duration_ends_endless_sources)
{
	struct fake_source a = { .id = 1, .per_round = 1 };
	struct fake_source b = { .id = 2, .per_round = 1 };
	struct fake_sink x = { 0 }, y = { 0 };
	struct pipeline_opts o = { .duration_ns = 50000000 }; /* 50 ms of the test's clock */
	struct pipeline *p = make(&o, &a, &b, &x, &y);

	cr_assert_eq(pipeline_run(p), 0);
	/* The clock moves 1 ms per reading: the start, then one reading per round. */
	cr_expect_eq(a.polls, 50, "polled for 50 ms of rounds, got %d", a.polls);
	cr_expect_eq(b.polls, 50);
	cr_expect_eq(a.finishes, 1);
	cr_expect(a.finish_had_sink);
	cr_expect_eq(x.nseen, 2 * 50 + 2, "every round's spans and the partial ones");
	pipeline_free(p);
}

Test(pipeline, ticks_come_at_their_period)
{
	struct fake_source a = { .id = 1, .per_round = 1, .total = 100 };
	struct fake_sink x = { 0 }, y = { 0 };
	struct pipeline_opts o = { .tick_ns = 10000000 }; /* 10 ms */
	struct pipeline *p = make(&o, &a, NULL, &x, NULL);

	cr_assert_eq(pipeline_run(p), 0);
	/* 100 rounds ending at t=2, 3, ... 101 ms; the first tick is due at 11 ms */
	cr_expect_eq(x.ticks, 10, "%d ticks", x.ticks);
	cr_expect_eq(x.last_tick, 101000000);
	pipeline_free(p);

	memset(&x, 0, sizeof(x));
	a = (struct fake_source){ .id = 1, .per_round = 1, .total = 7 };
	o.tick_ns = 0;
	p = make(&o, &a, NULL, &x, &y);
	cr_assert_eq(pipeline_run(p), 0);
	cr_expect_eq(x.ticks, 7, "tick period 0: every round");
	pipeline_free(p);
}

Test(pipeline, flush_each_round_and_close_at_the_end)
{
	struct fake_source a = { .id = 1, .per_round = 3, .total = 6 };
	struct fake_source b = { .id = 2, .per_round = 1, .total = 1 };
	struct fake_sink x = { 0 }, y = { 0 };
	struct pipeline_opts o = { 0 };
	struct pipeline *p = make(&o, &a, &b, &x, &y);

	cr_assert_eq(pipeline_run(p), 0);
	cr_expect_eq(x.flushes, 2, "one flush per round");
	cr_expect_eq(x.flushed_total, 6 + 1 + 2, "what the rounds flushed, then close the partials");
	cr_expect_eq(x.closes, 1);
	cr_expect_eq(y.closes, 1);
	cr_expect_eq(x.buffered, 0, "nothing left behind");
	pipeline_free(p);
	cr_expect_eq(x.closes, 1, "free does not close again");
}

Test(pipeline, sink_error_stops_the_sources_cleanly)
{
	struct fake_source a = { .id = 1, .per_round = 2 };
	struct fake_source b = { .id = 2, .per_round = 2 };
	struct fake_sink x = { .fail_at = 4 }, y = { 0 };
	struct pipeline_opts o = { 0 };
	struct pipeline *p = make(&o, &a, &b, &x, &y);

	cr_assert_eq(pipeline_run(p), -EPIPE);
	cr_expect(pipeline_failed_sink(p));
	/* round 1: a0 a1 b0 reach both; b1 fails at x, so y never sees it */
	cr_expect_eq(x.nseen, 3);
	cr_expect_eq(y.nseen, 3);
	cr_expect_eq(b.last_rc, -EPIPE, "the source got the sink's error");
	cr_expect_eq(a.polls, 1);
	cr_expect_eq(b.polls, 1);
	cr_expect_eq(a.finishes, 1, "sources are still finished...");
	cr_expect(!a.finish_had_sink && !b.finish_had_sink, "...without a sink");
	cr_expect_eq(x.closes, 1, "and every sink is closed");
	cr_expect_eq(y.closes, 1);
	pipeline_free(p);
}

Test(pipeline, a_source_fd_wakes_the_round)
{
	struct fake_source a = { .id = 1, .per_round = 1, .total = 3 };
	struct fake_sink x = { 0 };
	struct pipeline_opts o = { .now = NULL };
	struct pipeline *p;
	uint64_t one = 1;

	/* A readable fd: epoll returns at once, the rounds do not wait their timeout. */
	a.fd = eventfd(0, EFD_CLOEXEC);
	cr_assert_geq(a.fd, 0);
	cr_assert_eq(write(a.fd, &one, sizeof(one)), sizeof(one));
	p = make(&o, &a, NULL, &x, NULL);
	cr_assert_eq(pipeline_run(p), 0);
	cr_expect_eq(x.nseen, 4);
	pipeline_free(p);
	close(a.fd);
}

static int polls_before_signal;

static int signalling_poll(void *ctx, struct span_sink *out)
{
	struct fake_source *s = ctx;

	if (s->polls + 1 == polls_before_signal)
		raise(SIGTERM);
	return src_poll(ctx, out);
}

Test(pipeline, sigterm_ends_the_run_like_the_end_of_input)
{
	struct fake_source a = { .id = 1, .per_round = 1 };
	struct fake_sink x = { 0 };
	struct pipeline_opts o = { .catch_signals = true, .now = fake_now };
	struct pipeline_source s = { .name = "fake", .ctx = &a, .poll = signalling_poll,
				     .finish = src_finish };
	struct pipeline_sink k = { .name = "fake", .ctx = &x, .emit = sink_emit,
				   .close = sink_close };
	struct pipeline *p;

	polls_before_signal = 3;
	cr_assert_eq(pipeline_new(&p, &o), 0);
	cr_assert_eq(pipeline_add_source(p, &s), 0);
	cr_assert_eq(pipeline_add_sink(p, &k), 0);
	cr_assert_eq(pipeline_run(p), 0, "a signal is no error");
	cr_expect(pipeline_signalled());
	cr_expect_eq(a.polls, 3, "the round it came in is the last");
	cr_expect(a.finish_had_sink, "the partial spans are still written");
	cr_expect_eq(x.nseen, 3 + 1);
	cr_expect_eq(x.closes, 1);
	pipeline_free(p);
}
