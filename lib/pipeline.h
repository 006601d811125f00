/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One loop from sources to sinks. Sources (live capture, span files, later Go uprobes)
 * produce spans; sinks (printer, span file writer, statistics, later exporters) consume
 * them. attach, record and replay differ only in which sources and sinks they put
 * together: the pipeline owns the rest, the same for all of them.
 *
 *   - waiting: epoll over the sources' fds (ring_buffer__epoll_fd() for a capture),
 *     at most one round (PIPELINE_ROUND_MS) at a time; every source is polled each
 *     round, so a source with periodic work of its own needs no fd;
 *   - filtering (--method, --path, --status, ...), then -c counted once over every
 *     source, then fan-out of each span to every sink in the order they were added;
 *   - --duration, SIGINT/SIGTERM, and the end of every source end the run;
 *   - sinks' tick (time-based work: rotation, batches, metrics) and flush (end of a
 *     round: buffered output out), then close at the end;
 *   - the closing counters: every source and sink adds its own (struct pipeline_stats).
 *
 * A sink error stops the run cleanly: sources are finished without a sink (no partial
 * spans are made for output that failed) and every sink is still closed.
 */
#ifndef EHTTP_PIPELINE_H
#define EHTTP_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"
#include "span_filter.h"

/* Longest wait in one round: bounds how late a span queued in a source is handed on
 * (a capture's kernel side wakes the reader only per batch). */
#define PIPELINE_ROUND_MS 20

/* What the pipeline's span_sink returns to a source once it wants no more spans (the
 * count was reached, or the run is stopping): the span was taken or left out; the
 * source should stop reading and return 1 from poll. A negative errno is a sink's error. */
#define PIPELINE_ENOUGH 1

/* Summary counters; every source and sink adds what it knows. */
struct pipeline_stats {
	/* the pipeline's own */
	uint64_t spans;            /* passed the filters and handed to every sink */
	uint64_t filtered;         /* left out by the filters */
	/* live capture sources */
	uint64_t events;           /* events read from the kernel */
	uint64_t conns;            /* connections tracked */
	uint64_t dropped;          /* events the kernel could not queue (ring buffer full) */
	uint64_t lost;             /* spans that could not be built */
	uint64_t h2_lost;          /* HTTP/2 syscalls whose frame walk lost its place */
	uint64_t h2_clipped;       /* HTTP/2 syscalls whose frames did not all fit their event */
	bool targets_gone;         /* a source ended because the processes it followed exited */
	/* span file sources */
	uint64_t read_spans;
	uint64_t damaged_regions, damaged_bytes;
	uint64_t skipped_records;  /* records not understood */
	uint64_t truncated_bytes;  /* an incomplete last record */
	/* span file sinks */
	uint64_t written_spans, written_bytes, files;
};

struct pipeline_source {
	const char *name; /* "capture", "spanfile", ... */
	void *ctx;
	/* An fd to wait on for readability, or -1 (then only the round's timeout wakes
	 * the loop, or, with no fd at all, nothing waits). May be NULL = -1. */
	int (*fd)(void *ctx);
	/* Take what is ready without blocking for long and hand spans to @out. Returns 0
	 * (more may come), 1 (this source is complete) or a negative errno. */
	int (*poll)(void *ctx, struct span_sink *out);
	/* The run is ending: drain, and hand what is pending (partial spans) to @out,
	 * which is NULL after an error. May be NULL. */
	void (*finish)(void *ctx, struct span_sink *out);
	void (*stats)(void *ctx, struct pipeline_stats *st); /* adds its counters; may be NULL */
	void (*destroy)(void *ctx);                           /* may be NULL */
};

struct pipeline_sink {
	const char *name;
	void *ctx;
	/* < 0 stops the pipeline cleanly; may be NULL (a sink of counters only) */
	int (*emit)(void *ctx, const struct span *span);
	int (*tick)(void *ctx, uint64_t now_mono_ns);    /* periodic; may be NULL */
	int (*flush)(void *ctx);                         /* end of a round; may be NULL */
	int (*close)(void *ctx);                         /* final flush and free; may be NULL */
	void (*stats)(void *ctx, struct pipeline_stats *st); /* may be NULL */
};

struct pipeline_opts {
	const struct span_filter *filter; /* NULL = every span (copied) */
	uint64_t max_spans;               /* -c: stop after this many spans; 0 = no limit */
	uint64_t duration_ns;             /* --duration; 0 = no limit */
	uint64_t tick_ns;                 /* sinks' tick period; 0 = every round */
	bool catch_signals;               /* SIGINT/SIGTERM end the run as the end of input does */
	uint64_t (*now)(void);            /* CLOCK_MONOTONIC ns; NULL = the real one (tests) */
};

struct pipeline;

int pipeline_new(struct pipeline **out, const struct pipeline_opts *opts);
/* Copied; the pipeline calls destroy/close on them in pipeline_free()/the run's end. */
int pipeline_add_source(struct pipeline *p, const struct pipeline_source *src);
int pipeline_add_sink(struct pipeline *p, const struct pipeline_sink *sink);
/*
 * Run until every source is complete, the count or duration is reached, a signal
 * (with catch_signals) or an error; then finish the sources, gather the statistics and
 * close the sinks. Returns 0 or the first error (a negative errno); see
 * pipeline_failed_sink() for whose it was.
 */
int pipeline_run(struct pipeline *p);
/* The error pipeline_run() returned came from a sink (its output), not a source. */
bool pipeline_failed_sink(const struct pipeline *p);
/* The counters as they stand (during the run, e.g. a sink's status line, or after). */
void pipeline_get_stats(struct pipeline *p, struct pipeline_stats *st);
/* Destroy the sources (and close sinks never closed by a run). */
void pipeline_free(struct pipeline *p);

/* SIGINT/SIGTERM set a flag every running pipeline (with catch_signals) stops on;
 * SIGPIPE is ignored (a reader that went away is a write error, handled as such). */
void pipeline_catch_signals(void);
bool pipeline_signalled(void);

#endif
