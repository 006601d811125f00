// SPDX-License-Identifier: GPL-2.0-only
/* ehttp replay: read span files; print spans as attach does, or statistics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "main.h"
#include "pipeline.h"
#include "span_filter.h"
#include "span_stats.h"
#include "spanfile_merge.h"
#include "timeparse.h"

static int replay_help(void)
{
	if (json_output)
		return EXIT_OK;
	printf("Usage: ehttp replay [OPTIONS] FILE...\n"
	       "       ehttp replay [OPTIONS] -\n"
	       "       ehttp replay help\n"
	       "\n"
	       "Read span files written by `ehttp record` (pcapng; '-' is standard input) and\n"
	       "print their spans exactly as attach does: text lines, or with -j one JSON object\n"
	       "per line. Several files (a rotated set, recordings of several hosts) are read\n"
	       "together in start time order. Damaged or truncated input is skipped with a\n"
	       "warning; a file that is not a span file is an error.\n"
	       "\n"
	       "Options:\n" SPAN_FILTER_USAGE
	       "  --since TIME         only spans that started at or after TIME\n"
	       "  --until TIME         only spans that started at or before TIME\n"
	       "                       TIME: epoch seconds (1764089400.5) or RFC 3339\n"
	       "                       (2026-11-25T16:50:00Z; local time without an offset)\n"
	       "  -c, --count N        stop after N spans\n"
	       "  --stats              per method and route: count, error rate, latency\n"
	       "                       p50/p90/p99/max, and totals (numeric, hex and UUID path\n"
	       "                       segments become {id}; the query is dropped)\n"
	       "  --headers            include header blocks in JSON output\n"
	       "  --processes          print the process records (pid, comm, exe, cmdline,\n"
	       "                       cgroup) instead of spans\n");
	return EXIT_OK;
}

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
	if (json_output)
		return out_json(json_pack("{s:i, s:s, s:s, s:s, s:s}", "pid", (int)p->pid, "comm",
					  p->comm, "exe", p->exe, "cmdline", cmdline, "cgroup",
					  cgroup));
	return printf("%u %s exe=%s cmdline=\"%s\" cgroup=%s\n", p->pid, p->comm, p->exe, cmdline,
		      cgroup) < 0 ? -1 : 0;
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
	bool want_stats = false, processes = false, stats_ready = false;
	unsigned long max_spans = 0, n;
	char **files;
	size_t nfiles = 0;
	int rc = EXIT_OK, taken, err;

	span_filter_init(&filter);
	NEXT_ARG();
	if (argc == 1 && is_prefix(*argv, "help"))
		return replay_help();
	files = calloc(argc + 1, sizeof(*files));
	if (!files)
		return EXIT_FAIL;
	while (argc > 0) {
		const char *opt = *argv;

		taken = span_filter_parse(&filter, argc, argv);
		if (taken < 0)
			goto usage;
		if (taken > 0) {
			argc -= taken;
			argv += taken;
			continue;
		}
		if (!strcmp(opt, "--since") || !strcmp(opt, "--until")) {
			uint64_t ns;

			NEXT_ARG();
			if (!REQ_ARGS(1))
				goto usage;
			if (!parse_time_arg(*argv, &ns)) {
				p_err("%s: '%s' is neither epoch seconds nor an RFC 3339 time", opt, *argv);
				goto usage;
			}
			if (opt[2] == 's')
				filter.since_ns = ns;
			else
				filter.until_ns = ns;
		} else if (!strcmp(opt, "-c") || !strcmp(opt, "--count")) {
			NEXT_ARG();
			if (!REQ_ARGS(1) || !arg_uint(opt, *argv, 1, ~0ul, &n))
				goto usage;
			max_spans = n;
		} else if (!strcmp(opt, "--stats")) {
			want_stats = true;
		} else if (!strcmp(opt, "--headers")) {
			printer.with_headers = true;
		} else if (!strcmp(opt, "--processes")) {
			processes = true;
		} else if (opt[0] == '-' && opt[1]) {
			rc = BAD_ARG();
			goto out;
		} else {
			files[nfiles++] = *argv;
		}
		NEXT_ARG();
	}
	if (!nfiles) {
		p_err("which span file? (give FILE... or '-' for standard input)");
		goto usage;
	}
	if (want_stats && processes) {
		p_err("--stats and --processes do not go together");
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
	} else {
		printer.batch = true;
		span_printer_sink(&sink, &printer);
	}
	if (pipeline_add_sink(p, &sink)) {
		rc = EXIT_FAIL;
		goto out;
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
			if (out_json(span_stats_json(&stats)))
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
	} else if (err && err != -EPIPE) {
		p_err("writing the output: %s", strerror(-err));
		rc = EXIT_FAIL;
	}
out:
	pipeline_free(p);
	if (stats_ready)
		span_stats_free(&stats);
	free(files);
	return rc;
usage:
	free(files);
	return EXIT_USAGE;
}
