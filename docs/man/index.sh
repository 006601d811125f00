#!/bin/sh
# Generate the parts of ehttp(8) that list the commands, from the command pages
# themselves (docs/man/ehttp-COMMAND.rst), so that a new command's page is all it takes.
#
#   index.sh commands PAGE...   rst definition list: command name and the page's subtitle
#   index.sh see-also PAGE...   the substitution |command-pages|: "ehttp-a(8), ehttp-b(8)"
set -eu
mode=$1
shift
[ $# -gt 0 ] || { echo "Error: no command pages (docs/man/ehttp-COMMAND.rst)" >&2; exit 1; }
[ "$mode" != see-also ] || printf '.. |command-pages| replace::'
sep=" "
for page in "$@"; do
	name=$(basename "$page" .rst)
	cmd=${name#ehttp-}
	# The subtitle is the text between the first two lines made only of dashes.
	summary=$(awk '/^-+$/ { n++; next } n == 1 && NF { print; exit }' "$page")
	[ -n "$summary" ] || { echo "Error: $page has no subtitle (one-line summary)" >&2; exit 1; }
	case $mode in
	commands)
		printf '**%s**\n    %s See **%s**\\ (8).\n\n' "$cmd" \
			"$(printf '%s' "$summary" | sed 's/^./\U&/; s/[^.?!]$/&./')" "$name"
		;;
	see-also)
		printf '%s**%s**\\ (8)' "$sep" "$name"
		sep=", "
		;;
	*)
		echo "Error: unknown mode '$mode'" >&2
		exit 2
		;;
	esac
done
[ "$mode" != see-also ] || printf '\n'
