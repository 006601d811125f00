# What --propagate=sockmsg costs, in two setups, each in interleaved rounds of: no
# ehttp (base), `ehttp -j attach --cgroup CG` (capture) and the same with
# --propagate=sockmsg (propagate), the order turning each round.
#
# 1. wrk → nginx (one worker) on loopback, wrk alone in a cgroup of the benchmark's
#    own, selected with --cgroup, so that every request it sends is rewritten in the
#    kernel and no other process on the host is touched. Reports requests/s, the
#    per-round ratios propagate/capture and propagate/base (median and range: a shared
#    VM drifts by more than a round), the requests rewritten against wrk's count, and
#    the cost per rewritten request twice: from the kernel's BPF statistics
#    (kernel.bpf_stats_enabled, restored on exit), the sk_msg program's run time per
#    injected request and all of propagation's programs per request; and as
#    1e9/rps(propagate) - 1e9/rps(capture) ns, its cost on the critical path while the
#    two cores are saturated.
# 2. The Go chain: wrk → a Go frontend → a Go middle → a Go backend
#    (tests/fixtures/go/chain, each calling from its handler's goroutine over kept-alive
#    connections), the frontend and the middle in a cgroup of their own, selected with
#    --cgroup: each request wrk makes is rewritten twice, on its way to the middle and
#    to the backend, each with its goroutine's trace context (the Go probes' link, two
#    more uprobes per request: (*Request).write, persistConnWriter.Write). Reports the
#    latency wrk sees (p50, p99) and requests/s per mode, and from bpf_stats the ns per
#    injected request of the sk_msg program, of the two Go probes, and of all of
#    propagation's programs with them. The services start afresh for each run, after ehttp, so that
#    their connections are ones ehttp claims.
#
#   DURATION=10 ROUNDS=6 WRK_CONNS=32 tests/bench/bench_propagate.sh
#   SETUPS=go ...: the Go chain only (SETUPS=ng: nginx only)
set -u
. tests/integration/lib.sh
. tests/integration/nginx_lib.sh
. tests/bench/wrk_lib.sh
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-6}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNS=${WRK_CONNS:-32}
GO_CONNS=${GO_CONNS:-16}
SETUPS=${SETUPS:-ng go}
for tool in wrk nginx jq bpftool go; do command -v $tool >/dev/null || { echo "   $tool is missing"; exit 1; }; done
cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cgroot" ] || { echo "   cgroup v2 is not mounted"; exit 1; }

cg=$cgroot/ehttp-bench.$$
mkdir "$cg" "$cg/wrk" "$cg/go" || { echo "   cannot make a cgroup under $cgroot"; exit 1; }
# last out: after every process in them is gone
on_exit "for try in \$(seq 1 50); do rmdir '$cg/wrk' '$cg/go' '$cg' 2>/dev/null && break; sleep 0.1; done"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
on_exit "sysctl -q kernel.bpf_stats_enabled=$stats_was"
sysctl -q kernel.bpf_stats_enabled=1
TRACER=
on_exit '[ -z "$TRACER" ] || { kill -INT "$TRACER"; wait "$TRACER"; } 2>/dev/null'

# "${in_cgroup[@]}" DIR CMD...: run CMD as a member of cgroup DIR (the bash that moves
# itself there becomes CMD: started with &, $! is CMD's pid).
in_cgroup=(bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _)
# wrk_lib's run_wrk runs "wrk": in $WRK_CGROUP when it is set.
WRK_CGROUP=
wrk() {
	if [ -n "$WRK_CGROUP" ]; then "${in_cgroup[@]}" "$WRK_CGROUP" wrk "$@"; else command wrk "$@"; fi
}

