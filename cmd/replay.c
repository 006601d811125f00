// SPDX-License-Identifier: GPL-2.0-only
/* ehttp replay: read span files; print spans as attach does, or statistics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/export.h"
#include "jsonw.h"
#include "main.h"
#include "pipeline.h"
#include "span_filter.h"
#include "span_stats.h"
#include "spanfile_merge.h"
#include "timeparse.h"

static const struct cli_help replay_help = {
	.usage = "ehttp replay [OPTIONS] FILE...\n"
		 "ehttp replay [OPTIONS] -\n"
		 "ehttp replay help",
	.description =
		"Read span files written by `ehttp record` (pcapng; '-' is standard input) and\n"
		"print their spans exactly as attach does: text lines, or with -j one JSON object\n"
		"per line. Several files (a rotated set, recordings of several hosts) are read\n"
		"together in start time order. Damaged or truncated input is skipped with a\n"
		"warning; a file that is not a span file is an error. With --otlp the spans are\n"
		"sent with their recorded times instead of printed (with --stats, the statistics\n"
		"are printed too); replay waits for the receiver rather than dropping spans, and\n"
		"fails when it refuses them for good.\n",
};

struct replay_opts {
	struct span_filter *filter; /* --since, --until */
	unsigned long max_spans;
	bool stats, headers, processes;
};

static int set_time(void *ctx, const struct opt *o, const char *spelled, const char *value)
{
	struct replay_opts *r = ctx;
	uint64_t ns;

	if (!parse_time_arg(value, &ns)) {
		p_err("%s: '%s' is neither epoch seconds nor an RFC 3339 time", spelled, value);
		return -1;
	}
	if (!strcmp(o->name, "since"))
		r->filter->since_ns = ns;
	else
		r->filter->until_ns = ns;
	return 0;
}

static const struct opt replay_opts[] = {
	{ "since", 0, "TIME", "only spans that started at or after TIME", OPT_CALL(set_time) },
	{ "until", 0, "TIME",
	  "only spans that started at or before TIME\n"
	  "TIME: epoch seconds (1764089400.5) or RFC 3339\n"
	  "(2026-11-25T16:50:00Z; local time without an offset)",
	  OPT_CALL(set_time) },
	{ "count", 'c', "N", "stop after N spans", OPT_UINT(struct replay_opts, max_spans, 1, ~0ul) },
	{ "stats", 0, NULL,
	  "per method and route: count, error rate, latency\n"
	  "p50/p90/p99/max, and totals (numeric, hex and UUID path\n"
	  "segments become {id}; the query is dropped)",
	  OPT_FLAG(struct replay_opts, stats) },
	{ "headers", 0, NULL, "include header blocks in JSON output", OPT_FLAG(struct replay_opts, headers) },
	{ "processes", 0, NULL,
	  "print the process records (pid, comm, exe, cmdline,\n"
	  "cgroup) instead of spans",
	  OPT_FLAG(struct replay_opts, processes) },
	{ NULL },
};

static int print_process(void *arg, const struct spanfile_process *p)
{
	char cmdline[sizeof(p->cmdline)], cgroup[sizeof(p->cgroup)];
	size_t i;

	/* cgroup v1 lists one hierarchy per line: one line of output per process */
	snprintf(cgroup, sizeof(cgroup), "%s", p->cgroup);
	for (i = 0; cgroup[i]; i++)
		if (cgroup[i] == '\n')
			cgroup[i] = ';';

	memcpy(cmdline, p->cmdline, p->cmdline_len);
	for (i = 0; i < p->cmdline_len; i++)
		if (!cmdline[i])
			cmdline[i] = ' ';
	cmdline[p->cmdline_len < sizeof(cmdline) ? p->cmdline_len : sizeof(cmdline) - 1] = '\0';
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_int_field(w, "pid", (int)p->pid);
		jsonw_string_field(w, "comm", p->comm);
		jsonw_string_field(w, "exe", p->exe);
		jsonw_string_field(w, "cmdline", cmdline);
		jsonw_string_field(w, "cgroup", cgroup);
		jsonw_end_object(w);
		return out_jsonw_end();
	}
	return printf("%u %s exe=%s cmdline=\"%s\" cgroup=%s\n", p->pid, p->comm, p->exe, cmdline,
		      cgroup) < 0 ? -1 : 0;
}

/* The host name of the file the last span or process record came from. */
static const char *merge_host(void *arg)
{
	const struct spanfile_meta *meta = spanfile_merge_meta(arg);

	return meta ? meta->hostname : "";
}

