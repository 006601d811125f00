#!/bin/bash
# A chain of three services, none of them instrumented: curl → a python middle → a
# python backend that logs the traceparent it got. With --propagate on the middle,
# the middle's server span and its client span of each entering request share one
# trace id, the client span's parent is that server span (the request ids in the
# targets say which spans belong together), and the backend logged exactly the ids of
# the client span. A request that enters with a traceparent continues that trace.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"

bport=$(free_port)
mport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
python3 tests/fixtures/chain_service.py middle "$mport" "$bport" &
middle=$!
on_exit "kill $middle"
wait_port "$bport"
wait_port "$mport"

attach_start "$TMP/spans" -p "$middle" --propagate
for i in $(seq 1 10); do
	curl -sf "http://127.0.0.1:$mport/chain/r$i" -o /dev/null || fail "request r$i failed"
done
in_trace=4bf92f3577b34da6a3ce929d0e0e4736
in_parent=00f067aa0ba902b7
curl -sf -H "traceparent: 00-$in_trace-$in_parent-01" "http://127.0.0.1:$mport/chain/in" -o /dev/null ||
	fail "request with a traceparent failed"
sleep 0.5
attach_stop "$TMP/spans"
grep '^propagation' "$TMP/spans.err"

for id in $(seq -f 'r%g' 1 10) in; do
	server=$(jq -c "select(.role == \"server\" and .target == \"/chain/$id\")" "$TMP/spans")
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/$id\")" "$TMP/spans")
	[ -n "$server" ] && [ -n "$client" ] || fail "$id: spans missing: server '$server' client '$client'"
	st=$(jq -r .trace_id <<<"$server")
	ct=$(jq -r .trace_id <<<"$client")
	[ "$st" != null ] && [ "$st" == "$ct" ] || fail "$id: server trace $st, client trace $ct"
	expect_eq "$id: client span's parent" "$(jq -r .span_id <<<"$server")" "$(jq -r .parent_span_id <<<"$client")"
	expect_eq "$id: client propagation" sockmsg "$(jq -r .propagation <<<"$client")"
	logged=$(awk -v t="/backend/$id" '$1 == t { print $2 }' "$TMP/backend.log")
	expect_eq "$id: traceparent the backend got" "00-$ct-$(jq -r .span_id <<<"$client")-01" "$logged"
done
expect_eq "trace of the request that came with one" "$in_trace" \
	"$(jq -r 'select(.role == "server" and .target == "/chain/in") | .trace_id' "$TMP/spans")"
expect_eq "its server span's parent" "$in_parent" \
	"$(jq -r 'select(.role == "server" and .target == "/chain/in") | .parent_span_id' "$TMP/spans")"
traces=$(jq -r 'select(.role == "server") | .trace_id' "$TMP/spans" | sort -u | wc -l)
expect_eq "distinct traces, one per entering request" 11 "$traces"
