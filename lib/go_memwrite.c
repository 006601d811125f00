// SPDX-License-Identifier: GPL-2.0-only
/*
 * --propagate=memory, the user side: load bpf/go_memwrite.bpf.c beside the Go source's
 * object (sharing its maps of outgoing requests), attach its probe to each traced
 * binary's net/http.Header.writeSubset, and tell the kernel, per selected process,
 * where that process's *bufio.Writer itab is and how a bufio.Writer is laid out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/go_memwrite.h"
#include "go/goelf.h"
#include "go_http.h"
#include "go_memwrite.h"
#include "go_memwrite.skel.h"
#include "kernel.h"
#include "loader.h"
#include "output.h"

_Static_assert((int)GO_MW_SKIP_NO_ROOM == (int)SPAN_PROP_R_NO_ROOM &&
		       (int)GO_MW_SKIP_NOT_BUFIO == (int)SPAN_PROP_R_NOT_BUFIO &&
		       (int)GO_MW_SKIP_WRITE_FAILED == (int)SPAN_PROP_R_WRITE_FAILED &&
		       (int)GO_MW_SKIP_NO_ITAB == (int)SPAN_PROP_R_NO_ITAB,
	       "enum go_memwrite_skip mirrors enum span_propagation_reason");

struct mw_bin {
	bool known;        /* the itab and the layout were found */
	uint64_t itab_off; /* the itab's file offset: where /proc/PID/maps puts it */
	struct go_memwrite_proc proc;
	char why[160];     /* when not known */
	struct bpf_link *link;
};

struct go_memwrite {
	struct go_memwrite_bpf *skel;
	struct loader loader;
	int exclude_fd;
	struct mw_bin *bins;
	size_t nbins;
	uint64_t processes;
};

/* Why the kernel refuses: lockdown, when it is on, else the load's own error. */
static void refusal(int err, const char *load_error, char *why, size_t len)
{
	struct kernel_fs_state sfs;
	char detail[128];
	enum lockdown_mode mode = kernel_read_lockdown(&kernel_default_paths, &sfs, detail, sizeof(detail));

	if (mode == LOCKDOWN_INTEGRITY || mode == LOCKDOWN_CONFIDENTIALITY)
		snprintf(why, len, "kernel lockdown is %s, so the verifier refuses bpf_probe_write_user",
			 lockdown_name(mode));
	else
		snprintf(why, len, "the kernel refuses the memory-write program: %s",
			 load_error && *load_error ? load_error : strerror(-err));
}

static int load(struct go_memwrite *m, int reqs_fd, int hdrs_fd, int procs_fd, char *why,
		size_t why_len)
{
	char error[256] = "";
	int err;

	loader_setup_libbpf();
	m->skel = go_memwrite_bpf__open();
	if (!m->skel) {
		err = -errno;
		snprintf(why, why_len, "opening the memory-write BPF object: %s", strerror(-err));
		return err;
	}
	if ((reqs_fd >= 0 && (err = bpf_map__reuse_fd(m->skel->maps.client_reqs, reqs_fd))) ||
	    (hdrs_fd >= 0 && (err = bpf_map__reuse_fd(m->skel->maps.client_hdrs, hdrs_fd))) ||
	    (procs_fd >= 0 && (err = bpf_map__reuse_fd(m->skel->maps.go_procs, procs_fd)))) {
		snprintf(why, why_len, "sharing the Go probes' maps: %s", strerror(-err));
		return err;
	}
	p_err_divert(error, sizeof(error));
	err = loader_load(&m->loader, m->skel->obj, NULL);
	p_err_divert(NULL, 0);
	if (err)
		refusal(err, error, why, why_len);
	return err;
}

int go_memwrite_try(char *why, size_t why_len)
{
	struct go_memwrite m = { .exclude_fd = -1 };
	int err = load(&m, -1, -1, -1, why, why_len);

	go_memwrite_bpf__destroy(m.skel);
	return err;
}

int go_memwrite_open(struct go_memwrite **out, int client_reqs_fd, int client_hdrs_fd,
		     int go_procs_fd, int exclude_fd, char *why, size_t why_len)
{
	struct go_memwrite *m = calloc(1, sizeof(*m));
	int err;

	*out = NULL;
	if (!m) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	m->exclude_fd = exclude_fd;
	err = load(m, client_reqs_fd, client_hdrs_fd, go_procs_fd, why, why_len);
	if (err) {
		go_memwrite_close(m);
		return err;
	}
	*out = m;
	return 0;
}

