#!/bin/bash
# The README's main job: start a local web server, and
#  1. show what `ehttp attach` sees of some traffic: one line per request, from the
#     server's side and from curl's;
#  2. record a few seconds of its traffic, then show per-route statistics from the file.
set -u
cd "$(dirname "$0")/.."
EHTTP=build/ehttp
if ! "$EHTTP" check >/dev/null 2>&1; then
	"$EHTTP" check
	exit 1
fi
TMP=$(mktemp -d /tmp/ehttp-demo.XXXXXX)
mkdir -p "$TMP/www/users" "$TMP/www/orders"
for i in $(seq 1 50); do echo "{\"id\": $i}" >"$TMP/www/users/$i"; done
for h in 3f2a9c1b 77e01d4a 0b5c6e2f; do echo "{\"order\": \"$h\"}" >"$TMP/www/orders/$h"; done
echo "<h1>hello</h1>" >"$TMP/www/index.html"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
SERVER=$!
ATTACH=
REC=
trap 'kill $SERVER $ATTACH $REC 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$PORT

echo "# ehttp attach --port $PORT"
"$EHTTP" attach --port "$PORT" 2>"$TMP/attach.err" &
ATTACH=$!
for _ in $(seq 1 300); do grep -sq '^Attached' "$TMP/attach.err" && break; sleep 0.1; done
head -n 1 "$TMP/attach.err"
curl -s -o /dev/null "$base/"
curl -s -o /dev/null "$base/users/1" -o /dev/null "$base/users/2"
curl -s -o /dev/null "$base/users/42000"                   # 404
curl -s -o /dev/null -I "$base/index.html"                  # HEAD
curl -s -o /dev/null -H "Authorization: Bearer s3cr3t" "$base/users/3"
sleep 0.5
kill -INT $ATTACH
wait $ATTACH
ATTACH=
tail -n +2 "$TMP/attach.err"
echo

echo "# ehttp record -o demo.pcapng -p $SERVER --duration 4"
"$EHTTP" record -o "$TMP/demo.pcapng" -p "$SERVER" --duration 4 2>"$TMP/record.err" &
REC=$!
for _ in $(seq 1 300); do grep -sq '^Recording' "$TMP/record.err" && break; sleep 0.1; done
for round in $(seq 1 6); do
	for i in $(seq 1 $((round * 5))); do echo "/users/$i"; done
	echo "/orders/3f2a9c1b?expand=items"
	echo "/orders/77e01d4a"
	echo "/users/$((1000 + round))" # not there: 404
	echo "/"
	sleep 0.5
done | while read -r path; do
	printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$PORT" "$path"
done | curl -s -K -
wait $REC
REC=
cat "$TMP/record.err"
echo
echo "# ehttp replay --stats demo.pcapng"
"$EHTTP" replay --stats "$TMP/demo.pcapng"
