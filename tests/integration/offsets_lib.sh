# shellcheck shell=bash
# Checks of `ehttp offsets` on one Go binary against ground truth that does not come from
# ehttp, shared by the offsets tests (sourced after lib.sh):
#   the offsets fixture's own output: runtime.Version() and every field's offset (reflect);
#   `go version -m` (build info), `go tool nm` (function addresses and sizes), objdump
#   (return instructions, bytes at file offsets) and file(1) (PIE, static).
# GO_CMD is the go command of the toolchain that built the binaries (default: go).

# offsets_truth FIXTURE: run an amd64 offsets fixture and keep what it says about itself
# in $TMP/truth_fields.json, $TMP/truth_types.json and $OFFSETS_TRUTH_VERSION.
offsets_truth() {
	(cd "$TMP" && timeout 30 "$1") >"$TMP/truth.jsonl" 2>"$TMP/truth.err" ||
		fail "fixture run $1: $(cat "$TMP/truth.err")"
	jq -s 'map(select(.field))' "$TMP/truth.jsonl" >"$TMP/truth_fields.json"
	jq -s 'map(select(.type))' "$TMP/truth.jsonl" >"$TMP/truth_types.json"
	OFFSETS_TRUTH_VERSION=$(jq -r 'select(.go_version) | .go_version' "$TMP/truth.jsonl")
	OFFSETS_TRUTH_TYPES=$(jq -r '.[].type' "$TMP/truth_types.json")
	[ "$(echo "$OFFSETS_TRUTH_TYPES" | wc -l)" -ge 8 ] || fail "fixture printed too few types"
	[ -n "$OFFSETS_TRUTH_VERSION" ] || fail "fixture printed no runtime.Version()"
}

# offsets_fields_match WHAT JSON SOURCE: the wanted fields in JSON (ehttp -j offsets BIN)
# have the fixture's offsets, all read from SOURCE.
offsets_fields_match() {
	expect_eq "$1 fields (reflect)" \
		"$(jq -c --slurpfile t "$TMP/truth_fields.json" '[.fields[] | . as $f |
			{struct, field, offset: ($t[0][] | select(.struct == $f.struct and .field == $f.field) | .offset)}]' "$2")" \
		"$(jq -c '[.fields[] | {struct, field, offset}]' "$2")" >/dev/null
	expect_eq "$1 field sources" "[\"$3\"]" "$(jq -c '[.fields[].source] | unique' "$2")"
}

