# record --metrics scraped by Debian's Prometheus during a workload of known size
# (curl against nginx: 200s, 404s on /users/{id}, 503s). Ground truth: the load
# generator's own counts, and `replay --stats` and the span durations of the recording
# of the same traffic. Prometheus's query API must agree with both, bucket by bucket,
# and the route cap must fold the third route into one series, counted.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/nginx_lib.sh

command -v prometheus >/dev/null || skip "prometheus missing (sh packaging/deps.sh)"
nginx_start 1
nginx_worker # only this test's nginx: other nginx may run on the host

mport=$(free_port)
pport=$(free_port)
cat >"$TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: ehttp
    static_configs:
      - targets: ['127.0.0.1:$mport']
CONF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$pport" >"$TMP/prometheus.log" 2>&1 &
prom=$!
on_exit "kill $prom 2>/dev/null; wait $prom 2>/dev/null"
wait_port "$pport"

# The recording and the metrics come from one capture; routes are capped at 2 so that
# the third one (/fail, first seen last) folds.
record_start "$TMP/record.err" -o "$TMP/rec.pcapng" -p "$NGINX_WORKER" --metrics "$mport" --metrics-routes 2
rec=$RECORD_PID
grep -q "^Metrics: serving http://127.0.0.1:$mport/metrics$" "$TMP/record.err" || fail "no metrics line: $(cat "$TMP/record.err")"

base=http://127.0.0.1:$NGINX_PORT
urls=()
for i in $(seq 1 60); do urls+=("$base/index.html"); done
for i in $(seq 1 40); do urls+=("$base/users/$i"); done
for i in $(seq 1 25); do urls+=("$base/fail"); done
curl_truth "${urls[@]}" >"$TMP/load.truth"
sent=$(wc -l <"$TMP/load.truth")
expect_eq "requests the load generator made" 125 "$sent"

query() { curl -sf "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" | jq -c '.data.result'; }
for i in $(seq 1 100); do
	n=$(query 'sum(http_server_request_duration_seconds_count{service="nginx"})' | jq -r '.[0].value[1] // 0')
	[ "$n" = "$sent" ] && break
	sleep 0.2
done
expect_eq "Prometheus's count of server requests" "$sent" "$n"
by_route=$(query 'sum by (method, route, status_code) (http_server_request_duration_seconds_count{service="nginx"})' |
	jq -r '.[] | "\(.metric.method)|\(.metric.route)|\(.metric.status_code)|\(.value[1])"' | sort)
buckets=$(query 'sum by (le) (http_server_request_duration_seconds_bucket{service="nginx"})' |
	jq -r '.[] | "\(.metric.le) \(.value[1])"' | sort -g)
folded=$(query 'ehttp_metrics_routes_folded_total' | jq -r '.[0].value[1]')
kill -INT "$rec"
wait "$rec" || fail "record failed: $(cat "$TMP/record.err")"
cat "$TMP/record.err"

# The load generator's counts ("METHOD TARGET STATUS" per request), by route.
expect_eq "per route and status, against the load generator" \
	"$(sed -E -e 's#/users/[0-9]+#/users/{id}#' -e 's# /fail # (other routes) #' "$TMP/load.truth" |
		sort | uniq -c | awk '{ s = $1; $1 = ""; sub(/^ /, ""); n = split($0, f, " ");
			st = f[n]; sub(/ [0-9]+$/, ""); sub(/ /, "|"); print $0 "|" st "|" s }' | sort)" \
	"$by_route"
# replay --stats on the recording of the same traffic: the same routes and counts
# (the cap folds /fail, which --stats keeps).
stats=$("$EHTTP" -j replay --stats "$TMP/rec.pcapng" | jq -r '.routes[] | "\(.method)|\(.route)|\(.count)"' |
	sed 's#^GET|/fail|#GET|(other routes)|#' | sort)
expect_eq "routes and counts, against replay --stats" "$stats" \
	"$(awk -F'|' '{ print $1 "|" $2 "|" $4 }' <<<"$by_route" | sort)"
expect_eq "spans folded into (other routes)" 25 "$folded"
# Each bucket: how many recorded spans took at most that long.
"$EHTTP" -j replay "$TMP/rec.pcapng" | jq -r .duration_ns >"$TMP/durations"
while read -r le count; do
	if [ "$le" = "+Inf" ]; then want=$(wc -l <"$TMP/durations"); else
		want=$(awk -v le="$le" '$1 <= le * 1e9 { n++ } END { print n + 0 }' "$TMP/durations")
	fi
	[ "$count" = "$want" ] || fail "bucket le=$le: Prometheus has $count, the recording $want"
done <<<"$buckets"
echo "ok: $(wc -l <<<"$buckets") histogram buckets agree with the recording's durations"
grep -q '^125 spans written to ' "$TMP/record.err" || fail "record summary: $(cat "$TMP/record.err")"
grep -q '^Metrics: 25 spans folded into the route "(other routes)"' "$TMP/record.err" || fail "no folding line"
