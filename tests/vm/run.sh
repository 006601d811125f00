#!/bin/bash
# The kernel matrix: boot Debian's own kernels under qemu (TCG) with the host's root
# read-only over 9p, and run a chosen set of integration tests inside each.
#
#   tests/vm/run.sh [NAME...]     every kernel of the matrix below, or those named
#
# A kernel that does not boot, an Oops in its console, a timeout or a failed test is a
# failure, with the console's tail printed. Results (console, test logs, timings, what
# `ehttp check` and `ehttp -d attach` said) stay in build/tests/vm/NAME.
# VM_JOBS (2) guests run at a time; each gets VM_TIMEOUT (900) seconds.
set -u
cd "$(dirname "$0")/../.." || exit 2
TREE=$PWD
. tests/vm/kernel.sh

# NAME  SUITES  KERNEL-ARGS  HOOKS  TESTS. The syscall hooks on 5.10 and 6.1 (no socket
# tracepoints before 6.3), the socket hooks on 6.12; the attach tests run with --hooks
# HOOKS. The locked-down control shows check and capture agreeing when
# bpf_probe_write_user is refused. The server-context and --cgroup tests have a guest
# of their own: beside the other 6.12 tests they would not fit one guest's time; the
# Go chain runs there on 6.12 for the same reason, and the Go propagation chain (sk_msg
# with the Go probes' context) in a guest of its own. So does --propagate=memory on each
# kernel (no lockdown in these guests: the memory writes really happen), with the
# propagation options (auto gives Go programs memory writes there).
MATRIX='
5.10           bullseye  -                   syscalls  check attach_python record_replay go_chain
5.10-memory    bullseye  -                   syscalls  propagate_memory propagate_cli
6.1            bookworm  -                   syscalls  check attach_python record_replay go_chain
6.1-memory     bookworm  -                   syscalls  propagate_memory propagate_cli
6.12           trixie    -                   sockets   check attach_python record_replay propagate_detach propagate_chain propagate_bytes
6.12-context   trixie    -                   sockets   propagate_recv cgroup go_chain
6.12-gochain   trixie    -                   sockets   propagate_go_chain
6.12-memory    trixie    -                   sockets   propagate_memory propagate_cli
6.12-lockdown  trixie    lockdown=integrity  sockets   check attach_python propagate_cli
'
# VM_TESTS, when set, replaces each chosen row's tests (a test while developing it).
VM_JOBS=${VM_JOBS:-2}
VM_TIMEOUT=${VM_TIMEOUT:-900}

if [ "$(id -u)" -ne 0 ]; then
	echo "Error: the guests load BPF programs as the host's root: run as root" >&2
	exit 1
fi
for t in qemu-system-x86_64 busybox cpio modinfo xz zstd; do
	command -v $t >/dev/null || { echo "Error: $t is missing (packaging/deps.sh installs it)" >&2; exit 1; }
done
[ -x build/ehttp ] || { echo "Error: build/ehttp is not built (make)" >&2; exit 1; }

rows=()
while read -r name suites args hooks tests; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
	tests=${VM_TESTS:-$tests}
	rows+=("$name|$suites|$args|$hooks|$tests")
done <<<"$MATRIX"
[ ${#rows[@]} -gt 0 ] || { echo "Error: no kernel named $* in the matrix (${MATRIX//$'\n'/ })" >&2; exit 2; }

# The Go fixtures the tests run (go_chain; check traces one), built on the host into
# the cache the guests read (their root is the host's, read-only, and they reach no
# archive): VERSION:FIXTURE. Warm, this is a few checksums.
VM_GO_FIXTURES='1.27:chain 1.19:chain 1.27:memprop 1.19:memprop'
. tests/go_toolchains.sh
for f in $VM_GO_FIXTURES; do
	go_fixture "${f%%:*}" "${f#*:}" plain >/dev/null || exit 1
done

# Fetch and prepare each kernel once, before any guest runs (apt is not parallel-safe).
declare -A boot
for row in "${rows[@]}"; do
	IFS='|' read -r name suites args hooks tests <<<"$row"
	kernel=${name%%-*}
	[ -n "${boot[$kernel]:-}" ] && continue
	boot[$kernel]=$(vm_kernel_prepare "$kernel" ${suites//,/ }) || exit 1
done

# run_guest NAME ARGS HOOKS TESTS: boot, wait, judge; writes RESULTS/verdict.
run_guest() {
	local name=$1 args=$2 hooks=$3 tests=$4 kb res start rc=0 why=""
	kb=${boot[${name%%-*}]}
	res=$TREE/build/tests/vm/$name
	rm -rf "$res" && mkdir -p "$res"
	printf 'TREE=%q\nHOOKS=%q\nTESTS=%q\nEHTTP_CACHE=%q\n' "$TREE" "$hooks" "$tests" \
		"$EHTTP_CACHE" >"$res/job"
	[ "$args" = - ] && args=
	vm_initrd "$kb" "$res/initrd.cpio.gz" || { echo "no initramfs" >"$res/verdict"; return; }
	start=$(date +%s.%N)
	timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 1 -m 1536 \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$kb/vmlinux" -initrd "$res/initrd.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 $args ehttp.results=$res ehttp.script=$TREE/tests/vm/guest.sh" \
		-serial "file:$res/console.log" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$res,mount_tag=results,security_model=none" \
		>"$res/qemu.log" 2>&1
	rc=$?
	echo "wall_s=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')" >>"$res/times"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why="timed out after ${VM_TIMEOUT}s"
	elif [ $rc -ne 0 ]; then
		why="qemu exited with $rc: $(tail -n 3 "$res/qemu.log")"
	elif grep -qE 'Oops|BUG:|Kernel panic|general protection fault|kernel BUG' "$res/console.log"; then
		why="the kernel oopsed or panicked"
	elif [ ! -f "$res/rc" ]; then
		why="the guest did not reach its tests (no exit status)"
	elif [ "$(cat "$res/rc")" != 0 ]; then
		why="tests failed in the guest"
	fi
	echo "${why:-ok}" >"$res/verdict"
}

report() {
	local name=$1 res=$TREE/build/tests/vm/$1 v t
	v=$(cat "$res/verdict" 2>/dev/null || echo "no verdict")
	t=$(tr '\n' ' ' <"$res/times" 2>/dev/null)
	if [ "$v" = ok ]; then
		echo "PASS vm $name ($t)"
		return 0
	fi
	echo "FAIL vm $name: $v ($t)"
	[ -f "$res/tests.txt" ] && sed 's/^/    | /' "$res/tests.txt" | tail -n 60
	echo "    console (last 40 lines of $res/console.log):"
	sed 's/^/    | /' "$res/console.log" 2>/dev/null | tail -n 40
	return 1
}

running=0 names=()
for row in "${rows[@]}"; do
	IFS='|' read -r name suites args hooks tests <<<"$row"
	if [ $running -ge "$VM_JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_guest "$name" "$args" "$hooks" "$tests" &
	running=$((running + 1))
	names+=("$name")
done
wait

fail=0
for name in "${names[@]}"; do report "$name" || fail=$((fail + 1)); done
echo
echo "vm: $((${#names[@]} - fail)) passed, $fail failed"
[ $fail -eq 0 ]
