/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the exporters say about the process a span came from: one resource per process
 * (OpenTelemetry's Resource), shared by the OTLP and Prometheus sinks so that both name
 * a service the same way.
 *
 * Resources are created on the thread that emits spans and never change or move
 * afterwards, so an exporter thread may read a resource a queued span points to
 * without a lock; they are freed together by export_resources_free().
 */
#ifndef EHTTP_EXPORT_RESOURCE_H
#define EHTTP_EXPORT_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"
#include "spanfile.h"

#define EXPORT_CONTAINER_ID_LEN 64

struct export_resource {
	uint32_t pid;
	char service[128];       /* service.name */
	char comm[16];
	char exe[4096];          /* process.executable.path; "" when unknown */
	char container_id[EXPORT_CONTAINER_ID_LEN + 1]; /* container.id; "" when none */
	char host[256];          /* host.name; "" when unknown */
	struct export_resource *next_all;  /* every resource, for freeing */
	struct export_resource *next_hash;
};

struct export_service_map {
	char *exe;  /* executable base name or comm to match */
	char *name; /* service.name to give it */
};

struct export_resources;

/* @host: host.name for every resource ("" or NULL: none, or set per file). @live: look processes up in
 * /proc on first sight (attach, record); otherwise they come from span file records. */
struct export_resources *export_resources_new(const char *host, bool live);
void export_resources_free(struct export_resources *set);

/* Parse "EXE=NAME" for --service-name; reports its own error. */
bool export_resources_add_mapping(struct export_resources *set, const char *arg);

/* Span files: the host the next records and spans come from (a merge of several hosts'
 * files has the same pids on different hosts). Live sets have one host. */
void export_resources_set_host(struct export_resources *set, const char *host);
/* A process record from a span file: the resource of later spans of this pid. */
void export_resources_set_process(struct export_resources *set, const struct spanfile_process *p);
/* The resource of @span's process (made on first sight); NULL only when out of memory. */
const struct export_resource *export_resources_get(struct export_resources *set,
						   const struct span *span);

/* The container id in a /proc/PID/cgroup text (docker, containerd, CRI-O, podman: a
 * 64-hex-digit path segment, possibly with a "docker-"-style prefix and ".scope"
 * suffix). Returns true and fills @out (65 bytes) when one is found. */
bool export_container_id(const char *cgroup, char out[EXPORT_CONTAINER_ID_LEN + 1]);

#endif
