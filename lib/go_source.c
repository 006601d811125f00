// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Go source: load bpf/go_http.bpf.c, find the Go processes to trace, attach the
 * net/http uprobes once per binary (at each function's entry and return instructions,
 * from lib/go), give the kernel each binary's field offsets, and turn the events into
 * spans.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "go/goelf.h"
#include "go_http.h"
#include "go_http.skel.h"
#include "go_memwrite.h"
#include "go_source.h"
#include "loader.h"
#include "output.h"

/* The Go releases whose register ABI the probes read: 1.17 on amd64, 1.18 on arm64. */
#define GO_MIN_MINOR_AMD64 17
#define GO_MIN_MINOR_ARM64 18

enum bin_state {
	BIN_TRACED,  /* uprobes attached, offsets in go_bins */
	BIN_REFUSED, /* a Go binary that cannot be traced: @reason says why */
	BIN_NOT_GO,  /* not a Go program (or not one with net/http): nothing to say */
};

struct go_bin {
	dev_t dev;
	ino_t ino;
	enum bin_state state;
	uint32_t id; /* key of go_bins when traced */
	char version[32];
	char reason[256];
	struct bpf_link **links;
	size_t nlinks;
};

/* go_event.prop holds enum span_propagation's values */
_Static_assert((int)GO_PROP_NONE == (int)SPAN_PROP_NONE && (int)GO_PROP_EXISTING == (int)SPAN_PROP_EXISTING &&
		       (int)GO_PROP_SKIPPED == (int)SPAN_PROP_SKIPPED && (int)GO_PROP_MEMORY == (int)SPAN_PROP_MEMORY,
	       "enum go_prop mirrors enum span_propagation");

struct go_source {
	struct go_http_bpf *skel;
	struct loader loader;
	struct ring_buffer *rb;
	struct span_clock own_clock;
	const struct span_clock *clock;
	struct span_filter filter;
	bool propagate;      /* opts->propagate */
	bool sends;          /* opts->go_sends_fd: (*Request).write is probed for --propagate */
	struct go_memwrite *mw; /* --propagate=memory: its requests' buffers are written */
	struct go_bin *bins; /* every executable looked at, Go or not */
	size_t nbins;
	uint32_t ngo;        /* Go binaries among them: the keys of go_bins */
	uint32_t *pids; /* traced, sorted; under @lock */
	size_t npids, pids_cap;
	/*
	 * Processes that executed a new image, looked at by a thread of their own: reading
	 * a new Go binary (its functions, its DWARF) and attaching its probes can take a
	 * second of CPU, and a host building Go programs executes new ones all the time;
	 * meanwhile the poll loop keeps the ring buffers drained.
	 */
	pthread_t worker;
	bool worker_started, worker_stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct exec_job {
		uint32_t pid;
		char comm[16];
	} jobs[1024];
	size_t job_head, njobs;
	uint64_t jobs_missed; /* execs not looked at: the queue was full */
	struct span_sink *out; /* during poll */
	int out_err;
	struct go_source_stats stats;
};

/* ---- traced pids -------------------------------------------------------------------- */
static size_t pid_slot(const struct go_source *s, uint32_t pid)
{
	size_t lo = 0, hi = s->npids;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool go_source_traces(const struct go_source *cs, uint32_t pid)
{
	struct go_source *s = (struct go_source *)cs; /* the lock, not the set, changes */
	size_t i;
	bool found;

	pthread_mutex_lock(&s->lock);
	i = pid_slot(s, pid);
	found = i < s->npids && s->pids[i] == pid;
	pthread_mutex_unlock(&s->lock);
	return found;
}

static int pid_add_locked(struct go_source *s, uint32_t pid)
{
	size_t i = pid_slot(s, pid);

	if (i < s->npids && s->pids[i] == pid)
		return 0;
	if (s->npids == s->pids_cap) {
		size_t cap = s->pids_cap ? 2 * s->pids_cap : 64;
		uint32_t *p = realloc(s->pids, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->pids = p;
		s->pids_cap = cap;
	}
	memmove(s->pids + i + 1, s->pids + i, (s->npids - i) * sizeof(*s->pids));
	s->pids[i] = pid;
	s->npids++;
	return 0;
}

static int pid_add(struct go_source *s, uint32_t pid)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = pid_add_locked(s, pid);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void pid_remove(struct go_source *s, uint32_t pid)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	i = pid_slot(s, pid);
	if (i < s->npids && s->pids[i] == pid) {
		memmove(s->pids + i, s->pids + i + 1, (s->npids - i - 1) * sizeof(*s->pids));
		s->npids--;
	}
	pthread_mutex_unlock(&s->lock);
}

/* ---- binaries ------------------------------------------------------------------------ */
static bool filter_wants(const struct go_source *s, uint32_t pid, const char *comm)
{
	const struct span_filter *f = &s->filter;
	size_t i;

	if (f->npids) {
		for (i = 0; i < f->npids && f->pids[i] != pid; i++)
			;
		if (i == f->npids)
			return false;
	}
	if (f->comm[0] && strncmp(f->comm, comm, sizeof(f->comm) - 1))
		return false;
	/* Looked at when the process starts or execs: one that moves into the cgroup
	 * later is left to the socket hooks. */
	return !f->cgroup.dir[0] || cgroup_has_pid(&f->cgroup, pid);
}

static int field_offset(const struct goelf_field_offset *offs, const char *strct, const char *field)
{
	size_t i;

	for (i = 0; i < goelf_want_fields_count; i++)
		if (!strcmp(offs[i].strct, strct) && !strcmp(offs[i].field, field))
			return offs[i].offset >= 0 && offs[i].offset < (1 << 20) ? (int)offs[i].offset : -1;
	return -1;
}

/*
 * Where runtime.g keeps the goroutine's id and (Go 1.21+) its spawner's: DWARF when
 * the binary has it (runtime.g is in no runtime type descriptor), else for the id a
 * table (152 in 1.19 and 1.27 builds' DWARF; 1.23 and 1.24 carry 8 bytes more before
 * it). Without DWARF the spawner is read at newproc1's entry instead.
 */
static void goroutine_offsets(struct goelf *g, int go_minor, struct go_offsets *o)
{
	struct goelf_struct gs;
	size_t i;

	o->g_goid = o->g_parent_goid = o->g_m = o->m_curg = -1;
	if (goelf_struct(g, "runtime.g", GOELF_ONLY_DWARF, &gs) == 0) {
		for (i = 0; i < gs.nfields; i++) {
			if (!strcmp(gs.fields[i].name, "goid"))
				o->g_goid = (int32_t)gs.fields[i].offset;
			else if (!strcmp(gs.fields[i].name, "parentGoid"))
				o->g_parent_goid = (int32_t)gs.fields[i].offset;
			else if (!strcmp(gs.fields[i].name, "m"))
				o->g_m = (int32_t)gs.fields[i].offset;
		}
		goelf_struct_free(&gs);
	}
	/* Before 1.21, the spawner at the spawn probe is its thread's m.curg */
	if (o->g_parent_goid < 0 && o->g_m >= 0 &&
	    goelf_struct(g, "runtime.m", GOELF_ONLY_DWARF, &gs) == 0) {
		for (i = 0; i < gs.nfields; i++)
			if (!strcmp(gs.fields[i].name, "curg"))
				o->m_curg = (int32_t)gs.fields[i].offset;
		goelf_struct_free(&gs);
	}
	if (o->g_goid < 0 && go_minor >= 17 && go_minor <= 27)
		o->g_goid = go_minor == 23 || go_minor == 24 ? 160 : 152;
}

/* How much of net/http.Request the probes read at once: up to the end of the last field
 * they need (strings 16 bytes, the rest 8); 0 when that is more than they have room for. */
static uint32_t request_read_len(const struct go_offsets *o)
{
	const struct {
		int32_t off, size;
	} f[] = {
		{ o->req_method, 16 },	     { o->req_url, 8 },		    { o->req_content_length, 8 },
		{ o->req_host, 16 },	     { o->req_remote_addr, 16 },    { o->req_request_uri, 16 },
		{ o->req_proto_major, 8 },   { o->req_proto_minor, 8 },	    { o->req_header, 8 },
	};
	uint32_t end = 0;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].off >= 0 && (uint32_t)(f[i].off + f[i].size) > end)
			end = (uint32_t)(f[i].off + f[i].size);
	return end <= GO_REQ_READ_MAX ? end : 0;
}

