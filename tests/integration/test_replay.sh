# replay on span files made by the writer (tests/fixtures/spangen.c): the standard tools
# (capinfos, tshark, mergecap, editcap, text2pcap) as ground truth for counts, times and
# refusals; statistics against counts computed here from the spans.
source tests/integration/lib.sh
for t in capinfos tshark mergecap editcap text2pcap jq python3; do
	command -v $t >/dev/null || skip "$t is not installed (packaging/deps.sh installs it)"
done
# jq reads numbers as doubles: nanosecond times go through python instead
start_ns() { python3 -c 'import json, sys; [print(json.loads(l)["start_ns"]) for l in sys.stdin]'; }
cc -O2 -D_GNU_SOURCE -Ilib -o "$TMP/spangen" tests/fixtures/spangen.c build/libehttp.a \
	$(pkg-config --libs jansson) -lz || fail "building the span generator"

N=500
"$TMP/spangen" "$TMP/a.pcapng" $N 1764000000 || fail "spangen"
"$TMP/spangen" "$TMP/b.pcapng" 300 1764000001 || fail "spangen"
expect_eq "file mode" 600 "$(stat -c %a "$TMP/a.pcapng")"

# capinfos and tshark count one packet per span
expect_eq "capinfos packets" $N "$(capinfos -M -c -T "$TMP/a.pcapng" 2>/dev/null | awk -F'\t' 'NR==2 {print $2}')"
expect_eq "tshark packets" $N "$(tshark -r "$TMP/a.pcapng" 2>/dev/null | wc -l)"
expect_eq "replay lines" $N "$("$EHTTP" replay "$TMP/a.pcapng" | wc -l)"
expect_eq "replay -j objects" $N "$("$EHTTP" -j replay "$TMP/a.pcapng" | jq -c . | wc -l)"
# the packet times tshark reports are the spans' start times
tshark -r "$TMP/a.pcapng" -T fields -e frame.time_epoch 2>/dev/null |
	python3 -c 'import sys; [print(l.split(".")[0] + (l.strip().split(".") + [""])[1].ljust(9, "0")) for l in sys.stdin]' >"$TMP/t.tshark"
"$EHTTP" -j replay "$TMP/a.pcapng" | start_ns >"$TMP/t.replay"
cmp -s "$TMP/t.tshark" "$TMP/t.replay" || fail "start times differ from tshark's packet times"
echo "ok: start times match tshark's packet times (ns)"

# standard input
expect_eq "replay - lines" $N "$(cat "$TMP/a.pcapng" | "$EHTTP" replay - | wc -l)"

# mergecap: two recordings, one file, read in time order with both interfaces' metadata
mergecap -w "$TMP/m.pcapng" "$TMP/a.pcapng" "$TMP/b.pcapng" 2>/dev/null || fail mergecap
expect_eq "merged spans" 800 "$("$EHTTP" -j replay "$TMP/m.pcapng" | wc -l)"
"$EHTTP" -j replay "$TMP/m.pcapng" | start_ns >"$TMP/m.times"
sort -n -c "$TMP/m.times" || fail "merged file does not replay in time order"
echo "ok: merged file replays in time order"
expect_eq "process records after merge" 14 "$("$EHTTP" -j replay --processes "$TMP/m.pcapng" | wc -l)"
# the two files given to replay directly: the same spans in the same order
"$EHTTP" -j replay "$TMP/b.pcapng" "$TMP/a.pcapng" | start_ns >"$TMP/ab.times"
cmp -s "$TMP/m.times" "$TMP/ab.times" || fail "replay A B differs from mergecap's order"
echo "ok: replay of two files equals the mergecap order"

