# The command line contract: exit codes 0/1/2, Error: lines, JSON errors, prefixes, help.
. tests/integration/lib.sh

run() { "$EHTTP" "$@" >"$TMP/out" 2>"$TMP/err"; echo $?; }

expect_eq "no command: usage, exit 2" 2 "$(run)"
grep -q '^Usage: ehttp' "$TMP/err" || fail "usage on stderr"
expect_eq "help exits 0" 0 "$(run help)"
grep -q '^  check ' "$TMP/out" || fail "help lists check"
expect_eq "-h exits 0" 0 "$(run -h)"
expect_eq "unknown command exits 2" 2 "$(run frobnicate)"
expect_eq "unknown command error" "Error: unknown command 'frobnicate' (try 'help')" "$(cat "$TMP/err")"
expect_eq "unknown option exits 2" 2 "$(run --bogus check)"
grep -q "^Error: unknown option '--bogus'" "$TMP/err" || fail "unknown option message: $(cat "$TMP/err")"
expect_eq "JSON error on stdout" 2 "$(run -j frobnicate)"
expect_eq "JSON error body" '{"error":"unknown command '"'"'frobnicate'"'"' (try '"'"'help'"'"')"}' "$(cat "$TMP/out")"
expect_eq "prefix 'ch' runs check" 0 "$(run ch)"
grep -q '^Verdicts' "$TMP/out" || fail "prefix did not run check"
expect_eq "check help" 0 "$(run check help)"
grep -q '^Usage: ehttp check' "$TMP/out" || fail "check help text"
expect_eq "check with a stray argument exits 2" 2 "$(run check bogus)"
expect_eq "check stray argument message" "Error: what is 'bogus'?" "$(cat "$TMP/err")"
expect_eq "-V exits 0" 0 "$(run -V)"
grep -q "^ehttp v$(cat VERSION)" "$TMP/out" || fail "version line"
grep -q '^using libbpf v' "$TMP/out" || fail "libbpf version line"
expect_eq "-j -V" "$(cat VERSION)" "$("$EHTTP" -j -V | jq -r .version)"
"$EHTTP" -j help | jq -e '.commands | index("check")' >/dev/null || fail "-j help lists check"
expect_eq "-p pretty JSON is indented" 0 "$(run -p check)"
sed -n 2p "$TMP/out" | grep -q '^  "' || fail "pretty output not indented"
# No libbpf noise without -d.
"$EHTTP" check >/dev/null 2>"$TMP/err"
[ ! -s "$TMP/err" ] || fail "check printed to stderr without -d: $(cat "$TMP/err")"
echo "cli contract holds"
