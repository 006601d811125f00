# What `ehttp attach` costs a busy server: wrk → nginx (one worker) on loopback,
# interleaved runs without tracing, with `ehttp -j attach -p WORKER > file` (the hooks
# auto picks, and --hooks syscalls when auto picks sockets), with ehttp following
# another process (the cost of the hooks alone), and with bpftrace capturing the same
# syscalls' payload prefixes for the same pid (a peer).
# Reports requests/s and p99 latency against the untraced runs, ehttp's CPU time (also
# per span), completeness (server spans / requests wrk completed) and drops.
#
# Throughput on a shared VM drifts by more than ehttp costs (untraced runs a minute
# apart differ by up to 40%), so each round runs untraced twice, sets its traced runs
# against the mean of the two, and reports the median and range of those per-round
# ratios beside the ratio of the means. One untraced run against the other (the
# control) shows how far two runs of the same thing drift, and a 95% interval from
# resampling the rounds says what the drift leaves undecided. The order of the modes
# turns each round: run ROUNDS as a multiple of their number (5, or 6 with bpftrace)
# for every mode to take every place equally often.
#
#   DURATION=10 ROUNDS=5 WRK_THREADS=1 WRK_CONNS=32 tests/bench/bench_attach.sh
#   MODES="base ehttp base2" ROUNDS=48 DURATION=8 tests/bench/bench_attach.sh
set -u
. tests/integration/lib.sh
. tests/bench/wrk_lib.sh
. tests/integration/nginx_lib.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNS=${WRK_CONNS:-32}
for tool in wrk nginx jq; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done
have_bpftrace=true
command -v bpftrace >/dev/null || have_bpftrace=false

mkdir -p "$TMP/nginx/www"
head -c 1200 /dev/urandom >"$TMP/nginx/www/page.bin" # a small page: the per-request cost shows
NGINX_NO_LOG=1 nginx_start 1
nginx_worker || { echo "   no nginx worker"; exit 1; }
worker=$NGINX_WORKER
url=http://127.0.0.1:$NGINX_PORT/page.bin
wrk -t1 -c4 -d1s "$url" >/dev/null # warm up

cat >"$TMP/peer.bt" <<'BT'
tracepoint:syscalls:sys_enter_read, tracepoint:syscalls:sys_enter_write
/pid == $1/ { @buf[tid] = args->buf; }
tracepoint:syscalls:sys_enter_sendto /pid == $1/ { @buf[tid] = args->buff; }
tracepoint:syscalls:sys_enter_recvfrom /pid == $1/ { @buf[tid] = args->ubuf; }
tracepoint:syscalls:sys_enter_readv, tracepoint:syscalls:sys_enter_writev
/pid == $1/ { @buf[tid] = ((struct iovec *)args->vec)->iov_base; }
tracepoint:syscalls:sys_enter_sendmsg, tracepoint:syscalls:sys_enter_recvmsg
/pid == $1/ { @buf[tid] = ((struct iovec *)((struct user_msghdr *)args->msg)->msg_iov)->iov_base; }
tracepoint:syscalls:sys_exit_read, tracepoint:syscalls:sys_exit_write,
tracepoint:syscalls:sys_exit_recvfrom, tracepoint:syscalls:sys_exit_sendto,
tracepoint:syscalls:sys_exit_readv, tracepoint:syscalls:sys_exit_writev,
tracepoint:syscalls:sys_exit_sendmsg, tracepoint:syscalls:sys_exit_recvmsg
/@buf[tid]/ {
	if (args->ret > 0) { printf("%d %d %r\n", tid, args->ret, buf(@buf[tid], 64)); }
	delete(@buf[tid]);
}
tracepoint:syscalls:sys_enter_close, tracepoint:syscalls:sys_enter_accept4,
tracepoint:syscalls:sys_enter_connect, tracepoint:syscalls:sys_enter_sendfile64
/pid == $1/ { @calls[probe] = count(); }
BT

: >"$TMP/results"
# Which hooks auto picks here: --hooks syscalls is run as well when it picks sockets.
"$EHTTP" attach -p $$ --duration 1 >/dev/null 2>"$TMP/hooks.err"
hooks=$(sed -nE 's/^Attached.* through the ([a-z]+) hooks.*/\1/p' "$TMP/hooks.err")
[ -n "$hooks" ] || { echo "   ehttp attach did not start: $(tail -n 3 "$TMP/hooks.err")"; exit 1; }
echo "hooks 0 $hooks" >>"$TMP/results"

