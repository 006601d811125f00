// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"

static volatile sig_atomic_t signalled;

struct pipeline {
	struct pipeline_opts opts;
	struct span_filter filter;
	bool has_filter;

	struct pipeline_source *sources;
	bool *complete; /* per source */
	size_t nsources;
	struct pipeline_sink *sinks;
	size_t nsinks;

	struct span_sink out; /* what sources emit into: filter, count, fan out */
	uint64_t spans, filtered;
	bool enough;      /* the count was reached: later spans are left out */
	int err;          /* the first error, source's or sink's */
	bool sink_failed; /* ... and it was a sink's */
	bool ran;         /* finished and closed: the counters are in @final */
	struct pipeline_stats final;
};

static void on_signal(int sig)
{
	(void)sig;
	signalled = 1;
}

void pipeline_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a wait in progress returns at once, and the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool pipeline_signalled(void)
{
	return signalled;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void fail(struct pipeline *p, int err, bool in_sink)
{
	if (p->err)
		return;
	p->err = err < 0 ? err : -EIO;
	p->sink_failed = in_sink;
}

/* Sources emit here. Filters first, so that -c counts what is shown, whichever source
 * it came from; then every sink gets the span. */
static int pipeline_emit(struct span_sink *out, const struct span *span)
{
	struct pipeline *p = out->ctx;
	size_t i;
	int rc;

	if (p->err)
		return p->err;
	if (p->enough)
		return PIPELINE_ENOUGH;
	if (p->has_filter && !span_filter_match(&p->filter, span)) {
		p->filtered++;
		return 0;
	}
	for (i = 0; i < p->nsinks; i++) {
		if (!p->sinks[i].emit)
			continue;
		rc = p->sinks[i].emit(p->sinks[i].ctx, span);
		if (rc) {
			fail(p, rc, true);
			return p->err;
		}
	}
	p->spans++;
	if (p->opts.max_spans && p->spans >= p->opts.max_spans) {
		p->enough = true;
		return PIPELINE_ENOUGH;
	}
	return 0;
}

int pipeline_new(struct pipeline **out, const struct pipeline_opts *opts)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	if (opts)
		p->opts = *opts;
	if (!p->opts.now)
		p->opts.now = mono_now;
	if (p->opts.filter) {
		p->filter = *p->opts.filter;
		p->has_filter = true;
		p->opts.filter = NULL;
	}
	p->out.emit = pipeline_emit;
	p->out.ctx = p;
	*out = p;
	return 0;
}

