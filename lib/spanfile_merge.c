// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "spanfile_merge.h"

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
