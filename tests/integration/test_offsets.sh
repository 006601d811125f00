# ehttp offsets against ground truth that does not come from ehttp (offsets_lib.sh): the
# fixture's own reflect output and runtime.Version(), `go version -m`, `go tool nm` and
# objdump, over every build variant with this machine's Go: plain, stripped, PIE, static,
# arm64 (plain, stripped, stripped PIE), externally linked (plain, stripped PIE), and no
# section headers. Other Go releases: test_offsets_versions.sh.
. tests/integration/lib.sh
. tests/integration/offsets_lib.sh

command -v go >/dev/null || skip "no go toolchain"
command -v objdump >/dev/null || skip "no objdump"
GO=$TMP/go
mkdir -p "$GO"

# ---- build the variants ------------------------------------------------------------
# name|arch|unstripped twin (for go tool nm)|field source|same file with section headers
variants=(
	"plain|amd64|plain|dwarf"
	"stripped|amd64|plain|runtime"
	"pie|amd64|pie|dwarf"
	"piestripped|amd64|pie|runtime"
	"static|amd64|static|dwarf"
	"arm64|arm64|arm64|dwarf"
	"arm64stripped|arm64|arm64|runtime"
	"arm64piestripped|arm64|arm64pie|runtime"
	"external|amd64|external|dwarf"
	"externalpiestripped|amd64|externalpie|runtime"
	"noshdr|amd64|plain|runtime|stripped"
	"pienoshdr|amd64|pie|runtime|piestripped"
)
go_build offsets "$GO/plain"
go_build offsets "$GO/stripped" -ldflags='-s -w'
go_build offsets "$GO/pie" -buildmode=pie
go_build offsets "$GO/piestripped" -buildmode=pie -ldflags='-s -w'
CGO_ENABLED=0 go_build offsets "$GO/static"
GOARCH=arm64 go_build offsets "$GO/arm64"
GOARCH=arm64 go_build offsets "$GO/arm64stripped" -ldflags='-s -w'
GOARCH=arm64 go_build offsets "$GO/arm64pie" -buildmode=pie
GOARCH=arm64 go_build offsets "$GO/arm64piestripped" -buildmode=pie -ldflags='-s -w'
# linked by the system linker (cgo's way), plain and PIE
go_build offsets "$GO/external" -ldflags=-linkmode=external
go_build offsets "$GO/externalpie" -buildmode=pie -ldflags=-linkmode=external
go_build offsets "$GO/externalpiestripped" -buildmode=pie -ldflags='-linkmode=external -s -w'
go_build noreflect "$GO/noreflect" -ldflags='-s -w'
offsets_noshdr "$GO/stripped" "$GO/noshdr"
offsets_noshdr "$GO/piestripped" "$GO/pienoshdr"

# ---- truth from the fixture itself, and every variant against it --------------------
offsets_truth "$GO/plain"
for v in "${variants[@]}"; do
	IFS='|' read -r name arch nmsrc source infosrc <<<"$v"
	offsets_check "$name" "$GO/$name" "$GO/${infosrc:-$name}" "$GO/$nmsrc" "$arch" "$source"
done
echo "ok: $OFFSETS_FUNCS functions and $OFFSETS_RETS return instructions checked"

# ---- a server that never reflects: the runtime type path still finds every field ----
"$EHTTP" -j offsets "$GO/noreflect" >"$TMP/srv.json" || fail "noreflect"
offsets_fields_match "stripped server without reflection" "$TMP/srv.json" runtime

# the built-in table (last resort) agrees with this Go release, and says it is the table
"$EHTTP" -j offsets "$GO/noreflect" --source table >"$TMP/tab.json" || fail "--source table"
offsets_fields_match "--source table" "$TMP/tab.json" table
# a Go program without net/http gets no net/http offsets from the table
tool=$(go env GOTOOLDIR)/asm
if [ -x "$tool" ]; then
	"$EHTTP" -j offsets "$tool" >"$TMP/tool.json" || fail "offsets $tool"
	expect_eq "no net/http rows for a program without net/http" 0 \
		"$(jq '[.fields[] | select((.struct | startswith("net/http.")) and .offset != null)] | length' "$TMP/tool.json")"
fi

# ---- --func against go tool nm ---------------------------------------------------------
"$EHTTP" -j offsets "$GO/plain" --func 'net/http.(\*conn).*' >"$TMP/f.json" || fail "--func"
expect_eq "--func glob matches go tool nm" \
	"$(go tool nm "$GO/plain" | awk '$2=="T" && index($3, "net/http.(*conn).")==1 {print $3}' | sort)" \
	"$(jq -r '.functions[].name' "$TMP/f.json" | sort)"
"$EHTTP" -j offsets "$GO/stripped" --func readContinuedLineSlice >"$TMP/f.json" || fail "--func substring"
expect_eq "--func substring on a stripped binary" "net/textproto.(*Reader).readContinuedLineSlice" \
	"$(jq -r '.functions[].name' "$TMP/f.json")"

