#!/bin/bash
# A Go service as the selected client: net/http writes each request from the
# connection's own goroutine, on whatever thread runs it, so the thread serving a
# request says nothing of the requests it causes. With --propagate its requests still
# get a traceparent (the backend logs exactly the client span's ids), but each begins a
# trace of its own: no parent taken from a thread that may be serving another request.
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

attach_start "$TMP/spans" -p "$middle" --propagate
for i in 1 2 3 4 5; do
	curl -sf "http://127.0.0.1:$mport/chain/g$i" -o /dev/null || fail "request g$i failed"
done
sleep 0.5
attach_stop "$TMP/spans"
for i in 1 2 3 4 5; do
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/g$i\")" "$TMP/spans")
	[ -n "$client" ] || fail "g$i: no client span"
	expect_eq "g$i: propagation" sockmsg "$(jq -r .propagation <<<"$client")"
	expect_eq "g$i: traceparent the backend got" "00-$(jq -r .trace_id <<<"$client")-$(jq -r .span_id <<<"$client")-01" \
		"$(awk -v t="/backend/g$i" '$1 == t { print $2 }' "$TMP/backend.log")"
	expect_eq "g$i: no parent from the sending thread" null "$(jq -r .parent_span_id <<<"$client")"
done
