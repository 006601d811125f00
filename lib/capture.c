// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall capture source: load bpf/capture.bpf.c through the shared loader, read
 * its ring buffer, keep one connection (lib/httpconn.h, holding the protocol its first
 * bytes chose) per socket and hand the spans they complete to the pipeline, which
 * filters, counts and fans them out.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "capture.h"
#include "cgroup.h"
#include "capture_feed.h"
#include "capture.skel.h"
#include "cli.h"
#include "hook_users.h"
#include "httpconn.h"
#include "loader.h"
#include "pipeline.h"
#include "process_rodata.h"
#include "process.h"

#define CAPTURE_RINGBUF_KB_DEFAULT (16 * 1024)
#define CAPTURE_WAKEUP_BYTES (128 * 1024)
/* Connections followed at once in user space; the least recently used one goes when
 * more arrive (its request, if any, is reported as partial). Matches the kernel map. */
#define CAPTURE_MAX_CONNS 65536
#define CONN_BUCKETS 16384
/* How often the processes given with -p are looked for. */
#define TARGET_CHECK_NS 1000000000ull
/* A connection inside a body with no event for this long has its unseen bytes read
 * from the kernel's map (nginx's sendfile body ends a response without an event).
 * Time, not poll rounds: under load a round lasts about a millisecond, and a lookup
 * per busy connection per round was a sixth of ehttp's CPU, where the connection's
 * next event, a moment later, carries the same totals. */
#define UNSEEN_QUIET_NS 10000000ull
/* When a look found nothing new, the next waits twice as long, up to 2^this times
 * UNSEEN_QUIET_NS: long transfers cost a few lookups a second. */
#define UNSEEN_BACKOFF_MAX 6

/* The kernel's enums mirror user space's: pinned, so neither can move alone. */
#define SAME(a, b) ((int)(a) == (int)(b))
_Static_assert(SAME(CAPTURE_EGRESS, HTTPCONN_EGRESS) && SAME(CAPTURE_INGRESS, HTTPCONN_INGRESS),
	       "enum capture_dir mirrors enum httpconn_dir");
_Static_assert(SAME(CAPTURE_ROLE_UNKNOWN, SPAN_ROLE_UNKNOWN) && SAME(CAPTURE_ROLE_SERVER, SPAN_ROLE_SERVER) &&
		       SAME(CAPTURE_ROLE_CLIENT, SPAN_ROLE_CLIENT),
	       "enum capture_role mirrors enum span_role");
_Static_assert(SAME(CAPTURE_CLASS_UNKNOWN, HTTPCONN_UNKNOWN) && SAME(CAPTURE_CLASS_HTTP, HTTPCONN_HTTP) &&
		       SAME(CAPTURE_CLASS_NOT_HTTP, HTTPCONN_NOT_HTTP),
	       "enum capture_class mirrors enum httpconn_state");
_Static_assert(offsetof(struct capture_event, type) == offsetof(struct ehttp_event_hdr, type) &&
		       offsetof(struct capture_event, size) == offsetof(struct ehttp_event_hdr, size),
	       "a capture event starts with the shared record header");
_Static_assert(SAME(CAPTURE_EV_EXIT, EHTTP_EV_CAPTURE_FIRST + 2) && EHTTP_EV_CAPTURE_LAST < EHTTP_EV_GO_FIRST,
	       "capture events stay in their range");
#undef SAME

struct conn {
	uint64_t key; /* pid << 32 | fd */
	uint64_t conn_id;
	uint32_t pid;
	uint32_t seq;          /* number of the last event taken (struct capture_event) */
	struct httpconn *http; /* NULL once the connection was judged not HTTP */
	struct capture_feed_pos pos;
	struct conn *hnext;    /* hash chain */
	TAILQ_ENTRY(conn) lru; /* use order, least recent first */
	/* In a body (httpconn_in_body): on the list of those whose end may come as
	 * unseen bytes without an event. */
	bool in_body;
	uint8_t backoff;
	uint64_t last_ts;      /* when its last event's call returned (CLOCK_MONOTONIC) */
	uint64_t next_look_ns; /* when its unseen bytes are read again */
	TAILQ_ENTRY(conn) body;
};

