#!/bin/bash
# A real peer: a node service instrumented with the OpenTelemetry SDK (in-memory
# exporter) sits between a middle and a backend, none of which ehttp changes but for
# --propagate on the middle. Its trace ids agree with ehttp's both ways: its server span
# continues the middle's client span (trace and parent), and the backend's server span,
# as ehttp sees it, continues the SDK's client span. Twice: python middle and backend,
# then Go ones (a traced Go service calls it, it calls a traced Go service), where the
# Go middle's client span is also the child of its own server span.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are needed"

mods=${EHTTP_CACHE:-/var/cache/ehttp-test}/npm/otel
if [ ! -d "$mods/node_modules/@opentelemetry/instrumentation-http" ]; then
	mkdir -p "$mods"
	(cd "$mods" && timeout 300 npm install --no-audit --no-fund --loglevel=error \
		@opentelemetry/sdk-trace-node @opentelemetry/sdk-trace-base \
		@opentelemetry/instrumentation @opentelemetry/instrumentation-http) >"$TMP/npm.log" 2>&1 ||
		skip "npm install of the OpenTelemetry SDK failed: $(tail -n 3 "$TMP/npm.log")"
fi

bport=$(free_port)
nport=$(free_port)
mport=$(free_port)
python3 tests/fixtures/chain_service.py backend "$bport" "$TMP/backend.log" &
backend=$!
on_exit "kill $backend"
NODE_PATH=$mods/node_modules node tests/fixtures/otel_service.js "$nport" "$bport" &
on_exit "kill $!"
python3 tests/fixtures/chain_service.py middle "$mport" "$nport" &
middle=$!
on_exit "kill $middle"
wait_port "$bport"
wait_port "$nport"
wait_port "$mport"

attach_start "$TMP/spans" -p "$middle" -p "$backend" --propagate
for i in 1 2 3; do
	curl -sf "http://127.0.0.1:$mport/chain/o$i" -o /dev/null || fail "request o$i failed"
done
sleep 0.5
attach_stop "$TMP/spans"
curl -sf "http://127.0.0.1:$nport/spans" >"$TMP/otel" || fail "no spans from the node service"

for i in 1 2 3; do
	t=/backend/o$i
	mclient=$(jq -c "select(.pid == $middle and .role == \"client\" and .target == \"$t\")" "$TMP/spans")
	bserver=$(jq -c "select(.pid == $backend and .role == \"server\" and .target == \"$t\")" "$TMP/spans")
	nserver=$(jq -c "select(.kind == \"server\" and .target == \"$t\")" "$TMP/otel")
	nclient=$(jq -c "select(.kind == \"client\" and .target == \"$t\")" "$TMP/otel")
	[ -n "$mclient" ] && [ -n "$bserver" ] && [ -n "$nserver" ] && [ -n "$nclient" ] ||
		fail "o$i: spans missing: ehttp '$mclient' '$bserver', otel '$nserver' '$nclient'"
	expect_eq "o$i: the SDK's server span continues ehttp's trace" "$(jq -r .trace_id <<<"$mclient")" "$(jq -r .traceId <<<"$nserver")"
	expect_eq "o$i: its parent is ehttp's client span" "$(jq -r .span_id <<<"$mclient")" "$(jq -r .parentSpanId <<<"$nserver")"
	expect_eq "o$i: ehttp's backend span continues the SDK's trace" "$(jq -r .traceId <<<"$nclient")" "$(jq -r .trace_id <<<"$bserver")"
	expect_eq "o$i: its parent is the SDK's client span" "$(jq -r .spanId <<<"$nclient")" "$(jq -r .parent_span_id <<<"$bserver")"
done

