/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What attach traces live: the wire capture (socket or syscall hooks) and, unless
 * --go off, the Go source, their two views of one exchange merged into one span
 * (span_merge.h). Same contract as the capture's own open/poll/finish/close; the
 * filters and -c apply once, to what comes out of the merge.
 */
#ifndef EHTTP_LIVE_H
#define EHTTP_LIVE_H

#include <stdbool.h>

#include "capture.h"
#include "go_source.h"
#include "span_merge.h"

enum live_go { LIVE_GO_AUTO = 0, LIVE_GO_OFF = 1 };

#define LIVE_USAGE                                                                           \
	"  --go auto|off        uprobes in Go programs (auto: every traced process that\n"   \
	"                       runs a Go binary, now or after an exec): their spans link\n"  \
	"                       each outgoing call to the request that made it\n"

struct live_stats {
	struct capture_stats capture;
	struct go_source_stats go;
	struct span_merge_stats merge;
	bool go_on;   /* the Go source runs */
	uint64_t spans; /* handed to the caller's sink */
};

struct live;

/* Consume --go at argv[0]: arguments taken, 0 if not ours, -1 on error. */
int live_parse_opt(int *go_mode, int argc, char **argv);
int live_open(struct live **out, const struct capture_opts *opts, int go_mode);
int live_hooks(const struct live *l);
const char *live_hooks_why(const struct live *l); /* as capture_hooks_why() */
bool live_go_on(const struct live *l);
/* As capture_poll: 0, 1 when complete, or a negative errno. */
int live_poll(struct live *l, int timeout_ms, struct span_sink *sink);
/* Drain both sources and hand pending spans (partial ones too) to @sink (may be NULL). */
void live_finish(struct live *l, struct span_sink *sink);
void live_get_stats(const struct live *l, struct live_stats *st);
void live_close(struct live *l);

#endif
