#!/bin/bash
# --propagate's options and errors: it needs a selection or the explicit host-wide
# word, takes auto, sockmsg or memory, and check judges each by loading. Where the kernel
# refuses memory writes (lockdown), --propagate=memory is a clear error and auto gives a
# Go program sockmsg; where it allows them, auto gives the Go program memory writes.
. tests/integration/lib.sh

err() { # ARGS... → stderr of a run that must fail with usage status 2
	local rc
	"$EHTTP" "$@" >/dev/null 2>"$TMP/err"
	rc=$?
	expect_eq "exit status of ehttp $*" 2 "$rc"
	cat "$TMP/err"
}
err attach --propagate | grep -q 'select them with -p, --comm or --cgroup' || fail "no selection accepted"
err record -o "$TMP/x.pcapng" --propagate | grep -q 'select them with -p, --comm or --cgroup' || fail "record: no selection accepted"
err attach --comm curl --port 80 --propagate=memory | grep -q -- "does not go with --port" ||
	fail "--propagate=memory with --port accepted"
err attach --comm curl --propagate=bogus | grep -q "takes auto, sockmsg or memory, not 'bogus'" ||
	fail "an unknown method was accepted"
# the value comes only after '=': the next word is not it
err attach --comm curl --propagate sockmsg | grep -q "what is 'sockmsg'?" ||
	fail "--propagate took the next word as its value"
err attach --propagate-all-processes | grep -q 'goes with --propagate' || fail "--propagate-all-processes alone"
"$EHTTP" attach help | grep -q -- '--propagate\[=auto|sockmsg|memory\]' || fail "attach help does not show --propagate"
"$EHTTP" record help | grep -q -- '--propagate-all-processes' || fail "record help does not show it"

# one check for both verdicts (in a qemu guest a check takes tens of seconds)
"$EHTTP" -j check >"$TMP/check.json" || fail "check failed"
v=$(jq -r .verdicts.propagation_sockmsg.ok "$TMP/check.json")
mem=$(jq -r .verdicts.propagation_memory_write.ok "$TMP/check.json")
if bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null | grep -q "TYPEDEF 'btf_trace_sock_send_length'"; then
	expect_eq "check: propagation_sockmsg where the socket tracepoints exist" true "$v"
	# auto uses it, and attach says so
	"$EHTTP" attach --comm nosuchprocess --propagate --duration 1 2>"$TMP/err" >/dev/null ||
		fail "attach --propagate failed: $(cat "$TMP/err")"
	# auto: sk_msg, and memory writes for Go programs where the kernel allows them
	[ "$mem" = true ] && how="memory for Go programs, sockmsg for the others" || how=sockmsg
	grep -qF "propagating trace context ($how)" "$TMP/err" || fail "attach did not say it propagates: $(cat "$TMP/err")"
	grep -q '^propagation: 0 injected' "$TMP/err" || fail "no propagation summary"
	# record keeps what was done in the span file, and replay shows it
	port=$(free_port)
	python3 -m http.server -b 127.0.0.1 "$port" -d "$TMP" >/dev/null 2>&1 &
	on_exit "kill $!"
	wait_port "$port"
	# a curl of a name of its own: --comm must select this test's client only
	client=pc$$
	cp "$(command -v curl)" "$TMP/$client"
	"$EHTTP" record -o "$TMP/p.pcapng" --comm "$client" --propagate 2>"$TMP/rec.err" &
	rec=$!
	for _ in $(seq 1 300); do grep -qs '^Recording' "$TMP/rec.err" && break; sleep 0.1; done
	"$TMP/$client" -sf "http://127.0.0.1:$port/" -o /dev/null || fail "curl failed"
	sleep 0.5
	kill -INT "$rec"
	wait "$rec" || fail "record failed: $(cat "$TMP/rec.err")"
	grep -q '^propagation: 1 injected' "$TMP/rec.err" || fail "record's summary: $(cat "$TMP/rec.err")"
	expect_eq "replayed client span's propagation" sockmsg \
		"$("$EHTTP" -j replay "$TMP/p.pcapng" | jq -r 'select(.role == "client") | .propagation')"
else
	expect_eq "check: propagation_sockmsg without socket tracepoints" false "$v"
fi

