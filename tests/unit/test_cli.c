// SPDX-License-Identifier: GPL-2.0-only
/* The command dispatcher: exact names, unique prefixes, ambiguity, unknown commands. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "cli.h"

static const char *ran;

static int run_check(int argc, char **argv) { ran = "check"; return argc; }
static int run_chase(int argc, char **argv) { ran = "chase"; return 0; }
static int run_offsets(int argc, char **argv) { ran = "offsets"; return 0; }
static int run_help(int argc, char **argv) { ran = "help"; return 0; }

static const struct cli_cmd table[] = {
	{ "check", run_check, 0, "check" },
	{ "chase", run_chase, 0, "chase" },
	{ "offsets", run_offsets, 0, "offsets" },
	{ "help", run_help, 0, "help" },
	{ NULL },
};

static int dispatch(const char *word)
{
	char *argv[] = { (char *)word, (char *)"extra", NULL };

	ran = NULL;
	return cli_dispatch(table, word ? 2 : 0, argv, run_help);
}

static void quiet(void)
{
	cr_redirect_stderr();
	cr_redirect_stdout();
}

Test(cli, exact_name, .init = quiet)
{
	cr_expect_eq(dispatch("check"), 2, "handler sees its own name and the extra argument");
	cr_expect_str_eq(ran, "check");
}

Test(cli, unique_prefix, .init = quiet)
{
	dispatch("o");
	cr_expect_str_eq(ran, "offsets");
	dispatch("che");
	cr_expect_str_eq(ran, "check");
	dispatch("cha");
	cr_expect_str_eq(ran, "chase");
}

Test(cli, ambiguous_prefix_names_candidates, .init = cr_redirect_stderr)
{
	cr_expect_eq(dispatch("ch"), EXIT_USAGE);
	cr_expect_null(ran);
	fflush(stderr);
	cr_expect_stderr_eq_str("Error: command 'ch' is ambiguous: check, chase\n");
}

Test(cli, unknown_command, .init = cr_redirect_stderr)
{
	cr_expect_eq(dispatch("frobnicate"), EXIT_USAGE);
	cr_expect_null(ran);
	fflush(stderr);
	cr_expect_stderr_eq_str("Error: unknown command 'frobnicate' (try 'help')\n");
}

Test(cli, empty_word_is_not_a_prefix, .init = quiet)
{
	cr_expect_eq(dispatch(""), EXIT_USAGE);
	cr_expect_null(ran);
}

Test(cli, no_command_runs_help, .init = quiet)
{
	cr_expect_eq(dispatch(NULL), 0);
	cr_expect_str_eq(ran, "help");
}

Test(cli, json_errors, .init = cr_redirect_stdout)
{
	json_output = true;
	cr_expect_eq(dispatch("nope"), EXIT_USAGE);
	json_output = false;
	fflush(stdout);
	cr_expect_stdout_eq_str("{\"error\":\"unknown command 'nope' (try 'help')\"}\n");
}

Test(cli, arg_uint, .init = quiet)
{
	unsigned long v = 0;

	cr_expect(arg_uint("-c", "10", 1, 100, &v));
	cr_expect_eq(v, 10);
	cr_expect_not(arg_uint("-c", "0", 1, 100, &v));
	cr_expect_not(arg_uint("-c", "101", 1, 100, &v));
	cr_expect_not(arg_uint("-c", "-1", 0, 100, &v));
	cr_expect_not(arg_uint("-c", "1x", 0, 100, &v));
	cr_expect_not(arg_uint("-c", "", 0, 100, &v));
	cr_expect_not(arg_uint("-c", NULL, 0, 100, &v));
}

Test(cli, is_prefix)
{
	cr_expect(is_prefix("he", "help"));
	cr_expect(is_prefix("help", "help"));
	cr_expect_not(is_prefix("helps", "help"));
	cr_expect_not(is_prefix("", "help"));
}