struct capture {
	struct capture_bpf *skel;
	struct loader loader;
	struct ring_buffer *rb;
	struct capture_opts opts;
	struct span_clock clock;
	struct httpconn_opts http_opts;
	int hooks;            /* enum capture_hooks: SOCKETS or SYSCALLS once open */
	char hooks_why[160];  /* why those hooks */
	bool done;            /* the pipeline wants no more spans, or the -p processes are gone */
	bool finished;        /* detached and drained */
	bool targets_gone;    /* every process given with -p has exited */
	uint64_t next_target_check_ns;

	struct conn *buckets[CONN_BUCKETS];
	TAILQ_HEAD(, conn) lru;
	size_t nconns;
	TAILQ_HEAD(, conn) in_body; /* connections in a body */

	struct span_sink forward;  /* what parsers emit into: on to @sink */
	struct span_sink *sink;    /* the pipeline's during poll/finish */
	int sink_err;

	struct capture_stats stats;
};

static const struct loader_optional optional_progs[] = {
	/* The bytes come from the socket or syscall hooks, which the capture cannot do
	 * without. Without these, state of exited processes goes at close or eviction
	 * instead, and (syscall hooks) an fd replaced by exec may be taken for the
	 * connection it was. */
	{ "process_exit", -1 },
	{ "process_exec", -1 },
	{ NULL, 0 },
};

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- options ------------------------------------------------------------------------- */

void capture_opts_init(struct capture_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	span_filter_init(&opts->filter);
}

static const char *const hooks_names[] = {
	[CAPTURE_HOOKS_AUTO] = "auto", [CAPTURE_HOOKS_SOCKETS] = "sockets",
	[CAPTURE_HOOKS_SYSCALLS] = "syscalls", NULL,
};

const struct opt capture_opt_table[] = {
	{ "count", 'c', "N", "stop after N spans",
	  OPT_UINT(struct capture_opts, max_spans, 1, ~0ul) },
	{ "duration", 0, "SEC", "stop after SEC seconds",
	  OPT_UINT(struct capture_opts, duration_s, 1, 365ul * 24 * 3600) },
	{ "snaplen", 0, "BYTES", "payload bytes copied per syscall",
	  OPT_UINT(struct capture_opts, snaplen, CAPTURE_SNAPLEN_MIN, CAPTURE_SNAPLEN_MAX) },
	/* KiB, as tcpdump's -B; 64 KiB to 1 GiB, rounded up to a power of two. */
	{ "buffer-size", 'B', "KIB",
	  "ring buffer size (default 16384, rounded up to a power\n"
	  "of two); a larger one rides out longer bursts",
	  OPT_UINT(struct capture_opts, ringbuf_kb, 64, 1ul << 20) },
	{ "hooks", 0, "auto|sockets|syscalls",
	  "what to hook: socket tracepoints (Linux >= 6.3)\n"
	  "or the raw syscall exit tracepoint; auto picks sockets\n"
	  "when the kernel has them",
	  OPT_CHOICE(struct capture_opts, hooks, hooks_names) },
	{ "no-redact", 0, NULL, "keep Authorization, Cookie and Set-Cookie values",
	  OPT_FLAG(struct capture_opts, no_redact) },
	{ NULL },
};

int capture_parse_opt(struct capture_opts *opts, int argc, char **argv)
{
	const struct opt_group groups[] = { CAPTURE_OPT_GROUPS(opts, NULL), { NULL, NULL, NULL } };

	return opts_parse_one(groups, argc, argv);
}

/* ---- connection table ------------------------------------------------------------------ */

static uint64_t conn_key(uint32_t pid, int32_t fd)
{
	return (uint64_t)pid << 32 | (uint32_t)fd;
}

static size_t bucket_of(uint64_t key)
{
	return (key * 0x9e3779b97f4a7c15ull) >> 50 & (CONN_BUCKETS - 1);
}

static struct conn *conn_find(struct capture *c, uint64_t key)
{
	struct conn *e;

	for (e = c->buckets[bucket_of(key)]; e; e = e->hnext)
		if (e->key == key)
			return e;
	return NULL;
}

static void set_in_body(struct capture *c, struct conn *e, bool in_body)
{
	if (e->in_body == in_body)
		return;
	e->in_body = in_body;
	if (in_body)
		TAILQ_INSERT_TAIL(&c->in_body, e, body);
	else
		TAILQ_REMOVE(&c->in_body, e, body);
}

