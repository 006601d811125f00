// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "export/otlp_map.h"
#include "export/resource.h"

#define HASH_SLOTS 1024

struct export_resources {
	struct export_resource *slots[HASH_SLOTS];
	struct export_resource *all;
	struct export_service_map *map;
	size_t nmap;
	char host[256];
	bool live;
};

struct export_resources *export_resources_new(const char *host, bool live)
{
	struct export_resources *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	otlp_utf8_copy(set->host, sizeof(set->host), host ? host : "", host ? strlen(host) : 0);
	set->live = live;
	return set;
}

void export_resources_free(struct export_resources *set)
{
	struct export_resource *r, *next;
	size_t i;

	if (!set)
		return;
	for (r = set->all; r; r = next) {
		next = r->next_all;
		free(r);
	}
	for (i = 0; i < set->nmap; i++) {
		free(set->map[i].exe);
		free(set->map[i].name);
	}
	free(set->map);
	free(set);
}

bool export_resources_add_mapping(struct export_resources *set, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct export_service_map *m;

	if (!eq || eq == arg || !eq[1]) {
		p_err("--service-name: '%s' is not EXE=NAME", arg);
		return false;
	}
	m = realloc(set->map, (set->nmap + 1) * sizeof(*m));
	if (!m)
		return false;
	set->map = m;
	m[set->nmap].exe = strndup(arg, eq - arg);
	m[set->nmap].name = strdup(eq + 1);
	if (!m[set->nmap].exe || !m[set->nmap].name) {
		free(m[set->nmap].exe);
		free(m[set->nmap].name);
		return false;
	}
	set->nmap++;
	return true;
}

static bool is_hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

bool export_container_id(const char *cgroup, char out[EXPORT_CONTAINER_ID_LEN + 1])
{
	const char *p = cgroup;

	/* The id is the first run of exactly 64 lowercase hex digits bounded by a path
	 * separator, '-', ':' or ".scope" on each side: "/docker/<id>",
	 * "/system.slice/docker-<id>.scope", "cri-containerd-<id>.scope", "crio-<id>". */
	for (; *p; p++) {
		const char *end = p + EXPORT_CONTAINER_ID_LEN;

		if (p != cgroup && !strchr("/-:", p[-1]))
			continue;
		if (strnlen(p, EXPORT_CONTAINER_ID_LEN) < EXPORT_CONTAINER_ID_LEN ||
		    !is_hex_run(p, EXPORT_CONTAINER_ID_LEN))
			continue;
		if (*end && *end != '/' && *end != '\n' && strncmp(end, ".scope", 6))
			continue;
		memcpy(out, p, EXPORT_CONTAINER_ID_LEN);
		out[EXPORT_CONTAINER_ID_LEN] = '\0';
		return true;
	}
	out[0] = '\0';
	return false;
}

static void name_service(const struct export_resources *set, struct export_resource *r)
{
	const char *base = strrchr(r->exe, '/');
	size_t i;

	base = base ? base + 1 : r->exe;
	for (i = 0; i < set->nmap; i++) {
		if ((*base && !strcmp(set->map[i].exe, base)) || !strcmp(set->map[i].exe, r->comm)) {
			snprintf(r->service, sizeof(r->service), "%s", set->map[i].name);
			return;
		}
	}
	snprintf(r->service, sizeof(r->service), "%s", *base ? base : r->comm[0] ? r->comm : "unknown");
}

static struct export_resource *add(struct export_resources *set, const struct spanfile_process *p)
{
	struct export_resource *r = calloc(1, sizeof(*r));
	unsigned int slot = p->pid % HASH_SLOTS;

	if (!r)
		return NULL;
	r->pid = p->pid;
	otlp_utf8_copy(r->comm, sizeof(r->comm), p->comm, strnlen(p->comm, sizeof(p->comm)));
	otlp_utf8_copy(r->exe, sizeof(r->exe), p->exe, strnlen(p->exe, sizeof(p->exe)));
	export_container_id(p->cgroup, r->container_id);
	snprintf(r->host, sizeof(r->host), "%s", set->host);
	name_service(set, r);
	r->next_all = set->all;
	set->all = r;
	/* A newer process of the same pid shadows the older one, which stays alive for
	 * the spans still queued with it. */
	r->next_hash = set->slots[slot];
	set->slots[slot] = r;
	return r;
}

void export_resources_set_host(struct export_resources *set, const char *host)
{
	char h[sizeof(set->host)];

	otlp_utf8_copy(h, sizeof(h), host ? host : "", host ? strlen(host) : 0);
	if (strcmp(set->host, h))
		memcpy(set->host, h, sizeof(h));
}

void export_resources_set_process(struct export_resources *set, const struct spanfile_process *p)
{
	add(set, p);
}

const struct export_resource *export_resources_get(struct export_resources *set,
						   const struct span *span)
{
	struct export_resource *r;
	struct spanfile_process p;

	for (r = set->slots[span->pid % HASH_SLOTS]; r; r = r->next_hash)
		if (r->pid == span->pid && !strcmp(r->host, set->host))
			return r;
	if (!set->live || !spanfile_proc_from_procfs(span->pid, span->comm, &p)) {
		memset(&p, 0, sizeof(p));
		p.pid = span->pid;
		snprintf(p.comm, sizeof(p.comm), "%s", span->comm);
	}
	return add(set, &p);
}
