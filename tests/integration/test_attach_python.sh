# ehttp attach -p PID against `python3 -m http.server` (HTTP/1.0, a connection per
# request, bodies written in pieces): files, a directory listing, 404, HEAD, a 1 MB
# file, IPv6 loopback, concurrent clients. Ground truth: the server's own request log.
# A second server on the same port range is not traced: -p keeps the capture to one.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

www=$TMP/www
mkdir -p "$www/dir"
echo hello >"$www/hello.txt"
echo inside >"$www/dir/inside.txt"
head -c 1048576 /dev/urandom >"$www/big.bin"

port=$(free_port)
python3 -u -m http.server "$port" --bind 127.0.0.1 --directory "$www" 2>"$TMP/server.log" >/dev/null &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
port6=$(free_port)
python3 -u -m http.server "$port6" --bind ::1 --directory "$www" 2>"$TMP/server6.log" >/dev/null &
srv6=$!
on_exit "kill $srv6 2>/dev/null; wait $srv6 2>/dev/null"
# Not traced: a third server, same content.
port_other=$(free_port)
python3 -m http.server "$port_other" --bind 127.0.0.1 --directory "$www" >/dev/null 2>&1 &
other=$!
on_exit "kill $other 2>/dev/null; wait $other 2>/dev/null"
wait_port "$port"
wait_port "$port6" ::1
wait_port "$port_other"

out=$TMP/spans.json
attach_start "$out" -p "$srv" -p "$srv6"

base=http://127.0.0.1:$port
curl_truth "$base/hello.txt" "$base/dir/" "$base/dir/inside.txt" "$base/big.bin" "$base/nope" "$base/hello.txt?v=2" >/dev/null
curl_truth -I -- "$base/hello.txt" >/dev/null
curl_truth -g -- "http://[::1]:$port6/hello.txt" "http://[::1]:$port6/missing" >/dev/null
pids=()
for i in 1 2 3 4; do
	curl_truth "$base/hello.txt?c=$i" "$base/nope?c=$i" >/dev/null &
	pids+=($!)
done
wait "${pids[@]}"
curl_truth "http://127.0.0.1:$port_other/hello.txt" >/dev/null
sleep 0.3 # the server logs after it answered
attach_stop "$out"

# '127.0.0.1 - - [date] "GET /x HTTP/1.1" 404 -': method, target, status.
sed -nE 's/^.*"([A-Z]+) ([^ ]+) HTTP\/1\.[01]" ([0-9]{3}) .*$/\1 \2 \3/p' \
	"$TMP/server.log" "$TMP/server6.log" >"$TMP/server.truth"
spans "$out" server >"$TMP/server.seen"
expect_set "server spans vs the servers' logs" "$TMP/server.truth" "$TMP/server.seen"
expect_eq "only the selected processes" "$(printf '%s\n' "$srv" "$srv6" | sort -n)" \
	"$(jq -r .pid "$out" | sort -nu)"
expect_eq "no client spans (curl was not selected)" 0 "$(spans "$out" client | wc -l)"
expect_eq "request version (curl speaks HTTP/1.1)" "HTTP/1.1" "$(jq -r .version "$out" | sort -u)"
# HTTP/1.0 responses end each connection: one span per connection.
expect_eq "connections" "$(wc -l <"$TMP/server.truth")" "$(jq -r .conn_id "$out" | sort -u | wc -l)"
expect_eq "IPv6 spans" 2 "$(jq -r 'select(.local == "[::1]:'"$port6"'") | .target' "$out" | wc -l)"
jq -r 'select(.target == "/big.bin" and .method == "GET") | .resp_bytes' "$out" | {
	read -r n || fail "no span for /big.bin"
	[ "$n" -gt 1048576 ] && [ "$n" -lt 1049600 ] || fail "/big.bin response of $n bytes"
	echo "ok: /big.bin response of $n bytes"
}
echo "python http.server spans match"
