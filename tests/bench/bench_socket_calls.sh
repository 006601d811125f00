# What `ehttp attach` adds to each socket call, without a load generator's scheduling
# noise: one thread runs both ends of a loopback connection (bench_socket_calls.c: write,
# read, writev, read per exchange, four traced calls), interleaved runs without and with
# `ehttp -j attach --comm` for each kind of hooks. Reports exchanges/s, the time added
# per call, and the BPF programs' own time per run (kernel.bpf_stats_enabled, in one
# extra run: the statistics themselves cost two clock reads per run).
#
#   SECONDS_PER=2 ROUNDS=5 tests/bench/bench_socket_calls.sh
set -u
. tests/integration/lib.sh
SECONDS_PER=${SECONDS_PER:-2}
ROUNDS=${ROUNDS:-5}
OUT=${OUT:-build}
CC=${CC:-cc}
bin=$OUT/bench/bench_socket_calls
mkdir -p "$OUT/bench"
$CC -std=gnu11 -O2 -D_GNU_SOURCE -o "$bin" tests/bench/bench_socket_calls.c || exit 1
command -v bpftool >/dev/null || { echo "   bpftool is missing"; exit 1; }
comm=$(basename "$bin" | cut -c1-15) # the kernel keeps 15 bytes of a name
# The loop on one CPU, so that ehttp's reader runs on another as a server's would.
pin=()
[ "$(nproc)" -gt 1 ] && pin=(taskset -c 1)

run_loop() { "${pin[@]}" "$bin" "$SECONDS_PER" 1; }

# Start `ehttp attach` with the hooks $1, the ids of the programs it loaded in $PROGS.
start_ehttp() {
	local before i
	before=$(bpftool -j prog show | jq -r '.[].id' | sort)
	rm -f "$TMP/err" # not the last run's "Attached"
	"$EHTTP" -j attach --hooks "$1" --comm "$comm" >"$TMP/spans" 2>"$TMP/err" &
	EHTTP_PID=$!
	for i in $(seq 1 600); do
		grep -qs '^Attached' "$TMP/err" && break
		kill -0 "$EHTTP_PID" 2>/dev/null || { echo "   ehttp did not start: $(cat "$TMP/err")"; exit 1; }
		sleep 0.1
	done
	PROGS=$(comm -13 <(echo "$before") <(bpftool -j prog show | jq -r '.[].id' | sort))
}
stop_ehttp() {
	kill -INT "$EHTTP_PID"
	wait "$EHTTP_PID"
}

hooks_list="sockets syscalls"
: >"$TMP/results"
for _ in $(seq 1 "$ROUNDS"); do
	echo "base $(run_loop)" >>"$TMP/results"
	for hooks in $hooks_list; do
		start_ehttp "$hooks"
		rate=$(run_loop)
		stop_ehttp
		echo "$hooks $rate $(wc -l <"$TMP/spans")" >>"$TMP/results"
	done
done

# BPF run time per run, from one more traced run with the statistics on.
stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$stats_was"' EXIT
for hooks in $hooks_list; do
	start_ehttp "$hooks"
	sysctl -qw kernel.bpf_stats_enabled=1
	run_loop >/dev/null
	for id in $PROGS; do
		bpftool -j prog show id "$id" |
			jq -r --arg h "$hooks" 'select(.run_cnt != null and .run_cnt > 0) | "stats \($h) \(.name) \(.run_cnt) \(.run_time_ns)"'
	done >>"$TMP/results"
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	stop_ehttp
done

awk -v secs="$SECONDS_PER" -v rounds="$ROUNDS" '
function median(list, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && list[j - 1] > list[j]; j--) { t = list[j]; list[j] = list[j - 1]; list[j - 1] = t }
	return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
}
$1 == "base" { b[++nb] = $2 }
$1 == "sockets" || $1 == "syscalls" { k = $1; r[k, ++n[k]] = $2; done[k] += $3; spans[k] += $4 }
$1 == "stats" { runs[$2] += $4; ns[$2] += $5 }
END {
	base = median(b, nb)
	printf "   %d rounds of %ss, one thread, write/read/writev/read per exchange on loopback\n", rounds, secs
	printf "   %-9s %8.0f exchanges/s\n", "untraced", base
	split("sockets syscalls", order, " ")
	for (o = 1; o <= 2; o++) {
		k = order[o]
		if (!n[k])
			continue
		for (i = 1; i <= n[k]; i++)
			v[i] = r[k, i]
		m = median(v, n[k])
		printf "   %-9s %8.0f exchanges/s   ratio %.3f   +%.0f ns per socket call", k " hooks", m,
			m / base, (1e9 / m - 1e9 / base) / 4
		if (runs[k])
			printf "   (BPF %.0f ns per program run)", ns[k] / runs[k]
		printf "   spans %.4f of 2 per exchange\n", spans[k] / (2 * done[k])
	}
}' "$TMP/results"
