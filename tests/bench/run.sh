#!/bin/bash
# Run every tests/bench/bench_*.sh (or those named). Benchmarks print figures; they do
# not pass or fail on timing. Run on a quiet machine.
set -u
cd "$(dirname "$0")/../.." || exit 2
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(tests/bench/bench_*.sh)
status=0
for b in "${benches[@]}"; do
	echo "== $(basename "$b" .sh)"
	bash "$b" || { echo "   (benchmark failed: rc=$?)"; status=1; }
done
exit $status
