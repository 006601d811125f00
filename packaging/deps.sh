#!/bin/sh
# Install what ehttp needs to build, test, fuzz, benchmark and package, from Debian.
# Idempotent and quick when everything is present. Run as root (CI is root).
set -eu

BUILD="make gcc clang llvm bpftool libbpf-dev libelf-dev libdw-dev zlib1g-dev libjansson-dev libzydis-dev pkg-config libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libcurl4-openssl-dev libmicrohttpd-dev"
TEST="libcriterion-dev nodejs prometheus jq file util-linux golang-go gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu binutils nginx-light curl wrk python3 tshark bpftrace iproute2 procps libclang-rt-14-dev python3-docutils qemu-system-x86 busybox-static kmod xz-utils zstd time nghttp2-client nghttp2-server golang-golang-x-net-dev golang-google-grpc-dev"
PACKAGE="debhelper devscripts dpkg-dev lintian rpm rpm2cpio cpio rpmlint man-db bsdextrautils bash-completion fakeroot"

missing=""
for pkg in $BUILD $TEST $PACKAGE; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Error: missing packages:$missing (run this script as root)" >&2
	exit 1
fi
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the default (no) is right.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
