# Helpers shared by the integration tests (sourced). Tests are bash, run as root from
# the top of the tree, with build/ehttp built.
set -u
EHTTP=${EHTTP:-$PWD/build/ehttp}
TMP=$(mktemp -d /tmp/ehttp-test.XXXXXX)
_cleanups=()

cleanup() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
# on_exit CMD: run CMD (a string) when the test ends, last registered first.
on_exit() { _cleanups+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }
# Where a test must run (the kernel matrix sets EHTTP_TEST_NO_SKIP=1), a skip fails.
skip() {
	[ -z "${EHTTP_TEST_NO_SKIP:-}" ] || fail "would skip, but this run must not: $*"
	echo "skipped: $*"
	exit 77
}
# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
	[ "$2" == "$3" ] || fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = '$3'"
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [HOST]: wait up to 10 s for a listener.
wait_port() {
	local i
	for i in $(seq 1 100); do
		(exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on ${2:-127.0.0.1}:$1"
}

# Build a Go program from tests/fixtures/go/NAME into $TMP (extra go build args allowed).
go_build() {
	local name=$1 out=$2
	shift 2
	(cd "tests/fixtures/go/$name" && GOFLAGS=-mod=mod GOCACHE=${GOCACHE:-/tmp/ehttp-gocache} \
		go build -o "$out" "$@" .) || fail "go build $name"
}
