#!/bin/bash
# A chain of three services, two of them Go: curl → a Go frontend (Go 1.27) → a Go
# middle (Go 1.19) → a python backend that logs the traceparent it got. With
# `attach -p FRONTEND -p MIDDLE --propagate=sockmsg`, the Go probes' linking goes on
# the wire: the frontend calls the middle from the handler's goroutine, from a goroutine
# it spawned, from a grandchild whose parent had ended, twice in parallel, over
# kept-alive and fresh connections; the middle calls the backend from its handler.
# Ground truth: the programs' own logs ("server ID", "call ID CHILD", each call's id
# derived from its request's) and the backend's log of the traceparents it got. Per
# entering request: every server and client span shares one trace id; each client
# span's parent is the server span of the request its program logged it under; the
# middle's server span's parent is the frontend's client span; the backend got exactly
# the middle's client span's ids.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
. tests/integration/go_lib.sh

go_build_with 1.27 chain "$TMP/frontend"
go_build_with 1.19 chain "$TMP/middle"
bport=$(free_port)
mport=$(free_port)
fport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
"$TMP/middle" middle "127.0.0.1:$mport" "http://127.0.0.1:$bport" >"$TMP/mid.log" 2>"$TMP/mid.err" &
mid=$!
on_exit "kill $mid 2>/dev/null"
"$TMP/frontend" frontend "127.0.0.1:$fport" "http://127.0.0.1:$mport" >"$TMP/fe.log" 2>"$TMP/fe.err" &
fe=$!
on_exit "kill $fe 2>/dev/null"
wait_port "$bport"
wait_port "$mport"
wait_port "$fport"

out=$TMP/spans
attach_start "$out" -p "$fe" -p "$mid" --propagate=sockmsg
go_wait_traced "$out" "$fe"
go_wait_traced "$out" "$mid"

base=http://127.0.0.1:$fport
go_chain_requests "$base"
tp_trace=4bf92f3577b34da6a3ce929d0e0e4736 tp_parent=00f067aa0ba902b7
curl -sf -o /dev/null -H "traceparent: 00-$tp_trace-$tp_parent-01" "$base/spawn?id=tp1" || fail "curl tp"
sleep 0.5
attach_stop "$out"
grep '^propagation' "$out.err"

python3 - "$out" "$fe" "$TMP/fe.log" "$mid" "$TMP/mid.log" "$TMP/backend.log" "$tp_trace" "$tp_parent" <<'PY' || fail "the chain's links"
import json, re, sys
out, fe, fe_log, mid, mid_log, be_log, tp_trace, tp_parent = sys.argv[1:]
fe, mid = int(fe), int(mid)
spans = [json.loads(l) for l in open(out) if l.strip()]
bad = []

def ids(pid, role):
    """{request id: span} of one process's spans of a role; the id from ?id= or /backend/ID."""
    d = {}
    for s in spans:
        if s.get("pid") != pid or s.get("role") != role:
            continue
        m = re.search(r"[?&]id=([^&]*)", s.get("target", "")) or re.match(r"/backend/(.*)", s.get("target", ""))
        if not m:
            continue
        if m.group(1) in d:
            bad.append("two %s spans of pid %d for %s" % (role, pid, m.group(1)))
        d[m.group(1)] = s
    return d

def log(path, kind):
    return [l.split()[1:] for l in open(path) if l.startswith(kind + " ")]

fe_srv, fe_cli = ids(fe, "server"), ids(fe, "client")
mid_srv, mid_cli = ids(mid, "server"), ids(mid, "client")
got = dict(l.split() for l in open(be_log))
entering = [a[0] for a in log(fe_log, "server")]
calls = log(fe_log, "call")
mid_calls = dict(log(mid_log, "call"))

def check(what, want, have):
    if want != have:
        bad.append("%s: want %s, have %s" % (what, want, have))

traces = set()
for x in entering:
    s = fe_srv.get(x)
    if not s:
        bad.append("%s: no frontend server span" % x)
        continue
    trace = s["trace_id"]
    traces.add(trace)
    if x == "tp1":
        check("tp1: the incoming trace", tp_trace, trace)
        check("tp1: the incoming parent", tp_parent, s.get("parent_span_id"))
    for parent, c in calls:
        if parent != x:
            continue
        fc, ms, mc = fe_cli.get(c), mid_srv.get(c), mid_cli.get(mid_calls.get(c, "?"))
        if not (fc and ms and mc):
            bad.append("%s: spans missing: frontend client %s, middle server %s, middle client %s" %
                       (c, bool(fc), bool(ms), bool(mc)))
            continue
        for name, sp in (("frontend client", fc), ("middle server", ms), ("middle client", mc)):
            check("%s: %s's trace" % (c, name), trace, sp.get("trace_id"))
        check("%s: frontend client's parent (the frontend's server span)" % c, s["span_id"], fc.get("parent_span_id"))
        check("%s: middle server's parent (the frontend's client span)" % c, fc["span_id"], ms.get("parent_span_id"))
        check("%s: middle client's parent (the middle's server span)" % c, ms["span_id"], mc.get("parent_span_id"))
        for name, sp in (("frontend client", fc), ("middle client", mc)):
            check("%s: %s propagation" % (c, name), "sockmsg", sp.get("propagation"))
            check("%s: %s merged" % (c, name), "go True", "%s %s" % (sp.get("source"), sp.get("wire")))
        check("%s: the traceparent the backend got" % c, "00-%s-%s-01" % (trace, mc["span_id"]),
              got.get("/backend/" + c + ".m"))
        check("%s: the frontend client's link" % c, "handler" if c.endswith((".direct", ".fresh")) else "spawned",
              fc.get("link"))
        print("ok: %s (%s): %s %s -> %s -> %s" % (c, fc.get("link"), trace,
                                                    s["span_id"], fc["span_id"], mc["span_id"]))
check("entering requests", 16, len(entering))
check("calls the frontend made", 20, len(calls))
check("distinct traces, one per entering request", len(entering), len(traces))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
grep -q "Go: 40 injected with their goroutine's context, 0 as new traces" "$out.err" ||
	fail "the summary: $(grep '^propagation' "$out.err")"
echo "ok: every span of an entering request in its trace, each parent as the programs say"
