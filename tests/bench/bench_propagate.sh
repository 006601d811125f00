# What --propagate=sockmsg costs: wrk → nginx (one worker) on loopback, wrk selected
# with --comm so that every request it sends is rewritten in the kernel. Interleaved
# rounds of: no ehttp (base), `ehttp -j attach --comm wrk` (capture), and the same with
# --propagate=sockmsg (propagate). Reports requests/s, the per-round ratios
# propagate/capture and propagate/base (median and range: a shared VM drifts by more
# than a round), the requests rewritten (from ehttp's summary, against wrk's count),
# and the time per rewritten request: 1e9/rps(propagate) - 1e9/rps(capture) ns, which
# is its cost on the critical path while the two cores are saturated.
#
#   DURATION=10 ROUNDS=6 WRK_CONNS=32 tests/bench/bench_propagate.sh
set -u
. tests/integration/lib.sh
. tests/integration/nginx_lib.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-6}
WRK_CONNS=${WRK_CONNS:-32}
for tool in wrk nginx jq; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done

mkdir -p "$TMP/nginx/www"
head -c 1200 /dev/urandom >"$TMP/nginx/www/page.bin"
NGINX_NO_LOG=1 nginx_start 1
url=http://127.0.0.1:$NGINX_PORT/page.bin
wrk -t1 -c4 -d1s "$url" >/dev/null # warm up

rps() { # wrk output on stdin → requests/s
	awk '/^Requests\/sec:/ { print $2 }'
}
requests() {
	awk '/requests in/ { print $1 }'
}

run_mode() { # MODE → "rps injected requests"
	local mode=$1 args=() out=$TMP/wrk.$1 ehttp=
	case $mode in
	capture) args=(--comm wrk) ;;
	propagate) args=(--comm wrk --propagate=sockmsg) ;;
	esac
	if [ "$mode" != base ]; then
		"$EHTTP" -j attach "${args[@]}" >/dev/null 2>"$TMP/err.$mode" &
		ehttp=$!
		for _ in $(seq 1 300); do grep -qs '^Attached' "$TMP/err.$mode" && break; sleep 0.1; done
	fi
	wrk -t1 -c"$WRK_CONNS" -d"${DURATION}s" "$url" >"$out"
	if [ -n "$ehttp" ]; then
		kill -INT "$ehttp"
		wait "$ehttp"
	fi
	echo "$(rps <"$out") $(sed -n 's/^propagation: \([0-9]*\) injected.*/\1/p' "$TMP/err.$mode" 2>/dev/null | head -n 1) $(requests <"$out") $(sed -n 's/^propagation: .*, \([0-9]*\) records dropped$/\1/p' "$TMP/err.$mode" 2>/dev/null | head -n 1)"
}

modes=(base capture propagate)
declare -A sum
ratios_cap=() ratios_base=() costs=()
for r in $(seq 1 "$ROUNDS"); do
	declare -A got=()
	for i in 0 1 2; do # the order turns each round
		m=${modes[$(((i + r) % 3))]}
		got[$m]=$(run_mode "$m")
	done
	read -r base _ _ <<<"${got[base]}"
	read -r cap _ _ <<<"${got[capture]}"
	read -r prop inj reqs dropped <<<"${got[propagate]}"
	ratios_cap+=("$(echo "$prop / $cap" | bc -l)")
	ratios_base+=("$(echo "$prop / $base" | bc -l)")
	costs+=("$(echo "1000000000 / $prop - 1000000000 / $cap" | bc -l)")
	printf '   round %d: base %.0f/s, capture %.0f/s, propagate %.0f/s (%s of %s requests rewritten, %s records dropped)\n' \
		"$r" "$base" "$cap" "$prop" "${inj:-?}" "$reqs" "${dropped:-?}"
done
stats() { # values... → "median (min-max)"
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f (%.3f-%.3f)", m, v[1], v[NR] }'
}
echo "   propagate/capture: $(stats "${ratios_cap[@]}")"
echo "   propagate/base:    $(stats "${ratios_base[@]}")"
echo "   ns per rewritten request (1e9/rps difference, propagate - capture): $(stats "${costs[@]}")"
