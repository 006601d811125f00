// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

json_t *cli_table_json(const struct cli_cmd *table)
{
	json_t *names = json_array();

	for (; table->name; table++)
		if (table->summary)
			json_array_append_new(names, json_string(table->name));
	return names;
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
