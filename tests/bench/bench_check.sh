# How long `ehttp check` takes, end to end (fork/exec included), as root: mean and
# worst of N runs, beside `bpftool feature probe kernel`, the usual way to ask a kernel
# what BPF can do. The aim is below 50 ms. check loads the capture's own programs (the
# verifier goes through them: most of its CPU time), so it also prints CPU time.
# Two figures: isolated runs (a second apart), and back-to-back runs, where each run
# waits on the kernel's tracepoint mutex while the previous run's probe events are
# still being released (about a second of RCU waits, off the previous run's clock).
set -u
EHTTP=${EHTTP:-build/ehttp}
N=${N:-20}
"$EHTTP" check >/dev/null # mounts done, caches warm

BPFTOOL=${BPFTOOL:-bpftool}
cpu_file=$(mktemp)
trap 'rm -f "$cpu_file"' EXIT

measure() { # label gap-seconds command...
	local label=$1 gap=$2 total=0 worst=0 cpu=0 d t0 t1 c
	shift 2
	for _ in $(seq "$N"); do
		sleep "$gap"
		t0=$(date +%s%N)
		/usr/bin/time -o "$cpu_file" -f '%U %S' "$@" >/dev/null 2>&1
		c=$(tail -n 1 "$cpu_file")
		t1=$(date +%s%N)
		d=$(( (t1 - t0) / 1000 ))
		total=$((total + d))
		cpu=$((cpu + $(awk '{ printf "%d", ($1 + $2) * 1000000 }' <<<"$c")))
		[ $d -gt $worst ] && worst=$d
	done
	printf '   %-36s mean %d.%03d ms, worst %d.%03d ms, CPU %d ms (%d runs)\n' "$label" \
		$((total / N / 1000)) $((total / N % 1000)) $((worst / 1000)) $((worst % 1000)) \
		$((cpu / N / 1000)) "$N"
}
measure "ehttp check, isolated" 1.5 "$EHTTP" check
measure "ehttp -j check, isolated" 1.5 "$EHTTP" -j check
measure "ehttp check, back to back" 0 "$EHTTP" check
if command -v "$BPFTOOL" >/dev/null; then
	measure "bpftool feature probe kernel" 1.5 "$BPFTOOL" feature probe kernel
fi
