#!/bin/bash
# Run each libFuzzer harness for a bounded time: tests/fuzz/run.sh SECONDS BIN...
# Corpora start from tests/fuzz/corpus/NAME (checked in) and grow under build/fuzz/corpus.
set -u
secs=$1
shift
status=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=build/fuzz/corpus/$name
	mkdir -p "$corpus" build/fuzz/artifacts
	seeds=()
	[ -d "tests/fuzz/corpus/$name" ] && seeds=("tests/fuzz/corpus/$name")
	echo "== $name: ${secs}s"
	if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/"$name"- "$corpus" "${seeds[@]}" \
		>build/fuzz/"$name".log 2>&1; then
		echo "   FAILED: crash or leak, see build/fuzz/$name.log and build/fuzz/artifacts/"
		grep -m 5 -E 'ERROR|SUMMARY' build/fuzz/"$name".log | sed 's/^/   /'
		status=1
	fi
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' build/fuzz/"$name".log | sed 's/^/   /'
	grep -E '^#[0-9]+.*(DONE|cov:)' build/fuzz/"$name".log | tail -n 1 | sed 's/^/   /'
done
exit $status
