# make rpm: the package's files are what `make install` installs, its requirements name
# libbpf, libelf and jansson and cover every library the binary needs, its payload
# works, and rpmlint reports no errors.
. tests/integration/lib.sh

for tool in rpmbuild rpmlint rpm2cpio cpio rst2man; do
	command -v $tool >/dev/null || skip "$tool missing (sh packaging/deps.sh)"
done
version=$(cat VERSION)
arch=$(uname -m)

# The checks below read the build log, which a V=1 build does not write; and a package
# removed by hand is built again.
{ [ -f build/rpm/build.log ] && ls build/rpm/RPMS/*/*.rpm >/dev/null 2>&1; } || rm -f build/rpm/stamp
make --no-print-directory rpm >"$TMP/build.log" 2>&1 || fail "make rpm: $(tail -n 30 "$TMP/build.log")"
rpms=(build/rpm/RPMS/"$arch"/ehttp-"$version"-*."$arch".rpm)
[ ${#rpms[@]} -eq 1 ] && [ -f "${rpms[0]}" ] || fail "expected one ehttp $version rpm, found: ${rpms[*]}"
rpm=${rpms[0]}
echo "built $rpm"
expect_eq "name, version, arch" "ehttp $version $arch" "$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' "$rpm")"
expect_eq "license" "GPL-2.0-only" "$(rpm -qp --qf '%{LICENSE}' "$rpm")"

# Files: what `make install` puts in a DESTDIR (ground truth from the source tree),
# with man pages gzipped, plus the license file and rpm's build-id links.
make --no-print-directory -s install DESTDIR="$TMP/root" PREFIX=/usr >/dev/null 2>&1 || fail "make install"
want=$(cd "$TMP/root" && find . -type f | sed 's|^\.||; s|^\(/usr/share/man/.*\)$|\1.gz|' | sort)
# (rpm -qlp lists directories the package owns too: tell them apart by mode.)
got=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | awk '$1 !~ /^d/ { print $2 }' |
	grep -v -e '^/usr/lib/\.build-id' -e '^/usr/share/licenses/' | sort)
expect_eq "rpm file list" "$want" "$got"
rpm -qlp "$rpm" | grep -qx /usr/share/doc/ehttp || fail "the rpm does not own /usr/share/doc/ehttp"
rpm -qlp "$rpm" | grep -qE '^/usr/share/licenses/ehttp[^/]*/COPYING$' || fail "no license file in the rpm"
rpm -qlp "$rpm" | grep -qx /usr/sbin/ehttp || fail "/usr/sbin/ehttp missing"

# Requirements (rpm -qpR): the three libraries by package name...
reqs=$(rpm -qpR "$rpm")
echo "$reqs" | sed 's/^/  requires: /'
for pkg in libbpf elfutils-libelf jansson; do
	grep -qE "^$pkg(\($arch\)|\(x86-64\)|\(aarch-64\))?( |$)" <<<"$reqs" || fail "does not require $pkg by name"
done
# ...and every shared library the packaged binary needs, by soname (readelf is the
# ground truth, independent of rpm's dependency generator).
mkdir -p "$TMP/payload"
(cd "$TMP/payload" && rpm2cpio "$OLDPWD/$rpm" | cpio -idm --quiet) || fail "rpm2cpio"
needed=$(readelf -d "$TMP/payload/usr/sbin/ehttp" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || fail "the packaged binary needs no shared library?"
for so in $needed; do
	grep -qF "$so()" <<<"$reqs" || fail "needs $so but does not require it"
done
echo "ok: requires libbpf, elfutils-libelf, jansson and the sonames: $(echo $needed)"

# The payload works: the binary runs and reports its version, the man pages are clean.
expect_eq "packaged binary's version" "ehttp v$version" "$("$TMP/payload/usr/sbin/ehttp" -V | head -n 1)"
for page in "$TMP"/payload/usr/share/man/man8/*.8.gz; do
	warn=$(man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$warn" ] || fail "man --warnings $page: $warn"
done
cmp -s packaging/bash-completion/ehttp "$TMP/payload/usr/share/bash-completion/completions/ehttp" ||
	fail "packaged completion differs from packaging/bash-completion/ehttp"

# BuildRequires covers every library the build linked with (read from the link command
# in the build log): as pkgconfig(NAME) for the .pc file of the Debian -dev package that
# ships it, or, for a library without one, a NAME-devel.
link=$(grep -E -- '-o build/ehttp( |$)' build/rpm/build.log | tail -n 1)
[ -n "$link" ] || fail "no link command in build/rpm/build.log"
breqs=$(rpmspec -q --buildrequires packaging/rpm/ehttp.spec 2>/dev/null)
for lib in $(grep -oE -- ' -l[^ ]+' <<<"$link" | sed 's/ -l//' | sort -u); do
	so=$(gcc -print-file-name="lib$lib.so")
	[ "$so" != "lib$lib.so" ] || continue # in libc itself (libpthread)
	pkg=$(dpkg -S "$(realpath -sm "$so")" 2>/dev/null | head -n 1 | cut -d: -f1)
	[ "$pkg" != libc6-dev ] || continue # the C library: always there
	pcs=$(dpkg -L "$pkg" 2>/dev/null | sed -n 's|.*/\([^/]*\)\.pc$|\1|p')
	found=
	for pc in $pcs; do grep -qxF "pkgconfig($pc)" <<<"$breqs" && found="pkgconfig($pc)"; done
	[ -n "$pcs" ] || found=$(grep -ixE "(lib)?$lib-devel" <<<"$breqs" | head -n 1)
	[ -n "$found" ] || fail "links -l$lib but BuildRequires has none of: $(for pc in $pcs; do printf 'pkgconfig(%s) ' "$pc"; done)${pcs:-${lib,,}-devel}"
	echo "ok: -l$lib → BuildRequires $found"
done

# rpmlint, with the settings of the RPM distributions (see packaging/rpm/rpmlint.toml).
rpmlint -c packaging/rpm/rpmlint.toml "$rpm" packaging/rpm/ehttp.spec >"$TMP/lint" 2>&1
rc=$?
cat "$TMP/lint"
grep -q ' 0 errors' "$TMP/lint" && [ $rc -eq 0 ] || fail "rpmlint reports errors (rc=$rc)"
echo "the rpm is right"
