// SPDX-License-Identifier: GPL-2.0-only
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "capture.h"
#include "check.h"
#include "go_memwrite.h"
#include "go_source.h"
#include "jsonw.h"
#include "loader.h"
#include "output.h"
#include "propagate.h"

static const char *const verdict_names[VERDICT__COUNT] = {
	[VERDICT_SYSCALL_CAPTURE] = "syscall_capture",
	[VERDICT_GO_UPROBES] = "go_uprobes",
	[VERDICT_PROPAGATION_MEMORY_WRITE] = "propagation_memory_write",
	[VERDICT_PROPAGATION_SOCKMSG] = "propagation_sockmsg",
};

const char *check_verdict_name(enum check_verdict_id id)
{
	return id < VERDICT__COUNT ? verdict_names[id] : "?";
}

static void *probe_uprobe_thread(void *arg)
{
	(void)arg;
	kernel_probe(FEAT_UPROBE);
	return NULL;
}

/* What `ehttp attach` with no options would load, the capture then the Go probes, each
 * loaded by its own code. One after the other: each takes its errors as data through
 * p_err_divert(), which is one buffer for the process. */
static void *loads_try_thread(void *arg)
{
	struct check_report *r = arg;
	struct check_capture *cap = &r->capture;
	struct go_source_opts gopts = { 0 };
	struct capture_opts opts;

	capture_opts_init(&opts);
	cap->err = capture_try(&opts, &cap->hooks, cap->hooks_why, sizeof(cap->hooks_why),
			       cap->error, sizeof(cap->error));
	cap->tried = true;
	r->go.err = go_source_try(&gopts, r->go.error, sizeof(r->go.error));
	r->go.tried = true;
	r->memwrite.err = go_memwrite_try(r->memwrite.error, sizeof(r->memwrite.error));
	r->memwrite.tried = true;
	return NULL;
}

void check_gather(const struct kernel_paths *paths, struct check_report *r)
{
	pthread_t uprobe_thread, loads_thread;
	bool threaded = false, loads_threaded = false;
	struct kernel_fs_state sfs;
	struct utsname uts;
	size_t i;
	int fs;

	memset(r, 0, sizeof(*r));
	kernel_read_privileges(paths, &r->priv);
	r->may_trace = kernel_may_trace(&r->priv);
	r->probed = r->may_trace;
	/* tracefs first, as attach has it mounted before it loads: the capture's load
	 * looks for its tracepoints there. */
	if (r->priv.euid == 0)
		kernel_fs_ensure(paths, KFS_TRACEFS, &r->fs[KFS_TRACEFS]);
	/* Loading the capture and the Go probes (the verifier going through them) is most
	 * of what check costs: it runs beside everything else, from the start. */
	if (r->probed) {
		loader_setup_libbpf();
		loads_threaded = pthread_create(&loads_thread, NULL, loads_try_thread, r) == 0;
		if (!loads_threaded)
			loads_try_thread(r);
	}
	if (r->probed) {
		int n = hook_users_find(r->hooks, sizeof(r->hooks) / sizeof(r->hooks[0]), getpid(),
					&r->hooks_total);

		r->hooks_known = n >= 0;
		r->hooks_err = n < 0 ? n : 0;
		r->nhooks = n > 0 ? (size_t)n : 0;
	}
	/* Registering a uprobe waits for an RCU grace period (tens of ms): run that probe
	 * while the rest is gathered. Each probe owns its own cached result. */
	if (r->probed)
		threaded = pthread_create(&uprobe_thread, NULL, probe_uprobe_thread, NULL) == 0;

	if (uname(&uts) == 0) {
		snprintf(r->release, sizeof(r->release), "%s", uts.release);
		snprintf(r->arch, sizeof(r->arch), "%s", uts.machine);
	}
	r->version_ok = kernel_parse_release(r->release, &r->version) == 0;
	r->btf = kernel_btf_usable(paths, r->btf_detail, sizeof(r->btf_detail));
	r->lockdown = kernel_read_lockdown(paths, &sfs, r->lockdown_detail,
					   sizeof(r->lockdown_detail));

	for (fs = 0; fs < KFS__COUNT; fs++) {
		if (fs == KFS_TRACEFS && r->priv.euid == 0)
			continue; /* mounted above */
		else if (fs == KFS_SECURITYFS)
			r->fs[fs] = sfs;
		else
			kernel_fs_query(paths, fs, &r->fs[fs]);
	}

	for (i = 0; i < capture_syscalls_count; i++) {
		struct check_syscall *sc = &r->syscalls[i];

		if (r->probed) {
			sc->enter = *kernel_probe_syscall(capture_syscalls[i], false);
			sc->exit = *kernel_probe_syscall(capture_syscalls[i], true);
		} else {
			snprintf(sc->enter.reason, sizeof(sc->enter.reason), "not probed: needs root");
			sc->exit = sc->enter;
		}
	}
	if (threaded)
		pthread_join(uprobe_thread, NULL);
	for (i = 0; i < FEAT__COUNT; i++) {
		if (r->probed)
			r->features[i] = *kernel_probe(i);
		else
			snprintf(r->features[i].reason, sizeof(r->features[i].reason),
				 "not probed: needs root (or CAP_BPF and CAP_PERFMON)");
	}
	if (loads_threaded)
		pthread_join(loads_thread, NULL);
	kernel_probe_release();
	if (r->probed)
		propagate_probe(&r->sockmsg);
	else
		snprintf(r->sockmsg.reason, sizeof(r->sockmsg.reason), "not probed: needs root");
	check_judge(r);
}

