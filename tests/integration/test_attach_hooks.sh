# Both ways of hooking the kernel (docs/capture.md): auto picks the socket tracepoints
# where the kernel has them, and the raw syscall exit hook, the one older kernels run,
# passes the attach scenarios too. Ground truth is each scenario's own (nginx's access
# log, the servers' logs, what the clients saw).
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

# What auto picks: sockets when the kernel's BTF has all three tracepoints.
have_sockets=false
have_socket_hooks && have_sockets=true
attach_start "$TMP/auto.json" -p $$
attach_stop "$TMP/auto.json"
if $have_sockets; then
	want=socket why="sock_send_length, sock_recv_length and inet_sock_set_state are in this kernel"
else
	want=syscall why="not in this kernel (Linux >= 6.3)"
fi
grep -q "through the $want hooks: .*$why" "$TMP/auto.json.err" ||
	fail "auto should pick the $want hooks and say why ($why): $(head -n 1 "$TMP/auto.json.err")"
echo "ok: auto picks the $want hooks and says why"

"$EHTTP" attach --hooks sideways 2>"$TMP/err"
expect_eq "exit status for a bad --hooks" 2 "$?"
grep -q "^Error: --hooks takes auto, sockets or syscalls" "$TMP/err" || fail "bad --hooks error: $(cat "$TMP/err")"

for hooks in syscalls $($have_sockets && echo sockets); do
	ATTACH_HOOKS=$hooks attach_start "$TMP/$hooks.json" -p $$
	attach_stop "$TMP/$hooks.json"
	grep -q "through the ${hooks%s} hooks" "$TMP/$hooks.json.err" ||
		fail "--hooks $hooks: $(head -n 1 "$TMP/$hooks.json.err")"
done
echo "ok: --hooks picks what it names"

# The scenarios under the hooks auto does not pick here (the default run covers the
# other).
other=syscalls
$have_sockets || other=sockets
if [ $other = sockets ]; then
	echo "the kernel has no socket tracepoints: the syscall hooks ran every scenario"
	exit 0
fi
for t in nginx go python midstream fdreuse wrk; do
	ATTACH_HOOKS=$other bash "tests/integration/test_attach_$t.sh" >"$TMP/$t.log" 2>&1 ||
		{ tail -n 30 "$TMP/$t.log" >&2; fail "test_attach_$t with --hooks $other"; }
	echo "ok: test_attach_$t passes with --hooks $other"
done
