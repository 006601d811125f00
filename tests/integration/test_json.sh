# The JSON of every command, read by jq (not by ehttp's own code): compact with -j (one
# document per line), indented with -p, and the same with the global option after the
# command. Help of every command included, errors too. The commands listed are whatever
# `ehttp -j help` lists, so a new command is covered once it is there.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

# compact WHAT FILE [DOCS]: every line of FILE is one JSON document (DOCS of them, when
# given), written on one line.
compact() {
	local what=$1 file=$2 lines docs
	[ -s "$file" ] || fail "$what: no output"
	lines=$(wc -l <"$file")
	docs=$(jq -s length "$file" 2>"$TMP/jq.err") || fail "$what: not JSON ($(head -c 300 "$TMP/jq.err")): $(head -c 300 "$file")"
	[ "$docs" = "$lines" ] || fail "$what: $docs documents on $lines lines: not one per line"
	[ -z "${3:-}" ] || [ "$docs" = "$3" ] || fail "$what: $docs documents, expected $3"
	echo "ok: $what: $docs compact document(s)"
}
# pretty WHAT FILE [DOCS]: FILE is a sequence of JSON documents, indented by two spaces.
pretty() {
	local what=$1 file=$2 lines docs
	[ -s "$file" ] || fail "$what: no output"
	lines=$(wc -l <"$file")
	docs=$(jq -s length "$file" 2>"$TMP/jq.err") || fail "$what: not JSON ($(head -c 300 "$TMP/jq.err")): $(head -c 300 "$file")"
	[ -z "${3:-}" ] || [ "$docs" = "$3" ] || fail "$what: $docs documents, expected $3"
	[ "$lines" -gt "$docs" ] || fail "$what: not indented: $(head -c 300 "$file")"
	sed -n 2p "$file" | grep -q '^  "' || fail "$what: the first member is not indented by two: $(head -c 300 "$file")"
	echo "ok: $what: $docs indented document(s) on $lines lines"
}
# both WHAT ARGS...: run ehttp with -j, with -p, and with --json and --pretty after ARGS;
# one document each time, and the same keys before and after.
both() {
	local what=$1
	shift
	"$EHTTP" -j "$@" >"$TMP/c.json" 2>"$TMP/err"
	compact "$what (-j)" "$TMP/c.json" 1
	"$EHTTP" -p "$@" >"$TMP/p.json" 2>"$TMP/err"
	pretty "$what (-p)" "$TMP/p.json" 1
	"$EHTTP" "$@" --json >"$TMP/ca.json" 2>"$TMP/err"
	compact "$what (--json after)" "$TMP/ca.json" 1
	"$EHTTP" "$@" --pretty >"$TMP/pa.json" 2>"$TMP/err"
	pretty "$what (--pretty after)" "$TMP/pa.json" 1
	expect_eq "$what: the same keys with -j before and --json after" \
		"$(jq -c 'keys' "$TMP/c.json")" "$(jq -c 'keys' "$TMP/ca.json")"
	expect_eq "$what: the same keys compact and indented" \
		"$(jq -c 'keys' "$TMP/c.json")" "$(jq -c 'keys' "$TMP/p.json")"
}

# ---- help, at the top and of every command ----
both "help" help
"$EHTTP" -j help | jq -e '.commands | index("check")' >/dev/null || fail "-j help lists check"
both "version" -V
expect_eq "-V after a command is the version" "$(cat VERSION)" "$("$EHTTP" check -V --json | jq -r .version)"
cmds=$("$EHTTP" -j help | jq -r '.commands[]')
for cmd in $cmds; do
	[ "$cmd" != help ] || continue
	both "$cmd help" "$cmd" help
	# What the help screen lists is what the JSON lists, and the other way round.
	text_opts=$("$EHTTP" "$cmd" help | sed -nE 's/^  (-[^ ]+( [^ ]+)?).*/\1/p' |
		grep -oE -- '--?[[:alnum:]][-[:alnum:]]*' | sort -u)
	json_opts=$("$EHTTP" -j "$cmd" help | jq -r '.options[] | (.long, .short) | values' | sort -u)
	expect_eq "$cmd help: options in the text and in the JSON" "$(echo $text_opts)" "$(echo $json_opts)"
	expect_eq "$cmd help: usage lines" "$("$EHTTP" "$cmd" help | grep -c '^\(Usage:\|      \) ehttp ')" \
		"$("$EHTTP" -j "$cmd" help | jq '.usage | length')"
	jq -e '.description | length > 20' "$TMP/c.json" >/dev/null || fail "$cmd help: no description"
done

