/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One span per exchange when two sources see it: the Go source (uprobes inside the
 * program: goroutines, parent links, trace ids) and the wire (socket or syscall hooks:
 * addresses, byte counts, header blocks, the exact status line). A span of a process
 * the Go source traces waits a moment for its other view; two views of one exchange
 * go out as one span, which has the Go view's ids and links and the wire's addresses,
 * counts and headers. Spans of other processes pass straight through.
 *
 * How the views are matched (docs/go-source.md): same process and role, same method,
 * same target (percent-decoded: Go's client view has the decoded path), overlapping
 * times, for server spans the same client address (Go's Request.RemoteAddr); among
 * candidates the one whose start is closest, oldest first.
 */
#ifndef EHTTP_SPAN_MERGE_H
#define EHTTP_SPAN_MERGE_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"

/* How long a span waits for its other view: the two come through different ring
 * buffers, each read in batches, and a capture busy with the rest of the host's
 * traffic can be behind the Go source by more than a round. Only spans that find no
 * other view wait this long. */
#define SPAN_MERGE_HOLD_NS 1000000000ull
/* Spans held at most; beyond, the oldest goes out alone. */
#define SPAN_MERGE_MAX_HELD 65536

enum span_merge_input { SPAN_MERGE_WIRE = 0, SPAN_MERGE_GO = 1 };

struct span_merge_opts {
	/* Whether the Go source traces @pid: only then does a wire span wait. */
	bool (*watched)(void *arg, uint32_t pid);
	void *arg;
	uint64_t hold_ns;            /* 0 = SPAN_MERGE_HOLD_NS */
	uint64_t (*now)(void);       /* CLOCK_MONOTONIC ns; NULL = the real one (tests) */
};

struct span_merge_stats {
	uint64_t merged;   /* pairs that went out as one span */
	uint64_t go_alone; /* Go spans whose wire view never came (TLS, HTTP/2, not hooked) */
	uint64_t wire_alone; /* wire spans of traced processes without a Go view */
};

struct span_merge;

/* Spans go out to @out (kept, not owned). */
int span_merge_new(struct span_merge **out_merge, const struct span_merge_opts *opts,
		   struct span_sink *out);
/* The sink a source hands its spans to. */
struct span_sink *span_merge_input(struct span_merge *m, enum span_merge_input which);
/* Send on what waited long enough (everything when @all). Returns the output's error. */
int span_merge_release(struct span_merge *m, bool all);
void span_merge_get_stats(const struct span_merge *m, struct span_merge_stats *st);
void span_merge_free(struct span_merge *m);

/* ---- the pure parts, for tests ------------------------------------------------------- */
/* Whether @go and @wire are views of one exchange; @distance (ns) ranks candidates. */
bool span_merge_match(const struct span *go, const struct span *wire, uint64_t *distance);
/* The one span: @wire's addresses, counts, headers and status; @go's ids and links.
 * Strings of @out point into @go and @wire. */
void span_merge_combine(const struct span *go, const struct span *wire, struct span *out);
/* Request targets equal once %XX escapes are decoded ("/a%20b" = "/a b"). */
bool span_merge_same_target(const char *a, const char *b);

#endif