# ---- text output -----------------------------------------------------------------------
"$EHTTP" offsets "$GO/plain" >"$TMP/text" || fail "text output"
for section in Binary Modules 'Build settings' 'Functions (from symtab)' Fields; do
	grep -q "^$section" "$TMP/text" || fail "text output lacks $section"
done
"$EHTTP" offsets "$GO/stripped" net/http.Request | grep -q '^struct net/http.Request  size 248  (from runtime)' ||
	fail "type dump header"

# ---- bad input: one Error line, exit 1, never a crash --------------------------------
bad() { # what file
	local rc
	"$EHTTP" offsets "$2" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc = 1 ] || fail "$1: exit $rc ($(head -c 300 "$TMP/err"))"
	[ "$(wc -l <"$TMP/err")" = 1 ] && grep -q '^Error: ' "$TMP/err" || fail "$1: stderr: $(head -c 300 "$TMP/err")"
	[ ! -s "$TMP/out" ] || fail "$1: printed on stdout"
}
bad "not ELF (/bin/true is ELF but not Go)" /bin/true
head -c 65536 /dev/urandom >"$TMP/random"
bad "random bytes" "$TMP/random"
printf 'hello\nworld\n' >"$TMP/text.txt"
bad "text file" "$TMP/text.txt"
bad "directory" "$TMP"
bad "missing file" "$TMP/nope"
: >"$TMP/empty"
bad "empty file" "$TMP/empty"
grep -q 'not a Go binary' <("$EHTTP" offsets /bin/true 2>&1) || fail "/bin/true message"
"$EHTTP" -j offsets /bin/true | jq -e '.error | test("not a Go binary")' >/dev/null || fail "JSON error"
# an unsupported architecture: a Go ELF whose machine says something else (s390x)
cp "$GO/stripped" "$TMP/s390"
printf '\x16\x00' | dd of="$TMP/s390" bs=1 seek=18 conv=notrunc status=none
bad "unsupported architecture" "$TMP/s390"
grep -q 'unsupported architecture' "$TMP/err" || fail "arch message: $(cat "$TMP/err")"

# truncated copies at many lengths: each fails cleanly, or (cut only in trailing
# non-loaded bytes) succeeds; never a crash
for src in stripped pie arm64; do
	size=$(stat -c %s "$GO/$src")
	lens="0 1 15 16 52 63 64 65 120 200 500 700 1000 4095 4096 4097"
	for k in $(seq 1 40); do lens="$lens $((size * k / 41))"; done
	for len in $lens $((size - 4096)) $((size - 1)); do
		head -c "$len" "$GO/$src" >"$TMP/trunc"
		"$EHTTP" -j offsets "$TMP/trunc" >"$TMP/out" 2>"$TMP/err"
		rc=$?
		[ $rc = 0 ] || [ $rc = 1 ] || fail "$src truncated to $len: exit $rc $(head -c 300 "$TMP/err")"
		jq -e . "$TMP/out" >/dev/null || fail "$src truncated to $len: output is not JSON"
		if [ $rc = 1 ]; then
			jq -e '.error' "$TMP/out" >/dev/null || fail "$src truncated to $len: no error object"
		fi
	done
done
echo "ok: truncated copies fail cleanly"

# corrupted copies: random bytes overwritten inside the pclntab, the type data, the header
for seed in 1 2 3 4 5 6 7 8; do
	cp "$GO/stripped" "$TMP/corrupt"
	python3 - "$TMP/corrupt" "$seed" <<'PY'
import random, sys
p = sys.argv[1]; r = random.Random(int(sys.argv[2]))
d = bytearray(open(p, 'rb').read())
for _ in range(200):
    i = r.randrange(len(d)) if r.random() < 0.7 else r.randrange(4096)
    d[i] = r.randrange(256)
open(p, 'wb').write(d)
PY
	"$EHTTP" -j offsets "$TMP/corrupt" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc = 0 ] || [ $rc = 1 ] || fail "corrupt copy $seed: exit $rc"
done
echo "ok: corrupted copies never crash"

# ---- usage errors exit 2 ---------------------------------------------------------------
"$EHTTP" offsets >/dev/null 2>&1; expect_eq "no binary" 2 $?
"$EHTTP" offsets "$GO/plain" --source nope >/dev/null 2>&1; expect_eq "bad --source" 2 $?
"$EHTTP" offsets "$GO/plain" --func >/dev/null 2>&1; expect_eq "--func without pattern" 2 $?
"$EHTTP" offsets "$GO/plain" T --func x >/dev/null 2>&1; expect_eq "TYPE and --func" 2 $?
"$EHTTP" offsets help | grep -q '^Usage: ehttp offsets' || fail "offsets help"
echo "offsets match the ground truth"
