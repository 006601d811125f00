#!/bin/bash
# Run every tests/integration/test_*.sh (or those named). Each exits 0 (pass), 77 (skip,
# with a reason on stderr) or anything else (fail). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 2

if [ "$(id -u)" -ne 0 ]; then
	echo "Error: integration tests load BPF programs: run them as root" >&2
	exit 1
fi

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/integration/test_*.sh)
pass=0 fail=0 skip=0 failed=()
logdir=build/tests/logs
mkdir -p "$logdir"
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	bash "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name (${secs}s)" ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$logdir/$name.log")" ;;
	*) fail=$((fail + 1)); failed+=("$name"); echo "FAIL $name (rc=$rc, ${secs}s)"
	   sed 's/^/    | /' "$logdir/$name.log" | tail -n 40 ;;
	esac
done
echo
echo "integration: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