static int field(const struct goelf_field_offset *offs, const char *strct, const char *name)
{
	for (size_t i = 0; i < goelf_want_fields_count; i++)
		if (!strcmp(offs[i].strct, strct) && !strcmp(offs[i].field, name))
			return offs[i].offset >= 0 && offs[i].offset < 4096 ? (int)offs[i].offset : -1;
	return -1;
}

void go_memwrite_add_bin(struct go_memwrite *m, uint32_t bin, struct goelf *g,
			 const struct goelf_funcs *fs, const struct goelf_field_offset *offs,
			 const char *path)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	const struct goelf_func *f = NULL;
	struct mw_bin *b;
	uint64_t vaddr, at, off;
	long err;
	int rc;

	if (!m)
		return;
	if (bin >= m->nbins) {
		struct mw_bin *nb = realloc(m->bins, (bin + 1) * sizeof(*nb));

		if (!nb)
			return;
		memset(nb + m->nbins, 0, (bin + 1 - m->nbins) * sizeof(*nb));
		m->bins = nb;
		m->nbins = bin + 1;
	}
	b = &m->bins[bin];
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < fs->n && !f; i++)
		if (!strcmp(fs->v[i].name, "net/http.Header.writeSubset"))
			f = &fs->v[i];
	if (!f) {
		snprintf(b->why, sizeof(b->why), "net/http.Header.writeSubset is not in the binary");
		return;
	}
	b->proc.buf_off = field(offs, "bufio.Writer", "buf");
	b->proc.n_off = field(offs, "bufio.Writer", "n");
	rc = goelf_itab(g, "*bufio.Writer", "io.Writer", &vaddr, &b->itab_off);
	if (rc) {
		snprintf(b->why, sizeof(b->why), "the binary's itab of *bufio.Writer for io.Writer %s",
			 rc > 0 ? "is not in it" : goelf_error(g));
	} else if (b->proc.buf_off < 0 || b->proc.n_off < 0) {
		snprintf(b->why, sizeof(b->why), "the layout of bufio.Writer is not known");
	} else {
		b->known = true;
	}
	/* The probe goes on the stack check's jump when there is one (the kernel emulates
	 * it; a function's first instruction it single-steps), passing it twice when the
	 * stack grows: the program ignores the pass where the jump is taken. */
	off = f->offset;
	if (goelf_entry_jump(g, f, &at) && at >= f->address && at - f->address < f->size) {
		off = f->offset + (at - f->address);
		b->proc.probe_at = GO_MW_AT_JUMP;
	}
	b->link = bpf_program__attach_uprobe_opts(m->skel->progs.go_header_write, -1, path, off, &uo);
	err = libbpf_get_error(b->link);
	if (err) {
		b->link = NULL;
		b->known = false;
		snprintf(b->why, sizeof(b->why), "attaching a uprobe to net/http.Header.writeSubset failed: %s",
			 strerror((int)-err));
		return;
	}
	p_debug("Go: %s: traceparent written at writeSubset's %s; *bufio.Writer itab at %#" PRIx64
		" (file offset %#" PRIx64 "), bufio.Writer buf at %d, n at %d%s%s", path,
		b->proc.probe_at ? "stack-check jump" : "entry", b->known ? vaddr : 0, b->itab_off,
		b->proc.buf_off, b->proc.n_off, b->known ? "" : ": no writes, ", b->known ? "" : b->why);
}

/* Where file offset @off of the executable of @pid is mapped: its /proc/PID/maps line
 * for the executable's inode covers it (PIE or not, the same rule). 0 when none. */
static uint64_t runtime_address(uint32_t pid, uint64_t off)
{
	char path[64], line[512];
	uint64_t start, end, moff, ino, found = 0;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	if (stat(path, &st))
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %" SCNu64, &start, &end,
			   &moff, &ino) != 4 || ino != (uint64_t)st.st_ino)
			continue;
		if (off >= moff && off - moff < end - start)
			found = start + (off - moff);
	}
	fclose(f);
	return found;
}

