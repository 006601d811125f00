# Helpers shared by the benchmarks that run wrk against a server with a tracer
# alongside (sourced after tests/integration/lib.sh). They use $url, $DURATION,
# $WRK_THREADS, $WRK_CONNS and append to $TMP/results.

# start_tracer READY-PATTERN READY-FILE CMD...: run the tracer CMD in the background and
# return once READY-FILE has a line matching READY-PATTERN. TRACER is the wrapper that
# writes the tracer's CPU time (user+sys, s) to $TMP/cpu when it ends, TRACER_CHILD the
# tracer, STARTUP_CPU the CPU it spent starting (BPF verification, mostly), in seconds.
start_tracer() {
	local pattern=$1 file=$2 i
	shift 2
	python3 -c '
import resource, signal, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
signal.signal(signal.SIGINT, lambda *a: p.send_signal(signal.SIGINT))
signal.signal(signal.SIGTERM, lambda *a: p.send_signal(signal.SIGINT))
p.wait()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.2f\n" % (r.ru_utime + r.ru_stime))
' "$TMP/cpu" "$@" &
	TRACER=$!
	for i in $(seq 1 600); do
		if grep -qs "$pattern" "$file"; then
			local ticks
			TRACER_CHILD=$(pgrep -P "$TRACER" | head -n 1)
			ticks=$(awk '{print $14 + $15}' "/proc/$TRACER_CHILD/stat" 2>/dev/null || echo 0)
			STARTUP_CPU=$(awk -v t="${ticks:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
			return 0
		fi
		kill -0 "$TRACER" 2>/dev/null || break
		sleep 0.1
	done
	echo "   tracer did not start: $(tail -n 3 "$file")"
	exit 1
}

stop_tracer() {
	kill -INT "$TRACER"
	wait "$TRACER"
}

# run_wrk MODE ROUND: one wrk run; "MODE ROUND REQ/S P99-US COMPLETED" to the results,
# and DONE = the requests it completed.
run_wrk() {
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --latency "$url" >"$TMP/wrk.$1.$2" 2>&1
	local rps p99
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.$1.$2")
	DONE=$(awk '/requests in/ {print $1}' "$TMP/wrk.$1.$2")
	# "     99%    1.23ms" → microseconds
	p99=$(awk '$1 == "99%" { v = $2; u = 1; if (v ~ /us$/) u = 1; else if (v ~ /ms$/) u = 1000; else if (v ~ /s$/) u = 1000000; sub(/[a-z]+$/, "", v); printf "%.0f", v * u }' "$TMP/wrk.$1.$2")
	echo "$1 $2 $rps $p99 $DONE" >>"$TMP/results"
}
