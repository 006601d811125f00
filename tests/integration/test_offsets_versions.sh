# shellcheck shell=bash
# ehttp offsets over Go releases from Debian's suites (tests/go_toolchains.sh), each
# against the offsets fixture built with that release (offsets_lib.sh: its own
# runtime.Version() and reflect output, that toolchain's `go version -m` and `go tool nm`,
# objdump). Per release and variant: version, ABI, every wanted field from the expected
# source, every function with its returns, every field of every struct the fixture
# dumps (DWARF and runtime type descriptors); the built-in table agrees with the
# release (and claims none before 1.17); damaged or missing build info still gives the
# exact version, read from runtime.buildVersion.
#
# EHTTP_GO_VERSIONS (default 1.21 1.24 1.27) and EHTTP_GO_VARIANTS (default plain
# stripped pie piestripped static) choose; `make test-go-versions` runs every release
# and variant, arm64 included. Builds are cached (EHTTP_CACHE): cold, each release costs
# its standard library once per variant family (about a minute each here).
. tests/integration/lib.sh
. tests/integration/offsets_lib.sh
. tests/go_toolchains.sh

command -v objdump >/dev/null || skip "no objdump"
versions=${EHTTP_GO_VERSIONS:-1.21 1.24 1.27}
variants=${EHTTP_GO_VARIANTS:-plain stripped pie piestripped static}

# what a variant is checked against: its unstripped twin, its architecture, its source
twin() { case $1 in stripped) echo plain ;; *stripped) echo "${1%stripped}" ;; *) echo "$1" ;; esac; }
arch_of() { case $1 in arm64*) echo arm64 ;; *) echo amd64 ;; esac; }
source_of() { case $1 in *stripped) echo runtime ;; *) echo dwarf ;; esac; }

checked=0
for ver in $versions; do
	echo "==== Go $ver"
	go_toolchain "$ver" >/dev/null || fail "Go $ver: no toolchain"
	GO_CMD="go_tool $ver"
	declare -A bins=()
	for v in $variants $(for w in $variants; do twin "$w"; done); do
		[ -n "${bins[$v]:-}" ] && continue
		bins[$v]=$(go_fixture "$ver" offsets "$v") || fail "Go $ver: build $v"
	done
	offsets_truth "$(go_fixture "$ver" offsets plain)"
	expect_eq "Go $ver: the fixture was built by it" "go$ver" "$(echo "$OFFSETS_TRUTH_VERSION" | grep -o '^go1\.[0-9]*')"

	for v in $variants; do
		offsets_check "$ver-$v" "${bins[$v]}" "${bins[$v]}" "${bins[$(twin "$v")]}" "$(arch_of "$v")" "$(source_of "$v")"
		checked=$((checked + 1))
	done

	# the rest on the stripped build when there is one
	case " $variants " in *" stripped "*) ;; *) continue ;; esac
	stripped=${bins[stripped]}
	offsets_noshdr "$stripped" "$TMP/$ver-noshdr"
	offsets_check "$ver-noshdr" "$TMP/$ver-noshdr" "$stripped" "${bins[plain]}" amd64 runtime

	# the built-in table (last resort) is right for this release, and claims nothing
	# before 1.17, which it was not checked for
	"$EHTTP" -j offsets "$stripped" --source table >"$TMP/table.json" || fail "$ver --source table"
	if [ "${ver#1.}" -ge 17 ]; then
		offsets_fields_match "$ver table" "$TMP/table.json" table
	else
		expect_eq "$ver: no table rows" '["none"]' "$(jq -c '[.fields[].source] | unique' "$TMP/table.json")"
	fi

	# build info damaged or gone: the exact version still, from runtime.buildVersion
	for mode in magic length gone; do
		offsets_damage_buildinfo "$stripped" "$TMP/$ver-$mode" "$mode"
		"$EHTTP" -j offsets "$TMP/$ver-$mode" >"$TMP/d.json" 2>"$TMP/err" || fail "$ver build info $mode: $(cat "$TMP/err")"
		expect_eq "$ver build info $mode: version" "${OFFSETS_TRUTH_VERSION%% *}" "$(jq -r .go_version "$TMP/d.json")"
		jq -r .go_version_source "$TMP/d.json" | grep -q '^runtime.buildVersion string in data' ||
			fail "$ver build info $mode: version source $(jq -r .go_version_source "$TMP/d.json")"
		offsets_fields_match "$ver build info $mode" "$TMP/d.json" runtime
		expect_eq "$ver build info $mode: missing functions" "[]" "$(jq -c .missing_functions "$TMP/d.json")"
	done
	unset bins
done
echo "ok: $checked builds of $(echo "$versions" | wc -w) Go releases; $OFFSETS_FUNCS functions and $OFFSETS_RETS return instructions checked"
