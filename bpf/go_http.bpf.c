// SPDX-License-Identifier: GPL-2.0-only
/*
 * Go net/http from inside the program: uprobes on the server's handler call and the
 * client's Transport, attached by user space at each function's entry and at every
 * return instruction in it (a uretprobe rewrites the return address on the stack, which
 * Go moves when it grows a goroutine's stack). Go's register ABI (1.17+) passes
 * arguments in registers and keeps the running goroutine's g in a fixed one; every map
 * is keyed by (process, g), and every probe first looks the process up in go_procs:
 * the probes fire in every process running a probed binary, traced or not.
 *
 * Field offsets differ between Go versions, so they come per binary from user space
 * (go_bins) rather than as constants fixed at load: several versions are traced at once.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "go_common.bpf.h"
#include "go_link.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 self_tgid = 0; /* ehttp itself: never traced */
/* Wake the reader only once this much is waiting (it polls on a short timer anyway):
 * a wakeup is an interrupt and a cross-CPU wake, several microseconds on a VM, which
 * per event cost the server more than everything else the probes do. */
const volatile __u64 wakeup_bytes = 1 << 16;


/* ---- maps ---------------------------------------------------------------------------- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} go_events SEC(".maps");

/* An array: the lookup each probe makes first is then inlined, no hash to compute. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GO_MAX_BINS);
	__type(key, __u32);
	__type(value, struct go_offsets);
} go_bins SEC(".maps");

/* Requests being served, by the handler's goroutine; what is left at the end is read
 * by user space as partial spans. LRU: a handler that panicked never returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_MAX_REQUESTS);
	__type(key, struct go_key);
	__type(value, struct go_req);
} server_reqs SEC(".maps");

/* Goroutines spawned under a request. LRU: nothing watches goroutines end (a probe on
 * runtime.goexit1 would cost every goroutine of the program a trap), and goids are
 * never reused, so the oldest go when room is needed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_MAX_GOROUTINES);
	__type(key, struct go_key);
	__type(value, struct go_link);
} links SEC(".maps");

/* newproc1's entry → its return, on the same thread (it runs on the system stack);
 * only before Go 1.21, whose g does not say who spawned it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct go_link);
} spawning SEC(".maps");

/* A traceparent line read on a goroutine, until its handler starts. LRU: client
 * goroutines read response headers too, and nothing takes theirs. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct go_key);
	__type(value, struct go_traceparent);
} pending_tp SEC(".maps");

/* Room to build a request's state: it is larger than the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_req);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[GO_TRACEPARENT_LINE_MAX]);
} line_buf SEC(".maps");

/* A net/http.Request's fields, read at once (room for a field at any masked offset). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[GO_REQ_READ_MAX + 16]);
} req_buf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_counters);
} go_counters SEC(".maps");

/* The walk of a Header map: its layout, one bucket or group read at once, the result. */
struct go_map_scan {
	struct go_map_layout m;
	struct go_traceparent tp;
	__u64 next;   /* the overflow bucket after this one */
	__u32 budget; /* groups left to read for this request */
	__u32 pad;
	__u8 grp[GO_MAP_GROUP_MAX + 64]; /* room for a slot at any masked offset */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct go_map_scan);
} map_scan SEC(".maps");

/* ---- helpers --------------------------------------------------------------------------- */
static __always_inline void count_drop(int no_state)
{
	__u32 zero = 0;
	struct go_counters *c = bpf_map_lookup_elem(&go_counters, &zero);

	if (!c)
		return;
	if (no_state)
		c->no_state++;
	else
		c->dropped++;
}

static __always_inline void count_tp_unread(void)
{
	__u32 zero = 0;
	struct go_counters *c = bpf_map_lookup_elem(&go_counters, &zero);

	if (c)
		c->tp_unread++;
}

/* The offsets of the calling process's binary, or NULL when it is not traced. */
static __always_inline const struct go_offsets *traced(__u32 *pid)
{
	struct go_proc *p;

	*pid = bpf_get_current_pid_tgid() >> 32;
	if (*pid == self_tgid)
		return NULL;
	p = bpf_map_lookup_elem(&go_procs, pid);
	if (!p)
		return NULL;
	return bpf_map_lookup_elem(&go_bins, &p->bin);
}