# --port narrows propagation to connections to that port, as it narrows the capture
if bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null | grep -q "TYPEDEF 'btf_trace_sock_send_length'"; then
	p1=$(free_port)
	p2=$(free_port)
	python3 tests/fixtures/chain_service.py backend "$p1" "$TMP/p1.log" &
	on_exit "kill $!"
	python3 tests/fixtures/chain_service.py backend "$p2" "$TMP/p2.log" &
	on_exit "kill $!"
	wait_port "$p1"
	wait_port "$p2"
	client=pp$$
	cp "$(command -v curl)" "$TMP/$client"
	"$EHTTP" attach --comm "$client" --port "$p1" --propagate >/dev/null 2>"$TMP/port.err" &
	att=$!
	for _ in $(seq 1 300); do grep -qs '^Attached' "$TMP/port.err" && break; sleep 0.1; done
	"$TMP/$client" -sf "http://127.0.0.1:$p1/backend/one" -o /dev/null || fail "curl to $p1 failed"
	"$TMP/$client" -sf "http://127.0.0.1:$p2/backend/two" -o /dev/null || fail "curl to $p2 failed"
	sleep 0.3
	kill -INT "$att"
	wait "$att" || fail "attach failed: $(cat "$TMP/port.err")"
	grep -q '^/backend/one 00-[0-9a-f]\{32\}-[0-9a-f]\{16\}-01$' "$TMP/p1.log" || fail "port $p1 got no traceparent: $(cat "$TMP/p1.log")"
	expect_eq "what port $p2 got" "/backend/two -" "$(cat "$TMP/p2.log")"
fi

# --propagate=memory, judged by loading its program, as check does
if [ "$mem" = false ]; then
	"$EHTTP" attach --comm curl --propagate=memory --duration 1 >/dev/null 2>"$TMP/mem.err"
	expect_eq "exit status of --propagate=memory where the kernel refuses it" 1 "$?"
	cat "$TMP/mem.err"
	grep -q '^Error: --propagate=memory cannot write into Go programs here: .*; use --propagate=sockmsg' "$TMP/mem.err" ||
		fail "no clear error"
	if grep -q '\[integrity\]\|\[confidentiality\]' /sys/kernel/security/lockdown 2>/dev/null; then
		grep -q 'kernel lockdown is' "$TMP/mem.err" || fail "the error does not name the lockdown"
	fi
fi
# auto for a Go program: memory where it loads, else sockmsg (where sk_msg works)
if command -v go >/dev/null && { [ "$mem" = true ] || [ "$v" = true ]; }; then
	. tests/go_toolchains.sh
	bin=$(go_fixture 1.19 memprop plain) || fail "go build of memprop"
	cp "$bin" "$TMP/gomiddle"
	bport=$(free_port)
	mport=$(free_port)
	python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/auto-backend.log" &
	on_exit "kill $!"
	"$TMP/gomiddle" middle "127.0.0.1:$mport" "$bport" >/dev/null &
	gm=$!
	on_exit "kill $gm"
	wait_port "$bport"
	wait_port "$mport"
	"$EHTTP" -j attach -p "$gm" --propagate >"$TMP/auto.json" 2>"$TMP/auto.err" &
	att=$!
	for _ in $(seq 1 300); do grep -qs '^Attached' "$TMP/auto.err" && break; sleep 0.1; done
	[ "$mem" = true ] && want=memory || want=sockmsg
	grep -q "propagating trace context ($want" "$TMP/auto.err" || fail "auto: $(grep Attached "$TMP/auto.err")"
	curl -sf "http://127.0.0.1:$mport/b?id=a1" -o /dev/null || fail "curl to the Go middle"
	sleep 1.5
	kill -INT "$att"
	wait "$att" || fail "attach failed: $(cat "$TMP/auto.err")"
	expect_eq "auto: the Go program's client span" "$want" \
		"$(jq -r 'select(.role == "client" and .target == "/backend/a1" and .source == "go") | .propagation' "$TMP/auto.json")"
	c=$(jq -c 'select(.role == "client" and .target == "/backend/a1" and .source == "go")' "$TMP/auto.json")
	expect_eq "auto: the traceparent the backend got" "/backend/a1 00-$(jq -r .trace_id <<<"$c")-$(jq -r .span_id <<<"$c")-01" \
		"$(cat "$TMP/auto-backend.log")"
fi
