# Helpers for the Go source's tests (sourced after lib.sh and attach_lib.sh).
command -v go >/dev/null || skip "go is not installed"
. tests/go_toolchains.sh

# go_build_with VERSION NAME OUT [VARIANT]: tests/fixtures/go/NAME built with Go VERSION
# (tests/go_toolchains.sh: cached; VARIANT plain, stripped, pie, static...) copied to OUT,
# where the process's comm is OUT's name.
go_build_with() {
	local bin
	bin=$(go_fixture "$1" "$2" "${4:-plain}") || fail "go $1 build of $2 (${4:-plain})"
	cp "$bin" "$3" || fail "cp $bin"
}

# go_wait_traced OUT PID: wait until attach (stderr in OUT.err) traces PID by uprobes.
go_wait_traced() {
	local i
	for i in $(seq 1 100); do
		grep -qs "^Go: tracing pid $2 " "$1.err" && return 0
		sleep 0.1
	done
	fail "attach did not trace pid $2 by uprobes: $(grep -s '^Go\|Warning' "$1.err")"
}

# go_spans OUT PID ROLE: that process's spans of ROLE, one compact JSON object a line,
# with the request id (?id=...) of each as .id.
go_spans() {
	jq -c --argjson pid "$2" --arg role "$3" \
		'select(.pid == $pid and .role == $role) | . + {id: (.target | capture("[?&]id=(?<id>[^&]*)").id // "")}' "$1"
}

# The chain fixture's frontend at base URL $1 (tests/fixtures/go/chain): each way of
# calling the next service, over one kept-alive incoming connection (curl reuses it for
# its URLs), then three times in parallel over fresh ones. Ids: d1 s1 p1 f1 n1 d2, and
# pp/ss/ff 1-3.
go_chain_requests() {
	local base=$1 i pids=()

	curl -sf -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$base/direct?id=d1" "$base/spawn?id=s1" "$base/parallel?id=p1" "$base/fresh?id=f1" \
		"$base/nested?id=n1" "$base/direct?id=d2" || fail "curl"
	for i in 1 2 3; do
		curl -sf -o /dev/null -o /dev/null -o /dev/null "$base/parallel?id=pp$i" \
			"$base/spawn?id=ss$i" "$base/fresh?id=ff$i" &
		pids+=($!)
	done
	wait "${pids[@]}" || fail "parallel curls"
}
