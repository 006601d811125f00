#!/bin/bash
# One thread serving two requests at once (an event loop) cannot say which of them a
# request it sends belongs to: that request begins a trace of its own, rather than
# joining one of the two wrongly. Served alone, the same thread's request is the
# child of its server span again.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"

bport=$(free_port)
mport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
python3 tests/fixtures/loop_middle.py "$mport" "$bport" &
middle=$!
on_exit "kill $middle 2>/dev/null"
wait_port "$bport"
for _ in $(seq 1 100); do ss -ltn | grep -q ":$mport " && break; sleep 0.1; done

attach_start "$TMP/spans" -p "$middle" --propagate
curl -sf --max-time 10 "http://127.0.0.1:$mport/loop/a" -o /dev/null &
first=$!
sleep 0.3
curl -sf --max-time 10 "http://127.0.0.1:$mport/loop/b" -o /dev/null || fail "request b failed"
wait "$first" || fail "request a failed"
curl -sf --max-time 10 "http://127.0.0.1:$mport/loop/alone" -o /dev/null || fail "request alone failed"
wait "$middle" || fail "the middle failed"
sleep 0.3
attach_stop "$TMP/spans"

both=$(jq -c 'select(.role == "client" and .target == "/backend/both")' "$TMP/spans")
alone=$(jq -c 'select(.role == "client" and .target == "/backend/alone")' "$TMP/spans")
server=$(jq -c 'select(.role == "server" and .target == "/loop/alone")' "$TMP/spans")
[ -n "$both" ] && [ -n "$alone" ] && [ -n "$server" ] || fail "spans missing"
expect_eq "propagation with two requests served" sockmsg "$(jq -r .propagation <<<"$both")"
expect_eq "parent with two requests served" null "$(jq -r .parent_span_id <<<"$both")"
for t in a b; do
	[ "$(jq -r .trace_id <<<"$both")" != "$(jq -r "select(.role == \"server\" and .target == \"/loop/$t\") | .trace_id" "$TMP/spans")" ] ||
		fail "the request joined /loop/$t's trace"
done
expect_eq "parent when served alone" "$(jq -r .span_id <<<"$server")" "$(jq -r .parent_span_id <<<"$alone")"
expect_eq "the backend got the ids" "00-$(jq -r .trace_id <<<"$both")-$(jq -r .span_id <<<"$both")-01" \
	"$(awk '$1 == "/backend/both" { print $2 }' "$TMP/backend.log")"
