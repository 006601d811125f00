// SPDX-License-Identifier: GPL-2.0-only
/* ehttp record: capture spans into span files (pcapng), with tcpdump-style rotation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "live.h"
#include "cli.h"
#include "export/export.h"
#include "jsonw.h"
#include "main.h"
#include "pipeline.h"
#include "propagate.h"
#include "recorder.h"

static const struct cli_help record_help = {
	.usage = "ehttp record -o FILE|- [OPTIONS]\n"
		 "ehttp record help",
	.description =
		"Capture HTTP/1.x and h2c spans as attach does and write them to a span file\n"
		"(pcapng, mode 0600) that `ehttp replay`, capinfos, tshark, editcap and mergecap\n"
		"read.\n"
		"'-o -' writes to standard output for a pipe. On a terminal, a status line on\n"
		"stderr; at the end, a summary. Ctrl-C or SIGTERM: every completed span is\n"
		"written and the file closed.\n",
};

static const struct opt record_opts[] = {
	{ "output", 'o', "FILE", "where to write ('-' = standard output)",
	  OPT_STRING(struct recorder_opts, path) },
	{ NULL, 'C', "MB",
	  "start a new file when this one reaches MB megabytes\n"
	  "(1,000,000 bytes): FILE, FILE1, FILE2, ...",
	  OPT_UINT_SCALED(struct recorder_opts, rotate_bytes, 1, 1000000, 1000000) },
	{ NULL, 'G', "SEC",
	  "start a new file every SEC seconds; with strftime(3)\n"
	  "conversions in FILE, each file is named by its time",
	  OPT_UINT_SCALED(struct recorder_opts, rotate_ns, 1, 365ul * 24 * 3600, 1000000000) },
	{ NULL, 'W', "N",
	  "with -C or -G: a ring of N files FILE0..FILE<N-1>, the\n"
	  "oldest overwritten",
	  OPT_UINT(struct recorder_opts, ring, 1, 1000000) },
	{ NULL },
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int do_record(int argc, char **argv)
{
	struct recorder_opts ropts = { 0 };
	struct recorder_status status;
	struct recorder_meta meta;
	struct capture_opts opts;
	struct pipeline_sink sink;
	struct pipeline_stats st;
	struct recorder *rec = NULL;
	struct propagate_opts popts;
	struct propagate *prop = NULL;
	struct pipeline *p;
	struct capture *cap;
	struct live_opts lopts = { LIVE_GO_AUTO };
	struct live *live;
	char filters[1024] = "";
	/* the capture options as given: the file's if_filter and metadata */
	struct opt_echo echo = { filters, sizeof(filters), 0 };
	struct export_opts eopts;
	struct exporters *ex = NULL;
	const struct opt_group groups[] = {
		{ record_opts, &ropts, NULL }, CAPTURE_OPT_GROUPS(&opts, &echo),
		LIVE_OPT_GROUP(&lopts, &echo), PROPAGATE_OPT_GROUP(&popts, &echo),
		{ export_otlp_opts, &eopts, NULL }, { export_metrics_opts, &eopts, NULL },
		{ NULL, NULL, NULL },
	};
	bool output_failed;
	uint64_t now;
	int rc;

	capture_opts_init(&opts);
	propagate_opts_init(&popts);
	export_opts_init(&eopts);
	rc = cli_command_args(&record_help, groups, 0, &argc, &argv);
	if (rc != CLI_RUN)
		return rc;
	if (!recorder_opts_valid(&ropts) || !export_opts_valid(&eopts) ||
	    !propagate_opts_valid(&popts, &opts.filter))
		return EXIT_USAGE;
	if (!strcmp(ropts.path, "-") && isatty(STDOUT_FILENO)) {
		p_err("standard output is a terminal: -o - is for a pipe (ehttp record -o - | ehttp replay -)");
		return EXIT_USAGE;
	}

	/* Propagation first: its claims and records must not miss the capture's first spans. */
	if (propagate_setup(&prop, &popts, &opts.filter, &opts))
		return EXIT_FAIL;
	/* With SIGPIPE ignored there, a pipe reader that goes away ends the recording
	 * like Ctrl-C. */
	if (live_pipeline(&p, &cap, &live, &opts, lopts.go)) {
		propagate_close(prop);
		return EXIT_FAIL;
	}
	recorder_meta_init(&meta, &opts.filter, filters, capture_clock(cap));
	ropts.meta = meta.meta;
	now = mono_ns();
	if (recorder_open(&rec, &ropts, now)) {
		pipeline_free(p);
		propagate_close(prop);
		return EXIT_FAIL;
	}
	recorder_sink(&sink, rec);
	rc = pipeline_add_sink(p, &sink);
	if (rc)
		recorder_close(rec);
	if (!rc && isatty(STDERR_FILENO) && !json_output) {
		recorder_status_sink(&sink, &status, p, rec, now);
		rc = pipeline_add_sink(p, &sink);
	}
	if (!rc)
		rc = exporters_add_live(&ex, &eopts, meta.meta.hostname, p);
	export_opts_free(&eopts);
	if (rc) {
		pipeline_free(p);
		exporters_free(ex);
		propagate_close(prop);
		return EXIT_FAIL;
	}
	/* Tests and scripts wait for this line before sending traffic. */
	fprintf(stderr, "Recording HTTP%s to %s (Ctrl-C to stop)\n",
		span_filter_has_targets(&opts.filter) ? " of the selected processes" : " of every process",
		strcmp(ropts.path, "-") ? recorder_path(rec) : "standard output");
	fflush(stderr);

	/* Ends with every completed span written, the requests still open as partial
	 * spans, and the file closed. */
	rc = pipeline_run(p);
	output_failed = pipeline_failed_sink(p);
	pipeline_get_stats(p, &st);
	/* The exporters deliver what is queued and print their summary as the pipeline
	 * closes them; what they could not deliver is counted there and warned about.
	 * The recording itself is complete. */
	pipeline_free(p);
	exporters_free(ex);
	if (st.targets_gone)
		fprintf(stderr, "Every process given with -p has exited\n");
	/* tcpdump's summary, on stderr: stdout may be the span file itself. */
	fprintf(stderr, "%llu span%s written to %s%s\n%llu event%s dropped by the kernel\n"
			"%llu span%s lost\n",
		(unsigned long long)st.written_spans, st.written_spans == 1 ? "" : "s",
		strcmp(ropts.path, "-") ? ropts.path : "standard output",
		st.files > 1 ? " (rotated files)" : "", (unsigned long long)st.dropped,
		st.dropped == 1 ? "" : "s", (unsigned long long)st.lost, st.lost == 1 ? "" : "s");
	capture_warn_h2(st.h2_lost, st.h2_clipped);
	propagate_finish(prop);
	if (json_output && strcmp(ropts.path, "-")) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_uint_field(w, "spans", st.written_spans);
		jsonw_uint_field(w, "bytes", st.written_bytes);
		jsonw_uint_field(w, "files", st.files);
		jsonw_uint_field(w, "dropped", st.dropped);
		jsonw_uint_field(w, "lost", st.lost);
		jsonw_end_object(w);
		out_jsonw_end();
	}
	if (rc == -EPIPE)
		return EXIT_OK; /* the reader of -o - went away */
	if (rc < 0) {
		/* the recorder reported its own write errors */
		if (!output_failed)
			p_err("capture failed: %s", strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
