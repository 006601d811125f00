#!/bin/bash
# The context of a request a server is serving survives however the request arrived:
# a chunked body (chunks in receives of their own, a size line split across receives,
# an extension, a trailer), requests after such bodies on a keep-alive connection, a
# head split across receives (also inside a field name, in 5-byte pieces, with its
# traceparent in the second piece), and curl's chunked upload with Expect: 100-continue
# (the interim response is not the answer). For every request the python middle serves
# and then calls the backend for, the backend's logged traceparent carries the serving
# request's trace and the client span's id, and the client span is the server span's
# child.
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
in_trace=0af7651916cd43dd8448eb211c80319c
in_parent=b7ad6b7169203331

attach_start "$TMP/spans" -p "$middle" --propagate
python3 tests/fixtures/recv_client.py "$mport" "00-$in_trace-$in_parent-01" || fail "the client failed"
head -c 1200000 /dev/urandom | base64 >"$TMP/upload"
for k in k1 k2; do
	curl -sf -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/upload" \
		"http://127.0.0.1:$mport/chain/$k" -o "$TMP/$k.out" -D "$TMP/$k.head" || fail "curl $k failed"
done
grep -q '^HTTP/1.1 100' "$TMP/k1.head" || echo "note: curl sent no Expect: 100-continue"
sleep 0.5
attach_stop "$TMP/spans"
grep '^propagation' "$TMP/spans.err"

ids="c1 c2 c3 c4 s1 s2 s3 s4 k1 k2"
for id in $ids; do
	server=$(jq -c "select(.role == \"server\" and .target == \"/chain/$id\")" "$TMP/spans")
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/$id\")" "$TMP/spans")
	[ -n "$server" ] && [ -n "$client" ] || fail "$id: spans missing: server '$server' client '$client'"
	st=$(jq -r .trace_id <<<"$server")
	ct=$(jq -r .trace_id <<<"$client")
	expect_eq "$id: the client span's trace is the server span's" "$st" "$ct"
	expect_eq "$id: client span's parent" "$(jq -r .span_id <<<"$server")" "$(jq -r .parent_span_id <<<"$client")"
	expect_eq "$id: client propagation" sockmsg "$(jq -r .propagation <<<"$client")"
	expect_eq "$id: traceparent the backend got" "00-$st-$(jq -r .span_id <<<"$client")-01" \
		"$(awk -v t="/backend/$id" '$1 == t { print $2 }' "$TMP/backend.log")"
done
expect_eq "s3: trace of the split head that brought a traceparent" "$in_trace" \
	"$(jq -r 'select(.role == "server" and .target == "/chain/s3") | .trace_id' "$TMP/spans")"
expect_eq "s3: its server span's parent" "$in_parent" \
	"$(jq -r 'select(.role == "server" and .target == "/chain/s3") | .parent_span_id' "$TMP/spans")"
traces=$(jq -r 'select(.role == "server") | .trace_id' "$TMP/spans" | sort -u | wc -l)
expect_eq "distinct traces, one per entering request" 10 "$traces"
