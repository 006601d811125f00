#!/bin/bash
# --propagate=sockmsg, byte for byte: a backend keeps the exact bytes it receives; they
# are what the client sent plus one traceparent line after the request line of each
# request that should get one (keep-alive, pipelined, 50 KB and 5 MB bodies, a body in
# a write of its own, a chunked upload, an existing traceparent, a split head, 64
# concurrent connections, and a connection that is not HTTP), and the client spans
# carry exactly the ids written; the connections that cannot be followed (the split
# head's, the one that is not HTTP) are handed back to TCP (one of them at least: the
# other may close first). No
# exchange may take longer than the client's bound (10 s, where the sockmap stalls users of
# another tracer saw lasted 20-80 s; a qemu guest takes 3 s). Then the same run without
# --propagate: not one byte differs.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"

port=$(free_port)
run() { # run DIR [ATTACH-ARGS...]
	local dir=$1 client
	shift
	mkdir -p "$dir"
	python3 tests/fixtures/propagate_client.py "$port" "$dir" &
	client=$!
	attach_start "$dir/spans" -p "$client" "$@"
	touch "$dir/go"
	wait "$client" || fail "the client failed"
	sleep 0.3
	attach_stop "$dir/spans"
}

mkdir -p "$TMP/on" "$TMP/off"
python3 tests/fixtures/raw_backend.py "$port" "$TMP/on" &
backend=$!
on_exit "kill $backend"
wait_port "$port"
run "$TMP/on" --propagate=sockmsg
grep '^propagation:' "$TMP/on/spans.err" || fail "no propagation summary"
python3 tests/fixtures/propagate_check.py "$TMP/on" "$TMP/on/spans" || fail "propagation changed more (or less) than one line per request"
grep -qE '^propagation: 145 injected, 1 existing, 4 skipped \(pipelined 2, split head 1, not HTTP/1 1\); 75 connections claimed \([12] handed back\)' "$TMP/on/spans.err" ||
	fail "summary: $(grep '^propagation' "$TMP/on/spans.err")"
kill "$backend"; wait "$backend" 2>/dev/null

python3 tests/fixtures/raw_backend.py "$port" "$TMP/off" &
backend=$!
on_exit "kill $backend"
wait_port "$port"
run "$TMP/off"
python3 tests/fixtures/propagate_check.py "$TMP/off" "$TMP/off/spans" --none || fail "bytes changed without --propagate"
! grep -q '^propagation:' "$TMP/off/spans.err" || fail "a propagation summary without --propagate"
echo "ok: sockmsg propagation is exact, and absent without --propagate"
