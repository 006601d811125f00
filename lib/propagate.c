// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user side of --propagate: load bpf/propagate.bpf.c, claim the selected
 * processes' connections through a cgroup sock_ops program, read the kernel's
 * records, and hand them to lib/propagate_match.c, which gives the spans the capture
 * completes the ids that went on the wire.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/propagate.h"
#include "capture.h"
#include "cgroup.h"
#include "go/goelf.h"
#include "go_memwrite.h"
#include "cli.h"
#include "kernel.h"
#include "loader.h"
#include "opts.h"
#include "process_rodata.h"
#include "propagate.h"
#include "propagate_match.h"
#include "propagate.skel.h"
#include "pipeline.h"

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

	struct propagate_match *match;
	uint64_t released; /* sockets handed back to TCP */
	uint64_t go_linked, go_none, go_stale; /* Go requests injected, by where their ids came from */

	const struct span_clock *clock; /* the capture's: spans' times back to the kernel's */

	uint32_t seen[4096]; /* processes looked at for Go */
	size_t nseen;
};

/* ---- options ------------------------------------------------------------------------- */

void propagate_opts_init(struct propagate_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
}

/* In enum propagate_method's order from PROPAGATE_AUTO. */
static const char *const method_names[] = { "auto", "sockmsg", "memory", NULL };

static int set_method(void *ctx, const struct opt *o, const char *spelled, const char *value)
{
	struct propagate_opts *opts = ctx;
	int i;

	i = opts_choice(o, spelled, value);
	if (i < 0)
		return -1;
	opts->method = PROPAGATE_AUTO + i;
	return 0;
}

const struct opt propagate_opt_table[] = {
	{ "propagate", 0, "auto|sockmsg|memory",
	  "insert a W3C traceparent into the outgoing HTTP/1.x\n"
	  "requests of the processes selected with -p, --comm or\n"
	  "--cgroup: in the kernel as they are sent (sockmsg), or\n"
	  "into a Go program's own buffer (memory; not under\n"
	  "lockdown); auto picks per process what this kernel\n"
	  "loads; spans carry the ids written",
	  OPT_CALL(set_method), .choices = method_names, .implied = "auto" },
	{ "propagate-all-processes", 0, NULL, "with --propagate: every process's requests",
	  OPT_FLAG(struct propagate_opts, all_processes) },
	{ NULL },
};

bool propagate_opts_valid(const struct propagate_opts *opts, const struct span_filter *filter)
{
	if (opts->all_processes && !opts->method) {
		p_err("--propagate-all-processes goes with --propagate");
		return false;
	}
	if (opts->method && !opts->all_processes && !span_filter_has_processes(filter)) {
		p_err("--propagate writes into the traffic of the processes it is given: select them "
		      "with -p, --comm or --cgroup (or say --propagate-all-processes)");
		return false;
	}
	/* The memory write happens before any connection is known. */
	if (opts->method == PROPAGATE_MEMORY && filter->port) {
		p_err("--propagate=memory writes into every outgoing request of the selected Go "
		      "programs: it does not go with --port (--propagate=sockmsg does)");
		return false;
	}
	return true;
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

/* Look at process @pid once: a Go program goes into the kernel's go_processes map (its
 * requests take the Go probes' ids, or begin traces, never the sending thread's). */
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
	bpf_map_update_elem(bpf_map__fd(p->skel->maps.go_processes), &pid, &one, BPF_ANY);
	p_debug("propagate: pid %u is a Go program: its requests take their goroutine's context "
		"from the Go probes", pid);
}

static void learn_pid(void *arg, uint32_t pid)
{
	learn_process(arg, pid);
}

/* The selected processes running now: -p, --cgroup's, or those of --comm's name. */
static void learn_processes(struct propagate *p, const struct span_filter *f)
{
	char path[64], comm[32];
	struct dirent *de;
	DIR *d;

	for (size_t i = 0; i < f->npids; i++)
		learn_process(p, f->pids[i]);
	if (f->cgroup.dir[0])
		cgroup_each_pid(&f->cgroup, learn_pid, p);
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

	if (size < sizeof(*ev))
		return 0;
	if (ev->type == PROPAGATE_EV_CLAIM) {
		learn_process(p, ev->pid); /* one started since (--comm) */
		if (ev->err)
			p_debug("propagate: connection %#llx of pid %u not claimed: %s",
				(unsigned long long)ev->cookie, ev->pid, strerror(-ev->err));
	}
	/* Only programs of some types, and user space, may take a socket out of a sockhash. */
	if (ev->type == PROPAGATE_EV_CLIENT && ev->outcome == PROPAGATE_INJECTED && ev->go_ctx) {
		if (ev->go_ctx == PROPAGATE_GO_LINKED)
			p->go_linked++;
		else if (ev->go_ctx == PROPAGATE_GO_STALE)
			p->go_stale++;
		else
			p->go_none++;
	}
	if (ev->type == PROPAGATE_EV_RELEASE &&
	    !bpf_map_delete_elem(bpf_map__fd(p->skel->maps.socks), &ev->cookie))
		p->released++;
	propagate_match_record(p->match, ev);
	return 0;
}

