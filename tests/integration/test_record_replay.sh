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
# times. Each capture stamps an event when its own program runs on the hook: attach's
# first (it attached first), record's right after, so record's stamp is later by
# attach's remaining work, record's work before its stamp and whatever the kernel ran
# in between (interrupts, softirqs). Here that is microseconds; under an emulator
# (tests/vm) tens of microseconds, 0.5-0.8 ms for the first connection's first read
# (each program's connection setup runs for the first time: LRU free lists filled,
# caches cold, and under TCG its code translated) and several ms when an interrupt
# lands there: no fixed bound holds for the gap, but causality does. Record
# stamps each event no earlier than attach and before attach stamps the next event of
# the run (the response's end for a request's start, the next exchange's start for a
# response's end: curl runs one at a time). SLACK covers only the two processes'
# anchors from monotonic to wall time, each within half its narrowest read window
# (span_clock_now).
python3 - "$TMP/attach.out" "$TMP/replay.json" <<'PY' || fail "times differ from attach's"
import json, sys
SLACK = 0.25e6
def load(p):
    return {s["target"]: (s["start_ns"], s["end_ns"]) for s in map(json.loads, open(p))}
att, rep = load(sys.argv[1]), load(sys.argv[2])
assert sorted(att) == sorted(rep), (sorted(att), sorted(rep))
order = sorted(att, key=lambda t: att[t][0])
bad = []
for i, t in enumerate(order):
    (a0, a1), (r0, r1) = att[t], rep[t]
    nxt = att[order[i + 1]][0] if i + 1 < len(order) else float("inf")
    print("%-16s start %+10.1f us  end %+10.1f us" % (t, (r0 - a0) / 1e3, (r1 - a1) / 1e3))
    if not (-SLACK <= r0 - a0 and r0 < a1 + SLACK and -SLACK <= r1 - a1 and r1 < nxt + SLACK):
        bad.append(t)
assert not bad, "stamped outside attach's own event and the next: %s" % bad
print("ok: each start and end stamped after attach's and before attach's next event")
PY
# the process record: the server's executable and command line, from /proc
"$EHTTP" -j replay --processes "$TMP/rt.pcapng" >"$TMP/procs.json"
expect_eq "process records" 1 "$(wc -l <"$TMP/procs.json")"
expect_eq "process pid" "$SRV" "$(jq -r .pid "$TMP/procs.json")"
expect_eq "process exe" "$(readlink /proc/$SRV/exe)" "$(jq -r .exe "$TMP/procs.json")"
expect_eq "process cmdline" "$(tr '\0' ' ' </proc/$SRV/cmdline | sed 's/ $//')" "$(jq -r .cmdline "$TMP/procs.json")"
expect_eq "process cgroup" "$(paste -sd';' /proc/$SRV/cgroup)" "$(jq -r .cgroup "$TMP/procs.json")"

