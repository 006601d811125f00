/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace context propagation (--propagate): write a W3C traceparent into the outgoing
 * HTTP/1.x requests of the selected processes, and give the spans the capture builds
 * the ids that went on the wire.
 *
 * The sk_msg method (bpf/propagate.bpf.c) inserts the header in the kernel as the
 * request is sent, for any language; it works under integrity lockdown. Its records
 * (the ids minted, or why a request was left alone) reach the spans through a sink
 * that sits between the capture and the caller's sinks.
 */
#ifndef EHTTP_PROPAGATE_H
#define EHTTP_PROPAGATE_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "span.h"
#include "span_filter.h"

enum propagate_method {
	PROPAGATE_OFF = 0,
	PROPAGATE_AUTO = 1,    /* what the kernel allows, decided by loading */
	PROPAGATE_SOCKMSG = 2, /* sk_msg + sock_ops: bpf_msg_push_data */
	PROPAGATE_MEMORY = 3,  /* Go programs' own buffers: bpf_probe_write_user */
};

struct propagate_opts {
	int method;          /* enum propagate_method */
	bool all_processes;  /* --propagate-all-processes: host-wide, said explicitly */
};

/* The options (--propagate[=auto|sockmsg|memory], --propagate-all-processes), for a group whose
 * context is a struct propagate_opts. */
extern const struct opt propagate_opt_table[];
#define PROPAGATE_OPT_GROUP(opts, echo) { propagate_opt_table, (opts), (echo) }

void propagate_opts_init(struct propagate_opts *opts);
/* Are the options consistent with the selection @filter? Reports its own error. */
bool propagate_opts_valid(const struct propagate_opts *opts, const struct span_filter *filter);

struct propagate_stats {
	uint64_t claimed;        /* connections whose sends the kernel looks at */
	uint64_t released;       /* of those, handed back to TCP (not HTTP/1.x, boundaries lost) */
	uint64_t injected;       /* requests a traceparent was inserted into */
	uint64_t existing;       /* requests that had one: left alone */
	uint64_t skipped;        /* requests left alone for a reason (below) */
	uint64_t skipped_by[SPAN_PROP_REASON__COUNT]; /* by enum span_propagation_reason */
	uint64_t server_heads;   /* incoming requests that gave a thread its context */
	uint64_t dropped;        /* kernel records the ring buffer had no room for */
	uint64_t unmatched;      /* records no span took (filtered out, or lost) */
	uint64_t go_linked;      /* Go programs' requests written with their goroutine's ids */
	uint64_t go_none;        /* ... with a new trace: no context for the sending thread */
	uint64_t go_stale;       /* ... with a new trace: a stale one, or another request's */
};

struct propagate;
struct probe_result;

/* Load the programs as --propagate=sockmsg would, attach the socket programs to their
 * (empty) sockhash, and unload: what `check` judges by. Quiet; @res says why not. */
void propagate_probe(struct probe_result *res);

/* Load and attach; reports its own errors. Returns 0 or a negative errno. */
int propagate_open(struct propagate **out, const struct propagate_opts *opts,
		   const struct span_filter *filter);
struct capture_opts;
/*
 * What attach and record do with the options: set up the methods they ask for, and
 * say in @copts what the capture and the Go source are to do. memory: the Go source
 * writes (an error here when the kernel refuses, as under lockdown); sockmsg:
 * propagate_open(); auto: memory for the Go programs where the kernel loads the
 * memory-write program (their connections left to it), sockmsg for the rest. @out is
 * NULL when sk_msg is not used. Reports its own errors; 0 or a negative errno.
 */
int propagate_setup(struct propagate **out, const struct propagate_opts *opts,
		    const struct span_filter *filter, struct capture_opts *copts);
/* "sockmsg", "memory", "memory for Go programs, sockmsg for the others": what
 * propagate_setup() chose, for attach's first line. */
const char *propagate_describe(const struct propagate *p, const struct capture_opts *copts);
/*
 * Make capture_pipeline() put @p between the capture's source and the pipeline (in
 * @opts): each span passing through gets the ids and propagation outcome the kernel
 * recorded for its request. The capture must use the socket hooks (its connection ids
 * are then socket cookies); it says so and fails otherwise. Nothing with @p NULL.
 */
void propagate_capture_opts(struct propagate *p, struct capture_opts *opts);
/* Print the summary line to stderr and close (nothing with @p NULL). */
void propagate_finish(struct propagate *p);
void propagate_get_stats(struct propagate *p, struct propagate_stats *st);
/* "12 injected, 1 existing, 2 skipped (pipelined 2)": the summary's line. */
void propagate_format_stats(const struct propagate_stats *st, char *buf, size_t len);
/* Detach and free. The sockets claimed go back to the kernel's own handling. */
void propagate_close(struct propagate *p);

#endif
