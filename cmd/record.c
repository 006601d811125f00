// SPDX-License-Identifier: GPL-2.0-only
/* ehttp record: capture spans into span files (pcapng), with tcpdump-style rotation. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "loader.h"
#include "main.h"
#include "propagate.h"
#include "recorder.h"

#define POLL_MS 100

static int record_help(void)
{
	if (json_output)
		return EXIT_OK;
	printf("Usage: ehttp record -o FILE|- [OPTIONS]\n"
	       "       ehttp record help\n"
	       "\n"
	       "Capture HTTP/1.x spans as attach does and write them to a span file (pcapng,\n"
	       "mode 0600) that `ehttp replay`, capinfos, tshark, editcap and mergecap read.\n"
	       "'-o -' writes to standard output for a pipe. On a terminal, a status line on\n"
	       "stderr; at the end, a summary. Ctrl-C or SIGTERM: every completed span is\n"
	       "written and the file closed.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output FILE    where to write ('-' = standard output)\n"
	       "  -C MB                start a new file when this one reaches MB megabytes\n"
	       "                       (1,000,000 bytes): FILE, FILE1, FILE2, ...\n"
	       "  -G SEC               start a new file every SEC seconds; with strftime(3)\n"
	       "                       conversions in FILE, each file is named by its time\n"
	       "  -W N                 with -C or -G: a ring of N files FILE0..FILE<N-1>, the\n"
	       "                       oldest overwritten\n" CAPTURE_USAGE PROPAGATE_USAGE);
	return EXIT_OK;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void describe_targets(const struct span_filter *f, char *buf, size_t len)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; i < f->npids && o < len; i++)
		o += snprintf(buf + o, len - o, "%spid %u", o ? ", " : "", f->pids[i]);
	if (f->comm[0] && o < len)
		o += snprintf(buf + o, len - o, "%scomm %s", o ? ", " : "", f->comm);
	if (f->port && o < len)
		o += snprintf(buf + o, len - o, "%sport %u", o ? ", " : "", f->port);
	if (!buf[0])
		snprintf(buf, len, "all processes");
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
static void print_status(const struct recorder *rec, const struct capture *cap, uint64_t now_ns,
			 uint64_t *last_ns, uint64_t *last_spans)
{
	struct recorder_stats rs;
	struct capture_stats cs;
	char size[32];
	double secs = (now_ns - *last_ns) / 1e9;

	recorder_get_stats(rec, &rs);
	capture_get_stats(cap, &cs);
	format_size(rs.bytes, size, sizeof(size));
	fprintf(stderr, "\r\033[K%llu spans (%.0f/s), %s written to %s, %llu dropped",
		(unsigned long long)rs.spans, secs > 0 ? (rs.spans - *last_spans) / secs : 0.0, size,
		recorder_path(rec), (unsigned long long)cs.dropped);
	fflush(stderr);
	*last_ns = now_ns;
	*last_spans = rs.spans;
}

int do_record(int argc, char **argv)
{
	struct recorder_opts ropts = { 0 };
	struct capture_opts opts;
	struct propagate_opts popts;
	struct propagate *prop = NULL;
	struct capture_stats cs;
	struct recorder_stats rs;
	struct recorder *rec = NULL;
	struct capture *cap = NULL;
	struct span_sink sink, psink, *out;
	struct utsname uts;
	char hostname[256] = "", filters[1024] = "", targets[512];
	bool status, write_failed = false, rec_failed;
	uint64_t start_ns, last_status, last_spans = 0;
	unsigned long n;
	int rc, taken, i, err;
	size_t flen = 0;

	capture_opts_init(&opts);
	propagate_opts_init(&popts);
	NEXT_ARG();
	if (argc == 1 && is_prefix(*argv, "help"))
		return record_help();
	while (argc > 0) {
		const char *opt = *argv;

		if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
			NEXT_ARG();
			if (!REQ_ARGS(1))
				return EXIT_USAGE;
			ropts.path = *argv;
		} else if (!strcmp(opt, "-C")) {
			NEXT_ARG();
			if (!REQ_ARGS(1) || !arg_uint(opt, *argv, 1, 1000000, &n))
				return EXIT_USAGE;
			ropts.rotate_bytes = n * 1000000ull;
		} else if (!strcmp(opt, "-G")) {
			NEXT_ARG();
			if (!REQ_ARGS(1) || !arg_uint(opt, *argv, 1, 365ul * 24 * 3600, &n))
				return EXIT_USAGE;
			ropts.rotate_ns = n * 1000000000ull;
		} else if (!strcmp(opt, "-W")) {
			NEXT_ARG();
			if (!REQ_ARGS(1) || !arg_uint(opt, *argv, 1, 1000000, &n))
				return EXIT_USAGE;
			ropts.ring = n;
		} else {
			taken = propagate_parse_opt(&popts, argc, argv);
			if (!taken)
				taken = capture_parse_opt(&opts, argc, argv);
			if (taken < 0)
				return EXIT_USAGE;
			if (taken == 0)
				return BAD_ARG();
			/* the capture options as given: the file's if_filter and metadata */
			for (i = 0; i < taken && flen < sizeof(filters); i++)
				flen += snprintf(filters + flen, sizeof(filters) - flen, "%s%s",
						 flen ? " " : "", argv[i]);
			argc -= taken;
			argv += taken;
			continue;
		}
		NEXT_ARG();
	}
	if (!recorder_opts_valid(&ropts) || !propagate_opts_valid(&popts, &opts.filter))
		return EXIT_USAGE;
	if (!strcmp(ropts.path, "-") && isatty(STDOUT_FILENO)) {
		p_err("standard output is a terminal: -o - is for a pipe (ehttp record -o - | ehttp replay -)");
		return EXIT_USAGE;
	}

	loader_catch_signals();
	/* A pipe reader that goes away ends the recording like Ctrl-C, not with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	/* Propagation first: its claims and records must not miss the capture's first spans. */
	if (popts.method && propagate_open(&prop, &popts, &opts.filter))
		return EXIT_FAIL;
	if (capture_open(&cap, &opts)) {
		propagate_close(prop);
		return EXIT_FAIL;
	}

	gethostname(hostname, sizeof(hostname) - 1);
	if (uname(&uts))
		memset(&uts, 0, sizeof(uts));
	describe_targets(&opts.filter, targets, sizeof(targets));
	ropts.meta = (struct spanfile_meta){ .hostname = hostname, .kernel = uts.release,
					     .version = EHTTP_VERSION, .targets = targets,
					     .filters = filters, .clock = *capture_clock(cap) };
	start_ns = mono_ns();
	if (recorder_open(&rec, &ropts, start_ns)) {
		capture_close(cap, NULL);
		propagate_close(prop);
		return EXIT_FAIL;
	}
	recorder_sink_init(&sink, rec);
	out = propagate_wrap(prop, cap, &sink, &psink);
	if (!out) {
		capture_close(cap, NULL);
		propagate_close(prop);
		recorder_close(rec);
		return EXIT_FAIL;
	}
	last_status = start_ns;
	status = isatty(STDERR_FILENO) && !json_output;
	/* Tests and scripts wait for this line before sending traffic. */
	fprintf(stderr, "Recording HTTP%s to %s (Ctrl-C to stop)\n",
		opts.filter.npids || opts.filter.comm[0] || opts.filter.port ? " of the selected processes"
									    : " of every process",
		strcmp(ropts.path, "-") ? recorder_path(rec) : "standard output");
	fflush(stderr);

	do {
		uint64_t now;
		int werr;

		rc = capture_poll(cap, POLL_MS, out);
		if (prop)
			propagate_poll(prop);
		now = mono_ns();
		if (rc >= 0 && (werr = recorder_tick(rec, now)))
			rc = werr;
		if (status && now - last_status >= 1000000000ull)
			print_status(rec, cap, now, &last_status, &last_spans);
	} while (rc == 0 && !loader_stop);
	if (rc < 0)
		write_failed = true;

	/* Drain the kernel's ring buffer and write the requests still open as partial spans. */
	capture_finish(cap, write_failed ? NULL : out);
	capture_get_stats(cap, &cs);
	capture_close(cap, NULL);
	recorder_get_stats(rec, &rs);
	rec_failed = recorder_failed(rec);
	err = recorder_close(rec);
	if (status)
		fprintf(stderr, "\r\033[K");
	if (cs.targets_gone)
		fprintf(stderr, "Every process given with -p has exited\n");
	/* tcpdump's summary, on stderr: stdout may be the span file itself. */
	fprintf(stderr, "%llu span%s written to %s%s\n%llu event%s dropped by the kernel\n"
			"%llu span%s lost\n",
		(unsigned long long)rs.spans, rs.spans == 1 ? "" : "s",
		strcmp(ropts.path, "-") ? ropts.path : "standard output",
		rs.files > 1 ? " (rotated files)" : "", (unsigned long long)cs.dropped,
		cs.dropped == 1 ? "" : "s", (unsigned long long)cs.lost, cs.lost == 1 ? "" : "s");
	propagate_finish(prop);
	if (json_output && strcmp(ropts.path, "-"))
		out_json(json_pack("{s:I, s:I, s:I, s:I, s:I}", "spans", (json_int_t)rs.spans,
				   "bytes", (json_int_t)rs.bytes, "files", (json_int_t)rs.files,
				   "dropped", (json_int_t)cs.dropped, "lost", (json_int_t)cs.lost));
	if (rc == -EPIPE || err == -EPIPE)
		return EXIT_OK; /* the reader of -o - went away */
	if (rc < 0 || err) {
		if (rc < 0 && !rec_failed)
			p_err("capture failed: %s", strerror(-rc));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
