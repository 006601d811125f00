#!/bin/bash
# A Go service as the selected client: net/http writes each request from the
# connection's own goroutine, on whatever thread runs it, so the thread serving a
# request says nothing of the requests it causes. The Go probes know (the handler's
# goroutine made the call; (*Request).write, on the writer goroutine, finds it through
# the request's Header map) and hand the client span's ids to the sk_msg program for
# the thread that writes: each request's traceparent continues the trace of the request
# its handler serves, its parent being the handler's server span, and the backend logs
# exactly the client span's ids.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
command -v go >/dev/null || skip "go is not installed"

go_build propmiddle "$TMP/propmiddle"
bport=$(free_port)
mport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
"$TMP/propmiddle" "127.0.0.1:$mport" "$bport" &
middle=$!
on_exit "kill $middle"
wait_port "$bport"
wait_port "$mport"

attach_start "$TMP/spans" -p "$middle" --propagate=sockmsg
for i in 1 2 3 4 5; do
	curl -sf "http://127.0.0.1:$mport/chain/g$i" -o /dev/null || fail "request g$i failed"
done
# A path the request line escapes: "/backend/g 6" goes out as /backend/g%206.
curl -sf "http://127.0.0.1:$mport/chain/g%206" -o /dev/null || fail "request 'g 6' failed"
sleep 0.5
attach_stop "$TMP/spans"
grep '^propagation' "$TMP/spans.err"
grep -q "Go: 6 injected with their goroutine's context, 0 as new traces" "$TMP/spans.err" ||
	fail "summary: $(grep '^propagation' "$TMP/spans.err")"
for i in 1 2 3 4 5 %206; do
	server=$(jq -c "select(.role == \"server\" and .target == \"/chain/g$i\")" "$TMP/spans")
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/g$i\")" "$TMP/spans")
	[ -n "$server" ] && [ -n "$client" ] || fail "g$i: spans missing: server '$server' client '$client'"
	expect_eq "g$i: propagation" sockmsg "$(jq -r .propagation <<<"$client")"
	expect_eq "g$i: both views of the client span merged" "go true" "$(jq -r '"\(.source) \(.wire)"' <<<"$client")"
	expect_eq "g$i: link" handler "$(jq -r .link <<<"$client")"
	expect_eq "g$i: the client span's trace is the server span's" "$(jq -r .trace_id <<<"$server")" \
		"$(jq -r .trace_id <<<"$client")"
	expect_eq "g$i: its parent is the handler's server span" "$(jq -r .span_id <<<"$server")" \
		"$(jq -r .parent_span_id <<<"$client")"
	expect_eq "g$i: traceparent the backend got" "00-$(jq -r .trace_id <<<"$client")-$(jq -r .span_id <<<"$client")-01" \
		"$(awk -v t="/backend/g$i" '$1 == t { print $2 }' "$TMP/backend.log")"
done

# Without the Go probes (--go off) nothing says which request a write belongs to: the
# requests still get a traceparent, each of a new trace, and the span says why. A new
# middle: the kept-alive connection of the first was opened before this attach.
kill "$middle"
mport=$(free_port)
"$TMP/propmiddle" "127.0.0.1:$mport" "$bport" &
middle=$!
on_exit "kill $middle"
wait_port "$mport"
attach_start "$TMP/spans2" -p "$middle" --propagate=sockmsg --go off
for i in 1 2; do
	curl -sf "http://127.0.0.1:$mport/chain/n$i" -o /dev/null || fail "request n$i failed"
done
sleep 0.5
attach_stop "$TMP/spans2"
grep -q "Go: 0 injected with their goroutine's context, 2 as new traces (2 with no context, 0 with a stale one)" "$TMP/spans2.err" ||
	fail "summary: $(grep '^propagation' "$TMP/spans2.err")"
for i in 1 2; do
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/n$i\")" "$TMP/spans2")
	[ -n "$client" ] || fail "n$i: no client span"
	expect_eq "n$i: propagation" "sockmsg; new trace: no Go context for the sending thread" \
		"$(jq -r .propagation <<<"$client")"
	expect_eq "n$i: no parent" null "$(jq -r .parent_span_id <<<"$client")"
	expect_eq "n$i: traceparent the backend got" "00-$(jq -r .trace_id <<<"$client")-$(jq -r .span_id <<<"$client")-01" \
		"$(awk -v t="/backend/n$i" '$1 == t { print $2 }' "$TMP/backend.log")"
done