/* Complete what the connection can complete and forget it. */
static void conn_remove(struct capture *c, struct conn *e, uint64_t ts_ns)
{
	struct conn **pp = &c->buckets[bucket_of(e->key)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	TAILQ_REMOVE(&c->lru, e, lru);
	set_in_body(c, e, false);
	c->nconns--;
	if (e->http)
		httpconn_close(e->http, ts_ns, c->sink ? &c->forward : NULL);
	free(e);
}

static void addr_from_event(struct span_addr *out, const struct capture_addr *in)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->port = in->port;
	/* A dual-stack socket talking IPv4 shows the IPv4 address people know. */
	if (in->family == AF_INET6 && !memcmp(in->addr, v4mapped, sizeof(v4mapped))) {
		out->family = AF_INET;
		memcpy(out->addr, in->addr + 12, 4);
	} else {
		memcpy(out->addr, in->addr, in->family == AF_INET ? 4 : 16);
	}
}

static struct conn *conn_add(struct capture *c, const struct capture_event *ev)
{
	struct httpconn_info info = {
		.conn_id = ev->conn_id,
		.pid = ev->pid,
		.role = ev->role,
		.midstream = ev->role == CAPTURE_ROLE_UNKNOWN,
		.source = SPAN_SOURCE_SYSCALL,
	};
	struct conn *e;
	size_t b;

	if (c->nconns >= CAPTURE_MAX_CONNS) {
		p_debug("connection table full: forgetting the least recently used one");
		c->stats.lost++;
		conn_remove(c, TAILQ_FIRST(&c->lru), ev->ts_ns);
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	memcpy(info.comm, ev->comm, sizeof(info.comm));
	info.comm[sizeof(info.comm) - 1] = '\0';
	addr_from_event(&info.local, &ev->local);
	addr_from_event(&info.remote, &ev->remote);
	e->http = httpconn_new(&info, &c->http_opts);
	if (!e->http) {
		free(e);
		return NULL;
	}
	e->key = conn_key(ev->pid, ev->fd);
	e->conn_id = ev->conn_id;
	e->pid = ev->pid;
	/* Bytes sent unseen before its first event are no message's (a connection picked
	 * up mid-stream): not fed. */
	e->pos.unseen[0] = ev->unseen[0];
	e->pos.unseen[1] = ev->unseen[1];
	b = bucket_of(e->key);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	TAILQ_INSERT_TAIL(&c->lru, e, lru);
	c->nconns++;
	c->stats.conns++;
	return e;
}

/* The kernel keys connections by socket cookie (= conn id) or by pid and fd. */
static uint64_t kernel_conn_key(const struct capture *c, const struct conn *e)
{
	return c->hooks == CAPTURE_HOOKS_SOCKETS ? e->conn_id : e->key;
}

/* The kernel's state for @e, in @kc: false when it has none (any more). */
static bool read_kernel_conn(struct capture *c, const struct conn *e, struct capture_conn *kc)
{
	uint64_t key = kernel_conn_key(c, e);

	return !bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.conns), &key, kc) &&
	       kc->conn_id == e->conn_id;
}

/* The parser gave up on the connection: the kernel stops sending its bytes. */
static void tell_kernel_not_http(struct capture *c, const struct conn *e)
{
	struct capture_conn kc;
	uint64_t key = kernel_conn_key(c, e);

	if (!read_kernel_conn(c, e, &kc))
		return;
	kc.class = CAPTURE_CLASS_NOT_HTTP;
	bpf_map_update_elem(bpf_map__fd(c->skel->maps.conns), &key, &kc, BPF_EXIST);
}

/* ---- events ---------------------------------------------------------------------------- */

static void debug_event(const struct capture_event *ev, const uint8_t *data)
{
	static const char *const types[] = { "?", "data", "close", "exit" };
	char text[81];
	uint32_t i, n = ev->captured < 80 ? ev->captured : 80;

	for (i = 0; i < n; i++)
		text[i] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '.';
	text[n] = '\0';
	p_debug("event %s pid %u tid %u fd %d conn %#llx seq %u %s role %u class %u len %llu captured %u unseen %llu/%llu: %s",
		types[ev->type <= CAPTURE_EV_EXIT ? ev->type : 0], ev->pid, ev->tid, ev->fd,
		(unsigned long long)ev->conn_id, ev->seq, ev->dir == CAPTURE_EGRESS ? "out" : "in",
		ev->role, ev->class, (unsigned long long)ev->len, ev->captured,
		(unsigned long long)ev->unseen[0], (unsigned long long)ev->unseen[1], text);
}