int do_replay(int argc, char **argv)
{
	struct span_filter filter;
	struct span_printer printer = { 0 };
	struct span_stats stats = { 0 };
	struct spanfile_source_opts sopts = { 0 };
	struct spanfile_merge *merge = NULL;
	struct pipeline_source src;
	struct pipeline_sink sink;
	struct pipeline_stats st;
	struct pipeline *p = NULL;
	bool want_stats, processes, stats_ready = false;
	unsigned long max_spans;
	char **files;
	size_t nfiles;
	int rc, err;
	struct replay_opts ropts = { .filter = &filter };
	struct export_opts eopts;
	struct exporters *ex = NULL;
	const struct opt_group groups[] = {
		{ span_filter_opts, &filter, NULL }, { replay_opts, &ropts, NULL },
		{ export_otlp_opts, &eopts, NULL }, { NULL, NULL, NULL },
	};

	span_filter_init(&filter);
	export_opts_init(&eopts);
	rc = cli_command_args(&replay_help, groups, CLI_ANY_ARGS, &argc, &argv);
	if (rc == CLI_RUN && !export_opts_valid(&eopts))
		rc = EXIT_USAGE;
	if (rc != CLI_RUN) {
		export_opts_free(&eopts);
		return rc;
	}
	rc = EXIT_OK;
	files = argv;
	nfiles = argc;
	max_spans = ropts.max_spans;
	want_stats = ropts.stats;
	printer.with_headers = ropts.headers;
	processes = ropts.processes;
	if (!nfiles) {
		p_err("which span file? (give FILE... or '-' for standard input)");
		goto usage;
	}
	if (want_stats && processes) {
		p_err("--stats and --processes do not go together");
		goto usage;
	}
	if (eopts.otlp_on && processes) {
		p_err("--otlp and --processes do not go together");
		goto usage;
	}

	if (spanfile_merge_open(&merge, files, nfiles) ||
	    pipeline_new(&p, &(struct pipeline_opts){ .filter = &filter, .max_spans = max_spans })) {
		spanfile_merge_close(merge);
		rc = EXIT_FAIL;
		goto out;
	}
	if (processes)
		sopts.process = print_process;
	if (eopts.otlp_on) {
		/* resources from the files' process records, host.name from each file */
		if (exporters_open(&ex, &eopts, "", false, true)) {
			spanfile_merge_close(merge);
			rc = EXIT_FAIL;
			goto out;
		}
		exporters_set_host_of(ex, merge_host, merge);
		sopts.process_seen = exporters_set_process;
		sopts.seen_arg = ex;
	}
	if (spanfile_source(merge, &sopts, &src) || pipeline_add_source(p, &src)) {
		spanfile_merge_close(merge);
		rc = EXIT_FAIL;
		goto out;
	}
	if (want_stats) {
		if (span_stats_init(&stats)) {
			rc = EXIT_FAIL;
			goto out;
		}
		stats_ready = true;
		span_stats_sink(&sink, &stats);
	} else if (!ex) {
		printer.batch = true;
		span_printer_sink(&sink, &printer);
	}
	if ((want_stats || !ex) && pipeline_add_sink(p, &sink)) {
		rc = EXIT_FAIL;
		goto out;
	}
	if (ex) {
		exporters_sink(ex, NULL, &sink);
		if (pipeline_add_sink(p, &sink)) {
			rc = EXIT_FAIL;
			goto out;
		}
	}

	err = pipeline_run(p);
	/* A closed stdout ends the reading; a file that could not be read was reported. */
	if (err && err != -EPIPE && !pipeline_failed_sink(p)) {
		rc = EXIT_FAIL;
		goto out;
	}
	pipeline_get_stats(p, &st);
	if (want_stats) {
		if (json_output) {
			span_stats_jsonw(out_jsonw(), &stats);
			if (out_jsonw_end())
				rc = EXIT_FAIL;
		} else {
			span_stats_print(&stats, stdout);
		}
	}
	if (st.damaged_regions || st.truncated_bytes || st.skipped_records)
		p_warn("read %llu spans; skipped %llu damaged region%s (%llu bytes), %llu record%s "
		       "not understood, %llu bytes of an incomplete last record",
		       (unsigned long long)st.read_spans, (unsigned long long)st.damaged_regions,
		       st.damaged_regions == 1 ? "" : "s", (unsigned long long)st.damaged_bytes,
		       (unsigned long long)st.skipped_records, st.skipped_records == 1 ? "" : "s",
		       (unsigned long long)st.truncated_bytes);
	if (fflush(stdout) && errno != EPIPE) {
		p_err("writing the output: %s", strerror(errno));
		rc = EXIT_FAIL;
	} else if (err && err != -EPIPE && !ex) {
		/* with --otlp, the exporter's error: its summary and exporters_free() say */
		p_err("writing the output: %s", strerror(-err));
		rc = EXIT_FAIL;
	}
out:
	pipeline_free(p);
	if (exporters_free(ex)) {
		p_err("not every span reached the OTLP receiver (see the summary above)");
		rc = EXIT_FAIL;
	}
	export_opts_free(&eopts);
	if (stats_ready)
		span_stats_free(&stats);
	return rc;
usage:
	export_opts_free(&eopts);
	return EXIT_USAGE;
}