static void fill_offsets(const struct goelf_field_offset *f, int go_minor, struct go_offsets *o)
{
	o->req_method = field_offset(f, "net/http.Request", "Method");
	o->req_url = field_offset(f, "net/http.Request", "URL");
	o->req_content_length = field_offset(f, "net/http.Request", "ContentLength");
	o->req_host = field_offset(f, "net/http.Request", "Host");
	o->req_remote_addr = field_offset(f, "net/http.Request", "RemoteAddr");
	o->req_request_uri = field_offset(f, "net/http.Request", "RequestURI");
	o->req_proto_major = field_offset(f, "net/http.Request", "ProtoMajor");
	o->req_proto_minor = field_offset(f, "net/http.Request", "ProtoMinor");
	o->url_host = field_offset(f, "net/url.URL", "Host");
	o->url_path = field_offset(f, "net/url.URL", "Path");
	o->url_raw_query = field_offset(f, "net/url.URL", "RawQuery");
	o->resp_status_code = field_offset(f, "net/http.Response", "StatusCode");
	o->resp_content_length = field_offset(f, "net/http.Response", "ContentLength");
	o->resp_proto_major = field_offset(f, "net/http.Response", "ProtoMajor");
	o->resp_proto_minor = field_offset(f, "net/http.Response", "ProtoMinor");
	o->response_req = field_offset(f, "net/http.response", "req");
	o->response_status = field_offset(f, "net/http.response", "status");
	o->newproc_creator_arg = go_minor <= 17 ? 4 : 2;
	o->spawn_newg_arg = 1;
	o->req_header = field_offset(f, "net/http.Request", "Header");
	o->req_read_len = request_read_len(o);
}

static void header_map_offsets(struct goelf *g, struct go_offsets *o)
{
	struct goelf_map_layout l;
	struct go_map_layout *m = &o->header_map;

	memset(m, 0, sizeof(*m));
	if (o->req_header < 0 || goelf_header_map(g, &l) != 0)
		return; /* GO_MAP_UNKNOWN: the header lines are probed instead */
	m->kind = l.kind == GOELF_MAP_SWISS ? GO_MAP_SWISS : GO_MAP_BUCKETS;
	m->count_off = (uint32_t)l.count_off;
	if (l.kind == GOELF_MAP_BUCKETS) {
		m->flags_off = (uint32_t)l.flags_off;
		m->b_off = (uint32_t)l.b_off;
		m->buckets_off = (uint32_t)l.buckets_off;
		m->oldbuckets_off = (uint32_t)l.oldbuckets_off;
		m->overflow_off = (uint32_t)l.overflow_off;
	} else {
		m->dir_ptr_off = (uint32_t)l.dir_ptr_off;
		m->dir_len_off = (uint32_t)l.dir_len_off;
		m->table_groups_off = (uint32_t)l.table_groups_off;
		m->table_mask_off = (uint32_t)l.table_mask_off;
	}
	m->group_size = (uint32_t)l.group_size;
	m->key_off = (uint32_t)l.key_off;
	m->key_stride = (uint32_t)l.key_stride;
	m->elem_off = (uint32_t)l.elem_off;
	m->elem_stride = (uint32_t)l.elem_stride;
}

/* What one probed function gets: a program at its entry, one at each return. */
struct probe_plan {
	const char *func;
	struct bpf_program *entry, *ret;
	/* Set when cheaper places were found (cheap_points()): the entry program goes on
	 * @entry_at instead of the entry, the return program on the @nrets_at addresses
	 * (in other functions, after the calls) instead of the RETs. Virtual addresses. */
	uint64_t entry_at;
	uint64_t *rets_at;
	size_t nrets_at;
	/* a third program, at @result_at: the result check that stands for some RETs */
	struct bpf_program *result;
	uint64_t result_at;
};

