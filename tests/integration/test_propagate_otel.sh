#!/bin/bash
# A real peer: a node service instrumented with the OpenTelemetry SDK (in-memory
# exporter) sits between a python middle and a python backend, none of which ehttp
# changes but for --propagate on the middle. Its trace ids agree with ehttp's both ways:
# its server span continues the middle's client span (trace and parent), and the
# backend's server span, as ehttp sees it, continues the SDK's client span.
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
