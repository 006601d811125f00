#!/bin/bash
# nginx as the selected client: a reverse proxy (one worker, upstream keep-alive) in
# front of a second nginx that logs the traceparent of every request it serves. With
# --propagate on the proxy's worker, small and 8 MB responses come back whole through
# the claimed upstream connections within the bound (curl --max-time 10; sockmap
# sockets made another tracer's nginx stall for 20-80 s), every upstream request
# carries the ids of the proxy's client span, and each is the child of the proxy's
# server span for it.
. tests/integration/lib.sh
. tests/integration/attach_lib.sh
have_socket_hooks || skip "no socket tracepoints (Linux < 6.3): --propagate needs them"
command -v nginx >/dev/null || skip "nginx is not installed"

ng_conf() { # DIR PORT BODY
	mkdir -p "$1/logs" "$1/tmp" "$1/www"
	cat >"$1/nginx.conf" <<CONF
user root;
daemon off;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/logs/error.log;
events { worker_connections 1024; }
http {
    log_format tp '\$request_uri \$http_traceparent';
    access_log $1/logs/access.log tp;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    $3
}
CONF
}
bport=$(free_port)
pport=$(free_port)
ng_conf "$TMP/back" "$bport" "server { listen 127.0.0.1:$bport; root $TMP/back/www; }"
ng_conf "$TMP/proxy" "$pport" "upstream back { server 127.0.0.1:$bport; keepalive 4; }
    server { listen 127.0.0.1:$pport; location / { proxy_pass http://back; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
head -c 8000000 /dev/urandom >"$TMP/back/www/big.bin"
echo small >"$TMP/back/www/small.txt"
nginx -p "$TMP/back" -c "$TMP/back/nginx.conf" -e "$TMP/back/logs/error.log" &
on_exit "kill $! 2>/dev/null"
nginx -p "$TMP/proxy" -c "$TMP/proxy/nginx.conf" -e "$TMP/proxy/logs/error.log" &
proxy=$!
on_exit "kill $proxy 2>/dev/null"
wait_port "$bport"
wait_port "$pport"
for _ in $(seq 1 50); do
	worker=$(pgrep -P "$proxy" | head -n 1)
	[ -n "$worker" ] && break
	sleep 0.1
done
[ -n "$worker" ] || fail "no proxy worker"

attach_start "$TMP/spans" -p "$worker" --propagate
for i in 1 2 3 4 5 6; do
	for f in small.txt big.bin; do
		curl -sf --max-time 10 "http://127.0.0.1:$pport/$f?r=$i" -o "$TMP/got" || fail "$f #$i did not complete within 10 s"
		cmp -s "$TMP/got" "$TMP/back/www/$f" || fail "$f #$i came back changed"
	done
done
sleep 0.5
attach_stop "$TMP/spans"
grep '^propagation' "$TMP/spans.err"

for i in 1 2 3 4 5 6; do
	for f in small.txt big.bin; do
		t="/$f?r=$i"
		client=$(jq -c "select(.role == \"client\" and .target == \"$t\")" "$TMP/spans")
		server=$(jq -c "select(.role == \"server\" and .target == \"$t\")" "$TMP/spans")
		[ -n "$client" ] && [ -n "$server" ] || fail "$t: spans missing"
		expect_eq "$t: client propagation" sockmsg "$(jq -r .propagation <<<"$client")"
		expect_eq "$t: traceparent the backend logged" \
			"00-$(jq -r .trace_id <<<"$client")-$(jq -r .span_id <<<"$client")-01" \
			"$(awk -v t="$t" '$1 == t { print $2 }' "$TMP/back/logs/access.log")"
		expect_eq "$t: the client span's parent is the proxy's server span" \
			"$(jq -r .span_id <<<"$server")" "$(jq -r .parent_span_id <<<"$client")"
	done
done
