# shellcheck shell=bash
# Checks of `ehttp offsets` on one Go binary against ground truth that does not come from
# ehttp, shared by the offsets tests (sourced after lib.sh):
#   the offsets fixture's own output: runtime.Version() and every field's offset (reflect),
#   and for what reflect cannot reach, its DWARF as binutils' readelf reads it;
#   `go version -m` (build info), `go tool nm` (function addresses and sizes), objdump
#   (return instructions, bytes at file offsets) and file(1) (PIE, static).
# GO_CMD is the go command of the toolchain that built the binaries (default: go).

# offsets_dwarf_truth BIN STRUCT...: the members of these structs and their offsets, per
# binutils' reading of BIN's DWARF (readelf), as JSON lines like the fixture's.
offsets_dwarf_truth() {
	local bin=$1
	shift
	readelf --debug-dump=info "$bin" 2>/dev/null | python3 -c '
import json, re, sys
want, done = set(sys.argv[1:]), set()
die = re.compile(r"\s*<(\d+)><[0-9a-f]+>: Abbrev Number: \d+ \((DW_TAG_\w+)\)")
attr = re.compile(r"\s*<[0-9a-f]+>\s+(DW_AT_\w+)\s*:\s*(.*?)\s*$")
strct = sdepth = None   # the wanted struct being read, and its depth
cur = {}                # the DIE being read
def close():
    if strct and cur.get("tag") == "DW_TAG_member" and cur["depth"] == sdepth + 1 and "name" in cur and "loc" in cur:
        print(json.dumps({"struct": strct, "field": cur["name"], "offset": cur["loc"]}))
for line in sys.stdin:
    m = die.match(line)
    if m:
        close()
        depth, tag = int(m.group(1)), m.group(2)
        if strct and depth <= sdepth:
            done.add(strct); strct = None
        cur = {"tag": tag, "depth": depth}
        continue
    m = attr.match(line)
    if not m or not cur:
        continue
    k, v = m.groups()
    if k == "DW_AT_name":
        v = v.split(": ")[-1]   # "(indirect string, offset: 0x..): name" or "name"
        cur["name"] = v
        if cur["tag"] == "DW_TAG_structure_type" and v in want and v not in done and not strct:
            strct, sdepth = v, cur["depth"]
    elif k == "DW_AT_data_member_location" and v.isdigit():
        cur["loc"] = int(v)
close()
' "$@"
}

# offsets_truth FIXTURE: run an amd64 offsets fixture (unstripped) and keep what it says
# about itself in $TMP/truth_fields.json, $TMP/truth_types.json and
# $OFFSETS_TRUTH_VERSION. Structs ehttp wants that reflect cannot reach (runtime's) come
# from the fixture's DWARF as readelf reads it; so does net/http.Request, to check that
# reading against reflect.
offsets_truth() {
	local missing
	(cd "$TMP" && timeout 30 "$1") >"$TMP/truth.jsonl" 2>"$TMP/truth.err" ||
		fail "fixture run $1: $(cat "$TMP/truth.err")"
	jq -s 'map(select(.field))' "$TMP/truth.jsonl" >"$TMP/truth_reflect.json"
	jq -s 'map(select(.type))' "$TMP/truth.jsonl" >"$TMP/truth_types.json"
	OFFSETS_TRUTH_VERSION=$(jq -r 'select(.go_version) | .go_version' "$TMP/truth.jsonl")
	OFFSETS_TRUTH_TYPES=$(jq -r '.[].type' "$TMP/truth_types.json")
	[ "$(echo "$OFFSETS_TRUTH_TYPES" | wc -l)" -ge 8 ] || fail "fixture printed too few types"
	[ -n "$OFFSETS_TRUTH_VERSION" ] || fail "fixture printed no runtime.Version()"
	"$EHTTP" -j offsets "$1" >"$TMP/want.json" || fail "offsets $1"
	mapfile -t missing < <(jq -r --slurpfile t "$TMP/truth_reflect.json" \
		'[.fields[].struct] | unique[] | select(. as $s | [$t[0][] | select(.struct == $s)] | length == 0)' "$TMP/want.json")
	offsets_dwarf_truth "$1" net/http.Request "${missing[@]}" >"$TMP/truth_dwarf.jsonl"
	expect_eq "readelf's DWARF agrees with reflect on net/http.Request" \
		"$(jq -c '[.[] | select(.struct == "net/http.Request") | {field, offset}]' "$TMP/truth_reflect.json")" \
		"$(jq -sc '[.[] | select(.struct == "net/http.Request") | {field, offset}]' "$TMP/truth_dwarf.jsonl")" >/dev/null
	jq -s --slurpfile r "$TMP/truth_reflect.json" '$r[0] + map(select(.struct != "net/http.Request"))' \
		"$TMP/truth_dwarf.jsonl" >"$TMP/truth_fields.json"
}