# editcap slices by time: replay --since/--until select the same spans
first=$(head -n 1 "$TMP/t.replay")
since=$(( first / 1000000000 + 2 ))   # whole seconds: the generator spreads 500 spans over ~5 s
until=$(( since + 1 ))
editcap -A "$since" -B "$until" "$TMP/a.pcapng" "$TMP/slice.pcapng" 2>/dev/null || fail editcap
want=$(capinfos -M -c -T "$TMP/slice.pcapng" 2>/dev/null | awk -F'\t' 'NR==2 {print $2}')
[ "$want" -gt 0 ] || fail "empty slice"
got=$("$EHTTP" replay --since "$since" --until "$((until - 1)).999999999" "$TMP/a.pcapng" | wc -l)
expect_eq "--since/--until (epoch) vs editcap -A/-B" "$want" "$got"
rfc_since=$(date -u -d "@$since" +%Y-%m-%dT%H:%M:%SZ)
rfc_until=$(date -u -d "@$((until - 1))" +%Y-%m-%dT%H:%M:%S.999999999Z)
got=$("$EHTTP" replay --since "$rfc_since" --until "$rfc_until" "$TMP/a.pcapng" | wc -l)
expect_eq "--since/--until (RFC 3339) vs editcap" "$want" "$got"
"$EHTTP" replay --since yesterday "$TMP/a.pcapng" 2>/dev/null; expect_eq "bad --since" 2 $?

# filters shared with attach
want=$("$EHTTP" -j replay "$TMP/a.pcapng" | jq -r 'select(.status >= 500) | .start_ns' | wc -l)
expect_eq "--status 5xx" "$want" "$("$EHTTP" replay --status 5xx "$TMP/a.pcapng" | wc -l)"
expect_eq "-c 7" 7 "$("$EHTTP" replay -c 7 "$TMP/a.pcapng" | wc -l)"

# --stats against per-route counts computed here from the spans
"$EHTTP" -j replay "$TMP/a.pcapng" | python3 -c '
import json, re, sys
rows = {}
for line in sys.stdin:
    s = json.loads(line)
    path = re.split("[?#]", s["target"])[0]
    segs = ["{id}" if re.fullmatch(r"[0-9]+|[0-9a-fA-F]*[0-9][0-9a-fA-F]*", g) else g
            for g in path.split("/")]
    k = (s["method"], "/".join(segs))
    c, e = rows.get(k, (0, 0))
    rows[k] = (c + 1, e + (s["status"] >= 500 or s["status"] == 0))
for (m, r), (c, e) in sorted(rows.items()):
    print(m, r, c, e)' >"$TMP/stats.want"
"$EHTTP" -j replay --stats "$TMP/a.pcapng" |
	jq -r '.routes[] | "\(.method) \(.route) \(.count) \(.errors)"' | sort >"$TMP/stats.got"
sort -o "$TMP/stats.want" "$TMP/stats.want"
diff "$TMP/stats.want" "$TMP/stats.got" || fail "--stats rows differ from counts computed from the spans"
echo "ok: --stats rows ($(wc -l <"$TMP/stats.got")) match"
expect_eq "--stats total" $N "$("$EHTTP" -j replay --stats "$TMP/a.pcapng" | jq .total.count)"
"$EHTTP" replay --stats "$TMP/a.pcapng" | grep -q '^GET *\/users\/{id} ' || fail "text --stats"

# a truncated file: every whole span, a warning, exit 0
size=$(stat -c %s "$TMP/a.pcapng")
head -c $((size - 100)) "$TMP/a.pcapng" >"$TMP/cut.pcapng"
"$EHTTP" replay "$TMP/cut.pcapng" >"$TMP/cut.out" 2>"$TMP/cut.err"
expect_eq "truncated: exit" 0 $?
expect_eq "truncated: spans" $((N - 1)) "$(wc -l <"$TMP/cut.out")"
grep -q "^Warning: .*truncated" "$TMP/cut.err" || fail "no truncation warning"

