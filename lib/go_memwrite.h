/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --propagate=memory: a traceparent written into a Go program's own request buffer
 * (bpf/go_memwrite.bpf.c, bpf_probe_write_user at net/http.Header.writeSubset), with
 * the ids of the client span the Go source makes of that request. Driven by the Go
 * source: it loads this beside its own object, sharing the maps that name each
 * outgoing request, and hands it each binary it traces and each selected process.
 *
 * The kernel must allow bpf_probe_write_user: not under lockdown (integrity or
 * confidentiality), where its verifier refuses the program.
 */
#ifndef EHTTP_GO_MEMWRITE_H
#define EHTTP_GO_MEMWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

struct go_memwrite;
struct goelf;
struct goelf_funcs;
struct goelf_field_offset;

/* How the Go source is to write: not at all, or for every process it traces (which
 * are then the ones --propagate was given): as --propagate=memory asks (a kernel that
 * refuses is an error), or as --propagate=auto does (it was loaded once already). */
enum go_memwrite_mode { GO_MEMWRITE_OFF = 0, GO_MEMWRITE_REQUIRED = 1, GO_MEMWRITE_AUTO = 2 };

/*
 * Load the object, sharing the Go source's client_reqs, client_hdrs and go_procs (their fds).
 * @exclude_fd, when >= 0, is a map (pid → u8) of processes another propagation method
 * is to leave alone: each process given memory writes goes into it. 0 or a negative
 * errno, with why in @why (the lockdown, the verifier's error).
 */
int go_memwrite_open(struct go_memwrite **out, int client_reqs_fd, int client_hdrs_fd,
		     int go_procs_fd, int exclude_fd, char *why, size_t why_len);
/* Load the same programs with maps of their own, and free them: what check and
 * --propagate=auto decide by. 0 or a negative errno, why in @why. */
int go_memwrite_try(char *why, size_t why_len);

/* A Go binary the Go source traces (key @bin of its go_bins), read as @g: attach the
 * probe at writeSubset, find its *bufio.Writer itab and layout. A binary where either
 * is not found gets no writes; its processes' spans say why. */
void go_memwrite_add_bin(struct go_memwrite *m, uint32_t bin, struct goelf *g,
			 const struct goelf_funcs *fs, const struct goelf_field_offset *offs,
			 const char *path);
/* A selected process running binary @bin: its outgoing requests get a traceparent. */
void go_memwrite_add_proc(struct go_memwrite *m, uint32_t pid, uint32_t bin, const char *comm);
void go_memwrite_remove_proc(struct go_memwrite *m, uint32_t pid);
/* A client span of the Go source: when the probe never ran for a selected process's
 * request (HTTP/2, an error before the write), say so. */
void go_memwrite_span(struct go_memwrite *m, struct span *sp);

struct go_memwrite_stats {
	uint64_t written, existing, no_room, not_bufio, failed;
	uint64_t processes; /* given memory writes */
};
void go_memwrite_get_stats(struct go_memwrite *m, struct go_memwrite_stats *st);
/* "propagation (memory): 12 written, 1 existing, 2 skipped (no room 1, not bufio 1); 3 processes" */
void go_memwrite_format_stats(const struct go_memwrite_stats *st, char *buf, size_t len);
/* Detach the probes (the write stops), then free. */
void go_memwrite_detach(struct go_memwrite *m);
void go_memwrite_close(struct go_memwrite *m);

#endif
