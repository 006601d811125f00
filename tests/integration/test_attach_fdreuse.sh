# An fd that stops naming a connection without close(2): replaced by dup2, or closed
# by exec (close-on-exec) and then reused for a file. Bytes read from or written to
# the file must not be taken for the connection's. Ground truth: the requests the
# client made, and nginx's access log.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh

mkdir -p "$TMP/nginx/www"
for page in before before-exec after; do echo "$page" >"$TMP/nginx/www/$page"; done
nginx_start 1
cat >"$TMP/client.py" <<'PY'
import os, socket, sys

port, tmp, stage = int(sys.argv[1]), sys.argv[2], sys.argv[3]
RESPONSE = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"

def get(path):
    """One request on a new connection; returns the socket, left open."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    f = s.makefile("rb")
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
    return s

def fake_exchange(fd, name):
    """Through @fd, now a file: write a request, read a response. Taken for the
    connection @fd once was, these would make a client span GET /name 201."""
    os.lseek(fd, 0, os.SEEK_END)
    os.write(fd, f"GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    os.lseek(fd, 0, os.SEEK_SET)
    os.read(fd, len(RESPONSE))

def response_file(name):
    f = os.open(f"{tmp}/{name}", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(f, RESPONSE)
    return f

if stage == "1":
    s = get("/before")
    f = response_file("dup2-file")
    os.dup2(f, s.fileno())  # the socket's fd now names the file
    os.close(f)
    fake_exchange(s.fileno(), "dup2-file")
    s2 = get("/before-exec")
    open(f"{tmp}/fd", "w").write(str(s2.fileno()))
    # exec closes s2 (close-on-exec) without close(2); the new image reuses its number.
    os.execv(sys.executable, [sys.executable, sys.argv[0], sys.argv[1], tmp, "2"])
else:
    f = response_file("exec-file")
    if f != int(open(f"{tmp}/fd").read()):
        sys.exit(f"fd {f} is not the number the socket had: cannot test exec")
    fake_exchange(f, "exec-file")
    get("/after")
PY

out=$TMP/spans.json
attach_start "$out" --port "$NGINX_PORT"
python3 "$TMP/client.py" "$NGINX_PORT" "$TMP" 1 || fail "client failed"
sleep 0.3
attach_stop "$out"

awk '{print $2, $3, $4}' "$TMP/nginx/logs/access.log" >"$TMP/truth"
spans "$out" server >"$TMP/server.seen"
expect_set "server spans vs nginx's log" "$TMP/truth" "$TMP/server.seen"
spans "$out" client >"$TMP/client.seen"
expect_set "client spans vs the requests made (no file bytes)" "$TMP/truth" "$TMP/client.seen"
expect_eq "spans with file targets" 0 "$(grep -c 'file' "$TMP/server.seen" "$TMP/client.seen" | awk -F: '{s += $2} END {print s}')"
