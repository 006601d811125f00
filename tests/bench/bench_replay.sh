# replay --stats throughput and memory on warm span files: spans/s, peak RSS for a small
# and a four times larger file (constant memory means the same RSS), bytes per span on
# disk. The files come from tests/fixtures/spangen.c, which uses the span file writer.
#   SPANS=1000000 BIG=4000000 tests/bench/bench_replay.sh
set -u
EHTTP=${EHTTP:-build/ehttp}
SPANS=${SPANS:-1000000}
BIG=${BIG:-$((SPANS * 4))}
DIR=build/bench
mkdir -p "$DIR"
GEN=$DIR/spangen
${CC:-cc} -O2 -D_GNU_SOURCE -Ilib -o "$GEN" tests/fixtures/spangen.c build/libehttp.a \
	$(pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lz || exit 1

. tests/bench/bench_lib.sh

for n in "$SPANS" "$BIG"; do
	f=$DIR/replay-$n.pcapng
	[ -s "$f" ] || "$GEN" "$f" "$n" || exit 1
	cat "$f" >/dev/null # warm
	size=$(stat -c %s "$f")
	read -r secs rss rc < <(measure "$EHTTP" replay --stats "$f")
	[ "$rc" = 0 ] || { echo "   replay --stats failed (rc=$rc)"; exit 1; }
	read -r jsecs jrss _ < <(measure "$EHTTP" -j replay "$f")
	awk -v n="$n" -v s="$secs" -v r="$rss" -v b="$size" -v js="$jsecs" 'BEGIN {
		printf "   %9d spans, %6.1f MB, %5.1f bytes/span: replay --stats %5.2f s = %5.2f M spans/s, peak RSS %5.1f MB; replay -j %5.2f s = %4.2f M spans/s\n",
			n, b / 1e6, b / n, s, n / s / 1e6, r / 1024, js, n / js / 1e6 }'
done
echo "   (delete $DIR/replay-*.pcapng to regenerate)"