static int look_for_unseen(struct capture *c, struct conn *e);

static void drop_pid(struct capture *c, uint32_t pid, uint64_t ts_ns)
{
	struct conn *e, *next;

	for (e = TAILQ_FIRST(&c->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->pid != pid)
			continue;
		if (e->in_body) /* what it sent unseen before it went */
			look_for_unseen(c, e);
		conn_remove(c, e, ts_ns);
	}
	process_exited(pid);
}

/* What feeding @e returned (@rc): keep the body list right, and when the parser
 * gave up, say so to the kernel. @counted: the bytes had looked like HTTP. */
static int after_feed(struct capture *c, struct conn *e, int rc, bool counted, uint64_t ts_ns)
{
	if (rc < 0)
		return rc;
	if (rc == HTTPCONN_NOT_HTTP) {
		if (counted)
			c->stats.lost++; /* it looked like HTTP but was not parseable as such */
		httpconn_close(e->http, ts_ns, NULL);
		e->http = NULL;
		set_in_body(c, e, false);
		tell_kernel_not_http(c, e);
		return 0;
	}
	set_in_body(c, e, httpconn_in_body(e->http));
	return 0;
}

static int handle_data(struct capture *c, const struct capture_event *ev, const uint8_t *data,
		       size_t avail)
{
	uint64_t key = conn_key(ev->pid, ev->fd);
	struct conn *e = conn_find(c, key);
	int rc;

	if (e && e->conn_id != ev->conn_id) {
		/* The fd was closed (its close event lost) and reused. */
		conn_remove(c, e, ev->ts_ns);
		e = NULL;
	}
	if (!e) {
		e = conn_add(c, ev);
		if (!e)
			return -ENOMEM;
	} else {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_TAIL(&c->lru, e, lru);
	}
	e->seq = ev->seq;
	e->last_ts = ev->ts_ns;
	e->backoff = 0;
	e->next_look_ns = 0;
	if (!e->http)
		return 0;
	rc = capture_feed(e->http, &e->pos, ev, data, avail, &c->forward);
	return after_feed(c, e, rc, ev->class == CAPTURE_CLASS_HTTP, ev->ts_ns);
}

/*
 * @e, in a body, had no event for a while: feed the unseen bytes the kernel counted
 * since its last event. Its totals are trusted only when no event was numbered after
 * the last one taken, before and after they were read: then every byte they count
 * went after the bytes already fed, and before any not yet read.
 */
static int look_for_unseen(struct capture *c, struct conn *e)
{
	struct capture_conn before, after;
	int rc;

	if (read_kernel_conn(c, e, &before) && before.seq == e->seq &&
	    read_kernel_conn(c, e, &after) && after.seq == e->seq &&
	    (before.unseen[0] != e->pos.unseen[0] || before.unseen[1] != e->pos.unseen[1])) {
		e->backoff = 0;
		rc = capture_feed_unseen(e->http, &e->pos, before.unseen, before.unseen_ts, &c->forward);
		return after_feed(c, e, rc, true, before.unseen_ts);
	}
	/* Nothing new, or nothing to trust yet (an event is on its way, or was dropped,
	 * or the kernel forgot the connection): look again later. */
	if (e->backoff < UNSEEN_BACKOFF_MAX)
		e->backoff++;
	e->next_look_ns = mono_now() + (UNSEEN_QUIET_NS << e->backoff);
	return 0;
}

/* Connections in a body that have been quiet for a while and are due a look (all of
 * them with @all). */
