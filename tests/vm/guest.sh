#!/bin/bash
# Inside the guest (chrooted into the host's root with a tmpfs overlay): run the tests
# the host chose for this kernel and leave what they said in the results share.
#   guest.sh RESULTS   RESULTS/job holds TREE=, HOOKS= (for --hooks), TESTS=
#                      (tests/integration/test_NAME.sh names) and EHTTP_CACHE= (the
#                      host's cache: the Go fixtures it built for the guests)
set -u
results=$1
. "$results/job"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb EHTTP_CACHE
cd "$TREE" || exit 2
ip link set lo up || exit 2

# The console (stdout) says how far the guest got, for a run that hangs.
echo "vm-guest: $(uname -r): ehttp check, ehttp -d attach"
started=$(cut -d' ' -f1 /proc/uptime)
echo "boot_s=$started" >"$results/times"
{
	uname -r
	cat /proc/cmdline
	build/ehttp check
	# What the verifier went through per program (Linux >= 5.16 counts it), per hook set.
	for hooks in syscalls sockets; do
		echo "--- ehttp -d attach --hooks $hooks"
		build/ehttp -d attach --hooks $hooks --duration 1 2>&1 | grep -E 'verifier|Attached|Error'
	done
	echo "--- ehttp -d attach --propagate=memory"
	build/ehttp -d attach --propagate=memory --comm nosuchprocess --duration 1 2>&1 |
		grep -E 'go_header_write: the verifier|Attached|Error'
} >"$results/kernel.txt" 2>&1

# Logs go to the overlay (tmpfs, the host's own logs hidden); the share gets each test's.
rm -rf build/tests/logs
echo "vm-guest: tests $TESTS (--hooks $HOOKS)"
tests=()
for t in $TESTS; do tests+=("tests/integration/test_$t.sh"); done
ATTACH_HOOKS=$HOOKS EHTTP_TEST_NO_SKIP=1 tests/integration/run.sh "${tests[@]}" >"$results/tests.txt" 2>&1
rc=$?
mkdir -p "$results/logs"
cp build/tests/logs/*.log "$results/logs/" 2>/dev/null
awk -v now="$(cut -d' ' -f1 /proc/uptime)" -v t0="$started" \
	'BEGIN { printf "tests_s=%.1f\n", now - t0 }' >>"$results/times"
echo "vm-guest: tests done, exit status $rc"
exit $rc
