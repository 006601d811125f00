// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Go source's linking, as the probes run it (bpf/go_link.h is compiled here too),
 * and the merge of a Go span with its wire view (lib/span_merge.c).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "go_link.h"
#include "span_merge.h"

static struct go_event server_req(uint8_t tag)
{
	struct go_event ev;

	memset(&ev, 0, sizeof(ev));
	memset(ev.trace_id, tag, sizeof(ev.trace_id));
	memset(ev.span_id, tag + 1, sizeof(ev.span_id));
	return ev;
}

Test(go_link, spawned_by_the_handler)
{
	struct go_event srv = server_req(0x10);
	struct go_link child;

	cr_assert_eq(go_link_inherit(&srv, NULL, 0xc000001000, &child), 1);
	cr_expect_eq(child.depth, 1);
	cr_expect_eq(child.gave_up, 0);
	cr_expect_eq(child.server_goid, 0xc000001000);
	cr_expect_arr_eq(child.trace_id, srv.trace_id, 16);
	cr_expect_arr_eq(child.span_id, srv.span_id, 8);
}

Test(go_link, outside_any_request)
{
	struct go_link child = { .depth = 77 };

	cr_expect_eq(go_link_inherit(NULL, NULL, 0xc000001000, &child), 0);
	cr_expect_eq(child.depth, 77, "left alone");
}

Test(go_link, generations_then_giving_up)
{
	struct go_event srv = server_req(0x20);
	struct go_link a, b;
	int i;

	go_link_inherit(&srv, NULL, 1, &a);
	for (i = 2; i <= GO_LINK_MAX_DEPTH; i++) {
		cr_assert_eq(go_link_inherit(NULL, &a, 2, &b), 1);
		cr_expect_eq(b.depth, i);
		cr_expect_eq(b.gave_up, 0);
		cr_expect_eq(b.server_goid, 1, "the handler's goroutine, not the spawner's");
		a = b;
	}
	cr_assert_eq(go_link_inherit(NULL, &a, 2, &b), 1);
	cr_expect_eq(b.depth, GO_LINK_MAX_DEPTH + 1);
	cr_expect_eq(b.gave_up, 1);
	/* and it stays given up below */
	a = b;
	go_link_inherit(NULL, &a, 2, &b);
	cr_expect_eq(b.gave_up, 1);
	a.depth = 255;
	go_link_inherit(NULL, &a, 2, &b);
	cr_expect_eq(b.depth, 255, "saturates");
}

Test(go_link, call_from_the_handler)
{
	struct go_event srv = server_req(0x30), call;

	memset(&call, 0, sizeof(call));
	cr_assert_eq(go_link_resolve(&srv, NULL, NULL, &call), 0);
	cr_expect_arr_eq(call.trace_id, srv.trace_id, 16);
	cr_expect_arr_eq(call.parent_span_id, srv.span_id, 8);
	cr_expect_eq(call.flags, GO_F_LINK_SERVER);
	cr_expect_eq(call.depth, 0);
}

Test(go_link, call_from_a_spawned_goroutine)
{
	struct go_event srv = server_req(0x40), call, other = server_req(0x50);
	struct go_link link;

	go_link_inherit(&srv, NULL, 1, &link);
	memset(&call, 0, sizeof(call));
	cr_assert_eq(go_link_resolve(NULL, &link, &srv, &call), 0);
	cr_expect_arr_eq(call.trace_id, srv.trace_id, 16);
	cr_expect_arr_eq(call.parent_span_id, srv.span_id, 8);
	cr_expect_eq(call.flags, GO_F_LINK_SPAWNED);
	cr_expect_eq(call.depth, 1);

	/* The handler returned: its goroutine serves nothing, or another request now. */
	memset(&call, 0, sizeof(call));
	cr_assert_eq(go_link_resolve(NULL, &link, NULL, &call), 0);
	cr_expect_eq(call.flags, GO_F_LINK_SPAWNED | GO_F_PARENT_ENDED);
	cr_expect_arr_eq(call.parent_span_id, srv.span_id, 8, "still its request's child");
	memset(&call, 0, sizeof(call));
	go_link_resolve(NULL, &link, &other, &call);
	cr_expect_eq(call.flags, GO_F_LINK_SPAWNED | GO_F_PARENT_ENDED);
	cr_expect_arr_eq(call.parent_span_id, srv.span_id, 8, "not the request served now");
}

