# ehttp check --json against ground truth the test obtains itself: uname, the BTF file,
# the lockdown file (securityfs mounted by the test, in its own mount namespace), a raw
# bpf(2) load of a bpf_probe_write_user program, tracefs event directories, a capture
# the test starts itself, a Go program that capture traces (or not) by uprobes.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/go_lib.sh

cc -O2 -o "$TMP/pwu_probe" tests/fixtures/pwu_probe.c || fail "build pwu_probe"

# Run in a private mount namespace with tracefs and securityfs unmounted, as at boot:
# check must mount what it needs itself. The host's mounts stay as they are.
cat >"$TMP/inner.sh" <<'INNER'
set -u
umount /sys/kernel/security 2>/dev/null
umount /sys/kernel/debug/tracing 2>/dev/null
umount /sys/kernel/tracing 2>/dev/null
umount /sys/kernel/debug 2>/dev/null
grep -qE ' (securityfs|tracefs) ' /proc/self/mounts && { echo "could not unmount"; exit 3; }
"$EHTTP" -j check >"$TMP/check.json"
echo $? >"$TMP/check.rc"
grep -E ' (securityfs|tracefs) ' /proc/self/mounts >"$TMP/mounts.after"
# Ground truth, read after the same mounts exist.
cat /sys/kernel/security/lockdown >"$TMP/lockdown.truth" 2>/dev/null
ls /sys/kernel/tracing/events/syscalls >"$TMP/syscall_events.truth" 2>/dev/null
ls /sys/kernel/tracing/events/raw_syscalls >"$TMP/raw_events.truth" 2>/dev/null
ls /sys/kernel/tracing/events/sock >"$TMP/sock_events.truth" 2>/dev/null
INNER
TMP=$TMP EHTTP=$EHTTP unshare -m --propagation private bash "$TMP/inner.sh" || fail "namespace run"

j="$TMP/check.json"
jq -e . "$j" >/dev/null || fail "not JSON: $(cat "$j")"
expect_eq "exit status (syscall capture possible as root)" 0 "$(cat "$TMP/check.rc")"
grep -q '^securityfs /sys/kernel/security ' "$TMP/mounts.after" || fail "check did not mount securityfs"
grep -q '^tracefs /sys/kernel/tracing ' "$TMP/mounts.after" || fail "check did not mount tracefs"
expect_eq "securityfs reported as mounted by ehttp" true "$(jq -r .filesystems.securityfs.mounted_by_ehttp "$j")"
expect_eq "tracefs reported as mounted by ehttp" true "$(jq -r .filesystems.tracefs.mounted_by_ehttp "$j")"

expect_eq "kernel.release" "$(uname -r)" "$(jq -r .kernel.release "$j")"
expect_eq "kernel.version" "$(uname -r | grep -oE '^[0-9]+\.[0-9]+(\.[0-9]+)?' | awk -F. '{printf "%d.%d.%d", $1, $2, $3}')" \
	"$(jq -r .kernel.version "$j")"
expect_eq "kernel.arch" "$(uname -m)" "$(jq -r .kernel.arch "$j")"

if [ -r /sys/kernel/btf/vmlinux ] && bpftool btf dump file /sys/kernel/btf/vmlinux >/dev/null 2>&1; then btf=true; else btf=false; fi
expect_eq "btf" "$btf" "$(jq -r .btf "$j")"

lockdown=$(grep -oE '\[[a-z]+\]' "$TMP/lockdown.truth" | tr -d '[]')
[ -n "$lockdown" ] || lockdown=unknown
expect_eq "lockdown" "$lockdown" "$(jq -r .lockdown "$j")"

