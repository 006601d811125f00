/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Go source: spans from uprobes on net/http inside Go programs (bpf/go_http.bpf.c),
 * each client span linked to the server span of the request that made it. Go processes
 * are found by reading the executables of the traced processes, at start and whenever
 * one executes a new image; a binary that cannot be traced is reported (which process,
 * why) and left to the socket hooks.
 *
 * The shape is the pipeline's source: fd, poll, finish, stats, destroy.
 */
#ifndef EHTTP_GO_SOURCE_H
#define EHTTP_GO_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"
#include "span_filter.h"

struct go_source_opts {
	/* -p and --comm choose the processes (every process when neither is given); the
	 * other filters are the pipeline's, applied to spans. */
	const struct span_filter *filter;
	/* The clock anchor for wall-clock times; NULL = one of its own. Share the
	 * capture's so that the two views of an exchange compare. */
	const struct span_clock *clock;
	/* The ring buffer for events, KiB (-B, rounded up to a power of two); 0 = 4 MiB. */
	uint32_t ringbuf_kb;
	/* --propagate is on for these processes: client spans say what was done with their
	 * trace context (span.propagation), as far as the Go view knows it. */
	bool propagate;
	/* With --propagate: its map of publications (bpf/go_send.h), > 0. The Go source
	 * shares it and probes (*Request).write in the selected processes' binaries, so that
	 * their requests carry the Go view's ids on the wire. */
	int go_sends_fd;
	/* --propagate=memory, or auto where the kernel allows it (enum go_memwrite_mode):
	 * a traceparent is written into each traced process's outgoing requests. */
	int propagate_memory;
	/* > 0: a map (pid → u8) of processes that get memory writes, which sk_msg leaves
	 * alone (--propagate=auto) */
	int memwrite_exclude_fd;
};

struct go_source_stats {
	uint64_t spans;      /* spans handed on */
	uint64_t events;     /* events read from the kernel */
	uint64_t dropped;    /* events the kernel could not queue (ring buffer full) */
	uint64_t no_state;   /* requests whose state did not fit the kernel's maps */
	uint64_t tp_unread;  /* requests whose Header map was too big to look in (flagged) */
	uint64_t processes;  /* Go processes traced so far */
	uint64_t refused;    /* Go processes that could not be traced (reported each) */
	uint64_t probes;     /* uprobes attached */
};

struct go_source;

/* Load, attach the process tracepoints and trace the Go processes running now.
 * Reports its own errors. 0 or a negative errno. */
int go_source_open(struct go_source **out, const struct go_source_opts *opts);

/*
 * Load the programs go_source_open() would for @opts, by the same code, then free them:
 * what `check` judges the Go source by. Nothing is attached (the uprobe feature probe
 * says whether uprobes attach). Prints nothing; returns 0 or a negative errno with the
 * error attach would have printed in @error.
 */
int go_source_try(const struct go_source_opts *opts, char *error, size_t error_len);

/* The pipeline's source operations (ctx is the struct go_source). */
int go_source_fd(void *ctx);
int go_source_poll(void *ctx, struct span_sink *out);
void go_source_finish(void *ctx, struct span_sink *out);
void go_source_destroy(void *ctx);
void go_source_get_stats(const struct go_source *s, struct go_source_stats *st);

/* Whether @pid is traced through its uprobes now (the merge waits for its spans). */
bool go_source_traces(const struct go_source *s, uint32_t pid);

#endif