Test(go_link, own_request_wins_over_the_link)
{
	struct go_event srv = server_req(0x60), mine = server_req(0x70), call;
	struct go_link link;

	go_link_inherit(&srv, NULL, 1, &link);
	memset(&call, 0, sizeof(call));
	go_link_resolve(&mine, &link, &srv, &call);
	cr_expect_arr_eq(call.parent_span_id, mine.span_id, 8);
}

Test(go_link, gave_up_and_root_calls_need_a_trace_id)
{
	struct go_link link = { .depth = GO_LINK_MAX_DEPTH + 1, .gave_up = 1 };
	struct go_event call;
	static const uint8_t zero[8];

	memset(&call, 0, sizeof(call));
	cr_expect_eq(go_link_resolve(NULL, &link, NULL, &call), 1);
	cr_expect_eq(call.flags, GO_F_LINK_GAVE_UP);
	cr_expect_eq(call.depth, GO_LINK_MAX_DEPTH + 1);
	cr_expect_arr_eq(call.parent_span_id, zero, 8);
	memset(&call, 0, sizeof(call));
	cr_expect_eq(go_link_resolve(NULL, NULL, NULL, &call), 1);
	cr_expect_eq(call.flags, 0);
}

static int tp_line(const char *line, struct go_traceparent *tp)
{
	char buf[GO_TRACEPARENT_LINE_MAX] = { 0 };
	size_t len = strlen(line);

	memcpy(buf, line, len < sizeof(buf) ? len : sizeof(buf));
	return go_parse_traceparent_line(buf, len, tp);
}

