// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user side of --propagate: load bpf/propagate.bpf.c, claim the selected
 * processes' connections through a cgroup sock_ops program, and match the kernel's
 * records to the spans the capture completes.
 *
 * Matching. The kernel stamps each record with the time of the send it rewrote (or of
 * the receive that brought a server request); the capture's span starts at the time of
 * the event that carried its first byte, which for a send comes after the sk_msg
 * program ran in it. So a client span takes the first unused record of the last send
 * before it on its connection (keyed by socket cookie, the capture's connection id on
 * socket hooks); the heads pipelined in one write share a send and are taken in order.
 * A server span takes its connection's record nearest to its start, within a
 * millisecond: both come from the same receive.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/propagate.h"
#include "capture.h"
#include "go/goelf.h"
#include "cli.h"
#include "kernel.h"
#include "loader.h"
#include "propagate.h"
#include "propagate.skel.h"

/* The two enums name the same outcomes. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(SPAN_PROP_R_PIPELINED, PROPAGATE_SKIP_PIPELINED) &&
	       SAME(SPAN_PROP_R_SPLIT, PROPAGATE_SKIP_SPLIT) &&
	       SAME(SPAN_PROP_R_NOT_HTTP1, PROPAGATE_SKIP_NOT_HTTP1) &&
	       SAME(SPAN_PROP_R_LONG_HEAD, PROPAGATE_SKIP_LONG_HEAD) &&
	       SAME(SPAN_PROP_R_FRAMING, PROPAGATE_SKIP_FRAMING) &&
	       SAME(SPAN_PROP_R_NO_MEMORY, PROPAGATE_SKIP_NO_MEMORY) &&
	       SAME(SPAN_PROP_R_BUSY, PROPAGATE_SKIP_BUSY) && SAME(SPAN_PROP_R_CLAIM, PROPAGATE_SKIP_CLAIM),
	       "enum span_propagation_reason mirrors enum propagate_outcome");
#undef SAME
_Static_assert(PROPAGATE_TRACE_ID_LEN == SPAN_TRACE_ID_LEN && PROPAGATE_SPAN_ID_LEN == SPAN_SPAN_ID_LEN,
	       "ids have the same sizes");

#define MAX_CGROUPS 64
#define CONN_BUCKETS 16384
/* Connections followed at once (least recently used first out): ~450 bytes each. */
#define MAX_CONNS 32768
/* Records kept per connection: a pipelined write's heads (the kernel follows as many),
 * and those of spans that never came (filtered out) until newer ones push them out. */
#define CONN_RECORDS PROPAGATE_MAX_HEADS
/* A server span and its record come from the same receive. */
#define SERVER_WINDOW_NS 1000000ull

struct record {
	uint64_t ts;
	uint8_t outcome, has_parent;
	uint8_t trace_id[SPAN_TRACE_ID_LEN];
	uint8_t span_id[SPAN_SPAN_ID_LEN];
	uint8_t parent_id[SPAN_SPAN_ID_LEN];
};

struct pconn {
	uint64_t cookie;
	uint8_t claim;  /* 0: no claim record; PROPAGATE_INJECTED: claimed; else the failure */
	uint8_t lost;   /* what the kernel stopped rewriting for (enum propagate_outcome) */
	uint64_t last_server_start; /* the last server span matched: pipelined ones share it */
	struct record q[CONN_RECORDS];
	uint32_t head, count;
	struct pconn *hnext;
	TAILQ_ENTRY(pconn) lru;
};

struct propagate {
	struct propagate_bpf *skel;
	struct loader loader;
	struct ring_buffer *rb;
	struct propagate_opts opts;
	int msg_attached;  /* the sk_msg program is attached to the sockhash */
	int skb_attached;  /* and the sk_skb one */
	int cgroup_fds[MAX_CGROUPS];
	size_t ncgroups;
	char mounted[256]; /* a cgroup2 mount of ours, unmounted at close */

