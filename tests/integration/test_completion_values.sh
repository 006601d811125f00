# Bash completion of option values that are one of a list of words (--hooks, --source):
# what it offers after each such option is the list the option's descriptor holds, read
# from `ehttp -j COMMAND help` by jq, in both spellings (--opt WORD and --opt=WORD); a
# value that may be left out (--propagate[=auto|sockmsg]) only after "=".
. tests/integration/lib.sh

[ -f /usr/share/bash-completion/bash_completion ] || skip "bash-completion missing (sh packaging/deps.sh)"
command -v jq >/dev/null || fail "jq is needed (packaging/deps.sh installs it)"

complete_words() {
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source packaging/bash-completion/ehttp
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_ehttp
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@" | sed '/^$/d' | sort
}

checked=0
for cmd in $("$EHTTP" -j help | jq -r '.commands[]'); do
	[ "$cmd" != help ] || continue
	# offsets takes its BINARY first; a word that is no option stands in for it
	first_args=()
	[ "$cmd" != offsets ] || first_args=(./binary)
	while IFS=$'\t' read -r opt words implied; do
		want=$(tr ' ' '\n' <<<"$words" | sort)
		if [ -n "$implied" ]; then
			# a value that may be left out is only ever "--opt=WORD": the next word is
			# something else, so none of the values is offered there
			offered=$(complete_words "$EHTTP" "$cmd" "${first_args[@]}" "$opt" "")
			expect_eq "$cmd $opt WORD offers none of its values" "" \
				"$(grep -Fx -f <(echo "$want") <<<"$offered")"
		else
			expect_eq "$cmd $opt WORD" "$want" "$(complete_words "$EHTTP" "$cmd" "${first_args[@]}" "$opt" "")"
		fi
		first=${words%% *}
		expect_eq "$cmd $opt=PREFIX" "$(grep "^${first:0:1}" <<<"$want")" \
			"$(complete_words "$EHTTP" "$cmd" "${first_args[@]}" "$opt=${first:0:1}")"
		checked=$((checked + 1))
	done < <("$EHTTP" -j "$cmd" help | jq -r '.options[] | select(.choices) | "\(.long)\t\(.choices | join(" "))\t\(.implied // "")"')
done
[ "$checked" -ge 2 ] || fail "only $checked options with a list of values (--hooks and --source at least)"
echo "ok: the values of $checked options complete from their lists"
