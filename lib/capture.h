/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live HTTP capture from socket or syscall tracepoints: the source that attach and record share.
 * Load and attach the BPF programs, then run as a pipeline source: events are reassembled
 * per connection, parsed as HTTP/1.x and every completed span is handed to the pipeline.
 */
#ifndef EHTTP_CAPTURE_H
#define EHTTP_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"
#include "span_filter.h"

/* How the capture hooks the kernel (see docs/capture.md). */
enum capture_hooks {
	CAPTURE_HOOKS_AUTO = 0,     /* sockets where the kernel has them, else syscalls */
	CAPTURE_HOOKS_SOCKETS = 1,  /* sock:sock_{send,recv}_length, sock:inet_sock_set_state */
	CAPTURE_HOOKS_SYSCALLS = 2, /* raw_syscalls:sys_exit */
};

struct capture;
struct pipeline_source;

struct capture_opts {
	struct span_filter filter; /* what the kernel can apply goes to rodata, the rest here */
	uint32_t snaplen;          /* payload bytes copied per syscall; 0 = default */
	uint32_t ringbuf_kb;       /* ring buffer size; 0 = default */
	bool no_redact;            /* keep Authorization/Cookie values */
	bool no_header_blocks;     /* spans without header blocks: the sink prints none */
	/* Parsed with the capture options, applied by the pipeline (struct pipeline_opts): */
	uint64_t max_spans;        /* -c: stop after this many spans (0 = no limit) */
	uint64_t duration_s;       /* --duration: stop after this long (0 = no limit) */
	int hooks;                 /* --hooks: enum capture_hooks */
	/* capture_pipeline(): called with the capture's source before the pipeline gets
	 * it, to put something between them (--propagate); 0 or a negative errno. */
	int (*wrap_source)(void *arg, struct capture *cap, struct pipeline_source *src);
	void *wrap_arg;
	/* --propagate is on (set with wrap_source): the Go source reports what it did too */
	bool propagate;
	/* --propagate's map of the Go probes' publications (bpf/go_send.h), > 0: the Go
	 * source shares it and probes where its programs write requests */
	int go_sends_fd;
	/* --propagate=memory or auto: the Go source writes a traceparent into Go programs'
	 * requests (enum go_memwrite_mode), telling sk_msg's map at this fd (> 0) which */
	int propagate_memory;
	int memwrite_exclude_fd;
};

/* The capture's own options (-c, --duration, --snaplen, -B, --hooks, --no-redact), for
 * a group whose context is a struct capture_opts. */
extern const struct opt capture_opt_table[];
/* The option groups of a capture, filters included, as attach and record take them;
 * @echo (may be NULL) collects their words as given. */
#define CAPTURE_OPT_GROUPS(opts, echo) \
	{ span_filter_opts, &(opts)->filter, (echo) },                                 \
	{ span_filter_live_opts, &(opts)->filter, (echo) }, { capture_opt_table, (opts), (echo) }

struct capture_stats {
	uint64_t events;   /* events read from the ring buffer */
	uint64_t conns;    /* connections tracked */
	uint64_t dropped;  /* events the kernel could not queue (ring buffer full) */
	uint64_t lost;     /* spans that could not be built (gaps, non-HTTP after all...) */
	uint64_t h2_lost;  /* HTTP/2 syscalls whose frame walk lost its place (capture.h) */
	uint64_t h2_clipped; /* HTTP/2 syscalls with more frames than their event had room for */
	bool targets_gone; /* it ended because every process given with -p had exited */
};

struct capture;
struct pipeline_source;

void capture_opts_init(struct capture_opts *opts);
/* Consume one capture option at argv[0]: returns arguments taken, 0 if not ours, -1 on error. */
int capture_parse_opt(struct capture_opts *opts, int argc, char **argv);

/* Load and attach; reports its own errors. Returns 0 or a negative errno. */
int capture_open(struct capture **out, const struct capture_opts *opts);
/* The clock anchor spans' wall-clock times come from. */
const struct span_clock *capture_clock(const struct capture *c);
/*
 * The pipeline source reading @c: it waits on the ring buffer, is complete when the
 * pipeline has enough or every process given with -p exited (as strace -p and perf -p
 * end), drains the kernel and emits the requests still waiting as partial spans when
 * the run ends, and frees @c when the pipeline is freed.
 */
void capture_source(struct capture *c, struct pipeline_source *src);
void capture_get_stats(const struct capture *c, struct capture_stats *stats);
/* A warning on stderr when HTTP/2 syscalls lost frames in the kernel (struct
 * capture_stats' h2_lost and h2_clipped); nothing when none did. */
void capture_warn_h2(uint64_t lost, uint64_t clipped);
/* What the capture hooked: CAPTURE_HOOKS_SOCKETS or CAPTURE_HOOKS_SYSCALLS. */
int capture_hooks(const struct capture *c);
/* Why: "asked for with --hooks", or what auto saw ("sock_send_length not in this kernel..."). */
const char *capture_hooks_why(const struct capture *c);
/* What auto picks on this kernel, and why (@why, a phrase). */
int capture_hooks_auto(char *why, size_t len);
/*
 * Load the programs capture_open() would for @opts, by the same code, then free them:
 * what `check` judges capture by. Attaching is left to the feature probes, which attach
 * to the same tracepoints and close off the clock: detaching these would wait for RCU
 * (50-90 ms a link here). Prints nothing; returns 0 or a negative errno with the error
 * attach would have printed in @error. @hooks and @why get the hooks chosen and why.
 */
int capture_try(const struct capture_opts *opts, int *hooks, char *why, size_t why_len,
		char *error, size_t error_len);
const char *capture_hooks_name(int hooks);
/* For a capture never given to a pipeline: detach, drain what the kernel still holds,
 * emit the requests still waiting as partial spans to @sink (may be NULL), and free. */
void capture_close(struct capture *c, struct span_sink *sink);

struct pipeline;
/* What attach and record share: open a capture (@cap, owned by the pipeline from
 * then on) and a pipeline reading it with the filters, count and duration of @opts,
 * ended by SIGINT/SIGTERM. Reports its own errors. Returns 0 or a negative errno. */
int capture_pipeline(struct pipeline **out, struct capture **cap, const struct capture_opts *opts);

#endif
