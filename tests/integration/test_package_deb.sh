# make deb: lintian reports no errors; the package's files are what `make install`
# installs; installed with dpkg -i it works (/usr/sbin/ehttp check, man -w ehttp, bash
# completion); dpkg -r leaves nothing of it behind. The package is installed
# system-wide for a few seconds only, and removed even when the test fails.
. tests/integration/lib.sh
# Interrupted or killed, still run the clean-ups (which remove the package).
trap 'exit 1' INT TERM HUP

for tool in dpkg-buildpackage lintian man rst2man; do
	command -v $tool >/dev/null || skip "$tool missing (sh packaging/deps.sh)"
done
version=$(cat VERSION)
darch=$(dpkg --print-architecture)

# The checks below read the build log, which a V=1 build does not write; and a package
# removed by hand is built again.
{ [ -f build/deb/build.log ] && ls build/deb/*.deb >/dev/null 2>&1; } || rm -f build/deb/stamp
make --no-print-directory deb >"$TMP/build.log" 2>&1 || fail "make deb: $(tail -n 30 "$TMP/build.log")"
deb=build/deb/ehttp_${version}_$darch.deb
[ -f "$deb" ] || fail "$deb was not built: $(ls build/deb)"
echo "built $deb"

# lintian on what was built (binary package and .changes): no errors.
lintian --fail-on error --display-level '>=warning' "build/deb/ehttp_${version}_$darch.changes" >"$TMP/lint" 2>&1
rc=$?
grep -v 'running with root privileges' "$TMP/lint"
[ $rc -eq 0 ] || fail "lintian reports errors (rc=$rc)"
echo "ok: lintian reports no errors"

expect_eq "package, version, architecture" "ehttp $version $darch" \
	"$(dpkg-deb -f "$deb" Package Version Architecture | awk -F': ' '{ printf "%s%s", sep, $2; sep = " " }')"

# Files: what `make install` puts in a DESTDIR (ground truth from the source tree), plus
# Debian's changelog and copyright; dh_compress gzips man pages and docs over 4 kB, so
# compare names without .gz, and check the man pages for it.
make --no-print-directory -s install DESTDIR="$TMP/root" PREFIX=/usr >/dev/null 2>&1 || fail "make install"
want=$( (cd "$TMP/root" && find . -type f | sed 's|^\.||'
	echo /usr/share/doc/ehttp/changelog; echo /usr/share/doc/ehttp/copyright) | sort)
files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; /\/$/d' | sort)
expect_eq "files in the .deb" "$want" "$(sed 's/\.gz$//' <<<"$files" | sort)"
[ -z "$(grep '^/usr/share/man/' <<<"$files" | grep -v '\.gz$')" ] || fail "uncompressed man pages in the .deb"
dirs=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./\(.*\)/$|/\1|p' | sort)

# Depends names the Debian package of every library the binary needs (ground truth:
# readelf on the packaged binary, and dpkg -S on the build host's copy of the library).
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
dpkg-deb -x "$deb" "$TMP/payload"
for so in $(readelf -d "$TMP/payload/usr/sbin/ehttp" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	lib=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
	[ -n "$lib" ] || fail "$so is not installed here"
	pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ -n "$pkg" ] || pkg=$(dpkg -S "$lib" | head -n 1 | cut -d: -f1)
	grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || fail "needs $so (package $pkg) but Depends lacks it"
	echo "ok: $so → Depends on $pkg"
done

# Build-Depends has the -dev package of every library the package build linked with
# (read from the link command in its log): a library added to the Makefile without its
# Build-Depends would still build here, where it happens to be installed.
link=$(grep -E -- '-o build/ehttp( |$)' build/deb/build.log | tail -n 1)
[ -n "$link" ] || fail "no link command in build/deb/build.log"
build_deps=$(sed -n '/^Build-Depends:/,/^[A-Z]/p' packaging/deb/control)
for lib in $(grep -oE -- ' -l[^ ]+' <<<"$link" | sed 's/ -l//' | sort -u); do
	so=$(gcc -print-file-name="lib$lib.so")
	[ "$so" != "lib$lib.so" ] || continue # in libc itself (libpthread): nothing to install
	pkg=$(dpkg -S "$(realpath -sm "$so")" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ -n "$pkg" ] || fail "-l$lib: no Debian package ships $so"
	[ "$pkg" != libc6-dev ] || continue # build-essential
	grep -qE "(^|[ ,])$pkg([ ,(]|$)" <<<"$build_deps" || fail "links -l$lib but Build-Depends lacks $pkg"
	echo "ok: -l$lib → Build-Depends on $pkg"
done

# ---- install, system-wide, briefly ----
# Never touch an ehttp that this test did not install.
# dpkg status of a package this machine has no trace of: nothing, or "... not-installed".
absent() { case $(dpkg-query -W -f='${Status}' ehttp 2>/dev/null) in "" | *" not-installed") return 0 ;; esac; return 1; }
absent || skip "an ehttp package is installed on this machine already: not touching it"
[ ! -e /usr/sbin/ehttp ] || skip "/usr/sbin/ehttp exists already: not touching it"
# One package test at a time on this machine (other checkouts run the same test).
exec 9>/run/lock/ehttp-package-test.lock
flock -w 120 9 || skip "another package test holds /run/lock/ehttp-package-test.lock"

# dpkg waits for no one: retry while apt or another dpkg holds its lock.
dpkg_retry() {
	local i out
	for i in $(seq 1 60); do
		out=$(dpkg "$@" 2>&1) && { echo "$out"; return 0; }
		grep -qi 'lock' <<<"$out" || { echo "$out"; return 1; }
		sleep 1
	done
	echo "$out"
	return 1
}
existed=$TMP/existed
for d in $dirs; do [ -d "$d" ] && echo "$d"; done >"$existed"

on_exit "dpkg_retry --purge ehttp >/dev/null"
dpkg_retry -i "$deb" >"$TMP/install.log" || fail "dpkg -i: $(cat "$TMP/install.log")"
expect_eq "dpkg status" "install ok installed" "$(dpkg-query -W -f='${Status}' ehttp)"

# It works as installed. Ground truth for check: uname, and the exit status of the
# build tree's binary on this same kernel.
/usr/sbin/ehttp -j check >"$TMP/check.json"
rc=$?
"$EHTTP" check >/dev/null 2>&1
expect_eq "/usr/sbin/ehttp check exit status (as the tree's binary)" "$?" "$rc"
expect_eq "/usr/sbin/ehttp check: kernel release" "$(uname -r)" "$(jq -r .kernel.release "$TMP/check.json")"
expect_eq "/usr/sbin/ehttp -V" "ehttp v$version" "$(/usr/sbin/ehttp -V | head -n 1)"
expect_eq "man -w ehttp" /usr/share/man/man8/ehttp.8.gz "$(man -w ehttp)"
for src in docs/man/ehttp-*.rst; do
	page=$(basename "$src" .rst)
	expect_eq "man -w $page" "/usr/share/man/man8/$page.8.gz" "$(man -w "$page")"
done
warn=$(man --warnings ehttp 2>&1 >/dev/null)
[ -z "$warn" ] || fail "man --warnings ehttp: $warn"
# bash-completion finds the completion by the command's name, as in an interactive shell.
loaded=$(bash -c 'source /usr/share/bash-completion/bash_completion
	_completion_loader ehttp; complete -p ehttp
	COMP_WORDS=(ehttp ""); COMP_CWORD=1; COMP_LINE="ehttp "; COMP_POINT=6
	_ehttp; echo "${COMPREPLY[*]}"')
expect_eq "bash-completion loads the installed completion" "complete -F _ehttp ehttp" "$(head -n 1 <<<"$loaded")"
expect_eq "installed completion offers the commands" "$(/usr/sbin/ehttp -j help | jq -r '.commands | join(" ")')" \
	"$(tail -n 1 <<<"$loaded")"

# ---- remove: nothing of the package is left ----
# dpkg -r, not --purge: the package has no conffiles, so removing it must leave nothing.
dpkg_retry -r ehttp >"$TMP/remove.log" || fail "dpkg -r: $(cat "$TMP/remove.log")"
absent || fail "dpkg status after dpkg -r: $(dpkg-query -W -f='${Status}' ehttp)"
for f in $files; do
	[ ! -e "$f" ] || fail "$f is left after dpkg -r"
done
for d in $dirs; do
	if grep -qx "$d" "$existed"; then
		[ -d "$d" ] || fail "$d existed before the install and is gone"
	else
		[ ! -e "$d" ] || fail "$d was created by the install and is left after dpkg -r"
	fi
done
left=$(ls /var/lib/dpkg/info/ehttp.* 2>/dev/null)
[ -z "$left" ] || fail "dpkg metadata left: $left"
man -w ehttp >/dev/null 2>&1 && fail "man still finds ehttp after dpkg -r"
echo "ok: nothing of the package is left ($(wc -w <<<"$files") files, $(wc -w <<<"$dirs") directories checked)"
echo "the deb is right"
