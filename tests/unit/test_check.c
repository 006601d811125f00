// SPDX-License-Identifier: GPL-2.0-only
/* Verdicts follow from facts: each capability's blocker is named with its remedy. */
#include <criterion/criterion.h>
#include <string.h>

#include "capture.h"
#include "check.h"

/* A host where everything works, then each test breaks one thing. */
static void healthy(struct check_report *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->btf = true;
	r->may_trace = true;
	r->probed = true;
	r->lockdown = LOCKDOWN_NONE;
	r->fs[KFS_TRACEFS].mounted = true;
	for (i = 0; i < FEAT__COUNT; i++)
		r->features[i].ok = true;
	for (i = 0; i < capture_syscalls_count; i++)
		r->syscalls[i].enter.ok = r->syscalls[i].exit.ok = true;
	r->sockmsg.ok = true;
	r->capture.tried = true;
	r->go.tried = true;
	r->memwrite.tried = true;
	r->capture.hooks = CAPTURE_HOOKS_SOCKETS;
	strcpy(r->capture.hooks_why, "sock_send_length, sock_recv_length and inet_sock_set_state are in this kernel");
}

/* propagation_sockmsg is judged by the real load's result, and quotes it when refused. */
Test(check, sockmsg_verdict_follows_the_load)
{
	struct check_report r;

	healthy(&r);
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].ok);
	cr_expect_str_empty(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].remedy);

	healthy(&r);
	r.sockmsg.ok = false;
	snprintf(r.sockmsg.reason, sizeof(r.sockmsg.reason), "loading: Invalid argument");
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].ok);
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].reason, "Invalid argument") != NULL);
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].remedy, "6.3") != NULL);
	/* Capture and the other verdicts do not depend on it. */
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
}

Test(check, healthy_host_all_ok)
{
	struct check_report r;

	healthy(&r);
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(r.verdicts[VERDICT_GO_UPROBES].ok);
	cr_expect(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok);
	cr_expect_str_empty(r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy);
}

Test(check, integrity_lockdown_blocks_only_memory_write)
{
	struct check_report r;

	healthy(&r);
	r.lockdown = LOCKDOWN_INTEGRITY;
	r.features[FEAT_PROBE_WRITE_USER].ok = false;
	strcpy(r.features[FEAT_PROBE_WRITE_USER].reason, "program of this type cannot use helper");
	/* what the memory-write program's own load said */
	r.memwrite.err = -22;
	strcpy(r.memwrite.error, "kernel lockdown is integrity, so the verifier refuses bpf_probe_write_user");
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(r.verdicts[VERDICT_GO_UPROBES].ok);
	cr_expect(r.verdicts[VERDICT_PROPAGATION_SOCKMSG].ok);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].reason, "integrity"));
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].reason, "cannot use helper"),
		  "quotes the verifier");
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].remedy, "--propagate=sockmsg"));
}

/* The verdict is the memory-write program's load: a refusal without lockdown too. */
Test(check, memory_write_follows_its_load)
{
	struct check_report r;

	healthy(&r);
	r.memwrite.err = -22;
	strcpy(r.memwrite.error, "the kernel refuses the memory-write program: Invalid argument");
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].reason, "Invalid argument"));
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].remedy, "--propagate=sockmsg"));
	healthy(&r);
	r.memwrite.tried = false;
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok, "not loaded: not ok");
}

Test(check, unprivileged_blocks_everything)
{
	struct check_report r;
	int i;

	healthy(&r);
	r.may_trace = false;
	check_judge(&r);
	for (i = 0; i < VERDICT__COUNT; i++) {
		cr_expect_not(r.verdicts[i].ok, "%s", check_verdict_name(i));
		cr_expect(strstr(r.verdicts[i].remedy, "root") != NULL, "%s remedy: %s",
			  check_verdict_name(i), r.verdicts[i].remedy);
	}
}

/* The verdict is what loading attach's own programs gave, naming the hooks and why. */
Test(check, capture_names_the_hooks_it_will_use)
{
	struct check_report r;

	healthy(&r);
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].reason,
			 "(socket hooks: sock_send_length, sock_recv_length and inet_sock_set_state are in this kernel)") != NULL,
		  "reason: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].reason);

	healthy(&r);
	r.features[FEAT_SOCKET_TRACEPOINTS].ok = false;
	r.capture.hooks = CAPTURE_HOOKS_SYSCALLS;
	strcpy(r.capture.hooks_why, "sock_send_length not in this kernel (Linux >= 6.3)");
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].reason,
			 "(syscall hooks: sock_send_length not in this kernel (Linux >= 6.3))") != NULL,
		  "reason: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].reason);
}

/* Every probe may say yes while the verifier refuses the capture itself (5.10 and 6.1
 * did): the capture's own load decides. */
Test(check, capture_refused_by_the_verifier_fails_whatever_the_probes_say)
{
	struct check_report r;

	healthy(&r);
	r.capture.hooks = CAPTURE_HOOKS_SYSCALLS;
	strcpy(r.capture.hooks_why, "sock_send_length not in this kernel (Linux >= 6.3)");
	r.capture.err = -13;
	strcpy(r.capture.error, "loading BPF programs failed: Permission denied");
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].reason,
			 "loading BPF programs failed: Permission denied (syscall hooks: ") != NULL,
		  "reason: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].reason);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy, "ehttp -d attach") != NULL,
		  "remedy: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy);
	cr_expect(r.verdicts[VERDICT_GO_UPROBES].ok, "uprobes do not need the capture");
}