Test(go_link, traceparent_header_lines)
{
	struct go_traceparent tp;

	cr_assert(tp_line("Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_eq(tp.trace_id[0], 0x4b);
	cr_expect_eq(tp.trace_id[15], 0x36);
	cr_expect_eq(tp.parent_id[0], 0x00);
	cr_expect_eq(tp.parent_id[7], 0xb7);
	cr_expect(tp_line("traceparent:00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00", &tp));
	cr_expect(tp_line("TRACEPARENT:   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect(tp_line("traceparent: 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later", &tp),
		  "a later version may add fields");
	cr_expect(tp_line("traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01  ", &tp));
}

Test(go_link, not_traceparent_lines)
{
	struct go_traceparent tp;

	cr_expect_not(tp_line("Tracestate: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_line("Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", &tp));
	cr_expect_not(tp_line("Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", &tp),
		  "version 00 has exactly four fields");
	cr_expect_not(tp_line("Traceparent: 01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", &tp));
	cr_expect_not(tp_line("Traceparent: ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_line("Traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_line("Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", &tp));
	cr_expect_not(tp_line("Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_line("Traceparent: 00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_line("Content-Type: text/plain; charset=utf-8 and some more text to be long", &tp));
}

/* What the Header-map walk matches: the key, and the value as net/http holds it. */
static int tp_value(const char *v, struct go_traceparent *tp)
{
	char buf[GO_TRACEPARENT_LINE_MAX] = { 0 };
	size_t len = strlen(v);

	memcpy(buf, v, len < sizeof(buf) ? len : sizeof(buf));
	return go_parse_traceparent_value(buf, len, tp);
}

Test(go_link, traceparent_map_keys)
{
	cr_expect(go_is_traceparent_key("Traceparent"));
	cr_expect(go_is_traceparent_key("traceparent"), "a name kept as sent");
	cr_expect(go_is_traceparent_key("TRACEPARENT"));
	cr_expect_not(go_is_traceparent_key("Traceparenu"));
	cr_expect_not(go_is_traceparent_key("Xraceparent"));
	cr_expect_not(go_is_traceparent_key("Tracestate\0"));
	cr_expect_not(go_is_traceparent_key("Trace-paren"));
}

Test(go_link, traceparent_map_values)
{
	struct go_traceparent tp;

	cr_assert(tp_value("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_eq(tp.trace_id[0], 0x4b);
	cr_expect_eq(tp.parent_id[7], 0xb7);
	cr_expect(tp_value("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later", &tp));
	cr_expect_not(tp_value("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", &tp));
	cr_expect_not(tp_value("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_value("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0", &tp));
	cr_expect_not(tp_value("00-00000000000000000000000000000000-00f067aa0ba902b7-01", &tp));
	cr_expect_not(tp_value("", &tp));
}

/* ---- merging the Go and wire views ----------------------------------------------------- */
static struct span view(uint8_t role, uint64_t start, uint64_t end, const char *target)
{
	struct span s;

	memset(&s, 0, sizeof(s));
	s.pid = 42;
	s.role = role;
	s.start_ns = start;
	s.end_ns = end;
	s.method = "GET";
	s.target = target;
	s.host = "";
	return s;
}

Test(span_merge, targets_compare_decoded)
{
	cr_expect(span_merge_same_target("/a%20b?x=1", "/a b?x=1"));
	cr_expect(span_merge_same_target("/caf%C3%A9", "/caf\xc3\xa9"));
	cr_expect(span_merge_same_target("/%7e", "/~"));
	cr_expect_not(span_merge_same_target("/a", "/b"));
	cr_expect_not(span_merge_same_target("/a", "/ab"));
	cr_expect(span_merge_same_target("/100%", "/100%"), "a lone percent is itself");
	cr_expect(span_merge_same_target(NULL, ""));
}

Test(span_merge, server_views)
{
	struct span go = view(SPAN_ROLE_SERVER, 1000000, 2000000, "/x?id=1");
	struct span wire = view(SPAN_ROLE_SERVER, 900000, 2100000, "/x?id=1");
	uint64_t d;

	cr_assert(span_merge_match(&go, &wire, &d));
	cr_expect_eq(d, 100000);
	/* net/http's RemoteAddr is the connection's peer: another connection is not it */
	go.remote = (struct span_addr){ .family = 2, .port = 5000, .addr = { 127, 0, 0, 1 } };
	wire.remote = go.remote;
	cr_expect(span_merge_match(&go, &wire, &d));
	wire.remote.port = 5001;
	cr_expect_not(span_merge_match(&go, &wire, &d));
	wire.remote.port = 5000;
	wire.pid = 43;
	cr_expect_not(span_merge_match(&go, &wire, &d));
	wire.pid = 42;
	wire.method = "POST";
	cr_expect_not(span_merge_match(&go, &wire, &d));
	wire.method = "GET";
	wire.target = "/x?id=2";
	cr_expect_not(span_merge_match(&go, &wire, &d));
	wire.target = "/x?id=1";
	wire.start_ns = 10000000; /* a later exchange with the same target */
	wire.end_ns = 11000000;
	cr_expect_not(span_merge_match(&go, &wire, &d));
	wire.role = SPAN_ROLE_CLIENT;
	cr_expect_not(span_merge_match(&go, &wire, &d));
}

/* A request still unanswered at the end is partial in both views, each ending where
 * it started: they are one exchange however late the handler began after the read. */
Test(span_merge, unanswered_request_partial_in_both_views)
{
	struct span go = view(SPAN_ROLE_SERVER, 9000000, 9000000, "/hang?id=h1");
	struct span wire = view(SPAN_ROLE_SERVER, 1000000, 1000000, "/hang?id=h1");
	uint64_t d;

	cr_expect_not(span_merge_match(&go, &wire, &d), "complete spans 8 ms apart");
	go.flags = wire.flags = SPAN_F_PARTIAL;
	cr_expect(span_merge_match(&go, &wire, &d));
	cr_expect_eq(d, 8000000);
	/* a partial wire view does not reach back before its own start */
	wire.start_ns = wire.end_ns = 20000000;
	go.flags = 0;
	go.end_ns = 10000000;
	cr_expect_not(span_merge_match(&go, &wire, &d));
}

Test(span_merge, client_views)
{
	struct span go = view(SPAN_ROLE_CLIENT, 1000000, 3000000, "/b?id=a b");
	struct span wire = view(SPAN_ROLE_CLIENT, 1200000, 3100000, "/b?id=a%20b");
	uint64_t d;

	go.host = "127.0.0.1:8080";
	wire.host = "127.0.0.1:8080";
	cr_expect(span_merge_match(&go, &wire, &d));
	wire.host = "other:8080";
	cr_expect_not(span_merge_match(&go, &wire, &d));
}

Test(span_merge, one_span_with_both_views)
{
	struct span go = view(SPAN_ROLE_SERVER, 1000, 2000, "/x"), wire = view(SPAN_ROLE_SERVER, 900, 2100, "/x");
	struct span one;

	go.source = SPAN_SOURCE_GO_UPROBE;
	go.status = 200;
	go.goid = 17;
	go.go_link = SPAN_GO_LINK_INCOMING;
	go.has_parent = true;
	memset(go.trace_id, 1, 16);
	memset(go.span_id, 2, 8);
	memset(go.parent_span_id, 3, 8);
	wire.source = SPAN_SOURCE_SYSCALL;
	wire.status = 201;
	wire.req_bytes = 111;
	wire.resp_bytes = 222;
	wire.conn_id = 9;
	memset(wire.span_id, 4, 8);
	span_merge_combine(&go, &wire, &one);
	cr_expect_eq(one.source, SPAN_SOURCE_GO_UPROBE);
	cr_expect_eq(one.req_bytes, 111);
	cr_expect_eq(one.resp_bytes, 222);
	cr_expect_eq(one.conn_id, 9);
	cr_expect_eq(one.status, 201, "the wire's status line");
	cr_expect_eq(one.start_ns, 900);
	cr_expect_eq(one.goid, 17);
	cr_expect_eq(one.go_link, SPAN_GO_LINK_INCOMING);
	cr_expect(one.go_wire);
	cr_expect(one.has_parent);
	cr_expect_arr_eq(one.span_id, go.span_id, 8, "children name the Go span's id");
	cr_expect_arr_eq(one.trace_id, go.trace_id, 16);
	cr_expect_arr_eq(one.parent_span_id, go.parent_span_id, 8);
	wire.status = 0; /* the capture ended before the response */
	span_merge_combine(&go, &wire, &one);
	cr_expect_eq(one.status, 200);
}

/* --propagate wrote a traceparent into the request: the called service continues the
 * wire's ids, so the merged span keeps them, and the Go view's links besides. */
Test(span_merge, ids_that_went_on_the_wire_stay)
{
	struct span go = view(SPAN_ROLE_CLIENT, 1000, 2000, "/x"), wire = view(SPAN_ROLE_CLIENT, 900, 2100, "/x");
	struct span one;

	go.source = SPAN_SOURCE_GO_UPROBE;
	go.go_link = SPAN_GO_LINK_HANDLER;
	go.has_parent = true;
	memset(go.trace_id, 1, 16);
	memset(go.span_id, 2, 8);
	memset(go.parent_span_id, 3, 8);
	wire.propagation = SPAN_PROP_SOCKMSG;
	memset(wire.trace_id, 5, 16);
	memset(wire.span_id, 6, 8);
	span_merge_combine(&go, &wire, &one);
	cr_expect_eq(one.propagation, SPAN_PROP_SOCKMSG);
	cr_expect_arr_eq(one.trace_id, wire.trace_id, 16);
	cr_expect_arr_eq(one.span_id, wire.span_id, 8);
	cr_expect_not(one.has_parent, "the wire's request began a trace");
	cr_expect_eq(one.go_link, SPAN_GO_LINK_HANDLER);
	wire.propagation = SPAN_PROP_SKIPPED; /* nothing written: the Go view's ids */
	span_merge_combine(&go, &wire, &one);
	cr_expect_arr_eq(one.span_id, go.span_id, 8);
}

/* The program wrote its own traceparent in its handler's trace: the wire adopts its ids
 * but knows no parent (Go's sending thread serves nothing); the Go view knows it. */
Test(span_merge, an_existing_traceparent_keeps_the_go_parent)
{
	struct span go = view(SPAN_ROLE_CLIENT, 1000, 2000, "/x"), wire = view(SPAN_ROLE_CLIENT, 900, 2100, "/x");
	struct span one;

	go.source = SPAN_SOURCE_GO_UPROBE;
	go.propagation = wire.propagation = SPAN_PROP_EXISTING;
	go.has_parent = true;
	memset(go.trace_id, 1, 16);
	memset(go.span_id, 2, 8);
	memset(go.parent_span_id, 3, 8);
	memcpy(wire.trace_id, go.trace_id, 16);
	memcpy(wire.span_id, go.span_id, 8);
	span_merge_combine(&go, &wire, &one);
	cr_expect_eq(one.propagation, SPAN_PROP_EXISTING);
	cr_expect(one.has_parent);
	cr_expect_arr_eq(one.parent_span_id, go.parent_span_id, 8);
	memset(wire.span_id, 7, 8); /* another span than the Go view's: its parent is not known */
	span_merge_combine(&go, &wire, &one);
	cr_expect_not(one.has_parent);
}

/* --propagate=memory wrote the Go view's ids into the request: sk_msg left the
 * connection alone (its view says unclaimed), and the merged span says memory with the
 * Go view's ids. */
Test(span_merge, memory_written_by_the_go_view_stays)
{
	struct span go = view(SPAN_ROLE_CLIENT, 1000, 2000, "/x"), wire = view(SPAN_ROLE_CLIENT, 900, 2100, "/x");
	struct span one;
	char buf[96];

	go.source = SPAN_SOURCE_GO_UPROBE;
	go.propagation = SPAN_PROP_MEMORY;
	memset(go.trace_id, 1, 16);
	memset(go.span_id, 2, 8);
	wire.propagation = SPAN_PROP_SKIPPED;
	wire.propagation_reason = SPAN_PROP_R_UNCLAIMED;
	memset(wire.span_id, 6, 8);
	span_merge_combine(&go, &wire, &one);
	cr_expect_eq(one.propagation, SPAN_PROP_MEMORY);
	cr_expect_arr_eq(one.span_id, go.span_id, 8);
	cr_expect_arr_eq(one.trace_id, go.trace_id, 16);
	cr_expect_str_eq(span_propagation_text(one.propagation, 0, buf, sizeof(buf)), "memory");
	cr_expect_str_eq(span_propagation_text(SPAN_PROP_SKIPPED, SPAN_PROP_R_NO_ROOM, buf, sizeof(buf)),
			 "skipped: no room in the write buffer");
}

/* A merge whose clock and outputs the test holds. */
static uint64_t fake_now;
static uint64_t now_fn(void) { return fake_now; }
static bool watched(void *arg, uint32_t pid) { return pid == 42; }

struct seen {
	int n;
	struct span last;
	char target[64];
};

static int seen_emit(struct span_sink *sink, const struct span *s)
{
	struct seen *v = sink->ctx;

	v->n++;
	v->last = *s;
	snprintf(v->target, sizeof(v->target), "%s", s->target);
	v->last.target = v->target;
	return 0;
}

Test(span_merge, holds_pairs_and_passes_the_rest)
{
	struct seen seen = { 0 };
	struct span_sink out = { seen_emit, &seen };
	struct span_merge_opts opts = { .watched = watched, .hold_ns = 1000, .now = now_fn };
	struct span_merge *m;
	struct span_merge_stats st;
	struct span go = view(SPAN_ROLE_SERVER, 1000, 2000, "/x");
	struct span wire = view(SPAN_ROLE_SERVER, 900, 2100, "/x");
	struct span other = wire;
	char target[8] = "/x";

	fake_now = 5000;
	cr_assert_eq(span_merge_new(&m, &opts, &out), 0);
	go.target = target; /* the held copy must not borrow it */
	go.source = SPAN_SOURCE_GO_UPROBE;
	cr_expect_eq(span_merge_input(m, SPAN_MERGE_GO)->emit(span_merge_input(m, SPAN_MERGE_GO), &go), 0);
	strcpy(target, "/y");
	cr_expect_eq(seen.n, 0, "the Go view waits for the wire's");
	span_merge_input(m, SPAN_MERGE_WIRE)->emit(span_merge_input(m, SPAN_MERGE_WIRE), &wire);
	cr_expect_eq(seen.n, 1);
	cr_expect(seen.last.go_wire);
	cr_expect_str_eq(seen.last.target, "/x");

	/* another process's spans are not held */
	other.pid = 7;
	span_merge_input(m, SPAN_MERGE_WIRE)->emit(span_merge_input(m, SPAN_MERGE_WIRE), &other);
	cr_expect_eq(seen.n, 2);
	cr_expect_not(seen.last.go_wire);

	/* a wire view alone goes out once the hold is over, not before */
	span_merge_input(m, SPAN_MERGE_WIRE)->emit(span_merge_input(m, SPAN_MERGE_WIRE), &wire);
	fake_now += 999;
	span_merge_release(m, false);
	cr_expect_eq(seen.n, 2);
	fake_now += 1;
	span_merge_release(m, false);
	cr_expect_eq(seen.n, 3);
	cr_expect_not(seen.last.go_wire);

	/* at the end, everything */
	span_merge_input(m, SPAN_MERGE_GO)->emit(span_merge_input(m, SPAN_MERGE_GO), &go);
	span_merge_release(m, true);
	cr_expect_eq(seen.n, 4);
	span_merge_get_stats(m, &st);
	cr_expect_eq(st.merged, 1);
	cr_expect_eq(st.go_alone, 1);
	cr_expect_eq(st.wire_alone, 1);
	span_merge_free(m);
}

Test(span_merge, the_closest_candidate)
{
	struct seen seen = { 0 };
	struct span_sink out = { seen_emit, &seen };
	struct span_merge_opts opts = { .watched = watched, .hold_ns = 1000000, .now = now_fn };
	struct span_merge *m;
	struct span w1 = view(SPAN_ROLE_CLIENT, 1000, 5000, "/same");
	struct span w2 = view(SPAN_ROLE_CLIENT, 3000, 6000, "/same");
	struct span g = view(SPAN_ROLE_CLIENT, 2900, 5900, "/same");

	cr_assert_eq(span_merge_new(&m, &opts, &out), 0);
	w1.req_bytes = 1;
	w2.req_bytes = 2;
	span_merge_input(m, SPAN_MERGE_WIRE)->emit(span_merge_input(m, SPAN_MERGE_WIRE), &w1);
	span_merge_input(m, SPAN_MERGE_WIRE)->emit(span_merge_input(m, SPAN_MERGE_WIRE), &w2);
	span_merge_input(m, SPAN_MERGE_GO)->emit(span_merge_input(m, SPAN_MERGE_GO), &g);
	cr_expect_eq(seen.n, 1);
	cr_expect_eq(seen.last.req_bytes, 2);
	span_merge_free(m);
}

/* Held spans are looked up by process, role, method, decoded target and (server) client
 * address: many connections' identical requests at once each pair with their own, and a
 * view without an address still pairs with one that has it. */
Test(span_merge, many_connections_same_target)
{
	struct seen seen = { 0 };
	struct span_sink out = { seen_emit, &seen };
	struct span_merge_opts opts = { .watched = watched, .hold_ns = 1000000, .now = now_fn };
	struct span_sink *wire_in, *go_in;
	struct span_merge_stats st;
	struct span_merge *m;
	struct span w, g;
	int i;

	cr_assert_eq(span_merge_new(&m, &opts, &out), 0);
	wire_in = span_merge_input(m, SPAN_MERGE_WIRE);
	go_in = span_merge_input(m, SPAN_MERGE_GO);
	for (i = 0; i < 100; i++) {
		w = view(SPAN_ROLE_SERVER, 1000, 5000, "/a%20b");
		w.remote.family = 2;
		w.remote.addr[0] = 127;
		w.remote.addr[3] = 1;
		w.remote.port = (uint16_t)(40000 + i);
		w.req_bytes = (uint64_t)i;
		wire_in->emit(wire_in, &w);
	}
	cr_expect_eq(seen.n, 0);
	/* in the reverse order, from the Go side, with the closest-starting wire views' addresses */
	for (i = 99; i >= 50; i--) {
		g = view(SPAN_ROLE_SERVER, 1100, 4900, "/a b");
		g.source = SPAN_SOURCE_GO_UPROBE;
		g.remote = w.remote;
		g.remote.port = (uint16_t)(40000 + i);
		go_in->emit(go_in, &g);
		cr_expect_eq(seen.n, 100 - i);
		cr_expect_eq(seen.last.req_bytes, (uint64_t)i, "Go view %d paired with wire view %llu", i,
			     (unsigned long long)seen.last.req_bytes);
	}
	/* a Go view without an address: any of the rest, the oldest of the equally close */
	g = view(SPAN_ROLE_SERVER, 1100, 4900, "/a b");
	go_in->emit(go_in, &g);
	cr_expect_eq(seen.n, 51);
	cr_expect_eq(seen.last.req_bytes, 0);
	/* one held without an address pairs with a wire view that has one */
	go_in->emit(go_in, &g);
	go_in->emit(go_in, &g);
	cr_expect_eq(seen.n, 53);
	span_merge_release(m, true);
	cr_expect_eq(seen.n, 100);
	span_merge_get_stats(m, &st);
	cr_expect_eq(st.merged, 53);
	cr_expect_eq(st.wire_alone, 47);
	span_merge_free(m);

	cr_assert_eq(span_merge_new(&m, &opts, &out), 0);
	seen.n = 0;
	wire_in = span_merge_input(m, SPAN_MERGE_WIRE);
	go_in = span_merge_input(m, SPAN_MERGE_GO);
	g = view(SPAN_ROLE_SERVER, 1100, 4900, "/x");
	go_in->emit(go_in, &g); /* held, no address */
	w = view(SPAN_ROLE_SERVER, 1000, 5000, "/x");
	w.remote.family = 2;
	w.remote.port = 1;
	w.req_bytes = 7;
	wire_in->emit(wire_in, &w);
	cr_expect_eq(seen.n, 1);
	cr_expect(seen.last.go_wire);
	cr_expect_eq(seen.last.req_bytes, 7);
	span_merge_free(m);
}
