# How long `ehttp check` takes, end to end (fork/exec included), as root: mean and
# worst of N runs. The issue asks for well under 100 ms.
# Two figures: isolated runs (a second apart), and back-to-back runs, where each run
# waits on the kernel's tracepoint mutex while the previous run's probe events are
# still being released (about a second of RCU waits, off the previous run's clock).
set -u
EHTTP=${EHTTP:-build/ehttp}
N=${N:-20}
"$EHTTP" check >/dev/null # mounts done, caches warm

measure() { # label gap-seconds args...
	local label=$1 gap=$2 total=0 worst=0 d t0 t1
	shift 2
	for _ in $(seq "$N"); do
		sleep "$gap"
		t0=$(date +%s%N)
		"$EHTTP" "$@" >/dev/null
		t1=$(date +%s%N)
		d=$(( (t1 - t0) / 1000 ))
		total=$((total + d))
		[ $d -gt $worst ] && worst=$d
	done
	printf '   %-34s mean %d.%03d ms, worst %d.%03d ms (%d runs)\n' "$label" \
		$((total / N / 1000)) $((total / N % 1000)) $((worst / 1000)) $((worst % 1000)) "$N"
}
measure "ehttp check, isolated" 1.5 check
measure "ehttp -j check, isolated" 1.5 -j check
measure "ehttp check, back to back" 0 check
