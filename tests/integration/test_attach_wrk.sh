# ehttp attach while wrk loads nginx over keep-alive connections: every request nginx
# logged is a server span, none more, none dropped, and wrk's completed requests are
# all among them. Ground truth: nginx's access log and wrk's own count.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh
command -v wrk >/dev/null || skip "wrk is not installed"

mkdir -p "$TMP/nginx/www"
head -c 2000 /dev/urandom >"$TMP/nginx/www/page.bin"
nginx_start 1

out=$TMP/spans.json
attach_start "$out" --port "$NGINX_PORT"
wrk -t2 -c8 -d3s "http://127.0.0.1:$NGINX_PORT/page.bin" >"$TMP/wrk.txt" || fail "wrk failed"
cat "$TMP/wrk.txt"
sleep 0.5
attach_stop "$out"

completed=$(awk '/requests in/ {print $1}' "$TMP/wrk.txt")
logged=$(wc -l <"$TMP/nginx/logs/access.log")
seen=$(jq -r 'select(.role == "server") | .status' "$out" | wc -l)
dropped=$(sed -nE 's/.* ([0-9]+) dropped.*/\1/p' "$out.err")
echo "wrk completed $completed, nginx logged $logged, ehttp saw $seen server spans, $dropped events dropped"
expect_eq "events dropped" 0 "$dropped"
expect_eq "server spans vs nginx's access log" "$logged" "$seen"
[ "$seen" -ge "$completed" ] || fail "fewer spans ($seen) than requests wrk completed ($completed)"
# When wrk stops, it resets connections with a request in flight: nginx logs those
# with fewer bytes than a whole response, and their spans are partial. Every other
# span is whole.
full=$(awk '{print $6}' "$TMP/nginx/logs/access.log" | sort | uniq -c | sort -rn | awk 'NR == 1 {print $2}')
cut=$(awk -v full="$full" '$6 != full' "$TMP/nginx/logs/access.log" | wc -l)
partial=$(jq -r 'select(.role == "server" and (.flags // [] | index("partial"))) | .status' "$out" | wc -l)
echo "whole responses are $full bytes; nginx logged $cut cut short, ehttp saw $partial partial spans"
[ "$partial" -le "$cut" ] || fail "$partial partial spans, but nginx cut only $cut responses short"
expect_eq "every whole span a 200 for /page.bin" "GET /page.bin 200" \
	"$(jq -r 'select(.role == "server" and (.flags // [] | index("partial") | not)) | "\(.method) \(.target) \(.status)"' "$out" | sort -u)"
expect_eq "sizes of whole responses nginx did not log" "" \
	"$(comm -23 <(jq -r 'select(.role == "server" and (.flags // [] | index("partial") | not)) | .resp_bytes' "$out" | sort -u) \
		<(awk '{print $6}' "$TMP/nginx/logs/access.log" | sort -u))"
