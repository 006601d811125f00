# The commands and options of the binary, its man pages and its bash completion agree.
# Written over whatever `ehttp help` lists, so it keeps holding as commands are added:
# a command without docs/man/ehttp-COMMAND.rst fails here, and so does a page for a
# command the binary does not have.
. tests/integration/lib.sh

command -v rst2man >/dev/null || skip "rst2man missing (sh packaging/deps.sh)"
make --no-print-directory -s man || fail "make man"

# Ground truth for option names: the -x/--long words of a help text's usage lines and of
# its option list (the part before the description), by plain text matching. Prose is
# left out: it may mention global options ("with -j, ...").
help_options() {
	sed -nE -e 's/^[[:space:]]+(-[^[:space:]].*)$/\1/; T usage' -e 's/(  |\t).*//p; d' \
		-e ':usage' -e '/^(Usage:)?[[:space:]]*ehttp[[:space:]]/p' |
		grep -oE -- '(^|[^-[:alnum:]])--?[[:alpha:]][-[:alnum:]]*' | sed 's/^[^-]*//' | sort -u
}
# Rendered man page text, wide and without overstrikes.
render() { MANWIDTH=250 man -l "$1" 2>/dev/null | col -b; }
# Lines of section $2 of rendered page $1.
section() { render "$1" | awk -v s="$2" '/^[A-Z]/ { on = ($0 == s); next } on'; }
# What the completion offers for the words given (the last one is being completed).
complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion 2>/dev/null
		source packaging/bash-completion/ehttp
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_ehttp
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@" | sed '/^$/d' | sort -u
}
same_set() { # WHAT EXPECTED ACTUAL (newline-separated)
	[ "$2" == "$3" ] || fail "$1: expected [$(echo $2)], got [$(echo $3)]"
	echo "ok: $1: $(echo $3)"
}

# The command list, twice: JSON for scripts, and the text table people read.
cmds=$("$EHTTP" -j help | jq -r '.commands[]' | sort)
[ -n "$cmds" ] || fail "ehttp -j help lists no commands"
text_cmds=$("$EHTTP" help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' | sort)
same_set "ehttp help and ehttp -j help" "$cmds" "$text_cmds"
summary() { "$EHTTP" help | awk -v c="$1" '$1 == c { $1 = ""; sub(/^ +/, ""); print; exit }'; }

# One man page per command (help is documented in ehttp(8)), with the usual sections.
for cmd in $cmds; do
	[ "$cmd" != help ] || continue
	src=docs/man/ehttp-$cmd.rst page=build/man/ehttp-$cmd.8
	[ -f "$src" ] || fail "command '$cmd' has no man page: write $src"
	[ -f "$page" ] || fail "$page was not built"
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS EXAMPLES 'EXIT STATUS' 'SEE ALSO'; do
		render "$page" | grep -qx "$s" || fail "$page has no $s section"
	done
	name_line=$(section "$page" NAME | sed 's/^ *//')
	expect_eq "NAME of ehttp-$cmd(8) is the help summary" "ehttp-$cmd - $(summary "$cmd")" "$name_line"
	# Every option the command's help shows is documented on its page.
	for opt in $("$EHTTP" "$cmd" help | help_options); do
		render "$page" | grep -qe "$opt\b" || fail "ehttp-$cmd(8) does not document $opt"
	done
done
for src in docs/man/ehttp-*.rst; do
	cmd=$(basename "$src" .rst)
	cmd=${cmd#ehttp-}
	grep -qx "$cmd" <<<"$cmds" || fail "$src documents '$cmd', which ehttp help does not list"
done
echo "ok: one page per command, with the sections, and no page without a command"

# ehttp(8) lists exactly these commands, and refers to each command's page.
listed=$(section build/man/ehttp.8 COMMANDS | awk '/^       [a-z]/ { print $1 }' | sort)
same_set "commands in ehttp(8)" "$cmds" "$listed"
see_also=$(section build/man/ehttp.8 'SEE ALSO' | grep -oE 'ehttp-[a-z0-9-]+\(8\)' | sort -u)
same_set "SEE ALSO of ehttp(8)" "$(grep -vx help <<<"$cmds" | sed 's/.*/ehttp-&(8)/')" "$see_also"
for opt in $("$EHTTP" help | help_options); do
	section build/man/ehttp.8 OPTIONS | grep -qe "$opt\b" || fail "ehttp(8) does not document $opt"
done
echo "ok: ehttp(8) documents the global options"

# man --warnings is silent on every page.
for page in build/man/*.8; do
	warn=$(man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man --warnings $page: $warn"
done
echo "ok: man --warnings is silent on $(ls build/man/*.8 | wc -l) pages"

# The completion offers the same commands and options.
same_set "completion of commands" "$cmds" "$(complete_words "$EHTTP" "")"
same_set "completion of global options" "$("$EHTTP" help | help_options)" "$(complete_words "$EHTTP" -)"
for cmd in $cmds; do
	[ "$cmd" != help ] || continue
	same_set "completion of $cmd's options" "$("$EHTTP" "$cmd" help | help_options)" \
		"$(complete_words "$EHTTP" "$cmd" -)"
done

# `COMMAND help` works unprivileged and on its own (completion relies on it).
for cmd in $cmds; do
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$EHTTP" "$cmd" help 2>&1) ||
		fail "'ehttp $cmd help' fails unprivileged: $out"
	[[ $cmd == help || $out == "Usage: ehttp $cmd"* ]] || fail "'ehttp $cmd help' does not start with its usage: $out"
done
echo "ok: every 'COMMAND help' works unprivileged"
echo "help, man pages and completion agree"
