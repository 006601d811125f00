# Connections ehttp did not see open, and connections that are not HTTP.
# 1. A keep-alive connection to nginx opened before attach starts: the requests sent
#    after it are picked up (flagged midstream, roles inferred); nginx's access log is
#    the ground truth. 2. A TCP echo exchange of TLS-looking records: no spans, and the
#    kernel stops sending events after each side's first message.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh

mkdir -p "$TMP/nginx/www"
for i in 1 2 3 4; do echo "page $i" >"$TMP/nginx/www/m$i"; done
nginx_start 1

# A client that sends one request, waits for the go-ahead file, then three more.
cat >"$TMP/client.py" <<'PY'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
def get(path):
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line == b"\r\n":
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
    print("GET", path, status, flush=True)
get("/m1")
while not os.path.exists(go):
    time.sleep(0.05)
for p in ("/m2", "/m3", "/m4"):
    get(p)
PY
python3 "$TMP/client.py" "$NGINX_PORT" "$TMP/go" >"$TMP/client.out" &
client=$!
on_exit "kill $client 2>/dev/null"
for _ in $(seq 1 100); do grep -q m1 "$TMP/client.out" && break; sleep 0.1; done

out=$TMP/spans.json
attach_start "$out" --port "$NGINX_PORT"
touch "$TMP/go"
wait "$client" || fail "client failed"
sleep 0.3
attach_stop "$out"

tail -n 3 "$TMP/nginx/logs/access.log" | awk '{print $2, $3, $4}' >"$TMP/server.truth"
spans "$out" server >"$TMP/server.seen"
expect_set "server spans after attach vs nginx's log" "$TMP/server.truth" "$TMP/server.seen"
tail -n 3 "$TMP/client.out" >"$TMP/client.truth"
spans "$out" client >"$TMP/client.seen"
expect_set "client spans after attach vs the client's own log" "$TMP/client.truth" "$TMP/client.seen"
expect_eq "every span flagged midstream" 6 "$(jq 'select(.flags // [] | index("midstream"))' "$out" | jq -s length)"

# Not HTTP: 40 round trips of TLS-looking records through an echo server.
cat >"$TMP/echo.py" <<'PY'
import socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen()
print(ls.getsockname()[1], flush=True)
c, _ = ls.accept()
while True:
    b = c.recv(4096)
    if not b:
        break
    c.sendall(b)
PY
python3 "$TMP/echo.py" >"$TMP/echo.port" &
echo_pid=$!
on_exit "kill $echo_pid 2>/dev/null"
for _ in $(seq 1 50); do [ -s "$TMP/echo.port" ] && break; sleep 0.1; done
eport=$(cat "$TMP/echo.port")
attach_start "$TMP/tls.json" --port "$eport"
python3 - "$eport" <<'PY' || fail "echo client"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
record = b"\x16\x03\x01\x00\x40" + bytes(range(64))
for _ in range(40):
    s.sendall(record)
    got = b""
    while len(got) < len(record):
        got += s.recv(4096)
s.close()
PY
wait "$echo_pid"
attach_stop "$TMP/tls.json"
expect_eq "spans from a non-HTTP connection" 0 "$(wc -l <"$TMP/tls.json")"
events=$(sed -nE 's/^[0-9]+ spans?, ([0-9]+) events.*/\1/p' "$TMP/tls.json.err")
echo "events for 160 syscalls moving non-HTTP bytes: $events"
# Each side's first message, each side's close, and both processes' exits.
[ "$events" -le 6 ] || fail "$events events: the kernel should stop after each side's first message"
