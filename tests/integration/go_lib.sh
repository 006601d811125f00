# Helpers for the Go source's tests (sourced after lib.sh and attach_lib.sh).
command -v go >/dev/null || skip "go is not installed"

# go_root VERSION: a GOROOT for Go 1.VERSION ("1.27"), unpacked once from Debian's
# other suites (../shared/docs/go-toolchains.md); the system's go for its own version.
go_root() {
	local v=$1 dir
	if [ "$(go env GOVERSION 2>/dev/null | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')" == "$v" ]; then
		go env GOROOT
		return
	fi
	dir=$EHTTP_CACHE/go/$v
	if [ ! -x "$dir/usr/lib/go-$v/bin/go" ] || [ ! -d "$dir/usr/share/go-$v/src" ]; then
		. tests/apt_private.sh
		apt_private_unpack "golang-$v-go" "$dir" trixie-backports sid >/dev/null &&
			apt_private_unpack "golang-$v-src" "$dir" trixie-backports sid >/dev/null || return 1
	fi
	echo "$dir/usr/lib/go-$v"
}
EHTTP_CACHE=${EHTTP_CACHE:-/var/cache/ehttp-test}

# go_build_with VERSION NAME OUT [GO-BUILD-ARGS...]: build tests/fixtures/go/NAME with
# Go VERSION (standard library only, no module proxy).
go_build_with() {
	local v=$1 name=$2 out=$3 root
	shift 3
	root=$(go_root "$v") || fail "no Go $v toolchain"
	(cd "tests/fixtures/go/$name" && GOROOT=$root GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
		GOCACHE=$EHTTP_CACHE/go/gocache-$v "$root/bin/go" build -o "$out" "$@" .) ||
		fail "go $v build $name $*"
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
