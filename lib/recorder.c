// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "pipeline.h"
#include "recorder.h"

struct recorder {
	struct recorder_opts opts;
	struct spanfile_writer *w;
	char path[4096];
	uint64_t index;        /* files opened so far */
	uint64_t file_start_ns;
	uint64_t closed_spans, closed_bytes;
	bool rotate_pending;
	bool failed;
};

bool recorder_opts_valid(const struct recorder_opts *o)
{
	bool rotating = o->rotate_bytes || o->rotate_ns;

	if (!o->path || !*o->path) {
		p_err("where to? (-o FILE, or -o - for standard output)");
		return false;
	}
	if (rotating && !strcmp(o->path, "-")) {
		p_err("-C and -G rotate files: they do not go with -o -");
		return false;
	}
	if (o->ring && !rotating) {
		p_err("-W bounds the files -C or -G create: give one of them");
		return false;
	}
	return true;
}

static bool uses_strftime(const struct recorder_opts *o)
{
	return o->rotate_ns && strchr(o->path, '%');
}

void recorder_file_name(const struct recorder_opts *o, uint64_t index, time_t when, char *buf,
			size_t len)
{
	char base[4096];
	struct tm tm;

	if (uses_strftime(o) && localtime_r(&when, &tm) && strftime(base, sizeof(base), o->path, &tm))
		;
	else
		snprintf(base, sizeof(base), "%s", o->path);
	if (!o->rotate_bytes && !o->rotate_ns) {
		snprintf(buf, len, "%s", base);
	} else if (o->ring) {
		int width = 1;
		unsigned int n;

		for (n = o->ring - 1; n >= 10; n /= 10)
			width++;
		snprintf(buf, len, "%s%0*llu", base, width, (unsigned long long)(index % o->ring));
	} else if (uses_strftime(o) && !o->rotate_bytes) {
		snprintf(buf, len, "%s", base);
	} else if (index == 0) {
		snprintf(buf, len, "%s", base);
	} else {
		snprintf(buf, len, "%s%llu", base, (unsigned long long)index);
	}
}

static int open_next(struct recorder *r, uint64_t now_ns)
{
	int err;

	recorder_file_name(&r->opts, r->index, time(NULL), r->path, sizeof(r->path));
	err = spanfile_writer_open(&r->w, r->path, &r->opts.meta);
	if (err) {
		r->w = NULL;
		r->failed = true;
		return err;
	}
	r->index++;
	r->file_start_ns = now_ns;
	r->rotate_pending = false;
	return 0;
}

static int close_current(struct recorder *r)
{
	int err;

	if (!r->w)
		return 0;
	r->closed_spans += spanfile_writer_spans(r->w);
	r->closed_bytes += spanfile_writer_bytes(r->w);
	err = spanfile_writer_close(r->w);
	r->w = NULL;
	if (err && err != -EPIPE)
		p_err("writing %s: %s", r->path, strerror(-err));
	return err;
}

static int rotate(struct recorder *r, uint64_t now_ns)
{
	int err = close_current(r);

	if (err) {
		r->failed = true;
		return err;
	}
	return open_next(r, now_ns);
}

int recorder_open(struct recorder **out, const struct recorder_opts *opts, uint64_t now_ns)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->opts = *opts;
	err = open_next(r, now_ns);
	if (err) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

int recorder_write(struct recorder *r, const struct span *s, uint64_t now_ns)
{
	int err;

	if (r->failed || !r->w)
		return -EIO;
	if (r->rotate_pending || (r->opts.rotate_ns && now_ns - r->file_start_ns >= r->opts.rotate_ns)) {
		err = rotate(r, now_ns);
		if (err)
			return err;
	}
	err = spanfile_write_span(r->w, s);
	if (err) {
		if (err != -EPIPE) /* the reader of a pipe went away: not worth a word */
			p_err("writing %s: %s", r->path, strerror(-err));
		r->failed = true;
		return err;
	}
	/* Rotate on the next span rather than now, so no file is ever left empty by -C. */
	if (r->opts.rotate_bytes && spanfile_writer_bytes(r->w) >= r->opts.rotate_bytes)
		r->rotate_pending = true;
	return 0;
}

int recorder_tick(struct recorder *r, uint64_t now_ns)
{
	int err;

	if (r->failed || !r->w)
		return -EIO;
	if (r->opts.rotate_ns && now_ns - r->file_start_ns >= r->opts.rotate_ns)
		return rotate(r, now_ns);
	err = spanfile_writer_flush(r->w);
	if (err) {
		if (err != -EPIPE)
			p_err("writing %s: %s", r->path, strerror(-err));
		r->failed = true;
	}
	return err;
}

