# ehttp attach's command line: help, usage errors, -B, the warning about a capture
# already running, -c, --duration and the exit of the -p process ending it on their own,
# SIGTERM, the text line, stdout reaching a file while the capture runs, credentials
# redacted unless --no-redact, and refusal without privileges. Ground truth: the
# requests this test sends itself, with the headers it chose, the processes it starts
# and ends, and the kernel's fdinfo of the ring buffer.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

"$EHTTP" attach help >"$TMP/help" || fail "help exit status"
grep -q -- '--snaplen' "$TMP/help" && grep -q -- '--duration' "$TMP/help" || fail "help lists the options"
"$EHTTP" attach --frobnicate 2>"$TMP/err"
expect_eq "unknown option exit status" 2 "$?"
grep -q "^Error: what is '--frobnicate'?" "$TMP/err" || fail "unknown option message: $(cat "$TMP/err")"
"$EHTTP" -j attach --status 6xx >"$TMP/err.json"
expect_eq "bad --status exit status" 2 "$?"
jq -e '.error | test("status")' "$TMP/err.json" >/dev/null || fail "JSON error: $(cat "$TMP/err.json")"
"$EHTTP" attach --snaplen 100000 2>/dev/null
expect_eq "--snaplen out of range" 2 "$?"
"$EHTTP" attach -B 10 2>/dev/null
expect_eq "-B out of range" 2 "$?"
sleep 0.1 & gone=$!
wait "$gone"
"$EHTTP" attach -p "$gone" 2>"$TMP/err"
expect_eq "-p of a process that is gone: exit status" 1 "$?"
grep -q "^Error: no process with pid $gone" "$TMP/err" || fail "-p message: $(cat "$TMP/err")"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$EHTTP" attach 2>"$TMP/err"
expect_eq "unprivileged exit status" 1 "$?"
grep -q "needs root" "$TMP/err" || fail "unprivileged message: $(cat "$TMP/err")"

mkdir -p "$TMP/www"
echo hello >"$TMP/www/hello.txt"
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_port "$port"
url=http://127.0.0.1:$port/hello.txt

