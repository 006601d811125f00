# make install, with DESTDIR and PREFIX: the binary, one man page per docs/man page, the
# bash completion and the docs (README, docs/*.md), where a system tool's files go, and
# nothing else.
. tests/integration/lib.sh

command -v rst2man >/dev/null || skip "rst2man missing (sh packaging/deps.sh)"
version=$(cat VERSION)
# What must be installed, from the source tree: one page per man page source.
expected() { # PREFIX
	{
		echo "$1/sbin/ehttp"
		echo "$1/share/bash-completion/completions/ehttp"
		echo "$1/share/doc/ehttp/README.md"
		for doc in docs/*.md; do [ -e "$doc" ] && echo "$1/share/doc/ehttp/$(basename "$doc")"; done
		for src in docs/man/*.rst; do echo "$1/share/man/man8/$(basename "$src" .rst).8"; done
	} | sort
}

for prefix in /usr /usr/local /opt/ehttp; do
	root=$TMP/root$(tr / _ <<<"$prefix")
	make --no-print-directory -s install DESTDIR="$root" PREFIX="$prefix" >"$TMP/log" 2>&1 ||
		fail "make install PREFIX=$prefix: $(cat "$TMP/log")"
	expect_eq "files installed with PREFIX=$prefix" "$(expected "$prefix")" \
		"$(cd "$root" && find . -type f | sed 's|^\.||' | sort)"
	[ -x "$root$prefix/sbin/ehttp" ] || fail "$prefix/sbin/ehttp is not executable"
	expect_eq "installed binary's version" "ehttp v$version" "$("$root$prefix/sbin/ehttp" -V | head -n 1)"
	for page in "$root$prefix"/share/man/man8/*.8; do
		warn=$(man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$warn" ] || fail "man --warnings $page: $warn"
		[ "$(stat -c %a "$page")" = 644 ] || fail "$page is not mode 644"
	done
	cmp -s packaging/bash-completion/ehttp "$root$prefix/share/bash-completion/completions/ehttp" ||
		fail "installed completion differs from packaging/bash-completion/ehttp"
done

# make uninstall takes every file away again.
make --no-print-directory -s uninstall DESTDIR="$TMP/root_opt_ehttp" PREFIX=/opt/ehttp >/dev/null ||
	fail "make uninstall"
expect_eq "files left after make uninstall" "" "$(find "$TMP/root_opt_ehttp" -type f)"

# The man pages installed under a prefix are found there by man.
expect_eq "man finds the installed ehttp(8)" "$TMP/root_usr_local/usr/local/share/man/man8/ehttp.8" \
	"$(MANPATH=$TMP/root_usr_local/usr/local/share/man man -w ehttp)"
echo "make install puts everything where it belongs"
