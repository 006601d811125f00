# shellcheck shell=bash
# Go toolchains from Debian's suites and fixtures built with them, both cached. Sourced by
# the tests that run ehttp over Go releases (bash; sources tests/apt_private.sh).
#
#   go_toolchain VER              GOROOT of Go VER (1.15, 1.19, 1.21 ... 1.27), fetched once
#   go_fixture VER NAME VARIANT   build tests/fixtures/go/NAME with Go VER; prints the binary
#   go_tool VER ARGS...           run that toolchain's go command (go_tool 1.27 version -m BIN)
#
# VARIANT: plain, stripped (-ldflags=-s -w), pie, piestripped, static (CGO_ENABLED=0,
# internal linking), staticstripped, arm64, arm64stripped, arm64pie.
# GO_VERSIONS_ALL lists every release Debian ships here (1.15 is bullseye's). Go 1.16,
# 1.17 and 1.18 are in no suite the archive still serves (they were in bullseye-backports,
# now archived), and Debian has no 1.20: go_toolchain says so and fails.
#
# Nothing is fetched at build time (GOPROXY=off, GOTOOLCHAIN=local): fixtures use the
# standard library and local replace directives only. A fixture is rebuilt only when the
# toolchain, the fixture's sources (and those of local modules it replaces in) or the
# variant change; the Go build cache of each toolchain is kept too, so a new fixture
# source costs seconds, a new toolchain its standard library once (1-2 minutes).
set -u
# shellcheck source=tests/apt_private.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt_private.sh"

GO_VERSIONS_ALL="1.15 1.19 1.21 1.22 1.23 1.24 1.25 1.26 1.27"
GO_VARIANTS="plain stripped pie piestripped static staticstripped arm64 arm64stripped arm64pie"
_GO_FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")/fixtures/go" && pwd)

# Suites that carry golang-VER-go (newest first where two do).
_go_suites() {
	case $1 in
	1.15) echo bullseye ;;
	1.21 | 1.22 | 1.23) echo bookworm-backports ;;
	1.24) echo trixie ;;
	1.25 | 1.26 | 1.27) echo trixie-backports sid ;;
	*) return 1 ;;
	esac
}

go_toolchain() {
	local ver=$1 dir suites root
	case $ver in
	1.19)
		# the system's golang-go (bookworm)
		root=/usr/lib/go-1.19
		[ -x "$root/bin/go" ] || { echo "Error: Go 1.19 is golang-go, which is not installed" >&2; return 1; }
		echo "$root"
		return 0
		;;
	1.16 | 1.17 | 1.18)
		echo "Error: Go $ver is in no Debian suite the archive serves (bullseye-backports is archived)" >&2
		return 1
		;;
	esac
	suites=$(_go_suites "$ver") || { echo "Error: no Debian suite ships Go $ver" >&2; return 1; }
	dir=$EHTTP_CACHE/go/$ver
	root=$dir/usr/lib/go-$ver
	# shellcheck disable=SC2086
	apt_private_unpack "golang-$ver-go" "$dir" $suites >/dev/null &&
		apt_private_unpack "golang-$ver-src" "$dir" $suites >/dev/null || return 1
	if [ ! -x "$root/bin/go" ] || [ ! -d "$root/src/runtime" ]; then
		echo "Error: Go $ver unpacked into $dir has no bin/go or src/runtime" >&2
		return 1
	fi
	echo "$root"
}

# The environment every build and tool run gets: this toolchain only, nothing fetched.
_go_env() { # GOROOT VER
	echo GOROOT="$1" PATH="$1/bin:$PATH" GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod \
		GOSUMDB=off GONOSUMDB= GOPATH="$EHTTP_CACHE/go/$2/gopath" GOCACHE="$EHTTP_CACHE/go/$2/gocache" \
		GOENV=off GOWORK=off GO111MODULE=on
}

