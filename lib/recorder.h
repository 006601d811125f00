/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The span sink of `ehttp record`: span files with tcpdump-style rotation. By size (-C)
 * or time (-G), files FILE, FILE1, FILE2, ...; with a ring of N files (-W N) the names
 * are FILE0 .. FILE<N-1> (zero-padded) and the oldest is overwritten. With -G, a FILE
 * holding strftime(3) conversions is expanded at each rotation (and, with neither -C nor
 * -W, gets no number, as tcpdump does).
 */
#ifndef EHTTP_RECORDER_H
#define EHTTP_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "span_filter.h"
#include "spanfile.h"

struct recorder_opts {
	const char *path;       /* "-" = standard output (no rotation) */
	uint64_t rotate_bytes;  /* -C: start a new file once this many bytes are written */
	uint64_t rotate_ns;     /* -G: start a new file this often */
	unsigned int ring;      /* -W: keep at most this many files, reusing names */
	struct spanfile_meta meta;
};

struct recorder_stats {
	uint64_t spans;   /* written, all files */
	uint64_t bytes;   /* written, all files */
	uint64_t files;   /* opened */
};

struct recorder;

/* Validate option combinations; reports the problem. */
bool recorder_opts_valid(const struct recorder_opts *opts);
/* Open the first file. @now_ns: CLOCK_MONOTONIC. Reports errors. Returns 0 or -errno. */
int recorder_open(struct recorder **out, const struct recorder_opts *opts, uint64_t now_ns);
/* Write one span, opening the next file first when a limit was reached. */
int recorder_write(struct recorder *r, const struct span *span, uint64_t now_ns);
/* Time-based rotation and hand buffered records to the kernel (the sink's tick). */
int recorder_tick(struct recorder *r, uint64_t now_ns);
const char *recorder_path(const struct recorder *r); /* the file being written */
/* A write failed (and was reported, unless it was a closed pipe). */
bool recorder_failed(const struct recorder *r);
void recorder_get_stats(const struct recorder *r, struct recorder_stats *st);
int recorder_close(struct recorder *r);

/* File name number @index (0-based count of files opened) would get; for tests and docs. */
void recorder_file_name(const struct recorder_opts *opts, uint64_t index, time_t when, char *buf,
			size_t len);

/* The metadata a recording's files carry: this host, this ehttp, what was captured
 * (@filters: the capture options as given), and the capture's clock anchor. */
struct recorder_meta {
	char hostname[256], kernel[65], targets[512];
	struct spanfile_meta meta;
};
void recorder_meta_init(struct recorder_meta *m, const struct span_filter *f, const char *filters,
			const struct span_clock *clock);

struct pipeline;
struct pipeline_sink;
/* @r as a pipeline sink (the clock read per span is CLOCK_MONOTONIC): tick rotates by
 * time and hands buffered records to the kernel; close closes @r. */
void recorder_sink(struct pipeline_sink *sink, struct recorder *r);

/* A status line on stderr, redrawn once a second, of @p's counters: spans written
 * and their rate over the last second, bytes, @r's file, events dropped. Erased at
 * close. For a terminal; add it after @r's sink. */
struct recorder_status {
	struct pipeline *p;
	const struct recorder *r;
	uint64_t last_ns, last_spans;
};
void recorder_status_sink(struct pipeline_sink *sink, struct recorder_status *status,
			  struct pipeline *p, const struct recorder *r, uint64_t now_ns);

#endif
