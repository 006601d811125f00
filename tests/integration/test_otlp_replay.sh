# OTLP export of span files (replay --otlp) to a receiver that decodes with the
# OpenTelemetry JS SDK's own generated OTLP types, first proven on the SDK's own
# OTLP/protobuf exporter. Ground truth: the spans the SDK says it sent, and the same
# span files printed by `ehttp -j replay`. Then the failure modes: 503 with
# Retry-After (retried, nothing lost), a receiver that is down (counted, exit 1).
. tests/integration/lib.sh
. tests/integration/otlp_lib.sh

# 1. The receiver decodes what a real OpenTelemetry SDK exporter sends.
receiver_start sdk
node "$OTLP_FIXTURE/sdk_send.js" "http://127.0.0.1:$RECV_PORT/v1/traces" 3 "$TMP/sdk.expected" ||
	fail "the SDK exporter failed"
jq -c '{name, kind, traceId, spanId, parentSpanId, start, status: (.attributes["http.response.status_code"] // "")}' \
	"$TMP/sdk.spans" | sort >"$TMP/sdk.got"
jq -c '{name, kind, traceId, spanId, parentSpanId, start, status}' "$TMP/sdk.expected" | sort >"$TMP/sdk.want"
diff "$TMP/sdk.want" "$TMP/sdk.got" || fail "the receiver's decode of the SDK's spans differs from what it sent"
echo "ok: the receiver decodes the OpenTelemetry SDK's own exporter ($(wc -l <"$TMP/sdk.got") spans)"

# 2. protobuf + gzip (the defaults): every span, with its ids, times and attributes.
spangen "$TMP/a.pcapng" 3000
"$EHTTP" -j replay "$TMP/a.pcapng" >"$TMP/a.json" || fail "replay -j"
"$EHTTP" -j replay --stats "$TMP/a.pcapng" >"$TMP/a.stats" || fail "replay --stats"
receiver_start pb
"$EHTTP" replay --otlp "http://127.0.0.1:$RECV_PORT" "$TMP/a.pcapng" 2>"$TMP/pb.err" ||
	fail "replay --otlp: $(cat "$TMP/pb.err")"
cat "$TMP/pb.err"
grep -q '^OTLP: 3000 spans exported in [0-9]* requests, 0 batches retried, 0 spans dropped$' "$TMP/pb.err" ||
	fail "summary: $(cat "$TMP/pb.err")"
python3 tests/integration/otlp_compare.py "$TMP/a.json" "$TMP/pb.spans" "$TMP/a.stats" || fail "protobuf export"
expect_eq "requests were protobuf, gzip, to /v1/traces" "application/x-protobuf gzip /v1/traces" \
	"$(jq -r '"\(.contentType) \(.encoding) \(.path)"' "$TMP/pb.requests" | sort -u)"
expect_eq "batches of at most 512 spans" 512 "$(jq -s 'map(.spans) | max' "$TMP/pb.requests")"
expect_eq "one resource per process: service.name per pid" \
	"$(jq -r '"\(.pid) \(.comm)"' "$TMP/a.json" | sort -u)" \
	"$(jq -r '"\(.resource["process.pid"]) \(.resource["service.name"])"' "$TMP/pb.spans" | sort -u)"
expect_eq "process.executable.path from the file's process records" \
	"$(jq -r '"/usr/bin/\(.comm)"' "$TMP/a.json" | sort -u)" \
	"$(jq -r '.resource["process.executable.path"]' "$TMP/pb.spans" | sort -u)"

# 2b. Two hosts' files with the same pids, read together: each span keeps its own
# host's process (resources are per host and pid), host.name from each file.
spangen "$TMP/other.pcapng" 500 1765000000 other-host
receiver_start hosts
"$EHTTP" replay --otlp "http://127.0.0.1:$RECV_PORT" "$TMP/a.pcapng" "$TMP/other.pcapng" 2>"$TMP/hosts.err" ||
	fail "replay --otlp of two hosts: $(cat "$TMP/hosts.err")"
expect_eq "spans per host.name" "3000 bench,500 other-host" \
	"$(jq -r '.resource["host.name"]' "$TMP/hosts.spans" | sort | uniq -c | awk '{ print $1, $2 }' | paste -sd,)"
# the files start a day apart (1764... and 1765... seconds)
expect_eq "no span of one host with the other's file" "" \
	"$(jq -r 'select((.start | startswith("1764")) != (.resource["host.name"] == "bench")) | .spanId' "$TMP/hosts.spans")"

# 3. OTLP/JSON, uncompressed, headers from a file and from the environment, a mapped
# service name.
printf '# a token, kept out of the command line\nAuthorization: Bearer s3cret\n\n' >"$TMP/headers"
receiver_start js
OTEL_EXPORTER_OTLP_HEADERS='x-test=a%20b' "$EHTTP" replay --otlp "http://127.0.0.1:$RECV_PORT/v1/traces" \
	--otlp-format json --otlp-compression none --otlp-headers "$TMP/headers" \
	--service-name server1=checkout "$TMP/a.pcapng" 2>"$TMP/js.err" || fail "replay --otlp json: $(cat "$TMP/js.err")"