bool recorder_failed(const struct recorder *r)
{
	return r->failed;
}

const char *recorder_path(const struct recorder *r)
{
	return r->path;
}

void recorder_get_stats(const struct recorder *r, struct recorder_stats *st)
{
	st->spans = r->closed_spans + (r->w ? spanfile_writer_spans(r->w) : 0);
	st->bytes = r->closed_bytes + (r->w ? spanfile_writer_bytes(r->w) : 0);
	st->files = r->index;
}

int recorder_close(struct recorder *r)
{
	int err;

	if (!r)
		return 0;
	err = close_current(r);
	free(r);
	return err;
}

/* ---- as pipeline sinks ----------------------------------------------------------------- */

static int sink_emit(void *ctx, const struct span *span)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return recorder_write(ctx, span, (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec);
}

static int sink_tick(void *ctx, uint64_t now_ns)
{
	return recorder_tick(ctx, now_ns);
}

static int sink_close(void *ctx)
{
	return recorder_close(ctx);
}

static void sink_stats(void *ctx, struct pipeline_stats *st)
{
	struct recorder_stats rs;

	recorder_get_stats(ctx, &rs);
	st->written_spans += rs.spans;
	st->written_bytes += rs.bytes;
	st->files += rs.files;
}

void recorder_sink(struct pipeline_sink *sink, struct recorder *r)
{
	*sink = (struct pipeline_sink){
		.name = "spanfile",
		.ctx = r,
		.emit = sink_emit,
		.tick = sink_tick,
		.close = sink_close,
		.stats = sink_stats,
	};
}

static void format_size(uint64_t n, char *buf, size_t len)
{
	if (n < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < 10000000)
		snprintf(buf, len, "%.1f kB", n / 1e3);
	else
		snprintf(buf, len, "%.1f MB", n / 1e6);
}

/* The rate is over the last interval, so it shows the traffic now, not the average. */
static int status_tick(void *ctx, uint64_t now_ns)
{
	struct recorder_status *s = ctx;
	struct pipeline_stats st;
	double secs = (now_ns - s->last_ns) / 1e9;
	char size[32];

	if (now_ns - s->last_ns < 1000000000ull)
		return 0;
	pipeline_get_stats(s->p, &st);
	format_size(st.written_bytes, size, sizeof(size));
	fprintf(stderr, "\r\033[K%llu spans (%.0f/s), %s written to %s, %llu dropped",
		(unsigned long long)st.written_spans,
		secs > 0 ? (st.written_spans - s->last_spans) / secs : 0.0, size, recorder_path(s->r),
		(unsigned long long)st.dropped);
	fflush(stderr);
	s->last_ns = now_ns;
	s->last_spans = st.written_spans;
	return 0;
}

static int status_close(void *ctx)
{
	fprintf(stderr, "\r\033[K");
	return 0;
}

void recorder_status_sink(struct pipeline_sink *sink, struct recorder_status *status,
			  struct pipeline *p, const struct recorder *r, uint64_t now_ns)
{
	*status = (struct recorder_status){ .p = p, .r = r, .last_ns = now_ns };
	*sink = (struct pipeline_sink){
		.name = "status",
		.ctx = status,
		.tick = status_tick,
		.close = status_close,
	};
}

/* ---- metadata ---------------------------------------------------------------------------- */

static void describe_targets(const struct span_filter *f, char *buf, size_t len)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; i < f->npids && o < len; i++)
		o += snprintf(buf + o, len - o, "%spid %u", o ? ", " : "", f->pids[i]);
	if (f->comm[0] && o < len)
		o += snprintf(buf + o, len - o, "%scomm %s", o ? ", " : "", f->comm);
	if (f->cgroup.dir[0] && o < len)
		o += snprintf(buf + o, len - o, "%scgroup %s", o ? ", " : "", f->cgroup.rel);
	if (f->port && o < len)
		o += snprintf(buf + o, len - o, "%sport %u", o ? ", " : "", f->port);
	if (!buf[0])
		snprintf(buf, len, "all processes");
}

void recorder_meta_init(struct recorder_meta *m, const struct span_filter *f, const char *filters,
			const struct span_clock *clock)
{
	struct utsname uts;

	memset(m, 0, sizeof(*m));
	gethostname(m->hostname, sizeof(m->hostname) - 1);
	if (!uname(&uts))
		snprintf(m->kernel, sizeof(m->kernel), "%s", uts.release);
	describe_targets(f, m->targets, sizeof(m->targets));
	m->meta = (struct spanfile_meta){ .hostname = m->hostname, .kernel = m->kernel,
					  .version = EHTTP_VERSION, .targets = m->targets,
					  .filters = filters, .clock = *clock };
}
