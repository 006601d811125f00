# The HTTP/1.x parser on real wire bytes, without BPF: a recording relay sits between
# real clients (curl, a pipelining script) and real servers (nginx with keep-alive,
# sendfile, gzip chunking; python3 http.server with HTTP/1.0), then the recording is
# replayed through the parser with every byte captured, and again with only the first
# 512 bytes of each chunk captured (as a snap length would). Ground truth: nginx's
# access log (method, target, status, request and response sizes on the wire) and
# python's request log (method, target, status).
. tests/integration/lib.sh
command -v nginx >/dev/null || skip "nginx is not installed"
command -v curl >/dev/null || skip "curl is not installed"

replay=$TMP/httpconn_replay
cc -std=gnu11 -O1 -g -D_GNU_SOURCE -Ilib -o "$replay" tests/fixtures/httpconn_replay.c build/libehttp.a \
	$(pkg-config --libs jansson libnghttp2 2>/dev/null || echo -ljansson -lnghttp2) || fail "building the replay driver"

# relay LISTEN UPSTREAM LOG: start a recording relay; its pid in $rpid
relay() {
	python3 tests/fixtures/wire_relay.py "$1" "$2" "$3" </dev/null >/dev/null &
	rpid=$!
	on_exit "kill $rpid 2>/dev/null; wait $rpid 2>/dev/null"
	wait_port "$1"
}

# ---- nginx ----------------------------------------------------------------------------
port=$(free_port)
ng=$TMP/nginx
mkdir -p "$ng/www" "$ng/logs" "$ng/tmp"
echo "<html>hello</html>" >"$ng/www/index.html"
head -c 1048576 /dev/urandom >"$ng/www/big.bin"
seq 1 20000 >"$ng/www/numbers.txt"
head -c 40000 /dev/urandom >"$TMP/post.bin"
cat >"$ng/nginx.conf" <<CONF
user root;
daemon off;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log;
events { worker_connections 256; }
http {
    log_format truth '\$request_method \$request_uri \$status \$request_length \$bytes_sent';
    access_log $ng/logs/access.log truth;
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    sendfile on;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 1;
    keepalive_requests 1000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $ng/www;
        # PUT is stored (the body is read, so \$request_length counts it)
        location /upload/ { dav_methods PUT; create_full_put_path on; client_max_body_size 1m; }
        location = /fail { return 503; }
        location = /early { return 204; }
    }
}
CONF
nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" &
ngpid=$!
on_exit "kill $ngpid 2>/dev/null; wait $ngpid 2>/dev/null"
wait_port "$port"

rport=$(free_port)
relay "$rport" "$port" "$TMP/nginx.wire"
base=http://127.0.0.1:$rport
# keep-alive: several URLs on one connection, a 1 MB file by sendfile, a gzip-chunked
# text, 404 and 503, a query string
curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
	"$base/" "$base/big.bin" "$base/missing" "$base/fail" "$base/index.html?q=1&r=two" "$base/early" \
	|| fail "curl keep-alive"
curl -sS --compressed -o /dev/null "$base/numbers.txt" || fail "curl gzip"
curl -sS -I -o /dev/null "$base/index.html" || fail "curl HEAD"
curl -sS -o /dev/null -H "Expect:" -T "$TMP/post.bin" "$base/upload/a.bin" || fail "curl PUT"
curl -sS -o /dev/null -H "Expect:" -H "Transfer-Encoding: chunked" -T "$TMP/post.bin" "$base/upload/b.bin" \
	|| fail "curl chunked PUT"
curl -sS -o /dev/null -H "Expect: 100-continue" -T "$TMP/post.bin" "$base/upload/c.bin" \
	|| fail "curl PUT with 100-continue"
# concurrent keep-alive connections
mkdir -p "$TMP/par"
curl -sS --no-progress-meter -Z --parallel-max 4 "$base/index.html?n=[1-100]" -o "$TMP/par/#1" || fail "curl parallel"
sleep 0.5
kill "$rpid"; wait "$rpid" 2>/dev/null
# pipelined requests in one write, recorded apart: the relay reads what nginx wrote
# for several responses in one chunk, which a snap length per chunk would cut unlike
# the kernel's per-syscall one
rport=$(free_port)
relay "$rport" "$port" "$TMP/pipe.wire"
python3 - "$rport" <<'PY' || fail "pipelining client"
import socket, sys
port = int(sys.argv[1])
reqs = [("GET", "/index.html?p=1"), ("HEAD", "/index.html?p=2"), ("GET", "/missing?p=3"),
        ("GET", "/numbers.txt?p=4")]
wire = b"".join(f"{m} {t} HTTP/1.1\r\nHost: x\r\n{'Connection: close' if i == len(reqs) - 1 else 'X-N: 1'}\r\n\r\n".encode()
                for i, (m, t) in enumerate(reqs))
s = socket.create_connection(("127.0.0.1", port))
s.sendall(wire)
while s.recv(65536):
    pass
PY
sleep 0.5
kill "$rpid"; wait "$rpid" 2>/dev/null

