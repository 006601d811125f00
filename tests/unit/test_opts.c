// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option descriptors: both spellings of a value, errors that name the option, global
 * options after the command, -p as a command's own option, and help generated from
 * the same table. Each Criterion test runs in a process of its own, so the global
 * output flags start false in every test.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <jansson.h>
#include <stdint.h>

#include "capture.h"
#include "cli.h"
#include "opts.h"

struct cmd_opts {
	bool verbose;
	uint16_t port;
	uint64_t bytes;
	const char *output;
	int mode;
	unsigned int pids;
	uint32_t last_pid;
};

/* A handler that sees every -p: the last one and how many */
static int add_pid(void *ctx, const struct opt *o, const char *spelled, const char *value)
{
	struct cmd_opts *c = ctx;

	c->pids++;
	c->last_pid = strtoul(value, NULL, 10);
	return 0;
}

static const char *const modes[] = { "fast", "slow", "auto", NULL };

static const struct opt cmd_table[] = {
	{ "verbose", 'v', NULL, "say more", OPT_FLAG(struct cmd_opts, verbose) },
	{ "port", 0, "N", "only this port", OPT_UINT(struct cmd_opts, port, 1, 65535) },
	{ NULL, 'C', "MB", "rotate at MB megabytes",
	  OPT_UINT_SCALED(struct cmd_opts, bytes, 1, 1000, 1000000) },
	{ "output", 'o', "FILE", "where to write\nsecond line", OPT_STRING(struct cmd_opts, output) },
	{ "mode", 0, "fast|slow|auto", "how", OPT_CHOICE(struct cmd_opts, mode, modes) },
	{ "pid", 'p', "PID", "only this process (repeatable)", OPT_CALL(add_pid) },
	{ NULL },
};

static struct cmd_opts c;
static const struct opt_group groups[] = { { cmd_table, &c, NULL }, { NULL, NULL, NULL } };

/* The words of the last PARSE, arguments moved to the front. */
static char **a;

/* Parse a list of words as a command's arguments. */
#define PARSE(...)                                                                      \
	({                                                                              \
		static char *_w[] = { __VA_ARGS__, NULL };                              \
		a = _w;                                                                 \
		cli_parse(groups, sizeof(_w) / sizeof(_w[0]) - 1, _w);                  \
	})

static void quiet(void)
{
	cr_redirect_stderr();
	cr_redirect_stdout();
	memset(&c, 0, sizeof(c));
}

static void errors(void)
{
	cr_redirect_stderr();
	memset(&c, 0, sizeof(c));
}

static void stderr_is(const char *want)
{
	fflush(stderr);
	cr_expect_stderr_eq_str(want);
}

Test(opts, value_after_equals_or_in_the_next_word, .init = quiet)
{
	cr_assert_eq(PARSE("--port=8080", "--output", "x.spans"), 0);
	cr_expect_eq(c.port, 8080);
	cr_expect_str_eq(c.output, "x.spans");
	cr_assert_eq(PARSE("--port", "81", "--output=y"), 0);
	cr_expect_eq(c.port, 81);
	cr_expect_str_eq(c.output, "y");
	cr_assert_eq(PARSE("--output="), 0, "an empty value is a value");
	cr_expect_str_eq(c.output, "");
}

Test(opts, short_options_take_values_both_ways, .init = quiet)
{
	cr_assert_eq(PARSE("-o", "f1", "-C", "3"), 0);
	cr_expect_str_eq(c.output, "f1");
	cr_expect_eq(c.bytes, 3000000ull, "-C MB is stored in bytes");
	cr_assert_eq(PARSE("-of2", "-v"), 0);
	cr_expect_str_eq(c.output, "f2");
	cr_expect(c.verbose);
}

Test(opts, arguments_move_to_the_front_in_order, .init = quiet)
{
	cr_assert_eq(PARSE("one", "--port", "9", "two", "-", "--", "--port", "-v"), 5);
	cr_expect_str_eq(a[0], "one");
	cr_expect_str_eq(a[1], "two");
	cr_expect_str_eq(a[2], "-", "'-' alone is an argument (standard input)");
	cr_expect_str_eq(a[3], "--port", "after '--' everything is an argument");
	cr_expect_str_eq(a[4], "-v");
	cr_expect_eq(c.port, 9);
	cr_expect_not(c.verbose);
}

