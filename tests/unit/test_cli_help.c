// SPDX-License-Identifier: GPL-2.0-only
/*
 * "ehttp COMMAND help" works whatever the command needs: unprivileged, and without
 * the side effects of satisfying its needs (bash completion runs it on every Tab).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <unistd.h>

#include "cli.h"

static const char *ran;

static int run_traced(int argc, char **argv) { ran = "traced"; return EXIT_OK; }
static int run_help(int argc, char **argv) { ran = "help"; return EXIT_OK; }

static const struct cli_cmd table[] = {
	{ "traced", run_traced, NEED_ROOT | NEED_TRACEFS | NEED_BPF, "needs everything" },
	{ "help", run_help, 0, "help" },
	{ NULL },
};

/* Each Criterion test runs in its own process: dropping privileges here is contained. */
static void unprivileged(void)
{
	cr_redirect_stderr();
	if (geteuid() == 0)
		cr_assert(setresgid(65534, 65534, 65534) == 0 && setresuid(65534, 65534, 65534) == 0,
			  "cannot drop to nobody");
}

static int dispatch(int argc, const char *a0, const char *a1)
{
	char *argv[] = { (char *)a0, (char *)a1, NULL };

	ran = NULL;
	return cli_dispatch(table, argc, argv, run_help);
}

Test(cli_help, command_help_needs_nothing, .init = unprivileged)
{
	cr_expect_eq(dispatch(2, "traced", "help"), EXIT_OK);
	cr_expect_str_eq(ran, "traced", "the handler prints its help");
}

Test(cli_help, the_command_itself_still_needs_root, .init = unprivileged)
{
	cr_expect_eq(dispatch(1, "traced", NULL), EXIT_FAIL);
	cr_expect_null(ran, "the handler must not run unprivileged");
	cr_expect_eq(dispatch(2, "traced", "--help-me"), EXIT_FAIL, "only the exact word 'help'");
	cr_expect_null(ran);
}
