#!/bin/bash
# Regenerate the checked-in per-architecture vmlinux.h, so packages build without the
# running kernel's BTF. CO-RE relocates field offsets at load time, so any recent
# kernel's types serve every kernel >= 5.8.
#   x86:   from the running kernel's /sys/kernel/btf/vmlinux (on an x86-64 host)
#   arm64: from the BTF inside Debian's arm64 kernel image (any host, needs apt access)
# Usage: bpf/vmlinux/regen.sh [x86|arm64]...
set -euo pipefail
cd "$(dirname "$0")"
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(x86 arm64)

from_debian() { # debian-arch → raw BTF file on stdout path
	local darch=$1 work
	work=$(mktemp -d)
	trap 'rm -rf "$work"' RETURN
	mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
	local A=(-o "APT::Architecture=$darch" -o "APT::Architectures=$darch"
		-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
	apt-get -qq "${A[@]}" update
	local pkg
	pkg=$(apt-cache "${A[@]}" depends "linux-image-$darch" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	(cd "$work" && apt-get -qq "${A[@]}" download "$pkg:$darch")
	dpkg-deb -x "$work"/linux-image-*.deb "$work/x"
	# The BTF blob sits inside the kernel image: find its header (magic 0xeb9f, v1)
	# and cut header + types + strings.
	python3 - "$work"/x/boot/vmlinuz-* "$2" <<'PY'
import gzip, struct, sys
data = open(sys.argv[1], 'rb').read()
if data[:2] == b'\x1f\x8b':
    data = gzip.decompress(data)
best = None
i = data.find(b'\x9f\xeb\x01\x00')
while i >= 0:
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from('<5I', data, i + 4)
    if hdr_len == 24 and type_off == 0 and str_off == type_len and i + 24 + type_len + str_len <= len(data):
        if best is None or type_len > best[1]:
            best = (i, type_len, 24 + type_len + str_len)
    i = data.find(b'\x9f\xeb\x01\x00', i + 1)
if best is None:
    sys.exit("no BTF found in " + sys.argv[1])
open(sys.argv[2], 'wb').write(data[best[0]:best[0] + best[2]])
PY
	echo "$pkg" >&2
}

for arch in "${arches[@]}"; do
	mkdir -p "$arch"
	case $arch in
	x86)
		[ "$(uname -m)" = x86_64 ] || { echo "x86 needs an x86-64 host" >&2; exit 1; }
		bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$arch/vmlinux.h.new"
		;;
	arm64)
		btf=$(mktemp)
		from_debian arm64 "$btf"
		bpftool btf dump file "$btf" format c >"$arch/vmlinux.h.new"
		rm -f "$btf"
		;;
	*) echo "unknown architecture '$arch' (x86 or arm64)" >&2; exit 2 ;;
	esac
	mv "$arch/vmlinux.h.new" "$arch/vmlinux.h"
	echo "$arch/vmlinux.h: $(wc -l <"$arch/vmlinux.h") lines"
done
