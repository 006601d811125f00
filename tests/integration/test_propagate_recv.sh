#!/bin/bash
# The context of a request a server is serving survives however the request arrived:
# a chunked body (chunks in receives of their own, a size line split across receives,
# an extension, a trailer), requests after such bodies on a keep-alive connection, a
# head split across receives (also inside a field name, in 5-byte pieces, with its
# traceparent in the second piece), and curl's chunked upload with Expect: 100-continue
# (the server's interim response is not the answer). For every request the middle serves and
# then calls the backend for, the backend's logged traceparent carries the serving
# request's trace and the client span's id, and the client span is the server span's
# child. Two middles, neither instrumented: python's http.server (a thread per request)
# and node's http (an event loop).
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"

bport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
wait_port "$bport"
in_trace=0af7651916cd43dd8448eb211c80319c
in_parent=b7ad6b7169203331
head -c 300000 /dev/urandom | base64 >"$TMP/upload"

# middle_run NAME CMD...: run the middle CMD PORT BACKEND-PORT, and check every request
middle_run() {
	local name=$1 mport ids id server client st
	shift
	mport=$(free_port)
	"$@" "$mport" "$bport" &
	middle=$!
	on_exit "kill $middle 2>/dev/null"
	wait_port "$mport"
	: >"$TMP/backend.log"
	attach_start "$TMP/$name.spans" -p "$middle" --propagate
	python3 tests/fixtures/recv_client.py "$mport" "00-$in_trace-$in_parent-01" || fail "$name: the client failed"
	for k in k1 k2; do
		curl -sf -H 'Transfer-Encoding: chunked' -H 'Expect: 100-continue' --data-binary @"$TMP/upload" \
			"http://127.0.0.1:$mport/chain/$k" -o "$TMP/$k.out" -D "$TMP/$k.head" || fail "$name: curl $k failed"
	done
	grep -q '^HTTP/1.1 100' "$TMP/k1.head" || fail "$name: no 100 Continue came before the answer"
	sleep 0.5
	attach_stop "$TMP/$name.spans"
	kill "$middle"
	grep '^propagation' "$TMP/$name.spans.err"

	ids="c1 c2 c3 c4 s1 s2 s3 s4 k1 k2"
	for id in $ids; do
		server=$(jq -c "select(.role == \"server\" and .target == \"/chain/$id\")" "$TMP/$name.spans")
		client=$(jq -c "select(.role == \"client\" and .target == \"/backend/$id\")" "$TMP/$name.spans")
		[ -n "$server" ] && [ -n "$client" ] || fail "$name $id: spans missing: server '$server' client '$client'"
		st=$(jq -r .trace_id <<<"$server")
		expect_eq "$name $id: the client span's trace is the server span's" "$st" "$(jq -r .trace_id <<<"$client")"
		expect_eq "$name $id: client span's parent" "$(jq -r .span_id <<<"$server")" "$(jq -r .parent_span_id <<<"$client")"
		expect_eq "$name $id: client propagation" sockmsg "$(jq -r .propagation <<<"$client")"
		expect_eq "$name $id: traceparent the backend got" "00-$st-$(jq -r .span_id <<<"$client")-01" \
			"$(awk -v t="/backend/$id" '$1 == t { print $2 }' "$TMP/backend.log")"
	done
	expect_eq "$name s3: trace of the split head that brought a traceparent" "$in_trace" \
		"$(jq -r 'select(.role == "server" and .target == "/chain/s3") | .trace_id' "$TMP/$name.spans")"
	expect_eq "$name s3: its server span's parent" "$in_parent" \
		"$(jq -r 'select(.role == "server" and .target == "/chain/s3") | .parent_span_id' "$TMP/$name.spans")"
	expect_eq "$name: distinct traces, one per entering request" 10 \
		"$(jq -r 'select(.role == "server") | .trace_id' "$TMP/$name.spans" | sort -u | wc -l)"
}

command -v node >/dev/null || fail "node is needed (packaging/deps.sh installs it)"
middle_run python python3 tests/fixtures/chain_service.py middle
middle_run node node tests/fixtures/chain_middle.js