truth=$("$TMP/pwu_probe")
echo "raw bpf(2) says: $truth"
case $truth in accepted) pwu=true ;; *) pwu=false ;; esac
expect_eq "features.probe_write_user" "$pwu" "$(jq -r .features.probe_write_user "$j")"
expect_eq "verdicts.propagation_memory_write.ok" "$pwu" "$(jq -r .verdicts.propagation_memory_write.ok "$j")"
if [ "$pwu" = false ]; then
	reason=${truth#refused: }
	jq -r .verdicts.propagation_memory_write.reason "$j" | grep -qF "$reason" ||
		fail "the verdict should quote the verifier ('$reason'): $(jq -r .verdicts.propagation_memory_write.reason "$j")"
	jq -r .verdicts.propagation_memory_write.remedy "$j" | grep -q -- '--propagate=sockmsg' ||
		fail "remedy should name --propagate=sockmsg"
	[ "$lockdown" = none ] || jq -r .verdicts.propagation_memory_write.reason "$j" | grep -q "lockdown is $lockdown" ||
		fail "the verdict should say the lockdown is why"
fi

# kprobes: the kernel has them exactly when the kprobe PMU exists.
[ -e /sys/bus/event_source/devices/kprobe ] && kp=true || kp=false
expect_eq "features.kprobe" "$kp" "$(jq -r .features.kprobe "$j")"

# Each syscall's own tracepoints (reported; capture runs on raw_syscalls): present in tracefs ⇔ reported usable.
for sc in connect accept accept4 close read write readv writev sendto recvfrom sendmsg recvmsg; do
	grep -qx "sys_enter_$sc" "$TMP/syscall_events.truth" && grep -qx "sys_exit_$sc" "$TMP/syscall_events.truth" && want=true || want=false
	expect_eq "features.syscall_$sc" "$want" "$(jq -r ".features.syscall_$sc" "$j")"
done
# What capture runs on: raw_syscalls' exit tracepoint exists ⇔ reported usable; the
# socket tracepoints all exist ⇔ reported usable, and then the verdict names them.
grep -qx sys_exit "$TMP/raw_events.truth" && raw_truth=true || raw_truth=false
expect_eq "features.raw_syscalls" "$raw_truth" "$(jq -r .features.raw_syscalls "$j")"
sock_truth=true
for tp in sock_send_length sock_recv_length inet_sock_set_state; do
	grep -qx "$tp" "$TMP/sock_events.truth" || sock_truth=false
done
expect_eq "features.socket_tracepoints" "$sock_truth" "$(jq -r .features.socket_tracepoints "$j")"
# The verdict comes from loading attach's own programs: it names the hooks auto picks
# and why, the first socket tracepoint missing from tracefs when it picks syscalls
# (attach, started below, must then attach).
if $sock_truth; then
	hooks=socket why="sock_send_length, sock_recv_length and inet_sock_set_state are in this kernel"
else
	for tp in sock_send_length sock_recv_length inet_sock_set_state; do
		grep -qx "$tp" "$TMP/sock_events.truth" || break
	done
	hooks=syscall why="$tp not in this kernel (Linux >= 6.3)"
fi
jq -r .verdicts.syscall_capture.reason "$j" | grep -qF "($hooks hooks: $why)" ||
	fail "the capture verdict should name the $hooks hooks and why ($why): $(jq -r .verdicts.syscall_capture.reason "$j")"
expect_eq "features.ringbuf" true "$(jq -r .features.ringbuf "$j")"
expect_eq "features.tracepoint" true "$(jq -r .features.tracepoint "$j")"
expect_eq "features.uprobe" true "$(jq -r .features.uprobe "$j")"
expect_eq "verdicts.syscall_capture.ok" true "$(jq -r .verdicts.syscall_capture.ok "$j")"
expect_eq "privileges.euid" 0 "$(jq -r .privileges.euid "$j")"

# Unprivileged: still reports, says probes need root, exits 1 (capture impossible).
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$EHTTP" -j check >"$TMP/user.json" 2>"$TMP/user.err"
expect_eq "unprivileged exit status" 1 "$?"
expect_eq "unprivileged may_trace" false "$(jq -r .privileges.may_trace "$TMP/user.json")"
expect_eq "unprivileged kernel.release" "$(uname -r)" "$(jq -r .kernel.release "$TMP/user.json")"
jq -r .verdicts.syscall_capture.remedy "$TMP/user.json" | grep -q root || fail "unprivileged remedy should say root"
jq -r .feature_details.uprobe "$TMP/user.json" | grep -q "needs root" || fail "unprivileged probes should say they need root"

# Programs already on the capture's tracepoints: a capture this test starts is listed
# with its pid and its tracepoints while it runs, and no longer once it has ended. It
# traces a Go program too: whether the Go source traces it by uprobes is what
# go_uprobes (judged by loading the same programs) must have said.
go_build_with 1.19 chain "$TMP/gosrv"
go_port=$(free_port)
"$TMP/gosrv" backend "127.0.0.1:$go_port" >/dev/null 2>&1 &
gosrv=$!
on_exit "kill $gosrv 2>/dev/null; wait $gosrv 2>/dev/null"
wait_port "$go_port"
"$EHTTP" attach -p "$gosrv" >/dev/null 2>"$TMP/attach.err" &
cap=$!
on_exit "kill -INT $cap 2>/dev/null; wait $cap 2>/dev/null"
for _ in $(seq 1 300); do grep -qs '^Attached' "$TMP/attach.err" && break; sleep 0.1; done
grep -q '^Attached' "$TMP/attach.err" || fail "attach did not start: $(cat "$TMP/attach.err")"
if grep -q "^Go: tracing pid $gosrv " "$TMP/attach.err"; then go_truth=true; else go_truth=false; fi
expect_eq "verdicts.go_uprobes.ok (attach traced a Go program by uprobes: $go_truth)" "$go_truth" \
	"$(jq -r .verdicts.go_uprobes.ok "$j")"
if ! $go_truth; then
	jq -r .verdicts.go_uprobes.remedy "$j" | grep -q 'ehttp -d attach\|CONFIG_UPROBE_EVENTS' ||
		fail "a refused go_uprobes should give a remedy: $(jq -c .verdicts.go_uprobes "$j")"
fi
"$EHTTP" -j check >"$TMP/hooks.json"
if $sock_truth; then want="inet_sock_set_state sock_recv_length sock_send_length"; else want="sys_exit"; fi
expect_eq "hooks_in_use of pid $cap" "$want" \
	"$(jq -r --argjson p "$cap" '[.hooks_in_use[] | select(.pid == $p) | .tracepoint] | sort | join(" ")' "$TMP/hooks.json")"
expect_eq "hooks_in_use comm" ehttp "$(jq -r --argjson p "$cap" '[.hooks_in_use[] | select(.pid == $p) | .comm] | unique | join(" ")' "$TMP/hooks.json")"
"$EHTTP" check | grep -qE "^  sock_send_length +prog [0-9]+ sock_send, held by ehttp\[$cap\]$" || ! $sock_truth ||
	fail "text check does not list the running capture"
kill -INT "$cap"
wait "$cap"
"$EHTTP" -j check >"$TMP/hooks.json"
expect_eq "hooks_in_use of pid $cap once it ended" 0 "$(jq --argjson p "$cap" '[.hooks_in_use[] | select(.pid == $p)] | length' "$TMP/hooks.json")"

# Text mode says the same things in words.
"$EHTTP" check >"$TMP/check.txt" || fail "text check failed"
grep -qE "^  lockdown +$lockdown" "$TMP/check.txt" || fail "text lockdown line"
grep -qE "^  propagation_memory_write +(ok|NO)" "$TMP/check.txt" || fail "text verdict line"
echo "all check facts match"
