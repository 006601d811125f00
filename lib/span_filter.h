/* SPDX-License-Identifier: GPL-2.0-only */
/* Span filters shared by attach, record and replay: one parser, one matcher. */
#ifndef EHTTP_SPAN_FILTER_H
#define EHTTP_SPAN_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "opts.h"
#include "span.h"

#define SPAN_FILTER_MAX_PIDS 64

struct span_filter {
	uint32_t pids[SPAN_FILTER_MAX_PIDS]; /* -p PID (repeatable); none = every process */
	size_t npids;
	char comm[16];        /* --comm NAME, exact (kernel comm, 15 chars) */
	struct cgroup_sel cgroup; /* --cgroup PATH: in it or below it; dir[0] == 0 = any */
	uint16_t port;        /* --port N: local or remote port; 0 = any */
	char method[16];      /* --method M, case-insensitive */
	char path[256];       /* --path PREFIX of the target */
	uint16_t status_min;  /* --status CODE or Nxx; 0 = any */
	uint16_t status_max;
	uint64_t since_ns;    /* --since (replay): wall-clock ns, 0 = open */
	uint64_t until_ns;    /* --until (replay) */
};

/* The filter options (-p, --comm, --port, --method, --path, --status) for a group whose
 * context is a struct span_filter: one table, so every command says the same. */
extern const struct opt span_filter_opts[];
/* What only a live capture can select by (--cgroup): the kernel tests it as the process
 * runs. Spans and span files do not say it, so replay has no such option. */
extern const struct opt span_filter_live_opts[];

void span_filter_init(struct span_filter *f);

/*
 * If argv[0] is a filter option, consume it (and its value) and return how many
 * arguments it took (1 or 2). Returns 0 when argv[0] is not a filter option, or -1
 * after reporting a bad or missing value.
 */
int span_filter_parse(struct span_filter *f, int argc, char **argv);

/* "404" → [404,404], "5xx" → [500,599]. */
bool span_filter_parse_status(const char *text, uint16_t *min, uint16_t *max);

/* --cgroup is not tested here: the kernel's filters and the Go source applied it. */
bool span_filter_match(const struct span_filter *f, const struct span *s);
/* Does @f select processes (-p, --comm, --cgroup)? */
bool span_filter_has_processes(const struct span_filter *f);
/* Does @f limit which processes or connections are followed (-p, --comm, --cgroup,
 * --port)? */
bool span_filter_has_targets(const struct span_filter *f);

#endif