static void verdict(struct check_verdict *v, bool ok, const char *reason, const char *remedy)
{
	v->ok = ok;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
	snprintf(v->remedy, sizeof(v->remedy), "%s", ok ? "" : remedy);
}

/* Reasons common to every capability; returns true when one applied. */
static bool common_blockers(const struct check_report *r, struct check_verdict *v)
{
	char why[320];

	if (!r->may_trace) {
		verdict(v, false, "not privileged: loading tracing programs needs root, or CAP_BPF and CAP_PERFMON",
			"run ehttp as root (sudo)");
		return true;
	}
	if (!r->features[FEAT_RINGBUF].ok) {
		snprintf(why, sizeof(why), "no BPF ring buffer: %s", r->features[FEAT_RINGBUF].reason);
		verdict(v, false, why, "use a kernel >= 5.8");
		return true;
	}
	if (!r->btf) {
		snprintf(why, sizeof(why), "no kernel BTF: %s", r->btf_detail);
		verdict(v, false, why, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return true;
	}
	return false;
}

/* Judged by loading the programs as --propagate=sockmsg does (propagate_probe()). */
static void judge_sockmsg(const struct check_report *r, struct check_verdict *v)
{
	char why[320];

	if (common_blockers(r, v))
		return;
	if (r->sockmsg.ok) {
		verdict(v, true, "the sk_msg (bpf_msg_push_data), sk_skb, sock_ops and socket tracepoint programs load", "");
		return;
	}
	snprintf(why, sizeof(why), "the propagation programs do not load: %s", r->sockmsg.reason);
	verdict(v, false, why,
		"use Linux >= 6.3 (socket tracepoints) with CONFIG_BPF_STREAM_PARSER=y, as root (CAP_NET_ADMIN)");
}

void check_judge(struct check_report *r)
{
	struct check_verdict *v;
	char why[320];

	/* syscall_capture */
	v = &r->verdicts[VERDICT_SYSCALL_CAPTURE];
	if (!common_blockers(r, v)) {
		/* Judged by attach's own programs loaded by its own code (capture_try), on
		 * the socket hooks where the kernel has them, else raw_syscalls:sys_exit
		 * (docs/capture.md); that they attach there, by the probe of those
		 * tracepoints (socket_tracepoints, raw_syscalls). */
		const struct check_capture *cap = &r->capture;
		const bool sockets = cap->hooks == CAPTURE_HOOKS_SOCKETS;
		const char *hooks = sockets ? "socket hooks" : "syscall hooks";
		const struct probe_result *attach =
			&r->features[sockets ? FEAT_SOCKET_TRACEPOINTS : FEAT_RAW_SYSCALLS];
		const char *remedy = sockets ? "run `ehttp attach --hooks syscalls`"
					     : "use a kernel >= 5.10 with CONFIG_FTRACE_SYSCALLS=y (raw_syscalls tracepoints)";

		if (!cap->tried) {
			verdict(v, false, "the capture's programs were not loaded", "run ehttp as root (sudo)");
		} else if (cap->err) {
			snprintf(why, sizeof(why), "%s (%s: %s)", cap->error, hooks, cap->hooks_why);
			verdict(v, false, why,
				"run `ehttp -d attach` for the verifier's log, and report it with `uname -r`");
		} else if (!attach->ok) {
			snprintf(why, sizeof(why), "attach's programs load, but do not attach: %s (%s: %s)",
				 attach->reason, hooks, cap->hooks_why);
			verdict(v, false, why, remedy);
		} else {
			snprintf(why, sizeof(why), "attach's programs load here, and attach to their tracepoints (%s: %s)",
				 hooks, cap->hooks_why);
			verdict(v, true, why, "");
		}
	}

	/* go_uprobes: attach's Go probes loaded by the Go source's code (go_source_try);
	 * that uprobes attach, by the uprobe probe (the probes' targets are per binary). */
	v = &r->verdicts[VERDICT_GO_UPROBES];
	if (!common_blockers(r, v)) {
		if (!r->go.tried) {
			verdict(v, false, "the Go probes' programs were not loaded", "run ehttp as root (sudo)");
		} else if (r->go.err) {
			snprintf(why, sizeof(why), "the Go probes do not load: %s", r->go.error);
			verdict(v, false, why,
				"run `ehttp -d attach` for the verifier's log, and report it with `uname -r`; "
				"meanwhile the socket hooks still see Go programs' HTTP/1 traffic");
		} else if (!r->features[FEAT_UPROBE].ok) {
			snprintf(why, sizeof(why), "attach's Go probes load, but uprobes do not attach: %s",
				 r->features[FEAT_UPROBE].reason);
			verdict(v, false, why, "use a kernel with CONFIG_UPROBE_EVENTS=y");
		} else {
			verdict(v, true, "attach's Go probes load here, and uprobes attach (return "
				"probes are placed on RET instructions)", "");
		}
	}

	/* propagation_memory_write: --propagate=memory's program loaded by its own code
	 * (go_memwrite_try), on top of the Go probes it shares maps with. */
	v = &r->verdicts[VERDICT_PROPAGATION_MEMORY_WRITE];
	if (!r->verdicts[VERDICT_GO_UPROBES].ok) {
		snprintf(why, sizeof(why), "needs go_uprobes: %s", r->verdicts[VERDICT_GO_UPROBES].reason);
		verdict(v, false, why, r->verdicts[VERDICT_GO_UPROBES].remedy);
	} else if (!r->memwrite.tried) {
		verdict(v, false, "the memory-write program was not loaded", "run ehttp as root (sudo)");
	} else if (!r->memwrite.err) {
		verdict(v, true, "--propagate=memory's program (bpf_probe_write_user at "
			"net/http.Header.writeSubset) loads here", "");
	} else if (r->lockdown == LOCKDOWN_INTEGRITY || r->lockdown == LOCKDOWN_CONFIDENTIALITY) {
		/* with the verifier's own words, from the probe of the helper */
		snprintf(why, sizeof(why), "--propagate=memory's program does not load: %s (%s)",
			 r->memwrite.error, r->features[FEAT_PROBE_WRITE_USER].reason);
		verdict(v, false, why, "use --propagate=sockmsg (works under lockdown), or boot without "
			"lockdown (it is on with Secure Boot)");
	} else {
		snprintf(why, sizeof(why), "--propagate=memory's program does not load: %s", r->memwrite.error);
		verdict(v, false, why, "use --propagate=sockmsg; run `ehttp -d attach --propagate=memory -p PID` "
			"for the verifier's log");
	}

	judge_sockmsg(r, &r->verdicts[VERDICT_PROPAGATION_SOCKMSG]);
}

void check_report_jsonw(struct jsonw *w, const struct check_report *r)
{
	char name[64];
	size_t i;

	jsonw_start_object(w);
	jsonw_name(w, "kernel");
	jsonw_start_object(w);
	jsonw_string_field(w, "release", r->release);
	jsonw_name(w, "version");
	if (r->version_ok) {
		char ver[48];

		snprintf(ver, sizeof(ver), "%u.%u.%u", r->version.major, r->version.minor,
			 r->version.patch);
		jsonw_string(w, ver);
	} else {
		jsonw_null(w);
	}
	jsonw_string_field(w, "arch", r->arch);
	jsonw_end_object(w);
	jsonw_bool_field(w, "btf", r->btf);
	jsonw_string_field(w, "btf_detail", r->btf_detail);
	jsonw_string_field(w, "lockdown", lockdown_name(r->lockdown));
	jsonw_string_field(w, "lockdown_detail", r->lockdown_detail);
	jsonw_name(w, "privileges");
	jsonw_start_object(w);
	jsonw_int_field(w, "euid", (int)r->priv.euid);
	jsonw_bool_field(w, "caps_known", r->priv.caps_known);
	jsonw_bool_field(w, "cap_sys_admin", r->priv.cap_sys_admin);
	jsonw_bool_field(w, "cap_bpf", r->priv.cap_bpf);
	jsonw_bool_field(w, "cap_perfmon", r->priv.cap_perfmon);
	jsonw_bool_field(w, "may_trace", r->may_trace);
	jsonw_end_object(w);

	jsonw_name(w, "filesystems");
	jsonw_start_object(w);
	for (i = 0; i < KFS__COUNT; i++) {
		jsonw_name(w, kernel_fs_name(i));
		jsonw_start_object(w);
		jsonw_bool_field(w, "mounted", r->fs[i].mounted);
		jsonw_string_field(w, "path", r->fs[i].path);
		jsonw_bool_field(w, "mounted_by_ehttp", r->fs[i].mounted_by_ehttp);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);

	jsonw_name(w, "features");
	jsonw_start_object(w);
	for (i = 0; i < FEAT__COUNT; i++)
		jsonw_bool_field(w, kernel_feature_name(i), r->features[i].ok);
	for (i = 0; i < capture_syscalls_count; i++) {
		snprintf(name, sizeof(name), "syscall_%s", capture_syscalls[i]);
		jsonw_bool_field(w, name, r->syscalls[i].enter.ok && r->syscalls[i].exit.ok);
	}
	jsonw_end_object(w);
	jsonw_name(w, "feature_details");
	jsonw_start_object(w);
	for (i = 0; i < FEAT__COUNT; i++)
		jsonw_string_field(w, kernel_feature_name(i), r->features[i].reason);
	for (i = 0; i < capture_syscalls_count; i++) {
		const struct check_syscall *sc = &r->syscalls[i];

		if (sc->enter.ok && sc->exit.ok)
			continue;
		snprintf(name, sizeof(name), "syscall_%s", capture_syscalls[i]);
		jsonw_string_field(w, name, sc->enter.ok ? sc->exit.reason : sc->enter.reason);
	}
	jsonw_end_object(w);
	jsonw_name(w, "syscall_tracepoints");
	jsonw_start_object(w);
	for (i = 0; i < capture_syscalls_count; i++) {
		jsonw_name(w, capture_syscalls[i]);
		jsonw_start_object(w);
		jsonw_bool_field(w, "enter", r->syscalls[i].enter.ok);
		jsonw_bool_field(w, "exit", r->syscalls[i].exit.ok);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);

	jsonw_name(w, "verdicts");
	jsonw_start_object(w);
	for (i = 0; i < VERDICT__COUNT; i++) {
		jsonw_name(w, check_verdict_name(i));
		jsonw_start_object(w);
		jsonw_bool_field(w, "ok", r->verdicts[i].ok);
		jsonw_string_field(w, "reason", r->verdicts[i].reason);
		jsonw_string_field(w, "remedy", r->verdicts[i].remedy);
		jsonw_end_object(w);
	}
	jsonw_end_object(w);
	if (r->hooks_known) {
		jsonw_name(w, "hooks_in_use");
		jsonw_start_array(w);
		for (i = 0; i < r->nhooks; i++) {
			const struct hook_user *u = &r->hooks[i];

			jsonw_start_object(w);
			jsonw_string_field(w, "tracepoint", u->tracepoint);
			jsonw_int_field(w, "pid", u->pid);
			jsonw_string_field(w, "comm", u->comm);
			jsonw_uint_field(w, "prog_id", u->prog_id);
			jsonw_uint_field(w, "link_id", u->link_id);
			jsonw_string_field(w, "prog_name", u->prog_name);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
	}
	jsonw_end_object(w);
}

static void report_write(struct jsonw *w, const void *r)
{
	check_report_jsonw(w, r);
}

json_t *check_report_json(const struct check_report *r)
{
	return jsonw_read_back(report_write, r);
}
