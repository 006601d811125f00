// SPDX-License-Identifier: GPL-2.0-only
/* ehttp: see every HTTP exchange on a Linux host through eBPF. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli.h"
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

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: ehttp [OPTIONS] COMMAND [ARGS]\n"
		"       ehttp COMMAND help\n"
		"\n"
		"Options:\n"
		"  -j, --json      JSON output (one object per line for streams)\n"
		"  -p, --pretty    indented JSON (implies --json)\n"
		"  -d, --debug     libbpf and loader diagnostics on stderr\n"
		"  -V, --version   ehttp and libbpf versions\n"
		"  -h, --help      this text\n"
		"\n"
		"Commands:\n");
}

static int do_help(int argc, char **argv)
{
	if (json_output) {
		out_json(json_pack("{s:o}", "commands", cli_table_json(commands)));
		return EXIT_OK;
	}
	print_usage(stdout);
	cli_print_table(stdout, commands);
	printf("\nEvery command has its own help: ehttp COMMAND help\n");
	return EXIT_OK;
}

static int do_version(void)
{
	if (json_output)
		return out_json(json_pack("{s:s, s:s}", "version", EHTTP_VERSION, "libbpf",
					  libbpf_version_string())) ? EXIT_FAIL : EXIT_OK;
	printf("ehttp v%s\nusing libbpf %s\n", EHTTP_VERSION, libbpf_version_string());
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool version = false, help = false;
	int opt;

	/* Global options come before the command; "+" stops at the first non-option. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+jpdVh", options, NULL)) >= 0) {
		switch (opt) {
		case 'p':
			pretty_output = true;
			/* fall through */
		case 'j':
			json_output = true;
			break;
		case 'd':
			debug_output = true;
			break;
		case 'V':
			version = true;
			break;
		case 'h':
			help = true;
			break;
		default:
			if (optopt)
				p_err("unknown option '-%c'", optopt);
			else
				p_err("unknown option '%s'", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	if (version)
		return do_version();
	if (help || argc < 1) {
		if (!help && argc < 1 && !json_output) {
			print_usage(stderr);
			cli_print_table(stderr, commands);
			return EXIT_USAGE;
		}
		return do_help(argc, argv);
	}
	return cli_dispatch(commands, argc, argv, do_help);
}