go_tool() {
	local ver=$1 root
	shift
	root=$(go_toolchain "$ver") || return 1
	# shellcheck disable=SC2046
	env $(_go_env "$root" "$ver") go "$@"
}

# The fixture directory and the local modules its go.mod replaces in (relative paths).
_go_fixture_dirs() {
	local d
	echo "$1"
	sed -n 's/^replace[[:space:]].*=>[[:space:]]*\(\.[^[:space:]]*\)[[:space:]]*$/\1/p' \
		"$_GO_FIXTURES/$1/go.mod" 2>/dev/null |
		while read -r d; do basename "$d"; done
}

_go_variant_args() { # VARIANT: its go build arguments, one per line
	case $1 in
	plain) ;;
	stripped) echo "-ldflags=-s -w" ;;
	pie) echo "-buildmode=pie" ;;
	piestripped) echo "-buildmode=pie"; echo "-ldflags=-s -w" ;;
	static) echo "-ldflags=-linkmode=internal" ;;
	staticstripped) echo "-ldflags=-linkmode=internal -s -w" ;;
	arm64) ;;
	arm64stripped) echo "-ldflags=-s -w" ;;
	arm64pie) echo "-buildmode=pie" ;;
	esac
}

go_fixture() {
	local ver=$1 name=$2 variant=$3 root key out tmp d args=() cgo=1 arch=amd64
	[ -f "$_GO_FIXTURES/$name/go.mod" ] || { echo "Error: no fixture tests/fixtures/go/$name" >&2; return 1; }
	case " $GO_VARIANTS " in
	*" $variant "*) ;;
	*) echo "Error: unknown Go build variant $variant (one of: $GO_VARIANTS)" >&2; return 1 ;;
	esac
	mapfile -t args < <(_go_variant_args "$variant")
	case $variant in static*) cgo=0 ;; arm64*) cgo=0 arch=arm64 ;; esac
	root=$(go_toolchain "$ver") || return 1
	key=$({
		echo "$(head -n 1 "$root/VERSION") $variant"
		for d in $(_go_fixture_dirs "$name"); do
			(cd "$_GO_FIXTURES" && find "$d" -type f | LC_ALL=C sort | xargs sha256sum)
		done
	} | sha256sum | cut -c1-16)
	out=$EHTTP_CACHE/go/$ver/fixtures/$name-$variant-$key
	if [ ! -x "$out" ]; then
		mkdir -p "$(dirname "$out")"
		# Build from a copy: a toolchain newer than the go.mod may want to rewrite it.
		tmp=$(mktemp -d "$EHTTP_CACHE/go/$ver/build.XXXXXX")
		for d in $(_go_fixture_dirs "$name"); do cp -r "$_GO_FIXTURES/$d" "$tmp/"; done
		# shellcheck disable=SC2046
		if ! (cd "$tmp/$name" && env $(_go_env "$root" "$ver") CGO_ENABLED=$cgo GOARCH=$arch \
			go build -o "$tmp/out" "${args[@]}" . >"$tmp/log" 2>&1); then
			echo "Error: go $ver build of $name ($variant) failed:" >&2
			tail -n 20 "$tmp/log" >&2
			rm -rf "$tmp"
			return 1
		fi
		mv "$tmp/out" "$out" # atomic: a concurrent run sees the whole binary or none
		rm -rf "$tmp"
	fi
	echo "$out"
}

# As a command: fetch toolchains, e.g. to warm the cache.
#   bash tests/go_toolchains.sh [VER...]
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	rc=0
	# shellcheck disable=SC2086 # a list of words
	[ $# -gt 0 ] || set -- $GO_VERSIONS_ALL
	for v in "$@"; do
		if root=$(go_toolchain "$v"); then
			echo "go $v: $root ($(head -n 1 "$root/VERSION" 2>/dev/null || go_tool "$v" version))"
		else
			rc=1
		fi
	done
	exit $rc
fi
