# The Go source on the ways Go programs are built: stripped (no symbols, no DWARF: the
# functions come from the pclntab and the struct layouts from the runtime's type
# descriptors), PIE (load bias) and static (CGO_ENABLED=0), each as the frontend of
# its own chain, all traced at once (Go 1.19: the spawner is read at newproc1's entry).
# And a binary whose functions cannot all be found (runtime.newproc1 renamed in its
# function table), and one too old (Go 1.15's stack ABI): named in a warning with the
# reason, and still traced by the socket hooks. Ground truth: the programs' own logs.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
. tests/integration/go_lib.sh

go_build_with 1.19 chain "$TMP/backend"
go_build_with 1.19 chain "$TMP/stripped" stripped
go_build_with 1.19 chain "$TMP/pie" pie
go_build_with 1.19 chain "$TMP/static" static
# Too old for the probes (stack ABI): Debian's oldest Go, if it can be had here.
old=
go_build_with_old() { local b; b=$(go_fixture 1.15 hello plain 2>/dev/null) && cp "$b" "$TMP/old" && old=$TMP/old; }
go_build_with_old || echo "note: no Go 1.15 toolchain: the too-old case is not run"
file "$TMP/static" | grep -q 'statically linked' || fail "$TMP/static is not static: $(file "$TMP/static")"
file "$TMP/pie" | grep -qi 'pie\|shared object' || fail "$TMP/pie is not PIE: $(file "$TMP/pie")"
# The name is only in the pclntab once stripped; Go looks functions up by address.
cp "$TMP/stripped" "$TMP/renamed"
python3 - "$TMP/renamed" <<'PY' || fail "could not rename runtime.newproc1"
import sys
p = sys.argv[1]
b = open(p, "rb").read()
n = b.count(b"runtime.newproc1\x00")
assert n >= 1, n
open(p, "wb").write(b.replace(b"runtime.newproc1\x00", b"runtime.newprocX\x00"))
PY

declare -A fe be fe_port
pids=()
for v in stripped pie static renamed; do
	bp=$(free_port)
	fe_port[$v]=$(free_port)
	"$TMP/backend" backend "127.0.0.1:$bp" >"$TMP/be-$v.log" 2>"$TMP/be-$v.err" &
	be[$v]=$!
	on_exit "kill ${be[$v]} 2>/dev/null; wait ${be[$v]} 2>/dev/null"
	"$TMP/$v" frontend "127.0.0.1:${fe_port[$v]}" "http://127.0.0.1:$bp" >"$TMP/fe-$v.log" 2>"$TMP/fe-$v.err" &
	fe[$v]=$!
	on_exit "kill ${fe[$v]} 2>/dev/null; wait ${fe[$v]} 2>/dev/null"
	wait_port "$bp"
	wait_port "${fe_port[$v]}"
	pids+=(-p "${fe[$v]}" -p "${be[$v]}")
done
if [ -n "$old" ]; then
	old_port=$(free_port)
	"$old" "127.0.0.1:$old_port" 2>"$TMP/old.err" &
	oldpid=$!
	on_exit "kill $oldpid 2>/dev/null; wait $oldpid 2>/dev/null"
	wait_port "$old_port"
	pids+=(-p "$oldpid")
fi

out=$TMP/spans.json
attach_start "$out" "${pids[@]}"
for v in stripped pie static; do
	go_wait_traced "$out" "${fe[$v]}"
done
grep -q "^Warning: Go: pid ${fe[renamed]} (renamed) not traced by uprobes: go1\.19[.0-9]*: runtime\.newproc1 is not in the binary; the socket hooks still see its HTTP/1 traffic$" "$out.err" ||
	fail "no warning naming the renamed binary's process and reason: $(grep Go "$out.err")"

if [ -n "$old" ]; then
	grep -q "^Warning: Go: pid $oldpid (old) not traced by uprobes: go1\.15[.0-9]* is too old: the probes read Go's register ABI, Go 1\.17 and later; the socket hooks still see its HTTP/1 traffic$" "$out.err" ||
		fail "no warning naming the Go 1.15 process and why: $(grep Go "$out.err")"
	curl -sf -o /dev/null "http://127.0.0.1:$old_port/old?id=old" || fail "curl old"
fi
for v in stripped pie static renamed; do
	base=http://127.0.0.1:${fe_port[$v]}
	curl -sf -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$base/direct?id=$v-d" "$base/spawn?id=$v-s" "$base/parallel?id=$v-p" "$base/nested?id=$v-n" ||
		fail "curl $v"
done
tp_trace=4bf92f3577b34da6a3ce929d0e0e4736 tp_parent=00f067aa0ba902b7
curl -sf -o /dev/null -H "traceparent: 00-$tp_trace-$tp_parent-01" \
	"http://127.0.0.1:${fe_port[stripped]}/direct?id=stripped-tp" || fail "curl traceparent"
sleep 0.5
attach_stop "$out"

for v in stripped pie static; do
	echo "--- $v"
	python3 tests/fixtures/go_links.py "$out" "$TMP/fe-$v.log" "${fe[$v]}" "$TMP/be-$v.log" "${be[$v]}" \
		"$v-d.direct=link:handler:0" "$v-s.spawn=link:spawned:1" "$v-p.p1=link:spawned:1" \
		"$v-p.p2=link:spawned:1" "$v-n.nested=link:spawned:2" \
		$([ $v != stripped ] || echo "stripped-tp=trace:$tp_trace:$tp_parent stripped-tp.direct=link:handler:0") ||
		fail "links of the $v build"
done
# The renamed binary's exchanges: seen by the socket hooks alone, one span each.
expect_eq "server spans of the binary left to the socket hooks" \
	"syscall /direct?id=renamed-d
syscall /nested?id=renamed-n
syscall /parallel?id=renamed-p
syscall /spawn?id=renamed-s" \
	"$(jq -r --argjson pid "${fe[renamed]}" 'select(.pid == $pid and .role == "server") | "\(.source) \(.target)"' "$out" | sort)"
if [ -n "$old" ]; then
	expect_eq "the Go 1.15 server's span, from the socket hooks" "syscall /old?id=old" \
		"$(jq -r --argjson pid "$oldpid" 'select(.pid == $pid and .role == "server") | "\(.source) \(.target)"' "$out")"
fi
echo "stripped, PIE and static Go builds are traced; those that cannot be are said"
