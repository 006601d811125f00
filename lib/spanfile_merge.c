// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pipeline.h"
#include "spanfile_merge.h"

/* Spans handed on per poll: the pipeline's rounds (flush, tick) come in between. */
#define SOURCE_BATCH 256

struct merge_input {
	struct spanfile_reader *r;
	struct span head;
	bool has_head, done;
};

struct spanfile_merge {
	struct merge_input *in;
	size_t n;
	struct merge_input *last; /* where the last item came from */
};

int spanfile_merge_open(struct spanfile_merge **out, char *const *paths, size_t n)
{
	struct spanfile_merge *m = calloc(1, sizeof(*m));
	bool stdin_used = false;
	size_t i;
	int err;

	if (!m || !(m->in = calloc(n ? n : 1, sizeof(*m->in)))) {
		free(m);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!strcmp(paths[i], "-")) {
			if (stdin_used) {
				p_err("'-' (standard input) can be read only once");
				spanfile_merge_close(m);
				return -EINVAL;
			}
			stdin_used = true;
		}
		err = spanfile_reader_open(&m->in[i].r, paths[i]);
		if (err) {
			spanfile_merge_close(m);
			return err;
		}
		m->n++;
	}
	*out = m;
	return 0;
}

enum spanfile_item spanfile_merge_next(struct spanfile_merge *m, struct span *span,
				       struct spanfile_process *proc)
{
	struct merge_input *best = NULL;
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct merge_input *in = &m->in[i];

		while (!in->has_head && !in->done) {
			enum spanfile_item item = spanfile_next(in->r, &in->head, proc);

			if (item == SPANFILE_ERROR)
				return SPANFILE_ERROR;
			if (item == SPANFILE_PROCESS) {
				m->last = in;
				return SPANFILE_PROCESS;
			}
			if (item == SPANFILE_END)
				in->done = true;
			else
				in->has_head = true;
		}
		if (in->has_head && (!best || in->head.start_ns < best->head.start_ns))
			best = in;
	}
	if (!best)
		return SPANFILE_END;
	*span = best->head;
	best->has_head = false;
	m->last = best;
	return SPANFILE_SPAN;
}

const struct spanfile_meta *spanfile_merge_meta(const struct spanfile_merge *m)
{
	return m->last ? spanfile_reader_meta(m->last->r) : NULL;
}

void spanfile_merge_stats(const struct spanfile_merge *m, struct spanfile_read_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < m->n; i++) {
		struct spanfile_read_stats one;

		spanfile_reader_stats(m->in[i].r, &one);
		st->spans += one.spans;
		st->processes += one.processes;
		st->skipped_records += one.skipped_records;
		st->damaged_regions += one.damaged_regions;
		st->damaged_bytes += one.damaged_bytes;
		st->truncated_bytes += one.truncated_bytes;
	}
}

struct merge_source {
	struct spanfile_merge *m;
	struct spanfile_source_opts opts;
	struct span span;
	struct spanfile_process proc;
};

static int source_poll(void *ctx, struct span_sink *out)
{
	struct merge_source *s = ctx;
	int i, rc;

	for (i = 0; i < SOURCE_BATCH; i++) {
		switch (spanfile_merge_next(s->m, &s->span, &s->proc)) {
		case SPANFILE_ERROR:
			return -EIO;
		case SPANFILE_END:
			return 1;
		case SPANFILE_PROCESS:
			if (s->opts.process_seen && s->opts.process_seen(s->opts.seen_arg, &s->proc))
				return -EPIPE;
			if (s->opts.process && s->opts.process(s->opts.arg, &s->proc))
				return -EPIPE;
			break;
		case SPANFILE_SPAN:
			if (s->opts.process)
				break;
			rc = out->emit(out, &s->span);
			if (rc)
				return rc < 0 ? rc : 1;
			break;
		}
	}
	return 0;
}

static void source_stats(void *ctx, struct pipeline_stats *st)
{
	struct merge_source *s = ctx;
	struct spanfile_read_stats rst;

	spanfile_merge_stats(s->m, &rst);
	st->read_spans += rst.spans;
	st->damaged_regions += rst.damaged_regions;
	st->damaged_bytes += rst.damaged_bytes;
	st->skipped_records += rst.skipped_records;
	st->truncated_bytes += rst.truncated_bytes;
}

static void source_destroy(void *ctx)
{
	struct merge_source *s = ctx;

	spanfile_merge_close(s->m);
	free(s);
}

int spanfile_source(struct spanfile_merge *m, const struct spanfile_source_opts *opts,
		    struct pipeline_source *src)
{
	struct merge_source *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->m = m;
	if (opts)
		s->opts = *opts;
	*src = (struct pipeline_source){
		.name = "spanfile",
		.ctx = s,
		.poll = source_poll,
		.stats = source_stats,
		.destroy = source_destroy,
	};
	return 0;
}

void spanfile_merge_close(struct spanfile_merge *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		spanfile_reader_close(m->in[i].r);
	free(m->in);
	free(m);
}