static int attach_one(struct go_bin *b, struct bpf_program *prog, const char *path, uint64_t off)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_link *link, **links;
	long err;

	/* Every process of the binary: go_procs says which the probes act for. */
	link = bpf_program__attach_uprobe_opts(prog, -1, path, off, &uo);
	err = libbpf_get_error(link);
	if (err)
		return (int)err;
	links = realloc(b->links, (b->nlinks + 1) * sizeof(*links));
	if (!links) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	b->links = links;
	b->links[b->nlinks++] = link;
	return 0;
}

static void detach_bin(struct go_bin *b)
{
	while (b->nlinks)
		bpf_link__destroy(b->links[--b->nlinks]);
	free(b->links);
	b->links = NULL;
}

static const struct goelf_func *find_func(const struct goelf_funcs *fs, const char *name)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (!strcmp(fs->v[i].name, name))
			return &fs->v[i];
	return NULL;
}

/* The function of @fs holding code address @addr. */
static const struct goelf_func *func_at(const struct goelf_funcs *fs, uint64_t addr)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (addr >= fs->v[i].address && addr - fs->v[i].address < fs->v[i].size)
			return &fs->v[i];
	return NULL;
}

/* The file offset a uprobe at code address @addr attaches to; 0 when not code. */
static uint64_t file_offset(const struct goelf_funcs *fs, uint64_t addr)
{
	const struct goelf_func *f = func_at(fs, addr);

	return f ? f->offset + (addr - f->address) : 0;
}

static bool net_http_or_spawn(const char *name, void *arg)
{
	(void)arg;
	return !strncmp(name, "net/http.", 9) || !strcmp(name, "runtime.newproc") ||
	       !strcmp(name, "runtime.newproc.func1") || !strcmp(name, "runtime.runqput");
}

/*
 * Cheaper places for the per-request probes, where the kernel emulates the probed
 * instruction instead of single-stepping it (lib/go/probepoints.c; on the test VM a
 * single-step made each hit cost some 16 us, against 0.5 us):
 *  - ServeHTTP's entry on its stack-check jump;
 *  - its return after each call to it in net/http (conn.serve, the HTTP/2 and wrapper
 *    paths), when every call site has such a point; else on its RETs as before;
 *  - the spawn on the CALL runqput(pp, newg) in runtime.newproc's closure; before Go
 *    1.21 with the spawner from runtime.newproc's entry jump.
 * Each is all or nothing: a place not found leaves that probe where it was.
 */
static void cheap_points(struct goelf *g, struct probe_plan *serve, struct probe_plan *client,
			 struct probe_plan *spawn, struct go_offsets *o, struct goelf_funcs *cs)
{
	const struct goelf_func *sh, *rt, *pc, *np, *npf, *rq;
	struct goelf_result_check rc;
	struct goelf_call *calls = NULL;
	size_t ncalls = 0, i;
	uint64_t at;
	bool ok = true, curg;

	if (goelf_find_funcs(g, net_http_or_spawn, NULL, cs))
		return;
	sh = find_func(cs, serve->func);
	if (sh && goelf_entry_jump(g, sh, &at)) {
		serve->entry_at = at;
		o->probe_at |= GO_AT_SERVE_JUMP;
	}
	for (i = 0; sh && i < cs->n && ok; i++)
		if (!strncmp(cs->v[i].name, "net/http.", 9))
			ok = !goelf_calls_to(g, &cs->v[i], sh->address, &calls, &ncalls);
	for (i = 0; i < ncalls && ok; i++)
		ok = calls[i].after && file_offset(cs, calls[i].after);
	if (sh && ok && ncalls) {
		serve->rets_at = calloc(ncalls, sizeof(*serve->rets_at));
		for (i = 0; serve->rets_at && i < ncalls; i++)
			serve->rets_at[i] = calls[i].after;
		serve->nrets_at = serve->rets_at ? ncalls : 0;
	}
	free(calls);
	calls = NULL;
	ncalls = 0;

	rt = find_func(cs, client->func);
	if (rt && goelf_entry_jump(g, rt, &at)) {
		client->entry_at = at;
		o->probe_at |= GO_AT_CLIENT_JUMP;
	}
	/* roundTrip's one caller, the RoundTrip wrapper, has nothing the kernel emulates
	 * between the call and its own RET. Inside, the success way out begins at the JE on
	 * persistConn.roundTrip's error: a probe there stands for the RETs it leads to, and
	 * the other RETs (errors, HTTP/2 where it has its own) stay probed. */
	pc = find_func(cs, "net/http.(*persistConn).roundTrip");
	if (rt && pc && client->result && !goelf_result_check(g, rt, pc->address, &rc) &&
	    file_offset(cs, rc.check) && (client->rets_at = calloc(rt->nreturns + 1, sizeof(uint64_t)))) {
		for (i = 0; i < rt->nreturns; i++) {
			size_t j;

			for (j = 0; j < rc.nrets && rc.rets[j] != rt->returns[i]; j++)
				;
			if (j == rc.nrets)
				client->rets_at[client->nrets_at++] = rt->returns[i];
		}
		if (client->nrets_at && client->nrets_at < rt->nreturns) {
			client->result_at = rc.check;
			o->probe_at |= GO_AT_CLIENT_RESULT;
		} else {
			free(client->rets_at);
			client->rets_at = NULL;
			client->nrets_at = 0;
		}
	}
	if (!client->result_at)
		client->result = NULL;