# offsets_check NAME BIN INFO NM ARCH SOURCE
#   BIN     the binary ehttp reads
#   INFO    the same binary with section headers (go version -m, objdump read it)
#   NM      its unstripped twin (go tool nm reads it): same code, same addresses
#   ARCH    amd64 or arm64
#   SOURCE  where the fields must come from: dwarf (unstripped) or runtime (stripped)
offsets_check() {
	local name=$1 bin=$2 info=$3 nm=$4 arch=$5 source=$6 gocmd=${GO_CMD:-go}
	local J=$TMP/$name.json OBJDUMP=objdump static pie nf sources t src want
	local fn addr off size rets nmaddr nmsize stop got first got_bytes
	echo "== $name"
	"$EHTTP" -j offsets "$bin" >"$J" 2>"$TMP/err" || fail "$name: $(cat "$TMP/err")"

	# build info and ABI against `go version -m`, and the fixture's runtime.Version()
	$gocmd version -m "$info" >"$TMP/gov" 2>&1 || fail "go version -m $info: $(cat "$TMP/gov")"
	expect_eq "$name go_version (go version -m)" "$(head -1 "$TMP/gov" | awk '{print $2}')" "$(jq -r .go_version "$J")"
	expect_eq "$name go_version (runtime.Version)" "${OFFSETS_TRUTH_VERSION%% *}" "$(jq -r .go_version "$J")"
	expect_eq "$name main path" "$(awk -F'\t' '$2=="path"{print $3}' "$TMP/gov")" "$(jq -r .main_path "$J")"
	expect_eq "$name main module" "$(awk -F'\t' '$2=="mod"{print $3" "$4}' "$TMP/gov")" \
		"$(jq -r '.modules[] | select(.main) | "\(.path) \(.version)"' "$J")"
	expect_eq "$name build settings" "$(awk -F'\t' '$2=="build"{print $3}' "$TMP/gov" | sort)" \
		"$(jq -r '.build_settings | to_entries[] | "\(.key)=\(.value)"' "$J" | sort)"
	expect_eq "$name arch" "$arch" "$(jq -r .arch "$J")"
	expect_eq "$name abi (register from Go 1.17 on amd64, 1.18 on arm64)" register "$(jq -r .abi "$J")"
	expect_eq "$name g register" "$([ "$arch" = arm64 ] && echo x28 || echo r14)" "$(jq -r .g_register "$J")"
	file -L "$bin" | grep -q 'statically linked' && static=false || static=true
	expect_eq "$name dynamic (file(1))" "$static" "$(jq -r .dynamic "$J")"
	file -L "$bin" | grep -q 'pie executable' && pie=true || pie=false
	expect_eq "$name pie (file(1))" "$pie" "$(jq -r .pie "$J")"

	# every wanted field against reflect, from the expected source
	offsets_fields_match "$name" "$J" "$source"

	# functions against go tool nm, returns against objdump, entry bytes at the file offset
	expect_eq "$name missing functions" "[]" "$(jq -c .missing_functions "$J")"
	$gocmd tool nm -size "$nm" >"$TMP/nm" || fail "go tool nm $nm"
	[ "$arch" = arm64 ] && OBJDUMP=aarch64-linux-gnu-objdump
	nf=$(jq '.functions | length' "$J")
	[ "$nf" -ge 9 ] || fail "$name: only $nf functions"
	while IFS=$'\t' read -r fn addr off size rets; do
		read -r nmaddr nmsize < <(awk -v n="$fn" '$4==n && ($3=="T" || $3=="t") {print $1, $2}' "$TMP/nm")
		[ -n "$nmaddr" ] || fail "$name: $fn not in go tool nm"
		[ "$((16#$nmaddr))" = "$addr" ] || fail "$name $fn address $addr, nm $((16#$nmaddr))"
		if jq -e '.symtab' "$J" >/dev/null; then
			[ "$size" = "$nmsize" ] || fail "$name $fn size $size, nm $nmsize"
		else
			# from the pclntab: up to the next function, padding included
			if [ "$size" -lt "$nmsize" ] || [ "$size" -ge $((nmsize + 64)) ]; then
				fail "$name $fn size $size vs nm $nmsize"
			fi
		fi
		stop=$((addr + nmsize))
		$OBJDUMP -d --start-address="$addr" --stop-address="$stop" "$info" >"$TMP/dis" || fail "objdump $fn"
		want=$(awk -F'\t' '$3 ~ /^(repz? )?retq?( |$)/ {sub(":","",$1); gsub(" ","",$1); print $1}' "$TMP/dis" |
			while read -r a; do echo $((16#$a)); done | sort -n | tr '\n' ' ')
		got=$(echo "$rets" | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
		[ "$want" = "$got" ] || fail "$name $fn returns: objdump '$want', ehttp '$got'"
		first=$(awk -F'\t' -v a="$(printf '%x' "$addr")" '$1 ~ ("^ *" a ":") {gsub(" ","",$2); print $2; exit}' "$TMP/dis")
		[ -n "$first" ] || fail "$name $fn: no instruction at entry"
		got_bytes=$(od -An -tx1 -v -j "$off" -N $((${#first} / 2)) "$bin" | tr -d " \n")
		if [ "$arch" = arm64 ]; then # objdump prints the word, the file holds it little-endian
			first=$(echo "$first" | sed -E 's/(..)(..)(..)(..)/\4\3\2\1/')
		fi
		[ "$got_bytes" = "$first" ] || fail "$name $fn: bytes at offset $off are $got_bytes, objdump says $first"
		OFFSETS_FUNCS=$((${OFFSETS_FUNCS:-0} + 1))
		OFFSETS_RETS=$((${OFFSETS_RETS:-0} + $(echo "$got" | wc -w)))
	done < <(jq -r '.functions[] | [.name, .address, .offset, .size, (.returns | map(tostring) | join(" "))] | @tsv' "$J")
	echo "ok: $name: $nf functions, addresses, sizes, file offsets and returns match"

	# every field of every type the fixture printed, from each source the binary has
	sources="runtime"
	[ "$source" = dwarf ] && sources="dwarf runtime"
	: >"$TMP/dumps.jsonl"
	for t in $OFFSETS_TRUTH_TYPES; do
		for src in $sources; do
			"$EHTTP" -j offsets "$bin" "$t" --source "$src" >>"$TMP/dumps.jsonl" 2>"$TMP/err" ||
				fail "$name $t from $src: $(cat "$TMP/err")"
		done
	done
	jq -c --arg sources "$sources" --slurpfile f "$TMP/truth_fields.json" '.[] as $T | ($sources | split(" "))[] as $s |
		{type: $T.type, source: $s, size: $T.size, fields: [$f[0][] | select(.struct == $T.type) | {name: .field, offset, size}]}' \
		"$TMP/truth_types.json" >"$TMP/want_types"
	jq -c '{type, source, size, fields: [.fields[] | {name, offset, size}]}' "$TMP/dumps.jsonl" >"$TMP/got_types"
	diff "$TMP/want_types" "$TMP/got_types" >"$TMP/types.diff" || fail "$name: struct dumps differ from reflect: $(head -c 2000 "$TMP/types.diff")"
	echo "ok: $name: $(echo "$OFFSETS_TRUTH_TYPES" | wc -w) types match reflect field for field from: $sources"
	if [ "$source" = runtime ]; then
		"$EHTTP" offsets "$bin" net/http.Request --source dwarf >/dev/null 2>"$TMP/err" && fail "$name: dwarf source without DWARF"
		grep -q '^Error: no DWARF' "$TMP/err" || fail "$name: no-DWARF message: $(cat "$TMP/err")"
	fi
}

# Section headers gone (as after sstrip): e_shoff, e_shnum and e_shstrndx zeroed.
offsets_noshdr() {
	python3 - "$1" "$2" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[0x28:0x30] = bytes(8); d[0x3c:0x40] = bytes(4)
open(sys.argv[2], 'wb').write(d)
PY
}

# offsets_damage_buildinfo IN OUT MODE: a copy whose build info is damaged:
#   magic  one byte of the magic flipped (the section is still there)
#   length the version's length made absurd
#   gone   the whole blob zeroed and the section headers with it
offsets_damage_buildinfo() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
src, dst, mode = sys.argv[1:4]
d = bytearray(open(src, 'rb').read())
i = d.find(b'\xff Go buildinf:')
assert i >= 0, "no build info in " + src
if mode == 'magic':
    d[i + 5] ^= 0x20
elif mode == 'length':
    d[i + 32:i + 35] = b'\xff\xff\x7f'
elif mode == 'gone':
    d[i:i + 512] = bytes(512)
    d[0x28:0x30] = bytes(8); d[0x3c:0x40] = bytes(4)
open(dst, 'wb').write(d)
PY
}