static __always_inline __u64 read_word(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

/* Copy the Go string (@ptr, @len) into @dst (@size a power of two); its real length back. */
static __always_inline __u16 copy_gostr(__u64 ptr, __s64 len, char *dst, __u32 size, __u32 *flags)
{
	__u64 n;

	if (len <= 0 || !ptr)
		return 0;
	n = len;
	if (n > size - 1) {
		n = size - 1;
		*flags |= GO_F_TARGET_CUT;
	}
	n &= size - 1;
	if (bpf_probe_read_user(dst, n, (const void *)ptr))
		return 0;
	return len > 0xffff ? 0xffff : len;
}

/* Copy the Go string at @addr into @dst (@size a power of two); its real length back. */
static __always_inline __u16 read_gostr(__u64 addr, char *dst, __u32 size, __u32 *flags)
{
	struct {
		__u64 ptr;
		__s64 len;
	} s = {};

	if (bpf_probe_read_user(&s, sizeof(s), (const void *)addr))
		return 0;
	return copy_gostr(s.ptr, s.len, dst, size, flags);
}

/*
 * The Request at @req read at once (one bpf_probe_read_user for its string headers,
 * lengths and pointers, where reading each field cost one each); NULL when its layout
 * does not allow it, and the fields are then read one by one (req_word, req_str).
 */
static __always_inline const __u8 *read_request(const struct go_offsets *o, __u64 req)
{
	__u32 zero = 0, n = o->req_read_len;
	__u8 *buf;

	if (!n || n > GO_REQ_READ_MAX)
		return NULL;
	buf = bpf_map_lookup_elem(&req_buf, &zero);
	if (!buf || bpf_probe_read_user(buf, n, (const void *)req))
		return NULL;
	return buf;
}

/* The 8-byte field at @off (>= 0) of the Request @req, from @buf when it was read. */
static __always_inline __u64 req_word(const __u8 *buf, __u64 req, __s32 off)
{
	if (buf)
		return *(const __u64 *)(buf + (off & (GO_REQ_READ_MAX - 1)));
	return read_word(req + off);
}

static __always_inline __u16 req_str(const __u8 *buf, __u64 req, __s32 off, char *dst, __u32 size,
				     __u32 *flags)
{
	if (buf)
		return copy_gostr(*(const __u64 *)(buf + (off & (GO_REQ_READ_MAX - 1))),
				  *(const __s64 *)(buf + ((off + 8) & (GO_REQ_READ_MAX - 1))), dst, size,
				  flags);
	return read_gostr(req + off, dst, size, flags);
}

/* The running goroutine's id: the key of every per-goroutine map. */
static __always_inline __u64 cur_goid(struct pt_regs *ctx, const struct go_offsets *o)
{
	return read_word(GO_G(ctx) + o->g_goid);
}

static __always_inline void new_id(__u8 *id, int words)
{
	__u32 r;
	int i;

	for (i = 0; i < words; i++) {
		r = bpf_get_prandom_u32();
		if (!r)
			r = 1; /* an id is never all zero */
		__builtin_memcpy(id + 4 * i, &r, 4);
	}
}

static __always_inline struct go_req *start_req(__u32 type, __u32 pid, __u64 g, __u64 goid)
{
	__u32 zero = 0;
	struct go_req *r = bpf_map_lookup_elem(&scratch, &zero);

	if (!r)
		return NULL;
	__builtin_memset(&r->ev, 0, offsetof(struct go_event, comm));
	r->ev.type = type;
	r->ev.role = type == GO_EV_CLIENT ? 2 : 1;
	r->ev.size = sizeof(r->ev);
	r->ev.pid = pid;
	r->ev.tid = (__u32)bpf_get_current_pid_tgid();
	r->ev.g = g;
	r->ev.goid = goid;
	r->ev.start_ns = bpf_ktime_get_ns();
	r->writer = 0;
	r->req = 0;
	r->hdr = 0;
	bpf_get_current_comm(r->ev.comm, sizeof(r->ev.comm));
	new_id(r->ev.span_id, 2);
	return r;
}

/* Wake the reader each time this CPU has sent it wakeup_bytes more. Not "when that
 * much is waiting": a reader slow to run would then be woken by every event. */
static __always_inline void emit(struct go_event *ev)
{
	__u32 zero = 0;
	struct go_counters *c = bpf_map_lookup_elem(&go_counters, &zero);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (c) {
		c->unwoken += sizeof(*ev);
		if (c->unwoken >= wakeup_bytes) {
			c->unwoken = 0;
			flags = BPF_RB_FORCE_WAKEUP;
		}
	}
	if (bpf_ringbuf_output(&go_events, ev, sizeof(*ev), flags))
		count_drop(0);
}

/* ---- the incoming traceparent, from the request's Header map --------------------------- */
enum { TP_FOUND = 1, TP_ABSENT = 0, TP_GAVE_UP = -1, TP_NOT_HERE = 2 };

/*
 * Look in the bucket or group at @addr for the key "Traceparent" and parse its first
 * value, as Header.Get returns it: TP_FOUND (scan->tp filled), TP_ABSENT (the key
 * without a valid value), TP_NOT_HERE (scan->next: the overflow bucket, if any).
 * A global function: the verifier checks it once, not once per group visited, which
 * keeps the walk's loops within its limits. Its state is the CPU's map_scan.
 */
__noinline int go_scan_group(__u64 addr)
{
	struct go_map_scan *scan;
	__u32 zero = 0, i, ko, eo, size;
	bool piecewise;
	__u64 vlen;
	char key[16];
	char *val;

	scan = bpf_map_lookup_elem(&map_scan, &zero);
	if (!scan)
		return TP_GAVE_UP;
	size = scan->m.group_size;
	if (size < 8 || size > GO_MAP_GROUP_MAX || !scan->budget)
		return TP_GAVE_UP;
	scan->budget--;
	/* Go leaves fresh memory from the OS untouched until it writes there: the part of
	 * a group holding only empty slots may be on a page never mapped, where the copy
	 * fails. Then the control word first, and each full slot on its own. */
	piecewise = bpf_probe_read_user(scan->grp, size, (const void *)addr) != 0;
	if (piecewise && bpf_probe_read_user(scan->grp, 8, (const void *)addr))
		return TP_GAVE_UP;
	scan->next = 0;
	for (i = 0; i < 8; i++) {
		__u8 c = scan->grp[i];
		__u64 kptr, vptr;
		struct {
			__u64 ptr;
			__s64 len;
		} str = {};

		/* a full slot: tophash >= minTopHash (5); ctrl with its high bit clear */
		if (scan->m.kind == GO_MAP_BUCKETS ? c < 5 : (c & 0x80))
			continue;
		/* masked: a slot at any offset stays inside the buffer (user space checked
		 * that the real ones are inside the group) */
		ko = (scan->m.key_off + i * scan->m.key_stride) & (GO_MAP_GROUP_MAX - 1);
		eo = (scan->m.elem_off + i * scan->m.elem_stride) & (GO_MAP_GROUP_MAX - 1);
		if (piecewise && (bpf_probe_read_user(scan->grp + ko, 16, (const void *)(addr + ko)) ||
				  bpf_probe_read_user(scan->grp + eo, 24, (const void *)(addr + eo))))
			return TP_GAVE_UP;
		if (*(const __u64 *)(scan->grp + ko + 8) != 11)
			continue;
		kptr = *(const __u64 *)(scan->grp + ko);
		if (bpf_probe_read_user(key, 11, (const void *)kptr) || !go_is_traceparent_key(key))
			continue;
		/* the []string: its first string */
		vptr = *(const __u64 *)(scan->grp + eo);
		if (!*(const __u64 *)(scan->grp + eo + 8) || !vptr ||
		    bpf_probe_read_user(&str, sizeof(str), (const void *)vptr))
			return TP_ABSENT;
		vlen = str.len;
		barrier_var(vlen);
		if (vlen < GO_TRACEPARENT_VALUE || vlen > GO_TRACEPARENT_LINE_MAX || !str.ptr)
			return TP_ABSENT;
		val = bpf_map_lookup_elem(&line_buf, &zero);
		if (!val || bpf_probe_read_user(val, vlen, (const void *)str.ptr))
			return TP_ABSENT;
		return go_parse_traceparent_value(val, vlen, &scan->tp) ? TP_FOUND : TP_ABSENT;
	}
	if (scan->m.kind == GO_MAP_BUCKETS) {
		__u32 oo = scan->m.overflow_off & (GO_MAP_GROUP_MAX - 1);

		/* unreadable: never written, so no overflow bucket */
		if (piecewise && bpf_probe_read_user(scan->grp + oo, 8, (const void *)(addr + oo)))
			*(__u64 *)(scan->grp + oo) = 0;
		scan->next = *(const __u64 *)(scan->grp + oo);
	}
	return TP_NOT_HERE;
}

/* A bucket and its overflow chain (global, as go_scan_group). */
__noinline int go_scan_chain(__u64 addr)
{
	struct go_map_scan *scan;
	__u32 zero = 0, n;
	int r;

	for (n = 0; n < GO_MAP_MAX_CHAIN && addr; n++) {
		r = go_scan_group(addr);
		if (r != TP_NOT_HERE)
			return r;
		scan = bpf_map_lookup_elem(&map_scan, &zero);
		if (!scan)
			return TP_GAVE_UP;
		addr = scan->next;
	}
	return addr ? TP_GAVE_UP : TP_NOT_HERE;
}

/* Every group of a Swiss table (global, as go_scan_group). */
__noinline int go_scan_table(__u64 table)
{
	struct go_map_scan *scan;
	__u64 groups, mask;
	__u32 zero = 0, j;
	int r;

	scan = bpf_map_lookup_elem(&map_scan, &zero);
	if (!scan)
		return TP_GAVE_UP;
	groups = read_word(table + scan->m.table_groups_off);
	mask = read_word(table + scan->m.table_mask_off);
	if (!groups || mask >= GO_MAP_MAX_GROUPS)
		return TP_GAVE_UP;
	for (j = 0; j < GO_MAP_MAX_GROUPS && j <= mask; j++) {
		r = go_scan_group(groups + (__u64)j * scan->m.group_size);
		if (r != TP_NOT_HERE)
			return r;
	}
	return TP_NOT_HERE;
}

/* runtime.hmap (Go 1.17-1.23): 2^B buckets with overflow chains, and while the map
 * grows the buckets not moved yet (their moved slots are marked, tophash < 5). */
static __always_inline int buckets_traceparent(struct go_map_scan *scan, __u64 h)
{
	const struct go_map_layout *m = &scan->m;
	__u64 buckets = read_word(h + m->buckets_off), old = read_word(h + m->oldbuckets_off);
	__u64 size = m->group_size;
	__u8 b = 0, flags = 0;
	__u32 i, nnew, nall;
	int r;

	bpf_probe_read_user(&b, 1, (const void *)(h + m->b_off));
	bpf_probe_read_user(&flags, 1, (const void *)(h + m->flags_off));
	if (b > GO_MAP_MAX_B)
		return TP_GAVE_UP;
	nnew = 1u << b;
	/* growing to twice the size, or to the same size (flag sameSizeGrow) */
	nall = nnew + (old ? ((flags & 8) ? nnew : nnew >> 1) : 0);
	for (i = 0; i < 2 << GO_MAP_MAX_B && i < nall; i++) {
		r = go_scan_chain(i < nnew ? buckets + i * size : old + (i - nnew) * size);
		if (r != TP_NOT_HERE)
			return r;
	}
	return TP_ABSENT;
}

/* internal/runtime/maps.Map (Go 1.24+): one group while small, else a directory of tables
 * (neighbouring entries may share one), each an array of lengthMask+1 groups. */
static __always_inline int swiss_traceparent(struct go_map_scan *scan, __u64 h)
{
	const struct go_map_layout *m = &scan->m;
	__u64 dir = read_word(h + m->dir_ptr_off), table, last = 0;
	__s64 dirlen = read_word(h + m->dir_len_off);
	__u32 d;
	int r;

	if (!dir)
		return TP_ABSENT;
	if (dirlen == 0) {
		r = go_scan_group(dir);
		return r == TP_NOT_HERE ? TP_ABSENT : r;
	}
	if (dirlen < 0 || dirlen > GO_MAP_MAX_DIR)
		return TP_GAVE_UP;
	for (d = 0; d < GO_MAP_MAX_DIR && d < dirlen; d++) {
		table = read_word(dir + 8 * (__u64)d);
		if (!table || table == last)
			continue;
		last = table;
		r = go_scan_table(table);
		if (r != TP_NOT_HERE)
			return r;
	}
	return TP_ABSENT;
}

/* The traceparent in the Header map @h into @tp: TP_FOUND, TP_ABSENT or TP_GAVE_UP. */
static __always_inline int header_map_traceparent(const struct go_offsets *o, __u64 h,
						  struct go_traceparent *tp)
{
	struct go_map_scan *scan;
	__u32 zero = 0;
	int r;

	if (!h || !read_word(h + o->header_map.count_off))
		return TP_ABSENT;
	scan = bpf_map_lookup_elem(&map_scan, &zero);
	if (!scan)
		return TP_GAVE_UP;
	scan->m = o->header_map;
	scan->budget = GO_MAP_MAX_GROUPS;
	r = o->header_map.kind == GO_MAP_BUCKETS ? buckets_traceparent(scan, h)
						 : swiss_traceparent(scan, h);
	if (r == TP_FOUND)
		*tp = scan->tp;
	return r;
}

/* The request's own traceparent into @tp: TP_FOUND, TP_ABSENT or TP_GAVE_UP. */
static __always_inline int header_traceparent(const struct go_offsets *o, __u64 req,
					      struct go_traceparent *tp)
{
	if (o->req_header < 0)
		return TP_GAVE_UP;
	return header_map_traceparent(o, read_word(req + o->req_header), tp);
}

/* ---- server: serverHandler.ServeHTTP(sh, rw ResponseWriter, req *Request) --------------- */
SEC("uprobe")
int go_serve_enter(struct pt_regs *ctx)
{
	struct go_traceparent *tp, hdr_tp = {};
	const struct go_offsets *o;
	struct go_key k = {};
	struct go_req *r;
	const __u8 *rb;
	__u64 req, writer;
	__u32 pid;

	o = traced(&pid);
	if (!o || ((o->probe_at & GO_AT_SERVE_JUMP) && GO_JUMP_TAKEN(ctx)))
		return 0;
	k.pid = pid;
	k.goid = cur_goid(ctx, o);
	r = start_req(GO_EV_SERVER, pid, GO_G(ctx), k.goid);
	if (!r)
		return 0;
	writer = GO_ARG3(ctx); /* the interface's data word; ARG2 is its itab */
	req = GO_ARG4(ctx);
	r->writer = writer;
	r->req = req; /* the writer is checked at the return, with its status in the same read */
	rb = read_request(o, req);
	if (o->req_method >= 0)
		r->ev.method_len = req_str(rb, req, o->req_method, r->ev.method, GO_METHOD_MAX, &r->ev.flags);
	if (o->req_request_uri >= 0)
		r->ev.target_len = req_str(rb, req, o->req_request_uri, r->ev.target, GO_TARGET_MAX,
					   &r->ev.flags);
	if (o->req_host >= 0)
		r->ev.host_len = req_str(rb, req, o->req_host, r->ev.host, GO_HOST_MAX, &r->ev.flags);
	if (o->req_remote_addr >= 0)
		r->ev.remote_len = req_str(rb, req, o->req_remote_addr, r->ev.remote, GO_ADDR_MAX,
					   &r->ev.flags);
	if (o->req_content_length >= 0)
		r->ev.req_content_length = req_word(rb, req, o->req_content_length);
	if (o->req_proto_major >= 0)
		r->ev.proto_major = req_word(rb, req, o->req_proto_major);
	if (o->req_proto_minor >= 0)
		r->ev.proto_minor = req_word(rb, req, o->req_proto_minor);
	if (o->header_map.kind != GO_MAP_UNKNOWN) {
		int found = o->req_header < 0 ? TP_GAVE_UP
			    : header_map_traceparent(o, req_word(rb, req, o->req_header), &hdr_tp);

		tp = found == TP_FOUND ? &hdr_tp : NULL;
		if (found == TP_GAVE_UP) {
			r->ev.flags |= GO_F_TP_UNREAD;
			count_tp_unread();
		}
	} else {
		/* layout unknown: the line go_header_line kept for this goroutine */
		tp = bpf_map_lookup_elem(&pending_tp, &k);
		if (tp)
			bpf_map_delete_elem(&pending_tp, &k);
	}
	if (tp) {
		__builtin_memcpy(r->ev.trace_id, tp->trace_id, sizeof(r->ev.trace_id));
		__builtin_memcpy(r->ev.parent_span_id, tp->parent_id, sizeof(r->ev.parent_span_id));
		r->ev.flags |= GO_F_TRACEPARENT;
	} else {
		new_id(r->ev.trace_id, 4);
	}
	if (bpf_map_update_elem(&server_reqs, &k, r, BPF_ANY))
		count_drop(1);
	return 0;
}

/* An HTTP/1 *response's req and status fields at once (in req_buf); false if unread. */
static __always_inline bool response_fields(const struct go_offsets *o, __u64 writer, __u64 *req,
					    __u64 *status)
{
	__s32 a = o->response_req, b = o->response_status, lo;
	__u32 zero = 0;
	__u64 n;
	__u8 *buf;

	if (a < 0 || b < 0 || !writer)
		return false;
	lo = a < b ? a : b;
	n = (__u64)((a < b ? b : a) - lo) + 8;
	if (n >= GO_REQ_READ_MAX) { /* apart: one read each */
		*req = read_word(writer + a);
		*status = read_word(writer + b);
		return true;
	}
	buf = bpf_map_lookup_elem(&req_buf, &zero);
	if (!buf || bpf_probe_read_user(buf, n & (GO_REQ_READ_MAX - 1), (const void *)(writer + lo)))
		return false;
	*req = *(const __u64 *)(buf + ((a - lo) & (GO_REQ_READ_MAX - 1)));
	*status = *(const __u64 *)(buf + ((b - lo) & (GO_REQ_READ_MAX - 1)));
	return true;
}

SEC("uprobe")
int go_serve_return(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_key k = {};
	struct go_req *r;
	__u64 wreq, status;
	__u32 pid;

	o = traced(&pid);
	if (!o)
		return 0;
	k.pid = pid;
	k.goid = cur_goid(ctx, o);
	r = bpf_map_lookup_elem(&server_reqs, &k);
	if (!r)
		return 0;
	r->ev.end_ns = bpf_ktime_get_ns();
	/* net/http's HTTP/1 *response points back at the request (HTTP/2's writer does not),
	 * and has the status the handler set; none yet means the 200 net/http sends once the
	 * handler returned. Both fields in one read. */
	if (response_fields(o, r->writer, &wreq, &status) && wreq == r->req) {
		r->ev.flags |= GO_F_HTTP1_WRITER;
		r->ev.status = status ? (status > 999 ? 0 : status) : 200;
	}
	emit(&r->ev);
	bpf_map_delete_elem(&server_reqs, &k);
	return 0;
}

/* textproto.(*Reader).readContinuedLineSlice returns ([]byte line, error): a header
 * line, read on the goroutine that will run the handler. Most lines are rejected by
 * their length alone, before any map lookup. */
SEC("uprobe")
int go_header_line(struct pt_regs *ctx)
{
	struct go_traceparent tp = {};
	const struct go_offsets *o;
	struct go_key k = {};
	__u64 len = GO_ARG2(ctx);
	__u32 zero = 0, pid;
	char *line;

	if (len < GO_TRACEPARENT_NAME + GO_TRACEPARENT_VALUE || len > GO_TRACEPARENT_LINE_MAX)
		return 0;
	o = traced(&pid);
	if (!o)
		return 0;
	line = bpf_map_lookup_elem(&line_buf, &zero);
	if (!line)
		return 0;
	if (bpf_probe_read_user(line, GO_TRACEPARENT_LINE_MAX, (const void *)GO_ARG1(ctx)) &&
	    bpf_probe_read_user(line, GO_TRACEPARENT_NAME + GO_TRACEPARENT_VALUE,
				(const void *)GO_ARG1(ctx)))
		return 0;
	if (!go_parse_traceparent_line(line, len, &tp))
		return 0;
	k.pid = pid;
	k.goid = cur_goid(ctx, o);
	bpf_map_update_elem(&pending_tp, &k, &tp, BPF_ANY);
	return 0;
}

/* ---- client: (*Transport).roundTrip(req *Request) (*Response, error) --------------------- */
SEC("uprobe")
int go_client_enter(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_req *r, *own, *linked_now = NULL;
	struct go_traceparent tp = {};
	struct go_link *link = NULL;
	struct go_key k = {}, lk = {};
	struct go_hdr_key hk = {};
	__u64 req, url;
	__u32 pid;

	o = traced(&pid);
	if (!o || ((o->probe_at & GO_AT_CLIENT_JUMP) && GO_JUMP_TAKEN(ctx)))
		return 0;
	k.pid = pid;
	k.goid = cur_goid(ctx, o);
	r = start_req(GO_EV_CLIENT, pid, GO_G(ctx), k.goid);
	if (!r)
		return 0;
	req = GO_ARG2(ctx);
	if (o->req_method >= 0)
		r->ev.method_len = read_gostr(req + o->req_method, r->ev.method, GO_METHOD_MAX, &r->ev.flags);
	if (!r->ev.method_len) { /* "" means GET to net/http */
		__builtin_memcpy(r->ev.method, "GET", 4);
		r->ev.method_len = 3;
	}
	if (o->req_host >= 0)
		r->ev.host_len = read_gostr(req + o->req_host, r->ev.host, GO_HOST_MAX, &r->ev.flags);
	if (o->req_content_length >= 0)
		r->ev.req_content_length = read_word(req + o->req_content_length);
	url = o->req_url >= 0 ? read_word(req + o->req_url) : 0;
	if (url) {
		if (o->url_path >= 0)
			r->ev.target_len = read_gostr(url + o->url_path, r->ev.target, GO_TARGET_MAX,
						      &r->ev.flags);
		if (o->url_raw_query >= 0)
			r->ev.query_len = read_gostr(url + o->url_raw_query, r->ev.query, GO_QUERY_MAX,
						     &r->ev.flags);
		if (o->url_host >= 0)
			r->ev.url_host_len = read_gostr(url + o->url_host, r->ev.url_host, GO_HOST_MAX,
							&r->ev.flags);
	}
	own = bpf_map_lookup_elem(&server_reqs, &k);
	if (!own) {
		link = bpf_map_lookup_elem(&links, &k);
		if (link) {
			lk.pid = pid;
			lk.goid = link->server_goid;
			linked_now = bpf_map_lookup_elem(&server_reqs, &lk);
		}
	}
	if (go_link_resolve(own ? &own->ev : NULL, link, linked_now ? &linked_now->ev : NULL, &r->ev))
		new_id(r->ev.trace_id, 4);
	/* A request that carries a traceparent already (the program propagates itself) is
	 * the span that traceparent names: the span adopts its ids, and nothing may write
	 * another. Its parent stays the linked server span when it is of the same trace. */
	if (o->header_map.kind != GO_MAP_UNKNOWN && header_traceparent(o, req, &tp) == TP_FOUND) {
		const __u64 *a = (const __u64 *)r->ev.trace_id, *b = (const __u64 *)tp.trace_id;

		if (a[0] != b[0] || a[1] != b[1])
			__builtin_memset(r->ev.parent_span_id, 0, sizeof(r->ev.parent_span_id));
		__builtin_memcpy(r->ev.trace_id, tp.trace_id, sizeof(r->ev.trace_id));
		__builtin_memcpy(r->ev.span_id, tp.parent_id, sizeof(r->ev.span_id));
		r->ev.prop = GO_PROP_EXISTING;
	}
	r->hdr = o->req_header >= 0 ? read_word(req + o->req_header) : 0;
	if (bpf_map_update_elem(&client_reqs, &k, r, BPF_ANY)) {
		count_drop(1);
		return 0;
	}
	hk.pid = pid;
	hk.hdr = r->hdr;
	if (hk.hdr)
		bpf_map_update_elem(&client_hdrs, &hk, &k.goid, BPF_ANY);
	return 0;
}

/* The end of the calling goroutine's client request: *Response in AX, nil if an error came. */
static __always_inline int client_done(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_key k = {};
	struct go_hdr_key hk = {};
	struct go_req *r;
	__u64 resp;
	__u32 pid;

	o = traced(&pid);
	if (!o)
		return 0;
	k.pid = pid;
	k.goid = cur_goid(ctx, o);
	r = bpf_map_lookup_elem(&client_reqs, &k);
	if (!r)
		return 0;
	r->ev.end_ns = bpf_ktime_get_ns();
	resp = GO_ARG1(ctx);
	if (resp) {
		if (o->resp_status_code >= 0) {
			__u64 status = read_word(resp + o->resp_status_code);

			r->ev.status = status > 999 ? 0 : status;
		}
		if (o->resp_content_length >= 0)
			r->ev.resp_content_length = read_word(resp + o->resp_content_length);
		if (o->resp_proto_major >= 0)
			r->ev.proto_major = read_word(resp + o->resp_proto_major);
		if (o->resp_proto_minor >= 0)
			r->ev.proto_minor = read_word(resp + o->resp_proto_minor);
	} else {
		r->ev.flags |= GO_F_ERROR;
	}
	emit(&r->ev);
	hk.pid = pid;
	hk.hdr = r->hdr;
	bpf_map_delete_elem(&client_reqs, &k);
	if (hk.hdr)
		bpf_map_delete_elem(&client_hdrs, &hk);
	return 0;
}

/* roundTrip's RETs: the response, or the error it returns. */
SEC("uprobe")
int go_client_return(struct pt_regs *ctx)
{
	return client_done(ctx);
}

/* amd64, where lib/go found it: roundTrip's JE on the error from persistConn.roundTrip (or
 * pconn.alt.RoundTrip), emulated. The RETs of its success branch are not probed: a nil
 * error there is the response roundTrip returns. A non-nil one is left to the RETs
 * still probed, or to the retry that calls again. */
SEC("uprobe")
int go_client_result(struct pt_regs *ctx)
{
	if (GO_ARG2(ctx))
		return 0;
	return client_done(ctx);
}

/* ---- --propagate: the writer goroutine's request, for the sk_msg program ---------------- */
#include "go_send.bpf.h"

/* ---- goroutines: runtime.newproc1(fn, callergp, ...) *g ---------------------------------- */
/* Where the new g is known: at newproc1's RETs, or (cheaper, lib/go_source.c) at the call
 * runqput(pp, newg, true) in runtime.newproc's closure, right after newproc1 returned. */
/* The link a new goroutine gets from the goroutine @creator of process @pid, if any. */
static __always_inline int spawned_by(__u32 pid, __u64 creator, struct go_link *child)
{
	struct go_key k = { .pid = pid, .goid = creator };
	struct go_link *link = NULL;
	struct go_req *srv;

	srv = bpf_map_lookup_elem(&server_reqs, &k);
	if (!srv)
		link = bpf_map_lookup_elem(&links, &k);
	return go_link_inherit(srv ? &srv->ev : NULL, link, creator, child);
}

/* Before Go 1.21 only: the spawner is an argument of newproc1, gone by its return; or
 * the running goroutine at runtime.newproc's entry. */
SEC("uprobe")
int go_spawn_enter(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_link child;
	__u64 tid, arg2, arg4, creator_g;
	__u32 pid;

	o = traced(&pid);
	if (!o || ((o->probe_at & GO_AT_SPAWN_JUMP) && GO_JUMP_TAKEN(ctx)))
		return 0;
	/* Both registers are read: the verifier refuses a context offset chosen at run time. */
	arg2 = GO_ARG2(ctx);
	arg4 = GO_ARG4(ctx);
	barrier_var(arg2);
	barrier_var(arg4);
	creator_g = o->newproc_creator_arg == 4 ? arg4 : o->newproc_creator_arg == 2 ? arg2 : GO_G(ctx);
	if (!spawned_by(pid, read_word(creator_g + o->g_goid), &child))
		return 0;
	tid = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&spawning, &tid, &child, BPF_ANY);
	return 0;
}