# Run time of ehttp's programs so far, "PREFIX-prog ROUND NAME NS RUNS" each: its
# programs are those it holds fds of.
prog_stats() { # prefix round
	local ids
	ids=$(grep -hs '^prog_id:' /proc/"$TRACER_CHILD"/fdinfo/* | awk '{print $2}' | sort -un | jq -sc .)
	bpftool prog show -j 2>/dev/null | jq -r --argjson ids "${ids:-[]}" --arg p "$1" --arg r "$2" \
		'.[] | select(.id as $i | $ids | index($i)) | "\($p)-prog \($r) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# run_mode SETUP MODE ROUND: one wrk run of SETUP (ng or go) under MODE.
run_mode() {
	local setup=$1 mode=$2 round=$3 sel args=()
	[ "$setup" == ng ] && sel=$cg/wrk || sel=$cg/go
	case $mode in
	capture) args=(--cgroup "$sel") ;;
	propagate) args=(--cgroup "$sel" --propagate=sockmsg) ;;
	esac
	if [ "$mode" != base ]; then
		start_tracer '^Attached' "$TMP/err.$setup.$mode.$round" \
			sh -c "exec \"$EHTTP\" -j attach $(printf '%q ' "${args[@]}") >/dev/null 2>\"$TMP/err.$setup.$mode.$round\""
	fi
	[ "$setup" == go ] && go_start
	run_wrk "$setup-$mode" "$round"
	[ "$setup" == go ] && go_stop
	if [ "$mode" != base ]; then
		prog_stats "$setup-$mode" "$round" >>"$TMP/results"
		stop_tracer
		TRACER=
		sed -n "s/^propagation: \([0-9]*\) injected.*, \([0-9]*\) records dropped\(; .*\)\?$/$setup-$mode-inj $round \1 \2/p" \
			"$TMP/err.$setup.$mode.$round" >>"$TMP/results"
		sed -n "s/^propagation: .*; Go: \([0-9]*\) injected with their goroutine's context, \([0-9]*\) as new traces\( (\([0-9]*\) with no context, \([0-9]*\) with a stale one)\)\?$/$setup-$mode-golink $round \1 \2 \4 \5/p" \
			"$TMP/err.$setup.$mode.$round" >>"$TMP/results"
	fi
	# "     50%    1.23ms" → microseconds
	awk -v m="$setup-$mode" -v r="$round" '$1 == "50%" { v = $2; u = 1; if (v ~ /ms$/) u = 1000; else if (v ~ /[0-9]s$/) u = 1000000;
		sub(/[a-z]+$/, "", v); printf "%s-p50 %s %.0f\n", m, r, v * u }' "$TMP/wrk.$setup-$mode.$round" >>"$TMP/results"
}

# ---- 1. wrk → nginx ------------------------------------------------------------------------
mkdir -p "$TMP/nginx/www"
head -c 1200 /dev/urandom >"$TMP/nginx/www/page.bin"
NGINX_NO_LOG=1 nginx_start 1
ng_url=http://127.0.0.1:$NGINX_PORT/page.bin

# ---- 2. the Go chain -------------------------------------------------------------------------
go_build chain "$TMP/chain"
fe_port=$(free_port)
mid_port=$(free_port)
be_port=$(free_port)
go_start() {
	# the backend is not selected: it sends no requests
	"$TMP/chain" backend "127.0.0.1:$be_port" >/dev/null 2>&1 &
	GO_BE=$!
	"${in_cgroup[@]}" "$cg/go" "$TMP/chain" middle "127.0.0.1:$mid_port" "http://127.0.0.1:$be_port" >/dev/null 2>&1 &
	GO_MID=$!
	"${in_cgroup[@]}" "$cg/go" "$TMP/chain" frontend "127.0.0.1:$fe_port" "http://127.0.0.1:$mid_port" >/dev/null 2>&1 &
	GO_FE=$!
	wait_port "$be_port"
	wait_port "$mid_port"
	wait_port "$fe_port"
	sleep 0.5 # the Go source finds them (exec tracepoint, ELF) before the load starts
}
go_stop() {
	[ -n "$GO_FE$GO_MID$GO_BE" ] || return 0
	kill $GO_FE $GO_MID $GO_BE 2>/dev/null
	wait $GO_FE $GO_MID $GO_BE 2>/dev/null
	GO_FE= GO_MID= GO_BE=
}
GO_FE= GO_MID= GO_BE=
on_exit go_stop
go_url="http://127.0.0.1:$fe_port/direct?id=bench"

: >"$TMP/results"
modes=(base capture propagate)
url=$ng_url WRK_CGROUP=$cg/wrk
[[ " $SETUPS " == *" ng "* ]] && wrk -t1 -c4 -d1s "$url" >/dev/null # warm up
for round in $(seq 1 "$ROUNDS"); do
	[[ " $SETUPS " == *" ng "* ]] || break
	for i in 0 1 2; do
		WRK_CGROUP=$cg/wrk url=$ng_url run_mode ng "${modes[$(((i + round) % 3))]}" "$round"
	done
done
WRK_CONNS_NG=$WRK_CONNS
WRK_CONNS=$GO_CONNS
for round in $(seq 1 "$ROUNDS"); do
	[[ " $SETUPS " == *" go "* ]] || break
	for i in 0 1 2; do
		WRK_CGROUP= url=$go_url run_mode go "${modes[$(((i + round) % 3))]}" "$round"
	done
done

awk -v dur="$DURATION" -v rounds="$ROUNDS" -v ngc="$WRK_CONNS_NG" -v goc="$GO_CONNS" '
function stats(s, a, b, f,    i, j, k, v, t, m) { # per-round f(a)/f(b): "median (min-max)"
	k = 0
	for (i = 1; i <= rounds; i++) {
		if (!((s "-" a, i) in rps) || !((s "-" b, i) in rps)) continue
		if (f == "rps" && rps[s "-" b, i] > 0) v[++k] = rps[s "-" a, i] / rps[s "-" b, i]
		if (f == "p99" && p99[s "-" b, i] > 0) v[++k] = p99[s "-" a, i] / p99[s "-" b, i]
		if (f == "p50" && p50[s "-" b, i] > 0) v[++k] = p50[s "-" a, i] / p50[s "-" b, i]
		if (f == "ns" && rps[s "-" a, i] > 0 && rps[s "-" b, i] > 0) v[++k] = 1e9 / rps[s "-" a, i] - 1e9 / rps[s "-" b, i]
	}
	if (!k) return "-"
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	m = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	return sprintf(f == "ns" ? "%.0f (%.0f-%.0f)" : "%.3f (%.3f-%.3f)", m, v[1], v[k])
}
function mean(arr, m,    i, s, k) { for (i = 1; i <= rounds; i++) if ((m, i) in arr) { s += arr[m, i]; k++ } return k ? s / k : 0 }
$1 ~ /^(ng|go)-(base|capture|propagate)$/ { rps[$1, $2] = $3; p99[$1, $2] = $4; done[$1] += $5 }
$1 ~ /-p50$/ { m = $1; sub(/-p50$/, "", m); p50[m, $2] = $3 }
$1 ~ /-inj$/ { m = $1; sub(/-inj$/, "", m); inj[m] += $3; dropped[m] += $4 }
$1 ~ /-golink$/ { m = $1; sub(/-golink$/, "", m); golinked[m] += $3; gonew[m] += $4; gonone[m] += $5; gostale[m] += $6 }
$1 ~ /-prog$/ { m = $1; sub(/-prog$/, "", m); ns[m, $3] += $4; cnt[m, $3] += $5; progs[m, $3] = 1 }
END {
	printf "   %d rounds of %ds per mode, interleaved, the order turning each round\n", rounds, dur
	printf "   wrk → nginx (1 worker), %d connections, wrk selected with --cgroup:\n", ngc
	split("base capture propagate", order, " ")
	for (o = 1; o <= 3; o++)
		printf "     %-10s %9.0f req/s   p99 %6.0f us\n", order[o], mean(rps, "ng-" order[o]), mean(p99, "ng-" order[o])
	printf "     throughput propagate/capture: %s\n", stats("ng", "propagate", "capture", "rps")
	printf "     throughput propagate/base:    %s\n", stats("ng", "propagate", "base", "rps")
	printf "     throughput capture/base:      %s\n", stats("ng", "capture", "base", "rps")
	printf "     requests rewritten: %d of %d wrk completed (%d records dropped)\n", inj["ng-propagate"], done["ng-propagate"], dropped["ng-propagate"]
	if (inj["ng-propagate"]) {
		printf "     sk_msg (prop_msg), ns per injected request (bpf_stats): %.0f\n", ns["ng-propagate", "prop_msg"] / inj["ng-propagate"]
		for (k in progs) {
			split(k, p, SUBSEP)
			if (p[1] != "ng-propagate" || p[2] !~ /^prop_/) continue
			all += ns[k]
			printf "       %-14s %6.0f ns/injected request  %5.2f runs/injected request\n", p[2], ns[k] / inj["ng-propagate"], cnt[k] / inj["ng-propagate"] | "sort"
		}
		close("sort")
		printf "     all of propagation'"'"'s programs, ns per injected request: %.0f\n", all / inj["ng-propagate"]
	}
	printf "     ns per request on the critical path (1e9/rps, propagate - capture): %s\n", stats("ng", "propagate", "capture", "ns")
	printf "   the Go chain, wrk → Go frontend → Go middle → Go backend, %d connections, frontend and middle selected with --cgroup:\n", goc
	for (o = 1; o <= 3; o++)
		printf "     %-10s %9.0f req/s   p50 %6.0f us   p99 %6.0f us\n", order[o], mean(rps, "go-" order[o]),
			mean(p50, "go-" order[o]), mean(p99, "go-" order[o])
	printf "     latency propagate/capture: p50 %s, p99 %s\n", stats("go", "propagate", "capture", "p50"), stats("go", "propagate", "capture", "p99")
	printf "     latency propagate/base:    p50 %s, p99 %s\n", stats("go", "propagate", "base", "p50"), stats("go", "propagate", "base", "p99")
	printf "     throughput propagate/capture: %s\n", stats("go", "propagate", "capture", "rps")
	printf "     requests rewritten: %d for %d wrk completed (%d records dropped); with their goroutine'"'"'s context %d, as new traces %d (no context %d, stale %d)\n",
		inj["go-propagate"], done["go-propagate"], dropped["go-propagate"], golinked["go-propagate"], gonew["go-propagate"],
		gonone["go-propagate"], gostale["go-propagate"]
	if (inj["go-propagate"]) {
		printf "     sk_msg (prop_msg), ns per injected request (bpf_stats): %.0f\n", ns["go-propagate", "prop_msg"] / inj["go-propagate"]
		printf "     the (*Request).write probe (go_req_write), ns per injected request: %.0f (%.2f runs each)\n",
			ns["go-propagate", "go_req_write"] / inj["go-propagate"], cnt["go-propagate", "go_req_write"] / inj["go-propagate"]
		printf "     the persistConnWriter.Write probe (go_conn_write), ns per injected request: %.0f (%.2f runs each)\n",
			ns["go-propagate", "go_conn_write"] / inj["go-propagate"], cnt["go-propagate", "go_conn_write"] / inj["go-propagate"]
		goall = ns["go-propagate", "go_req_write"] + ns["go-propagate", "go_conn_write"]
		for (k in progs) {
			split(k, p, SUBSEP)
			if (p[1] == "go-propagate" && p[2] ~ /^prop_/) goall += ns[k]
		}
		printf "     propagation'"'"'s programs and the two probes, ns per injected request: %.0f\n", goall / inj["go-propagate"]
	}
}' "$TMP/results"