Test(check, unusable_raw_syscalls_block_capture_with_reason)
{
	struct check_report r;

	healthy(&r);
	r.features[FEAT_SOCKET_TRACEPOINTS].ok = false; /* before Linux 6.3 */
	r.features[FEAT_RAW_SYSCALLS].ok = false;
	strcpy(r.features[FEAT_RAW_SYSCALLS].reason, "attach to raw_syscalls/sys_exit: No such file or directory");
	r.capture.hooks = CAPTURE_HOOKS_SYSCALLS; /* it loads, but cannot attach */
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].reason, "raw_syscalls/sys_exit") != NULL,
		  "reason: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].reason);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy, "CONFIG_FTRACE_SYSCALLS") != NULL,
		  "remedy: %s", r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy);
	cr_expect(r.verdicts[VERDICT_GO_UPROBES].ok, "uprobes do not need syscall tracepoints");
}

/* Capture sees syscalls through socket or raw_syscalls tracepoints: their own
 * tracepoints are only reported. */
Test(check, per_syscall_tracepoints_are_not_needed)
{
	struct check_report r;

	healthy(&r);
	r.syscalls[5].exit.ok = false;
	r.fs[KFS_TRACEFS].mounted = false;
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok, "reason: %s",
		  r.verdicts[VERDICT_SYSCALL_CAPTURE].reason);
}

Test(check, no_btf_or_ringbuf)
{
	struct check_report r;

	healthy(&r);
	r.btf = false;
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy, "BTF") != NULL);

	healthy(&r);
	r.features[FEAT_RINGBUF].ok = false;
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_SYSCALL_CAPTURE].remedy, "5.8") != NULL);
}

Test(check, no_uprobes_blocks_go_and_propagation)
{
	struct check_report r;

	healthy(&r);
	r.features[FEAT_UPROBE].ok = false;
	check_judge(&r);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok);
	cr_expect_not(r.verdicts[VERDICT_GO_UPROBES].ok);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok);
}

/* go_uprobes is what loading attach's Go probes gave: a refused load fails it (and the
 * memory write, which needs it) whatever the uprobe probe says, quoting the error. */
Test(check, go_verdict_follows_the_load)
{
	struct check_report r;

	healthy(&r);
	check_judge(&r);
	cr_expect(strstr(r.verdicts[VERDICT_GO_UPROBES].reason, "Go probes load") != NULL,
		  "reason: %s", r.verdicts[VERDICT_GO_UPROBES].reason);

	healthy(&r);
	r.go.err = -7;
	strcpy(r.go.error, "loading BPF programs failed: Argument list too long");
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_GO_UPROBES].ok);
	cr_expect(strstr(r.verdicts[VERDICT_GO_UPROBES].reason,
			 "the Go probes do not load: loading BPF programs failed: Argument list too long") != NULL,
		  "reason: %s", r.verdicts[VERDICT_GO_UPROBES].reason);
	cr_expect(strstr(r.verdicts[VERDICT_GO_UPROBES].remedy, "ehttp -d attach") != NULL,
		  "remedy: %s", r.verdicts[VERDICT_GO_UPROBES].remedy);
	cr_expect_not(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].ok);
	cr_expect(strstr(r.verdicts[VERDICT_PROPAGATION_MEMORY_WRITE].reason, "needs go_uprobes") != NULL);
	cr_expect(r.verdicts[VERDICT_SYSCALL_CAPTURE].ok, "the capture does not need the Go probes");

	healthy(&r);
	r.go.tried = false;
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_GO_UPROBES].ok);

	/* It loads, but uprobes do not attach. */
	healthy(&r);
	r.features[FEAT_UPROBE].ok = false;
	strcpy(r.features[FEAT_UPROBE].reason, "perf_event_open: No such file or directory");
	check_judge(&r);
	cr_expect_not(r.verdicts[VERDICT_GO_UPROBES].ok);
	cr_expect(strstr(r.verdicts[VERDICT_GO_UPROBES].reason, "perf_event_open") != NULL);
	cr_expect(strstr(r.verdicts[VERDICT_GO_UPROBES].remedy, "CONFIG_UPROBE_EVENTS") != NULL);
}

Test(check, json_contract_keys)
{
	struct check_report r;
	json_t *j, *v;

	healthy(&r);
	strcpy(r.release, "6.18.44-fc-v782");
	r.version_ok = true;
	r.version = (struct kernel_version){ 6, 18, 44 };
	strcpy(r.arch, "x86_64");
	r.lockdown = LOCKDOWN_INTEGRITY;
	check_judge(&r);
	j = check_report_json(&r);
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "kernel"), "version")), "6.18.44");
	cr_expect_str_eq(json_string_value(json_object_get(j, "lockdown")), "integrity");
	cr_expect(json_is_true(json_object_get(j, "btf")));
	cr_expect(json_is_object(json_object_get(j, "privileges")));
	v = json_object_get(j, "features");
	cr_expect(json_is_boolean(json_object_get(v, "probe_write_user")));
	cr_expect(json_is_boolean(json_object_get(v, "ringbuf")));
	cr_expect(json_is_boolean(json_object_get(v, "tracepoint")));
	cr_expect(json_is_boolean(json_object_get(v, "uprobe")));
	cr_expect(json_is_boolean(json_object_get(v, "raw_syscalls")));
	cr_expect(json_is_boolean(json_object_get(v, "syscall_read")));
	cr_expect(json_is_object(json_object_get(json_object_get(j, "syscall_tracepoints"), "read")));
	cr_expect(json_is_boolean(json_object_get(json_object_get(json_object_get(j, "verdicts"),
								    "syscall_capture"), "ok")));
	v = json_object_get(json_object_get(j, "verdicts"), "propagation_memory_write");
	cr_expect(json_is_boolean(json_object_get(v, "ok")));
	cr_expect(json_is_string(json_object_get(v, "reason")));
	cr_expect(json_is_string(json_object_get(v, "remedy")));
	json_decref(j);
}
