// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"

#define BUCKETS 1024

struct entry {
	struct process_info info;
	bool exited;             /* process_exited() was told */
	struct entry *hnext;     /* hash chain */
	struct entry *prev, *next; /* use order, most recent first */
};

static struct entry *buckets[BUCKETS];
static struct entry *newest, *oldest;
static size_t nentries;

static ssize_t read_small_file(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)total < cap && (n = read(fd, buf + total, cap - total)) > 0)
		total += n;
	close(fd);
	return total;
}

bool process_container_id(const char *cgroup, char *out)
{
	const char *p = cgroup, *found = NULL;

	out[0] = '\0';
	while (*p) {
		size_t n = 0;

		while (isxdigit((unsigned char)p[n]) && !isupper((unsigned char)p[n]))
			n++;
		if (n == PROCESS_CONTAINER_ID_LEN)
			found = p;
		p += n ? n : 1;
	}
	if (!found)
		return false;
	memcpy(out, found, PROCESS_CONTAINER_ID_LEN);
	out[PROCESS_CONTAINER_ID_LEN] = '\0';
	return true;
}

bool process_read(uint32_t pid, const char *comm, struct process_info *proc)
{
	char path[64];
	ssize_t n;

	memset(proc, 0, sizeof(*proc));
	proc->pid = pid;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	n = read_small_file(path, proc->comm, sizeof(proc->comm) - 1);
	if (n > 0) {
		proc->comm[n] = '\0';
		proc->comm[strcspn(proc->comm, "\n")] = '\0';
	} else {
		/* The process is gone (short-lived clients often are): keep what the span says. */
		snprintf(proc->comm, sizeof(proc->comm), "%s", comm ? comm : "");
		proc->gone = true;
		return comm && *comm;
	}
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, proc->exe, sizeof(proc->exe) - 1);
	proc->exe[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	n = read_small_file(path, proc->cmdline, sizeof(proc->cmdline));
	proc->cmdline_len = n > 0 ? (size_t)n : 0;
	while (proc->cmdline_len && proc->cmdline[proc->cmdline_len - 1] == '\0')
		proc->cmdline_len--;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	n = read_small_file(path, proc->cgroup, sizeof(proc->cgroup) - 1);
	proc->cgroup[n > 0 ? n : 0] = '\0';
	n = strlen(proc->cgroup);
	while (n && proc->cgroup[n - 1] == '\n')
		proc->cgroup[--n] = '\0';
	process_container_id(proc->cgroup, proc->container_id);
	return true;
}

static size_t bucket_of(uint32_t pid)
{
	return (pid * 2654435761u) % BUCKETS;
}

static struct entry *find(uint32_t pid)
{
	struct entry *e;

	for (e = buckets[bucket_of(pid)]; e; e = e->hnext)
		if (e->info.pid == pid)
			return e;
	return NULL;
}

static void unlink_use(struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		newest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		oldest = e->prev;
	e->prev = e->next = NULL;
}

static void push_newest(struct entry *e)
{
	e->next = newest;
	if (newest)
		newest->prev = e;
	newest = e;
	if (!oldest)
		oldest = e;
}

static void drop(struct entry *e)
{
	struct entry **pp = &buckets[bucket_of(e->info.pid)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	unlink_use(e);
	nentries--;
	free(e);
}

const struct process_info *process_lookup(uint32_t pid, const char *comm)
{
	struct entry *e = find(pid);
	struct process_info fresh;

	if (e && e->exited) {
		/* A live process under the pid of one that exited is another process. */
		if (process_read(pid, comm, &fresh) && !fresh.gone) {
			e->info = fresh;
			e->exited = false;
		}
	}
	if (e) {
		unlink_use(e);
		push_newest(e);
		return &e->info;
	}
	if (!process_read(pid, comm, &fresh))
		return NULL;
	if (nentries >= PROCESS_CACHE_MAX)
		drop(oldest);
	e = calloc(1, sizeof(*e));
	if (!e) {
		static struct process_info uncached;

		uncached = fresh;
		return &uncached;
	}
	e->info = fresh;
	e->hnext = buckets[bucket_of(pid)];
	buckets[bucket_of(pid)] = e;
	push_newest(e);
	nentries++;
	return &e->info;
}

void process_exited(uint32_t pid)
{
	struct entry *e = find(pid);

	if (e)
		e->exited = true;
}

void process_cache_clear(void)
{
	while (oldest)
		drop(oldest);
}
