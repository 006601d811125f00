# ehttp offsets against ground truth that does not come from ehttp: the fixture's own
# reflect output (field offsets), `go version -m` (build info), `go tool nm` (function
# addresses and sizes) and objdump (return instructions, bytes at file offsets), over
# every build variant: plain, stripped, PIE, static, arm64 (plain, stripped, stripped
# PIE), externally linked (plain, stripped PIE), and no section headers.
. tests/integration/lib.sh

command -v go >/dev/null || skip "no go toolchain"
command -v objdump >/dev/null || skip "no objdump"
GO=$TMP/go
mkdir -p "$GO"

# ---- build the variants ------------------------------------------------------------
# name||||unstripped counterpart (for go tool nm)|field source when automatic; arch 3rd
variants=(
	"plain||||plain|dwarf"
	"stripped||||plain|runtime"
	"pie||||pie|dwarf"
	"piestripped||||pie|runtime"
	"static||||static|dwarf"
	"arm64|||arm64|arm64|dwarf"
	"arm64stripped|||arm64|arm64|runtime"
	"arm64piestripped|||arm64|arm64pie|runtime"
	"external||||external|dwarf"
	"externalpiestripped||||externalpie|runtime"
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
# Section headers gone (as after sstrip): e_shoff, e_shnum and e_shstrndx zeroed.
noshdr() {
	python3 - "$1" "$2" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[0x28:0x30] = bytes(8); d[0x3c:0x40] = bytes(4)
open(sys.argv[2], 'wb').write(d)
PY
}
noshdr "$GO/stripped" "$GO/noshdr"
noshdr "$GO/piestripped" "$GO/pienoshdr"
# (build info truth for these: the file they were made from, which go version -m reads)
variants+=("noshdr||||plain|runtime|stripped" "pienoshdr||||pie|runtime|piestripped")

# ---- truth from the fixture itself ---------------------------------------------------
(cd "$TMP" && timeout 30 "$GO/plain") >"$TMP/truth.jsonl" 2>"$TMP/truth.err" || fail "fixture run: $(cat "$TMP/truth.err")"
jq -s 'map(select(.field)) ' "$TMP/truth.jsonl" >"$TMP/truth_fields.json"
jq -s 'map(select(.type))' "$TMP/truth.jsonl" >"$TMP/truth_types.json"
types=$(jq -r '.[].type' "$TMP/truth_types.json")
[ "$(echo "$types" | wc -l)" -ge 8 ] || fail "fixture printed too few types"

# Expected offset of STRUCT.FIELD per the fixture.
truth_offset() { jq -r --arg s "$1" --arg f "$2" '.[] | select(.struct==$s and .field==$f) | .offset' "$TMP/truth_fields.json"; }

checked_funcs=0 checked_rets=0
for v in "${variants[@]}"; do
	IFS='|' read -r name _ _ arch nmsrc source infosrc <<<"$v"
	bin=$GO/$name
	echo "== $name"
	"$EHTTP" -j offsets "$bin" >"$TMP/$name.json" 2>"$TMP/err" || fail "$name: $(cat "$TMP/err")"
	J=$TMP/$name.json

	# build info and ABI against `go version -m`
	go version -m "$GO/${infosrc:-$name}" >"$TMP/gov" 2>&1 || fail "go version -m ${infosrc:-$name}"
	expect_eq "$name go_version" "$(head -1 "$TMP/gov" | awk '{print $2}')" "$(jq -r .go_version "$J")"
	expect_eq "$name main path" "$(awk -F'\t' '$2=="path"{print $3}' "$TMP/gov")" "$(jq -r .main_path "$J")"
	expect_eq "$name main module" "$(awk -F'\t' '$2=="mod"{print $3" "$4}' "$TMP/gov")" \
		"$(jq -r '.modules[] | select(.main) | "\(.path) \(.version)"' "$J")"
	expect_eq "$name build settings" "$(awk -F'\t' '$2=="build"{print $3}' "$TMP/gov" | sort)" \
		"$(jq -r '.build_settings | to_entries[] | "\(.key)=\(.value)"' "$J" | sort)"
	want_arch=${arch:-amd64}
	expect_eq "$name arch" "$want_arch" "$(jq -r .arch "$J")"
	expect_eq "$name abi (Go 1.19: register ABI on both)" register "$(jq -r .abi "$J")"
	expect_eq "$name g register" "$([ "$want_arch" = arm64 ] && echo x28 || echo r14)" "$(jq -r .g_register "$J")"
	file -L "$bin" | grep -q 'statically linked' && static=false || static=true
	expect_eq "$name dynamic (file(1))" "$static" "$(jq -r .dynamic "$J")"
	file -L "$bin" | grep -q 'pie executable' && pie=true || pie=false
	expect_eq "$name pie (file(1))" "$pie" "$(jq -r .pie "$J")"

	# fields against reflect, and the source they came from
	n=$(jq '.fields | length' "$J")
	for i in $(seq 0 $((n - 1))); do
		read -r s f off src < <(jq -r ".fields[$i] | \"\(.struct) \(.field) \(.offset) \(.source)\"" "$J")
		expect_eq "$name $s.$f" "$(truth_offset "$s" "$f")" "$off"
		[ "$src" = "$source" ] || fail "$name $s.$f: source $src, expected $source"
	done

	# functions against go tool nm, returns against objdump
	[ "$(jq '.missing_functions | length' "$J")" = 0 ] || fail "$name: missing $(jq -c .missing_functions "$J")"
	go tool nm -size "$GO/$nmsrc" >"$TMP/nm" || fail "go tool nm $nmsrc"
	OBJDUMP=objdump
	[ "$want_arch" = arm64 ] && OBJDUMP=aarch64-linux-gnu-objdump
	nf=$(jq '.functions | length' "$J")
	[ "$nf" -ge 9 ] || fail "$name: only $nf functions"
	for i in $(seq 0 $((nf - 1))); do
		read -r fn addr off size < <(jq -r ".functions[$i] | \"\(.name) \(.address) \(.offset) \(.size)\"" "$J")
		read -r nmaddr nmsize < <(awk -v n="$fn" '$4==n && ($3=="T" || $3=="t") {print $1, $2}' "$TMP/nm")
		[ -n "$nmaddr" ] || fail "$name: $fn not in go tool nm"
		expect_eq "$name $fn address" "$((16#$nmaddr))" "$addr" >/dev/null
		if jq -e '.symtab' "$J" >/dev/null; then
			expect_eq "$name $fn size" "$nmsize" "$size" >/dev/null
		else
			# from the pclntab: up to the next function, padding included
			[ "$size" -ge "$nmsize" ] && [ "$size" -lt $((nmsize + 64)) ] || fail "$name $fn size $size vs nm $nmsize"
		fi
		stop=$((addr + nmsize))
		# objdump needs section headers: disassemble the file this one was made from
		$OBJDUMP -d --start-address="$addr" --stop-address="$stop" "$GO/${infosrc:-$name}" >"$TMP/dis" || fail "objdump $fn"
		want=$(awk -F'\t' '$3 ~ /^(repz? )?retq?( |$)/ {sub(":","",$1); gsub(" ","",$1); print $1}' "$TMP/dis" |
			while read -r a; do echo $((16#$a)); done | sort -n | tr '\n' ' ')
		got=$(jq -r ".functions[$i].returns[]" "$J" | sort -n | tr '\n' ' ')
		[ "$want" = "$got" ] || fail "$name $fn returns: objdump '$want', ehttp '$got'"
		# the file offset holds the entry's bytes
		first=$(awk -F'\t' -v a="$(printf '%x' "$addr")" '$1 ~ ("^ *" a ":") {gsub(" ","",$2); print $2; exit}' "$TMP/dis")
		[ -n "$first" ] || fail "$name $fn: no instruction at entry"
		got_bytes=$(od -An -tx1 -v -j "$off" -N $(( ${#first} / 2 )) "$bin" | tr -d " \n")
		if [ "$want_arch" = arm64 ]; then # objdump prints the word, the file holds it little-endian
			first=$(echo "$first" | sed -E 's/(..)(..)(..)(..)/\4\3\2\1/')
		fi
		[ "$got_bytes" = "$first" ] || fail "$name $fn: bytes at offset $off are $got_bytes, objdump says $first"
		checked_funcs=$((checked_funcs + 1))
		checked_rets=$((checked_rets + $(echo "$got" | wc -w)))
	done
	echo "ok: $name: $nf functions, addresses, sizes, file offsets and returns match"

	# every field of every type the fixture printed, from each source it has
	sources="runtime"
	[ "$source" = dwarf ] && sources="dwarf runtime"
	for t in $types; do
		want=$(jq -c --arg t "$t" '[.[] | select(.struct==$t) | {name: .field, offset, size}]' "$TMP/truth_fields.json")
		wsize=$(jq -r --arg t "$t" '.[] | select(.type==$t) | .size' "$TMP/truth_types.json")
		for src in $sources; do
			"$EHTTP" -j offsets "$bin" "$t" --source "$src" >"$TMP/t.json" 2>"$TMP/err" ||
				fail "$name $t from $src: $(cat "$TMP/err")"
			expect_eq "$name $t ($src) fields" "$want" "$(jq -c '[.fields[] | {name, offset, size}]' "$TMP/t.json")" >/dev/null
			expect_eq "$name $t ($src) size" "$wsize" "$(jq .size "$TMP/t.json")" >/dev/null
			expect_eq "$name $t ($src) source" "$src" "$(jq -r .source "$TMP/t.json")" >/dev/null
		done
	done
	echo "ok: $name: $(echo "$types" | wc -w) types match reflect field for field from: $sources"
	if [ "$source" = runtime ]; then
		"$EHTTP" offsets "$bin" net/http.Request --source dwarf >/dev/null 2>"$TMP/err" && fail "$name: dwarf source without DWARF"
		grep -q '^Error: no DWARF' "$TMP/err" || fail "$name: no-DWARF message: $(cat "$TMP/err")"
	fi
done
echo "ok: $checked_funcs functions and $checked_rets return instructions checked"

# ---- a server that never reflects: the runtime type path still finds every field ----
"$EHTTP" -j offsets "$GO/noreflect" >"$TMP/srv.json" || fail "noreflect"
n=$(jq '.fields | length' "$TMP/srv.json")
for i in $(seq 0 $((n - 1))); do
	read -r s f off src < <(jq -r ".fields[$i] | \"\(.struct) \(.field) \(.offset) \(.source)\"" "$TMP/srv.json")
	[ "$src" = runtime ] || fail "noreflect $s.$f from $src"
	[ "$off" = "$(truth_offset "$s" "$f")" ] || fail "noreflect $s.$f: $off"
done
echo "ok: stripped server without reflection: all $n fields from runtime type descriptors"

# the built-in table (last resort) agrees with this Go release, and says it is the table
"$EHTTP" -j offsets "$GO/noreflect" --source table >"$TMP/tab.json" || fail "--source table"
n=$(jq '[.fields[] | select(.source == "table")] | length' "$TMP/tab.json")
expect_eq "every field from the table with --source table" "$(jq '.fields | length' "$TMP/tab.json")" "$n"
for i in $(seq 0 $((n - 1))); do
	read -r s f off < <(jq -r ".fields[$i] | \"\(.struct) \(.field) \(.offset)\"" "$TMP/tab.json")
	[ "$off" = "$(truth_offset "$s" "$f")" ] || fail "table $s.$f: $off"
done
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
