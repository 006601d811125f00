# What `ehttp attach` costs an HTTP/2 server: h2load (nghttp2-client) → nginx with
# `listen ... http2` (h2c, one worker) on loopback, rounds that interleave runs without
# tracing and with `ehttp -j attach -p WORKER > file`. Reports requests/s of the traced
# runs against the mean of the untraced runs around them (median and range over the
# rounds), completeness (server spans / requests h2load completed), events the kernel
# dropped, and ehttp's CPU time per span.
#
#   DURATION=10 ROUNDS=5 H2_CLIENTS=8 H2_STREAMS=16 tests/bench/bench_http2.sh
set -u
. tests/integration/lib.sh
. tests/integration/nginx_lib.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
H2_CLIENTS=${H2_CLIENTS:-8}  # connections
H2_STREAMS=${H2_STREAMS:-16} # concurrent streams per connection
for tool in h2load nginx jq; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done

mkdir -p "$TMP/nginx/www"
head -c 1200 /dev/urandom >"$TMP/nginx/www/page.bin"
NGINX_NO_LOG=1 NGINX_LISTEN=http2 nginx_start 1
nginx_worker || { echo "   no nginx worker"; exit 1; }
worker=$NGINX_WORKER
url=http://127.0.0.1:$NGINX_PORT/page.bin
h2load -c 2 -m 4 -D 1 "$url" >/dev/null 2>&1 # warm up

# run_load OUT: h2load for DURATION; "REQ/S COMPLETED STARTED" to stdout. Requests in
# flight when h2load stops are started, not completed, and nginx may still answer them:
# server spans fall between the two.
run_load() {
	h2load -c "$H2_CLIENTS" -m "$H2_STREAMS" -D "$DURATION" "$url" >"$1" 2>&1 || { echo "0 0 0"; return; }
	awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($i ~ /req\/s/) rps = $(i - 1) }
	     /^requests:/ { for (i = 1; i <= NF; i++) { if ($i == "succeeded,") ok = $(i - 1); if ($i == "started,") st = $(i - 1) } }
	     END { gsub(",", "", rps); print rps + 0, ok + 0, st + 0 }' "$1"
}

# cpu_of PID: user+sys seconds so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

ratios=() spans_total=0 done_total=0 started_total=0 cpu_total=0 dropped_total=0
for r in $(seq 1 "$ROUNDS"); do
	read -r base1 _ < <(run_load "$TMP/base1.out")
	out=$TMP/spans.$r.json
	"$EHTTP" -j attach -p "$worker" >"$out" 2>"$out.err" &
	tracer=$!
	for _ in $(seq 1 600); do grep -qs '^Attached' "$out.err" && break; sleep 0.1; done
	cpu0=$(cpu_of "$tracer")
	read -r traced completed started < <(run_load "$TMP/traced.out")
	sleep 1 # the last spans
	cpu1=$(cpu_of "$tracer")
	kill -INT "$tracer"
	wait "$tracer"
	read -r base2 _ < <(run_load "$TMP/base2.out")
	spans=$(jq -c 'select(.role == "server" and .version == "HTTP/2")' "$out" | wc -l)
	dropped=$(sed -n 's/.* events, [0-9]* connections, \([0-9]*\) dropped.*/\1/p' "$out.err")
	ratio=$(awk -v t="$traced" -v a="$base1" -v b="$base2" 'BEGIN { m = (a + b) / 2; printf "%.3f", m ? t / m : 0 }')
	ratios+=("$ratio")
	spans_total=$((spans_total + spans))
	done_total=$((done_total + completed))
	started_total=$((started_total + started))
	dropped_total=$((dropped_total + ${dropped:-0}))
	cpu_total=$(awk -v a="$cpu_total" -v b="$cpu1" -v c="$cpu0" 'BEGIN { printf "%.2f", a + b - c }')
	printf '   round %d: untraced %s and %s req/s, traced %s (ratio %s), %s spans / %s requests, %s dropped, ehttp %.2fs CPU\n' \
		"$r" "$base1" "$base2" "$traced" "$ratio" "$spans" "$completed" "${dropped:-?}" \
		"$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { print a - b }')"
	rm -f "$out"
done
sorted=$(printf '%s\n' "${ratios[@]}" | sort -n)
printf '   throughput ratio (traced / untraced): median %s, range %s-%s over %d rounds\n' \
	"$(sed -n "$(( (ROUNDS + 1) / 2 ))p" <<<"$sorted")" "$(head -n 1 <<<"$sorted")" "$(tail -n 1 <<<"$sorted")" "$ROUNDS"
awk -v s="$spans_total" -v d="$done_total" -v st="$started_total" -v x="$dropped_total" -v c="$cpu_total" 'BEGIN {
	printf "   completeness: %d spans / %d requests completed = %.4f (%d started), %d events dropped\n", s, d, d ? s / d : 0, st, x
	printf "   ehttp CPU per span: %.2f us\n", s ? c * 1e6 / s : 0 }'
