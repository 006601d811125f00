# Debian packages from other suites (older and newer kernels, newer Go toolchains) for
# test fixtures, without touching the system's apt configuration: a later `apt-get
# install` must never pull from these suites. Sourced by the tests that need them.
#
#   apt_private_unpack PKG DIR SUITE...   download PKG (newest in SUITEs) and unpack it
#                                         into DIR, once; prints DIR
#
# Everything lives under $EHTTP_CACHE (default /var/cache/ehttp-test), which survives
# between runs on one machine: a warm run asks the archive nothing.
set -u
EHTTP_CACHE=${EHTTP_CACHE:-/var/cache/ehttp-test}

# The archive the system already uses (its deb822 or one-line sources), so that no
# mirror is written down here.
_apt_private_mirror() {
	local uri
	uri=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)[[:space:]].*/\2/p' \
		/etc/apt/sources.list 2>/dev/null | head -n 1)
	[ -n "$uri" ] || { echo "Error: no Debian archive in the system's apt sources" >&2; return 1; }
	echo "$uri"
}

# _apt_private_conf SUITE...: set up (once a day: update) a private apt tree for these
# suites and print its APT_CONFIG file.
_apt_private_conf() {
	local key root mirror s
	key=$(echo "$*" | tr ' ' '+')
	root=$EHTTP_CACHE/apt/$key
	mkdir -p "$root/lists/partial" "$root/archives/partial" "$root/etc/preferences.d"
	if [ ! -f "$root/apt.conf" ]; then
		mirror=$(_apt_private_mirror) || return 1
		: >"$root/sources.list"
		for s in "$@"; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" \
				>>"$root/sources.list"
		done
		# Check-Valid-Until: sid's and backports' Release files have been seen expired.
		cat >"$root/apt.conf" <<EOF
Dir::Etc::SourceList "$root/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "$root/etc/preferences";
Dir::Etc::PreferencesParts "$root/etc/preferences.d";
Dir::State::Lists "$root/lists";
Dir::State::Status "$root/status";
Dir::Cache "$root/cache";
Dir::Cache::Archives "$root/archives";
Acquire::Check-Valid-Until "false";
APT::Architecture "amd64";
EOF
		: >"$root/status"
	fi
	if [ -z "$(find "$root/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
		APT_CONFIG=$root/apt.conf apt-get -qq update >"$root/update.log" 2>&1 ||
			{ echo "Error: apt-get update for $* failed:" >&2; tail -n 5 "$root/update.log" >&2; return 1; }
	fi
	echo "$root/apt.conf"
}

apt_private_unpack() {
	local pkg=$1 dir=$2 conf deb
	shift 2
	if [ -f "$dir/.unpacked-$pkg" ]; then
		echo "$dir"
		return 0
	fi
	conf=$(_apt_private_conf "$@") || return 1
	mkdir -p "$EHTTP_CACHE/debs" "$dir"
	(cd "$EHTTP_CACHE/debs" && APT_CONFIG=$conf apt-get -qq download "$pkg" >/dev/null 2>&1) ||
		{ echo "Error: $pkg is not in $*" >&2; return 1; }
	deb=$(ls -t "$EHTTP_CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "Error: apt-get download $pkg left no .deb" >&2; return 1; }
	dpkg-deb -x "$deb" "$dir" || { echo "Error: dpkg-deb -x $deb failed" >&2; return 1; }
	touch "$dir/.unpacked-$pkg"
	echo "$dir"
}
