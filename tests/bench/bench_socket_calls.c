// SPDX-License-Identifier: GPL-2.0-only
/*
 * One thread plays both ends of one loopback TCP connection: the client writes a
 * request, the server reads it and writev()s a response head and a small body, the
 * client reads them back. Nothing blocks and no other thread is woken, so the time per
 * exchange is the four socket calls and the TCP stack under them, and what a tracer
 * adds to each call shows without the scheduling noise of a load generator.
 * Usage: bench_socket_calls SECONDS ROUNDS   prints "exchanges/s exchanges" per round.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const char request[] = "GET /page.bin HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
static const char head[] =
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 30 Nov 2026 14:00:00 GMT\r\n"
	"Content-Type: application/octet-stream\r\nContent-Length: 16\r\n"
	"Last-Modified: Mon, 30 Nov 2026 13:00:00 GMT\r\nConnection: keep-alive\r\n"
	"ETag: \"692c4d50-10\"\r\nAccept-Ranges: bytes\r\n\r\n";
static const char body[] = "0123456789abcdef";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int die(const char *what)
{
	perror(what);
	return 1;
}

/* One request and its response; 0 on success. */
static int exchange(int client, int server)
{
	struct iovec iov[2] = {
		{ (void *)head, sizeof(head) - 1 },
		{ (void *)body, sizeof(body) - 1 },
	};
	size_t want = sizeof(head) - 1 + sizeof(body) - 1, got = 0;
	char buf[4096];
	ssize_t n;

	if (write(client, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1)
		return -1;
	if (read(server, buf, sizeof(buf)) != (ssize_t)sizeof(request) - 1)
		return -1;
	if (writev(server, iov, 2) != (ssize_t)want)
		return -1;
	while (got < want) {
		n = read(client, buf, sizeof(buf));
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	double seconds = argc > 1 ? atof(argv[1]) : 2, t0, t;
	int rounds = argc > 2 ? atoi(argv[2]) : 1, one = 1;
	int listener, client, server;

	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(listener, 1) || getsockname(listener, (struct sockaddr *)&addr, &len))
		return die("listen");
	client = socket(AF_INET, SOCK_STREAM, 0);
	if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof(addr)))
		return die("connect");
	server = accept(listener, NULL, NULL);
	if (server < 0)
		return die("accept");
	/* Each message goes out at once, as a server's response to a waiting client does. */
	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (int r = 0; r < rounds; r++) {
		long done = 0;

		t0 = now();
		do {
			for (int i = 0; i < 1000; i++, done++)
				if (exchange(client, server))
					return die("exchange");
			t = now();
		} while (t - t0 < seconds);
		printf("%.0f %ld\n", done / (t - t0), done);
		fflush(stdout);
	}
	return 0;
}
