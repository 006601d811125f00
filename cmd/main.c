// SPDX-License-Identifier: GPL-2.0-only
/* ehttp: see every HTTP exchange on a Linux host through eBPF. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "main.h"

static int do_help(int argc, char **argv);

/* Only commands that work are listed: a row is added when its command lands. */
static const struct cli_cmd commands[] = {
	{ "attach", do_attach, NEED_ROOT | NEED_TRACEFS | NEED_BPF, "trace live HTTP traffic as spans" },
	{ "check", do_check, NEED_BPF, "can this kernel do what ehttp needs?" },
	{ "offsets", do_offsets, 0, "everything needed to instrument a Go binary, from the binary" },
	{ "record", do_record, NEED_ROOT | NEED_TRACEFS | NEED_BPF, "capture HTTP spans into span files (pcapng)" },
	{ "replay", do_replay, 0, "read span files: print, filter, statistics" },
	{ "help", do_help, 0, "this text" },
	{ NULL },
};

struct main_opts {
	bool help;
};

static const struct opt main_opts[] = {
	{ "help", 'h', NULL, "this text", OPT_FLAG(struct main_opts, help) },
	{ NULL },
};

static void print_usage(FILE *f)
{
	const struct opt_group groups[] = {
		{ cli_global_opts, NULL, NULL }, { main_opts, NULL, NULL }, { NULL, NULL, NULL },
	};

	fprintf(f, "Usage: ehttp [OPTIONS] COMMAND [ARGS]\n"
		   "       ehttp COMMAND help\n"
		   "\n"
		   "Options:\n");
	opts_print_help(f, groups);
	fprintf(f, "\n"
		   "Options may follow the command too (ehttp check --json); there -p is the\n"
		   "command's own where it has one (a PID), and --pretty is always indented JSON.\n"
		   "\n"
		   "Commands:\n");
	cli_print_table(f, commands);
}

static int do_help(int argc, char **argv)
{
	/* "ehttp help -j" is "ehttp -j help", as for every command; other words after it
	 * ("ehttp help help") change nothing */
	if (argc > 0 && cli_parse(NULL, argc - 1, argv + 1) < 0)
		return EXIT_USAGE;
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_name(w, "commands");
		cli_table_jsonw(w, commands);
		jsonw_end_object(w);
		return out_jsonw_end() ? EXIT_FAIL : EXIT_OK;
	}
	print_usage(stdout);
	printf("\nEvery command has its own help: ehttp COMMAND help\n");
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct main_opts opts = { 0 };
	const struct opt_group groups[] = {
		{ cli_global_opts, NULL, NULL }, { main_opts, &opts, NULL }, { NULL, NULL, NULL },
	};
	int first;

	/* Global options come before the command (and may follow it: see cli_parse). */
	first = opts_parse(groups, argc - 1, argv + 1, OPTS_STOP_AT_ARG);
	if (first < 0)
		return EXIT_USAGE;
	argc -= first + 1;
	argv += first + 1;

	if (cli_version_requested)
		return cli_print_version();
	if (opts.help)
		return do_help(0, argv);
	if (argc < 1) {
		if (json_output)
			return do_help(0, argv);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	return cli_dispatch(commands, argc, argv, do_help);
}