# -B sizes the ring buffer, in KiB rounded up to a power of two: the kernel's own word
# on the map, from the fdinfo of the capture's ring buffer (map_type 27).
attach_start "$TMP/buf.json" -B 1000
ring=$(grep -l '^map_type:[[:space:]]*27$' /proc/"$ATTACH_PID"/fdinfo/* 2>/dev/null | head -n 1)
[ -n "$ring" ] || fail "-B: no ring buffer among the capture's fds"
expect_eq "-B 1000: ring buffer bytes" 1048576 "$(awk '/^max_entries:/ { print $2 }' "$ring")"
# A second capture meanwhile is told that the first one's programs run on every call.
"$EHTTP" attach --duration 1 >/dev/null 2>"$TMP/second.err" || fail "second attach: $(cat "$TMP/second.err")"
grep -q "^Warning: ehttp\[$ATTACH_PID\] already has programs on sock_send_length, sock_recv_length" "$TMP/second.err" ||
	fail "no warning about the capture already running: $(cat "$TMP/second.err")"
# With more links than it lists (16), it says how many more: bpftool counts them.
others=()
for i in 1 2 3 4 5; do
	"$EHTTP" attach -p $$ --duration 30 >/dev/null 2>"$TMP/other.$i.err" &
	others+=($!)
	on_exit "kill -INT $! 2>/dev/null; wait $! 2>/dev/null"
done
for i in 1 2 3 4 5; do
	for _ in $(seq 1 100); do grep -qs '^Attached' "$TMP/other.$i.err" && break; sleep 0.1; done
done
links=$(bpftool -j link show | jq '[.[] | select(.type == "raw_tracepoint") |
	select(.tp_name | IN("sock_send_length", "sock_recv_length", "inet_sock_set_state",
			     "sys_exit", "sys_enter"))] | length')
[ "$links" -gt 16 ] || fail "expected more than 16 links from six captures, bpftool counts $links"
"$EHTTP" attach --duration 1 >/dev/null 2>"$TMP/seventh.err" || fail "seventh attach: $(cat "$TMP/seventh.err")"
grep -q "^Warning: $((links - 16)) more links are on those tracepoints" "$TMP/seventh.err" ||
	fail "no word of the $((links - 16)) links past the 16 listed: $(cat "$TMP/seventh.err")"
echo "ok: $links links on the tracepoints, the warning lists 16 and counts $((links - 16)) more"
kill -INT "${others[@]}"
wait "${others[@]}"
attach_stop "$TMP/buf.json"

# -c 3 ends by itself after exactly three spans.
attach_start "$TMP/count.json" -p "$srv" -c 3
for i in 1 2 3 4 5; do curl -s -o /dev/null "$url?n=$i"; done
for i in $(seq 1 100); do kill -0 "$ATTACH_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ATTACH_PID" 2>/dev/null && fail "-c 3 did not end the capture"
wait "$ATTACH_PID"
expect_eq "-c exit status" 0 "$?"
expect_eq "-c 3 spans" 3 "$(wc -l <"$TMP/count.json")"
grep -q '^3 spans, ' "$TMP/count.json.err" || fail "-c summary: $(tail -n 1 "$TMP/count.json.err")"

# --duration 2 ends by itself.
start=$(date +%s)
attach_start "$TMP/dur.json" -p "$srv" --duration 2
wait "$ATTACH_PID"
expect_eq "--duration exit status" 0 "$?"
took=$(( $(date +%s) - start ))
[ "$took" -le 15 ] || fail "--duration 2 took ${took}s"
grep -q '^0 spans, ' "$TMP/dur.json.err" || fail "--duration summary: $(tail -n 1 "$TMP/dur.json.err")"

# -p: once the process has exited the capture ends by itself, as strace -p does, even
# while its parent has not reaped it (a zombie makes no more calls).
python3 -c '
import os, sys, time
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
time.sleep(60)' >"$TMP/child.pid" &
parent=$!
on_exit "kill $parent 2>/dev/null"
for i in $(seq 1 50); do [ -s "$TMP/child.pid" ] && break; sleep 0.1; done
child=$(cat "$TMP/child.pid")
attach_start "$TMP/gone.json" -p "$child"
kill "$child"
for i in $(seq 1 100); do kill -0 "$ATTACH_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$ATTACH_PID" 2>/dev/null && fail "the -p process exiting did not end the capture"
wait "$ATTACH_PID"
expect_eq "-p exited: exit status" 0 "$?"
grep -q '^Every process given with -p has exited$' "$TMP/gone.json.err" ||
	fail "-p exited: $(cat "$TMP/gone.json.err")"
grep -q '^0 spans, ' "$TMP/gone.json.err" || fail "-p exited summary: $(tail -n 1 "$TMP/gone.json.err")"
kill "$parent"

# Text lines reach a file span by span, while the capture still runs; SIGTERM ends it.
"$EHTTP" attach -p "$srv" >"$TMP/text.out" 2>"$TMP/text.err" &
text_pid=$!
on_exit "kill $text_pid 2>/dev/null"
for i in $(seq 1 300); do grep -qs '^Attached' "$TMP/text.err" && break; sleep 0.1; done
curl -s -o /dev/null "$url?text=1"
for i in $(seq 1 50); do grep -q 'hello.txt?text=1' "$TMP/text.out" && break; sleep 0.1; done
grep -qE "^[0-9:.]+ python3\[$srv\] server 127\.0\.0\.1:[0-9]+ GET /hello\.txt\?text=1 200 " "$TMP/text.out" ||
	fail "text line not written while running: $(cat "$TMP/text.out")"
kill -TERM "$text_pid"
wait "$text_pid"
expect_eq "SIGTERM exit status" 0 "$?"
grep -q '^1 span, .* 0 dropped, 0 lost$' "$TMP/text.err" || fail "SIGTERM summary: $(tail -n 1 "$TMP/text.err")"

# Credentials: redacted by default, kept with --no-redact.
attach_start "$TMP/redacted.json" -p "$srv" --headers
redacted_pid=$ATTACH_PID
attach_start "$TMP/plain.json" -p "$srv" --headers --no-redact
curl -s -o /dev/null -H "Authorization: Bearer s3cr3t-token" -H "Cookie: session=c00kie-value" "$url?auth=1"
attach_stop "$TMP/plain.json"
ATTACH_PID=$redacted_pid
attach_stop "$TMP/redacted.json"
jq -r .req_headers "$TMP/redacted.json" >"$TMP/redacted.hdr"
jq -r .req_headers "$TMP/plain.json" >"$TMP/plain.hdr"
grep -q '^Authorization: ' "$TMP/redacted.hdr" || fail "no Authorization header kept: $(cat "$TMP/redacted.hdr")"
grep -q 's3cr3t-token\|c00kie-value' "$TMP/redacted.hdr" && fail "credentials not redacted: $(cat "$TMP/redacted.hdr")"
grep -q 's3cr3t-token' "$TMP/plain.hdr" && grep -q 'c00kie-value' "$TMP/plain.hdr" ||
	fail "--no-redact lost the values: $(cat "$TMP/plain.hdr")"
expect_eq "redacted flag" true "$(jq '.flags // [] | index("redacted") != null' "$TMP/redacted.json")"
echo "attach command line behaves"
