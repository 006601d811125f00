# nginx for the attach tests and benchmarks (sourced after lib.sh): a non-daemon
# instance with its own prefix, config, pid and logs under $TMP, on a free port.

# nginx_start WORKERS: serves $TMP/nginx/www on 127.0.0.1:$NGINX_PORT and [::1]; logs
# "connection method uri status request_length bytes_sent" per request to
# $TMP/nginx/logs/access.log (or nowhere with NGINX_NO_LOG=1). NGINX_PID is the master.
# NGINX_LISTEN adds listen parameters (NGINX_LISTEN=http2: h2c by prior knowledge).
nginx_start() {
	local ng=$TMP/nginx log
	command -v nginx >/dev/null || skip "nginx is not installed"
	NGINX_PORT=$(free_port)
	mkdir -p "$ng/www" "$ng/logs" "$ng/tmp"
	[ -e "$ng/www/index.html" ] || echo "<html>hello</html>" >"$ng/www/index.html"
	log="access_log $ng/logs/access.log truth;"
	[ "${NGINX_NO_LOG:-0}" = 1 ] && log="access_log off;"
	cat >"$ng/nginx.conf" <<CONF
user root;
daemon off;
worker_processes ${1:-1};
pid $ng/nginx.pid;
error_log $ng/logs/error.log;
events { worker_connections 1024; }
http {
    log_format truth '\$connection \$request_method \$request_uri \$status \$request_length \$bytes_sent';
    $log
    client_body_temp_path $ng/tmp/body;
    proxy_temp_path $ng/tmp/proxy;
    fastcgi_temp_path $ng/tmp/fastcgi;
    uwsgi_temp_path $ng/tmp/uwsgi;
    scgi_temp_path $ng/tmp/scgi;
    sendfile on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$NGINX_PORT${NGINX_LISTEN:+ $NGINX_LISTEN};
        listen [::1]:$NGINX_PORT${NGINX_LISTEN:+ $NGINX_LISTEN};
        root $ng/www;
        location = /post { client_max_body_size 1m; return 201 "created\n"; }
        location = /fail { return 503; }
        location /upload/ { dav_methods PUT; create_full_put_path on; client_max_body_size 1m; }
    }
}
CONF
	nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" &
	NGINX_PID=$!
	on_exit "kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null"
	wait_port "$NGINX_PORT"
}

# nginx_worker: NGINX_WORKER, the pid of the master's first worker (the benchmarks
# trace it).
nginx_worker() {
	for _ in $(seq 1 50); do
		NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
		[ -n "$NGINX_WORKER" ] && return 0
		sleep 0.1
	done
	return 1
}
