/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What ehttp knows of a traced process: comm, executable, command line, cgroup and the
 * container it runs in, where visible. Each process is read from /proc once, when a
 * span of it is first written, and kept: the span file writer (each file of a rotated
 * set describes its processes again) and exporters (resource attributes) share it.
 * A process that exited keeps what was known of it, unless its pid comes back as
 * another process.
 */
#ifndef EHTTP_PROCESS_H
#define EHTTP_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kept this many at most; the least recently looked up goes first. */
#define PROCESS_CACHE_MAX 4096
#define PROCESS_CONTAINER_ID_LEN 64

struct process_info {
	uint32_t pid;
	char comm[16];
	char exe[4096];
	char cmdline[4096]; /* arguments separated by NUL bytes, cmdline_len long */
	size_t cmdline_len;
	char cgroup[1024];  /* /proc/PID/cgroup, lines joined by '\n' */
	/* The container runtime's id (docker, containerd, CRI-O, podman), from the
	 * cgroup path; "" when the process is in none ehttp recognises. */
	char container_id[PROCESS_CONTAINER_ID_LEN + 1];
	bool gone; /* it had exited before it was read: only @comm (the span's) is known */
};

/* Read @pid from /proc now, uncached (@comm: the span's, the fallback when it is
 * gone). False when nothing is known (gone, and no @comm). */
bool process_read(uint32_t pid, const char *comm, struct process_info *out);

/* @pid's record, read once and cached; NULL when nothing is known. Valid until the
 * next call. @comm: as for process_read(). */
const struct process_info *process_lookup(uint32_t pid, const char *comm);
/* @pid exited: what is known of it stays for spans still to be written, but a process
 * found later under the same pid is another one. */
void process_exited(uint32_t pid);
/* Drop every record (tests). */
void process_cache_clear(void);

/* The last 64-hex-digit id in a cgroup path ("/docker/<id>", ".../cri-containerd-<id>.scope",
 * "crio-<id>", "libpod-<id>"): written to @out (PROCESS_CONTAINER_ID_LEN + 1 bytes).
 * False, and "" in @out, when there is none. */
bool process_container_id(const char *cgroup, char *out);

#endif
