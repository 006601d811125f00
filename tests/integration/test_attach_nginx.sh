# ehttp attach against nginx (headers with writev, files with sendfile) and curl:
# keep-alive, a 1 MB file, 404, 5xx, HEAD, a POST of 40 KB, a PUT nginx stores, a
# query string, IPv6 loopback, concurrent connections and pipelined requests. Ground
# truth: nginx's own access log (method, target, status, bytes, connection number) for
# server spans, and what curl and the pipelining client report for client spans.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh

ng=$TMP/nginx
mkdir -p "$ng/www"
echo "<html>hello</html>" >"$ng/www/index.html"
echo "over IPv6" >"$ng/www/v6.html"
head -c 1048576 /dev/urandom >"$ng/www/big.bin"
head -c 40000 /dev/urandom >"$TMP/post.bin"
nginx_start 2
port=$NGINX_PORT

out=$TMP/spans.json
attach_start "$out" --port "$port"

base=http://127.0.0.1:$port
: >"$TMP/client.truth"
# One keep-alive connection, several URLs.
curl_truth "$base/" "$base/index.html" "$base/big.bin" "$base/missing" "$base/fail" \
	"$base/index.html?q=1&r=two" >>"$TMP/client.truth"
curl_truth -I -- "$base/index.html" >>"$TMP/client.truth"
curl_truth --data-binary "@$TMP/post.bin" -H "Content-Type: application/octet-stream" -- "$base/post" >>"$TMP/client.truth"
curl_truth -T "$TMP/post.bin" -- "$base/upload/put.bin" >>"$TMP/client.truth"
curl_truth -g -- "http://[::1]:$port/v6.html" >>"$TMP/client.truth"
# Concurrent connections.
pids=()
for i in 1 2 3 4 5 6; do
	curl_truth "$base/index.html?c=$i" "$base/missing?c=$i" >"$TMP/client.$i" &
	pids+=($!)
done
wait "${pids[@]}"
cat "$TMP"/client.[1-6] >>"$TMP/client.truth"
# Pipelined: three requests in one write.
python3 tests/fixtures/pipeline.py 127.0.0.1 "$port" GET:/index.html GET:/missing GET:/index.html?p=3 \
	>"$TMP/pipeline.truth" || fail "pipelining client"

# A body sent with sendfile costs no event of its own: its bytes come with the
# connection's next event, or from the kernel's map when none comes. This client keeps
# its connection open after the response: the span must still appear, whole.
head -c 30000 /dev/urandom >"$ng/www/held.bin"
echo "GET /held.bin?idle=1 200" >>"$TMP/client.truth"
python3 - 127.0.0.1 "$port" "$out" <<'PY' || fail "the span of a response on an idle connection did not appear"
import socket, sys, time
host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port))
s.sendall(b"GET /held.bin?idle=1 HTTP/1.1\r\nHost: held\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(65536)
head, body = buf.split(b"\r\n\r\n", 1)
length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
while len(body) < length:
    body += s.recv(65536)
for _ in range(50):  # the connection stays open meanwhile
    if any(b'"role":"server"' in l and b'"target":"/held.bin?idle=1"' in l for l in open(out, "rb")):
        break
    time.sleep(0.1)
else:
    sys.exit(1)
s.close()
PY

# A client that sends its request and closes at once: nginx's answer meets a reset,
# which on loopback ends the connection inside nginx's own send. The span still has
# what nginx sent, as its log says; the client's has no response.
head -c 200000 /dev/urandom >"$ng/www/reset.bin"
echo "GET /reset.bin?early=1 0" >>"$TMP/client.truth"
python3 - 127.0.0.1 "$port" <<'PY' || fail "the early-closing client"
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /reset.bin?early=1 HTTP/1.1\r\nHost: early\r\n\r\n")
s.close()
PY

sleep 0.5 # nginx writes its access log after the response
attach_stop "$out"

awk '{print $2, $3, $4}' "$ng/logs/access.log" >"$TMP/server.truth"
spans "$out" server >"$TMP/server.seen"
expect_set "server spans (method target status) vs nginx's access log" "$TMP/server.truth" "$TMP/server.seen"

# Sizes: nginx's \$request_length and \$bytes_sent are what went over the wire.
# A body nginx discards unread (the POST to a "return" location) is not in its
# \$request_length, though it crossed the wire: add it back from the file's size.
awk -v body="$(stat -c %s "$TMP/post.bin")" '{ print $3, $5 + ($3 == "/post" ? body : 0), $6 }' \
	"$ng/logs/access.log" >"$TMP/sizes.truth"
jq -r 'select(.role == "server") | "\(.target) \(.req_bytes) \(.resp_bytes)"' "$out" >"$TMP/sizes.seen"
expect_set "server span sizes (target req_bytes resp_bytes) vs nginx" "$TMP/sizes.truth" "$TMP/sizes.seen"

# Keep-alive and pipelining: as many connections as nginx counted.
expect_eq "server connections" "$(awk '{print $1}' "$ng/logs/access.log" | sort -u | wc -l)" \
	"$(jq -r 'select(.role == "server") | .conn_id' "$out" | sort -u | wc -l)"

# Client spans: curl's and the pipelining client's own view.
grep -v '^$' "$TMP/pipeline.truth" >>"$TMP/client.truth"
spans "$out" client >"$TMP/client.seen"
expect_set "client spans vs curl and the pipelining client" "$TMP/client.truth" "$TMP/client.seen"

# Every span says where it came from and how the connection looked.
expect_eq "server spans from nginx" "$(wc -l <"$TMP/server.truth")" \
	"$(jq -r 'select(.role == "server" and .comm == "nginx" and .source == "syscall") | .span_id' "$out" | wc -l)"
expect_eq "IPv6 server span local address" "[::1]:$port" \
	"$(jq -r 'select(.role == "server" and .target == "/v6.html") | .local' "$out")"
expect_eq "1 MB response counted though sent with sendfile" 1 \
	"$(jq -r 'select(.role == "server" and .target == "/big.bin" and .resp_bytes > 1048576) | .target' "$out" | wc -l)"
expect_eq "HTTP version" "HTTP/1.1" "$(jq -r 'select(.role == "server") | .version' "$out" | sort -u)"
echo "nginx spans match"
