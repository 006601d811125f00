/* SPDX-License-Identifier: GPL-2.0-only */
/* Command tables, unique-prefix dispatch and small argument helpers (bpftool style). */
#ifndef EHTTP_CLI_H
#define EHTTP_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "opts.h"
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
void cli_table_jsonw(struct jsonw *w, const struct cli_cmd *table);

/*
 * The global options: -j/--json, -p/--pretty, -d/--debug, -V/--version. They come
 * before the command and may follow it too, as bpftool takes them ("ehttp check --json"
 * is "ehttp -j check"); there a command's own option of the same name wins, so -p is
 * the PID filter where a command has one, and --pretty works everywhere.
 */
extern const struct opt cli_global_opts[];
/* -V was given: the versions are printed instead of running anything. */
extern bool cli_version_requested;

/*
 * Parse a command's arguments (argv just past its name) against its option @groups,
 * then the global options. Returns how many arguments that are not options were moved
 * to the front of argv, or -1 after reporting a usage error (return EXIT_USAGE).
 */
int cli_parse(const struct opt_group *groups, int argc, char **argv);

/* A command's help screen; its option list comes from the groups it parses with. */
struct cli_help {
	const char *usage;       /* usage lines, '\n'-separated, each starting "ehttp " */
	const char *description; /* the paragraph after them */
	bool help_exact;         /* "help" only in full: a prefix of it could be a file name */
};
/* "COMMAND help": the usage, description and options as text, or with -j as one JSON
 * object {"usage": [...], "description": "...", "options": [...]}. Returns EXIT_OK. */
int cli_print_help(const struct cli_help *help, const struct opt_group *groups);

#define CLI_RUN (-1)      /* cli_command_args: the command goes on */
#define CLI_ANY_ARGS (-1) /* cli_command_args: no limit on arguments */
/*
 * A command's arguments, argv[0] being its name. "COMMAND help [GLOBAL OPTIONS]" prints
 * @help. Otherwise the options are parsed against @groups, then the global ones, and
 * the arguments that are not options (at most @max_args, or CLI_ANY_ARGS) are left in
 * (*argv)[0..*argc). Returns CLI_RUN, or the exit status to return at once (help
 * printed, or a usage error reported).
 */
int cli_command_args(const struct cli_help *help, const struct opt_group *groups, int max_args,
		     int *argc, char ***argv);

/* "ehttp vX / using libbpf vY", or {"version", "libbpf"}. Returns an exit status. */
int cli_print_version(void);

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
