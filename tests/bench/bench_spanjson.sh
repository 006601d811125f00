# Span JSON formatting throughput, as attach -j prints spans: spans/s and MB/s written
# to /dev/null for typical spans with and without header blocks
# (tests/bench/bench_spanjson.c). SECONDS_PER seconds per workload (default 2). Needs
# build/libehttp.a (make bench builds it).
set -u
SECONDS_PER=${SECONDS_PER:-2}
OUT=${OUT:-build}
CC=${CC:-cc}
bin=$OUT/bench/bench_spanjson
mkdir -p "$OUT/bench"
# shellcheck disable=SC2046
$CC -std=gnu11 -O2 -g -D_GNU_SOURCE -Ilib -o "$bin" tests/bench/bench_spanjson.c "$OUT/libehttp.a" \
	$(pkg-config --libs jansson 2>/dev/null || echo -ljansson) || exit 1
"$bin" "$SECONDS_PER"
