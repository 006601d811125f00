#!/bin/bash
# --propagate=memory, byte for byte: a Go client (tests/fixtures/go/memprop, Go 1.27,
# whose itabs are found in the runtime's list: it has no itab symbols) sends the same
# requests three times to a backend that keeps the exact bytes it receives: without
# ehttp, under attach without --propagate, and with --propagate=memory. The first two
# must be the same bytes; the third the same plus exactly one Traceparent line in the
# header block of each request (keep-alive, 50 KB and 5 MB bodies, a chunked upload,
# 8 concurrent requests, one leaving exactly the line's 70 bytes of room), carrying the
# client span's ids; a request with a traceparent of its own is left alone and its span
# adopts it; one whose head leaves 40 bytes of room in its 4096-byte buffer is left
# alone and says so. Every exchange completes within 60 s (the client's own bound: a 5 MB
# upload alone took 13 s in a qemu guest on a loaded host; a stalled connection never ends).
# Then a chain: a Go frontend (1.27) -> a Go middle (1.19, the itab from its symbols)
# -> a python backend; per entering request every span shares one trace, each parent
# is right against the programs' own logs, and the backend got the middle's client span.
# Only where the kernel allows bpf_probe_write_user (the qemu guests; not under lockdown).
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/go_lib.sh
[ "$("$EHTTP" -j check | jq -r .verdicts.propagation_memory_write.ok)" = true ] ||
	skip "the kernel refuses memory writes here (check: propagation_memory_write)"

go_build_with 1.27 memprop "$TMP/memclient"
port=$(free_port)
run() { # run DIR [ATTACH-ARGS...]: the client's exchanges into DIR, attached when ARGS
	local dir=$1 client backend
	shift
	mkdir -p "$dir"
	python3 tests/fixtures/raw_backend.py "$port" "$dir" &
	backend=$!
	on_exit "kill $backend 2>/dev/null"
	wait_port "$port"
	"$TMP/memclient" client "$port" "$dir" &
	client=$!
	if [ $# -gt 0 ]; then
		attach_start "$dir/spans" -p "$client" "$@"
		go_wait_traced "$dir/spans" "$client"
	fi
	touch "$dir/go"
	wait "$client" || fail "the client failed: $(cat "$dir/client.log" 2>/dev/null)"
	if [ $# -gt 0 ]; then
		sleep 1.5 # the Go spans' wait for their wire view
		attach_stop "$dir/spans"
	fi
	kill "$backend"
	wait "$backend" 2>/dev/null
}

run "$TMP/none"
run "$TMP/off" --go auto
! grep -q '^propagation' "$TMP/off/spans.err" || fail "a propagation summary without --propagate"
python3 tests/fixtures/memprop_check.py "$TMP/none" "$TMP/off" --same || fail "attach without --propagate changed bytes"
run "$TMP/on" --propagate=memory
grep -q 'propagating trace context (memory)' "$TMP/on/spans.err" || fail "attach did not say it writes memory"
python3 tests/fixtures/memprop_check.py "$TMP/on" "$TMP/none" "$TMP/on/spans" ||
	fail "--propagate=memory changed more (or less) than one line per request"
# 5 + 1 keep-alive, 2 bodies, chunked, room70, 8 concurrent: 18 written
grep '^propagation (memory)' "$TMP/on/spans.err"
grep -q '^propagation (memory): 18 written, 1 existing, 1 skipped (no room 1); 1 process$' "$TMP/on/spans.err" ||
	fail "summary: $(grep '^propagation' "$TMP/on/spans.err")"
! grep -q '^propagation:' "$TMP/on/spans.err" || fail "sk_msg was set up for --propagate=memory"
echo "ok: memory propagation is exact, and absent without --propagate"

# ---- the chain ------------------------------------------------------------------------
go_build_with 1.27 chain "$TMP/frontend"
go_build_with 1.19 memprop "$TMP/middle"
bport=$(free_port)
mport=$(free_port)
fport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
"$TMP/middle" middle "127.0.0.1:$mport" "$bport" >"$TMP/middle.log" &
middle=$!
on_exit "kill $middle"
"$TMP/frontend" frontend "127.0.0.1:$fport" "http://127.0.0.1:$mport" >"$TMP/fe.log" 2>"$TMP/fe.err" &
fe=$!
on_exit "kill $fe"
wait_port "$bport"
wait_port "$mport"
wait_port "$fport"
out=$TMP/chain.json
attach_start "$out" -p "$fe" -p "$middle" --propagate=memory
go_wait_traced "$out" "$fe"
go_wait_traced "$out" "$middle"
curl -sf -o /dev/null -o /dev/null -o /dev/null "http://127.0.0.1:$fport/direct?id=d1" \
	"http://127.0.0.1:$fport/spawn?id=s1" "http://127.0.0.1:$fport/direct?id=d2" || fail "curl"
curl -sf -o /dev/null "http://127.0.0.1:$fport/fresh?id=f1" || fail "curl fresh"
sleep 1.5
attach_stop "$out"
grep '^propagation (memory)' "$out.err"
calls=(d1.direct s1.spawn d2.direct f1.fresh)
for c in "${calls[@]}"; do
	id=${c%%.*}
	fs=$(jq -c --argjson pid "$fe" --arg t "/${c#*.}?id=$id" \
		'select(.pid == $pid and .role == "server" and .target == $t and .source == "go")' "$out")
	fc=$(jq -c --argjson pid "$fe" --arg t "/b?id=$c" 'select(.pid == $pid and .role == "client" and .target == $t and .source == "go")' "$out")
	ms=$(jq -c --argjson pid "$middle" --arg t "/b?id=$c" 'select(.pid == $pid and .role == "server" and .target == $t and .source == "go")' "$out")
	mc=$(jq -c --argjson pid "$middle" --arg t "/backend/$c" 'select(.pid == $pid and .role == "client" and .target == $t and .source == "go")' "$out")
	for v in fs fc ms mc; do
		[ "$(jq -s length <<<"${!v}")" = 1 ] || fail "$c: not one $v span: ${!v}"
	done
	trace=$(jq -r .trace_id <<<"$fs")
	for v in fc ms mc; do expect_eq "$c: trace of $v" "$trace" "$(jq -r .trace_id <<<"${!v}")"; done
	expect_eq "$c: frontend call's parent" "$(jq -r .span_id <<<"$fs")" "$(jq -r .parent_span_id <<<"$fc")"
	expect_eq "$c: middle's parent" "$(jq -r .span_id <<<"$fc")" "$(jq -r .parent_span_id <<<"$ms")"
	expect_eq "$c: middle call's parent" "$(jq -r .span_id <<<"$ms")" "$(jq -r .parent_span_id <<<"$mc")"
	expect_eq "$c: frontend call's propagation" memory "$(jq -r .propagation <<<"$fc")"
	expect_eq "$c: middle call's propagation" memory "$(jq -r .propagation <<<"$mc")"
	# the programs' own logs: what the middle and the backend received
	expect_eq "$c: the traceparent the middle got" "00-$trace-$(jq -r .span_id <<<"$fc")-01" \
		"$(awk -v c="$c" '$1 == "server" && $2 == c { print $3 }' "$TMP/middle.log")"
	expect_eq "$c: the traceparent the backend got" "00-$trace-$(jq -r .span_id <<<"$mc")-01" \
		"$(awk -v t="/backend/$c" '$1 == t { print $2 }' "$TMP/backend.log")"
	# the frontend says which call belongs to which request
	grep -q "^call $id $c\$" "$TMP/fe.log" || fail "$c: the frontend did not log the call"
done
echo "ok: the chain's spans share one trace per request, parents as the programs say"