static int look_for_unseen_all(struct capture *c, bool all)
{
	uint64_t now = mono_now();
	struct conn *e, *next;
	int rc;

	for (e = TAILQ_FIRST(&c->in_body); e; e = next) {
		next = TAILQ_NEXT(e, body);
		if (!all && (now < e->last_ts + UNSEEN_QUIET_NS || now < e->next_look_ns))
			continue;
		rc = look_for_unseen(c, e);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int handle_event(void *ctx, void *raw, size_t size)
{
	struct capture *c = ctx;
	const struct ehttp_event_hdr *hdr = raw;
	const struct capture_event *ev = raw;
	const uint8_t *data = (const uint8_t *)(ev + 1);
	struct conn *e;
	int rc = 0;

	/* Records of other objects on a shared ring, or of a newer one: not ours. */
	if (size < sizeof(*hdr) || hdr->size > size || hdr->type < EHTTP_EV_CAPTURE_FIRST ||
	    hdr->type > EHTTP_EV_CAPTURE_LAST)
		return 0;
	size = hdr->size;
	if (size < sizeof(*ev) || ev->captured > size - sizeof(*ev))
		return 0;
	c->stats.events++;
	if (debug_output)
		debug_event(ev, data);
	switch (ev->type) {
	case CAPTURE_EV_DATA:
		rc = handle_data(c, ev, data, size - sizeof(*ev));
		break;
	case CAPTURE_EV_CLOSE:
		e = conn_find(c, conn_key(ev->pid, ev->fd));
		if (e && e->conn_id == ev->conn_id) {
			if (e->http)
				rc = capture_feed(e->http, &e->pos, ev, data, 0, &c->forward);
			conn_remove(c, e, ev->ts_ns);
		}
		break;
	case CAPTURE_EV_EXIT:
		drop_pid(c, ev->pid, ev->ts_ns);
		break;
	}
	if (rc >= 0 && c->sink_err)
		rc = c->sink_err;
	if (rc < 0) {
		c->sink_err = rc;
		return rc;
	}
	/* Stop reading once the pipeline has enough: what follows would not be shown. */
	return c->done ? -ECANCELED : 0;
}

/* Parsers emit here; the pipeline applies the filters and the count. */
static int forward_emit(struct span_sink *sink, const struct span *span)
{
	struct capture *c = sink->ctx;
	int rc;

	if (!c->sink)
		return 0;
	rc = c->sink->emit(c->sink, span);
	if (rc == PIPELINE_ENOUGH) {
		c->done = true;
		return 0;
	}
	if (rc) {
		c->sink_err = rc < 0 ? rc : -EIO;
		return rc;
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void configure(struct capture *c)
{
	struct capture_bpf *skel = c->skel;
	const struct span_filter *f = &c->opts.filter;
	uint32_t ring = (c->opts.ringbuf_kb ? c->opts.ringbuf_kb : CAPTURE_RINGBUF_KB_DEFAULT) * 1024;
	size_t i;
	int ncpus = libbpf_num_possible_cpus();

	/* The ring must be a power-of-two number of pages. */
	for (i = 4096; i < ring && i < (1u << 30); i <<= 1)
		;
	ring = i;
	bpf_map__set_max_entries(skel->maps.events, ring);
	bpf_map__set_max_entries(skel->maps.scratch, ncpus > 0 ? ncpus : 1);
	skel->rodata->snaplen = c->opts.snaplen ? c->opts.snaplen : CAPTURE_SNAPLEN_DEFAULT;
	/* The reader takes events in small batches, while they are still in the cache:
	 * with wrk → nginx, waking it per 1 MiB kept 0.84 of nginx's throughput, per
	 * 64-128 KiB 0.87-0.92 (tests/bench/bench_attach.sh). */
	skel->rodata->wakeup_bytes = ring / 16 < CAPTURE_WAKEUP_BYTES ? ring / 16 : CAPTURE_WAKEUP_BYTES;
	/* The process filters the kernel can apply. */
	PROCESS_RODATA_SET(skel->rodata, f);
	skel->rodata->targ_port = f->port;
}

int capture_hooks_auto(char *why, size_t len)
{
	/* The socket hooks' tracepoints, all in the kernel's BTF since Linux 6.3. */
	static const char *const tps[] = { "sock_send_length", "sock_recv_length",
					   "inet_sock_set_state" };

	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (kernel_raw_tp_btf_id(tps[i]) < 0) {
			snprintf(why, len, "%s not in this kernel (Linux >= 6.3)", tps[i]);
			return CAPTURE_HOOKS_SYSCALLS;
		}
	}
	snprintf(why, len, "sock_send_length, sock_recv_length and inet_sock_set_state are in this kernel");
	return CAPTURE_HOOKS_SOCKETS;
}

/* Load the programs of one set of hooks only (docs/capture.md). */
static void choose_hooks(struct capture_bpf *skel, int hooks)
{
	bool sockets = hooks == CAPTURE_HOOKS_SOCKETS;

	bpf_program__set_autoload(skel->progs.sock_send, sockets);
	bpf_program__set_autoload(skel->progs.sock_recv, sockets);
	bpf_program__set_autoload(skel->progs.sock_state, sockets);
	bpf_program__set_autoload(skel->progs.sys_exit, !sockets);
	/* Process images matter to the syscall hooks' fd-keyed state only. */
	bpf_program__set_autoload(skel->progs.process_exec, !sockets);
}

int capture_hooks(const struct capture *c)
{
	return c->hooks;
}

const char *capture_hooks_why(const struct capture *c)
{
	return c->hooks_why;
}

const char *capture_hooks_name(int hooks)
{
	switch (hooks) {
	case CAPTURE_HOOKS_SOCKETS: return "sockets";
	case CAPTURE_HOOKS_SYSCALLS: return "syscalls";
	}
	return "auto";
}

/* Another capture (or any program) on the same tracepoints makes every traced call pay
 * twice, and a forgotten one goes on costing after its user left: say so, once per
 * process holding them. */
static void warn_other_hook_users(void)
{
	struct hook_user v[16];
	size_t total;
	int n = hook_users_find(v, sizeof(v) / sizeof(v[0]), getpid(), &total);

	for (int i = 0; i < n; i++) {
		char tps[256] = "";
		size_t len = 0;
		int j;

		for (j = 0; j < i && v[j].pid != v[i].pid; j++)
			;
		if (j < i) /* said with the first link of its process */
			continue;
		for (j = i; j < n; j++)
			if (v[j].pid == v[i].pid && len < sizeof(tps))
				len += snprintf(tps + len, sizeof(tps) - len, "%s%s", len ? ", " : "",
						v[j].tracepoint);
		if (v[i].pid > 0)
			p_warn("%s[%d] already has programs on %s: every traced call runs them too",
			       v[i].comm, v[i].pid, tps);
		else
			p_warn("pinned programs are already on %s: every traced call runs them too", tps);
	}
	if (n > 0 && total > (size_t)n)
		p_warn("%zu more links are on those tracepoints (`ehttp check` counts them)",
		       total - n);
}

static struct capture *capture_new(const struct capture_opts *opts)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (!c) {
		p_err("out of memory");
		return NULL;
	}
	c->opts = *opts;
	TAILQ_INIT(&c->lru);
	TAILQ_INIT(&c->in_body);
	c->forward.emit = forward_emit;
	c->forward.ctx = c;
	c->http_opts.no_redact = opts->no_redact;
	c->http_opts.no_header_blocks = opts->no_header_blocks;
	c->http_opts.max_header_bytes = opts->snaplen ? opts->snaplen : CAPTURE_SNAPLEN_DEFAULT;
	c->http_opts.clock = &c->clock;
	return c;
}

/* Open, configure, load and (with @attach) attach the programs for c->opts: the one
 * path attach, record and check (capture_try) share, so check judges what attach runs. */
static int capture_load(struct capture *c, bool attach)
{
	int err;

	loader_setup_libbpf();
	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = -errno;
		p_err("opening the BPF capture object failed: %s", strerror(-err));
		return err;
	}
	configure(c);
	c->hooks = c->opts.hooks;
	if (c->hooks == CAPTURE_HOOKS_AUTO)
		c->hooks = capture_hooks_auto(c->hooks_why, sizeof(c->hooks_why));
	else
		snprintf(c->hooks_why, sizeof(c->hooks_why), "asked for with --hooks");
	choose_hooks(c->skel, c->hooks);
	err = loader_load(&c->loader, c->skel->obj, optional_progs);
	if (err || !attach)
		return err;
	/* before the hooks run: an empty cgroup array would select nothing */
	if (c->opts.filter.cgroup.dir[0] &&
	    (err = cgroup_sel_to_map(&c->opts.filter.cgroup, bpf_map__fd(c->skel->maps.targ_cgroup)))) {
		p_err("giving the capture the cgroup %s failed: %s", c->opts.filter.cgroup.dir,
		      strerror(-err));
		return err;
	}
	return loader_attach_all(&c->loader, optional_progs);
}

int capture_try(const struct capture_opts *opts, int *hooks, char *why, size_t why_len,
		char *error, size_t error_len)
{
	struct capture *c = capture_new(opts);
	int err;

	if (!c) {
		snprintf(error, error_len, "out of memory");
		return -ENOMEM;
	}
	p_err_divert(error, error_len);
	err = capture_load(c, false);
	p_err_divert(NULL, 0);
	*hooks = c->hooks;
	snprintf(why, why_len, "%s", c->hooks_why);
	capture_close(c, NULL);
	return err;
}

int capture_open(struct capture **out, const struct capture_opts *opts)
{
	struct capture *c;
	int err;

	*out = NULL;
	for (size_t i = 0; i < opts->filter.npids; i++) {
		if (kill(opts->filter.pids[i], 0) && errno == ESRCH) {
			p_err("no process with pid %u", opts->filter.pids[i]);
			return -ESRCH;
		}
		/* the selections are and-ed: say when they cannot both hold now */
		if (opts->filter.cgroup.dir[0] && !cgroup_has_pid(&opts->filter.cgroup, opts->filter.pids[i]))
			p_warn("pid %u is not in cgroup %s: it is traced only once it moves there",
			       opts->filter.pids[i], opts->filter.cgroup.rel);
	}
	warn_other_hook_users();
	c = capture_new(opts);
	if (!c)
		return -ENOMEM;
	err = capture_load(c, true);
	if (err)
		goto fail;
	loader_report_skips(&c->loader);
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), handle_event, c, NULL);
	if (!c->rb) {
		err = -errno;
		p_err("setting up the ring buffer reader failed: %s", strerror(-err));
		goto fail;
	}
	/* Events carry the kernel's monotonic time; one anchor maps them to wall time. */
	span_clock_now(&c->clock);
	*out = c;
	return 0;