/* Usage errors, each naming the option as it was typed. */
static const struct {
	const char *words[4];
	const char *error;
} usage_errors[] = {
	{ { "--port", "1", "--frobnicate" }, "what is '--frobnicate'?" },
	{ { "-x" }, "what is '-x'?" },
	{ { "--verb" }, "what is '--verb'?" }, /* options are not matched by prefix */
	{ { "-v", "--port" }, "--port needs a value (N)" },
	{ { "-o" }, "-o needs a value (FILE)" },
	{ { "--verbose=yes" }, "--verbose takes no value" },
	{ { "-vv" }, "what is '-vv'?" }, /* flags are not bundled */
};

Test(opts, usage_errors_name_the_option, .init = errors)
{
	char want[1024] = "";
	size_t i, n, len = 0;

	for (i = 0; i < sizeof(usage_errors) / sizeof(usage_errors[0]); i++) {
		char *w[5] = { NULL };

		for (n = 0; usage_errors[i].words[n]; n++)
			w[n] = (char *)usage_errors[i].words[n];
		cr_expect_eq(cli_parse(groups, n, w), -1, "case %zu", i);
		len += snprintf(want + len, sizeof(want) - len, "Error: %s\n", usage_errors[i].error);
	}
	stderr_is(want);
}

Test(opts, out_of_range_names_the_option_as_typed, .init = errors)
{
	cr_expect_eq(PARSE("--port=70000"), -1);
	stderr_is("Error: --port takes a whole number from 1 to 65535, not '70000'\n");
	cr_expect_eq(c.port, 0, "nothing stored on error");
}

Test(opts, choices, .init = errors)
{
	cr_assert_eq(PARSE("--mode", "auto"), 0);
	cr_expect_eq(c.mode, 2);
	cr_expect_eq(PARSE("--mode=quick"), -1);
	stderr_is("Error: --mode takes fast, slow or auto, not 'quick'\n");
}

Test(opts, handler_options_repeat, .init = quiet)
{
	cr_assert_eq(PARSE("-p", "7", "--pid=8", "-p9"), 0);
	cr_expect_eq(c.pids, 3);
	cr_expect_eq(c.last_pid, 9);
}

Test(opts, globals_after_the_command, .init = quiet)
{
	cr_assert_eq(PARSE("--port", "1", "--json", "-d"), 0);
	cr_expect(json_output, "--json after the command is ehttp -j COMMAND");
	cr_expect_not(pretty_output);
	cr_expect(debug_output);
	cr_expect_eq(c.port, 1);
}

Test(opts, short_json_after_the_command, .init = quiet)
{
	cr_assert_eq(PARSE("arg", "-j"), 1);
	cr_expect(json_output);
}

Test(opts, p_inside_a_command_is_its_own_option, .init = quiet)
{
	cr_assert_eq(PARSE("-p", "42"), 0);
	cr_expect_eq(c.last_pid, 42);
	cr_expect_not(pretty_output, "-p is the command's PID option here");
	cr_expect_not(json_output);
}

Test(opts, pretty_works_anywhere, .init = quiet)
{
	cr_assert_eq(PARSE("-p", "42", "--pretty"), 0);
	cr_expect(pretty_output);
	cr_expect(json_output, "--pretty implies --json");
}

Test(opts, p_is_pretty_where_the_command_has_no_p, .init = quiet)
{
	char *w[] = { "-p", NULL };

	cr_assert_eq(cli_parse(NULL, 1, w), 0);
	cr_expect(pretty_output);
}

Test(opts, version_after_the_command_prints_versions_and_exits, .init = quiet, .exit_code = 0)
{
	PARSE("--port", "1", "-V");
	cr_assert_fail("-V must not return to the command");
}

Test(opts, top_level_stops_at_the_command, .init = errors)
{
	char *w[] = { "-j", "check", "--frob", NULL };
	const struct opt_group top[] = { { cli_global_opts, NULL, NULL }, { NULL, NULL, NULL } };

	cr_expect_eq(opts_parse(top, 3, w, OPTS_STOP_AT_ARG), 1, "the command's index");
	cr_expect(json_output);
	cr_expect_not(pretty_output);
}