# The same with Go services on both sides of the node hop: curl → Go middle (Go 1.27,
# /b?id=X, calls /backend/X.m) → node → Go backend (Go 1.19, logs the traceparent).
command -v go >/dev/null || { echo "go is not installed: the Go variant is not run"; exit 0; }
. tests/integration/go_lib.sh
go_build_with 1.27 chain "$TMP/middle"
go_build_with 1.19 chain "$TMP/backend"
gbport=$(free_port)
gnport=$(free_port)
gmport=$(free_port)
"$TMP/backend" backend "127.0.0.1:$gbport" >"$TMP/gbe.log" 2>"$TMP/gbe.err" &
gbackend=$!
on_exit "kill $gbackend"
NODE_PATH=$mods/node_modules node tests/fixtures/otel_service.js "$gnport" "$gbport" &
on_exit "kill $!"
"$TMP/middle" middle "127.0.0.1:$gmport" "http://127.0.0.1:$gnport" >"$TMP/gmid.log" 2>"$TMP/gmid.err" &
gmiddle=$!
on_exit "kill $gmiddle"
wait_port "$gbport"
wait_port "$gnport"
wait_port "$gmport"

attach_start "$TMP/gspans" -p "$gmiddle" -p "$gbackend" --propagate=sockmsg
go_wait_traced "$TMP/gspans" "$gmiddle"
go_wait_traced "$TMP/gspans" "$gbackend"
for i in 1 2 3; do
	curl -sf "http://127.0.0.1:$gmport/b?id=g$i" -o /dev/null || fail "request g$i failed"
done
sleep 0.5
attach_stop "$TMP/gspans"
curl -sf "http://127.0.0.1:$gnport/spans" >"$TMP/gotel" || fail "no spans from the node service"

for i in 1 2 3; do
	t=/backend/g$i.m
	mserver=$(jq -c "select(.pid == $gmiddle and .role == \"server\" and .target == \"/b?id=g$i\")" "$TMP/gspans")
	mclient=$(jq -c "select(.pid == $gmiddle and .role == \"client\" and .target == \"$t\")" "$TMP/gspans")
	bserver=$(jq -c "select(.pid == $gbackend and .role == \"server\" and .target == \"$t\")" "$TMP/gspans")
	nserver=$(jq -c "select(.kind == \"server\" and .target == \"$t\")" "$TMP/gotel")
	nclient=$(jq -c "select(.kind == \"client\" and .target == \"$t\")" "$TMP/gotel")
	[ -n "$mserver" ] && [ -n "$mclient" ] && [ -n "$bserver" ] && [ -n "$nserver" ] && [ -n "$nclient" ] ||
		fail "g$i: spans missing: ehttp '$mserver' '$mclient' '$bserver', otel '$nserver' '$nclient'"
	expect_eq "g$i: the Go middle's client span is in its server span's trace" "$(jq -r .trace_id <<<"$mserver")" "$(jq -r .trace_id <<<"$mclient")"
	expect_eq "g$i: its parent is that server span" "$(jq -r .span_id <<<"$mserver")" "$(jq -r .parent_span_id <<<"$mclient")"
	expect_eq "g$i: the SDK's server span continues ehttp's trace" "$(jq -r .trace_id <<<"$mclient")" "$(jq -r .traceId <<<"$nserver")"
	expect_eq "g$i: its parent is ehttp's Go client span" "$(jq -r .span_id <<<"$mclient")" "$(jq -r .parentSpanId <<<"$nserver")"
	expect_eq "g$i: ehttp's Go backend span continues the SDK's trace" "$(jq -r .traceId <<<"$nclient")" "$(jq -r .trace_id <<<"$bserver")"
	expect_eq "g$i: its parent is the SDK's client span" "$(jq -r .spanId <<<"$nclient")" "$(jq -r .parent_span_id <<<"$bserver")"
	expect_eq "g$i: the Go backend's own log" "00-$(jq -r .traceId <<<"$nclient")-$(jq -r .spanId <<<"$nclient")-01" \
		"$(awk -v id="g$i.m" '$1 == "backend" && $2 == id { print $3 }' "$TMP/gbe.log")"
done