	np = find_func(cs, "runtime.newproc");
	npf = find_func(cs, "runtime.newproc.func1");
	rq = find_func(cs, "runtime.runqput");
	if (!npf || !rq || goelf_calls_to(g, npf, rq->address, &calls, &ncalls) || ncalls != 1 ||
	    !calls[0].call_emulated) {
		free(calls);
		return;
	}
	/* before Go 1.21 the spawner is the thread's m.curg at that call (known from DWARF),
	 * else from newproc's entry, on the same thread as the closure */
	curg = o->g_parent_goid < 0 && o->g_m >= 0 && o->m_curg >= 0;
	if ((o->g_parent_goid < 0 && !curg && (!np || !goelf_entry_jump(g, np, &at))) ||
	    !(spawn->rets_at = malloc(sizeof(*spawn->rets_at)))) {
		free(calls);
		return;
	}
	if (curg) {
		spawn->entry = NULL;
		o->probe_at |= GO_AT_SPAWN_CURG;
	} else if (o->g_parent_goid < 0) {
		spawn->func = "runtime.newproc";
		spawn->entry_at = at;
		o->newproc_creator_arg = 0;
		o->probe_at |= GO_AT_SPAWN_JUMP;
	}
	spawn->rets_at[0] = calls[0].call;
	spawn->nrets_at = 1;
	o->spawn_newg_arg = 2;
	free(calls);
}

/*
 * --propagate: where the probe that publishes a request's ids for the sk_msg program goes
 * (bpf/go_send.bpf.h): net/http.(*Request).write's entry, on its stack-check jump when
 * there is one (emulated, not single-stepped). Returns the file offset, 0 when the
 * function is not found (the binary's requests then begin traces of their own).
 */
static uint64_t send_point(struct goelf *g, const struct goelf_funcs *cs, struct go_offsets *o)
{
	const struct goelf_func *f = find_func(cs, "net/http.(*Request).write");
	uint64_t at;

	if (!f || o->req_header < 0)
		return 0;
	if (goelf_entry_jump(g, f, &at) && file_offset(cs, at)) {
		o->probe_at |= GO_AT_SEND_JUMP;
		return file_offset(cs, at);
	}
	return f->offset;
}

/*
 * --propagate: where the connection's buffered writer hands a request's bytes to the
 * socket, persistConnWriter.Write (the value method, which io.Writer's itab holds, and
 * its pointer wrapper, each probed once found), on its stack-check jump when every one
 * has one. @at gets the file offsets; returns how many (0: (*Request).write publishes
 * for the thread itself).
 */
static size_t conn_points(struct goelf *g, const struct goelf_funcs *cs, struct go_offsets *o,
			  uint64_t at[2])
{
	static const char *const names[] = { "net/http.persistConnWriter.Write",
					     "net/http.(*persistConnWriter).Write" };
	const struct goelf_func *f[2];
	uint64_t jump[2];
	size_t n = 0, i, jumps = 0;

	for (i = 0; i < 2; i++) {
		f[n] = find_func(cs, names[i]);
		if (!f[n])
			continue;
		if (goelf_entry_jump(g, f[n], &jump[n]) && file_offset(cs, jump[n]))
			jumps++;
		n++;
	}
	for (i = 0; i < n; i++)
		at[i] = jumps == n ? file_offset(cs, jump[i]) : f[i]->offset;
	if (n)
		o->probe_at |= GO_AT_SEND_CONN | (jumps == n ? GO_AT_CONN_JUMP : 0);
	return n;
}

#define REFUSE(b, ...) do { snprintf((b)->reason, sizeof((b)->reason), __VA_ARGS__); (b)->state = BIN_REFUSED; } while (0)

/*
 * Read the binary behind /proc/@pid/exe and, when it is a Go program this source can
 * trace, attach its probes and store its offsets under key @id. Sets @b's state.
 */
