# Bash completion: commands, options, PIDs after -p/--pid, files for offsets and replay.
# The real binary for what exists today; a stand-in binary whose help texts describe
# commands with arguments, to pin down how the completion reads them.
. tests/integration/lib.sh

[ -f /usr/share/bash-completion/bash_completion ] || skip "bash-completion missing (sh packaging/deps.sh)"

# What the completion offers for the words given (the last one is being completed).
# BC=0 runs it without the bash-completion library (its fallbacks).
complete_words() {
	BC=${BC:-1} bash -c '
		[ "$BC" = 0 ] || source /usr/share/bash-completion/bash_completion
		source "$COMPLETION"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_ehttp
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@" | sed '/^$/d' | sort
}
list() { printf '%s\n' "$@" | sort -u; }
export COMPLETION=$PWD/packaging/bash-completion/ehttp

# Loaded the way bash-completion loads it: on demand, by the command's name.
bash -c 'source /usr/share/bash-completion/bash_completion
	 complete -r ehttp 2>/dev/null; source packaging/bash-completion/ehttp; complete -p ehttp' |
	grep -qx 'complete -F _ehttp ehttp' || fail "the completion does not register _ehttp for ehttp"

# ---- the real binary ----
# The commands are whatever the binary lists in its help: the completion must offer those.
commands=$("$EHTTP" -j help | jq -r '.commands[]' | sort -u)
[ -n "$commands" ] || fail "ehttp -j help lists no commands"
expect_eq "commands" "$commands" "$(complete_words "$EHTTP" "")"
expect_eq "command prefix" "check" "$(complete_words "$EHTTP" c)"
expect_eq "after a global option, commands" "check" "$(complete_words "$EHTTP" -j ch)"
expect_eq "global long options" "$(list --debug --help --json --pretty --version)" "$(complete_words "$EHTTP" --)"
expect_eq "'check' takes help and nothing else" "help" "$(complete_words "$EHTTP" check "")"
expect_eq "a unique prefix names the command" "help" "$(complete_words "$EHTTP" ch "")"
expect_eq "nothing after 'check help'" "" "$(complete_words "$EHTTP" check help "")"
expect_eq "without bash-completion: commands" "$commands" "$(BC=0 complete_words "$EHTTP" "")"

# ---- a stand-in with commands that take PIDs and files ----
stub=$TMP/bin/ehttp
mkdir -p "$TMP/bin" "$TMP/files/sub"
touch "$TMP/files/first.spans" "$TMP/files/fig.bin" "$TMP/files/other"
cat >"$stub" <<STUB
#!/bin/bash
case "\$*" in
"-j help") echo '{"commands":["attach","attest","check","offsets","replay","help"]}' ;;
"attest help") printf '%s\n' 'Usage: ehttp attest [--zzz]' ;;
help) exec "$EHTTP" help ;;
"attach help") printf '%s\n' \
	'Usage: ehttp attach [-p PID] [--port PORT] [-o FILE] [-q]' \
	'       ehttp attach help' '' 'Prose may mention global options: with -j, JSON.' '' 'Options:' \
	'  -p, --pid PID       only this process' \
	'  --port PORT         only this port' \
	'  -o, --output FILE   write spans to FILE' \
	'  -q, --quiet         no summary' ;;
"offsets help") printf '%s\n' 'Usage: ehttp offsets [--json-only] [-p N] BINARY' '       ehttp offsets help' ;;
"replay help") printf '%s\n' 'Usage: ehttp replay [--pid=PID] FILE...' '       ehttp replay help' ;;
"check help") exec "$EHTTP" check help ;;
*) exit 2 ;;
esac
STUB
chmod +x "$stub"

sleep 300 &
sleeper=$!
on_exit "kill $sleeper"
# Ground truth: the PIDs in /proc before and after, listed independently. Those in both
# must all be offered; others may come and go (the completion's own processes among them).
proc_pids() { find /proc -mindepth 1 -maxdepth 1 -name '[0-9]*' -printf '%f\n' | sort -u; }
before=$(proc_pids)
pids=$(complete_words "$stub" attach -p "")
after=$(proc_pids)
grep -qx "$sleeper" <<<"$pids" || fail "-p does not offer the PID of a running process ($sleeper)"
grep -qx "$$" <<<"$pids" || fail "-p does not offer this shell's PID"
[ -z "$(grep -vxE '[0-9]+' <<<"$pids")" ] || fail "-p offers something other than PIDs"
missing=$(comm -12 <(echo "$before") <(echo "$after") | comm -23 - <(echo "$pids"))
[ -z "$missing" ] || fail "-p does not offer running PIDs: $(echo $missing)"
extra=$(comm -23 <(echo "$pids") <(sort -u <(echo "$before") <(echo "$after")) | wc -l)
[ "$extra" -le 30 ] || fail "-p offers $extra PIDs that /proc never had"
echo "ok: -p offers all $(wc -l <<<"$pids") running PIDs, $sleeper among them ($extra short-lived)"
expect_eq "--pid PREFIX" "$sleeper" "$(complete_words "$stub" attach --pid "$sleeper" | grep -x "$sleeper")"
expect_eq "--pid=PREFIX" "$sleeper" "$(complete_words "$stub" replay "--pid=$sleeper" | grep -x "$sleeper")"
expect_eq "global -p is --pretty, not a PID" "$(list attach attest)" "$(complete_words "$stub" -p at)"
expect_eq "command options" "$(list --output --pid --port --quiet -o -p -q)" "$(complete_words "$stub" atta -)"
expect_eq "--port takes a number: nothing to offer" "" "$(complete_words "$stub" attach --port "")"
expect_eq "-o FILE completes files" "$(list "$TMP/files/fig.bin" "$TMP/files/first.spans")" \
	"$(complete_words "$stub" attach -o "$TMP/files/fi")"
expect_eq "offsets BINARY completes files" "$(list "$TMP/files/fig.bin" "$TMP/files/first.spans")" \
	"$(complete_words "$stub" offsets "$TMP/files/fi")"
expect_eq "replay FILE completes files and directories" \
	"$(list "$TMP/files/"{fig.bin,first.spans,other,sub})" "$(complete_words "$stub" replay "$TMP/files/")"
expect_eq "replay FILE, second file" "$TMP/files/other" "$(complete_words "$stub" replay "$TMP/files/first.spans" "$TMP/files/o")"
expect_eq "options of offsets" "--json-only" "$(complete_words "$stub" offsets --)"
expect_eq "-p N is a PID too" "$sleeper" "$(complete_words "$stub" offsets -p "$sleeper" | grep -x "$sleeper")"
touch "$TMP/files/help.txt"
expect_eq "keywords and files together, once each" "$(list help help.txt)" \
	"$(cd "$TMP/files" && complete_words "$stub" offsets h)"
expect_eq "without bash-completion: -p PID" "$sleeper" "$(BC=0 complete_words "$stub" attach -p "$sleeper" | grep -x "$sleeper")"
expect_eq "without bash-completion: --pid=PID" "$sleeper" "$(BC=0 complete_words "$stub" attach --pid = "$sleeper" | grep -x "$sleeper")"
expect_eq "without bash-completion: files" "$TMP/files/other" "$(BC=0 complete_words "$stub" offsets "$TMP/files/o")"
expect_eq "an ambiguous prefix completes nothing" "" "$(complete_words "$stub" att -)"
expect_eq "an exact name is not ambiguous" "--zzz" "$(complete_words "$stub" attest -)"
expect_eq "an unknown command completes nothing" "" "$(complete_words "$stub" frob -)"
echo "completion works"
