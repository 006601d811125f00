# record against real traffic (python3 http.server, curl), captured by the server's pid so
# other traffic on the host cannot disturb it. Ground truth: curl's own view of each
# exchange, and `attach -j` watching the same traffic at the same time.
source tests/integration/lib.sh
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

# ---- round trip: record and attach on the same traffic; replay -j against both -------
start_bg attach "$EHTTP" -j attach -p "$SRV"
ATT=$BG_PID
start_bg rec "$EHTTP" record -o "$TMP/rt.pcapng" -p "$SRV"
REC=$BG_PID
traffic >"$TMP/truth"
sleep 1
kill -INT $REC $ATT
wait $REC; expect_eq "record exit status (SIGINT)" 0 $?
wait $ATT
cat "$TMP/rec.err"
grep -q '^10 spans written to ' "$TMP/rec.err" || fail "summary: $(cat "$TMP/rec.err")"
grep -q '^0 events dropped by the kernel$' "$TMP/rec.err" || fail "summary: drops"
grep -q ' spans\? lost$' "$TMP/rec.err" || fail "summary: lost"
expect_eq "file mode" 600 "$(stat -c %a "$TMP/rt.pcapng")"
expect_eq "capinfos count" 10 "$(capinfos -M -c -T "$TMP/rt.pcapng" 2>/dev/null | awk -F'\t' 'NR==2 {print $2}')"

"$EHTTP" -j replay "$TMP/rt.pcapng" >"$TMP/replay.json" || fail "replay"
# curl's view: method, target, status, bytes each way
jq -r '"\(.method) \(.target) \(.status) \(.req_bytes) \(.resp_bytes)"' "$TMP/replay.json" | sort >"$TMP/seen"
sort -o "$TMP/truth" "$TMP/truth"
diff "$TMP/truth" "$TMP/seen" || fail "replayed spans differ from what curl saw"
echo "ok: replayed spans match curl's view (method, target, status, bytes)"
# attach's view of the same exchanges: every field but the ones each capture makes up
# (span ids, trace ids of requests without a traceparent, connection ids) and the
# times, which come from two separate probes
for f in "$TMP/attach.out" "$TMP/replay.json"; do
	expect_eq "every span of $(basename "$f") has a trace id" 0 \
		"$(jq -r '.trace_id // "none"' "$f" | grep -cvE '^[0-9a-f]{32}$')"
done
norm='del(.span_id, .trace_id, .conn_id, .start_ns, .end_ns, .duration_ns) | tojson'
jq -c "$norm" "$TMP/attach.out" | sort >"$TMP/attach.norm"
jq -c "$norm" "$TMP/replay.json" | sort >"$TMP/replay.norm"
diff "$TMP/attach.norm" "$TMP/replay.norm" || fail "replay -j differs from attach -j"
echo "ok: replay -j equals attach -j on the same traffic (ids and times aside)"
# times: the same exchanges, start and end within 2 ms of attach's
python3 - "$TMP/attach.out" "$TMP/replay.json" <<'PY' || fail "times differ from attach's"
import json, sys
def load(p):
    return sorted((s["target"], s["start_ns"], s["end_ns"]) for s in map(json.loads, open(p)))
for a, r in zip(load(sys.argv[1]), load(sys.argv[2])):
    assert a[0] == r[0] and abs(a[1] - r[1]) < 2e6 and abs(a[2] - r[2]) < 2e6, (a, r)
print("ok: start and end times within 2 ms of attach's")
PY
# the process record: the server's executable and command line, from /proc
"$EHTTP" -j replay --processes "$TMP/rt.pcapng" >"$TMP/procs.json"
expect_eq "process records" 1 "$(wc -l <"$TMP/procs.json")"
expect_eq "process pid" "$SRV" "$(jq -r .pid "$TMP/procs.json")"
expect_eq "process exe" "$(readlink /proc/$SRV/exe)" "$(jq -r .exe "$TMP/procs.json")"
expect_eq "process cmdline" "$(tr '\0' ' ' </proc/$SRV/cmdline | sed 's/ $//')" "$(jq -r .cmdline "$TMP/procs.json")"
expect_eq "process cgroup" "$(paste -sd';' /proc/$SRV/cgroup)" "$(jq -r .cgroup "$TMP/procs.json")"

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