static void setup_bin(struct go_source *s, struct go_bin *b, uint32_t id, const char *path)
{
	/* Nothing on goroutine exit: maps are keyed by goid, never reused, and LRU. */
	struct probe_plan plan[] = {
		{ .func = "net/http.serverHandler.ServeHTTP", .entry = s->skel->progs.go_serve_enter,
		  .ret = s->skel->progs.go_serve_return },
		{ .func = "net/textproto.(*Reader).readContinuedLineSlice", .ret = s->skel->progs.go_header_line },
		{ .func = "net/http.(*Transport).roundTrip", .entry = s->skel->progs.go_client_enter,
		  .ret = s->skel->progs.go_client_return, .result = s->skel->progs.go_client_result },
		{ .func = "runtime.newproc1", .entry = s->skel->progs.go_spawn_enter,
		  .ret = s->skel->progs.go_spawn_return },
	};
	const struct goelf_info *info;
	struct goelf_field_offset offs[goelf_want_fields_count];
	struct goelf_funcs fs = { 0 }, cs = { 0 };
	struct go_offsets o;
	char err[GOELF_ERR_MAX];
	struct goelf *g;
	size_t i, j, nprobes = 0, nconn = 0;
	uint64_t send_off = 0, conn_off[2];
	int min_minor, rc;

	b->state = BIN_NOT_GO;
	g = goelf_open(path, err, sizeof(err));
	if (!g)
		return; /* not ELF, or not Go: not ours */
	if (goelf_info(g, &info))
		goto out;
	snprintf(b->version, sizeof(b->version), "%s", info->go_version ? info->go_version : "go?");
#if defined(__x86_64__)
	if (info->arch != GOELF_ARCH_AMD64) {
		REFUSE(b, "%s binary for %s", b->version, goelf_arch_name(info->arch));
		goto out;
	}
	min_minor = GO_MIN_MINOR_AMD64;
#else
	if (info->arch != GOELF_ARCH_ARM64) {
		REFUSE(b, "%s binary for %s", b->version, goelf_arch_name(info->arch));
		goto out;
	}
	min_minor = GO_MIN_MINOR_ARM64;
#endif
	if (info->abi != GOELF_ABI_REGISTER || info->go_minor < min_minor) {
		REFUSE(b, "%s is too old: the probes read Go's register ABI, Go 1.%d and later",
		       b->version, min_minor);
		goto out;
	}
	if (goelf_want_functions(g, &fs)) {
		REFUSE(b, "%s: its functions cannot be read: %s", b->version, goelf_error(g));
		goto out;
	}
	if (!find_func(&fs, plan[0].func) && !find_func(&fs, plan[2].func))
		goto out; /* a Go program without net/http's server or client: not ours */
	for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		if (find_func(&fs, plan[i].func) || i == 0 || i == 2)
			continue;
		REFUSE(b, "%s: %s is not in the binary", b->version, plan[i].func);
		goto out;
	}
	if (goelf_want_offsets(g, GOELF_PREFER_AUTO, offs)) {
		REFUSE(b, "%s: struct layouts cannot be read: %s", b->version, goelf_error(g));
		goto out;
	}
	memset(&o, 0, sizeof(o));
	fill_offsets(offs, info->go_minor, &o);
	goroutine_offsets(g, info->go_minor, &o);
	/* From Go 1.21 the new g says who spawned it: one probe (the return) per spawn. */
	if (o.g_parent_goid >= 0)
		plan[3].entry = NULL;
	header_map_offsets(g, &o);
	/* The Header map's layout is known: the traceparent is read at ServeHTTP's entry,
	 * not on each header line. */
	if (o.header_map.kind != GO_MAP_UNKNOWN)
		plan[1].ret = NULL;
	cheap_points(g, &plan[0], &plan[2], &plan[3], &o, &cs);
	if (s->sends)
		send_off = send_point(g, &cs, &o);
	if (send_off)
		nconn = conn_points(g, &cs, &o, conn_off);
	if (o.g_goid < 0) {
		REFUSE(b, "%s: where runtime.g keeps the goroutine id is not known", b->version);
		goto out;
	}
	if (o.req_method < 0 || o.req_url < 0 || o.url_path < 0 ||
	    (find_func(&fs, plan[0].func) && (o.req_request_uri < 0 || o.response_req < 0 ||
					      o.response_status < 0)) ||
	    (find_func(&fs, plan[2].func) && o.resp_status_code < 0)) {
		REFUSE(b, "%s: the layout of net/http.Request, Response or response is not known "
		       "(no DWARF, no runtime type, no table row for this version)", b->version);
		goto out;
	}
	if (id >= GO_MAX_BINS || bpf_map_update_elem(bpf_map__fd(s->skel->maps.go_bins), &id, &o, BPF_ANY)) {
		REFUSE(b, "%s: the kernel map of binaries is full (%d)", b->version, GO_MAX_BINS);
		goto out;
	}
	for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		const struct goelf_func *f = find_func(&fs, plan[i].func) ? find_func(&fs, plan[i].func)
									  : find_func(&cs, plan[i].func);
		size_t nrets = plan[i].nrets_at ? plan[i].nrets_at : f ? f->nreturns : 0;

		if (!f)
			continue;
		rc = !plan[i].entry ? 0
		     : plan[i].entry_at ? attach_one(b, plan[i].entry, path, file_offset(&cs, plan[i].entry_at))
					: attach_one(b, plan[i].entry, path, f->offset);
		for (j = 0; !rc && plan[i].ret && j < nrets; j++)
			rc = attach_one(b, plan[i].ret, path,
					plan[i].nrets_at ? file_offset(&cs, plan[i].rets_at[j])
							 : f->offset + (f->returns[j] - f->address));
		if (!rc && plan[i].result)
			rc = attach_one(b, plan[i].result, path, file_offset(&cs, plan[i].result_at));
		if (rc) {
			REFUSE(b, "%s: attaching a uprobe to %s failed: %s", b->version, plan[i].func,
			       strerror(-rc));
			detach_bin(b);
			bpf_map_delete_elem(bpf_map__fd(s->skel->maps.go_bins), &id);
			goto out;
		}
		nprobes += (plan[i].entry ? 1 : 0) + (plan[i].ret ? nrets : 0) + (plan[i].result ? 1 : 0);
	}
	if (send_off) {
		/* the write first: without it the request's ids wait for nothing */
		for (i = 0, rc = 0; i < nconn && !rc; i++)
			rc = attach_one(b, s->skel->progs.go_conn_write, path, conn_off[i]);
		if (rc) {
			/* a part attached stays: it finds nothing kept, (*Request).write
			 * publishes for the thread itself */
			p_debug("Go: %s: attaching a uprobe to persistConnWriter.Write failed (%s): "
				"(*Request).write publishes", path, strerror(-rc));
			o.probe_at &= ~(GO_AT_SEND_CONN | GO_AT_CONN_JUMP);
			bpf_map_update_elem(bpf_map__fd(s->skel->maps.go_bins), &id, &o, BPF_ANY);
			nconn = 0;
		}
		nprobes += nconn;
		rc = attach_one(b, s->skel->progs.go_req_write, path, send_off);
		if (rc)
			p_warn("Go: %s: attaching a uprobe to net/http.(*Request).write failed: %s; its "
			       "requests get traceparents of new traces", path, strerror(-rc));
		else
			nprobes++;
	}
	s->stats.probes += nprobes;
	b->state = BIN_TRACED;
	go_memwrite_add_bin(s->mw, id, g, &fs, offs, path);
	p_debug("Go: %s %s: %zu uprobes (functions from %s); ServeHTTP entry %s, return %s, "
		"roundTrip entry %s, return %s, spawn %s; traceparent from %s%s", path,
		b->version, nprobes, fs.source,
		plan[0].entry_at ? "on its stack-check jump" : "at its entry",
		plan[0].nrets_at ? "after its calls" : "at its RETs",
		plan[2].entry_at ? "on its stack-check jump" : "at its entry",
		o.probe_at & GO_AT_CLIENT_RESULT ? "on its result check and its error RETs" : "at its RETs",
		!plan[3].nrets_at		   ? "at newproc1's RETs"
		: o.probe_at & GO_AT_SPAWN_CURG	   ? "at newproc's call of runqput (spawner: m.curg)"
		: o.probe_at & GO_AT_SPAWN_JUMP	   ? "at newproc's call of runqput (spawner: newproc's entry jump)"
						   : "at newproc's call of runqput",
		o.header_map.kind == GO_MAP_SWISS     ? "the Header map (Swiss tables)"
		: o.header_map.kind == GO_MAP_BUCKETS ? "the Header map (buckets)"
						      : "the header lines",
		!s->sends ? "" : !send_off ? "; (*Request).write not found: requests begin traces"
		: (o.probe_at & GO_AT_SEND_JUMP)
			? ((o.probe_at & GO_AT_CONN_JUMP) ? "; (*Request).write and persistConnWriter.Write on their stack-check jumps"
			   : (o.probe_at & GO_AT_SEND_CONN) ? "; (*Request).write on its stack-check jump, persistConnWriter.Write at its entry"
							 : "; (*Request).write on its stack-check jump")
			: (o.probe_at & GO_AT_SEND_CONN) ? "; (*Request).write and persistConnWriter.Write at their entries"
							 : "; (*Request).write at its entry");