# damage in the middle: skipped with a warning, the rest read
python3 - "$TMP/a.pcapng" "$TMP/dmg.pcapng" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[len(d) // 2: len(d) // 2 + 40] = b"\xee" * 40
open(sys.argv[2], "wb").write(d)
PY
"$EHTTP" replay "$TMP/dmg.pcapng" >"$TMP/dmg.out" 2>"$TMP/dmg.err"
expect_eq "damaged: exit" 0 $?
got=$(wc -l <"$TMP/dmg.out")
[ "$got" -ge $((N - 2)) ] && [ "$got" -lt $N ] || fail "damaged: $got spans"
grep -q "^Warning: .*damaged" "$TMP/dmg.err" || fail "no damage warning"
echo "ok: damaged file: $got of $N spans, warned"

# a file written from the specification alone by another implementation
cat >"$TMP/py.json" <<'JSON'
[{"start_ns": 1795625400000000001, "end_ns": 1795625400001000001, "role": "server",
  "method": "GET", "target": "/users/7?x=1", "host": "example.org", "status": 200,
  "version": "HTTP/1.1", "pid": 4242, "tid": 4243, "comm": "pyserver",
  "local": "127.0.0.1:8080", "remote": "10.0.0.9:51000", "req_bytes": 77,
  "resp_bytes": 1234, "source": "syscall", "span_id": "0102030405060708", "conn_id": 9},
 {"start_ns": 1795625400002000000, "end_ns": 1795625400002500000, "role": "client",
  "method": "POST", "target": "/bad-\u00ff", "host": "", "status": 503,
  "version": "HTTP/1.0", "pid": 4242, "tid": 4244, "comm": "pyserver",
  "local": "127.0.0.1:40000", "remote": "127.0.0.1:9090", "req_bytes": 1,
  "resp_bytes": 2, "source": "syscall", "span_id": "1112131415161718", "conn_id": 10}]
JSON
python3 tests/fixtures/spanfile_writer.py "$TMP/py.pcapng" <"$TMP/py.json" || fail "python writer"
"$EHTTP" -j replay "$TMP/py.pcapng" >"$TMP/py.out" 2>"$TMP/py.err"
expect_eq "spec-written file: exit" 0 $?
python3 - "$TMP/py.json" "$TMP/py.out" <<'PY' || fail "spans read back differ from what was written"
import json, sys
want = json.load(open(sys.argv[1]))[0]
got = json.loads(open(sys.argv[2]).readline())
for k, v in want.items():
    assert got[k] == v, (k, got[k], v)
assert got["duration_ns"] == want["end_ns"] - want["start_ns"]
print("ok: a span written from the specification reads back field by field")
PY
# The second span's target holds the byte 0xff, which JSON cannot carry: it is still
# printed, as valid JSON, with that byte shown as '?'.
expect_eq "non-UTF-8 target: JSON lines" 2 "$(wc -l <"$TMP/py.out")"
expect_eq "non-UTF-8 target: shown with '?'" "/bad-?" "$(sed -n 2p "$TMP/py.out" | jq -r .target)"
expect_eq "non-UTF-8 target: text lines" 2 "$("$EHTTP" replay "$TMP/py.pcapng" | wc -l)"
"$EHTTP" replay "$TMP/py.pcapng" | LC_ALL=C grep -q ' client 127.0.0.1:9090 POST /bad-.* 503 ' ||
	fail "text line of the second span"

# not span files: one error line, exit 1
: >"$TMP/empty"
echo "hello, world" >"$TMP/text"
head -c 4096 /dev/urandom >"$TMP/random"
printf '0000  ff ff ff ff ff ff 00 11 22 33 44 55 08 00 45 00\n0010  00 14 00 00 00 00 40 06 00 00 7f 00 00 01 7f 00\n0020  00 01\n' >"$TMP/eth.txt"
text2pcap -q -n "$TMP/eth.txt" "$TMP/net.pcapng" 2>/dev/null || fail text2pcap
editcap -F pcap "$TMP/net.pcapng" "$TMP/net.pcap" 2>/dev/null || fail "editcap -F pcap"
sed 's/ehttp spans 1\.[0-9]*/ehttp spans 2.0/' "$TMP/a.pcapng" >"$TMP/v2.pcapng"
for f in empty text random net.pcapng net.pcap v2.pcapng; do
	"$EHTTP" replay "$TMP/$f" >"$TMP/junk.out" 2>"$TMP/junk.err"
	rc=$?
	expect_eq "$f: exit" 1 $rc
	expect_eq "$f: error lines" 1 "$(grep -c '^Error: ' "$TMP/junk.err")"
	expect_eq "$f: output" 0 "$(wc -c <"$TMP/junk.out")"
	cat "$TMP/junk.err"
done
grep -q "newer" "$TMP/junk.err" || fail "v2 not refused as newer"
"$EHTTP" -j replay "$TMP/text" | jq -e .error >/dev/null || fail "JSON error object"
"$EHTTP" replay 2>/dev/null; expect_eq "no file: usage" 2 $?
"$EHTTP" replay "$TMP/missing" 2>/dev/null; expect_eq "missing file" 1 $?
exit 0
