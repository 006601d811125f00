/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Options declared once: a descriptor per option, from which both parsing and the help
 * screen (text, and JSON with -j) come, so they cannot disagree.
 *
 *	static const struct opt filter_opts[] = {
 *		{ "port", 0, "N", "only connections with this local or remote port",
 *		  OPT_UINT(struct span_filter, port, 1, 65535) },
 *		{ "pid", 'p', "PID", "only this process (repeatable)", OPT_CALL(add_pid) },
 *		{ NULL },
 *	};
 *
 * "--name value", "--name=value", "-n value" and "-nvalue" all work; long names match
 * exactly (commands, not options, are matched by unique prefix). Errors are reported
 * through p_err and the caller exits with EXIT_USAGE.
 */
#ifndef EHTTP_OPTS_H
#define EHTTP_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct jsonw;

enum opt_kind {
	OPT_KIND_FLAG,   /* bool at the target, set to true */
	OPT_KIND_UINT,   /* a whole number in [min, max], times scale, at an integer target */
	OPT_KIND_STRING, /* the argument itself, as const char *, at the target */
	OPT_KIND_CHOICE, /* one of choices[]: its index, at an integer target */
	OPT_KIND_CALL,   /* handler(ctx, opt, value) */
};

struct opt {
	const char *name;  /* long name without "--"; NULL for a short-only option; NULL
			    * with short_name 0 ends a table */
	char short_name;   /* 0 for a long-only option */
	const char *value; /* the value's name in help ("PID"); NULL for a flag */
	const char *help;  /* help text; '\n' starts a continuation line */
	enum opt_kind kind;
	size_t offset, size; /* the target: a field of the group's context */
	unsigned long min, max, scale; /* OPT_KIND_UINT: range as typed; stored times scale (0 = 1) */
	/* OPT_KIND_CHOICE: NULL-terminated words; OPT_KIND_CALL may list them too (its
	 * handler then checks, opts_choice()), for help and completion */
	const char *const *choices;
	/* The value when it is left out, or NULL when it may not be. An option with one
	 * takes its value only attached ("--propagate=sockmsg", help "--propagate[=WORDS]"):
	 * the next word is never its value. */
	const char *implied;
	/* OPT_KIND_CALL: @spelled is the option as typed ("-p", "--pid"), for messages;
	 * @value is NULL for a flag. Returns 0, or -1 after reporting why. */
	int (*handler)(void *ctx, const struct opt *opt, const char *spelled, const char *value);
};

#define OPT_FIELD(type, field) .offset = offsetof(type, field), .size = sizeof(((type *)0)->field)
#define OPT_FLAG(type, field) .kind = OPT_KIND_FLAG, OPT_FIELD(type, field)
#define OPT_UINT(type, field, lo, hi) \
	.kind = OPT_KIND_UINT, OPT_FIELD(type, field), .min = (lo), .max = (hi)
#define OPT_UINT_SCALED(type, field, lo, hi, mult) OPT_UINT(type, field, lo, hi), .scale = (mult)
#define OPT_STRING(type, field) .kind = OPT_KIND_STRING, OPT_FIELD(type, field)
#define OPT_CHOICE(type, field, words) \
	.kind = OPT_KIND_CHOICE, OPT_FIELD(type, field), .choices = (words)
#define OPT_CALL(fn) .kind = OPT_KIND_CALL, .handler = (fn)

/* The words of the options a group parsed, as given ("--port 80 --pid=7"), for a record
 * of how a capture was asked for. */
struct opt_echo {
	char *buf;
	size_t size, len;
};

/* A table of options and the context its targets and handlers work on. */
struct opt_group {
	const struct opt *opts;
	void *ctx;
	struct opt_echo *echo; /* may be NULL */
};

enum opts_flags {
	OPTS_STOP_AT_ARG = 1u << 0, /* stop at the first argument that is not an option */
};

/*
 * Parse argv[0..argc) against @groups (ended by a row with opts NULL), searched in order:
 * the first group that has an option wins. Arguments that are not options are moved, in
 * their order, to the front of argv. Returns how many there are (with OPTS_STOP_AT_ARG:
 * the index of the first one, or argc), or -1 after reporting a usage error. "--" ends
 * the options; "-" alone is an argument.
 */
int opts_parse(const struct opt_group *groups, int argc, char **argv, unsigned int flags);

/* Only the option at argv[0]: returns how many arguments it took (1 or 2), 0 when it is
 * not an option of @groups, or -1 after reporting a bad or missing value. */
int opts_parse_one(const struct opt_group *groups, int argc, char **argv);

/* The index of @value in @o's choices, or -1 after reporting "--hooks takes auto,
 * sockets or syscalls, not 'x'" (@spelled is the option as typed). */
int opts_choice(const struct opt *o, const char *spelled, const char *value);

/* The option lines of a help screen: "  -p, --pid PID       only this process". */
void opts_print_help(FILE *f, const struct opt_group *groups);
/* The same as a JSON array of {"long", "short", "value", "help", "choices", "implied"}
 * ("choices" and "implied" only where the option has them). */
void opts_help_jsonw(struct jsonw *w, const struct opt_group *groups);

#endif