fail:
	c->sink = NULL;
	capture_close(c, NULL);
	return err;
}

const struct span_clock *capture_clock(const struct capture *c)
{
	return &c->clock;
}

static int consume(struct capture *c, struct span_sink *sink)
{
	int rc;

	c->sink = sink;
	/* Events are queued without waking the pipeline until a batch is waiting (see
	 * wakeup_bytes in the BPF side): take what is there whether it woke or not. */
	rc = ring_buffer__consume(c->rb);
	if (rc >= 0 || rc == -EINTR) {
		int err = look_for_unseen_all(c, false);

		if (err < 0)
			rc = err;
	}
	c->sink = NULL;
	if (rc == -EINTR)
		rc = 0;
	if (c->sink_err)
		return c->sink_err;
	if (c->done || rc == -ECANCELED)
		return 1;
	return rc < 0 ? rc : 0;
}

/* Can process @pid still make calls? Not when it is gone, nor as a zombie (its
 * parent has not reaped it yet, but it has made its last call). */
static bool process_alive(pid_t pid)
{
	char path[32], buf[256], *paren;
	ssize_t n;
	int fd;

	if (kill(pid, 0) && errno == ESRCH)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* "pid (comm) S ...": the name may hold anything, the state follows its last ')' */
	paren = strrchr(buf, ')');
	return !paren || paren[1] != ' ' || (paren[2] != 'Z' && paren[2] != 'X');
}

