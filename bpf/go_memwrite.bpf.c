// SPDX-License-Identifier: GPL-2.0-only
/*
 * --propagate=memory: write a W3C traceparent into an outgoing Go request's own
 * write buffer, before net/http sends it. A uprobe at the entry of
 * net/http.Header.writeSubset(h Header, w io.Writer, exclude, trace), which
 * (*Request).write calls once the request line, Host, User-Agent and the framing
 * headers are in the connection's *bufio.Writer: the line goes at buf[n], n is advanced,
 * and the request's own headers follow it.
 *
 * An object of its own: under lockdown the verifier refuses every program of an object
 * that calls bpf_probe_write_user, and the Go source's programs must keep loading there.
 * It shares the Go source's client_reqs, client_hdrs and go_procs (user space reuses their fds):
 * the Header map being written names the roundTrip whose request it is, and that
 * request's state has the ids the client span will carry.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "go_common.bpf.h"
#include "go_memwrite.h"

char LICENSE[] SEC("license") = "GPL";

/* The processes the user selected for memory writes, filled by user space: the probe
 * fires in every process running a probed binary. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GO_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct go_memwrite_proc);
} memwrite_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_memwrite_counters);
} memwrite_counters SEC(".maps");

struct tp_line {
	char b[GO_MEMWRITE_LINE_LEN + 2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tp_line);
} line_buf SEC(".maps");

static __always_inline char digit(__u8 v)
{
	return v < 10 ? '0' + v : 'a' + v - 10;
}

static __always_inline void hex(char *out, const __u8 *in, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digit(in[i] >> 4);
		out[2 * i + 1] = digit(in[i] & 15);
	}
}

static __always_inline void skip(struct go_req *r, __u8 reason, __u64 *counter)
{
	/* A retry that found room after one that did not keeps what it wrote. */
	if (r->ev.prop != GO_PROP_MEMORY) {
		r->ev.prop = GO_PROP_SKIPPED;
		r->ev.prop_reason = reason;
	}
	if (counter)
		(*counter)++;
}

/* net/http.Header.writeSubset(h, w io.Writer, exclude, trace): h in GO_ARG1, w as its
 * itab in GO_ARG2 and its data in GO_ARG3. */
SEC("uprobe")
int go_header_write(struct pt_regs *ctx)
{
	struct go_memwrite_counters *c;
	const struct go_memwrite_proc *p;
	struct go_hdr_key hk = {};
	struct go_key k = {};
	struct go_req *r;
	struct {
		__u64 ptr;
		__s64 len;
	} buf = {};
	__s64 n = 0;
	__u64 *goid, w;
	__u32 zero = 0, pid;
	struct tp_line *l;

	pid = bpf_get_current_pid_tgid() >> 32;
	p = bpf_map_lookup_elem(&memwrite_procs, &pid);
	if (!p || ((p->probe_at & GO_MW_AT_JUMP) && GO_JUMP_TAKEN(ctx)) ||
	    !bpf_map_lookup_elem(&go_procs, &pid))
		return 0;
	/* Only a request's own Header map is in client_hdrs: not the extra headers
	 * (Accept-Encoding), not a server's response headers. */
	hk.pid = pid;
	hk.hdr = GO_ARG1(ctx);
	goid = bpf_map_lookup_elem(&client_hdrs, &hk);
	if (!goid)
		return 0;
	k.pid = pid;
	k.goid = *goid;
	r = bpf_map_lookup_elem(&client_reqs, &k);
	c = bpf_map_lookup_elem(&memwrite_counters, &zero);
	if (!r || !c)
		return 0;
	/* The program sent a traceparent of its own: the span has adopted it. */
	if (r->ev.prop == GO_PROP_EXISTING) {
		c->existing++;
		return 0;
	}
	w = GO_ARG3(ctx);
	if (!p->bufio_itab || p->buf_off < 0 || p->n_off < 0) {
		skip(r, GO_MW_SKIP_NO_ITAB, &c->not_bufio);
		return 0;
	}
	if (GO_ARG2(ctx) != p->bufio_itab) {
		skip(r, GO_MW_SKIP_NOT_BUFIO, &c->not_bufio);
		return 0;
	}
	if (bpf_probe_read_user(&buf, sizeof(buf), (const void *)(w + p->buf_off)) ||
	    bpf_probe_read_user(&n, sizeof(n), (const void *)(w + p->n_off)) || !buf.ptr ||
	    n < 0 || n > buf.len) {
		skip(r, GO_MW_SKIP_WRITE_FAILED, &c->failed);
		return 0;
	}
	if (buf.len - n < GO_MEMWRITE_LINE_LEN) {
		skip(r, GO_MW_SKIP_NO_ROOM, &c->no_room);
		return 0;
	}
	l = bpf_map_lookup_elem(&line_buf, &zero);
	if (!l)
		return 0;
	__builtin_memcpy(l->b, "Traceparent: 00-", 16);
	hex(l->b + 16, r->ev.trace_id, 16);
	l->b[48] = '-';
	hex(l->b + 49, r->ev.span_id, 8);
	__builtin_memcpy(l->b + 65, "-01\r\n", 5);
	if (bpf_probe_write_user((void *)(buf.ptr + n), l->b, GO_MEMWRITE_LINE_LEN)) {
		skip(r, GO_MW_SKIP_WRITE_FAILED, &c->failed);
		return 0;
	}
	n += GO_MEMWRITE_LINE_LEN;
	if (bpf_probe_write_user((void *)(w + p->n_off), &n, sizeof(n))) {
		/* the line is beyond n: it will be overwritten, never sent */
		skip(r, GO_MW_SKIP_WRITE_FAILED, &c->failed);
		return 0;
	}
	r->ev.prop = GO_PROP_MEMORY;
	r->ev.prop_reason = 0;
	c->written++;
	return 0;
}