# ---- errors ----
"$EHTTP" -j frobnicate >"$TMP/e.json"
compact "unknown command (-j)" "$TMP/e.json" 1
jq -e '.error | test("frobnicate")' "$TMP/e.json" >/dev/null || fail "error names the command"
"$EHTTP" -p check bogus >"$TMP/e.json"
pretty "stray argument (-p)" "$TMP/e.json" 1
"$EHTTP" check --json --bogus >"$TMP/e.json"
expect_eq "an unknown option after --json: exit status" 2 "$?"
compact "unknown option after --json" "$TMP/e.json" 1
expect_eq "the error names the option" "what is '--bogus'?" "$(jq -r .error "$TMP/e.json")"
"$EHTTP" replay --json --count >"$TMP/e.json"
expect_eq "a missing value: exit status" 2 "$?"
expect_eq "a missing value says which" "--count needs a value (N)" "$(jq -r .error "$TMP/e.json")"

# ---- check: -p is --pretty where the command has no -p of its own ----
both "check" check
"$EHTTP" check -p >"$TMP/p.json"
pretty "check -p" "$TMP/p.json" 1

# ---- offsets, on a Go binary of our own ----
if command -v go >/dev/null; then
	go_build offsets "$TMP/goplain"
	both "offsets" offsets "$TMP/goplain"
	both "offsets TYPE" offsets "$TMP/goplain" net/http.Request
	both "offsets --func" offsets "$TMP/goplain" --func=ServeHTTP
	[ "$("$EHTTP" -j offsets "$TMP/goplain" --func ServeHTTP)" == \
	  "$("$EHTTP" offsets "$TMP/goplain" --json --func=ServeHTTP)" ] ||
		fail "--func=PATTERN is not --func PATTERN"
else
	echo "go missing: offsets not covered"
fi

# ---- attach and record: spans and summaries of real traffic ----
mkdir -p "$TMP/www"
echo hello >"$TMP/www/hello.txt"
port=$(free_port)
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
srv=$!
on_exit "kill $srv 2>/dev/null; wait $srv 2>/dev/null"
wait_port "$port"
url=http://127.0.0.1:$port/hello.txt

attach_start "$TMP/spans.json" --port "$port" --headers
for i in 1 2 3; do curl -s -o /dev/null -H "X-Quote: \"$i\"" "$url?i=$i" || fail "curl"; done
curl -s -o /dev/null "$url?tab=%09" || fail "curl"
sleep 1
attach_stop "$TMP/spans.json"
# one server and one client span per request (curl and python are both on the port)
compact "attach -j" "$TMP/spans.json" 8
grep -q '"req_headers":"[^"]*X-Quote: \\"1\\"' "$TMP/spans.json" ||
	fail "attach -j --headers: no header blocks"

"$EHTTP" attach --pretty --port="$port" -c 2 >"$TMP/spans.pretty" 2>"$TMP/spans.pretty.err" &
apid=$!
on_exit "kill -INT $apid 2>/dev/null"
for i in $(seq 1 300); do grep -qs '^Attached' "$TMP/spans.pretty.err" && break; sleep 0.1; done
curl -s -o /dev/null "$url" || fail "curl"
wait "$apid"
expect_eq "attach --pretty -c 2: exit status" 0 "$?"
pretty "attach --pretty" "$TMP/spans.pretty" 2

"$EHTTP" record -o "$TMP/rec.pcapng" --port "$port" --duration 2 --json >"$TMP/rec.json" 2>"$TMP/rec.err" &
rpid=$!
for i in $(seq 1 300); do grep -qs '^Recording' "$TMP/rec.err" && break; sleep 0.1; done
curl -s -o /dev/null "$url" || fail "curl"
wait "$rpid"
expect_eq "record --json: exit status" 0 "$?"
compact "record summary (--json after)" "$TMP/rec.json" 1
expect_eq "record summary counts the spans written" 2 "$(jq .spans "$TMP/rec.json")"

# ---- replay: spans, statistics, processes ----
"$EHTTP" -j replay --headers "$TMP/rec.pcapng" >"$TMP/r.json"
compact "replay -j" "$TMP/r.json" 2
"$EHTTP" replay "$TMP/rec.pcapng" --pretty >"$TMP/r.pretty"
pretty "replay --pretty" "$TMP/r.pretty" 2
expect_eq "replay -p and -j: the same spans" "$(jq -c . "$TMP/r.json" | jq -c 'del(.req_headers, .resp_headers)')" \
	"$(jq -c . "$TMP/r.pretty")"
both "replay --stats" replay --stats "$TMP/rec.pcapng"
expect_eq "replay --stats counts both spans" 2 "$(jq .total.count "$TMP/c.json")"
"$EHTTP" -j replay --processes "$TMP/rec.pcapng" >"$TMP/proc.json"
compact "replay --processes" "$TMP/proc.json"
"$EHTTP" -p replay --processes "$TMP/rec.pcapng" >"$TMP/proc.pretty"
pretty "replay -p --processes" "$TMP/proc.pretty"
echo "every command's JSON is valid, compact and indented"