Test(opts, top_level_unknown_option, .init = errors)
{
	char *w[] = { "--bogus", "check", NULL };
	const struct opt_group top[] = { { cli_global_opts, NULL, NULL }, { NULL, NULL, NULL } };

	cr_expect_eq(opts_parse(top, 2, w, OPTS_STOP_AT_ARG), -1);
	stderr_is("Error: unknown option '--bogus'\n");
}

Test(opts, parse_one_consumes_one_option, .init = errors)
{
	char *w[] = { "--port", "5", "--verbose", NULL };

	cr_expect_eq(opts_parse_one(groups, 3, w), 2);
	cr_expect_eq(opts_parse_one(groups, 1, w + 2), 1);
	cr_expect_eq(opts_parse_one(groups, 1, (char *[]){ "--other" }), 0, "not ours");
	cr_expect_eq(opts_parse_one(groups, 1, (char *[]){ "file" }), 0, "not an option");
	cr_expect_eq(opts_parse_one(groups, 1, (char *[]){ "--port" }), -1);
}

Test(opts, echo_keeps_the_words_as_given, .init = quiet)
{
	char buf[128];
	struct opt_echo echo = { buf, sizeof(buf), 0 };
	const struct opt_group g[] = { { cmd_table, &c, &echo }, { NULL, NULL, NULL } };
	char *w[] = { "--port=80", "file", "-p", "7", "--json", NULL };

	cr_assert_eq(cli_parse(g, 5, w), 1);
	cr_expect_str_eq(buf, "--port=80 -p 7", "the group's options only, not globals or arguments");
}

Test(opts, capture_options_take_both_spellings, .init = quiet)
{
	struct capture_opts o;
	const struct opt_group g[] = { CAPTURE_OPT_GROUPS(&o, NULL), { NULL, NULL, NULL } };
	char *w[] = { "--count=3", "--hooks=syscalls", "-B", "128", "--pid=12", "--status=5xx", NULL };

	capture_opts_init(&o);
	cr_assert_eq(cli_parse(g, 6, w), 0);
	cr_expect_eq(o.max_spans, 3);
	cr_expect_eq(o.hooks, CAPTURE_HOOKS_SYSCALLS);
	cr_expect_eq(o.ringbuf_kb, 128);
	cr_expect_eq(o.filter.npids, 1);
	cr_expect_eq(o.filter.pids[0], 12);
	cr_expect_eq(o.filter.status_min, 500);
}

Test(opts, help_lines_come_from_the_table)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	opts_print_help(f, groups);
	fclose(f);
	cr_expect_str_eq(text,
			 "  -v, --verbose        say more\n"
			 "  --port N             only this port\n"
			 "  -C MB                rotate at MB megabytes\n"
			 "  -o, --output FILE    where to write\n"
			 "                       second line\n"
			 "  --mode fast|slow|auto  how\n"
			 "  -p, --pid PID        only this process (repeatable)\n");
	free(text);
}

/* The JSON help of @g, printed with -j and read back. */
static json_t *json_help(const struct cli_help *help, const struct opt_group *g)
{
	char buf[8192];
	size_t n;
	json_t *j;

	json_output = true;
	cr_assert_eq(cli_print_help(help, g), EXIT_OK);
	fflush(stdout);
	n = fread(buf, 1, sizeof(buf) - 1, cr_get_redirected_stdout());
	buf[n] = '\0';
	j = json_loads(buf, 0, NULL);
	cr_assert_not_null(j, "not JSON: %s", buf);
	return j;
}

Test(opts, json_help_lists_every_option, .init = cr_redirect_stdout)
{
	static const struct cli_help help = { .usage = "ehttp thing [OPTIONS]\nehttp thing help",
					      .description = "Do a thing\nwell.\n" };
	json_t *j = json_help(&help, groups), *o;

	cr_expect_str_eq(json_string_value(json_array_get(json_object_get(j, "usage"), 1)),
			 "ehttp thing help");
	cr_expect_str_eq(json_string_value(json_object_get(j, "description")), "Do a thing well.");
	o = json_object_get(j, "options");
	cr_assert_eq(json_array_size(o), 6);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(o, 2), "short")), "-C");
	cr_expect(json_is_null(json_object_get(json_array_get(o, 2), "long")));
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(o, 3), "help")),
			 "where to write second line");
	cr_expect_eq(json_array_size(json_object_get(json_array_get(o, 4), "choices")), 3);
	cr_expect(json_is_null(json_object_get(json_array_get(o, 0), "value")));
	json_decref(j);
}