# One run of each mode, given the round.
mode_base() { run_wrk base "$1"; }
mode_base2() { run_wrk base2 "$1"; }
# ehttp -j attach ARGS... -p WORKER, as MODE; its CPU, spans and drops go to the results
# as TAG-extra.
mode_capture() { # mode tag round args...
	local mode=$1 tag=$2 round=$3 spans dropped
	shift 3
	start_tracer '^Attached' "$TMP/$tag.err.$round" \
		sh -c "exec \"$EHTTP\" -j attach $* -p $worker >\"$TMP/$tag.out.$round\" 2>\"$TMP/$tag.err.$round\""
	run_wrk "$mode" "$round"
	stop_tracer
	spans=$(wc -l <"$TMP/$tag.out.$round")
	dropped=$(sed -nE 's/.* ([0-9]+) dropped.*/\1/p' "$TMP/$tag.err.$round")
	echo "$tag-extra $round $(cat "$TMP/cpu") $spans ${dropped:-?} $STARTUP_CPU" >>"$TMP/results"
}
mode_ehttp() { mode_capture ehttp ehttp "$1"; }
mode_syscalls() { mode_capture ehttp-syscalls sys "$1" --hooks syscalls; }
# The price every other process pays while a capture follows one: ehttp traces a pid
# that makes no socket calls (this shell), so nginx's calls only run the hooks'
# process filter. The floor under the ehttp runs.
mode_other() {
	start_tracer '^Attached' "$TMP/other.err.$1" \
		sh -c "exec \"$EHTTP\" -j attach -p $$ >/dev/null 2>\"$TMP/other.err.$1\""
	run_wrk ehttp-other "$1"
	stop_tracer
}
mode_bpftrace() {
	start_tracer '^Attaching' "$TMP/bt.out.$1" \
		sh -c "exec bpftrace \"$TMP/peer.bt\" $worker >\"$TMP/bt.out.$1\" 2>&1"
	run_wrk bpftrace "$1"
	stop_tracer
	echo "bpftrace-extra $1 $(cat "$TMP/cpu") $(grep -c '^[0-9]' "$TMP/bt.out.$1") $STARTUP_CPU" >>"$TMP/results"
}

# The order turns by one each round, so that over as many rounds as there are modes
# each runs in every position: a run's place in the round (the first after a pause,
# say) then weighs on no mode more than another.
modes=(base ehttp base2)
[ "$hooks" = socket ] && modes+=(syscalls)
modes+=(other)
$have_bpftrace && modes+=(bpftrace)
# MODES="base ehttp base2" spends a long run on the headline ratio alone: more rounds
# in the same time, and a narrower interval.
if [ -n "${MODES:-}" ]; then
	read -r -a modes <<<"$MODES"
	[[ " $MODES " == *" base "* ]] || { echo "   MODES: the ratios need base"; exit 1; }
	for m in "${modes[@]}"; do
		[ "$m" != bpftrace ] || $have_bpftrace || { echo "   MODES: bpftrace is missing"; exit 1; }
		declare -F "mode_$m" >/dev/null || { echo "   MODES: no mode '$m' (base ehttp base2 syscalls other bpftrace)"; exit 1; }
	done