# offsets_fields_match WHAT JSON SOURCE: the wanted fields in JSON (ehttp -j offsets BIN)
# have the fixture's offsets, all read from SOURCE; but the runtime's own structs
# (runtime.g), which no interface reaches, have no type descriptor in a stripped binary:
# there they come from the table, or (a release it has no row for) are not found.
offsets_fields_match() {
	local rt_sources="[\"$3\"]"
	[ "$3" = runtime ] && rt_sources='["none","runtime","table"]'
	expect_eq "$1 fields (fixture)" \
		"$(jq -c --slurpfile t "$TMP/truth_fields.json" '[.fields[] | select(.source != "none") | . as $f |
			{struct, field, offset: ($t[0][] | select(.struct == $f.struct and .field == $f.field) | .offset)}]' "$2")" \
		"$(jq -c '[.fields[] | select(.source != "none") | {struct, field, offset}]' "$2")" >/dev/null
	expect_eq "$1 field sources" "[\"$3\"]" \
		"$(jq -c '[.fields[] | select(.struct | startswith("runtime.") | not) | .source] | unique' "$2")"
	jq -e --argjson ok "$rt_sources" '[.fields[] | select(.struct | startswith("runtime.")) | .source] - $ok == []' "$2" >/dev/null ||
		fail "$1: runtime structs from $(jq -c '[.fields[] | select(.struct | startswith("runtime.")) | .source] | unique' "$2"), expected one of $rt_sources"
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
	local fn addr off size rets nmaddr nmsize stop got first got_bytes minor abi g
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
	# register ABI from Go 1.17 on amd64, 1.18 on arm64 (abi-internal.md); g in r14 with
	# it, in thread-local storage before; always in x28 on arm64
	minor=$(echo "$OFFSETS_TRUTH_VERSION" | sed -E 's/^go1\.([0-9]+).*/\1/')
	abi=stack g=tls
	if [ "$minor" -ge $([ "$arch" = arm64 ] && echo 18 || echo 17) ]; then abi=register g=r14; fi
	[ "$arch" = arm64 ] && g=x28
	expect_eq "$name abi" "$abi" "$(jq -r .abi "$J")"
	expect_eq "$name g register" "$g" "$(jq -r .g_register "$J")"
	file -L "$bin" | grep -q 'statically linked' && static=false || static=true
	expect_eq "$name dynamic (file(1))" "$static" "$(jq -r .dynamic "$J")"
	# (a "shared object" with an interpreter is a PIE too: Go before 1.16 sets no DF_1_PIE)
	file -L "$bin" | grep -Eq 'pie executable|shared object.*interpreter' && pie=true || pie=false
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
#   length the version's length made absurd (its address, before Go 1.18)
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
elif mode == 'length' and d[i + 15] & 2:   # inline strings (1.18+): a length past the end
    d[i + 32:i + 35] = b'\xff\xff\x7f'
elif mode == 'length':                    # before: a string header's address out of the file
    d[i + 16:i + 24] = b'\xff' * 8
elif mode == 'gone':
    d[i:i + 512] = bytes(512)
    d[0x28:0x30] = bytes(8); d[0x3c:0x40] = bytes(4)
open(dst, 'wb').write(d)
PY
}
