# ehttp attach copies what vectored calls move: sendmsg/recvmsg and writev/readv, with
# both kinds of hooks, on both sides of one keep-alive connection. A python server and
# client cut every message into pieces at odd places (an empty one among them), so lines
# and the head's end straddle iovecs; a second client's heads are longer than the snap
# length. Ground truth: what the client sent and saw, and the header blocks the script
# builds, byte for byte.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

cat >"$TMP/iov.py" <<'PY'
import os, socket, sys

def pieces(data, cut):
    out = [data[i:i + cut] for i in range(0, len(data), cut)]
    out.insert(1, b"")
    return out

def send_vectored(sock, data, how, cut):
    bufs = pieces(data, cut)
    n = sock.sendmsg(bufs) if how == "msg" else os.writev(sock.fileno(), bufs)
    assert n == len(data), (n, len(data))

def recv_vectored(sock, how):
    bufs = [bytearray(5), bytearray(0), bytearray(300), bytearray(4096)]
    n = sock.recvmsg_into(bufs)[0] if how == "msg" else os.readv(sock.fileno(), bufs)
    return b"".join(bytes(b) for b in bufs)[:n]

def read_message(sock, how, buf):
    while b"\r\n\r\n" not in buf:
        chunk = recv_vectored(sock, how)
        if not chunk:
            return None, buf
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        rest += recv_vectored(sock, how)
    return head, rest[length:]

# The server reads with recvmsg and readv in turn; it answers /msg with sendmsg and
# /v with writev.
def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        buf, i = b"", 0
        while True:
            head, buf = read_message(c, "msg" if i % 2 == 0 else "v", buf)
            if head is None:
                break
            target = head.split(b" ")[1]
            body = b"hello from " + target + b"\n"
            resp = (b"HTTP/1.1 200 OK\r\nX-Served-By: " + b"r" * 900 +
                    b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            send_vectored(c, resp, target.split(b"/")[1].split(b"?")[0].decode(), 333)
            i += 1
        c.close()

# "METHOD TARGET STATUS REQUEST-BYTES" per exchange, as the client made and saw it.
def client(port, pad):
    s = socket.create_connection(("127.0.0.1", port))
    buf = b""
    for i, how in enumerate(["msg", "v", "msg", "v"]):
        target = "/%s?n=%d" % (how, i)
        req = ("GET %s HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\n\r\n" % (target, "a" * pad)).encode()
        send_vectored(s, req, how, 777)
        head, buf = read_message(s, how, buf)
        print("GET %s %s %d" % (target, head.split(b" ")[1].decode(), len(req)))
    s.close()

if sys.argv[1] == "server":
    serve(int(sys.argv[2]))
else:
    client(int(sys.argv[2]), int(sys.argv[3]))
PY

port=$(free_port)
python3 "$TMP/iov.py" server "$port" &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_port "$port"

# A span as "METHOD TARGET STATUS REQ-BYTES".
exchanges() {
	jq -r --arg role "$2" "select(.role == \$role) | select($3) | \"\(.method) \(.target) \(.status) \(.req_bytes)\"" "$1" | sort
}

for hooks in syscalls $(have_socket_hooks && echo sockets); do
	out=$TMP/$hooks.json
	ATTACH_HOOKS=$hooks attach_start "$out" --headers --port "$port"
	python3 "$TMP/iov.py" client "$port" 1500 >"$TMP/short" # heads within the snap length
	python3 "$TMP/iov.py" client "$port" 5000 >"$TMP/long"  # heads beyond it (4096)
	sleep 0.3
	attach_stop "$out"
	for role in server client; do
		exchanges "$out" $role '.req_bytes < 4096' >"$TMP/seen"
		expect_set "$hooks: $role spans of heads within the snap length" "$TMP/short" "$TMP/seen"
		exchanges "$out" $role '.req_bytes > 4096' >"$TMP/seen"
		expect_set "$hooks: $role spans of heads beyond it" "$TMP/long" "$TMP/seen"
	done
	# Every byte of the header blocks, in order, across the iovecs' edges.
	expect_eq "$hooks: spans whose header blocks differ from what was sent" 0 "$(count_spans "$out" '
		select(.req_bytes < 4096) |
		select(.req_headers != "Host: t\r\nX-Pad: " + "a" * 1500 + "\r\n" or
		       .resp_headers != "X-Served-By: " + "r" * 900 + "\r\nContent-Length: " +
				    ("hello from \(.target)\n" | length | tostring) + "\r\n" or
		       .flags != null)')"
	# Past the snap length: flagged, and what is kept is the start of the block.
	expect_eq "$hooks: long heads not flagged truncated, or not kept from their start" 0 "$(count_spans "$out" '
		select(.req_bytes > 4096) | .req_headers as $kept |
		select((.flags | index("truncated")) == null or $kept == "" or
		       (("Host: t\r\nX-Pad: " + "a" * 5000 + "\r\n") | startswith($kept) | not))')"
done