	struct pconn *buckets[CONN_BUCKETS];
	TAILQ_HEAD(, pconn) lru;
	size_t nconns;
	uint64_t unmatched;
	uint64_t evicted;

	/* the sink */
	struct span_sink *next;
	const struct span_clock *clock;

	uint32_t seen[4096]; /* processes looked at for Go */
	size_t nseen;
};

/* ---- options ------------------------------------------------------------------------- */

void propagate_opts_init(struct propagate_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

int propagate_parse_opt(struct propagate_opts *opts, int argc, char **argv)
{
	const char *opt = argv[0], *val;

	(void)argc;
	if (!strcmp(opt, "--propagate-all-processes")) {
		opts->all_processes = true;
		return 1;
	}
	if (strncmp(opt, "--propagate", 11) || (opt[11] && opt[11] != '='))
		return 0;
	val = opt[11] ? opt + 12 : "auto";
	if (!strcmp(val, "auto")) {
		opts->method = PROPAGATE_AUTO;
	} else if (!strcmp(val, "sockmsg")) {
		opts->method = PROPAGATE_SOCKMSG;
	} else {
		p_err("--propagate takes auto or sockmsg, not '%s'", val);
		return -1;
	}
	return 1;
}

bool propagate_opts_valid(const struct propagate_opts *opts, const struct span_filter *filter)
{
	if (opts->all_processes && !opts->method) {
		p_err("--propagate-all-processes goes with --propagate");
		return false;
	}
	if (opts->method && !opts->all_processes && !filter->npids && !filter->comm[0]) {
		p_err("--propagate writes into the traffic of the processes it is given: select them "
		      "with -p or --comm (or say --propagate-all-processes)");
		return false;
	}
	return true;
}

/* ---- the connection table ------------------------------------------------------------- */

static size_t bucket_of(uint64_t cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> 50 & (CONN_BUCKETS - 1);
}

static struct pconn *conn_find(struct propagate *p, uint64_t cookie)
{
	struct pconn *c;

	for (c = p->buckets[bucket_of(cookie)]; c; c = c->hnext)
		if (c->cookie == cookie)
			return c;
	return NULL;
}

static void conn_free(struct propagate *p, struct pconn *c)
{
	struct pconn **pp = &p->buckets[bucket_of(c->cookie)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	TAILQ_REMOVE(&p->lru, c, lru);
	p->unmatched += c->count;
	p->nconns--;
	free(c);
}

static struct pconn *conn_get(struct propagate *p, uint64_t cookie)
{
	struct pconn *c = conn_find(p, cookie);
	size_t b;

	if (c) {
		TAILQ_REMOVE(&p->lru, c, lru);
		TAILQ_INSERT_TAIL(&p->lru, c, lru);
		return c;
	}
	if (p->nconns >= MAX_CONNS) {
		p->evicted++;
		conn_free(p, TAILQ_FIRST(&p->lru));
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cookie = cookie;
	b = bucket_of(cookie);
	c->hnext = p->buckets[b];
	p->buckets[b] = c;
	TAILQ_INSERT_TAIL(&p->lru, c, lru);
	p->nconns++;
	return c;
}

static struct record *rec_at(struct pconn *c, uint32_t i)
{
	return &c->q[(c->head + i) % CONN_RECORDS];
}

static void rec_drop(struct propagate *p, struct pconn *c, uint32_t n)
{
	c->head = (c->head + n) % CONN_RECORDS;
	c->count -= n;
	(void)p;
}

/* ---- processes whose threads give no context ------------------------------------------ */

/* Is process @pid a Go program? Its outgoing requests are written by each connection's
 * goroutine, on whatever thread runs it: the thread's server request is no parent. */
static bool is_go_process(uint32_t pid)
{
	char path[64], err[GOELF_ERR_MAX];
	const struct goelf_info *info;
	struct goelf *g;
	bool go;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	g = goelf_open(path, err, sizeof(err));
	if (!g)
		return false;
	go = goelf_info(g, &info) == 0;
	goelf_close(g);
	return go;
}

/* Look at process @pid once: a Go program goes into the kernel's no_thread_context map. */
static void learn_process(struct propagate *p, uint32_t pid)
{
	uint8_t one = 1;

	for (size_t i = 0; i < p->nseen; i++)
		if (p->seen[i] == pid)
			return;
	if (p->nseen < sizeof(p->seen) / sizeof(p->seen[0]))
		p->seen[p->nseen++] = pid;
	if (!is_go_process(pid))
		return;
	bpf_map_update_elem(bpf_map__fd(p->skel->maps.no_thread_context), &pid, &one, BPF_ANY);
	p_debug("propagate: pid %u is a Go program: its requests begin traces (no goroutine links yet)", pid);
}

/* The selected processes running now: -p, or those of --comm's name. */
static void learn_processes(struct propagate *p, const struct span_filter *f)
{
	char path[64], comm[32];
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < f->npids; i++)
		learn_process(p, f->pids[i]);
	if (!f->comm[0] || !(d = opendir("/proc")))
		return;
	while ((de = readdir(d))) {
		uint32_t pid = strtoul(de->d_name, NULL, 10);
		FILE *cf;

		if (!pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/comm", pid);
		cf = fopen(path, "re");
		if (!cf)
			continue;
		if (fgets(comm, sizeof(comm), cf)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (!strcmp(comm, f->comm))
				learn_process(p, pid);
		}
		fclose(cf);
	}
	closedir(d);
}

/* ---- records ---------------------------------------------------------------------------- */

static int handle_record(void *ctx, void *raw, size_t size)
{
	struct propagate *p = ctx;
	const struct propagate_event *ev = raw;
	struct record *r;
	struct pconn *c;

	if (size < sizeof(*ev))
		return 0;
	c = conn_get(p, ev->cookie);
	if (!c)
		return 0;
	if (ev->type == PROPAGATE_EV_CLAIM) {
		learn_process(p, ev->pid); /* one started since (--comm) */
		c->claim = ev->err ? ev->outcome : PROPAGATE_INJECTED;
		if (ev->err)
			p_debug("propagate: connection %#llx of pid %u not claimed: %s",
				(unsigned long long)ev->cookie, ev->pid, strerror(-ev->err));
		return 0;
	}
	if (ev->type == PROPAGATE_EV_CLIENT) {
		switch (ev->outcome) {
		case PROPAGATE_SKIP_NOT_HTTP1:
			c->lost = PROPAGATE_SKIP_NOT_HTTP1;
			break;
		case PROPAGATE_SKIP_SPLIT:
		case PROPAGATE_SKIP_LONG_HEAD:
		case PROPAGATE_SKIP_FRAMING:
			c->lost = PROPAGATE_SKIP_FRAMING;
			break;
		}
	}
	if (c->count == CONN_RECORDS) {
		rec_drop(p, c, 1);
		p->unmatched++;
	}
	r = rec_at(c, c->count++);
	r->ts = ev->ts_ns;
	r->outcome = ev->outcome;
	r->has_parent = ev->has_parent;
	memcpy(r->trace_id, ev->trace_id, sizeof(r->trace_id));
	memcpy(r->span_id, ev->span_id, sizeof(r->span_id));
	memcpy(r->parent_id, ev->parent_id, sizeof(r->parent_id));
	return 0;
}

static void drain(struct propagate *p)
{
	if (p->rb)
		ring_buffer__consume(p->rb);
}

void propagate_poll(struct propagate *p)
{
	drain(p);
}

/* The record of the send that carried the first byte of a request sent at @start:
 * the first unused one of the last send before it. */
static struct record *take_client_record(struct propagate *p, struct pconn *c, uint64_t start)
{
	uint32_t i, last = UINT32_MAX;
	uint64_t group;

	for (i = 0; i < c->count; i++)
		if (rec_at(c, i)->ts < start)
			last = i;
	if (last == UINT32_MAX)
		return NULL;
	group = rec_at(c, last)->ts;
	for (i = 0; i < c->count && rec_at(c, i)->ts < group; i++)
		;
	p->unmatched += i; /* older sends' records: their spans never came */
	rec_drop(p, c, i);
	return rec_at(c, 0);
}

static struct record *take_server_record(struct propagate *p, struct pconn *c, uint64_t start)
{
	uint64_t best_d = SERVER_WINDOW_NS + 1;
	uint32_t i, best = UINT32_MAX;

	if (c->last_server_start == start)
		return NULL; /* pipelined behind the one matched at the same receive */
	for (i = 0; i < c->count; i++) {
		uint64_t ts = rec_at(c, i)->ts, d = ts > start ? ts - start : start - ts;

		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	if (best == UINT32_MAX)
		return NULL;
	p->unmatched += best;
	rec_drop(p, c, best);
	c->last_server_start = start;
	return rec_at(c, 0);
}

static void apply_client(struct span *s, const struct record *r)
{
	switch (r->outcome) {
	case PROPAGATE_INJECTED:
		s->propagation = SPAN_PROP_SOCKMSG;
		memcpy(s->span_id, r->span_id, sizeof(s->span_id));
		break;
	case PROPAGATE_EXISTING:
		s->propagation = SPAN_PROP_EXISTING;
		/* The header's parent-id is this request's span, as its sender made it. */
		if (!s->has_parent)
			return;
		memcpy(s->span_id, s->parent_span_id, sizeof(s->span_id));
		/* Its parent is the thread's server request when the header continued
		 * that trace; otherwise it is not known. */
		s->has_parent = r->has_parent && !memcmp(s->trace_id, r->trace_id, sizeof(s->trace_id));
		if (s->has_parent)
			memcpy(s->parent_span_id, r->parent_id, sizeof(s->parent_span_id));
		else
			memset(s->parent_span_id, 0, sizeof(s->parent_span_id));
		return;
	default:
		s->propagation = SPAN_PROP_SKIPPED;
		s->propagation_reason = r->outcome;
		break;
	}
	/* Skipped requests still belong to the thread's trace: their spans link to it. */
	memcpy(s->trace_id, r->trace_id, sizeof(s->trace_id));
	s->has_parent = r->has_parent;
	memcpy(s->parent_span_id, r->parent_id, sizeof(s->parent_span_id));
}

static int propagate_emit(struct span_sink *sink, const struct span *span)
{
	struct propagate *p = sink->ctx;
	struct span s = *span;
	struct pconn *c;
	struct record *r;
	uint64_t start;

	if (s.role != SPAN_ROLE_CLIENT && s.role != SPAN_ROLE_SERVER)
		return p->next->emit(p->next, &s);
	drain(p);
	start = s.start_ns - p->clock->real_ns + p->clock->mono_ns;
	c = conn_find(p, s.conn_id);
	if (s.role == SPAN_ROLE_SERVER) {
		r = c ? take_server_record(p, c, start) : NULL;
		if (r) {
			memcpy(s.trace_id, r->trace_id, sizeof(s.trace_id));
			memcpy(s.span_id, r->span_id, sizeof(s.span_id));
			memcpy(s.parent_span_id, r->parent_id, sizeof(s.parent_span_id));
			s.has_parent = r->has_parent;
			rec_drop(p, c, 1);
		}
		return p->next->emit(p->next, &s);
	}
	s.propagation = SPAN_PROP_SKIPPED;
	if (!c || !c->claim) {
		s.propagation_reason = SPAN_PROP_R_UNCLAIMED;
	} else if (c->claim != PROPAGATE_INJECTED) {
		s.propagation_reason = c->claim;
	} else if ((r = take_client_record(p, c, start))) {
		apply_client(&s, r);
		rec_drop(p, c, 1);
	} else {
		s.propagation_reason = c->lost ? c->lost : SPAN_PROP_R_NO_RECORD;
	}
	return p->next->emit(p->next, &s);
}

void propagate_sink_init(struct span_sink *sink, struct propagate *p, struct span_sink *next,
			 const struct span_clock *clock)
{
	p->next = next;
	p->clock = clock;
	sink->emit = propagate_emit;
	sink->ctx = p;
}

struct span_sink *propagate_wrap(struct propagate *p, const struct capture *cap,
				 struct span_sink *next, struct span_sink *storage)
{
	if (!p)
		return next;
	if (capture_hooks(cap) != CAPTURE_HOOKS_SOCKETS) {
		p_err("--propagate needs the socket hooks (Linux >= 6.3; --hooks sockets)");
		return NULL;
	}
	propagate_sink_init(storage, p, next, capture_clock(cap));
	return storage;
}

void propagate_finish(struct propagate *p)
{
	struct propagate_stats st;
	char line[512];

	if (!p)
		return;
	propagate_get_stats(p, &st);
	propagate_close(p);
	propagate_format_stats(&st, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
}

/* ---- cgroups ------------------------------------------------------------------------------ */

/* Where cgroup v2 is mounted (@out), mounting it when it is not. */
static int cgroup2_root(struct propagate *p, char *out, size_t len)
{
	static const char mnt[] = "/run/ehttp/cgroup2";
	char line[1024], dev[256], dir[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "re");
	bool found = false;

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2")) {
			snprintf(out, len, "%s", dir);
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	if (found)
		return 0;
	mkdir("/run/ehttp", 0700);
	mkdir(mnt, 0700);
	if (mount("cgroup2", mnt, "cgroup2", 0, NULL)) {
		int err = -errno;

		p_err("cgroup v2 is not mounted and mounting it at %s failed: %s", mnt, strerror(errno));
		return err;
	}
	snprintf(p->mounted, sizeof(p->mounted), "%s", mnt);
	snprintf(out, len, "%s", mnt);
	return 0;
}

/* The cgroup v2 path of process @pid ("/user.slice/..."), from /proc/PID/cgroup. */
static int process_cgroup(uint32_t pid, char *out, size_t len)
{
	char path[64], line[1024];
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(out, len, "%s", line + 3);
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static int attach_cgroup(struct propagate *p, const char *dir)
{
	struct bpf_link *link;
	int fd, err;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		p_err("opening cgroup %s failed: %s", dir, strerror(errno));
		return err;
	}
	link = bpf_program__attach_cgroup(p->skel->progs.prop_sockops, fd);
	err = libbpf_get_error(link);
	if (err) {
		close(fd);
		p_err("attaching the sock_ops program to cgroup %s failed: %s", dir, strerror(-err));
		return err;
	}
	p->cgroup_fds[p->ncgroups++] = fd;
	p_debug("propagate: sock_ops attached to cgroup %s", dir);
	return loader_keep_link(&p->loader, link);
}

/*
 * The cgroups whose sockets sock_ops must see: those of the -p processes; the whole
 * hierarchy when processes are selected by name (they may start anywhere, later) or
 * all of them are. The program claims only the selected processes' sockets either way.
 */
static int attach_cgroups(struct propagate *p, const struct span_filter *f)
{
	char root[512], rel[1024], dir[1600], seen[MAX_CGROUPS][1024];
	size_t nseen = 0, i, j;
	int err;

	err = cgroup2_root(p, root, sizeof(root));
	if (err)
		return err;
	if (p->opts.all_processes || f->comm[0] || !f->npids)
		return attach_cgroup(p, root);
	for (i = 0; i < f->npids; i++) {
		if (process_cgroup(f->pids[i], rel, sizeof(rel))) {
			p_warn("the cgroup of pid %u is not known: attaching at the root", f->pids[i]);
			snprintf(rel, sizeof(rel), "/");
		}
		for (j = 0; j < nseen && strcmp(seen[j], rel); j++)
			;
		if (j < nseen)
			continue;
		if (nseen == MAX_CGROUPS)
			break;
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", rel);
		snprintf(dir, sizeof(dir), "%s%s", root, rel);
		err = attach_cgroup(p, dir);
		if (err)
			return err;
	}
	return 0;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static void configure(struct propagate *p, const struct span_filter *f)
{
	struct propagate_bpf *skel = p->skel;
	size_t i;

	skel->rodata->self_tgid = getpid();
	skel->rodata->all_processes = p->opts.all_processes;
	for (i = 0; i < f->npids && i < PROPAGATE_MAX_PIDS; i++)
		skel->rodata->targ_pids[i] = f->pids[i];
	skel->rodata->targ_npids = i;
	if (f->comm[0]) {
		skel->rodata->filter_comm = true;
		memcpy((char *)skel->rodata->targ_comm, f->comm, sizeof(f->comm));
	}
	skel->rodata->targ_port = f->port;
}

static int attach_tracing(struct propagate *p)
{
	struct bpf_program *progs[] = { p->skel->progs.prop_connect, p->skel->progs.prop_recv,
					p->skel->progs.prop_send };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_link *link = bpf_program__attach(progs[i]);
		int err = libbpf_get_error(link);

		if (err) {
			p_err("attaching %s failed: %s", bpf_program__name(progs[i]), strerror(-err));
			return err;
		}
		err = loader_keep_link(&p->loader, link);
		if (err)
			return err;
	}
	return 0;
}

int propagate_open(struct propagate **out, const struct propagate_opts *opts,
		   const struct span_filter *filter)
{
	struct propagate *p;
	int err;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		p_err("out of memory");
		return -ENOMEM;
	}
	p->opts = *opts;
	TAILQ_INIT(&p->lru);
	loader_setup_libbpf();
	p->skel = propagate_bpf__open();
	if (!p->skel) {
		err = -errno;
		p_err("opening the BPF propagation object failed: %s", strerror(-err));
		goto fail;
	}
	configure(p, filter);
	err = loader_load(&p->loader, p->skel->obj, NULL);
	if (err)
		goto fail;
	/* Records first, so that no claim goes unseen. */
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), handle_record, p, NULL);
	if (!p->rb) {
		err = -errno;
		p_err("setting up the propagation ring buffer reader failed: %s", strerror(-err));
		goto fail;
	}
	err = bpf_prog_attach(bpf_program__fd(p->skel->progs.prop_msg),
			      bpf_map__fd(p->skel->maps.socks), BPF_SK_MSG_VERDICT, 0);
	if (err) {
		err = -errno;
		p_err("attaching the sk_msg program to its sockhash failed: %s", strerror(-err));
		goto fail;
	}
	p->msg_attached = 1;
	learn_processes(p, filter);
	err = bpf_prog_attach(bpf_program__fd(p->skel->progs.prop_skb),
			      bpf_map__fd(p->skel->maps.socks), BPF_SK_SKB_VERDICT, 0);
	if (err) {
		err = -errno;
		p_err("attaching the sk_skb program to its sockhash failed: %s", strerror(-err));
		goto fail;
	}
	p->skb_attached = 1;
	err = attach_tracing(p);
	if (!err)
		err = attach_cgroups(p, filter);
	if (err)
		goto fail;
	*out = p;
	return 0;
fail:
	propagate_close(p);
	return err;
}

void propagate_probe(struct probe_result *res)
{
	struct propagate_bpf *skel;
	int err, map;

	memset(res, 0, sizeof(*res));
	loader_setup_libbpf();
	skel = propagate_bpf__open();
	if (!skel) {
		snprintf(res->reason, sizeof(res->reason), "opening the object: %s", strerror(errno));
		return;
	}
	skel->rodata->self_tgid = getpid();
	err = propagate_bpf__load(skel);
	if (err) {
		snprintf(res->reason, sizeof(res->reason), "loading: %s%s", strerror(-err),
			 debug_output ? "" : " (-d shows the verifier's log)");
		goto out;
	}
	map = bpf_map__fd(skel->maps.socks);
	if (bpf_prog_attach(bpf_program__fd(skel->progs.prop_msg), map, BPF_SK_MSG_VERDICT, 0) ||
	    bpf_prog_attach(bpf_program__fd(skel->progs.prop_skb), map, BPF_SK_SKB_VERDICT, 0)) {
		snprintf(res->reason, sizeof(res->reason), "attaching to a sockhash: %s", strerror(errno));
		goto out;
	}
	res->ok = true;
	snprintf(res->reason, sizeof(res->reason), "loaded and attached to a sockhash");
out:
	propagate_bpf__destroy(skel);
}

void propagate_get_stats(struct propagate *p, struct propagate_stats *st)
{
	int ncpus = libbpf_num_possible_cpus();
	struct propagate_counters *per_cpu;
	uint32_t zero = 0;

	memset(st, 0, sizeof(*st));
	drain(p);
	st->unmatched = p->unmatched;
	if (!p->skel || ncpus <= 0)
		return;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &zero, per_cpu)) {
		for (int i = 0; i < ncpus; i++) {
			const struct propagate_counters *c = &per_cpu[i];

			st->claimed += c->claimed;
			st->server_heads += c->server_heads;
			st->dropped += c->dropped;
			st->injected += c->outcomes[PROPAGATE_INJECTED];
			st->existing += c->outcomes[PROPAGATE_EXISTING];
			for (int o = PROPAGATE_SKIP_PIPELINED; o < PROPAGATE_OUTCOME__COUNT; o++) {
				st->skipped_by[o] += c->outcomes[o];
				st->skipped += c->outcomes[o];
			}
		}
	}
	free(per_cpu);
}

