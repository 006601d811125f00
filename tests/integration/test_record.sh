# record against real traffic (python3 http.server, curl, nginx and wrk), captured by the
# server's pid so other traffic on the host cannot disturb it: pipes, -c, --duration,
# signals, kill -9, rotation. The round trip through replay is test_record_replay.sh.
source tests/integration/lib.sh
source tests/integration/record_lib.sh

# ---- record -o - | replay -, and -c -------------------------------------------------
( "$EHTTP" record -o - -p "$SRV" -c 4 2>"$TMP/pipe.err" | "$EHTTP" -j replay - >"$TMP/pipe.json" ) &
PIPE=$!
for i in $(seq 1 300); do grep -q '^Recording' "$TMP/pipe.err" 2>/dev/null && break; sleep 0.1; done
traffic >/dev/null
wait $PIPE; expect_eq "record -o - | replay - exit status" 0 $?
expect_eq "record -c 4 | replay - spans" 4 "$(wc -l <"$TMP/pipe.json")"

# ---- --duration, and SIGTERM ----------------------------------------------------------
start_bg dur "$EHTTP" record -o "$TMP/dur.pcapng" -p "$SRV" --duration 2
traffic >/dev/null
wait $BG_PID; expect_eq "record --duration exit status" 0 $?
expect_eq "--duration spans" 10 "$("$EHTTP" replay "$TMP/dur.pcapng" | wc -l)"
start_bg term "$EHTTP" record -o "$TMP/term.pcapng" -p "$SRV"
traffic >/dev/null
sleep 0.5
kill -TERM $BG_PID
wait $BG_PID; expect_eq "record exit status (SIGTERM)" 0 $?
expect_eq "SIGTERM: spans" 10 "$("$EHTTP" replay "$TMP/term.pcapng" | wc -l)"

# ---- kill -9: the file replays up to the last record written ------------------------
start_bg k9 "$EHTTP" record -o "$TMP/k9.pcapng" -p "$SRV"
traffic >/dev/null
sleep 1 # more than the 100 ms between flushes
kill -9 $BG_PID
wait $BG_PID 2>/dev/null
"$EHTTP" replay "$TMP/k9.pcapng" >"$TMP/k9.out" 2>"$TMP/k9.err"
expect_eq "after kill -9: replay exit status" 0 $?
expect_eq "after kill -9: spans" 10 "$(wc -l <"$TMP/k9.out")"

# ---- rotation by time in a ring of 3 --------------------------------------------------
start_bg rot "$EHTTP" record -o "$TMP/rot.pcapng" -p "$SRV" -G 1 -W 3 --duration 5
for i in $(seq 1 9); do traffic >/dev/null; sleep 0.4; done
wait $BG_PID; expect_eq "record -G 1 -W 3 exit status" 0 $?
ls -l "$TMP"/rot.pcapng*
for f in rot.pcapng0 rot.pcapng1 rot.pcapng2; do
	[ -f "$TMP/$f" ] || fail "$f missing"
	expect_eq "$f mode" 600 "$(stat -c %a "$TMP/$f")"
	"$EHTTP" replay "$TMP/$f" >/dev/null || fail "$f does not replay"
done
[ ! -e "$TMP/rot.pcapng3" ] && [ ! -e "$TMP/rot.pcapng" ] || fail "files outside the ring"
echo "ok: -G 1 -W 3 made exactly rot.pcapng0..2"
# the ring holds the most recent spans, in time order across the files
"$EHTTP" -j replay "$TMP"/rot.pcapng? | python3 -c '
import json, sys
t = [json.loads(l)["start_ns"] for l in sys.stdin]
assert t == sorted(t) and len(t) > 0, "not in time order"
print("ok: ring replays in time order,", len(t), "spans")' || fail "ring order"

# ---- rotation by size, under load: nginx and wrk -------------------------------------
if command -v nginx >/dev/null && command -v wrk >/dev/null; then
	NPORT=$(free_port)
	mkdir -p "$TMP/nginx"
	head -c 300 /dev/zero | tr '\0' y >"$TMP/www/small.txt"
	cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off; master_process off; worker_processes 1; pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 256; }
http { access_log off; server { listen 127.0.0.1:$NPORT; root $TMP/www; } }
CONF
	nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
	NGX=$!
	on_exit "kill $NGX 2>/dev/null; wait $NGX 2>/dev/null"
	wait_port "$NPORT"
	start_bg size "$EHTTP" record -o "$TMP/size.pcapng" -p "$NGX" -C 1
	wrk -t1 -c4 -d2s "http://127.0.0.1:$NPORT/small.txt" >"$TMP/wrk.out"
	sleep 0.5
	kill -INT $BG_PID
	wait $BG_PID; expect_eq "record -C 1 exit status" 0 $?
	cat "$TMP/size.err"
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	files=("$TMP/size.pcapng")
	for i in $(seq 1 1000); do [ -e "$TMP/size.pcapng$i" ] || break; files+=("$TMP/size.pcapng$i"); done
	[ ${#files[@]} -ge 2 ] || fail "-C 1 made one file for $reqs requests"
	n=$(( ${#files[@]} - 1 ))
	for f in "${files[@]:0:$n}"; do
		sz=$(stat -c %s "$f")
		[ "$sz" -ge 1000000 ] && [ "$sz" -lt 1002000 ] || fail "$f: $sz bytes, not just over 1 MB"
		expect_eq "$(basename "$f") mode" 600 "$(stat -c %a "$f")"
	done
	echo "ok: -C 1 made ${#files[@]} files, size.pcapng then size.pcapng1..$n, each full one just over 1 MB"
	spans=$(cat "${files[@]}" | "$EHTTP" -j replay - | jq -r 'select(.status == 200) | .target' | wc -l)
	# wrk counts responses it read; a request cut by wrk's stop may be answered unread
	[ "$spans" -ge "$reqs" ] && [ "$spans" -le $((reqs + 4)) ] ||
		fail "$spans spans with status 200 in the files for $reqs requests wrk completed"
	echo "ok: $spans spans recorded for $reqs requests wrk completed"
	grep -q '^0 events dropped by the kernel$' "$TMP/size.err" || fail "kernel drops under load"
fi
exit 0
