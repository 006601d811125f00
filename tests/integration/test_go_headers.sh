# The incoming traceparent of a Go server request, read by the kernel from the request's
# Header map (every slot visited: buckets before Go 1.24, Swiss tables from 1.24), on
# maps of every size a request makes: no header, one group or bucket, several, a map
# still growing (net/http sizes it by the lines it has buffered), and past what the
# probe walks. The traceparent first, in the middle, last, twice, in lower case, next to
# names that differ by a letter or a suffix, and invalid ones. Each Go release's server
# prints what it saw itself (r.Header.Get): that, parsed by the W3C rules, is what every
# span's parent and trace id are held to. A map too big to walk must say so on its span
# (traceparent_unread) rather than give a wrong parent; none of the others may.
#
# EHTTP_GO_VERSIONS (default 1.19 1.24 1.27) and EHTTP_GO_VARIANTS (default plain
# stripped: DWARF, and the table by version) choose the builds, all traced at once.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/go_lib.sh

versions=${EHTTP_GO_VERSIONS:-1.19 1.24 1.27}
variants=${EHTTP_GO_VARIANTS:-plain stripped}
case " $variants " in *" plain "*) ;; *) variants="plain $variants" ;; esac

declare -A port pid
pids=()
for ver in $versions; do
	# before 1.17 (the stack ABI) the Go source does not trace a binary at all
	[ "${ver#1.}" -ge 17 ] 2>/dev/null || { echo "note: Go $ver is older than the Go source traces"; continue; }
	for v in $variants; do
		case $v in plain | stripped | pie | piestripped | static) ;; *) continue ;; esac
		k=$ver-$v
		go_build_with "$ver" tpheaders "$TMP/tph-$k" "$v"
		port[$k]=$(free_port)
		"$TMP/tph-$k" "127.0.0.1:${port[$k]}" >"$TMP/tph-$k.log" 2>"$TMP/tph-$k.err" &
		pid[$k]=$!
		on_exit "kill ${pid[$k]} 2>/dev/null; wait ${pid[$k]} 2>/dev/null"
		wait_port "${port[$k]}"
		pids+=(-p "${pid[$k]}")
	done
done

out=$TMP/spans.json
attach_start "$out" "${pids[@]}"
for k in "${!pid[@]}"; do go_wait_traced "$out" "${pid[$k]}"; done
grep -q "traceparent from the header lines" "$out.err" && fail "a build fell back to the header lines"

# The requests, on one kept-alive connection per server; each id's headers are listed
# in cases.json (the checker's notes: how many headers, where the traceparent was).
python3 - "$TMP/cases.json" "${port[@]}" <<'PY' || fail "the client failed"
import json, random, socket, sys

out, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
rnd = random.Random(17)

def tp(n):
    return "00-%032x-%016x-01" % (rnd.getrandbits(128) | 1, rnd.getrandbits(64) | 1)

cases = []
def case(note, headers):
    cases.append({"id": str(len(cases)), "note": note, "headers": headers})