out:
	for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++)
		free(plan[i].rets_at);
	goelf_funcs_free(&cs);
	goelf_funcs_free(&fs);
	goelf_close(g);
}

static void read_comm(uint32_t pid, char comm[16])
{
	char path[64];
	FILE *f;

	comm[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, 16, f))
		comm[strcspn(comm, "\n")] = 0;
	fclose(f);
}

/* A process to trace if it runs a Go binary with net/http: at start and after exec. */
static void probe_process(struct go_source *s, uint32_t pid, const char *comm_hint)
{
	char path[64], comm[16];
	struct go_proc proc = { 0 };
	struct go_bin *b = NULL, *nb;
	struct stat st;
	size_t i;

	if (pid == (uint32_t)getpid())
		return;
	if (comm_hint && *comm_hint)
		snprintf(comm, sizeof(comm), "%s", comm_hint);
	else
		read_comm(pid, comm);
	if (!filter_wants(s, pid, comm))
		return;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st))
		return; /* a kernel thread, or it is gone */
	for (i = 0; i < s->nbins; i++)
		if (s->bins[i].dev == st.st_dev && s->bins[i].ino == st.st_ino) {
			b = &s->bins[i];
			break;
		}
	if (!b) {
		nb = realloc(s->bins, (s->nbins + 1) * sizeof(*nb));
		if (!nb)
			return;
		s->bins = nb;
		b = &s->bins[s->nbins];
		memset(b, 0, sizeof(*b));
		b->dev = st.st_dev;
		b->ino = st.st_ino;
		b->id = s->ngo;
		setup_bin(s, b, b->id, path);
		if (b->state == BIN_TRACED)
			s->ngo++;
		s->nbins++;
	}
	if (b->state == BIN_NOT_GO)
		return;
	if (b->state == BIN_REFUSED) {
		p_warn("Go: pid %u (%s) not traced by uprobes: %s; the socket hooks still see its "
		       "HTTP/1 traffic", pid, comm, b->reason);
		s->stats.refused++;
		return;
	}
	proc.bin = b->id;
	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.go_procs), &pid, &proc, BPF_ANY)) {
		p_warn("Go: pid %u (%s) not traced by uprobes: more than %d Go processes", pid,
		       comm, GO_MAX_PROCS);
		s->stats.refused++;
		return;
	}
	if (pid_add(s, pid))
		return;
	go_memwrite_add_proc(s->mw, pid, b->id, comm);
	s->stats.processes++;
	/* Tests and scripts wait for this line before sending a new process traffic. */
	fprintf(stderr, "Go: tracing pid %u (%s), %s\n", pid, comm, b->version);
	fflush(stderr);
}

static void *exec_worker(void *arg)
{
	struct go_source *s = arg;
	struct exec_job job;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->njobs && !s->worker_stop)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->worker_stop)
			break;
		job = s->jobs[s->job_head];
		s->job_head = (s->job_head + 1) % (sizeof(s->jobs) / sizeof(s->jobs[0]));
		s->njobs--;
		pthread_mutex_unlock(&s->lock);
		probe_process(s, job.pid, job.comm);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void queue_exec(struct go_source *s, uint32_t pid, const char comm[16])
{
	size_t cap = sizeof(s->jobs) / sizeof(s->jobs[0]);

	pthread_mutex_lock(&s->lock);
	if (s->njobs < cap) {
		struct exec_job *j = &s->jobs[(s->job_head + s->njobs) % cap];

		j->pid = pid;
		memcpy(j->comm, comm, sizeof(j->comm));
		s->njobs++;
		pthread_cond_signal(&s->wake);
	} else {
		s->jobs_missed++;
	}
	pthread_mutex_unlock(&s->lock);
}

static void stop_worker(struct go_source *s)
{
	if (!s->worker_started)
		return;
	pthread_mutex_lock(&s->lock);
	s->worker_stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->worker, NULL);
	s->worker_started = false;
	if (s->jobs_missed)
		p_warn("Go: %llu processes that executed a new image were not looked at (too many "
		       "at once); Go programs among them were traced by the socket hooks alone",
		       (unsigned long long)s->jobs_missed);
}

static void scan_processes(struct go_source *s)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	char *end;

	if (!d)
		return;
	while ((de = readdir(d))) {
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid)
			continue;
		probe_process(s, (uint32_t)pid, NULL);
	}
	closedir(d);
}

/* ---- events → spans ------------------------------------------------------------------ */
static size_t bounded(uint16_t len, size_t size)
{
	return len < size ? len : size - 1;
}

/* "ip:port" or "[ip6]:port", as net/http's RemoteAddr and a URL's host give them. */
static void parse_hostport(const char *text, size_t len, struct span_addr *a)
{
	char buf[GO_ADDR_MAX + 1], *colon, *host = buf;
	unsigned long port;

	memset(a, 0, sizeof(*a));
	if (!len || len >= sizeof(buf))
		return;
	memcpy(buf, text, len);
	buf[len] = 0;
	colon = strrchr(buf, ':');
	if (!colon)
		return;
	*colon = 0;
	port = strtoul(colon + 1, NULL, 10);
	if (!port || port > 65535)
		return;
	if (*host == '[') {
		host++;
		if (colon[-1] == ']')
			colon[-1] = 0;
		if (inet_pton(AF_INET6, host, a->addr) != 1)
			return;
		a->family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, host, a->addr) != 1)
			return;
		a->family = AF_INET;
	}
	a->port = (uint16_t)port;
}

