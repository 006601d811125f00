#!/bin/bash
# Write the source tarball TARBALL (ehttp-VERSION/...) of this tree: the files git
# tracks plus new ones it does not ignore (so uncommitted work is packaged too), or,
# outside a git checkout, everything but build output. Byte-for-byte reproducible,
# and TARBALL is only replaced when its contents change, so packages built from it
# are not rebuilt for nothing.
# Usage: packaging/dist.sh TARBALL VERSION
set -euo pipefail
tarball=$1
version=$2
cd "$(dirname "$0")/.."
out=$(dirname "$tarball")
mkdir -p "$out"
list=$(mktemp) tmp=$(mktemp -p "$out")
trap 'rm -f "$list" "$tmp"' EXIT

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard
else
	find . -path ./build -prune -o -path ./.git -prune -o -type f -print0 | sed -z 's|^\./||'
fi | while IFS= read -r -d '' f; do
	# Deleted but not yet committed files are listed by git: leave them out.
	[ -e "$f" ] && [ "${f#build/}" = "$f" ] && printf '%s\0' "$f"
done | sort -z >"$list"

tar --create --null --files-from="$list" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime='2000-01-01 00:00:00Z' --mode='go-w' --transform="s|^|ehttp-$version/|" |
	gzip -9 -n >"$tmp"
if cmp -s "$tmp" "$tarball"; then
	rm -f "$tmp"
else
	chmod 0644 "$tmp"
	mv "$tmp" "$tarball"
fi