void go_memwrite_add_proc(struct go_memwrite *m, uint32_t pid, uint32_t bin, const char *comm)
{
	struct go_memwrite_proc proc;
	struct mw_bin *b;
	uint8_t one = 1;

	if (!m || bin >= m->nbins)
		return;
	b = &m->bins[bin];
	if (!b->link) {
		p_warn("Go: pid %u (%s) gets no traceparent written: %s%s", pid, comm, b->why,
		       m->exclude_fd >= 0 ? "; its requests get theirs from sk_msg" : "");
		return;
	}
	proc = b->proc;
	proc.bufio_itab = b->known ? runtime_address(pid, b->itab_off) : 0;
	if (b->known && !proc.bufio_itab)
		snprintf(b->why, sizeof(b->why), "the itab of *bufio.Writer is not mapped in the process");
	/* --propagate=auto: sk_msg writes for it instead */
	if (!proc.bufio_itab && m->exclude_fd >= 0) {
		p_warn("Go: pid %u (%s): %s: its requests get their traceparent from sk_msg", pid,
		       comm, b->why);
		return;
	}
	if (!proc.bufio_itab)
		p_warn("Go: pid %u (%s) gets no traceparent written: %s (its spans say so)", pid, comm,
		       b->why);
	if (bpf_map_update_elem(bpf_map__fd(m->skel->maps.memwrite_procs), &pid, &proc, BPF_ANY)) {
		p_warn("Go: pid %u (%s) gets no traceparent written: more than %d processes", pid,
		       comm, GO_MAX_PROCS);
		return;
	}
	/* Its sockets are not also rewritten by sk_msg (--propagate=auto). */
	if (m->exclude_fd >= 0)
		bpf_map_update_elem(m->exclude_fd, &pid, &one, BPF_ANY);
	m->processes++;
	p_debug("Go: pid %u (%s): traceparent written into its request buffers", pid, comm);
}

void go_memwrite_remove_proc(struct go_memwrite *m, uint32_t pid)
{
	if (!m)
		return;
	bpf_map_delete_elem(bpf_map__fd(m->skel->maps.memwrite_procs), &pid);
	if (m->exclude_fd >= 0)
		bpf_map_delete_elem(m->exclude_fd, &pid);
}

void go_memwrite_span(struct go_memwrite *m, struct span *sp)
{
	struct go_memwrite_proc proc;
	uint32_t pid = sp->pid;

	if (!m || sp->role != SPAN_ROLE_CLIENT || sp->propagation != SPAN_PROP_NONE ||
	    bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memwrite_procs), &pid, &proc))
		return;
	sp->propagation = SPAN_PROP_SKIPPED;
	sp->propagation_reason = SPAN_PROP_R_NOT_WRITTEN;
}

void go_memwrite_get_stats(struct go_memwrite *m, struct go_memwrite_stats *st)
{
	int ncpus = libbpf_num_possible_cpus();
	struct go_memwrite_counters *c;
	uint32_t zero = 0;

	memset(st, 0, sizeof(*st));
	if (!m || !m->skel || ncpus <= 0)
		return;
	st->processes = m->processes;
	c = calloc(ncpus, sizeof(*c));
	if (!c)
		return;
	if (!bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.memwrite_counters), &zero, c))
		for (int i = 0; i < ncpus; i++) {
			st->written += c[i].written;
			st->existing += c[i].existing;
			st->no_room += c[i].no_room;
			st->not_bufio += c[i].not_bufio;
			st->failed += c[i].failed;
		}
	free(c);
}

void go_memwrite_format_stats(const struct go_memwrite_stats *st, char *buf, size_t len)
{
	const struct {
		const char *name;
		uint64_t n;
	} skips[] = { { "no room", st->no_room }, { "not bufio", st->not_bufio }, { "write refused", st->failed } };
	size_t o;
	int n = 0;

	o = snprintf(buf, len, "propagation (memory): %" PRIu64 " written, %" PRIu64 " existing, %" PRIu64
		     " skipped", st->written, st->existing, st->no_room + st->not_bufio + st->failed);
	for (size_t i = 0; i < sizeof(skips) / sizeof(skips[0]) && o < len; i++)
		if (skips[i].n)
			o += snprintf(buf + o, len - o, "%s%s %" PRIu64, n++ ? ", " : " (", skips[i].name,
				      skips[i].n);
	if (n && o < len)
		o += snprintf(buf + o, len - o, ")");
	if (o < len)
		snprintf(buf + o, len - o, "; %" PRIu64 " process%s", st->processes,
			 st->processes == 1 ? "" : "es");
}

void go_memwrite_detach(struct go_memwrite *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbins; i++) {
		bpf_link__destroy(m->bins[i].link);
		m->bins[i].link = NULL;
	}
	loader_detach(&m->loader);
}

void go_memwrite_close(struct go_memwrite *m)
{
	if (!m)
		return;
	go_memwrite_detach(m);
	go_memwrite_bpf__destroy(m->skel);
	free(m->bins);
	free(m);
}
