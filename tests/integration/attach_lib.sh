# Helpers for the attach tests (sourced after lib.sh).

command -v jq >/dev/null || fail "jq is needed (packaging/deps.sh installs it)"

# attach_start OUT ARGS...: run `ehttp -j attach ARGS` with spans to OUT and stderr to
# OUT.err, and return once it says it is attached. ATTACH_PID is its pid. With
# ATTACH_HOOKS set, `--hooks $ATTACH_HOOKS` is passed too.
attach_start() {
	local out=$1 i
	shift
	"$EHTTP" -j attach ${ATTACH_HOOKS:+--hooks "$ATTACH_HOOKS"} "$@" >"$out" 2>"$out.err" &
	ATTACH_PID=$!
	on_exit "kill -INT $ATTACH_PID 2>/dev/null; wait $ATTACH_PID 2>/dev/null"
	for i in $(seq 1 300); do
		grep -qs '^Attached' "$out.err" && return 0
		kill -0 "$ATTACH_PID" 2>/dev/null || fail "attach exited early: $(cat "$out.err")"
		sleep 0.1
	done
	fail "attach did not say it was attached within 30 s"
}

# record_start ERR ARGS...: run `ehttp record ARGS` with stderr to ERR, and return once
# it says it is recording. RECORD_PID is its pid; stop it with kill -INT and wait.
record_start() {
	local err=$1 i
	shift
	"$EHTTP" record "$@" 2>"$err" &
	RECORD_PID=$!
	on_exit "kill -INT $RECORD_PID 2>/dev/null; wait $RECORD_PID 2>/dev/null"
	for i in $(seq 1 300); do
		grep -qs '^Recording' "$err" && return 0
		kill -0 "$RECORD_PID" 2>/dev/null || fail "record exited early: $(cat "$err")"
		sleep 0.1
	done
	fail "record did not start within 30 s"
}

# have_socket_hooks: does the kernel's BTF have the three tracepoints the socket hooks
# use (what auto picks when it does)? Read from the BTF, not from ehttp.
have_socket_hooks() {
	local tp btf
	btf=$(bpftool btf dump file /sys/kernel/btf/vmlinux format raw 2>/dev/null | grep "TYPEDEF 'btf_trace_")
	for tp in sock_send_length sock_recv_length inet_sock_set_state; do
		grep -q "TYPEDEF 'btf_trace_$tp'" <<<"$btf" || return 1
	done
}

# attach_stop: Ctrl-C it and wait; ATTACH_RC is its exit status.
attach_stop() {
	kill -INT "$ATTACH_PID"
	wait "$ATTACH_PID"
	ATTACH_RC=$?
	echo "attach: $(tail -n 1 "$1.err")"
	expect_eq "attach exit status" 0 "$ATTACH_RC"
	grep -q '^[0-9]* spans\?, [0-9]* events, [0-9]* connections, [0-9]* dropped, [0-9]* lost$' "$1.err" ||
		fail "no summary line on stderr: $(tail -n 3 "$1.err")"
}

# spans OUT ROLE [JQ-FILTER]: "METHOD TARGET STATUS" of ROLE spans, sorted.
spans() {
	jq -r --arg role "$2" "select(.role == \$role) ${3:+| select($3)} | \"\(.method) \(.target) \(.status)\"" "$1" | sort
}

# count_spans OUT JQ-FILTER: how many objects the filter yields from OUT; a filter jq
# rejects fails the test rather than counting nothing.
count_spans() {
	local lines
	lines=$(jq -c "$2" "$1") || fail "jq could not run on $1: $2"
	if [ -z "$lines" ]; then echo 0; else wc -l <<<"$lines"; fi
}

# expect_set WHAT EXPECTED-FILE ACTUAL-FILE: equal as sorted line sets (with counts).
expect_set() {
	if ! diff <(sort "$2") <(sort "$3") >"$TMP/diff"; then
		echo "--- expected (from $2) / +++ seen by ehttp:" >&2
		cat "$TMP/diff" >&2
		fail "$1 differ"
	fi
	echo "ok: $1 ($(wc -l <"$2") lines) match"
}

# curl_truth [CURL-OPTION... --] URL...: fetch every URL on one connection; prints
# "METHOD TARGET STATUS" per URL as curl saw it.
curl_truth() {
	local opts=() args=() u
	if [[ " $* " == *" -- "* ]]; then
		while [ "$1" != -- ]; do opts+=("$1"); shift; done
		shift
	fi
	for u in "$@"; do args+=(-o /dev/null "$u"); done
	curl -s ${opts[@]+"${opts[@]}"} -w '%{method} %{url_effective} %{response_code}\n' "${args[@]}" |
		sed -E 's#^([A-Z]+) [a-z]+://[^/]+#\1 #'
}