fill = lambda n, tag="X-Fill": [("%s-%d" % (tag, i), "v%d" % i) for i in range(n)]
case("no header", [])
case("only traceparent", [("traceparent", tp(0))])
for n in (1, 6, 7, 8, 9, 15, 16, 30, 60, 100, 150, 200):
    for where in ("first", "middle", "last"):
        h = fill(n)
        at = {"first": 0, "middle": n // 2, "last": n}[where]
        h.insert(at, ("Traceparent", tp(0)))
        case("%d others, traceparent %s" % (n, where), h)
    case("%d others, no traceparent" % n, fill(n))
# names a letter or a suffix away, each with a valid value of its own
near = [("Traceparent2", tp(0)), ("Xtraceparent", tp(0)), ("Traceparen", tp(0)),
        ("Tracestate", "k=v"), ("Trace-Parent", tp(0)), ("Traceparenu", tp(0))]
case("near names only", list(near))
case("near names, then traceparent", near + [("Traceparent", tp(0))])
case("near names around traceparent, 40 others", near[:3] + fill(20) + [("TRACEPARENT", tp(0))] + fill(20, "Y") + near[3:])
case("twice: the first counts", [("Traceparent", tp(0)), ("X-A", "1"), ("Traceparent", tp(0))])
case("lower case name", fill(10) + [("traceparent", tp(0))])
case("surrounding spaces", fill(3) + [("Traceparent", "  " + tp(0) + "  ")])
case("version ff", [("Traceparent", "ff" + tp(0)[2:])])
case("zero trace id", [("Traceparent", "00-" + "0" * 32 + "-00f067aa0ba902b7-01")])
case("too short", [("Traceparent", tp(0)[:-1])])
case("later version, more fields", [("Traceparent", "01" + tp(0)[2:] + "-abc")])
case("empty value", fill(5) + [("Traceparent", "")])
# past what the kernel walks: flagged, or found; never wrong
for n in (320, 400):
    h = fill(n)
    h.append(("Traceparent", tp(0)))
    case("%d others, traceparent last (big)" % n, h)

for port in ports:
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    for c in cases:
        lines = ["GET /?id=%s HTTP/1.1" % c["id"], "Host: 127.0.0.1:%d" % port]
        lines += ["%s: %s" % kv for kv in c["headers"]]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200"), (c["note"], status)
        length = 0
        while True:
            line = f.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        f.read(length)
    s.close()
json.dump([{"id": c["id"], "note": c["note"], "n": len(c["headers"])} for c in cases], open(out, "w"))
PY
sleep 1.5 # the merge holds Go spans up to a second for their wire view
attach_stop "$out"

n=$(jq length "$TMP/cases.json")
for k in "${!pid[@]}"; do
	expect_eq "$k: requests the server logged" "$n" "$(wc -l <"$TMP/tph-$k.log")"
	go_spans "$out" "${pid[$k]}" server >"$TMP/spans-$k.json"
	python3 - "$k" "$TMP/cases.json" "$TMP/tph-$k.log" "$TMP/spans-$k.json" <<'PY' || fail "$k: traceparent mismatches (above)"
import json, re, sys

name, cases, log, spans = sys.argv[1:5]
cases = {c["id"]: c for c in json.load(open(cases))}
truth = {}
for line in open(log):
    i, nh, v = line.rstrip("\n").split(" ", 2)
    truth[i] = None if v == "-" else v

def parse(v):  # W3C trace-context, as a receiver must read it
    if v is None:
        return None
    m = re.fullmatch(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", v)
    if not m or m.group(1) == "ff" or (m.group(1) == "00" and m.group(5)):
        return None
    if set(m.group(2)) == {"0"} or set(m.group(3)) == {"0"}:
        return None
    return m.group(2), m.group(3)

by_id = {}
for line in open(spans):
    s = json.loads(line)
    by_id.setdefault(s["id"], []).append(s)
bad = 0
flagged = 0
for i, c in sorted(cases.items(), key=lambda kv: int(kv[0])):
    got = by_id.get(i, [])
    if len(got) != 1:
        print("%s: id %s (%s): %d spans" % (name, i, c["note"], len(got)))
        bad += 1
        continue
    s = got[0]
    want = parse(truth.get(i))
    unread = "traceparent_unread" in (s.get("flags") or [])
    if unread:
        flagged += 1
        ok = c["n"] > 300 and s.get("link") == "root"
    elif want:
        ok = s.get("link") == "traceparent" and s.get("trace_id") == want[0] and s.get("parent_span_id") == want[1]
    else:
        ok = s.get("link") == "root" and s.get("parent_span_id") is None
    if not ok:
        bad += 1
        print("%s: id %s (%s, %d headers): server saw %r; span link %s trace %s parent %s flags %s" % (
            name, i, c["note"], c["n"], truth.get(i), s.get("link"), s.get("trace_id"),
            s.get("parent_span_id"), s.get("flags")))
print("%s: %d requests, %d flagged traceparent_unread, %d wrong" % (name, len(cases), flagged, bad))
sys.exit(1 if bad else 0)
PY
done
echo "the traceparent is read from the Header map on Go $versions ($variants)"
