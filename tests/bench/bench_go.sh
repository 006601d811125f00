# What the Go uprobes cost a busy Go server: wrk → a net/http server (the hello
# fixture) on loopback, interleaved runs without tracing, with ehttp's socket hooks
# only (`attach --go off -p SERVER`), with the Go uprobes too (`attach -p SERVER`), and
# with bpftrace running uprobes on the same functions (a peer: what a uprobe costs
# before anything is done in it). And the floor, what one trap per request costs with
# nothing in it: bpftrace's empty probe on ServeHTTP's entry, and a tracefs uprobe (no
# BPF) on ServeHTTP's first instruction, which the kernel single-steps, and on its
# stack check's JBE, which it emulates (where ehttp places its entry probe).
# Reports requests/s and p99 latency against the untraced runs (the ratio of means and
# the median of per-round ratios), the server's own CPU per request (/proc, user+sys:
# the traps are charged to it) against the untraced runs', the Go spans per request wrk
# completed, ehttp's CPU, and from the kernel's BPF statistics (kernel.bpf_stats_enabled,
# restored on exit) the runs (= traps, for a uprobe program) and the time of each of
# ehttp's programs per request.
# Then the client side: a Go program making CLIENT_CALLS requests one after the other
# to the same server (keep-alive), untraced, with the socket hooks, and with the Go
# uprobes too (attach -p CLIENT): its time and its own CPU per call, and the client
# programs' time per call.
#
#   DURATION=10 ROUNDS=5 WRK_THREADS=1 WRK_CONNS=32 CLIENT_CALLS=20000 [GO_VERSION=1.27] \
#     tests/bench/bench_go.sh
set -u
. tests/integration/lib.sh
. tests/bench/wrk_lib.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNS=${WRK_CONNS:-32}
CLIENT_CALLS=${CLIENT_CALLS:-20000}
for tool in wrk go jq bpftool; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done
have_bpftrace=true
command -v bpftrace >/dev/null || have_bpftrace=false

# GO_VERSION=1.27: the fixtures built with that toolchain (tests/go_toolchains.sh), not
# the installed one.
if [ -n "${GO_VERSION:-}" ]; then
	. tests/go_toolchains.sh
	for f in hello clientloop; do
		bin=$(go_fixture "$GO_VERSION" "$f" plain) || { echo "   go $GO_VERSION build of $f failed"; exit 1; }
		cp "$bin" "$TMP/$f"
	done
else
	go_build hello "$TMP/hello"
	go_build clientloop "$TMP/clientloop"
fi
echo "   fixtures built with $(go version "$TMP/hello" | cut -d' ' -f2)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
port=$(free_port)
"$TMP/hello" "127.0.0.1:$port" 2>"$TMP/hello.err" &
server=$!
on_exit "kill $server 2>/dev/null; wait $server 2>/dev/null"
wait_port "$port"
url=http://127.0.0.1:$port/
wrk -t1 -c4 -d1s "$url" >/dev/null # warm up

stats_was=$(sysctl -n kernel.bpf_stats_enabled)
on_exit "sysctl -q kernel.bpf_stats_enabled=$stats_was"
sysctl -q kernel.bpf_stats_enabled=1

# The bpftrace peer: uprobes on the same functions, each doing what little bpftrace
# does in a probe. Debian's bpftrace cannot place a uprobe inside a function ("compiled
# without (k|u)probe offset support") and a uretprobe would corrupt Go's stacks, so
# the peer has the entry probes only: it takes fewer traps per request than ehttp
# (the RET probes are missing), and is a floor rather than an equal.
"$EHTTP" -j offsets "$TMP/hello" >"$TMP/offsets.json" || { echo "   ehttp offsets failed"; exit 1; }
jq -r --arg bin "$TMP/hello" '
	def hex: . as $n | [range(0; 16)] | map(($n / pow(16; 15 - .) | floor) % 16) |
		map("0123456789abcdef"[.:. + 1]) | join("") | sub("^0+"; "");
	def at(a): "uprobe:\($bin):0x\(a | hex)";
	.functions[] |
	if .name == "net/http.serverHandler.ServeHTTP" then
		at(.address) + " { @start[pid, reg(\"r14\")] = nsecs; @served = count(); }"
	elif .name == "net/textproto.(*Reader).readContinuedLineSlice" then
		at(.address) + " { @lines = count(); }"
	elif .name == "runtime.newproc1" then
		at(.address) + " { @spawner[tid] = reg(\"bx\"); }"
	elif .name == "runtime.goexit1" then
		at(.address) + " { delete(@start[pid, reg(\"r14\")]); }"
	else empty end' "$TMP/offsets.json" >"$TMP/peer.bt"
