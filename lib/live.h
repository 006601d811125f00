/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What attach and record trace live: the wire capture (socket or syscall hooks) and,
 * unless --go off, the Go source, as one pipeline source whose spans come out of the
 * merge (span_merge.h): the two views of one exchange as one span. The filters, -c and
 * --duration are the pipeline's, applied to what comes out of the merge.
 */
#ifndef EHTTP_LIVE_H
#define EHTTP_LIVE_H

#include <stdbool.h>

#include "capture.h"
#include "go_source.h"
#include "span_merge.h"

enum live_go { LIVE_GO_AUTO = 0, LIVE_GO_OFF = 1 };

/* --go, as an option table (lib/opts.h) over a struct live_opts. */
struct live_opts {
	int go; /* enum live_go */
};
struct opt;
extern const struct opt live_opt_table[];
#define LIVE_OPT_GROUP(lopts, echo) { live_opt_table, (lopts), (echo) }

struct live_stats {
	bool go_on; /* the Go source runs */
	struct go_source_stats go;
	struct span_merge_stats merge;
};

struct live;
struct pipeline;

/*
 * capture_pipeline() with the Go source beside the capture when @go_mode is
 * LIVE_GO_AUTO (a Go source that cannot be set up is a warning: the capture runs
 * alone). @cap and @live (NULL without the Go source) are owned by the pipeline; read
 * them before pipeline_free(). Reports its own errors; 0 or a negative errno.
 */
int live_pipeline(struct pipeline **out, struct capture **cap, struct live **live,
		  const struct capture_opts *opts, int go_mode);
void live_get_stats(const struct live *l, struct live_stats *st);

#endif