/* Has every process the capture was limited to (-p) exited? Looked at once a second:
 * their last events were queued before they went, and capture_finish() takes them. */
static bool targets_gone(struct capture *c)
{
	const struct span_filter *f = &c->opts.filter;
	uint64_t now;

	if (!f->npids)
		return false;
	now = mono_now();
	if (now < c->next_target_check_ns)
		return false;
	c->next_target_check_ns = now + TARGET_CHECK_NS;
	for (size_t i = 0; i < f->npids; i++)
		if (process_alive(f->pids[i]))
			return false;
	return true;
}

/* The pipeline found the ring buffer readable, or a round went by. Returns 0, 1 when
 * the capture is complete (the pipeline has enough, or every process given with -p
 * exited, as strace -p and perf -p end), or a negative errno (the sink's included). */
static int capture_poll(struct capture *c, struct span_sink *sink)
{
	int rc;

	if (c->done)
		return 1;
	rc = consume(c, sink);
	if (rc)
		return rc;
	if (targets_gone(c)) {
		c->targets_gone = c->done = true;
		return 1;
	}
	return 0;
}

void capture_get_stats(const struct capture *c, struct capture_stats *stats)
{
	int ncpus = libbpf_num_possible_cpus();
	struct capture_counters *per_cpu;
	uint32_t zero = 0;
	int i;

	*stats = c->stats;
	stats->targets_gone = c->targets_gone;
	if (!c->skel || ncpus <= 0)
		return;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.counters), &zero, per_cpu) == 0)
		for (i = 0; i < ncpus; i++) {
			stats->dropped += per_cpu[i].dropped;
			stats->h2_lost += per_cpu[i].h2_lost;
			stats->h2_clipped += per_cpu[i].h2_clipped;
		}
	free(per_cpu);
}

