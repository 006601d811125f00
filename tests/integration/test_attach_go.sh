# ehttp attach against a Go net/http server built here: chunked responses, a 1 MB
# response, a POST of 40 KB (with curl's Expect: 100-continue), 204, 404, 500, HEAD,
# keep-alive, pipelining, concurrent connections, IPv6 loopback; and the user-space
# filters (--method, --status, --path) in a second capture running alongside.
# Ground truth: the server's own log of every request it handled (method, target,
# status), and what curl and the pipelining client saw.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
command -v go >/dev/null || skip "go is not installed"

go_build httpserver "$TMP/httpserver"
port=$(free_port)
"$TMP/httpserver" ":$port" >"$TMP/server.log" 2>"$TMP/server.err" &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_port "$port"

out=$TMP/spans.json
attach_start "$out" --port "$port"
all_pid=$ATTACH_PID
filtered=$TMP/filtered.json
attach_start "$filtered" --port "$port" --method get --status 4xx --path /status/
filtered_pid=$ATTACH_PID
ATTACH_PID=$all_pid

base=http://127.0.0.1:$port
head -c 40000 /dev/urandom >"$TMP/post.bin"
: >"$TMP/client.truth"
curl_truth "$base/" "$base/chunked" "$base/big" "$base/status/404" "$base/status/500" \
	"$base/status/204" "$base/nothing-here?x=1" >>"$TMP/client.truth"
curl_truth -I -- "$base/" >>"$TMP/client.truth"
curl_truth --data-binary "@$TMP/post.bin" -- "$base/echo" "$base/echo" >>"$TMP/client.truth"
curl_truth -g -- "http://[::1]:$port/chunked" "http://[::1]:$port/status/418" >>"$TMP/client.truth"
pids=()
for i in 1 2 3 4 5; do
	curl_truth "$base/status/200?c=$i" "$base/chunked?c=$i" "$base/status/404?c=$i" >"$TMP/client.$i" &
	pids+=($!)
done
wait "${pids[@]}"
cat "$TMP"/client.[1-5] >>"$TMP/client.truth"
python3 tests/fixtures/pipeline.py 127.0.0.1 "$port" GET:/chunked GET:/status/503 GET:/big GET:/ \
	>>"$TMP/client.truth" || fail "pipelining client"

attach_stop "$out"
ATTACH_PID=$filtered_pid
attach_stop "$filtered"

spans "$out" server >"$TMP/server.seen"
expect_set "server spans vs the server's log" "$TMP/server.log" "$TMP/server.seen"
spans "$out" client >"$TMP/client.seen"
expect_set "client spans vs curl and the pipelining client" "$TMP/client.truth" "$TMP/client.seen"

# The filtered capture saw exactly the matching subset, server and client spans alike.
grep -E '^GET /status/4[0-9][0-9]' "$TMP/server.log" >"$TMP/filtered.truth"
grep -E '^GET /status/4[0-9][0-9]' "$TMP/client.truth" >>"$TMP/filtered.truth"
jq -r '"\(.method) \(.target) \(.status)"' "$filtered" >"$TMP/filtered.seen"
expect_set "spans through --method get --status 4xx --path /status/" "$TMP/filtered.truth" "$TMP/filtered.seen"

# Sizes the test can know: the 1 MB body, and the POST bodies.
jq -r 'select(.role == "server" and .target == "/big") | .resp_bytes' "$out" | while read -r n; do
	[ "$n" -gt 1048576 ] && [ "$n" -lt 1049600 ] || fail "/big response of $n bytes"
done
jq -r 'select(.target == "/echo") | .req_bytes' "$out" | while read -r n; do
	[ "$n" -gt 40000 ] && [ "$n" -lt 40600 ] || fail "/echo request of $n bytes"
done
expect_eq "IPv6 server spans" 2 "$(jq -r 'select(.role == "server" and (.remote | startswith("[::1]:"))) | .target' "$out" | wc -l)"
expect_eq "server spans carry the server's pid" "$srv" "$(jq -r 'select(.role == "server") | .pid' "$out" | sort -u)"
echo "Go net/http spans match"
