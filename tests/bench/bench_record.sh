# record under load: nginx serving a small file to wrk, recorded by port. Figures: spans
# written against wrk's request count, kernel drops, spans/s, bytes per span on disk.
#   SECS=10 CONNS=20 tests/bench/bench_record.sh
set -u
EHTTP=${EHTTP:-$PWD/build/ehttp}
SECS=${SECS:-5}
CONNS=${CONNS:-10}
for t in nginx wrk python3; do
	command -v $t >/dev/null || { echo "   skipped: $t is not installed"; exit 0; }
done
TMP=$(mktemp -d /tmp/ehttp-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/www"
head -c 512 /dev/zero | tr '\0' x >"$TMP/www/index.html"
cat >"$TMP/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $TMP/nginx.pid; error_log $TMP/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$PORT; root $TMP/www; } }
CONF
nginx -c "$TMP/nginx.conf" -p "$TMP" &
NGINX=$!
trap 'kill $NGINX 2>/dev/null; wait $NGINX 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

"$EHTTP" record -o "$TMP/load.pcapng" --port "$PORT" 2>"$TMP/rec.err" &
REC=$!
for _ in $(seq 1 300); do grep -sq '^Recording' "$TMP/rec.err" && break; sleep 0.1; done
wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$PORT/index.html" >"$TMP/wrk.out"
sleep 0.5
kill -INT $REC
wait $REC
reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
spans=$(awk '/spans? written/ {print $1}' "$TMP/rec.err")
dropped=$(awk '/dropped by the kernel/ {print $1}' "$TMP/rec.err")
lost=$(awk '/lost$/ {print $1}' "$TMP/rec.err")
size=$(stat -c %s "$TMP/load.pcapng")
awk -v r="$reqs" -v s="$spans" -v d="$dropped" -v l="$lost" -v b="$size" -v t="$SECS" 'BEGIN {
	printf "   wrk %d requests in %d s (%d conns); record wrote %d spans (%.0f/s; client and server side of each request), %d kernel drops, %d lost; %.1f MB, %.1f bytes/span\n",
		r, t, '"$CONNS"', s, s / t, d, l, b / 1e6, s ? b / s : 0 }'
