// SPDX-License-Identifier: GPL-2.0-only
/* The wire capture and the Go source as one merged pipeline source (see live.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "go_memwrite.h"
#include "live.h"
#include "opts.h"
#include "output.h"
#include "pipeline.h"

struct live {
	struct pipeline_source wire; /* the capture's own source */
	struct go_source *go;
	struct span_merge *merge;
	struct span_clock clock;     /* the capture's anchor, for the Go source too */
	struct span_sink forward;    /* the merge's output: to @out */
	struct span_sink *out;       /* the pipeline's, during poll and finish */
	int epfd;                    /* both sources' fds */
};

static const char *const go_names[] = { [LIVE_GO_AUTO] = "auto", [LIVE_GO_OFF] = "off", NULL };

const struct opt live_opt_table[] = {
	{ "go", 0, "auto|off",
	  "uprobes in Go programs (auto: every traced process that\n"
	  "runs a Go binary, now or after an exec): their spans link\n"
	  "each outgoing call to the request that made it",
	  OPT_CHOICE(struct live_opts, go, go_names) },
	{ NULL },
};

static bool watched(void *arg, uint32_t pid)
{
	return go_source_traces(arg, pid);
}

static int forward_emit(struct span_sink *sink, const struct span *span)
{
	struct live *l = sink->ctx;

	return l->out ? l->out->emit(l->out, span) : 0;
}

/* ---- the merged source ---------------------------------------------------------------- */
static int live_fd(void *ctx)
{
	return ((struct live *)ctx)->epfd;
}

static int live_poll(void *ctx, struct span_sink *out)
{
	struct live *l = ctx;
	int rc, rc2;

	l->out = out;
	rc = l->wire.poll(l->wire.ctx, span_merge_input(l->merge, SPAN_MERGE_WIRE));
	rc2 = go_source_poll(l->go, span_merge_input(l->merge, SPAN_MERGE_GO));
	if (rc2 && !rc)
		rc = rc2;
	rc2 = span_merge_release(l->merge, false);
	if (rc2 && !rc)
		rc = rc2;
	l->out = NULL;
	return rc;
}

static void live_finish(void *ctx, struct span_sink *out)
{
	struct live *l = ctx;

	l->out = out;
	if (l->wire.finish)
		l->wire.finish(l->wire.ctx, out ? span_merge_input(l->merge, SPAN_MERGE_WIRE) : NULL);
	go_source_finish(l->go, out ? span_merge_input(l->merge, SPAN_MERGE_GO) : NULL);
	span_merge_release(l->merge, true);
	l->out = NULL;
}

static void live_stats(void *ctx, struct pipeline_stats *st)
{
	struct live *l = ctx;
	struct go_source_stats gs;

	if (l->wire.stats)
		l->wire.stats(l->wire.ctx, st);
	go_source_get_stats(l->go, &gs);
	/* "events" stays the capture's (tests and scripts judge the kernel's filtering by
	 * it); the Go source's drops are counted with the capture's, never left out */
	st->dropped += gs.dropped;
}

static void live_destroy(void *ctx)
{
	struct live *l = ctx;

	if (!l)
		return;
	if (l->wire.destroy)
		l->wire.destroy(l->wire.ctx);
	go_source_destroy(l->go);
	span_merge_free(l->merge);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l);
}

void live_get_stats(const struct live *l, struct live_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!l)
		return;
	st->go_on = true;
	go_source_get_stats(l->go, &st->go);
	span_merge_get_stats(l->merge, &st->merge);
}

static int add_fd(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (fd < 0)
		return 0;
	ev.data.fd = fd;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int live_pipeline(struct pipeline **out, struct capture **cap, struct live **live,
		  const struct capture_opts *opts, int go_mode)
{
	struct pipeline_opts po = {
		.filter = &opts->filter,
		.max_spans = opts->max_spans,
		.duration_ns = opts->duration_s * 1000000000ull,
		.catch_signals = true,
	};
	struct go_source_opts gopts = { 0 };
	struct span_merge_opts mopts = { 0 };
	struct pipeline_source src;
	struct capture *wire_cap;
	struct live *l;
	int err;

	*out = NULL;
	*live = NULL;
	if (go_mode == LIVE_GO_OFF && opts->propagate_memory == GO_MEMWRITE_REQUIRED) {
		p_err("--propagate=memory writes through the Go probes: it does not go with --go off");
		return -EINVAL;
	}
	if (go_mode == LIVE_GO_OFF)
		return capture_pipeline(out, cap, opts);
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = -1;
	pipeline_catch_signals();
	/* The Go source converts times with the capture's clock anchor, copied below
	 * before any event is read, so that the two views of an exchange compare. */
	gopts.filter = &opts->filter;
	gopts.clock = &l->clock;
	gopts.ringbuf_kb = opts->ringbuf_kb; /* -B sizes both ring buffers */
	gopts.propagate = opts->propagate;
	gopts.go_sends_fd = opts->go_sends_fd;
	gopts.propagate_memory = opts->propagate_memory;
	gopts.memwrite_exclude_fd = opts->memwrite_exclude_fd;
	err = go_source_open(&l->go, &gopts);
	if (err && opts->propagate_memory == GO_MEMWRITE_REQUIRED) {
		free(l); /* it said why */
		return err;
	}
	if (err) {
		p_warn("Go programs are traced by the socket hooks alone: their uprobes could not "
		       "be set up (%s)", strerror(-err));
		free(l);
		return capture_pipeline(out, cap, opts);
	}
	err = capture_open(cap, opts);
	if (err) { /* it said why */
		live_destroy(l);
		return err;
	}
	l->clock = *capture_clock(*cap);
	capture_source(*cap, &l->wire);
	wire_cap = *cap;
	*cap = NULL; /* l->wire owns it now */
	/* --propagate's records give the wire's spans their ids before the merge sees them */
	if (opts->wrap_source && (err = opts->wrap_source(opts->wrap_arg, wire_cap, &l->wire))) {
		live_destroy(l); /* it said why */
		return err;
	}
	l->forward.emit = forward_emit;
	l->forward.ctx = l;
	mopts.watched = watched;
	mopts.arg = l->go;
	err = span_merge_new(&l->merge, &mopts, &l->forward);
	if (err)
		goto fail;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0 || (err = add_fd(l->epfd, l->wire.fd(l->wire.ctx))) ||
	    (err = add_fd(l->epfd, go_source_fd(l->go)))) {
		err = err ? err : -errno;
		goto fail;
	}
	err = pipeline_new(out, &po);
	if (err)
		goto fail;
	src = (struct pipeline_source){
		.name = "capture+go",
		.ctx = l,
		.fd = live_fd,
		.poll = live_poll,
		.finish = live_finish,
		.stats = live_stats,
		.destroy = live_destroy,
	};
	err = pipeline_add_source(*out, &src);
	if (err) {
		pipeline_free(*out);
		*out = NULL;
		goto fail;
	}
	*cap = wire_cap;
	*live = l;
	return 0;
fail:
	p_err("setting up the capture with the Go source: %s", strerror(-err));
	live_destroy(l);
	return err;
}
