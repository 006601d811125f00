/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One TCP connection's HTTP exchange, seen from one process: the bytes it sent and
 * received, in order, become spans. The source (syscall capture today, other sources
 * later) owns the connection table and calls this per syscall. The connection's first
 * bytes choose its protocol (lib/proto/proto.h), which owns the rest: reassembly,
 * parsing, request/response pairing and span building; HTTP/1.x (lib/proto/http1.c)
 * also finds message boundaries in connections picked up mid-stream.
 *
 * Pure: no BPF, no I/O. Unit tests and the fuzz harnesses drive it with bytes.
 */
#ifndef EHTTP_HTTPCONN_H
#define EHTTP_HTTPCONN_H

#include <stdbool.h>
#include <stdint.h>

#include "span.h"

/* Which way bytes went, from the traced process's point of view. */
enum httpconn_dir {
	HTTPCONN_EGRESS = 0,  /* the process wrote/sent them */
	HTTPCONN_INGRESS = 1, /* the process read/received them */
};

/* What the source knows of the connection when it starts tracking it. */
struct httpconn_info {
	uint64_t conn_id;       /* unique within the capture */
	uint32_t pid;
	char comm[16];
	uint8_t role;           /* enum span_role: server = accepted, client = connected */
	struct span_addr local, remote;
	bool midstream;         /* opened before the capture: sync at a message boundary */
	uint8_t source;         /* enum span_source stamped on spans */
};

struct httpconn_opts {
	bool no_redact;            /* keep Authorization/Cookie/Set-Cookie values */
	uint32_t max_header_bytes; /* header block kept per message; 0 = default */
	/* Parse the header blocks but keep no copy (the sink prints none): spans carry no
	 * blocks, and their flags say what they would have said with them. */
	bool no_header_blocks;
	const struct span_clock *clock; /* maps event times (monotonic ns) to wall time */
};

enum httpconn_state {
	HTTPCONN_UNKNOWN = 0, /* not classified yet */
	HTTPCONN_HTTP = 1,    /* HTTP/1.x seen */
	HTTPCONN_NOT_HTTP = 2,/* the source should stop tracking it (and tell the kernel) */
};

struct httpconn;

struct httpconn *httpconn_new(const struct httpconn_info *info, const struct httpconn_opts *opts);

/*
 * One syscall's worth of bytes: @len bytes went @dir at @ts_ns (CLOCK_MONOTONIC) on
 * thread @tid, and the first @captured of them are in @data (the rest were not copied:
 * past the snap length, or sendfile/splice). Bytes never seen still count toward sizes
 * and Content-Length bodies; a gap inside a head truncates that message. Every span
 * this completes is handed to @sink. Returns the connection's state afterwards; a
 * sink error is returned as a negative errno.
 *
 * Feeds must come in the order the bytes went, per direction, and a response after
 * its request. Bytes lost on the way (events the kernel could not queue) are best
 * fed as a gap (@captured 0, @len the lost count): a whole message lost that way
 * still takes its place in request/response pairing.
 *
 * After a 101 Switching Protocols, or a 2xx answer to CONNECT, the connection no
 * longer speaks HTTP: that span is handed out and the state becomes
 * HTTPCONN_NOT_HTTP. A connection whose first bytes are not HTTP/1.x becomes
 * HTTPCONN_NOT_HTTP at once; one that spoke HTTP and then shows a start line that
 * does not parse is resynchronised at the next message start instead.
 */
int httpconn_feed(struct httpconn *c, enum httpconn_dir dir, uint64_t ts_ns, uint32_t tid,
		  const uint8_t *data, uint32_t captured, uint64_t len, struct span_sink *sink);

/* Classify a connection's first bytes alone (what the kernel side also does):
 * HTTPCONN_HTTP, HTTPCONN_NOT_HTTP, or HTTPCONN_UNKNOWN when too short to say.
 * HTTP/1.x starts with "HTTP/1." (a response) or with one of GET HEAD POST PUT DELETE
 * CONNECT OPTIONS TRACE PATCH followed by a space (a request), case-sensitive; at
 * most the first 8 bytes are looked at. */
int httpconn_classify(const uint8_t *data, uint32_t len);

/* The connection closed at @ts_ns (or the capture stops): complete what can be
 * completed (a response delimited by close), hand requests still waiting to @sink as
 * partial spans (@sink may be NULL), then free. */
void httpconn_close(struct httpconn *c, uint64_t ts_ns, struct span_sink *sink);

enum httpconn_state httpconn_state(const struct httpconn *c);

/* Is a message on @c inside a body whose end is a byte count away (Content-Length, or
 * a chunk)? Bytes the source counts but sees late (sendfile) may be what ends it. */
bool httpconn_in_body(const struct httpconn *c);

#endif
