# The BPF side builds for arm64 from its own vmlinux.h on this x86 host: every program
# compiles, skeletons generate, and the objects carry the arm64 register layout.
. tests/integration/lib.sh
ls bpf/*.bpf.c >/dev/null 2>&1 || skip "no BPF programs yet"
out=$TMP/arm64
make -s bpf ARCH=arm64 OUT="$out" WERROR=1 || fail "arm64 BPF build"
for src in bpf/*.bpf.c; do
	name=$(basename "$src" .bpf.c)
	obj=$out/bpf/$name.bpf.o
	[ -s "$obj" ] || fail "missing $obj"
	file "$obj" | grep -q 'eBPF' || fail "$obj is not an eBPF object: $(file "$obj")"
	[ -s "$out/skel/$name.skel.h" ] || fail "missing skeleton for $name"
	# BTF of the arm64 object names arm64's pt_regs layout (user_pt_regs), not x86's.
	if grep -q 'PT_REGS\|BPF_KPROBE\|BPF_UPROBE' "$src"; then
		bpftool btf dump file "$obj" | grep -q "user_pt_regs" || fail "$name: no arm64 pt_regs in BTF"
	fi
	echo "ok: $name builds for arm64"
done