# compare SPANS LOG: the multiset of "method target status req_bytes resp_bytes"
compare() {
	python3 - "$1" "$2" <<'PY'
import collections, json, sys
spans, truth = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    s = json.loads(line)
    spans[(s["method"], s["target"], str(s["status"]), str(s["req_bytes"]), str(s["resp_bytes"]))] += 1
for line in open(sys.argv[2]):
    m, t, st, rl, bs = line.split()
    truth[(m, t, st, rl, bs)] += 1
ok = spans == truth
for k in sorted((spans - truth).keys()):
    print("extra span:", k, spans[k] - truth[k])
for k in sorted((truth - spans).keys()):
    print("missing span:", k, truth[k] - spans[k])
print("spans", sum(spans.values()), "log lines", sum(truth.values()))
sys.exit(0 if ok else 1)
PY
}

lines=$(wc -l <"$ng/logs/access.log")
[ "$lines" -ge 112 ] || fail "nginx logged $lines requests, expected at least 112"
"$replay" 0 <"$TMP/nginx.wire" >"$TMP/nginx.full.json" || fail "replay"
"$replay" 0 <"$TMP/pipe.wire" >>"$TMP/nginx.full.json" || fail "replay"
compare "$TMP/nginx.full.json" "$ng/logs/access.log" || fail "nginx spans, every byte captured"
echo "ok: nginx spans match the access log, every byte captured"
"$replay" 512 <"$TMP/nginx.wire" >"$TMP/nginx.snap.json" || fail "replay"
grep -v '?p=' "$ng/logs/access.log" >"$TMP/access.nopipe.log"
compare "$TMP/nginx.snap.json" "$TMP/access.nopipe.log" || fail "nginx spans, 512-byte snap length"
echo "ok: nginx spans match the access log with a 512-byte snap length"

# ---- python3 http.server (HTTP/1.0, one request per connection) -----------------------
pport=$(free_port)
mkdir -p "$TMP/pyroot"
echo hi >"$TMP/pyroot/a.txt"
(cd "$TMP/pyroot" && exec python3 -m http.server --bind 127.0.0.1 "$pport") 2>"$TMP/py.log" &
pypid=$!
on_exit "kill $pypid 2>/dev/null; wait $pypid 2>/dev/null"
wait_port "$pport"
rport=$(free_port)
relay "$rport" "$pport" "$TMP/py.wire"
curl -sS -o /dev/null -o /dev/null -o /dev/null "http://127.0.0.1:$rport/a.txt" \
	"http://127.0.0.1:$rport/nope" "http://127.0.0.1:$rport/" || fail "curl python"
curl -sS -I -o /dev/null "http://127.0.0.1:$rport/a.txt" || fail "curl HEAD python"
sleep 0.5
kill "$rpid"; wait "$rpid" 2>/dev/null
"$replay" 0 <"$TMP/py.wire" | python3 -c '
import json, sys
for line in sys.stdin:
    s = json.loads(line)
    print(s["method"], s["target"], s["status"], s.get("flags", []))' | sort >"$TMP/py.spans"
# '127.0.0.1 - - [date] "GET /a.txt HTTP/1.1" 200 -' (the wait-port probe logs nothing)
sed -n 's/.*"\([A-Z]*\) \([^ ]*\) HTTP\/1\.[01]" \([0-9]*\) .*/\1 \2 \3 []/p' "$TMP/py.log" | sort >"$TMP/py.truth"
[ -s "$TMP/py.truth" ] || fail "python logged nothing"
diff "$TMP/py.truth" "$TMP/py.spans" || fail "python spans differ from its log"
echo "ok: python http.server spans match its log ($(wc -l <"$TMP/py.truth") requests)"

# ---- a Go net/http server (chunked bodies flushed in pieces, trailers) -----------------
if command -v go >/dev/null; then
	go_build chunky "$TMP/chunky"
	gport=$(free_port)
	"$TMP/chunky" "$gport" >"$TMP/go.log" &
	gopid=$!
	on_exit "kill $gopid 2>/dev/null; wait $gopid 2>/dev/null"
	wait_port "$gport"
	rport=$(free_port)
	relay "$rport" "$gport" "$TMP/go.wire"
	g=http://127.0.0.1:$rport
	curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$g/chunked" "$g/trailer" "$g/small" "$g/teapot" "$g/nothing" "$g/chunked?again=1" || fail "curl go"
	curl -sS -I -o /dev/null "$g/chunked" || fail "curl HEAD go"
	sleep 0.5
	kill "$rpid"; wait "$rpid" 2>/dev/null
	# with every byte: no flags; with a snap length, chunk framing past it is lost
	# (body_unseen) but each response still ends where the next one starts
	for snap in 0 512; do
		"$replay" "$snap" <"$TMP/go.wire" | python3 -c '
import json, sys
for line in sys.stdin:
    s = json.loads(line)
    flags = [f for f in s.get("flags", []) if sys.argv[1] == "0" or f != "body_unseen"]
    print(s["method"], s["target"], s["status"], flags)' "$snap" | sort >"$TMP/go.spans"
		sed 's/$/ []/' "$TMP/go.log" | sort >"$TMP/go.truth"
		diff "$TMP/go.truth" "$TMP/go.spans" || fail "Go spans differ from its log (snap $snap)"
	done
	echo "ok: Go net/http spans match its log ($(wc -l <"$TMP/go.truth") requests)"
else
	echo "Go is not installed: the Go server part is skipped"
fi