int pipeline_add_source(struct pipeline *p, const struct pipeline_source *src)
{
	struct pipeline_source *v = realloc(p->sources, (p->nsources + 1) * sizeof(*v));
	bool *c;

	if (!v)
		return -ENOMEM;
	p->sources = v;
	c = realloc(p->complete, (p->nsources + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	p->complete = c;
	p->sources[p->nsources] = *src;
	p->complete[p->nsources] = false;
	p->nsources++;
	return 0;
}

int pipeline_add_sink(struct pipeline *p, const struct pipeline_sink *sink)
{
	struct pipeline_sink *v = realloc(p->sinks, (p->nsinks + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->sinks = v;
	p->sinks[p->nsinks++] = *sink;
	return 0;
}

static int source_fd(const struct pipeline_source *s)
{
	return s->fd ? s->fd(s->ctx) : -1;
}

/* An epoll set over the sources' fds in @out, or -1 when none has one (nothing to
 * wait on). Returns 0 or a negative errno. */
static int open_waitset(struct pipeline *p, int *out)
{
	int ep = -1;
	size_t i;

	*out = -1;

	for (i = 0; i < p->nsources; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
		int fd = source_fd(&p->sources[i]);

		if (fd < 0)
			continue;
		if (ep < 0) {
			ep = epoll_create1(EPOLL_CLOEXEC);
			if (ep < 0)
				return -errno;
		}
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			int err = -errno;

			close(ep);
			return err;
		}
	}
	*out = ep;
	return 0;
}

/* Wait for a source to have something, one round at most, never past @deadline. */
static void wait_round(struct pipeline *p, int ep, uint64_t deadline)
{
	struct epoll_event evs[8];
	int timeout = PIPELINE_ROUND_MS;

	if (ep < 0)
		return;
	if (deadline) {
		uint64_t now = p->opts.now();
		uint64_t left_ms = now >= deadline ? 0 : (deadline - now + 999999) / 1000000;

		if (left_ms < (uint64_t)timeout)
			timeout = (int)left_ms;
	}
	/* Readiness only wakes the loop: every source is polled each round anyway. */
	epoll_wait(ep, evs, sizeof(evs) / sizeof(evs[0]), timeout);
}

/* Poll every source not complete yet; false when the run should end. */
static bool poll_sources(struct pipeline *p)
{
	size_t i, left = 0;
	int rc;

	for (i = 0; i < p->nsources && !p->enough; i++) {
		if (p->complete[i])
			continue;
		rc = p->sources[i].poll(p->sources[i].ctx, &p->out);
		if (rc < 0) {
			/* The sink's error comes back through its source: keep it as the sink's. */
			fail(p, rc, false);
			return false;
		}
		if (p->err)
			return false;
		if (rc > 0)
			p->complete[i] = true;
		else
			left++;
	}
	return left > 0 && !p->enough;
}

enum sink_call { SINK_FLUSH, SINK_TICK };

/* Flush (the end of a round) or tick every sink that has it; false after an error. */
static bool call_sinks(struct pipeline *p, enum sink_call call, uint64_t now)
{
	size_t i;
	int rc;

	for (i = 0; i < p->nsinks; i++) {
		const struct pipeline_sink *k = &p->sinks[i];

		if (call == SINK_FLUSH)
			rc = k->flush ? k->flush(k->ctx) : 0;
		else
			rc = k->tick ? k->tick(k->ctx, now) : 0;
		if (rc) {
			fail(p, rc, true);
			return false;
		}
	}
	return true;
}

static void collect(struct pipeline *p, struct pipeline_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->spans = p->spans;
	st->filtered = p->filtered;
	for (i = 0; i < p->nsources; i++)
		if (p->sources[i].stats)
			p->sources[i].stats(p->sources[i].ctx, st);
	for (i = 0; i < p->nsinks; i++)
		if (p->sinks[i].stats)
			p->sinks[i].stats(p->sinks[i].ctx, st);
}

static void close_sinks(struct pipeline *p)
{
	size_t i;
	int rc;

	for (i = 0; i < p->nsinks; i++) {
		if (!p->sinks[i].close)
			continue;
		rc = p->sinks[i].close(p->sinks[i].ctx);
		if (rc)
			fail(p, rc, true);
	}
	p->nsinks = 0;
}

int pipeline_run(struct pipeline *p)
{
	uint64_t start, now, deadline = 0, next_tick;
	size_t i;
	int ep, err;

	if (p->opts.catch_signals)
		pipeline_catch_signals();
	err = open_waitset(p, &ep);
	if (err)
		fail(p, err, false);
	start = p->opts.now();
	if (p->opts.duration_ns)
		deadline = start + p->opts.duration_ns;
	next_tick = start + p->opts.tick_ns;

	while (!p->err && p->nsources) {
		bool more;

		wait_round(p, ep, deadline);
		more = poll_sources(p);
		if (p->err || !call_sinks(p, SINK_FLUSH, 0))
			break;
		now = p->opts.now();
		if (now >= next_tick) {
			if (!call_sinks(p, SINK_TICK, now))
				break;
			next_tick = now + p->opts.tick_ns;
		}
		if (!more || (deadline && now >= deadline) ||
		    (p->opts.catch_signals && signalled))
			break;
	}
	if (ep >= 0)
		close(ep);

	/* Drain the sources; after an error nothing more goes to the sinks. */
	for (i = 0; i < p->nsources; i++)
		if (p->sources[i].finish)
			p->sources[i].finish(p->sources[i].ctx, p->err ? NULL : &p->out);
	collect(p, &p->final);
	close_sinks(p);
	p->ran = true;
	return p->err;
}

bool pipeline_failed_sink(const struct pipeline *p)
{
	return p->err && p->sink_failed;
}

void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *st)
{
	if (p->ran)
		*st = p->final;
	else
		collect(p, st);
}

void pipeline_free(struct pipeline *p)
{
	size_t i;

	if (!p)
		return;
	close_sinks(p);
	for (i = 0; i < p->nsources; i++)
		if (p->sources[i].destroy)
			p->sources[i].destroy(p->sources[i].ctx);
	free(p->sources);
	free(p->complete);
	free(p->sinks);
	free(p);
}
