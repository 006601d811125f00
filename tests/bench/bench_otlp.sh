# OTLP export speed. (1) replay --otlp of a SPANS-span file (tests/fixtures/spangen.c)
# to the local test receiver (tests/fixtures/otlp/receiver.js, which decodes every
# request): spans/s and ehttp's peak RSS, in protobuf and in OTLP/JSON; the receiver's
# count must equal SPANS. (2) live: wrk → nginx (one worker) with `ehttp -j attach -p
# WORKER > file` against the same with --otlp to the receiver, and with --otlp to a dead
# port: requests/s of each against untraced runs, and the spans exported or dropped.
# The receiver is Node.js, and decoding is its work: on a small machine it is the
# bottleneck, so the same replay also goes to a receiver that reads and discards the
# bodies (Python), which shows ehttp's own ceiling.
#   SPANS=1000000 DURATION=10 ROUNDS=3 tests/bench/bench_otlp.sh
set -u
. tests/integration/lib.sh
. tests/integration/nginx_lib.sh
. tests/integration/otlp_lib.sh
SPANS=${SPANS:-1000000}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
DIR=build/bench
mkdir -p "$DIR"

. tests/bench/bench_lib.sh

f=$DIR/otlp-$SPANS.pcapng
[ -s "$f" ] || { spangen "$f" "$SPANS" && cp "$f" "$f.tmp" && mv "$f.tmp" "$f"; }
for fmt in protobuf json; do
	RECV_COUNT_ONLY=1 receiver_start "bench-$fmt"
	read -r secs rss rc < <(measure "$EHTTP" replay --otlp "http://127.0.0.1:$RECV_PORT" --otlp-format "$fmt" "$f")
	got=$(jq -s 'map(.spans // 0) | add' "$TMP/bench-$fmt.requests")
	kill "$RECV_PID"
	awk -v n="$SPANS" -v s="$secs" -v r="$rss" -v fmt="$fmt" -v got="$got" -v rc="$rc" 'BEGIN {
		printf "   replay --otlp (%s, gzip) of %d spans: %.2f s = %.0f k spans/s, peak RSS %.1f MB, received %d%s\n",
			fmt, n, s, n / s / 1e3, r / 1024, got, rc ? " (replay failed)" : "" }'
done

# a receiver that reads each body and answers 200: what ehttp alone can send
dport=$(free_port)
python3 - "$dport" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
discard=$!
on_exit "kill $discard 2>/dev/null"
wait_port "$dport"
read -r secs rss rc < <(measure "$EHTTP" replay --otlp "http://127.0.0.1:$dport" "$f")
awk -v n="$SPANS" -v s="$secs" -v r="$rss" -v rc="$rc" 'BEGIN {
	printf "   replay --otlp (protobuf, gzip) of %d spans to a discarding receiver: %.2f s = %.0f k spans/s, peak RSS %.1f MB%s\n",
		n, s, n / s / 1e3, r / 1024, rc ? " (replay failed)" : "" }'
kill "$discard"

# live: wrk → nginx, untraced / attach > file / attach --otlp / attach --otlp to a dead port
for tool in wrk nginx; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done
mkdir -p "$TMP/nginx/www"
head -c 1200 /dev/urandom >"$TMP/nginx/www/page.bin"
NGINX_NO_LOG=1 nginx_start 1
nginx_worker
worker=$NGINX_WORKER
url=http://127.0.0.1:$NGINX_PORT/page.bin
wrk -t1 -c4 -d1s "$url" >/dev/null
RECV_COUNT_ONLY=1 receiver_start live
dead=$(free_port)

rps() { wrk -t1 -c32 -d"${DURATION}s" "$url" | awk '/^Requests\/sec/ { print $2 }'; }
traced() { # rps of a run with ehttp attach ARGS...
	local out=$TMP/attach.out r
	"$EHTTP" -j attach -p "$worker" "$@" >"$out" 2>"$out.err" &
	local pid=$!
	for _ in $(seq 1 300); do grep -qs '^Attached' "$out.err" && break; sleep 0.1; done
	r=$(rps)
	kill -INT "$pid"
	wait "$pid"
	echo "$r $(grep '^OTLP:' "$out.err" | sed -E 's/^OTLP: ([0-9]+) spans exported.* ([0-9]+) spans? dropped.*/\1 \2/')"
}
for round in $(seq 1 "$ROUNDS"); do
	base=$(rps)
	read -r file _ < <(traced)
	read -r otlp oexp odrop < <(traced --otlp "http://127.0.0.1:$RECV_PORT")
	read -r deadr dexp ddrop < <(traced --otlp "http://127.0.0.1:$dead" --otlp-timeout 1)
	awk -v b="$base" -v f="$file" -v o="$otlp" -v d="$deadr" -v oe="$oexp" -v od="$odrop" -v dd="$ddrop" -v r="$round" 'BEGIN {
		printf "   round %d: untraced %.0f req/s; attach>file %.3f, +otlp %.3f (%d exported, %d dropped), +otlp dead %.3f (%d dropped); ratio to untraced\n",
			r, b, f / b, o / b, oe, od, d / b, dd }'
done
echo "   (delete $DIR/otlp-*.pcapng to regenerate)"
