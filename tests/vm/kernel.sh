# Debian's kernels, ready for qemu: the ELF vmlinux (booted through PVH, faster than
# the bzImage through the BIOS) and an initramfs of busybox-static plus the kernel's own
# modules for a 9p root with an overlay. Sourced by tests/vm/run.sh.
#
#   vm_kernel_prepare NAME SUITE...   fetch (once) the kernel linux-image-amd64 depends on
#                                     in SUITE and build its boot files; prints their
#                                     directory (vmlinux, modules.cpio.gz, release)
#   vm_initrd BOOT OUT                the initramfs: BOOT's modules and tests/vm/init
#                                     (two cpio archives, one after the other, as the
#                                     kernel allows), so a changed init needs no refetch
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../apt_private.sh"

# Modules the guest init loads (tests/vm/init), with what they depend on.
VM_MODULES="virtio_pci 9pnet_virtio 9p overlay"

# _vm_extract_vmlinux BZIMAGE OUT: the compressed kernel inside a bzImage, found by its
# magic (like the kernel's scripts/extract-vmlinux) and decompressed until it is an ELF.
_vm_extract_vmlinux() {
	local img=$1 out=$2 off
	for kind in xz zstd gzip; do
		for off in $(python3 - "$img" "$kind" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
magic = {"xz": b"\xfd7zXZ\x00", "zstd": b"\x28\xb5\x2f\xfd", "gzip": b"\x1f\x8b\x08"}[sys.argv[2]]
i = data.find(magic)
while i >= 0:
    print(i)
    i = data.find(magic, i + 1)
PY
		); do
			tail -c +$((off + 1)) "$img" | "$kind" -dc >"$out" 2>/dev/null
			if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				return 0
			fi
		done
	done
	echo "Error: no compressed ELF kernel found in $img" >&2
	return 1
}

# _vm_module_closure MODDIR NAME...: the modules' files, dependencies first.
_vm_module_closure() {
	local moddir=$1 name f deps d
	shift
	for name in "$@"; do
		f=$(find "$moddir" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" |
			head -n 1)
		# A module built into this kernel needs nothing loaded.
		[ -n "$f" ] || continue
		deps=$(modinfo -F depends "$f" | tr ',' ' ')
		for d in $deps; do
			_vm_module_closure "$moddir" "${d//-/_}"
		done
		echo "$f"
	done
}

vm_kernel_prepare() {
	local name=$1 dir pkg conf release moddir boot f base
	shift
	dir=$EHTTP_CACHE/kernels/$name
	if [ "$(cat "$dir/boot/ready" 2>/dev/null)" = "$VM_MODULES" ]; then
		echo "$dir/boot"
		return 0
	fi
	conf=$(_apt_private_conf "$@") || return 1
	pkg=$(APT_CONFIG=$conf apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
	[ -n "$pkg" ] || { echo "Error: no linux-image-amd64 in $*" >&2; return 1; }
	# Unpacked again when the boot files are rebuilt: only they are kept.
	rm -f "$dir/pkg/.unpacked-$pkg"
	apt_private_unpack "$pkg" "$dir/pkg" "$@" >/dev/null || return 1
	release=${pkg#linux-image-}
	moddir=$(ls -d "$dir"/pkg/lib/modules/"$release" "$dir"/pkg/usr/lib/modules/"$release" 2>/dev/null |
		head -n 1)
	[ -n "$moddir" ] || { echo "Error: $pkg has no modules for $release" >&2; return 1; }
	boot=$dir/boot
	rm -rf "$boot" && mkdir -p "$boot/initrd/bin" "$boot/initrd/modules"
	_vm_extract_vmlinux "$dir/pkg/boot/vmlinuz-$release" "$boot/vmlinux" || return 1

	cp /bin/busybox "$boot/initrd/bin/busybox"
	# busybox's insmod takes plain .ko files: decompress here, load in this order.
	: >"$boot/initrd/modules/order"
	for f in $(_vm_module_closure "$moddir" $VM_MODULES | awk '!seen[$0]++'); do
		base=$(basename "$f")
		base=${base%.xz}
		base=${base%.zst}
		case $f in
		*.xz) xz -dc "$f" >"$boot/initrd/modules/$base" ;;
		*.zst) zstd -qdc "$f" >"$boot/initrd/modules/$base" ;;
		*) cp "$f" "$boot/initrd/modules/$base" ;;
		esac
		echo "$base" >>"$boot/initrd/modules/order"
	done
	(cd "$boot/initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$boot/modules.cpio.gz" ||
		return 1
	echo "$release" >"$boot/release"
	# The rest of the package (firmware-less modules, 100-400 MB) is not needed again.
	find "$dir/pkg" -mindepth 1 -maxdepth 1 ! -name '.unpacked-*' -exec rm -rf {} +
	rm -rf "$boot/initrd"
	echo "$VM_MODULES" >"$boot/ready"
	echo "$boot"
}

vm_initrd() {
	local boot=$1 out=$2 tmp
	tmp=$(mktemp -d) || return 1
	install -m 0755 "$(dirname "${BASH_SOURCE[0]}")/init" "$tmp/init"
	{
		cat "$boot/modules.cpio.gz"
		(cd "$tmp" && echo init | cpio -o -H newc --quiet | gzip -1)
	} >"$out"
	rm -rf "$tmp"
}
