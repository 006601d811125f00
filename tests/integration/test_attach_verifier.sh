# The capture's programs leave the verifier room: each takes under a quarter of its
# million-instruction limit, with both kinds of hooks, with no filter and with every
# filter the kernel applies (-p, --comm, --port: they make code live that is dead
# without them). A loop that explores badly once took 650 thousand, and a kernel or
# compiler that explores a little more would have refused it. Ground truth: the
# kernel's own count (bpf_prog_info.verified_insns, Linux >= 5.16), which -d prints.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh

budget=250000
IFS=.- read -r major minor _ <<<"$(uname -r)"
[ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 16 ]; } ||
	skip "Linux $(uname -r) does not count verified instructions (5.16 does)"
for hooks in syscalls $(have_socket_hooks && echo sockets); do
	for filters in "" "-p $$ --comm bash --port 80"; do
		"$EHTTP" -d attach --hooks "$hooks" $filters --duration 1 >/dev/null 2>"$TMP/err" ||
			fail "$hooks $filters: attach failed: $(tail -n 3 "$TMP/err")"
		sed -nE 's/^debug: ([a-z_]+): the verifier went through ([0-9]+) instructions.*/\1 \2/p' \
			"$TMP/err" >"$TMP/counts"
		grep -q . "$TMP/counts" || fail "$hooks $filters: -d printed no verifier counts"
		while read -r prog n; do
			[ "$n" -lt "$budget" ] ||
				fail "$hooks ${filters:-(no filter)}: $prog took $n instructions to verify (budget $budget)"
			echo "ok: $hooks ${filters:-(no filter)}: $prog $n < $budget"
		done <"$TMP/counts"
	done
done