static bool zero_id(const uint8_t *id, size_t len)
{
	while (len--)
		if (id[len])
			return false;
	return true;
}

/* @ev as a span: strings point into @ev and @target, valid for the sink call. */
static void event_to_span(const struct go_source *s, const struct go_event *ev, bool partial,
			  char *target, size_t target_size, struct span *sp)
{
	size_t n;

	memset(sp, 0, sizeof(*sp));
	sp->start_ns = span_clock_wall(s->clock, ev->start_ns);
	sp->end_ns = partial ? sp->start_ns : span_clock_wall(s->clock, ev->end_ns);
	sp->pid = ev->pid;
	sp->tid = ev->tid;
	memcpy(sp->comm, ev->comm, sizeof(sp->comm));
	sp->comm[sizeof(sp->comm) - 1] = 0;
	sp->role = ev->role == SPAN_ROLE_CLIENT ? SPAN_ROLE_CLIENT : SPAN_ROLE_SERVER;
	sp->source = SPAN_SOURCE_GO_UPROBE;
	sp->http_major = ev->proto_major ? ev->proto_major : 1;
	sp->http_minor = ev->proto_major ? ev->proto_minor : 1;
	/* no response: the capture stopped first, or roundTrip returned an error */
	if (partial || (ev->flags & GO_F_ERROR))
		sp->flags |= SPAN_F_PARTIAL;
	if (ev->flags & GO_F_TARGET_CUT)
		sp->flags |= SPAN_F_TRUNCATED;
	if (ev->flags & GO_F_TP_UNREAD)
		sp->flags |= SPAN_F_TRACEPARENT_UNREAD;
	sp->method = ev->method; /* NUL-terminated: the kernel copied at most size - 1 */
	n = bounded(ev->target_len, sizeof(ev->target));
	if (ev->query_len)
		snprintf(target, target_size, "%.*s?%.*s", (int)n, ev->target,
			 (int)bounded(ev->query_len, sizeof(ev->query)), ev->query);
	else
		snprintf(target, target_size, "%.*s", (int)n, ev->target);
	sp->target = target;
	sp->host = ev->host_len ? ev->host : ev->url_host;
	sp->status = partial ? 0 : ev->status;
	if (ev->remote_len)
		parse_hostport(ev->remote, bounded(ev->remote_len, sizeof(ev->remote)), &sp->remote);
	else if (ev->url_host_len)
		parse_hostport(ev->url_host, bounded(ev->url_host_len, sizeof(ev->url_host)), &sp->remote);
	memcpy(sp->trace_id, ev->trace_id, sizeof(sp->trace_id));
	memcpy(sp->span_id, ev->span_id, sizeof(sp->span_id));
	memcpy(sp->parent_span_id, ev->parent_span_id, sizeof(sp->parent_span_id));
	sp->has_parent = !zero_id(ev->parent_span_id, sizeof(ev->parent_span_id));
	sp->goid = ev->goid;
	sp->go_depth = ev->depth;
	sp->parent_ended = ev->flags & GO_F_PARENT_ENDED;
	if (ev->flags & GO_F_TRACEPARENT)
		sp->go_link = SPAN_GO_LINK_INCOMING;
	else if (ev->flags & GO_F_LINK_SERVER)
		sp->go_link = SPAN_GO_LINK_HANDLER;
	else if (ev->flags & GO_F_LINK_SPAWNED)
		sp->go_link = SPAN_GO_LINK_SPAWNED;
	else if (ev->flags & GO_F_LINK_GAVE_UP)
		sp->go_link = SPAN_GO_LINK_GAVE_UP;
	else
		sp->go_link = SPAN_GO_LINK_ROOT;
	if (s->propagate && sp->role == SPAN_ROLE_CLIENT) {
		sp->propagation = ev->prop;
		sp->propagation_reason = ev->prop == GO_PROP_SKIPPED ? ev->prop_reason : 0;
		go_memwrite_span(s->mw, sp);
	}
}

static int emit_event(struct go_source *s, const struct go_event *ev, bool partial,
		      struct span_sink *out)
{
	char target[GO_TARGET_MAX + GO_QUERY_MAX + 2];
	struct span sp;

	if (!out)
		return 0;
	event_to_span(s, ev, partial, target, sizeof(target), &sp);
	s->stats.spans++;
	return out->emit(out, &sp);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct go_source *s = ctx;
	const struct go_event *ev = data;

	if (size < offsetof(struct go_event, method))
		return 0;
	s->stats.events++;
	if (ev->type == GO_EV_EXEC) {
		char comm[16];

		memcpy(comm, ev->comm, sizeof(comm));
		comm[15] = 0;
		pid_remove(s, ev->pid);
		go_memwrite_remove_proc(s->mw, ev->pid);
		queue_exec(s, ev->pid, comm);
		return 0;
	}
	if (size < sizeof(*ev) || s->out_err)
		return 0;
	s->out_err = emit_event(s, ev, false, s->out);
	return 0;
}

/* ---- the source's operations ----------------------------------------------------------- */
int go_source_fd(void *ctx)
{
	struct go_source *s = ctx;

	return ring_buffer__epoll_fd(s->rb);
}

int go_source_poll(void *ctx, struct span_sink *out)
{
	struct go_source *s = ctx;
	int rc;

	s->out = out;
	s->out_err = 0;
	rc = ring_buffer__consume(s->rb);
	s->out = NULL;
	if (s->out_err)
		return s->out_err < 0 ? s->out_err : 1;
	return rc < 0 && rc != -EINTR ? rc : 0;
}

/* Requests still in the kernel's maps at the end: partial spans. */
static void drain_map(struct go_source *s, int fd, struct span_sink *out)
{
	struct go_key key, next, *prev = NULL;
	struct go_req r;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &r) || !go_source_traces(s, key.pid))
			continue;
		if (emit_event(s, &r.ev, true, out))
			out = NULL;
	}
}

