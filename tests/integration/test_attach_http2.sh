# ehttp attach on HTTP/2 cleartext (h2c) between real peers: a Go h2c server (prior
# knowledge and Upgrade: h2c, large DATA, trailers, a reset stream, a response header
# table that evicts) with nghttp and curl as clients, nghttpd with many concurrent
# streams on one connection, and nginx's HTTP/2. Ground truth: tshark's own HTTP/2
# dissection of the same loopback traffic (method, path, status and the bytes of each
# stream's frames, per connection and stream id), the Go server's request log, nginx's
# access log, and the header values the Go server computes.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh

for tool in nghttp nghttpd tshark go curl; do
	command -v $tool >/dev/null || fail "$tool is needed (packaging/deps.sh installs it)"
done
[ -d /usr/share/gocode/src/golang.org/x/net/http2/h2c ] ||
	fail "golang-golang-x-net-dev is needed (packaging/deps.sh installs it)"

# Debian's Go libraries are GOPATH sources: build without modules, offline.
(cd tests/fixtures/go/h2c && GO111MODULE=off GOPATH=/usr/share/gocode \
	GOCACHE=${GOCACHE:-/tmp/ehttp-gocache} go build -o "$TMP/h2c-server" .) || fail "go build h2c"

# tshark_start PORT PCAP / tshark_stop: capture the loopback traffic of PORT.
tshark_start() {
	tshark -q -i lo -f "tcp port $1" -w "$2" >"$2.err" 2>&1 &
	TSHARK_PID=$!
	on_exit "kill $TSHARK_PID 2>/dev/null"
	for i in $(seq 1 100); do
		grep -qs "Capturing on" "$2.err" && return 0
		sleep 0.1
	done
	fail "tshark did not start: $(cat "$2.err")"
}
tshark_stop() {
	sleep 0.5
	kill -INT "$TSHARK_PID"
	wait "$TSHARK_PID" 2>/dev/null
}

