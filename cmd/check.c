// SPDX-License-Identifier: GPL-2.0-only
/* ehttp check: can this kernel do what ehttp needs? */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "main.h"

static const struct cli_help check_help = {
	.usage = "ehttp check\n"
		 "ehttp check help",
	.description =
		"Report the kernel, BTF, privileges, lockdown, pseudo-filesystems and BPF features\n"
		"ehttp relies on, each probed by loading or attaching a real program, and judge\n"
		"each capability. Exit status 0 when syscall capture can work here, 1 when not.\n",
};

static const char *yes_no(bool ok)
{
	return ok ? "yes" : "no";
}

static void print_text(const struct check_report *r)
{
	size_t i;

	printf("Kernel\n");
	printf("  release          %s (%s)\n", r->release, r->arch);
	if (r->version_ok)
		printf("  version          %u.%u.%u\n", r->version.major, r->version.minor,
		       r->version.patch);
	else
		printf("  version          unparseable\n");
	printf("  BTF              %s: %s\n", yes_no(r->btf), r->btf_detail);
	printf("  lockdown         %s (%s)\n", lockdown_name(r->lockdown), r->lockdown_detail);

	printf("\nPrivileges\n");
	printf("  euid             %u\n", (unsigned int)r->priv.euid);
	if (r->priv.caps_known)
		printf("  capabilities     CAP_SYS_ADMIN %s, CAP_BPF %s, CAP_PERFMON %s\n",
		       yes_no(r->priv.cap_sys_admin), yes_no(r->priv.cap_bpf),
		       yes_no(r->priv.cap_perfmon));
	else
		printf("  capabilities     unknown\n");

	printf("\nFilesystems\n");
	for (i = 0; i < KFS__COUNT; i++)
		printf("  %-16s %s%s%s\n", kernel_fs_name(i),
		       r->fs[i].mounted ? "mounted at " : "not mounted",
		       r->fs[i].mounted ? r->fs[i].path : "",
		       r->fs[i].mounted_by_ehttp ? " (mounted by ehttp)" : "");

	printf("\nBPF features%s\n", r->probed ? "" : " (not probed: needs root)");
	for (i = 0; i < FEAT__COUNT; i++)
		printf("  %-16s %s%s%s\n", kernel_feature_name(i), yes_no(r->features[i].ok),
		       r->features[i].reason[0] ? ": " : "", r->features[i].reason);
	printf("  syscall tracepoints (enter/exit, not needed by capture):\n");
	for (i = 0; i < capture_syscalls_count; i++) {
		const struct check_syscall *sc = &r->syscalls[i];

		printf("    %-14s %s/%s", capture_syscalls[i], yes_no(sc->enter.ok), yes_no(sc->exit.ok));
		if (r->probed && (!sc->enter.ok || !sc->exit.ok))
			printf(": %s", sc->enter.ok ? sc->exit.reason : sc->enter.reason);
		printf("\n");
	}

	if (r->probed) {
		printf("\nPrograms already on the capture's tracepoints (every traced call runs them too)\n");
		if (!r->hooks_known)
			printf("  unknown: %s\n", strerror(-r->hooks_err));
		else if (!r->hooks_total)
			printf("  none\n");
		for (i = 0; i < r->nhooks; i++) {
			const struct hook_user *u = &r->hooks[i];

			printf("  %-20s prog %u %s, ", u->tracepoint, u->prog_id, u->prog_name);
			if (u->pid > 0)
				printf("held by %s[%d]\n", u->comm, u->pid);
			else
				printf("held by no process (pinned)\n");
		}
		if (r->hooks_total > r->nhooks)
			printf("  ... and %zu more\n", r->hooks_total - r->nhooks);
	}

	printf("\nVerdicts\n");
	for (i = 0; i < VERDICT__COUNT; i++) {
		const struct check_verdict *v = &r->verdicts[i];

		printf("  %-26s %s: %s\n", check_verdict_name(i), v->ok ? "ok" : "NO", v->reason);
		if (!v->ok && v->remedy[0])
			printf("  %-26s remedy: %s\n", "", v->remedy);
	}
}

int do_check(int argc, char **argv)
{
	struct check_report report;
	int rc;

	rc = cli_command_args(&check_help, NULL, 0, &argc, &argv);
	if (rc != CLI_RUN)
		return rc;

	check_gather(&kernel_default_paths, &report);
	if (!report.may_trace)
		p_info("Note: running unprivileged; BPF feature probes need root and were skipped.");
	if (json_output) {
		check_report_jsonw(out_jsonw(), &report);
		if (out_jsonw_end())
			return EXIT_FAIL;
	} else {
		print_text(&report);
	}
	return report.verdicts[VERDICT_SYSCALL_CAPTURE].ok ? EXIT_OK : EXIT_FAIL;
}