void propagate_format_stats(const struct propagate_stats *st, char *buf, size_t len)
{
	static const char *const names[SPAN_PROP_REASON__COUNT] = {
		[SPAN_PROP_R_PIPELINED] = "pipelined",   [SPAN_PROP_R_SPLIT] = "split head",
		[SPAN_PROP_R_NOT_HTTP1] = "not HTTP/1",  [SPAN_PROP_R_LONG_HEAD] = "long head",
		[SPAN_PROP_R_FRAMING] = "boundaries lost", [SPAN_PROP_R_NO_MEMORY] = "no room",
		[SPAN_PROP_R_BUSY] = "socket busy",      [SPAN_PROP_R_CLAIM] = "claim failed",
	};
	size_t o;
	int i, n = 0;

	o = snprintf(buf, len, "propagation: %llu injected, %llu existing, %llu skipped",
		     (unsigned long long)st->injected, (unsigned long long)st->existing,
		     (unsigned long long)st->skipped);
	for (i = 0; i < SPAN_PROP_REASON__COUNT && o < len; i++) {
		if (!st->skipped_by[i] || !names[i])
			continue;
		o += snprintf(buf + o, len - o, "%s%s %llu", n++ ? ", " : " (", names[i],
			      (unsigned long long)st->skipped_by[i]);
	}
	if (n && o < len)
		o += snprintf(buf + o, len - o, ")");
	if (o < len)
		snprintf(buf + o, len - o, "; %llu connections claimed, %llu records dropped",
			 (unsigned long long)st->claimed, (unsigned long long)st->dropped);
}

void propagate_close(struct propagate *p)
{
	if (!p)
		return;
	loader_detach(&p->loader);
	if (p->msg_attached)
		bpf_prog_detach2(bpf_program__fd(p->skel->progs.prop_msg),
				 bpf_map__fd(p->skel->maps.socks), BPF_SK_MSG_VERDICT);
	if (p->skb_attached)
		bpf_prog_detach2(bpf_program__fd(p->skel->progs.prop_skb),
				 bpf_map__fd(p->skel->maps.socks), BPF_SK_SKB_VERDICT);
	for (size_t i = 0; i < p->ncgroups; i++)
		close(p->cgroup_fds[i]);
	ring_buffer__free(p->rb);
	/* Closing the sockhash hands every socket in it back to TCP as it was. */
	propagate_bpf__destroy(p->skel);
	if (p->mounted[0])
		umount2(p->mounted, MNT_DETACH);
	while (!TAILQ_EMPTY(&p->lru))
		conn_free(p, TAILQ_FIRST(&p->lru));
	free(p);
}
