/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one BPF loader every command uses: prepare the host (privileges, tracefs,
 * RLIMIT_MEMLOCK, libbpf log), then open → configure rodata (caller) → load with
 * optional programs gated by real probes → attach → poll → detach.
 */
#ifndef EHTTP_LOADER_H
#define EHTTP_LOADER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "kernel.h"

/* Route libbpf's log to stderr with -d, silence it otherwise (errors are ours to say). */
void loader_setup_libbpf(void);

#define LOADER_MAX_LINKS 256
#define LOADER_MAX_SKIPPED 64

/* A program the capture can live without, and what it needs from the kernel. */
struct loader_optional {
	const char *prog;         /* program name in the object */
	int feature;              /* enum kernel_feature it needs, or -1 */
};

struct loader_skip {
	char prog[64];
	char reason[256];
};

struct loader {
	struct bpf_object *obj;
	struct bpf_link *links[LOADER_MAX_LINKS];
	size_t nlinks;
	struct loader_skip skipped[LOADER_MAX_SKIPPED];
	size_t nskipped;
};

/*
 * Load @obj (opened and configured by the caller). Every program whose section is a
 * tracepoint that does not exist here, and every @optional program whose feature
 * probe fails, is not loaded; the reason is recorded in @l->skipped. A missing
 * tracepoint of a program not listed in @optional fails the load.
 */
int loader_load(struct loader *l, struct bpf_object *obj, const struct loader_optional *optional);
/* Attach every loaded program that libbpf can attach from its section (tracepoints). */
int loader_attach_all(struct loader *l, const struct loader_optional *optional);
/* Keep a link the caller made (uprobes with runtime targets) so cleanup detaches it. */
int loader_keep_link(struct loader *l, struct bpf_link *link);
/* Report skipped programs (debug line each; one warning summarising them). */
void loader_report_skips(const struct loader *l);
/* Detach everything; the caller destroys its skeleton afterwards. */
void loader_detach(struct loader *l);

#endif
