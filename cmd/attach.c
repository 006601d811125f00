// SPDX-License-Identifier: GPL-2.0-only
/* ehttp attach: trace live HTTP traffic of every process, or of some, as spans. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "live.h"
#include "cli.h"
#include "export/export.h"
#include "main.h"
#include "pipeline.h"
#include "propagate.h"

static const struct cli_help attach_help = {
	.usage = "ehttp attach [OPTIONS]\n"
		 "ehttp attach help",
	.description =
		"Trace the HTTP/1.x and HTTP/2 (h2c) exchanges processes make and serve, from\n"
		"socket or syscall tracepoints, and print each request with its response (each\n"
		"HTTP/2 stream) as one span as it completes: a text line, or with -j one JSON\n"
		"object per line. With no -p, --comm or --port, every process on the host. Go\n"
		"programs are also traced from inside (uprobes on net/http), which links their\n"
		"outgoing calls to the requests that made them. Ctrl-C, the count or the\n"
		"duration ends it; a summary goes to stderr.\n",
};

static const struct opt attach_opts[] = {
	{ "headers", 0, NULL, "with -j, include the header blocks (credentials redacted)",
	  OPT_FLAG(struct span_printer, with_headers) },
	{ NULL },
};

static void print_summary(const struct pipeline_stats *st, const struct live_stats *ls)
{
	/* stderr in every mode: stdout carries spans only, and drops are never silent. */
	if (ls->go_on) /* its drops are in the line below, with the capture's */
		fprintf(stderr, "Go: %llu process%s traced, %llu refused, %llu span%s from uprobes "
			"(%llu merged with the wire's, %llu without), %llu request%s without room "
			"in the maps%s\n",
			(unsigned long long)ls->go.processes, ls->go.processes == 1 ? "" : "es",
			(unsigned long long)ls->go.refused, (unsigned long long)ls->go.spans,
			ls->go.spans == 1 ? "" : "s", (unsigned long long)ls->merge.merged,
			(unsigned long long)ls->merge.go_alone, (unsigned long long)ls->go.no_state,
			ls->go.no_state == 1 ? "" : "s",
			ls->go.tp_unread ? ", some Header maps too big to look in for a traceparent "
					   "(spans flagged traceparent_unread)" : "");
	fprintf(stderr,
		"%llu span%s, %llu events, %llu connections, %llu dropped, %llu lost\n",
		(unsigned long long)st->spans, st->spans == 1 ? "" : "s",
		(unsigned long long)st->events, (unsigned long long)st->conns,
		(unsigned long long)st->dropped, (unsigned long long)st->lost);
}

int do_attach(int argc, char **argv)
{
	/* Room for a round's spans (tens of KiB under load), flushed at its end: one
	 * write per round, where stdio's default 4 KiB buffer made ten, and each write to a
	 * file costs the page cache's work per call. */
	static char out_buf[256 << 10];
	struct capture_opts opts;
	struct propagate_opts popts;
	struct propagate *prop = NULL;
	struct span_printer printer = { 0 };
	struct pipeline_sink sink;
	struct pipeline_stats st;
	struct pipeline *p;
	struct capture *cap;
	struct live_opts lopts = { LIVE_GO_AUTO };
	struct live_stats ls;
	struct live *live;
	struct export_opts eopts;
	struct exporters *ex = NULL;
	char host[256] = "";
	const struct opt_group groups[] = {
		CAPTURE_OPT_GROUPS(&opts, NULL), LIVE_OPT_GROUP(&lopts, NULL),
		PROPAGATE_OPT_GROUP(&popts, NULL), { attach_opts, &printer, NULL },
		{ export_otlp_opts, &eopts, NULL }, { export_metrics_opts, &eopts, NULL },
		{ NULL, NULL, NULL },
	};
	bool output_failed;
	int rc;

	setvbuf(stdout, out_buf, _IOFBF, sizeof(out_buf));
	capture_opts_init(&opts);
	propagate_opts_init(&popts);
	export_opts_init(&eopts);
	rc = cli_command_args(&attach_help, groups, 0, &argc, &argv);
	if (rc == CLI_RUN && (!export_opts_valid(&eopts) || !propagate_opts_valid(&popts, &opts.filter)))
		rc = EXIT_USAGE;
	if (rc != CLI_RUN) {
		export_opts_free(&eopts);
		return rc;
	}
	/* Copying each header block is a tenth of a busy capture's CPU: only when shown. */
	opts.no_header_blocks = !(json_output && printer.with_headers);

	/* Propagation first: its claims and records must not miss the capture's first spans. */
	if (propagate_setup(&prop, &popts, &opts.filter, &opts)) {
		export_opts_free(&eopts);
		return EXIT_FAIL;
	}
	if (live_pipeline(&p, &cap, &live, &opts, lopts.go)) {
		propagate_close(prop);
		export_opts_free(&eopts);
		return EXIT_FAIL;
	}
	/* Spans are written as they complete and reach stdout once per round (a few ms
	 * under load): a write per span would cost a busy host more than the rest of
	 * the pipeline does. */
	printer.batch = printer.flush_rounds = true;
	span_printer_sink(&sink, &printer);
	rc = pipeline_add_sink(p, &sink);
	gethostname(host, sizeof(host) - 1);
	if (!rc)
		rc = exporters_add_live(&ex, &eopts, host, p);
	export_opts_free(&eopts);
	if (rc) {
		pipeline_free(p);
		exporters_free(ex);
		propagate_close(prop);
		return EXIT_FAIL;
	}
	/* Tests and scripts wait for this line before sending traffic. */
	fprintf(stderr, "Attached: tracing HTTP%s through the %s hooks: %s%s%s%s%s. Ctrl-C to stop.\n",
		span_filter_has_targets(&opts.filter) ? " of the selected processes" : " of every process",
		capture_hooks(cap) == CAPTURE_HOOKS_SOCKETS ? "socket" : "syscall",
		capture_hooks_why(cap), live ? "; Go programs also through uprobes" : "",
		propagate_describe(prop, &opts) ? "; propagating trace context (" : "",
		propagate_describe(prop, &opts) ? propagate_describe(prop, &opts) : "",
		propagate_describe(prop, &opts) ? ")" : "");
	fflush(stderr);

	rc = pipeline_run(p);
	output_failed = pipeline_failed_sink(p);
	pipeline_get_stats(p, &st);
	live_get_stats(live, &ls);
	/* The exporters deliver what is queued and print their summary as the pipeline
	 * closes them. Spans they could not deliver are counted there and warned about,
	 * as the kernel's drops are. */
	pipeline_free(p);
	exporters_free(ex);
	if (st.targets_gone)
		fprintf(stderr, "Every process given with -p has exited\n");
	print_summary(&st, &ls);
	propagate_finish(prop);
	/* stdout going away (a closed pipe) ends the trace; it is not the capture failing */
	if (rc < 0 && !output_failed) {
		p_err("capture failed: %s", strerror(-rc));
		return EXIT_FAIL;
	}
	if (st.dropped)
		p_warn("%llu events were dropped: the ring buffer was full", (unsigned long long)st.dropped);
	capture_warn_h2(st.h2_lost, st.h2_clipped);
	return EXIT_OK;
}
