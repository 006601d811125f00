# The Go source on a two-tier Go service: a frontend (Go 1.27: the spawner is read
# from the new goroutine) whose handlers call a backend (Go 1.19) from the handler's
# goroutine, from a goroutine it spawned, from a grandchild whose parent had ended,
# twice in parallel, over kept-alive and fresh connections, and one that fails; an
# incoming traceparent; a request never answered. The backend starts
# after attach (found when it executes). Ground truth: the programs' own logs, in which
# every call carries an id derived from its request's (tests/fixtures/go_links.py).
# `record` runs beside attach: the replayed file must show the same links, and equal
# attach's spans in every field but those each capture makes up (ids, times).
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/go_lib.sh

go_build_with 1.27 chain "$TMP/frontend"
go_build_with 1.19 chain "$TMP/backend"
fe_port=$(free_port)
be_port=$(free_port)
"$TMP/frontend" frontend "127.0.0.1:$fe_port" "http://127.0.0.1:$be_port" >"$TMP/fe.log" 2>"$TMP/fe.err" &
fe=$!
on_exit "kill $fe 2>/dev/null; wait $fe 2>/dev/null"
wait_port "$fe_port"

out=$TMP/spans.json
# No process filter: the backend is to be found when it starts. -d: where the probes went.
attach_start "$out" -d
go_wait_traced "$out" "$fe"
# The outgoing calls' end on roundTrip's result check (emulated), not on its RETs.
grep -q "^debug: Go: /proc/$fe/exe go1\.27[.0-9]*: .*roundTrip entry on its stack-check jump, return on its result check and its error RETs" "$out.err" ||
	fail "the frontend's roundTrip return is not on its result check: $(grep '^debug: Go: /proc' "$out.err")"
record_start "$TMP/rec.err" -o "$TMP/spans.pcapng" ${ATTACH_HOOKS:+--hooks "$ATTACH_HOOKS"}
go_wait_traced "$TMP/rec" "$fe"
grep -q "^Go: tracing pid $fe (frontend), go1\.27" "$out.err" || fail "frontend not traced as Go 1.27"

"$TMP/backend" backend "127.0.0.1:$be_port" >"$TMP/be.log" 2>"$TMP/be.err" &
be=$!
on_exit "kill $be 2>/dev/null; wait $be 2>/dev/null"
go_wait_traced "$out" "$be"
go_wait_traced "$TMP/rec" "$be"
grep -q "^Go: tracing pid $be (backend), go1\.19" "$out.err" || fail "backend not traced as Go 1.19"
wait_port "$be_port"

base=http://127.0.0.1:$fe_port
go_chain_requests "$base"
curl -s -o /dev/null "$base/missing?id=m1"
curl -s -o /dev/null "$base/broken?id=b1"
tp_trace=4bf92f3577b34da6a3ce929d0e0e4736 tp_parent=00f067aa0ba902b7
curl -sf -o /dev/null -H "traceparent: 00-$tp_trace-$tp_parent-01" "$base/spawn?id=tp1" || fail "curl tp"
# A request the frontend never answers, still waiting when the capture stops.
curl -s -o /dev/null --max-time 30 "$base/hang?id=h1" &
hang=$!
on_exit "kill $hang 2>/dev/null"
for i in $(seq 1 50); do grep -q '^server h1$' "$TMP/fe.log" && break; sleep 0.1; done
sleep 0.5
attach_stop "$out"
kill -INT "$RECORD_PID"
wait "$RECORD_PID"
expect_eq "record exit status" 0 "$?"
kill "$hang" 2>/dev/null

grep -q '^Go: [0-9]* process\(es\)\? traced, ' "$out.err" || fail "no Go summary line: $(grep '^Go' "$out.err")"
links=(d1.direct=link:handler:0 d2.direct=link:handler:0 f1.fresh=link:handler:0
	s1.spawn=link:spawned:1 p1.p1=link:spawned:1 p1.p2=link:spawned:1 n1.nested=link:spawned:2
	pp2.p1=link:spawned:1 ss3.spawn=link:spawned:1 ff1.fresh=link:handler:0
	tp1.spawn=link:spawned:1 "tp1=trace:$tp_trace:$tp_parent" h1=partial
	m1.missing=status:client:404 m1=status:server:502 b1.broken=failed b1=status:server:503)
python3 tests/fixtures/go_links.py "$out" "$TMP/fe.log" "$fe" "$TMP/be.log" "$be" "${links[@]}" ||
	fail "links"
# The spawned call of the traced request is in the caller's trace.
expect_eq "trace id of the call made under the incoming traceparent" "$tp_trace" \
	"$(go_spans "$out" "$fe" client | jq -r 'select(.id == "tp1.spawn") | .trace_id')"
echo "Go spans are linked as the programs say"

# The recording: replayed, the same links as the programs say, and attach's spans
# field for field (the goroutine, link, depth and merge of each among them).
"$EHTTP" -j replay "$TMP/spans.pcapng" >"$TMP/replay.json" || fail "replay"
python3 tests/fixtures/go_links.py "$TMP/replay.json" "$TMP/fe.log" "$fe" "$TMP/be.log" "$be" \
	"${links[@]}" >"$TMP/replay.links" || { cat "$TMP/replay.links"; fail "links of the replayed file"; }
echo "ok: the replayed file's links are the programs' too"
norm='select(.pid == '"$fe"' or .pid == '"$be"') | del(.span_id, .trace_id, .parent_span_id, .conn_id, .start_ns, .end_ns, .duration_ns) | tojson'
jq -r "$norm" "$out" | sort >"$TMP/attach.norm"
jq -r "$norm" "$TMP/replay.json" | sort >"$TMP/replay.norm"
go_linked='select((.pid == '"$fe"' or .pid == '"$be"') and .source == "go" and .goroutine > 0 and .link) | .pid'
expect_eq "the chain's Go spans with a goroutine and a link, replayed" \
	"$(jq -c "$go_linked" "$out" | wc -l)" "$(jq -c "$go_linked" "$TMP/replay.json" | wc -l)"
diff "$TMP/attach.norm" "$TMP/replay.norm" || fail "replay -j differs from attach -j"
echo "ok: replay -j equals attach -j for the chain's $(wc -l <"$TMP/attach.norm") spans (ids and times aside)"