void go_source_finish(void *ctx, struct span_sink *out)
{
	struct go_source *s = ctx;
	struct go_counters *per_cpu;
	int ncpus = libbpf_num_possible_cpus();
	uint32_t zero = 0;

	if (!s->skel)
		return;
	stop_worker(s);
	loader_detach(&s->loader);
	for (size_t i = 0; i < s->nbins; i++)
		detach_bin(&s->bins[i]);
	go_source_poll(s, out);
	drain_map(s, bpf_map__fd(s->skel->maps.server_reqs), out);
	drain_map(s, bpf_map__fd(s->skel->maps.client_reqs), out);
	per_cpu = ncpus > 0 ? calloc(ncpus, sizeof(*per_cpu)) : NULL;
	if (per_cpu && !bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.go_counters), &zero, per_cpu)) {
		s->stats.dropped = s->stats.no_state = s->stats.tp_unread = 0;
		for (int i = 0; i < ncpus; i++) {
			s->stats.dropped += per_cpu[i].dropped;
			s->stats.no_state += per_cpu[i].no_state;
			s->stats.tp_unread += per_cpu[i].tp_unread;
		}
	}
	free(per_cpu);
	if (s->mw) {
		struct go_memwrite_stats mst;
		char line[256];

		go_memwrite_detach(s->mw);
		go_memwrite_get_stats(s->mw, &mst);
		go_memwrite_format_stats(&mst, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
}

void go_source_get_stats(const struct go_source *s, struct go_source_stats *st)
{
	*st = s->stats;
}

void go_source_destroy(void *ctx)
{
	struct go_source *s = ctx;

	if (!s)
		return;
	stop_worker(s);
	loader_detach(&s->loader);
	for (size_t i = 0; i < s->nbins; i++)
		detach_bin(&s->bins[i]);
	ring_buffer__free(s->rb);
	go_memwrite_close(s->mw);
	go_http_bpf__destroy(s->skel);
	free(s->bins);
	free(s->pids);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}

static const struct loader_optional optional_progs[] = {
	{ NULL, 0 },
};

static struct go_source *go_source_new(const struct go_source_opts *opts)
{
	struct go_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (opts->filter)
		s->filter = *opts->filter;
	else
		span_filter_init(&s->filter);
	span_clock_now(&s->own_clock);
	s->clock = opts->clock ? opts->clock : &s->own_clock;
	s->propagate = opts->propagate;
	s->sends = opts->go_sends_fd > 0;
	return s;
}

/* Open, configure and load the object for @opts: the one path go_source_open() and
 * go_source_try() share, so that check judges what attach loads. */
static int go_source_load(struct go_source *s, const struct go_source_opts *opts)
{
	int err;

	loader_setup_libbpf();
	s->skel = go_http_bpf__open();
	if (!s->skel) {
		err = -errno;
		p_err("opening the Go probes' BPF object failed: %s", strerror(-err));
		return err;
	}
	s->skel->rodata->self_tgid = getpid();
	if (opts->ringbuf_kb) {
		uint32_t ring = 4096;

		/* a power-of-two number of pages, as the capture's */
		while (ring < opts->ringbuf_kb * 1024u && ring < (1u << 30))
			ring <<= 1;
		bpf_map__set_max_entries(s->skel->maps.go_events, ring);
	}
	/* --propagate's map of publications, shared; without it the program is not attached
	 * and its map is a token one. */
	if (opts->go_sends_fd > 0) {
		err = bpf_map__reuse_fd(s->skel->maps.go_sends, opts->go_sends_fd);
		if (err) {
			p_err("sharing --propagate's map with the Go probes failed: %s", strerror(-err));
			return err;
		}
	} else {
		bpf_map__set_max_entries(s->skel->maps.go_sends, 64);
	}
	/* Woken per 1/16 of the ring at most: the live loop polls every round anyway. */
	s->skel->rodata->wakeup_bytes = bpf_map__max_entries(s->skel->maps.go_events) / 16;
	err = loader_load(&s->loader, s->skel->obj, optional_progs);
	if (!err && opts->propagate_memory) {
		char why[256];

		err = go_memwrite_open(&s->mw, bpf_map__fd(s->skel->maps.client_reqs),
				       bpf_map__fd(s->skel->maps.client_hdrs),
				       bpf_map__fd(s->skel->maps.go_procs),
				       opts->memwrite_exclude_fd > 0 ? opts->memwrite_exclude_fd : -1,
				       why, sizeof(why));
		if (err && opts->propagate_memory == GO_MEMWRITE_REQUIRED)
			p_err("--propagate=memory: %s; use --propagate=sockmsg, which inserts the "
			      "header as the kernel sends it and works under lockdown", why);
		else if (err)
			p_warn("--propagate: Go programs get no memory writes (%s)", why);
		if (opts->propagate_memory != GO_MEMWRITE_REQUIRED)
			err = 0;
	}
	return err;
}

int go_source_try(const struct go_source_opts *opts, char *error, size_t error_len)
{
	struct go_source *s = go_source_new(opts);
	int err;

	if (!s) {
		snprintf(error, error_len, "out of memory");
		return -ENOMEM;
	}
	p_err_divert(error, error_len);
	err = go_source_load(s, opts);
	p_err_divert(NULL, 0);
	go_source_destroy(s);
	return err;
}

int go_source_open(struct go_source **out, const struct go_source_opts *opts)
{
	struct go_source *s = go_source_new(opts);
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	err = go_source_load(s, opts);
	if (err)
		goto fail;
	err = loader_attach_all(&s->loader, optional_progs);
	if (err)
		goto fail;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.go_events), handle_event, s, NULL);
	if (!s->rb) {
		err = -errno;
		p_err("the Go probes' ring buffer: %s", strerror(-err));
		goto fail;
	}
	/* After the exec tracepoint is attached: a process that starts now is seen by one
	 * or the other (or both: probing twice is harmless). */
	scan_processes(s);
	err = -pthread_create(&s->worker, NULL, exec_worker, s);
	if (err) {
		p_err("the Go source's thread: %s", strerror(-err));
		goto fail;
	}
	s->worker_started = true;
	*out = s;
	return 0;
fail:
	go_source_destroy(s);
	return err;
}