OTLP_SERVICE_MAP=server1=checkout python3 tests/integration/otlp_compare.py "$TMP/a.json" "$TMP/js.spans" ||
	fail "OTLP/JSON export"
expect_eq "the mapped service" checkout \
	"$(jq -r 'select(.resource["process.executable.path"] == "/usr/bin/server1") | .resource["service.name"]' "$TMP/js.spans" | sort -u)"
expect_eq "JSON requests, uncompressed, with the headers" "application/json  Bearer s3cret a b" \
	"$(jq -r '"\(.contentType) \(.encoding) \(.authorization) \(.xTest)"' "$TMP/js.requests" | sort -u)"
"$EHTTP" replay --otlp http://127.0.0.1:1 --otlp-headers "$TMP/nope" "$TMP/a.pcapng" 2>"$TMP/nohdr.err" &&
	fail "a missing headers file is accepted"
grep -q "^Error: --otlp-headers $TMP/nope: No such file" "$TMP/nohdr.err" || fail "error: $(cat "$TMP/nohdr.err")"
printf 'not a header line\n' >"$TMP/badheaders"
"$EHTTP" replay --otlp http://127.0.0.1:1 --otlp-headers "$TMP/badheaders" "$TMP/a.pcapng" 2>"$TMP/badhdr.err" &&
	fail "a bad headers file is accepted"
grep -q "badheaders:1: not a 'Name: value' line" "$TMP/badhdr.err" || fail "error: $(cat "$TMP/badhdr.err")"
echo "ok: bad header files are refused with a clear error"
# usage_error WHAT ARGS...: exit 2 and an Error: line, before any file is read.
usage_error() {
	local what=$1
	shift
	"$EHTTP" "$@" >/dev/null 2>"$TMP/usage.err" && fail "$what: accepted"
	[ $? = 2 ] || fail "$what: exit status is not 2"
	grep -q '^Error: ' "$TMP/usage.err" || fail "$what: no error line"
	echo "ok: $what: $(cat "$TMP/usage.err")"
}
usage_error "a URL that is not http" replay --otlp ftp://collector "$TMP/a.pcapng"
usage_error "an unknown format" replay --otlp http://127.0.0.1:1 --otlp-format xml "$TMP/a.pcapng"
usage_error "an --otlp-* option without --otlp" replay --otlp-compression none "$TMP/a.pcapng"
usage_error "--service-name without an exporter" replay --service-name a=b "$TMP/a.pcapng"
usage_error "--metrics on replay" replay --metrics 9464 "$TMP/a.pcapng"
usage_error "--metrics with a host name" record -o "$TMP/x.pcapng" --metrics localhost:9464
usage_error "--metrics-routes without --metrics" record -o "$TMP/x.pcapng" --metrics-routes 5

# 4. 503 with Retry-After: 1 twice, then success: retried, nothing lost, the wait honoured.
receiver_start busy --mode 503 --fail-first 2 --retry-after 1
spangen "$TMP/b.pcapng" 300
"$EHTTP" -j replay "$TMP/b.pcapng" >"$TMP/b.json"
"$EHTTP" replay --otlp "http://127.0.0.1:$RECV_PORT" "$TMP/b.pcapng" 2>"$TMP/busy.err" ||
	fail "replay against a busy receiver: $(cat "$TMP/busy.err")"
cat "$TMP/busy.err"
grep -q '^OTLP: 300 spans exported in 1 request, 1 batch retried, 0 spans dropped$' "$TMP/busy.err" ||
	fail "summary: $(cat "$TMP/busy.err")"
python3 tests/integration/otlp_compare.py "$TMP/b.json" "$TMP/busy.spans" || fail "export after 503s"
expect_eq "answers the receiver gave" "503 503 200" "$(jq -r .answer "$TMP/busy.requests" | paste -sd' ')"
gaps=$(jq -s '[.[1].t - .[0].t, .[2].t - .[1].t] | map(. >= 950) | all' "$TMP/busy.requests")
expect_eq "each retry waited Retry-After (1 s)" true "$gaps"

# 5. A receiver that is down: retried with backoff, then counted as dropped; exit 1.
dead=$(free_port)
start=$(date +%s)
"$EHTTP" replay --otlp "http://127.0.0.1:$dead" "$TMP/b.pcapng" 2>"$TMP/dead.err" &&
	fail "replay to a dead receiver exits 0"
took=$(($(date +%s) - start))
cat "$TMP/dead.err"
grep -q '^OTLP: 0 spans exported in 0 requests, 1 batch retried, 300 spans dropped (0 queue full, 300 after every retry, 0 rejected, 0 unsent at exit)$' "$TMP/dead.err" ||
	fail "summary: $(cat "$TMP/dead.err")"
grep -q "^Warning: OTLP: 5 failed requests; the last error: Couldn't connect to server" "$TMP/dead.err" ||
	fail "no warning with the cause: $(cat "$TMP/dead.err")"
grep -q '^Error: not every span reached the OTLP receiver' "$TMP/dead.err" || fail "no error line"
[ "$took" -lt 30 ] || fail "giving up took $took s"
echo "ok: a dead receiver: 5 attempts with backoff in ${took}s, every span counted as dropped"
