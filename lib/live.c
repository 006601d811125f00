// SPDX-License-Identifier: GPL-2.0-only
/* The wire capture and the Go source, merged (see live.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "output.h"

struct live {
	struct capture *cap;
	struct go_source *go;
	struct span_merge *merge;
	struct capture_opts opts;
	struct span_clock clock;   /* the capture's anchor, for the Go source too */
	struct span_sink filtered; /* the merge's output: filter, count, forward */
	struct span_sink *sink;    /* the caller's, during poll and finish */
	int sink_err;
	uint64_t spans;
	bool done;
};

int live_parse_opt(int *go_mode, int argc, char **argv)
{
	if (strcmp(argv[0], "--go"))
		return 0;
	if (argc < 2) {
		p_err("--go needs a value");
		return -1;
	}
	if (!strcmp(argv[1], "auto")) {
		*go_mode = LIVE_GO_AUTO;
	} else if (!strcmp(argv[1], "off")) {
		*go_mode = LIVE_GO_OFF;
	} else {
		p_err("--go takes auto or off, not '%s'", argv[1]);
		return -1;
	}
	return 2;
}

static bool watched(void *arg, uint32_t pid)
{
	return go_source_traces(arg, pid);
}

static int filtered_emit(struct span_sink *sink, const struct span *span)
{
	struct live *l = sink->ctx;
	int rc;

	if (!l->sink || l->done || !span_filter_match(&l->opts.filter, span))
		return 0;
	rc = l->sink->emit(l->sink, span);
	if (rc) {
		l->sink_err = rc < 0 ? rc : -EIO;
		return rc;
	}
	l->spans++;
	if (l->opts.max_spans && l->spans >= l->opts.max_spans)
		l->done = true;
	return 0;
}

int live_open(struct live **out, const struct capture_opts *opts, int go_mode)
{
	struct live *l = calloc(1, sizeof(*l));
	struct capture_opts copts = *opts;
	struct go_source_opts gopts = { 0 };
	struct span_merge_opts mopts = { 0 };
	int err;

	*out = NULL;
	if (!l)
		return -ENOMEM;
	l->opts = *opts;
	if (go_mode != LIVE_GO_OFF) {
		/* The Go source converts times with the capture's clock anchor, set below
		 * before any event is read, so that the two views of an exchange compare. */
		gopts.filter = &opts->filter;
		gopts.clock = &l->clock;
		gopts.ringbuf_kb = opts->ringbuf_kb; /* -B sizes both ring buffers */
		err = go_source_open(&l->go, &gopts);
		if (err) {
			p_warn("Go programs are traced by the socket hooks alone: their uprobes "
			       "could not be set up (%s)", strerror(-err));
			l->go = NULL;
		}
	}
	/* With the Go source, -c counts what comes out of the merge, here. */
	if (l->go)
		copts.max_spans = 0;
	err = capture_open(&l->cap, &copts);
	if (err) {
		live_close(l);
		return err;
	}
	l->clock = *capture_clock(l->cap);
	if (l->go) {
		l->filtered.emit = filtered_emit;
		l->filtered.ctx = l;
		mopts.watched = watched;
		mopts.arg = l->go;
		err = span_merge_new(&l->merge, &mopts, &l->filtered);
		if (err) {
			live_close(l);
			return err;
		}
	}
	*out = l;
	return 0;
}

int live_hooks(const struct live *l)
{
	return capture_hooks(l->cap);
}

const char *live_hooks_why(const struct live *l)
{
	return capture_hooks_why(l->cap);
}

bool live_go_on(const struct live *l)
{
	return l->go != NULL;
}

int live_poll(struct live *l, int timeout_ms, struct span_sink *sink)
{
	int rc, rc2;

	if (!l->go)
		return capture_poll(l->cap, timeout_ms, sink);
	l->sink = sink;
	rc = capture_poll(l->cap, timeout_ms, span_merge_input(l->merge, SPAN_MERGE_WIRE));
	rc2 = go_source_poll(l->go, span_merge_input(l->merge, SPAN_MERGE_GO));
	if (rc2 < 0 && rc >= 0)
		rc = rc2;
	rc2 = span_merge_release(l->merge, false);
	l->sink = NULL;
	if (l->sink_err)
		return l->sink_err;
	if (rc2 < 0 && rc >= 0)
		rc = rc2;
	return rc < 0 ? rc : (l->done ? 1 : rc);
}

void live_finish(struct live *l, struct span_sink *sink)
{
	if (!l->go) {
		capture_finish(l->cap, sink);
		return;
	}
	l->sink = sink;
	capture_finish(l->cap, sink ? span_merge_input(l->merge, SPAN_MERGE_WIRE) : NULL);
	go_source_finish(l->go, sink ? span_merge_input(l->merge, SPAN_MERGE_GO) : NULL);
	span_merge_release(l->merge, true);
	l->sink = NULL;
}

void live_get_stats(const struct live *l, struct live_stats *st)
{
	memset(st, 0, sizeof(*st));
	capture_get_stats(l->cap, &st->capture);
	st->spans = st->capture.spans;
	if (!l->go)
		return;
	st->go_on = true;
	go_source_get_stats(l->go, &st->go);
	span_merge_get_stats(l->merge, &st->merge);
	st->spans = l->spans;
}

void live_close(struct live *l)
{
	if (!l)
		return;
	span_merge_free(l->merge);
	go_source_destroy(l->go);
	if (l->cap)
		capture_close(l->cap, NULL);
	free(l);
}