void capture_warn_h2(uint64_t lost, uint64_t clipped)
{
	if (lost || clipped)
		p_warn("HTTP/2: the kernel lost its place in the frames of %llu syscall%s and had no "
		       "room for all the frames of %llu; the spans they touched are flagged",
		       (unsigned long long)lost, lost == 1 ? "" : "s", (unsigned long long)clipped);
}

/* Detach, drain what the kernel still holds and emit the requests still waiting as
 * partial spans to @sink (may be NULL); the statistics stay readable. */
static void capture_finish(struct capture *c, struct span_sink *sink)
{
	uint64_t now;

	if (!c || c->finished)
		return;
	c->finished = true;
	/* Stop new events first, then take what is already queued. */
	loader_detach(&c->loader);
	if (c->rb && !c->sink_err) {
		c->sink = sink;
		ring_buffer__consume(c->rb);
		if (!c->sink_err)
			look_for_unseen_all(c, true);
	}
	c->sink = c->sink_err ? NULL : sink;
	now = mono_now();
	while (!TAILQ_EMPTY(&c->lru))
		conn_remove(c, TAILQ_FIRST(&c->lru), now);
	c->sink = NULL;
}

void capture_close(struct capture *c, struct span_sink *sink)
{
	if (!c)
		return;
	capture_finish(c, sink);
	ring_buffer__free(c->rb);
	capture_bpf__destroy(c->skel);
	free(c);
}

/* ---- as a pipeline source ------------------------------------------------------------ */

static int source_fd(void *ctx)
{
	return ring_buffer__epoll_fd(((struct capture *)ctx)->rb);
}

static int source_poll(void *ctx, struct span_sink *out)
{
	return capture_poll(ctx, out);
}

static void source_finish(void *ctx, struct span_sink *out)
{
	capture_finish(ctx, out);
}

static void source_stats(void *ctx, struct pipeline_stats *st)
{
	struct capture_stats cs;

	capture_get_stats(ctx, &cs);
	st->events += cs.events;
	st->conns += cs.conns;
	st->dropped += cs.dropped;
	st->lost += cs.lost;
	st->h2_lost += cs.h2_lost;
	st->h2_clipped += cs.h2_clipped;
	st->targets_gone |= cs.targets_gone;
}

static void source_destroy(void *ctx)
{
	capture_close(ctx, NULL);
}

void capture_source(struct capture *c, struct pipeline_source *src)
{
	*src = (struct pipeline_source){
		.name = "capture",
		.ctx = c,
		.fd = source_fd,
		.poll = source_poll,
		.finish = source_finish,
		.stats = source_stats,
		.destroy = source_destroy,
	};
}

int capture_pipeline(struct pipeline **out, struct capture **cap, const struct capture_opts *opts)
{
	struct pipeline_opts po = {
		.filter = &opts->filter,
		.max_spans = opts->max_spans,
		.duration_ns = opts->duration_s * 1000000000ull,
		.catch_signals = true,
	};
	struct pipeline_source src;
	int err;

	*out = NULL;
	/* Caught from before the load: Ctrl-C during it ends the run as it starts. */
	pipeline_catch_signals();
	err = capture_open(cap, opts);
	if (err)
		return err;
	err = pipeline_new(out, &po);
	if (!err) {
		capture_source(*cap, &src);
		if (opts->wrap_source && (err = opts->wrap_source(opts->wrap_arg, *cap, &src))) {
			pipeline_free(*out);
			*out = NULL;
			capture_close(*cap, NULL);
			*cap = NULL;
			return err;
		}
		err = pipeline_add_source(*out, &src);
		if (!err)
			return 0;
		pipeline_free(*out);
		*out = NULL;
	}
	capture_close(*cap, NULL);
	*cap = NULL;
	p_err("out of memory");
	return err;
}