static const struct cli_help thing_help = { .usage = "ehttp thing [OPTIONS] [FILE]",
					    .description = "A thing.\n" };

Test(opts, command_args_leave_the_arguments, .init = quiet)
{
	char *w[] = { "thing", "--port", "5", "file", NULL }, **argv = w;
	int argc = 4;

	cr_assert_eq(cli_command_args(&thing_help, groups, 1, &argc, &argv), CLI_RUN);
	cr_expect_eq(argc, 1);
	cr_expect_str_eq(argv[0], "file");
	cr_expect_eq(c.port, 5);
}

Test(opts, command_args_refuse_one_argument_too_many, .init = errors)
{
	char *w[] = { "thing", "a", "b", NULL }, **argv = w;
	int argc = 3;

	cr_expect_eq(cli_command_args(&thing_help, groups, 1, &argc, &argv), EXIT_USAGE);
	stderr_is("Error: what is 'b'?\n");
}

Test(opts, command_help_takes_global_options_after_it, .init = quiet)
{
	char *w[] = { "thing", "help", "--json", NULL }, **argv = w;
	int argc = 3;

	cr_expect_eq(cli_command_args(&thing_help, groups, 1, &argc, &argv), EXIT_OK);
	cr_expect(json_output);
}

Test(opts, command_help_takes_nothing_else, .init = errors)
{
	char *w[] = { "thing", "help", "--port", "5", NULL }, **argv = w;
	int argc = 4;

	cr_expect_eq(cli_command_args(&thing_help, groups, 1, &argc, &argv), EXIT_USAGE);
	stderr_is("Error: what is '--port'?\n");
}

Test(opts, a_prefix_of_help_is_help_only_alone_and_where_allowed, .init = quiet)
{
	static const struct cli_help exact = { .usage = "ehttp thing FILE", .description = "",
					       .help_exact = true };
	char *w[] = { "thing", "he", NULL }, **argv = w;
	int argc = 2;

	cr_expect_eq(cli_command_args(&thing_help, groups, 1, &argc, &argv), EXIT_OK);
	argv = w;
	argc = 2;
	cr_expect_eq(cli_command_args(&exact, groups, 1, &argc, &argv), CLI_RUN);
	cr_expect_str_eq(argv[0], "he", "a file named he");
}

/* A value that may be left out: "--color" alone takes the implied word, "--color=WORD"
 * another, and the next word is never its value. */
static const char *const colors[] = { "auto", "always", "never", NULL };
static const struct opt color_table[] = {
	{ "color", 0, "auto|always|never", "colour the output",
	  OPT_CHOICE(struct cmd_opts, mode, colors), .implied = "always" },
	{ NULL },
};
static const struct opt_group color_groups[] = { { color_table, &c, NULL }, { NULL, NULL, NULL } };

Test(opts, a_value_that_may_be_left_out, .init = errors)
{
	char *bare[] = { "--color", "never", NULL }, *given[] = { "--color=never", NULL },
	     *empty[] = { "--color=", NULL };

	c.mode = -1;
	cr_assert_eq(cli_parse(color_groups, 2, bare), 1, "the next word is an argument");
	cr_expect_str_eq(bare[0], "never");
	cr_expect_eq(c.mode, 1, "left out: the implied word");
	cr_assert_eq(cli_parse(color_groups, 1, given), 0);
	cr_expect_eq(c.mode, 2);
	cr_expect_eq(cli_parse(color_groups, 1, empty), -1);
	stderr_is("Error: --color takes auto, always or never, not ''\n");
}

Test(opts, help_shows_a_value_that_may_be_left_out, .init = cr_redirect_stdout)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *j, *o;

	opts_print_help(f, color_groups);
	fclose(f);
	cr_expect_str_eq(text, "  --color[=auto|always|never]  colour the output\n");
	free(text);

	j = json_help(&thing_help, color_groups);
	o = json_array_get(json_object_get(j, "options"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(o, "implied")), "always");
	cr_expect_eq(json_array_size(json_object_get(o, "choices")), 3);
	json_decref(j);
}
