/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exporters a command was asked for (--otlp, --metrics) as one pipeline sink: the
 * process each span came from is resolved once for all of them.
 */
#ifndef EHTTP_EXPORT_H
#define EHTTP_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "pipeline.h"
#include "span.h"
#include "spanfile.h"
#include "export/metrics.h"
#include "export/otlp.h"

/* The option descriptors (lib/opts.h), for a group whose context is a struct
 * export_opts: the OTLP ones (attach, record, replay) and the metrics ones (live). */
extern const struct opt export_otlp_opts[];
extern const struct opt export_metrics_opts[];

struct export_opts {
	struct otlp_opts otlp;
	bool otlp_on;
	struct metrics_opts metrics;
	bool metrics_on;
	const char **service_map; /* "EXE=NAME" */
	size_t nservice_map;
};

void export_opts_init(struct export_opts *o);
void export_opts_free(struct export_opts *o);
/* Consume one option at argv[0]: arguments taken, 0 if not ours, -1 on error. Metrics
 * options only when @metrics (live commands). */
int export_parse_opt(struct export_opts *o, int argc, char **argv, bool metrics);
/* Options of an exporter that was not asked for are an error (reported). */
bool export_opts_valid(const struct export_opts *o);
static inline bool export_wanted(const struct export_opts *o)
{
	return o->otlp_on || o->metrics_on;
}

struct exporters;

/* Start what @o asks for. @host: host.name; @live: processes are looked up in /proc
 * (else they come from span file records); @block: see otlp_opts.block. Prints where
 * metrics are served. Reports its own errors. Returns 0 or a negative errno. */
int exporters_open(struct exporters **out, const struct export_opts *o, const char *host, bool live,
		   bool block);
/* The pipeline sink: emit enqueues (OTLP) and counts (metrics); tick gives the metrics
 * @p's counters (events, drops...); close delivers what is queued (within the
 * timeout) and prints the summary on stderr. @p may be NULL (no counters). */
void exporters_sink(struct exporters *x, struct pipeline *p, struct pipeline_sink *sink);
/* For a live capture (attach, record): when @o asks for an export, start it and add
 * its sink to @p; *@out stays NULL otherwise. Returns 0 or a negative errno. */
int exporters_add_live(struct exporters **out, const struct export_opts *o, const char *host,
		       struct pipeline *p);
/* Span files: the file the next span or process record comes from tells its host. */
void exporters_set_host_of(struct exporters *x, const char *(*host)(void *arg), void *arg);
/* A process record from a span file (a spanfile_source_opts.process callback). */
int exporters_set_process(void *x, const struct spanfile_process *p);
/* Free (after the pipeline closed the sink, or if it never ran). Returns 0, or -EIO
 * when spans were not delivered (counted in the summary). */
int exporters_free(struct exporters *x);

#endif
