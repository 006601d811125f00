# Helpers for the OTLP tests (sourced after lib.sh): the test receiver of
# tests/fixtures/otlp, which decodes with the OpenTelemetry JS SDK's own types.

OTLP_FIXTURE=$PWD/tests/fixtures/otlp
command -v node >/dev/null || skip "node missing (sh packaging/deps.sh)"
command -v jq >/dev/null || fail "jq is needed (packaging/deps.sh installs it)"
# The npm packages the receiver uses, exactly as package-lock.json pins them.
if [ ! -d "$OTLP_FIXTURE/node_modules/@opentelemetry/otlp-transformer" ]; then
	command -v npm >/dev/null || skip "npm missing"
	(cd "$OTLP_FIXTURE" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null 2>&1) ||
		skip "npm ci in tests/fixtures/otlp failed (no registry?)"
fi

# receiver_start NAME [ARGS...]: a receiver writing $TMP/NAME.spans (unless
# RECV_COUNT_ONLY=1) and $TMP/NAME.requests; sets RECV_PORT and RECV_PID.
receiver_start() {
	local name=$1 i
	shift
	rm -f "$TMP/$name.port"
	: >"$TMP/$name.spans"
	: >"$TMP/$name.requests"
	local spans=(--spans "$TMP/$name.spans")
	[ "${RECV_COUNT_ONLY:-0}" = 1 ] && spans=()
	node "$OTLP_FIXTURE/receiver.js" --port-file "$TMP/$name.port" "${spans[@]}" \
		--requests "$TMP/$name.requests" "$@" 2>"$TMP/$name.err" &
	RECV_PID=$!
	on_exit "kill $RECV_PID 2>/dev/null; wait $RECV_PID 2>/dev/null"
	for i in $(seq 1 100); do
		[ -s "$TMP/$name.port" ] && break
		sleep 0.1
	done
	[ -s "$TMP/$name.port" ] || fail "the receiver did not start: $(cat "$TMP/$name.err")"
	RECV_PORT=$(cat "$TMP/$name.port")
}

# spangen OUT N [START_EPOCH_S [HOSTNAME]]: a span file of N synthetic spans
# (tests/fixtures/spangen.c), from 1764000000 and host "bench" by default.
spangen() {
	[ -x "$TMP/spangen" ] || cc -O2 -D_GNU_SOURCE -Ilib -o "$TMP/spangen" tests/fixtures/spangen.c \
		build/libehttp.a $(pkg-config --libs jansson) -lz || fail "building the span generator"
	"$TMP/spangen" "$1" "$2" "${3:-1764000000}" ${4:+"$4"} >/dev/null || fail "spangen"
}

# vm_hwm PID: peak resident memory of PID in kB.
vm_hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