fi
for round in $(seq 1 "$ROUNDS"); do
	for i in $(seq 0 $((${#modes[@]} - 1))); do
		"mode_${modes[(i + round - 1) % ${#modes[@]}]}" "$round"
	done
done

awk -v dur="$DURATION" -v rounds="$ROUNDS" '
# The untraced throughput round i is set against: the mean of its two untraced runs.
function ref(i) {
	return (i in base2_rps) ? (base_rps[i] + base2_rps[i]) / 2 : base_rps[i]
}
# Median of the per-round ratios of mode m (sorted by insertion; rounds are few);
# m "control" is one untraced run (base2) against the other.
function median(m,    i, j, k, v, t) {
	k = 0
	for (i = 1; i <= rounds; i++)
		if (m == "control" && (i in base2_rps) && base_rps[i] > 0)
			v[++k] = base2_rps[i] / base_rps[i]
		else if ((m, i) in r_rps && (i in base_rps) && ref(i) > 0)
			v[++k] = r_rps[m, i] / ref(i)
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	lo = v[1]; hi = v[k]
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
# A 95% interval for the ratio of means of mode m: the rounds resampled with
# replacement (a bootstrap), the ratio of the sums in each resample, their 2.5th and 97.5th
# percentiles. The rounds are the unit: two runs of one round share its drift.
function interval(m,    i, k, b, j, g, num, den, idx, v, t) {
	k = 0
	for (i = 1; i <= rounds; i++)
		if (m == "control" ? ((i in base2_rps) && (i in base_rps)) : (((m, i) in r_rps) && (i in base_rps)))
			idx[++k] = i
	if (k < 3)
		return 0
	for (b = 1; b <= 2000; b++) {
		num = den = 0
		for (j = 1; j <= k; j++) {
			i = idx[int(rand() * k) + 1]
			num += m == "control" ? base2_rps[i] : r_rps[m, i]
			den += m == "control" ? base_rps[i] : ref(i)
		}
		v[b] = den > 0 ? num / den : 0
	}
	for (g = 1; g < 2000; g = 3 * g + 1) # Shell sort: mawk has no asort
		;
	for (g = int(g / 3); g >= 1; g = int(g / 3))
		for (i = g + 1; i <= 2000; i++)
			for (j = i; j > g && v[j - g] > v[j]; j -= g) { t = v[j]; v[j] = v[j - g]; v[j - g] = t }
	cilo = v[50]; cihi = v[1951]
	return 1
}
$1 == "base" { base_rps[$2] = $3 }
$1 == "base2" { base2_rps[$2] = $3; nb2++; rps["base"] += $3; p99["base"] += $4; n["base"]++ }
$1 == "ehttp" || $1 == "bpftrace" || $1 == "ehttp-syscalls" || $1 == "ehttp-other" { r_rps[$1, $2] = $3 }
$1 == "base" || $1 == "ehttp" || $1 == "bpftrace" || $1 == "ehttp-syscalls" || $1 == "ehttp-other" { rps[$1] += $3; p99[$1] += $4; n[$1]++
	if ($1 == "ehttp") done[$2] = $5
	if ($1 == "ehttp-syscalls") sdone[$2] = $5 }
$1 == "hooks" { hooks = $3 }
$1 == "sys-extra" { cpu["ehttp-syscalls"] += $3; sspans += $4; nsp["ehttp-syscalls"] += $4; sdropped += $5; scompleted += sdone[$2]; start["ehttp-syscalls"] += $6 }
$1 == "ehttp-extra" { cpu["ehttp"] += $3; spans += $4; nsp["ehttp"] += $4; dropped += $5; completed += done[$2]; start["ehttp"] += $6 }
$1 == "bpftrace-extra" { cpu["bpftrace"] += $3; lines += $4; start["bpftrace"] += $5 }
END {
	printf "   %d rounds of %ds, wrk → nginx (1 worker), interleaved, the order turning each round\n", rounds, dur
	for (m in n) { rps[m] /= n[m]; p99[m] /= n[m] }
	printf "   %-10s %10.0f req/s   p99 %7.0f us\n", "untraced", rps["base"], p99["base"]
	printf "   %-10s %10.0f req/s   p99 %7.0f us   throughput ratio %.3f   p99 ratio %.2f   (%s hooks)\n", "ehttp",
		rps["ehttp"], p99["ehttp"], rps["ehttp"] / rps["base"], p99["ehttp"] / p99["base"], hooks
	if (n["ehttp-syscalls"])
		printf "   %-10s %10.0f req/s   p99 %7.0f us   throughput ratio %.3f   p99 ratio %.2f   (--hooks syscalls)\n", "ehttp",
			rps["ehttp-syscalls"], p99["ehttp-syscalls"], rps["ehttp-syscalls"] / rps["base"],
			p99["ehttp-syscalls"] / p99["base"]
	if (n["bpftrace"])
		printf "   %-10s %10.0f req/s   p99 %7.0f us   throughput ratio %.3f   p99 ratio %.2f\n", "bpftrace",
			rps["bpftrace"], p99["bpftrace"], rps["bpftrace"] / rps["base"], p99["bpftrace"] / p99["base"]
	if (n["ehttp-other"])
		printf "   %-10s %10.0f req/s   p99 %7.0f us   throughput ratio %.3f   p99 ratio %.2f   (tracing another process)\n", "ehttp",
			rps["ehttp-other"], p99["ehttp-other"], rps["ehttp-other"] / rps["base"],
			p99["ehttp-other"] / p99["base"]
	printf "   per-round throughput ratios (traced / the mean of that round'"'"'s untraced runs), median [min-max],\n"
	printf "   and a 95%% bootstrap interval of the ratio of means over rounds:\n"
	srand(1)
	split("ehttp ehttp-syscalls ehttp-other bpftrace control", order, " ")
	for (o = 1; o <= 5; o++) {
		m = order[o]
		if (m == "control" && !nb2)
			continue
		if (m != "control" && !n[m])
			continue
		med = median(m)
		ci = interval(m) ? sprintf("   95%% %.3f-%.3f", cilo, cihi) : ""
		printf "   %-15s %.3f [%.3f-%.3f]%s%s\n", m, med, lo, hi, ci,
			m == "control" ? "   (one untraced run / the other: the noise)" : ""
	}
	bmin = bmax = 0
	for (i in base_rps) {
		if (!bmin || base_rps[i] < bmin) bmin = base_rps[i]
		if (base_rps[i] > bmax) bmax = base_rps[i]
	}
	for (i in base2_rps) {
		if (base2_rps[i] < bmin) bmin = base2_rps[i]
		if (base2_rps[i] > bmax) bmax = base2_rps[i]
	}
	printf "   untraced runs ranged %.0f-%.0f req/s\n", bmin, bmax
	for (m in cpu) {
		printf "   %-10s CPU %.2f s per run: %.2f s starting (loading BPF), then %.2f s tracing = %.0f%% of one core",
			m, cpu[m] / rounds, start[m] / rounds, (cpu[m] - start[m]) / rounds,
			100 * (cpu[m] - start[m]) / rounds / dur
		if (nsp[m])
			printf ", %.2f us per span", 1e6 * (cpu[m] - start[m]) / nsp[m]
		printf "\n"
	}
	printf "   completeness %d server spans / %d requests wrk completed = %.4f; %d events dropped\n",
		spans, completed, completed ? spans / completed : 0, dropped
	if (scompleted)
		printf "   completeness with --hooks syscalls %d / %d = %.4f; %d events dropped\n",
			sspans, scompleted, sspans / scompleted, sdropped
}' "$TMP/results"
