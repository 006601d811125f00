/* SPDX-License-Identifier: GPL-2.0-only */
/* Command tables, unique-prefix dispatch and small argument helpers (bpftool style). */
#ifndef EHTTP_CLI_H
#define EHTTP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "output.h"

enum cli_exit {
	EXIT_OK = 0,	/* success */
	EXIT_FAIL = 1,	/* the command ran and failed, or its answer is "no" */
	EXIT_USAGE = 2, /* unknown command or option, bad argument */
};

/* What a command needs from the host; the dispatcher satisfies it once, centrally. */
enum cli_need {
	NEED_ROOT = 1u << 0,	 /* root, or CAP_BPF + CAP_PERFMON */
	NEED_TRACEFS = 1u << 1,	 /* tracefs reachable (mounted when we are root) */
	NEED_BPF = 1u << 2,	 /* libbpf set up: log routing, RLIMIT_MEMLOCK */
};

struct cli_cmd {
	const char *name;
	int (*handler)(int argc, char **argv);
	unsigned int needs;   /* enum cli_need bits */
	const char *summary;  /* one line for help; NULL hides the row from help */
};

bool is_prefix(const char *prefix, const char *str);

/*
 * Run the row of @table whose name equals argv[0] or starts with it uniquely, with
 * argv[0] still in place (handlers see their own name first, then the arguments).
 * With no argument, or an unknown or ambiguous one, the error is reported and
 * @help is called (no argument) or EXIT_USAGE returned.
 */
int cli_dispatch(const struct cli_cmd *table, int argc, char **argv,
		 int (*help)(int argc, char **argv));

/* "  name     summary" lines for every visible row, for help texts. */
void cli_print_table(FILE *f, const struct cli_cmd *table);
/* The visible rows' names as a JSON array (bash completion derives from this). */
json_t *cli_table_json(const struct cli_cmd *table);

/* Hook the dispatcher calls with a row's needs before running it. Returns 0 or an exit code. */
int cli_satisfy_needs(unsigned int needs);

/* Parse an unsigned decimal in [min, max] for option @opt; reports the error itself. */
bool arg_uint(const char *opt, const char *text, unsigned long min, unsigned long max,
	      unsigned long *out);

/* bpftool-style argument walking over local argc/argv. */
#define NEXT_ARG() ({ argc--; argv++; })
#define REQ_ARGS(cnt)                                                               \
	({                                                                          \
		int _cnt = (cnt);                                                   \
		bool _ok = argc >= _cnt;                                            \
		if (!_ok)                                                           \
			p_err("'%s' needs %d more argument%s", argv[-1], _cnt - argc,   \
			      _cnt - argc == 1 ? "" : "s");                         \
		_ok;                                                                \
	})
#define BAD_ARG() ({ p_err("what is '%s'?", *argv); EXIT_USAGE; })

#endif
