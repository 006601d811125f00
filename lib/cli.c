// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cli.h"
#include "jsonw.h"

bool is_prefix(const char *prefix, const char *str)
{
	if (!*prefix)
		return false;
	return strncmp(prefix, str, strlen(prefix)) == 0;
}

int cli_dispatch(const struct cli_cmd *table, int argc, char **argv,
		 int (*help)(int argc, char **argv))
{
	const struct cli_cmd *match = NULL, *row;
	int matches = 0, err;

	if (argc < 1)
		return help(argc, argv);

	for (row = table; row->name; row++) {
		if (strcmp(argv[0], row->name) == 0) {
			match = row;
			matches = 1;
			break;
		}
		if (is_prefix(argv[0], row->name)) {
			match = row;
			matches++;
		}
	}

	if (matches > 1) {
		char names[512] = "";
		size_t len = 0;

		for (row = table; row->name; row++)
			if (is_prefix(argv[0], row->name) && len < sizeof(names))
				len += snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? ", " : "", row->name);
		p_err("command '%s' is ambiguous: %s", argv[0], names);
		return EXIT_USAGE;
	}
	if (!match) {
		p_err("unknown command '%s' (try 'help')", argv[0]);
		return EXIT_USAGE;
	}

	/* "COMMAND help" prints text only: it must work unprivileged and without side
	 * effects (no mounts), since bash completion runs it to learn the options. */
	if (argc > 1 && strcmp(argv[1], "help") == 0)
		return match->handler(argc, argv);
	err = cli_satisfy_needs(match->needs);
	if (err)
		return err;
	return match->handler(argc, argv);
}

void cli_print_table(FILE *f, const struct cli_cmd *table)
{
	for (; table->name; table++)
		if (table->summary)
			fprintf(f, "  %-10s %s\n", table->name, table->summary);
}

void cli_table_jsonw(struct jsonw *w, const struct cli_cmd *table)
{
	jsonw_start_array(w);
	for (; table->name; table++)
		if (table->summary)
			jsonw_string(w, table->name);
	jsonw_end_array(w);
}

int cli_print_version(void)
{
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_string_field(w, "version", EHTTP_VERSION);
		jsonw_string_field(w, "libbpf", libbpf_version_string());
		jsonw_end_object(w);
		return out_jsonw_end() ? EXIT_FAIL : EXIT_OK;
	}
	printf("ehttp v%s\nusing libbpf %s\n", EHTTP_VERSION, libbpf_version_string());
	return EXIT_OK;
}

bool cli_version_requested;

static int set_global(void *ctx, const struct opt *o, const char *spelled, const char *value)
{
	switch (o->short_name) {
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
		cli_version_requested = true;
		break;
	}
	return 0;
}

const struct opt cli_global_opts[] = {
	{ "json", 'j', NULL, "JSON output (one object per line for streams)", OPT_CALL(set_global) },
	{ "pretty", 'p', NULL, "indented JSON (implies --json)", OPT_CALL(set_global) },
	{ "debug", 'd', NULL, "libbpf and loader diagnostics on stderr", OPT_CALL(set_global) },
	{ "version", 'V', NULL, "ehttp and libbpf versions", OPT_CALL(set_global) },
	{ NULL },
};

#define MAX_GROUPS 16

int cli_parse(const struct opt_group *groups, int argc, char **argv)
{
	struct opt_group all[MAX_GROUPS + 2];
	int n = 0;

	for (; groups && groups->opts && n < MAX_GROUPS; groups++)
		all[n++] = *groups;
	all[n++] = (struct opt_group){ cli_global_opts, NULL, NULL };
	all[n] = (struct opt_group){ NULL, NULL, NULL };
	n = opts_parse(all, argc, argv, 0);
	/* as bpftool: -V anywhere prints the versions and nothing else runs */
	if (n >= 0 && cli_version_requested)
		exit(cli_print_version());
	return n;
}

