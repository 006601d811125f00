/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The probes that tell the sk_msg program of --propagate (bpf/go_send.h) whose request a
 * thread of a Go program is about to write. On the goroutine that writes outgoing
 * requests (persistConn.writeLoop): net/http.(*Request).write finds the request's client
 * span and keeps its ids for that goroutine; persistConnWriter.Write, where the
 * connection's buffered writer hands the bytes to the socket, publishes them for the
 * thread it runs on, right before the write syscall. Between the two the goroutine may
 * stop (a GC assist, a preemption) and another run on its thread, or move to another
 * thread: keyed by goroutine, nothing is lost or taken for another's there. Where
 * persistConnWriter.Write is not probed, (*Request).write publishes for the thread.
 * Included by bpf/go_http.bpf.c, whose maps it reads; attached only with --propagate,
 * and only to the binaries of the processes selected for it.
 */
#include "go_send.h"

GO_SENDS_MAP;

/* The client span's ids of the request a writer goroutine is writing, from
 * (*Request).write's entry to the connection's first write of it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_MAX_REQUESTS);
	__type(key, struct go_key);
	__type(value, struct go_send);
} send_pending SEC(".maps");

/* A byte URL.EscapedPath() writes as it is (net/url's shouldEscape in encodePath mode):
 * up to the first other one, URL.Path's bytes are the request line's. */
static __always_inline bool path_byte_as_is(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.' || c == '~' || c == '$' || c == '&' || c == '+' || c == ',' ||
	       c == '/' || c == ':' || c == ';' || c == '=' || c == '@';
}

/* (r *Request) write(w io.Writer, usingProxy bool, extraHeaders Header, waitForContinue
 * func() bool) error: the receiver in the first register. */
SEC("uprobe")
int go_req_write(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_hdr_key hk = {};
	struct go_key k = {}, wk = {};
	struct go_send snd = {};
	struct go_req *r;
	__u64 *goid, req;
	__u32 pid, tid, n;

	o = traced(&pid);
	if (!o || ((o->probe_at & GO_AT_SEND_JUMP) && GO_JUMP_TAKEN(ctx)))
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	wk.pid = pid;
	wk.goid = cur_goid(ctx, o);
	req = GO_ARG1(ctx);
	hk.pid = pid;
	hk.hdr = o->req_header >= 0 ? read_word(req + o->req_header) : 0;
	goid = hk.hdr ? bpf_map_lookup_elem(&client_hdrs, &hk) : NULL;
	if (goid) {
		k.pid = pid;
		k.goid = *goid;
	}
	r = goid ? bpf_map_lookup_elem(&client_reqs, &k) : NULL;
	/* No client span (roundTrip began before ehttp), or the request carries its own
	 * traceparent (sk_msg leaves it alone): nothing to say, and nothing older either. */
	if (!r || r->ev.prop == GO_PROP_EXISTING) {
		if (o->probe_at & GO_AT_SEND_CONN)
			bpf_map_delete_elem(&send_pending, &wk);
		else
			bpf_map_delete_elem(&go_sends, &tid);
		return 0;
	}
	snd.ts = bpf_ktime_get_ns();
	snd.pid = pid;
	__builtin_memcpy(snd.trace_id, r->ev.trace_id, sizeof(snd.trace_id));
	__builtin_memcpy(snd.span_id, r->ev.span_id, sizeof(snd.span_id));
	__builtin_memcpy(snd.parent_id, r->ev.parent_span_id, sizeof(snd.parent_id));
	snd.has_parent = (*(const __u64 *)r->ev.parent_span_id) != 0;
	/* What the request line will begin with: the method ("" was made GET at roundTrip)
	 * and URL.Path, "/" when empty, as URL.RequestURI() writes it. */
	n = r->ev.method_len < GO_SEND_METHOD_MAX ? r->ev.method_len : GO_SEND_METHOD_MAX - 1;
	snd.method_len = n;
	__builtin_memcpy(snd.method, r->ev.method, GO_SEND_METHOD_MAX);
	if (!r->ev.target_len) {
		snd.path[0] = '/';
		snd.path_len = 1;
		snd.path_whole = 1;
	} else {
		n = r->ev.target_len;
		snd.path_whole = n <= GO_SEND_PATH_MAX;
		snd.path_len = n < GO_SEND_PATH_MAX ? n : GO_SEND_PATH_MAX;
		__builtin_memcpy(snd.path, r->ev.target, GO_SEND_PATH_MAX);
		/* A byte the request line escapes (%XX) ends what is compared there. */
		for (int i = 0; i < GO_SEND_PATH_MAX; i++) {
			if (i >= snd.path_len)
				break;
			if (!path_byte_as_is(snd.path[i])) {
				snd.path_len = i;
				snd.path_whole = 0;
				break;
			}
		}
	}
	if (o->probe_at & GO_AT_SEND_CONN)
		bpf_map_update_elem(&send_pending, &wk, &snd, BPF_ANY);
	else
		bpf_map_update_elem(&go_sends, &tid, &snd, BPF_ANY);
	return 0;
}

/* persistConnWriter.Write(p []byte): the connection's buffered writer flushes, on the
 * writer goroutine; the write syscall follows. The first flush of a request carries its
 * head: its ids are published for this thread, once. */
SEC("uprobe")
int go_conn_write(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_key wk = {};
	struct go_send *snd;
	__u32 pid, tid;

	o = traced(&pid);
	if (!o || ((o->probe_at & GO_AT_CONN_JUMP) && GO_JUMP_TAKEN(ctx)))
		return 0;
	wk.pid = pid;
	wk.goid = cur_goid(ctx, o);
	snd = bpf_map_lookup_elem(&send_pending, &wk);
	if (!snd)
		return 0; /* a body's later bytes, or no request known */
	tid = (__u32)bpf_get_current_pid_tgid();
	snd->ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&go_sends, &tid, snd, BPF_ANY);
	bpf_map_delete_elem(&send_pending, &wk);
	return 0;
}
