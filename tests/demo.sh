#!/bin/bash
# The README's main job: start a local web server, send it some traffic, and show what
# `ehttp attach` sees: one line per request, from the server's side and from curl's.
set -u
cd "$(dirname "$0")/.."
EHTTP=build/ehttp
if ! "$EHTTP" check >/dev/null 2>&1; then
	"$EHTTP" check
	exit 1
fi
TMP=$(mktemp -d /tmp/ehttp-demo.XXXXXX)
mkdir -p "$TMP/www/users"
for i in 1 2 3; do echo "{\"id\": $i}" >"$TMP/www/users/$i"; done
echo "<h1>hello</h1>" >"$TMP/www/index.html"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$TMP/www" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER $ATTACH 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$TMP"' EXIT
ATTACH=
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done

echo "# ehttp attach --port $PORT"
"$EHTTP" attach --port "$PORT" 2>"$TMP/attach.err" &
ATTACH=$!
for _ in $(seq 1 300); do grep -sq '^Attached' "$TMP/attach.err" && break; sleep 0.1; done
head -n 1 "$TMP/attach.err"
base=http://127.0.0.1:$PORT
curl -s -o /dev/null "$base/"
curl -s -o /dev/null "$base/users/1" -o /dev/null "$base/users/2"
curl -s -o /dev/null "$base/users/42"                      # 404
curl -s -o /dev/null -I "$base/index.html"                  # HEAD
curl -s -o /dev/null -H "Authorization: Bearer s3cr3t" "$base/users/3"
sleep 0.5
kill -INT $ATTACH
wait $ATTACH
ATTACH=
tail -n +2 "$TMP/attach.err"