static bool has_options(const struct opt_group *groups)
{
	for (; groups && groups->opts; groups++)
		if (groups->opts[0].name || groups->opts[0].short_name)
			return true;
	return false;
}

/* Is argv[0] the word "help"? A unique prefix counts when it is the only argument. */
static bool is_help(const struct cli_help *help, int argc, char **argv)
{
	if (argc < 1)
		return false;
	return !strcmp(argv[0], "help") ||
	       (!help->help_exact && argc == 1 && is_prefix(argv[0], "help"));
}

int cli_command_args(const struct cli_help *help, const struct opt_group *groups, int max_args,
		     int *argcp, char ***argvp)
{
	int argc = *argcp - 1;
	char **argv = *argvp + 1;
	bool want_help = is_help(help, argc, argv);

	if (want_help) {
		/* what follows "help" may only be global options: "ehttp check help -j" */
		NEXT_ARG();
		argc = cli_parse(NULL, argc, argv);
		max_args = 0;
	} else {
		argc = cli_parse(groups, argc, argv);
	}
	if (argc < 0)
		return EXIT_USAGE;
	if (max_args != CLI_ANY_ARGS && argc > max_args) {
		argv += max_args;
		return BAD_ARG();
	}
	if (want_help)
		return cli_print_help(help, groups);
	*argcp = argc;
	*argvp = argv;
	return CLI_RUN;
}

/* The description unwrapped: lines joined by spaces, paragraphs by one newline. */
static void description_jsonw(struct jsonw *w, const char *text)
{
	size_t len = strlen(text), n = 0, i;
	char *flat = malloc(len + 1);

	if (!flat) {
		jsonw_string(w, text);
		return;
	}
	for (i = 0; i < len; i++) {
		if (text[i] != '\n')
			flat[n++] = text[i];
		else if (i + 1 < len && text[i + 1] == '\n')
			flat[n++] = text[i++];
		else if (i + 1 < len)
			flat[n++] = ' ';
	}
	jsonw_string_len(w, flat, n);
	free(flat);
}

int cli_print_help(const struct cli_help *help, const struct opt_group *groups)
{
	static const struct opt_group none[] = { { NULL, NULL, NULL } };
	const char *line = help->usage, *nl;

	if (!groups)
		groups = none;
	if (json_output) {
		struct jsonw *w = out_jsonw();

		jsonw_start_object(w);
		jsonw_name(w, "usage");
		jsonw_start_array(w);
		for (;; line = nl + 1) {
			nl = strchr(line, '\n');
			jsonw_string_len(w, line, nl ? (size_t)(nl - line) : strlen(line));
			if (!nl)
				break;
		}
		jsonw_end_array(w);
		jsonw_name(w, "description");
		description_jsonw(w, help->description);
		jsonw_name(w, "options");
		opts_help_jsonw(w, groups);
		jsonw_end_object(w);
		return out_jsonw_end() ? EXIT_FAIL : EXIT_OK;
	}
	for (nl = line; nl; line = nl + 1) {
		nl = strchr(line, '\n');
		printf("%s%.*s\n", line == help->usage ? "Usage: " : "       ",
		       nl ? (int)(nl - line) : (int)strlen(line), line);
	}
	printf("\n%s", help->description);
	if (has_options(groups)) {
		printf("\nOptions:\n");
		opts_print_help(stdout, groups);
	}
	return EXIT_OK;
}

bool arg_uint(const char *opt, const char *text, unsigned long min, unsigned long max,
	      unsigned long *out)
{
	unsigned long long val;
	char *end;

	errno = 0;
	if (!text || !*text || *text == '-' || *text == '+')
		goto bad;
	val = strtoull(text, &end, 10);
	if (errno || *end || val < min || val > max)
		goto bad;
	*out = val;
	return true;
bad:
	p_err("%s takes a whole number from %lu to %lu, not '%s'", opt, min, max,
	      text ? text : "");
	return false;
}
