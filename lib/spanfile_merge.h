/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Several span files read as one stream in time order: a k-way merge on each file's
 * next span start time (a rotated set, or recordings of several hosts).
 */
#ifndef EHTTP_SPANFILE_MERGE_H
#define EHTTP_SPANFILE_MERGE_H

#include <stddef.h>

#include "spanfile.h"

struct spanfile_merge;

/* Open every file ("-" = stdin, at most once). Reports errors. Returns 0 or -errno. */
int spanfile_merge_open(struct spanfile_merge **out, char *const *paths, size_t n);
/* Spans by start time; a process record comes before the first span that needs it. */
enum spanfile_item spanfile_merge_next(struct spanfile_merge *m, struct span *span,
				       struct spanfile_process *proc);
/* The metadata (host name...) of the file the last item came from; NULL before the first. */
const struct spanfile_meta *spanfile_merge_meta(const struct spanfile_merge *m);
/* Counters summed over the files. */
void spanfile_merge_stats(const struct spanfile_merge *m, struct spanfile_read_stats *st);
void spanfile_merge_close(struct spanfile_merge *m);

/* What a span file source hands on: its spans, or with @process set, only the process
 * records, to @process (non-zero from it ends the reading as a closed output does).
 * @process_seen, when set, is shown every process record as well, spans going on
 * (exporters describe a span's process from them). */
struct spanfile_source_opts {
	int (*process)(void *arg, const struct spanfile_process *proc);
	void *arg;
	int (*process_seen)(void *arg, const struct spanfile_process *proc);
	void *seen_arg;
};

struct pipeline_source;
/*
 * The pipeline source reading @m, which the pipeline closes when freed. Complete at
 * the end of the input; a file that is not a span file, or an I/O error, is the
 * source's error (-EIO, reported by the reader).
 */
int spanfile_source(struct spanfile_merge *m, const struct spanfile_source_opts *opts,
		    struct pipeline_source *src);

#endif
