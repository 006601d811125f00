# HTTP/1.x parse throughput with no kernel in the way: spans/s and MB/s of captured
# bytes for keep-alive request/response pairs (tests/bench/bench_httpconn.c).
# SECONDS_PER seconds per workload (default 2). Needs build/libehttp.a (make bench builds it).
set -u
SECONDS_PER=${SECONDS_PER:-2}
OUT=${OUT:-build}
CC=${CC:-cc}
bin=$OUT/bench/bench_httpconn
mkdir -p "$OUT/bench"
# shellcheck disable=SC2046
$CC -std=gnu11 -O2 -g -D_GNU_SOURCE -Ilib -o "$bin" tests/bench/bench_httpconn.c "$OUT/libehttp.a" \
	$(pkg-config --libs jansson libnghttp2 2>/dev/null || echo -ljansson -lnghttp2) || exit 1
"$bin" "$SECONDS_PER"
