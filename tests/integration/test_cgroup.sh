#!/bin/bash
# --cgroup selects the processes of a cgroup v2 and of the cgroups below it, for the
# capture and for propagation alike. A cgroup of the test's own holds one python middle
# (in a child cgroup: descendants count); a second middle runs outside it; both call one
# backend (outside too) that logs the traceparent it got. With attach --cgroup
# --propagate, only the inside middle has spans, only its calls carry a traceparent
# (equal to its client span), and the outside middle's reach the backend untouched.
# record --cgroup writes the inside middle's spans only. A Go server inside is traced by
# uprobes, one outside is not. When ehttp ends, kill -9 included, no program is left
# attached to the cgroup.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
command -v bpftool >/dev/null || skip "bpftool is needed"
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cgroot" ] || skip "cgroup v2 is not mounted"

cg=$cgroot/ehttp-test.$$
mkdir "$cg" "$cg/inner" || fail "cannot make a cgroup under $cgroot"
# last out: after the servers below are gone (their cleanups run first)
on_exit "for try in \$(seq 1 50); do rmdir '$cg/inner' '$cg' 2>/dev/null && break; sleep 0.1; done"
# programs attached to the cgroup itself (bpftool prints nothing for none)
attached() { bpftool -j cgroup show "$cg" 2>/dev/null | jq -s 'map(length) | add // 0'; }

bport=$(free_port)
inport=$(free_port)
outport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
on_exit "kill $!"
bash -c 'echo $$ >"$1/cgroup.procs" && exec python3 tests/fixtures/chain_service.py middle "$2" "$3"' \
	_ "$cg/inner" "$inport" "$bport" &
inside=$!
on_exit "kill $inside"
python3 tests/fixtures/chain_service.py middle "$outport" "$bport" &
outside=$!
on_exit "kill $outside"
go_build hello "$TMP/hello"
goin=$(free_port)
goout=$(free_port)
bash -c 'echo $$ >"$1/cgroup.procs" && exec "$2" "127.0.0.1:$3"' _ "$cg/inner" "$TMP/hello" "$goin" &
go_inside=$!
on_exit "kill $go_inside"
"$TMP/hello" "127.0.0.1:$goout" &
go_outside=$!
on_exit "kill $go_outside"
wait_port "$bport"
wait_port "$inport"
wait_port "$outport"
wait_port "$goin"
wait_port "$goout"
grep -qx "0::${cg#"$cgroot"}/inner" /proc/$inside/cgroup || fail "the inside middle is not in $cg/inner"

# ---- errors ------------------------------------------------------------------------------
"$EHTTP" attach --cgroup /nonexistent.$$ 2>"$TMP/bad.err"
expect_eq "exit status for a cgroup that is not" 2 $?
grep -q "^Error: --cgroup: '/nonexistent.$$' is no cgroup v2 directory" "$TMP/bad.err" ||
	fail "no clear error: $(cat "$TMP/bad.err")"
"$EHTTP" attach --cgroup "$TMP" 2>"$TMP/bad.err"
expect_eq "exit status for a directory that is no cgroup" 2 $?

# ---- attach --propagate, by the cgroup's directory -----------------------------------------
attach_start "$TMP/spans" --cgroup "$cg" --propagate
expect_eq "programs on the cgroup while attached" 1 "$(attached)"
for i in 1 2 3; do
	curl -sf "http://127.0.0.1:$inport/chain/in$i" -o /dev/null || fail "request in$i failed"
	curl -sf "http://127.0.0.1:$outport/chain/out$i" -o /dev/null || fail "request out$i failed"
done
curl -sf "http://127.0.0.1:$goin/go-in" -o /dev/null || fail "request to the Go server inside failed"
curl -sf "http://127.0.0.1:$goout/go-out" -o /dev/null || fail "request to the Go server outside failed"
sleep 0.5
attach_stop "$TMP/spans"
grep -q "^Go: tracing pid $go_inside " "$TMP/spans.err" || fail "the Go server inside is not traced by uprobes"
! grep -q "^Go: tracing pid $go_outside " "$TMP/spans.err" || fail "the Go server outside is traced by uprobes"
expect_eq "the Go server inside: its server span, from the uprobes" /go-in \
	"$(jq -r --argjson p "$go_inside" 'select(.pid == $p and .role == "server" and .source == "go") | .target' "$TMP/spans")"
