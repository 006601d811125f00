/* SPDX-License-Identifier: GPL-2.0-only */
/* `ehttp check`: gather kernel facts and probe results, and judge each capability. */
#ifndef EHTTP_CHECK_H
#define EHTTP_CHECK_H

#include <jansson.h>

#include "hook_users.h"
#include "kernel.h"

enum check_verdict_id {
	VERDICT_SYSCALL_CAPTURE,
	VERDICT_GO_UPROBES,
	VERDICT_PROPAGATION_MEMORY_WRITE,
	VERDICT_PROPAGATION_SOCKMSG,
	VERDICT__COUNT,
};

struct check_verdict {
	bool ok;
	char reason[320];
	char remedy[256];
};

struct check_syscall {
	struct probe_result enter, exit;
};

struct check_report {
	char release[128];
	bool version_ok;
	struct kernel_version version;
	char arch[64];
	bool btf;
	char btf_detail[256];
	struct kernel_privileges priv;
	bool may_trace;
	enum lockdown_mode lockdown;
	char lockdown_detail[256];
	struct kernel_fs_state fs[KFS__COUNT];
	bool probed; /* feature probes ran (they need privileges) */
	struct probe_result features[FEAT__COUNT];
	struct check_syscall syscalls[16];
	/* The propagation programs (sk_msg, sk_skb, sock_ops, socket tracepoints) loaded
	 * as --propagate=sockmsg loads them (when probed). */
	struct probe_result sockmsg;
	/* The capture attach runs, loaded and attached by attach's own code (when probed). */
	struct check_capture {
		bool tried;
		int err;             /* 0, or the negative errno of its load or attach */
		char error[256];     /* what failed, as attach says it */
		int hooks;           /* enum capture_hooks: what auto picked */
		char hooks_why[160]; /* why */
	} capture;
	/* The Go probes attach runs, loaded by the Go source's own code (when probed). */
	struct check_go {
		bool tried;
		int err;         /* 0, or the negative errno of its load */
		char error[256]; /* what failed, as attach says it */
	} go;
	/* The memory-write program of --propagate=memory, loaded by its own code. */
	struct check_go memwrite;
	struct check_verdict verdicts[VERDICT__COUNT];
	/* Other processes' programs on the capture's tracepoints (when probed). */
	bool hooks_known;
	int hooks_err; /* the negative errno when they could not be listed */
	struct hook_user hooks[16];
	size_t nhooks, hooks_total;
};

const char *check_verdict_name(enum check_verdict_id id);
/* Fill @r from the running kernel (paths injectable for tests). Mounts tracefs and
 * securityfs when they are missing and we are root. */
void check_gather(const struct kernel_paths *paths, struct check_report *r);
/* Verdicts from the facts alone (pure: unit tests drive it with made-up reports). */
void check_judge(struct check_report *r);
struct jsonw;
/* The report as one JSON object (the keys scripts read from ehttp -j check). */
void check_report_jsonw(struct jsonw *w, const struct check_report *r);
/* The same, read back as a jansson tree. */
json_t *check_report_json(const struct check_report *r);

#endif
