# Shared by the record tests (sourced after lib.sh): a python3 http.server as the traced
# server ($SRV on $PORT, serving $TMP/www), start_bg, and traffic with curl's own view.
for t in python3 curl jq capinfos; do
	command -v $t >/dev/null || skip "$t is not installed (packaging/deps.sh installs it)"
done
"$EHTTP" check >/dev/null 2>&1 || skip "this kernel cannot run syscall capture (ehttp check)"

mkdir -p "$TMP/www"
for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/zero | tr '\0' x >"$TMP/www/f$i.txt"; done
PORT=$(free_port)
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/www" >"$TMP/server.log" 2>&1 &
SRV=$!
on_exit "kill $SRV 2>/dev/null; wait $SRV 2>/dev/null"
wait_port "$PORT"

# start_bg NAME CMD...: run in the background (stdout NAME.out, stderr NAME.err) and wait
# until its first stderr line says it is capturing. Sets BG_PID.
start_bg() {
	local name=$1 i
	shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	BG_PID=$!
	on_exit "kill -INT $BG_PID 2>/dev/null; wait $BG_PID 2>/dev/null"
	for i in $(seq 1 300); do
		grep -sq '^\(Attached\|Recording\)' "$TMP/$name.err" && return 0
		kill -0 "$BG_PID" 2>/dev/null || fail "$name exited early: $(cat "$TMP/$name.err")"
		sleep 0.1
	done
	fail "$name did not start capturing within 30 s"
}

# traffic: 200s and 404s, curl's view as "METHOD TARGET STATUS REQ_BYTES RESP_BYTES"
traffic() {
	local i
	for i in 1 2 3 4 5; do
		for p in "/f$i.txt" "/missing-$i?q=$i"; do
			curl -s -o /dev/null -w "GET $p %{response_code} %{size_request} %{size_header} %{size_download}\n" \
				"http://127.0.0.1:$PORT$p"
		done
	done | awk '{ print $1, $2, $3, $4, $5 + $6 }'
}