echo 'BEGIN { printf("Attaching\n"); }' >>"$TMP/peer.bt"

# Run time of the tracer's programs so far, one "prog ROUND NAME NS RUNS" line each:
# its programs are those it holds fds of (bpftool here does not list owners).
prog_stats() { # round
	local ids
	ids=$(grep -hs '^prog_id:' /proc/"$TRACER_CHILD"/fdinfo/* | awk '{print $2}' | sort -un | jq -sc .)
	bpftool prog show -j 2>/dev/null | jq -r --argjson ids "${ids:-[]}" --arg r "$1" \
		'.[] | select(.id as $i | $ids | index($i)) | "prog \($r) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# The server's CPU (user+sys, clock ticks) around each run: "MODE-srv ROUND TICKS".
server_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
run_wrk_srv() { # mode round
	local t0
	t0=$(server_ticks)
	run_wrk "$1" "$2"
	echo "$1-srv $2 $(($(server_ticks) - t0)) $DONE" >>"$TMP/results"
}

mode_base() { run_wrk_srv base "$1"; }
mode_base2() { run_wrk_srv base2 "$1"; }
mode_capture() { # mode round args...
	local mode=$1 round=$2 spans
	shift 2
	start_tracer '^Attached' "$TMP/$mode.err.$round" \
		sh -c "exec \"$EHTTP\" -j attach $* -p $server >\"$TMP/$mode.out.$round\" 2>\"$TMP/$mode.err.$round\""
	run_wrk_srv "$mode" "$round"
	prog_stats "$round" | sed "s/^prog/$mode-prog/" >>"$TMP/results"
	stop_tracer
	spans=$(jq -c 'select(.source == "go")' "$TMP/$mode.out.$round" | wc -l)
	echo "$mode-extra $round $(cat "$TMP/cpu") $(wc -l <"$TMP/$mode.out.$round") $spans $DONE $STARTUP_CPU" >>"$TMP/results"
}
mode_sockets() { mode_capture sockets "$1" --go off; }
mode_go() { mode_capture go "$1"; }
mode_bpftrace() {
	start_tracer '^Attaching' "$TMP/bt.out.$1" sh -c "exec bpftrace --unsafe \"$TMP/peer.bt\" >\"$TMP/bt.out.$1\" 2>&1"
	run_wrk_srv bpftrace "$1"
	prog_stats "$1" | sed "s/^prog/bpftrace-prog/" >>"$TMP/results"
	stop_tracer
	echo "bpftrace-extra $1 $(cat "$TMP/cpu") $(awk '/^@served:/ {print $2}' "$TMP/bt.out.$1") 0 $DONE $STARTUP_CPU" >>"$TMP/results"
}
# The floor: one empty bpftrace probe on ServeHTTP's entry.
mode_floor_bpftrace() {
	start_tracer '^Attaching' "$TMP/fbt.out.$1" sh -c "exec bpftrace --unsafe -e '$serve_probe { @n = count(); } BEGIN { printf(\"Attaching\\n\"); }' >\"$TMP/fbt.out.$1\" 2>&1"
	run_wrk_srv floor_bpftrace "$1"
	prog_stats "$1" | sed "s/^prog/floor_bpftrace-prog/" >>"$TMP/results"
	stop_tracer
	echo "floor_bpftrace-extra $1 $(cat "$TMP/cpu") 0 0 $DONE $STARTUP_CPU" >>"$TMP/results"
}
# A tracefs uprobe event (no BPF program) at file offset $2, for one run.
tracefs_floor() { # mode offset round
	local ev=ehttp_bench_$$_$1
	echo "p:$ev $TMP/hello:$2" >>"$tracefs/uprobe_events" || return 1
	echo 1 >"$tracefs/events/uprobes/$ev/enable"
	run_wrk_srv "$1" "$3"
	echo "$1-hits $3 $(awk -v e="$ev" '$2 == e {print $3}' "$tracefs/uprobe_profile") $DONE" >>"$TMP/results"
	echo 0 >"$tracefs/events/uprobes/$ev/enable"
	echo "-:$ev" >>"$tracefs/uprobe_events"
}
mode_floor_entry() { tracefs_floor floor_entry "$serve_entry_off" "$1"; }
mode_floor_jump() { tracefs_floor floor_jump "$serve_jump_off" "$1"; }

# ServeHTTP's entry and its stack check's JBE, as file offsets (the floor's probes).
serve_addr=$(jq -r '.functions[] | select(.name == "net/http.serverHandler.ServeHTTP") | .address' "$TMP/offsets.json")
serve_entry_off=$(jq -r '.functions[] | select(.name == "net/http.serverHandler.ServeHTTP") | .offset' "$TMP/offsets.json")
serve_probe=$(printf 'uprobe:%s:0x%x' "$TMP/hello" "$serve_addr")
serve_jump=$(objdump -d --no-show-raw-insn --start-address="$serve_addr" --stop-address=$((serve_addr + 24)) "$TMP/hello" |
	awk '$2 == "jbe" { sub(":", "", $1); print $1; exit }')
serve_jump_off=
[ -n "$serve_jump" ] && serve_jump_off=$((serve_entry_off + 0x$serve_jump - serve_addr))
tracefs=/sys/kernel/tracing
if [ ! -e "$tracefs/uprobe_events" ]; then
	mount -t tracefs nodev "$tracefs" 2>/dev/null && on_exit "umount $tracefs 2>/dev/null"
fi
have_tracefs=false
[ -w "$tracefs/uprobe_events" ] && [ -n "$serve_jump_off" ] && have_tracefs=true

: >"$TMP/results"
modes=(base sockets go base2)
$have_bpftrace && modes+=(bpftrace floor_bpftrace)
$have_tracefs && modes+=(floor_entry floor_jump)
for round in $(seq 1 "$ROUNDS"); do
	for i in $(seq 0 $((${#modes[@]} - 1))); do
		"mode_${modes[(i + round - 1) % ${#modes[@]}]}" "$round"
	done
done

# The client side: one run of the client loop, "client MODE ROUND WALL-NS CPU-NS" and its
# programs' "cprog MODE ROUND NAME NS RUNS" to the results.
client_run() { # mode round [attach args...]
	local mode=$1 round=$2 cl
	shift 2
	rm -f "$TMP/client.fifo"
	mkfifo "$TMP/client.fifo"
	"$TMP/clientloop" "$url" "$CLIENT_CALLS" <"$TMP/client.fifo" >"$TMP/client.$mode.$round" &
	cl=$!
	exec 3>"$TMP/client.fifo"
	for _ in $(seq 1 100); do grep -qs '^ready' "$TMP/client.$mode.$round" && break; sleep 0.1; done
	if [ "$mode" != base ]; then
		start_tracer '^Attached' "$TMP/client-$mode.err.$round" \
			sh -c "exec \"$EHTTP\" -j attach $* -p $cl >/dev/null 2>\"$TMP/client-$mode.err.$round\""
	fi
	echo go >&3
	exec 3>&-
	wait "$cl"
	if [ "$mode" != base ]; then
		prog_stats "$round" | sed "s/^prog/cprog $mode/" >>"$TMP/results"
		stop_tracer
	fi
	awk -v m="$mode" -v r="$round" '/ calls, / {print "client", m, r, $3, $7}' "$TMP/client.$mode.$round" >>"$TMP/results"
}
cmodes=(base sockets go)
for round in $(seq 1 "$ROUNDS"); do
	for i in 0 1 2; do
		m=${cmodes[(i + round - 1) % 3]}
		case $m in
		base) client_run base "$round" ;;
		sockets) client_run sockets "$round" --go off ;;
		go) client_run go "$round" ;;
		esac
	done
done

awk -v dur="$DURATION" -v rounds="$ROUNDS" -v hz="$(getconf CLK_TCK)" -v calls="$CLIENT_CALLS" '
function ref(i) { return (i in b2) ? (b1[i] + b2[i]) / 2 : b1[i] }
function median(m,    i, j, k, v, t) {
	k = 0
	for (i = 1; i <= rounds; i++)
		if (m == "control" && (i in b2) && b1[i] > 0) v[++k] = b2[i] / b1[i]
		else if (m == "go/sockets" && ((("go", i) in r) && (("sockets", i) in r))) v[++k] = r["go", i] / r["sockets", i]
		else if (((m, i) in r) && ref(i) > 0) v[++k] = r[m, i] / ref(i)
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	lo = v[1]; hi = v[k]
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
$1 == "base" { b1[$2] = $3; rps["base"] += $3; p99["base"] += $4; n["base"]++ }
$1 == "base2" { b2[$2] = $3; rps["base"] += $3; p99["base"] += $4; n["base"]++ }
$1 == "sockets" || $1 == "go" || $1 ~ /bpftrace|^floor/ { r[$1, $2] = $3; rps[$1] += $3; p99[$1] += $4; n[$1]++ }
$1 ~ /-srv$/ { m = $1; sub(/-srv$/, "", m); if (m == "base2") m = "base"; ticks[m] += $3; sdone[m] += $4 }
$1 ~ /-hits$/ { m = $1; sub(/-hits$/, "", m); hits[m] += $3; hdone[m] += $4 }
$1 ~ /-extra$/ { m = $1; sub(/-extra$/, "", m); cpu[m] += $3; gospans[m] += $5; done[m] += $6; startup[m] += $7 }
$1 ~ /-prog$/ { m = $1; sub(/-prog$/, "", m); ns[m, $3] += $4; cnt[m, $3] += $5; progs[m, $3] = 1 }
$1 == "client" { cwall[$2] += $4; ccpu[$2] += $5; cn[$2]++ }
$1 == "cprog" && $4 ~ /^go_client/ { cns[$2, $4] += $5; ccnt[$2, $4] += $6; cprogs[$2, $4] = 1 }
END {
	printf "   %d rounds of %ds, wrk → Go net/http on loopback, interleaved, the order turning each round\n", rounds, dur
	for (m in n) { rps[m] /= n[m]; p99[m] /= n[m] }
	printf "   %-22s %9.0f req/s   p99 %7.0f us\n", "untraced", rps["base"], p99["base"]
	split("sockets go bpftrace floor_bpftrace floor_entry floor_jump", order, " ")
	label["sockets"] = "ehttp, socket hooks"; label["go"] = "ehttp, + Go uprobes"
	label["bpftrace"] = "bpftrace, same uprobes"; label["floor_bpftrace"] = "floor: bpftrace, 1 empty"
	label["floor_entry"] = "floor: 1 single-stepped"; label["floor_jump"] = "floor: 1 emulated"
	for (o = 1; o <= 6; o++) {
		m = order[o]
		if (!n[m]) continue
		printf "   %-22s %9.0f req/s   p99 %7.0f us   throughput ratio %.3f (median %.3f [%.3f-%.3f])   p99 ratio %.2f\n",
			label[m], rps[m], p99[m], rps[m] / rps["base"], median(m), lo, hi, p99[m] / p99["base"]
	}
	# The server CPU per request: the traps are charged to it (a user of a competing tool
	# reported +40% CPU in an instrumented Go server).
	if (sdone["base"] && ticks["base"]) {
		base_us = ticks["base"] / hz * 1e6 / sdone["base"]
		printf "   server CPU per request: untraced %.1f us", base_us
		for (o = 1; o <= 6; o++) {
			m = order[o]
			if (!sdone[m]) continue
			printf "; %s %.1f us (%+.0f%%)", m, ticks[m] / hz * 1e6 / sdone[m],
				100 * (ticks[m] / hz * 1e6 / sdone[m] / base_us - 1)
		}
		printf "\n"
	}
	for (m in hits)
		if (hdone[m])
			printf "   %-22s %.2f hits per request (uprobe_profile)\n", label[m], hits[m] / hdone[m]
	if (n["go"] && n["sockets"])
		printf "   Go uprobes on top of the socket hooks: throughput ratio %.3f (median %.3f [%.3f-%.3f])\n",
			rps["go"] / rps["sockets"], median("go/sockets"), lo, hi
	if (rounds > 0 && (1 in b2))
		printf "   control (one untraced run / the other): median %.3f [%.3f-%.3f]\n", median("control"), lo, hi
	for (m in cpu) {
		# what it spent starting (the BPF verifier, mostly) is not the cost of tracing
		printf "   %-9s CPU %.2f s per run, %.2f s of it starting; while wrk ran %.0f%% of one core", m,
			cpu[m] / rounds, startup[m] / rounds, 100 * (cpu[m] - startup[m]) / rounds / dur
		if (done[m]) printf ", %.2f us per request", 1e6 * (cpu[m] - startup[m]) / done[m]
		if (m == "go" && done[m]) printf ", %.3f Go spans per request wrk completed", gospans[m] / done[m]
		printf "\n"
	}
	printf "   BPF programs, ns per request wrk completed (bpf_stats; the uprobe traps themselves are not in it):\n"
	for (k in progs) {
		split(k, p, SUBSEP)
		if (!done[p[1]]) continue
		total[p[1]] += ns[k] / done[p[1]]
		printf "   %-9s %-20s %7.0f ns/request  %6.2f runs/request\n", p[1], p[2], ns[k] / done[p[1]],
			cnt[k] / done[p[1]] | "sort"
	}
	close("sort")
	for (m in total)
		printf "   %-9s %-20s %7.0f ns/request\n", m, "(all programs)", total[m]
	# a uprobe program runs once per trap: traps per request of the Go probes
	for (k in progs) {
		split(k, p, SUBSEP)
		if (p[1] == "go" && p[2] ~ /^go_/ && p[2] !~ /^go_process/ && done["go"])
			traps += cnt[k] / done["go"]
	}
	if (done["go"])
		printf "   go        uprobe traps per request (runs of the uprobe programs): %.2f\n", traps
	if (cn["base"]) {
		printf "   client loop, %d calls a run, one after the other (keep-alive):\n", calls
		split("base sockets go", corder, " ")
		clabel["base"] = "untraced"; clabel["sockets"] = "ehttp, socket hooks"; clabel["go"] = "ehttp, + Go uprobes"
		for (o = 1; o <= 3; o++) {
			m = corder[o]
			if (!cn[m]) continue
			printf "   %-22s %8.0f ns per call (%+6.0f)   client CPU %7.0f ns per call (%+6.0f)\n", clabel[m],
				cwall[m] / cn[m], cwall[m] / cn[m] - cwall["base"] / cn["base"], ccpu[m] / cn[m],
				ccpu[m] / cn[m] - ccpu["base"] / cn["base"]
		}
		for (k in cprogs) {
			split(k, p, SUBSEP)
			if (cn[p[1]])
				printf "   client %-7s %-20s %7.0f ns per call  %6.2f runs per call\n", p[1], p[2],
					cns[k] / (cn[p[1]] * calls), ccnt[k] / (cn[p[1]] * calls)
		}
	}
}' "$TMP/results"
echo "   load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
