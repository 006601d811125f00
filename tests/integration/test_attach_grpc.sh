# gRPC over h2c between a Go server and client built from Debian's golang-google-grpc-dev
# (the standard health service: unary Check, server-streaming Watch, and a Check that
# fails with NotFound), recorded to a span file and replayed, --stats included; then a
# connection already open when the capture starts. Ground truth: the client's own log
# of every call and its status code, and tshark's dissection of the same traffic.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

for tool in tshark go; do
	command -v $tool >/dev/null || fail "$tool is needed (packaging/deps.sh installs it)"
done
[ -d /usr/share/gocode/src/google.golang.org/grpc/health ] ||
	fail "golang-google-grpc-dev is needed (packaging/deps.sh installs it)"
(cd tests/fixtures/go/grpcpeer && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOCACHE=${GOCACHE:-/tmp/ehttp-gocache} go build -o "$TMP/grpcpeer" .) || fail "go build grpcpeer"

"$TMP/grpcpeer" server 127.0.0.1:0 >"$TMP/port" &
srv=$!
on_exit "kill $srv 2>/dev/null"
for i in $(seq 1 100); do [ -s "$TMP/port" ] && break; sleep 0.1; done
port=$(cat "$TMP/port")
wait_port "$port"

# ---- recorded from the start, replayed ------------------------------------------------------
tshark -q -i lo -f "tcp port $port" -w "$TMP/grpc.pcap" >"$TMP/tshark.err" 2>&1 &
tsk=$!
on_exit "kill $tsk 2>/dev/null"
for i in $(seq 1 100); do grep -qs "Capturing on" "$TMP/tshark.err" && break; sleep 0.1; done
"$EHTTP" record -o "$TMP/grpc.pcapng" --port "$port" 2>"$TMP/record.err" &
rec=$!
on_exit "kill -INT $rec 2>/dev/null"
for i in $(seq 1 300); do grep -qs '^Recording\|^Attached' "$TMP/record.err" && break; sleep 0.1; done
sleep 1
"$TMP/grpcpeer" client "127.0.0.1:$port" 5 "$TMP/calls.log" || fail "the gRPC client"
sleep 1
kill -INT $rec
wait $rec || fail "record: $(cat "$TMP/record.err")"
sleep 0.5
kill -INT $tsk
wait $tsk 2>/dev/null

# the client's log: "PATH CODE" per call, Watch cancelled by the client (no status)
sed 's/ cancelled$/ -/' "$TMP/calls.log" | sort >"$TMP/calls.truth"
expect_eq "calls the client made" 15 "$(wc -l <"$TMP/calls.truth")"
"$EHTTP" -j replay "$TMP/grpc.pcapng" >"$TMP/spans.json" || fail "replay"
for role in server client; do
	jq -r --arg role $role 'select(.role == $role and .grpc_service == "grpc.health.v1.Health") |
		"/\(.grpc_service)/\(.grpc_method) \(.grpc_status // "-")"' "$TMP/spans.json" | sort >"$TMP/$role.seen"
	expect_set "$role gRPC spans (service, method, grpc_status) and the client's log" \
		"$TMP/calls.truth" "$TMP/$role.seen"
done
expect_eq "failed calls' grpc_message" "unknown service" \
	"$(jq -r 'select(.role == "client" and .grpc_status == 5) | .grpc_message' "$TMP/spans.json" | sort -u)"
expect_eq "streaming calls the client reset (RST_STREAM), status 200 and no grpc_status" 10 \
	"$(count_spans "$TMP/spans.json" 'select(.grpc_method == "Watch" and .status == 200 and .grpc_status == null)')"
# tshark: the same streams, with the same grpc-status
python3 tests/fixtures/h2truth.py "$TMP/grpc.pcap" "$port" |
	awk -F'\t' '{print $4, $8}' | sort >"$TMP/tshark.truth"
jq -r 'select(.role == "server") | "\(.target) \(.grpc_status // "-")"' "$TMP/spans.json" | sort >"$TMP/tshark.seen"
expect_set "server spans and tshark's streams (path, grpc-status)" "$TMP/tshark.truth" "$TMP/tshark.seen"
# the text line and --stats say what gRPC says
"$EHTTP" replay "$TMP/grpc.pcapng" | grep -q ' /grpc.health.v1.Health/Check 200 grpc=5 ' ||
	fail "no text line with grpc=5: $("$EHTTP" replay "$TMP/grpc.pcapng" | head -3)"
echo "ok: the text line shows grpc=STATUS"
"$EHTTP" -j replay --stats "$TMP/grpc.pcapng" >"$TMP/stats.json" || fail "replay --stats"
expect_eq "--stats rows of the calls (method gRPC, count, errors)" \
	"gRPC /grpc.health.v1.Health/Check 20 10;gRPC /grpc.health.v1.Health/Watch 10 10;" \
	"$(jq -r '.routes[] | "\(.method) \(.route) \(.count) \(.errors)"' "$TMP/stats.json" | sort | tr '\n' ';')"

# ---- a connection open before the capture ----------------------------------------------------
# The client keeps one connection for 60 rounds, 100 ms apart; the capture starts in
# the middle. Its HPACK tables hold entries from before: paths that refer to them are
# unknown (the span says hpack_unseen), never another call's path.
"$TMP/grpcpeer" client "127.0.0.1:$port" 60 "$TMP/mid.log" 100 &
cli=$!
on_exit "kill $cli 2>/dev/null"
sleep 2
attach_start "$TMP/mid.json" --port "$port"
sleep 3
attach_stop "$TMP/mid.json"
wait $cli || fail "the long-running client"
out=$TMP/mid.json
n=$(count_spans "$out" 'select(.version == "HTTP/2")')
[ "$n" -ge 10 ] || fail "only $n spans from the connection picked up mid-way"
echo "ok: $n spans from the connection picked up mid-way"
expect_eq "spans not flagged midstream" 0 "$(count_spans "$out" 'select((.flags // []) | index("midstream") | not)')"
expect_eq "spans with a path that is not one of the calls'" 0 \
	"$(count_spans "$out" 'select(.target != "" and .target != "/grpc.health.v1.Health/Check" and .target != "/grpc.health.v1.Health/Watch")')"
unseen=$(count_spans "$out" 'select(.target == "")')
flagged=$(count_spans "$out" 'select(.target == "" and ((.flags // []) | index("hpack_unseen")))')
expect_eq "spans whose path is unknown that say hpack_unseen" "$unseen" "$flagged"
echo "ok: $unseen spans with an unknown path, all flagged; none with a wrong one"
expect_eq "gRPC statuses other than the calls' (0, 5, none)" 0 \
	"$(count_spans "$out" 'select(.grpc_status != null and .grpc_status != 0 and .grpc_status != 5)')"
