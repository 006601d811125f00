#!/bin/bash
# Whatever ends ehttp, traffic is unharmed and nothing stays behind: after kill -9 the
# sk_msg, sk_skb, sock_ops and tracing programs are gone (no pins, no links left), the
# connection they rewrote goes on working with its bytes untouched, and new ones too.
# And a second user of sockmaps (a second ehttp propagating for the same process)
# gets none of the first one's sockets: each request still carries one traceparent.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
command -v bpftool >/dev/null || skip "bpftool is needed"

ours() { bpftool -j prog show 2>/dev/null | jq -r '.[] | select(.name | startswith("prop_")) | .name' | sort -u | tr '\n' ' '; }
[ -z "$(ours)" ] || skip "another run's programs are loaded: $(ours)"

port=$(free_port)
mkdir -p "$TMP/in"
python3 tests/fixtures/raw_backend.py "$port" "$TMP/in" &
on_exit "kill $!"
wait_port "$port"
python3 tests/fixtures/step_client.py "$port" "$TMP" 3 &
client=$!
on_exit "kill $client 2>/dev/null"
step() {
	local i
	touch "$TMP/step$1"
	for i in $(seq 1 100); do
		[ -e "$TMP/done$1" ] && return 0
		[ -e "$TMP/failed" ] && fail "client: $(cat "$TMP/failed")"
		sleep 0.1
	done
	fail "step $1 did not complete within 10 s"
}

"$EHTTP" -j attach -p "$client" --propagate >"$TMP/spans" 2>"$TMP/err" &
ehttp=$!
for i in $(seq 1 300); do grep -qs '^Attached' "$TMP/err" && break; sleep 0.1; done
grep -q '^Attached' "$TMP/err" || fail "attach did not start: $(cat "$TMP/err")"
attach_start "$TMP/second" -p "$client" --propagate
step 1
sleep 0.3
attach_stop "$TMP/second"
grep -q 'skipped: socket held by another sockmap' "$TMP/second" ||
	fail "the second user got the socket: $(cat "$TMP/second")"
kill -9 "$ehttp"
wait "$ehttp" 2>/dev/null
for i in $(seq 1 50); do [ -z "$(ours)" ] && break; sleep 0.1; done
expect_eq "programs left after kill -9" "" "$(ours)"
step 2 # the same connection, out of the sockhash now
step 3 # a new one
wait "$client" || fail "the client failed"

got=$(cat "$TMP"/in/in-*.raw | grep -c '^traceparent: ')
expect_eq "traceparent lines received (step 1 only)" 1 "$got"
first=$(ls "$TMP"/out-*.raw | head -n 1)
for f in "$TMP"/out-*.raw; do
	p=${f##*/out-}
	p=${p%.raw}
	grep -v '^traceparent: ' "$TMP/in/in-$p.raw" | cmp -s - "$f" || fail "connection $p: bytes changed beyond the one line"
done
echo "ok: nothing left after kill -9, traffic unharmed"