static void drain(struct propagate *p)
{
	if (p->rb)
		ring_buffer__consume(p->rb);
}

/* The capture's source with the matching between it and the pipeline. */
struct wrapped {
	struct pipeline_source inner;
	struct propagate *p;
	struct span_sink sink; /* what the capture emits into */
	struct span_sink *out; /* the pipeline's, during a call */
};

static int wrapped_emit(struct span_sink *sink, const struct span *span)
{
	struct wrapped *w = sink->ctx;
	struct propagate *p = w->p;
	struct span s = *span;

	drain(p);
	propagate_match_span(p->match, &s, s.start_ns - p->clock->real_ns + p->clock->mono_ns);
	return w->out->emit(w->out, &s);
}

static int wrapped_fd(void *ctx)
{
	struct wrapped *w = ctx;

	return w->inner.fd ? w->inner.fd(w->inner.ctx) : -1;
}

static int wrapped_poll(void *ctx, struct span_sink *out)
{
	struct wrapped *w = ctx;

	w->out = out;
	/* Each round: records of spans filtered out must not fill the ring buffer. */
	drain(w->p);
	return w->inner.poll(w->inner.ctx, &w->sink);
}

static void wrapped_finish(void *ctx, struct span_sink *out)
{
	struct wrapped *w = ctx;

	w->out = out;
	if (w->inner.finish)
		w->inner.finish(w->inner.ctx, out ? &w->sink : NULL);
}

static void wrapped_stats(void *ctx, struct pipeline_stats *st)
{
	struct wrapped *w = ctx;

	if (w->inner.stats)
		w->inner.stats(w->inner.ctx, st);
}

static void wrapped_destroy(void *ctx)
{
	struct wrapped *w = ctx;

	if (w->inner.destroy)
		w->inner.destroy(w->inner.ctx);
	free(w);
}

static int wrap_source(void *arg, struct capture *cap, struct pipeline_source *src)
{
	struct propagate *p = arg;
	struct wrapped *w;

	if (capture_hooks(cap) != CAPTURE_HOOKS_SOCKETS) {
		p_err("--propagate needs the socket hooks (Linux >= 6.3; --hooks sockets)");
		return -ENOTSUP;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		p_err("out of memory");
		return -ENOMEM;
	}
	p->clock = capture_clock(cap);
	w->inner = *src;
	w->p = p;
	w->sink.emit = wrapped_emit;
	w->sink.ctx = w;
	*src = (struct pipeline_source){
		.name = src->name,
		.ctx = w,
		.fd = wrapped_fd,
		.poll = wrapped_poll,
		.finish = wrapped_finish,
		.stats = wrapped_stats,
		.destroy = wrapped_destroy,
	};
	return 0;
}