grep '^propagation' "$TMP/spans.err"
expect_eq "programs on the cgroup after ehttp ended" 0 "$(attached)"

expect_eq "processes with spans" "$(printf '%s\n' "$inside" "$go_inside" | sort -n | paste -sd' ')" \
	"$(jq -r .pid "$TMP/spans" | sort -nu | paste -sd' ')"
for i in 1 2 3; do
	server=$(jq -c "select(.role == \"server\" and .target == \"/chain/in$i\")" "$TMP/spans")
	client=$(jq -c "select(.role == \"client\" and .target == \"/backend/in$i\")" "$TMP/spans")
	[ -n "$server" ] && [ -n "$client" ] || fail "in$i: spans missing: server '$server' client '$client'"
	ct=$(jq -r .trace_id <<<"$client")
	expect_eq "in$i: client and server span share a trace" "$(jq -r .trace_id <<<"$server")" "$ct"
	expect_eq "in$i: client propagation" sockmsg "$(jq -r .propagation <<<"$client")"
	expect_eq "in$i: traceparent the backend got" "00-$ct-$(jq -r .span_id <<<"$client")-01" \
		"$(awk -v t="/backend/in$i" '$1 == t { print $2 }' "$TMP/backend.log")"
	expect_eq "out$i: traceparent the backend got from outside the cgroup" "-" \
		"$(awk -v t="/backend/out$i" '$1 == t { print $2 }' "$TMP/backend.log")"
done

# ---- record, by the path in the hierarchy (as /proc/PID/cgroup writes it) ------------------
record_start "$TMP/rec.err" -o "$TMP/rec.pcapng" --cgroup "${cg#"$cgroot"}"
for i in 4 5; do
	curl -sf "http://127.0.0.1:$inport/chain/in$i" -o /dev/null || fail "request in$i failed"
	curl -sf "http://127.0.0.1:$outport/chain/out$i" -o /dev/null || fail "request out$i failed"
done
sleep 0.5
kill -INT "$RECORD_PID"
wait "$RECORD_PID" || fail "record failed: $(cat "$TMP/rec.err")"
"$EHTTP" -j replay "$TMP/rec.pcapng" >"$TMP/rec.json" || fail "replay failed"
expect_eq "recorded spans (server and client of in4, in5)" \
	"client /backend/in4,client /backend/in5,server /chain/in4,server /chain/in5" \
	"$(jq -r '"\(.role) \(.target)"' "$TMP/rec.json" | sort | paste -sd,)"
expect_eq "recorded processes" "$inside" "$(jq -r .pid "$TMP/rec.json" | sort -u)"

# ---- kill -9: the cgroup's program goes with ehttp -------------------------------------------
"$EHTTP" attach --cgroup "$cg" --propagate >/dev/null 2>"$TMP/k.err" &
ehttp=$!
for i in $(seq 1 300); do grep -qs '^Attached' "$TMP/k.err" && break; sleep 0.1; done
grep -q '^Attached' "$TMP/k.err" || fail "attach did not start: $(cat "$TMP/k.err")"
expect_eq "programs on the cgroup while attached" 1 "$(attached)"
kill -9 "$ehttp"
wait "$ehttp" 2>/dev/null
for i in $(seq 1 50); do [ "$(attached)" == 0 ] && break; sleep 0.1; done
expect_eq "programs on the cgroup after kill -9" 0 "$(attached)"
curl -sf "http://127.0.0.1:$inport/chain/in6" -o /dev/null || fail "request in6 after kill -9 failed"
expect_eq "in6: no traceparent once ehttp is gone" "-" \
	"$(awk '$1 == "/backend/in6" { print $2 }' "$TMP/backend.log")"
