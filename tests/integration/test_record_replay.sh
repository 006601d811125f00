# record → replay on real traffic (python3 http.server, curl), captured by the server's
# pid so other traffic on the host cannot disturb it. Ground truth: curl's own view of
# each exchange, and `attach -j` watching the same traffic at the same time.
source tests/integration/lib.sh
source tests/integration/record_lib.sh

# ---- round trip: record and attach on the same traffic; replay -j against both -------
# (ATTACH_HOOKS, as in attach_lib.sh, picks the hooks of both.)
start_bg attach "$EHTTP" -j attach ${ATTACH_HOOKS:+--hooks "$ATTACH_HOOKS"} -p "$SRV"
ATT=$BG_PID
start_bg rec "$EHTTP" record -o "$TMP/rt.pcapng" ${ATTACH_HOOKS:+--hooks "$ATTACH_HOOKS"} -p "$SRV"
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