void propagate_capture_opts(struct propagate *p, struct capture_opts *opts)
{
	if (!p)
		return;
	opts->wrap_source = wrap_source;
	opts->wrap_arg = p;
	opts->propagate = true;
	opts->go_sends_fd = bpf_map__fd(p->skel->maps.go_sends);
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
 * The cgroups whose sockets sock_ops must see: --cgroup's; else those of the -p
 * processes; the whole hierarchy when processes are selected by name (they may start
 * anywhere, later) or all of them are. The program claims only the selected processes' sockets either way.
 */
static int attach_cgroups(struct propagate *p, const struct span_filter *f)
{
	char root[512], rel[1024], dir[1600], seen[MAX_CGROUPS][1024];
	size_t nseen = 0, i, j;
	int err;

	/* --cgroup: the cgroup itself (its sockets and those of the cgroups below it),
	 * whatever else selects; the programs test the process as well */
	if (f->cgroup.dir[0] && !p->opts.all_processes)
		return attach_cgroup(p, f->cgroup.dir);
	err = cgroup2_root(root, sizeof(root), p->mounted, sizeof(p->mounted));
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

	PROCESS_RODATA_SET(skel->rodata, f);
	skel->rodata->all_processes = p->opts.all_processes;
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
	p->match = propagate_match_new();
	if (!p->match) {
		free(p);
		p_err("out of memory");
		return -ENOMEM;
	}
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
	if (filter->cgroup.dir[0] &&
	    (err = cgroup_sel_to_map(&filter->cgroup, bpf_map__fd(p->skel->maps.targ_cgroup)))) {
		p_err("giving propagation the cgroup %s failed: %s", filter->cgroup.dir, strerror(-err));
		goto fail;
	}
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

int propagate_setup(struct propagate **out, const struct propagate_opts *opts,
		    const struct span_filter *filter, struct capture_opts *copts)
{
	char why[256], error[512] = "";
	bool memory;
	int err;

	*out = NULL;
	if (!opts->method)
		return 0;
	/* Decided by loading the memory-write program, as check does. */
	memory = opts->method != PROPAGATE_SOCKMSG && go_memwrite_try(why, sizeof(why)) == 0;
	/* --port narrows to connections, which only sk_msg knows */
	if (opts->method == PROPAGATE_AUTO && filter->port && memory) {
		memory = false;
		snprintf(why, sizeof(why), "--port is given");
	}
	if (opts->method == PROPAGATE_MEMORY) {
		if (!memory) {
			const struct probe_result *pwu = kernel_probe(FEAT_PROBE_WRITE_USER);

			p_err("--propagate=memory cannot write into Go programs here: %s%s%s%s; use "
			      "--propagate=sockmsg, which inserts the header as the kernel sends it "
			      "(any language, lockdown too)", why, pwu->ok ? "" : " (", pwu->ok ? "" : pwu->reason,
			      pwu->ok ? "" : ")");
			return -EPERM;
		}
		copts->propagate = true;
		copts->propagate_memory = GO_MEMWRITE_REQUIRED;
		return 0;
	}
	if (opts->method == PROPAGATE_AUTO && memory) {
		/* sk_msg for the processes that are no Go program: not having it is a warning */
		p_err_divert(error, sizeof(error));
		err = propagate_open(out, opts, filter);
		p_err_divert(NULL, 0);
		if (err) {
			p_warn("--propagate: only Go programs get a traceparent (memory writes): "
			       "sk_msg does not work here for the others (%s)", error);
			copts->propagate = true;
		} else {
			propagate_capture_opts(*out, copts);
			copts->memwrite_exclude_fd = bpf_map__fd((*out)->skel->maps.memory_procs);
		}
		copts->propagate_memory = GO_MEMWRITE_AUTO;
		return 0;
	}
	if (opts->method == PROPAGATE_AUTO)
		p_debug("propagate: memory writes not possible (%s): sockmsg for every process", why);
	err = propagate_open(out, opts, filter);
	if (err)
		return err;
	propagate_capture_opts(*out, copts);
	return 0;
}

const char *propagate_describe(const struct propagate *p, const struct capture_opts *copts)
{
	if (copts->propagate_memory == GO_MEMWRITE_REQUIRED || (copts->propagate_memory && !p))
		return "memory";
	if (copts->propagate_memory)
		return "memory for Go programs, sockmsg for the others";
	return p ? "sockmsg" : NULL;
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
	/* The kernel's counters first, then the records: each is counted before its record
	 * is sent, so the records read then cover what was counted (a drain first would
	 * leave the requests of the meantime counted and not sorted by where their ids
	 * came from). */
	per_cpu = p->skel && ncpus > 0 ? calloc(ncpus, sizeof(*per_cpu)) : NULL;
	if (per_cpu && !bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &zero, per_cpu)) {
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
	drain(p);
	st->unmatched = propagate_match_unmatched(p->match);
	st->released = p->released;
	st->go_linked = p->go_linked;
	st->go_none = p->go_none;
	st->go_stale = p->go_stale;
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
		o += snprintf(buf + o, len - o, "; %llu connections claimed (%llu handed back), %llu records dropped",
			      (unsigned long long)st->claimed, (unsigned long long)st->released,
			      (unsigned long long)st->dropped);
	if ((st->go_linked || st->go_none || st->go_stale) && o < len)
		o += snprintf(buf + o, len - o, "; Go: %llu injected with their goroutine's context, %llu as new traces",
			      (unsigned long long)st->go_linked, (unsigned long long)(st->go_none + st->go_stale));
	if ((st->go_none || st->go_stale) && o < len)
		snprintf(buf + o, len - o, " (%llu with no context, %llu with a stale one)",
			 (unsigned long long)st->go_none, (unsigned long long)st->go_stale);
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
	cgroup2_unmount(p->mounted);
	propagate_match_free(p->match);
	free(p);
}