# compare_tshark SPANS PCAP PORT WHAT [JQ-SELECT [EXCLUDE-RE]]: every stream tshark
# decoded is one server span and one client span with the same method, path, status
# and bytes, keyed by the client's port and the stream id; spans JQ-SELECT leaves out
# are compared with the truth lines EXCLUDE-RE leaves out.
compare_tshark() {
	local spans=$1 pcap=$2 port=$3 what=$4 sel=${5:-true} exclude=${6:-^$}
	python3 tests/fixtures/h2truth.py "$pcap" "$port" >"$TMP/$what.tshark" || fail "tshark dissection"
	[ -s "$TMP/$what.tshark" ] || fail "tshark saw no HTTP/2 streams"
	awk -F'\t' '{print "server", $1, $2, $3, $4, $5, $6, $7; print "client", $1, $2, $3, $4, $5, $6, $7}' \
		"$TMP/$what.tshark" >"$TMP/$what.truth.all"
	grep -v -E "$exclude" "$TMP/$what.truth.all" >"$TMP/$what.truth"
	jq -r --argjson port "$port" "select(.version == \"HTTP/2\") | select($sel) |
		(if .role == \"server\" then .remote else .local end | split(\":\") | last) as \$cp |
		\"\(.role) \(\$cp) \(.stream_id) \(.method) \(.target) \(.status) \(.req_bytes) \(.resp_bytes)\"" \
		"$spans" >"$TMP/$what.seen"
	expect_set "$what: spans and tshark's streams (role, client port, stream, method, path, status, bytes)" \
		"$TMP/$what.truth" "$TMP/$what.seen"
}

# no_walk_losses OUT: attach said nothing of HTTP/2 syscalls whose frame walk lost its
# place or had no room for every frame (the kernel's counters)
no_walk_losses() {
	grep -q '^Warning: HTTP/2' "$1.err" && fail "the kernel's walk lost frames: $(grep '^Warning: HTTP/2' "$1.err")"
	echo "ok: the kernel's frame walk lost nothing"
}

# go_server NAME [ARGS...]: the Go h2c server, logging to $TMP/NAME.log; sets port
go_server() {
	local name=$1 i
	shift
	"$TMP/h2c-server" "$@" -log "$TMP/$name.log" >"$TMP/$name.port" &
	on_exit "kill $! 2>/dev/null"
	for i in $(seq 1 100); do [ -s "$TMP/$name.port" ] && break; sleep 0.1; done
	port=$(cat "$TMP/$name.port")
	wait_port "$port"
}

# ---- a Go h2c server ---------------------------------------------------------------------
go_server go
out=$TMP/go.json
tshark_start "$port" "$TMP/go.pcap"
attach_start "$out" --port "$port" --headers
base=http://127.0.0.1:$port
# nghttp (libnghttp2): one connection, concurrent streams with trailers, statuses and
# a reset
nghttp -n "$base/hello" "$base/trailers" "$base/status/503" "$base/status/404" "$base/reset" \
	>/dev/null 2>&1
# Go's client (it reads a frame at a time), every request at once on one connection:
# large DATA, 60 responses whose 900-byte header value fills and evicts the 4 KiB
# dynamic table, 50 more concurrent streams
paths=("/big?n=300000")
for i in $(seq 1 60); do paths+=("/fill?i=$i"); done
for i in $(seq 1 50); do paths+=("/hello?c=$i"); done
"$TMP/h2c-server" -get "$base" "${paths[@]}" >"$TMP/goclient.out" || fail "the Go client"
expect_eq "responses the Go client got" 111 "$(wc -l <"$TMP/goclient.out")"
# nghttp reads what arrives in 16 KiB reads, many frames past the snap length each:
# the kernel walks their frame headers, and every span is exact
urls=()
for i in $(seq 1 60); do urls+=("$base/fill?i=$i&big-reads=1"); done
nghttp -n "${urls[@]}" >/dev/null || fail "nghttp /fill"
curl -s --http2-prior-knowledge -o /dev/null "$base/hello?curl=1" || fail "curl prior knowledge"
# header blocks past the walk's 4 KiB a segment: ~6 KiB in one HEADERS frame, and ~22
# KiB over HEADERS and CONTINUATION (nghttp's frames are 16 KiB at most)
big6=$(head -c 9000 /dev/urandom | base64 -w0 | head -c 8000)
big22=$(head -c 40000 /dev/urandom | base64 -w0 | head -c 30000)
nghttp -n -H "x-big: $big6" "$base/hello?bighdr=6" >/dev/null || fail "nghttp, a 6 KiB header block"
nghttp -n -H "x-big: $big22" "$base/hello?bighdr=22" "$base/hello?after=22" >/dev/null ||
	fail "nghttp, a 22 KiB header block"
# Upgrade: h2c: the HTTP/1.1 request is stream 1, answered in HTTP/2
v=$(curl -s --http2 -o /dev/null -w '%{http_version}' "$base/hello?up=1")
expect_eq "curl's version after Upgrade: h2c" 2 "$v"
tshark_stop
sleep 1
attach_stop "$out"

# the server's log: every request it served, as ehttp saw the server do it
awk '{print $1, $2, $3}' "$TMP/go.log" | sort >"$TMP/go.truth"
spans "$out" server >"$TMP/go.seen"
expect_set "Go server spans and its request log" "$TMP/go.truth" "$TMP/go.seen"
expect_eq "HTTP/2 spans that are not version HTTP/2" 0 "$(count_spans "$out" 'select(.stream_id and .version != "HTTP/2")')"
# every stream as tshark decoded it, bytes included; the upgraded request was HTTP/1.1
# on the wire (tshark's HTTP/2 dissector does not count it as frames of stream 1)
# Go's client reads through a 4 KiB buffer, so its reads start inside frames; nghttp's
# 16 KiB reads hold many frames: every span is exact, and the kernel never lost its
# place in the frames
compare_tshark "$out" "$TMP/go.pcap" "$port" go '.target != "/hello?up=1"' "/hello\\?up=1 "
no_walk_losses "$out"
# the big header blocks were decoded whole: only the span's copy of them is cut (at the
# snap length, as --snaplen says)
expect_eq "spans of big header blocks: flags" \
	"client /hello?after=22 truncated;client /hello?bighdr=22 truncated;client /hello?bighdr=6 truncated;server /hello?after=22 truncated;server /hello?bighdr=22 truncated;server /hello?bighdr=6 truncated;" \
	"$(jq -r 'select(.target | test("bighdr|after=22")) | "\(.role) \(.target) \(.flags // [] | join(","))"' "$out" | sort | tr '\n' ';')"
up=$(jq -r 'select(.target == "/hello?up=1") | "\(.role) \(.version) \(.status) \(.stream_id)"' "$out" | sort | tr '\n' ';')
expect_eq "the upgraded request: a server and a client span, HTTP/2 stream 1" \
	"client HTTP/2 200 1;server HTTP/2 200 1;" "$up"
expect_eq "the large response's bytes (300000 of DATA, framed)" 1 \
	"$(count_spans "$out" 'select(.role == "server" and .target == "/big?n=300000" and .resp_bytes > 300000 and (.flags // [] | index("partial") | not))')"
tr=$(jq -r 'select(.role == "server" and .target == "/trailers") | .resp_headers' "$out")
grep -q '^x-checksum: abc123' <<<"$tr" || fail "the trailer is not in the response header block: $tr"
echo "ok: the trailer is in the response header block"
expect_eq "the reset stream: partial, no status" "GET /reset 0 partial" \
	"$(jq -r 'select(.role == "server" and .target == "/reset") | "\(.method) \(.target) \(.status) \(.flags | join(","))"' "$out")"
# the evicting table: each response's header value is the one the server computed
python3 - "$out" <<'PY' || fail "a header value decoded from the dynamic table is wrong"
import json, re, sys
whole = 0
for line in open(sys.argv[1]):
    s = json.loads(line)
    m = re.match(r"/fill\?i=(\d+)(&big-reads=1)?$", s["target"])
    if not m:
        continue
    want = "x-fill: " + ("%04d-" % int(m.group(1))) * 180
    fills = [l for l in s.get("resp_headers", "").split("\r\n") if l.startswith("x-fill:")]
    flags = s.get("flags", [])
    if fills != [want] or flags:
        sys.exit(f"{s['role']} span of {s['target']}: {fills} {flags}")
    whole += 1
if whole != 240:
    sys.exit(f"{whole} whole /fill spans, not 240")
print(f"ok: {whole} /fill spans carry the values the server computed, through evictions")
PY

# ---- syscalls that start and end anywhere in a frame -------------------------------------
# The Go server and client read and write at most ~3000 bytes a syscall (-chunk), past a
# snap length of 1024: frame headers split between syscalls, header blocks (900-byte
# values) cut by a syscall's end, DATA frames over many syscalls. nghttp's 16 KiB reads
# of that server, its writes of many frames, and nghttp -u (Upgrade: h2c, then more
# streams on the connection).
go_server chunk -chunk 2999
out=$TMP/chunk.json
tshark_start "$port" "$TMP/chunk.pcap"
attach_start "$out" --port "$port" --snaplen 1024
base=http://127.0.0.1:$port
paths=("/big?n=200000")
for i in $(seq 1 40); do paths+=("/fill?i=$i&chunk=1"); done
for i in $(seq 1 30); do paths+=("/hello?chunk=$i"); done
"$TMP/h2c-server" -chunk 3001 -get "$base" "${paths[@]}" >"$TMP/chunkclient.out" || fail "the Go client"
expect_eq "responses the chunked Go client got" 71 "$(wc -l <"$TMP/chunkclient.out")"
urls=()
for i in $(seq 1 40); do urls+=("$base/fill?i=$i&nghttp=1"); done
nghttp -n "${urls[@]}" "$base/big?n=100000" >/dev/null || fail "nghttp to the chunked server"
# nghttp writes every request's HEADERS at once: 150 of them, more than 64 frames a write
urls=()
for i in $(seq 1 150); do urls+=("$base/hello?many=$i"); done
nghttp -n "${urls[@]}" >/dev/null || fail "nghttp, 150 streams"
urls=()
for i in $(seq 1 20); do urls+=("$base/hello?u=$i"); done
nghttp -nu "$base/hello?upgrade=1" "${urls[@]}" "$base/trailers?u=1" >/dev/null || fail "nghttp -u"
tshark_stop
sleep 1
attach_stop "$out"
awk '{print $1, $2, $3}' "$TMP/chunk.log" | sort >"$TMP/chunk.truth"
spans "$out" server >"$TMP/chunk.seen"
expect_set "chunked Go server spans and its request log" "$TMP/chunk.truth" "$TMP/chunk.seen"
compare_tshark "$out" "$TMP/chunk.pcap" "$port" chunk '.target != "/hello?upgrade=1"' "/hello\\?upgrade=1 "
expect_eq "nghttp -u's upgraded request: a server and a client span, HTTP/2 stream 1" \
	"client HTTP/2 200 1;server HTTP/2 200 1;" \
	"$(jq -r 'select(.target == "/hello?upgrade=1") | "\(.role) \(.version) \(.status) \(.stream_id)"' "$out" | sort | tr '\n' ';')"
expect_eq "spans with flags through split syscalls" 0 "$(count_spans "$out" 'select(.flags)')"
no_walk_losses "$out"

# ---- nghttpd -----------------------------------------------------------------------------
port=$(free_port)
mkdir -p "$TMP/www"
for i in $(seq 1 20); do echo "file $i" >"$TMP/www/f$i.txt"; done
head -c 300000 /dev/urandom >"$TMP/www/big.bin" # nghttpd writes up to 48 KiB of frames at once
nghttpd --no-tls -d "$TMP/www" "$port" >"$TMP/nghttpd.log" 2>&1 &
ngpid=$!
on_exit "kill $ngpid 2>/dev/null"
wait_port "$port"
out=$TMP/nghttpd.json
tshark_start "$port" "$TMP/nghttpd.pcap"
attach_start "$out" --port "$port" --headers
base=http://127.0.0.1:$port
urls=()
for i in $(seq 1 20); do urls+=("$base/f$i.txt"); done
nghttp -n "${urls[@]}" "$base/missing" "$base/big.bin" "$base/big.bin?again=1" >/dev/null || fail "nghttp"
# (this curl fails a second request on a prior-knowledge connection: one each)
for u in "$base/f1.txt" "$base/f2.txt?x=1" "$base/nothing"; do
	curl -s --http2-prior-knowledge -o /dev/null "$u" || fail "curl prior knowledge $u"
done
curl -s --http2-prior-knowledge -H "Authorization: Bearer s3cret" -H "Cookie: a=b" \
	-H "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" \
	-o /dev/null "$base/f3.txt?auth=1" || fail "curl with credentials"
tshark_stop
sleep 1
attach_stop "$out"
compare_tshark "$out" "$TMP/nghttpd.pcap" "$port" nghttpd
no_walk_losses "$out"
auth=$(jq -r 'select(.role == "server" and .target == "/f3.txt?auth=1") | .req_headers' "$out")
grep -q '^authorization: \[redacted\]' <<<"$auth" && grep -q '^cookie: \[redacted\]' <<<"$auth" ||
	fail "credentials not redacted: $auth"
grep -q 's3cret' "$out" && fail "a credential value reached the output"
echo "ok: authorization and cookie redacted"
expect_eq "traceparent honoured" "4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7" \
	"$(jq -r 'select(.role == "server" and .target == "/f3.txt?auth=1") | "\(.trace_id) \(.parent_span_id)"' "$out")"

# ---- nginx (listen ... http2) ------------------------------------------------------------
nginx -V 2>&1 | grep -q -- --with-http_v2_module || fail "this nginx has no HTTP/2 module"
# nginx writes its frames with writev (iovecs: a frame header and its payload, many
# frames a call) and file bodies by sendfile after their DATA frame headers
mkdir -p "$TMP/nginx/www"
for i in $(seq 1 20); do head -c $((i * 997)) /dev/urandom >"$TMP/nginx/www/b$i.bin"; done
head -c 300000 /dev/urandom >"$TMP/nginx/www/big.bin"
NGINX_LISTEN=http2 nginx_start 1
port=$NGINX_PORT
out=$TMP/nginx.json
tshark_start "$port" "$TMP/nginx.pcap"
attach_start "$out" --port "$port"
base=http://127.0.0.1:$port
urls=()
for i in $(seq 1 30); do urls+=("$base/index.html?n=$i"); done
for i in $(seq 1 20); do urls+=("$base/b$i.bin"); done
nghttp -n "${urls[@]}" "$base/big.bin" "$base/missing" "$base/fail" >/dev/null
curl -s --http2-prior-knowledge -o /dev/null "$base/index.html?curl=1" || fail "curl to nginx"
tshark_stop
sleep 1
attach_stop "$out"
awk '{print $2, $3, $4}' "$TMP/nginx/logs/access.log" | sort >"$TMP/nginx.truth"
expect_eq "nginx logged HTTP/2 requests" 54 "$(wc -l <"$TMP/nginx.truth")"
spans "$out" server 'select(.version == "HTTP/2")' >"$TMP/nginx.seen"
expect_set "nginx HTTP/2 spans and its access log" "$TMP/nginx.truth" "$TMP/nginx.seen"
compare_tshark "$out" "$TMP/nginx.pcap" "$port" nginx
no_walk_losses "$out"
# --status and --path work on HTTP/2 spans (replayed from what attach printed is not
# possible: attach itself filters)
out=$TMP/nginx404.json
attach_start "$out" --port "$port" --status 404 --path /miss
nghttp -n "$base/index.html" "$base/missing?f=1" >/dev/null
sleep 1
attach_stop "$out"
expect_eq "filtered HTTP/2 spans" "client GET /missing?f=1 404;server GET /missing?f=1 404;" \
	"$(jq -r '"\(.role) \(.method) \(.target) \(.status)"' "$out" | sort | tr '\n' ';')"