SEC("uprobe")
int go_spawn_return(struct pt_regs *ctx)
{
	const struct go_offsets *o;
	struct go_link *pending, child;
	struct go_key k = {};
	__u64 tid = bpf_get_current_pid_tgid(), arg1 = GO_ARG1(ctx), arg2 = GO_ARG2(ctx), newg;
	__u32 pid;

	o = traced(&pid);
	if (!o)
		return 0;
	barrier_var(arg1);
	barrier_var(arg2);
	newg = o->spawn_newg_arg == 2 ? arg2 : arg1;
	if (!newg)
		return 0;
	k.pid = pid;
	/* the new g's id is read only when it gets a link: most spawns have none */
	if (o->g_parent_goid >= 0) {
		if (spawned_by(pid, read_word(newg + o->g_parent_goid), &child)) {
			k.goid = read_word(newg + o->g_goid);
			bpf_map_update_elem(&links, &k, &child, BPF_ANY);
		}
		return 0;
	}
	if (o->probe_at & GO_AT_SPAWN_CURG) {
		/* on the system stack: the g running is g0, and its m's curg the spawner */
		__u64 m = read_word(GO_G(ctx) + o->g_m), curg = m ? read_word(m + o->m_curg) : 0;

		if (curg && spawned_by(pid, read_word(curg + o->g_goid), &child)) {
			k.goid = read_word(newg + o->g_goid);
			bpf_map_update_elem(&links, &k, &child, BPF_ANY);
		}
		return 0;
	}
	pending = bpf_map_lookup_elem(&spawning, &tid);
	if (!pending)
		return 0;
	k.goid = read_word(newg + o->g_goid);
	bpf_map_update_elem(&links, &k, pending, BPF_ANY);
	bpf_map_delete_elem(&spawning, &tid);
	return 0;
}

/* ---- processes: a new image may be a Go binary to trace; an exit ends a traced one ---- */
SEC("tracepoint/sched/sched_process_exec")
int go_process_exec(void *ctx)
{
	struct go_event *ev;
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	/* The process may have been a traced Go program before: not any more. */
	bpf_map_delete_elem(&go_procs, &(__u32){ id >> 32 });
	ev = bpf_ringbuf_reserve(&go_events, offsetof(struct go_event, method), 0);
	if (!ev) {
		count_drop(0);
		return 0;
	}
	__builtin_memset(ev, 0, offsetof(struct go_event, comm));
	ev->type = GO_EV_EXEC;
	ev->size = offsetof(struct go_event, method);
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->start_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int go_process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)id == (__u32)(id >> 32)) /* the whole process, not one thread */
		bpf_map_delete_elem(&go_procs, &(__u32){ id >> 32 });
	return 0;
}
