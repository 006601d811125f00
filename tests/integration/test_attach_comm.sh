# ehttp attach --comm matches the process's name (as ps and pgrep show it), not the name
# a thread gave itself, with both kinds of hooks; spans carry that name and the thread's
# own id. Two python servers whose handler threads rename themselves "handler" (as
# worker pools do); the second also renames the process. Ground truth: the names in
# /proc, and the requests curl made and saw answered.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

cat >"$TMP/server.py" <<'PY'
import ctypes, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PR_SET_NAME = 15
libc = ctypes.CDLL(None)
if len(sys.argv) > 2:
    libc.prctl(PR_SET_NAME, sys.argv[2].encode(), 0, 0, 0)  # the main thread: the process

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle(self):
        libc.prctl(PR_SET_NAME, b"handler", 0, 0, 0)  # before the request is read
        super().handle()

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY

# The interpreter under a name of the test's own (a process's name is the name it was
# executed by), so that python3 processes elsewhere on the host are not selected too.
# The interpreter itself, not a launcher that dispatches by its own name (pyenv's).
ln -s "$(python3 -c 'import sys; print(sys.executable)')" "$TMP/commsrv$$"
port=$(free_port)
"$TMP/commsrv$$" "$TMP/server.py" "$port" &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
port_other=$(free_port)
"$TMP/commsrv$$" "$TMP/server.py" "$port_other" othersrv &
other=$!
on_exit "kill $other 2>/dev/null; wait $other 2>/dev/null"
wait_port "$port"
wait_port "$port_other"
name=$(cat /proc/$srv/comm)
expect_eq "the second server's name" othersrv "$(cat /proc/$other/comm)"

have_sockets=false
have_socket_hooks && have_sockets=true

for hooks in syscalls $($have_sockets && echo sockets); do
	out=$TMP/$hooks.json
	ATTACH_HOOKS=$hooks attach_start "$out" --comm "$name"
	curl_truth "http://127.0.0.1:$port/a" "http://127.0.0.1:$port/b?x=1" >"$TMP/truth"
	curl_truth "http://127.0.0.1:$port_other/c" >/dev/null
	sleep 0.3
	attach_stop "$out"
	spans "$out" server >"$TMP/seen"
	expect_set "$hooks: server spans of the process named $name" "$TMP/truth" "$TMP/seen"
	expect_eq "$hooks: spans of other processes (curl, othersrv)" 0 \
		"$(jq -c --argjson p "$srv" 'select(.pid != $p)' "$out" | wc -l)"
	expect_eq "$hooks: the spans' comm" "$name" "$(jq -r .comm "$out" | sort -u)"
	# Each request was read by a handler thread, not by the main thread.
	expect_eq "$hooks: spans read by a thread other than the main one" "$(wc -l <"$TMP/truth")" \
		"$(jq -c 'select(.tid != .pid)' "$out" | wc -l)"

	# The threads' own name is no process's.
	ATTACH_HOOKS=$hooks attach_start "$out" --comm handler
	curl_truth "http://127.0.0.1:$port/d" "http://127.0.0.1:$port_other/e" >/dev/null
	sleep 0.3
	attach_stop "$out"
	expect_eq "$hooks: spans for --comm handler (a thread name)" 0 "$(wc -l <"$out")"
done
