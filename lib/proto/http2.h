/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One TCP connection's HTTP/2 (h2c) exchange, seen from one process: frames are
 * reassembled per direction, header blocks (HEADERS + CONTINUATION) decoded with
 * libnghttp2's HPACK inflater, one per direction, and every stream becomes a span.
 * The same contract as the HTTP/1 parser (lib/httpconn.h): bytes in wire order per
 * direction, unseen bytes as gaps, spans to a sink.
 *
 * A connection picked up after it started (or whose header bytes were lost) cannot
 * have its HPACK dynamic table rebuilt: fields that refer to entries from before are
 * unknown (never guessed) and the span says so (SPAN_F_HPACK_UNSEEN); literal fields,
 * the static table and entries added since are still decoded.
 *
 * Pure: no BPF, no I/O. Unit tests and the fuzz harness drive it with bytes.
 */
#ifndef EHTTP_PROTO_HTTP2_H
#define EHTTP_PROTO_HTTP2_H

#include <stdbool.h>
#include <stdint.h>

#include "httpconn.h"
#include "span.h"

/* The client connection preface (RFC 9113 3.4). */
#define HTTP2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define HTTP2_PREFACE_LEN 24
#define HTTP2_FRAME_HEADER_LEN 9

/* What a connection's first bytes say (values as the protocol interface's verdicts). */
enum http2_verdict {
	HTTP2_MAYBE = 0, /* a prefix of a preface or of a SETTINGS frame header */
	HTTP2_YES = 1,
	HTTP2_NO = 2,
};

/* The client preface, or a server's first frame (SETTINGS, not an ACK, on stream 0).
 * At most the first 24 bytes are looked at. @dir is unused: either side may speak
 * first. This is the decision the kernel makes from a connection's first bytes. */
int http2_classify(const uint8_t *data, uint32_t len, int dir);

/* Could these 9 bytes be the header of a frame (a known type with its flags, stream
 * and length rules)? How a connection picked up mid-stream is recognised, and where
 * framing lost to a gap is found again. */
bool http2_frame_plausible(const uint8_t *h);

struct http2;

struct http2 *http2_new(const struct httpconn_info *info, const struct httpconn_opts *opts);

/* As httpconn_feed(): returns enum httpconn_state, or a sink error (negative errno). */
int http2_feed(struct http2 *c, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
	       uint32_t captured, uint64_t len, struct span_sink *sink);

/* The connection closed (or the capture stops): streams still open are handed to
 * @sink as partial spans (@sink may be NULL), then everything is freed. */
void http2_close(struct http2 *c, uint64_t ts_ns, struct span_sink *sink);

/*
 * An HTTP/1.1 request upgraded the connection (Upgrade: h2c, answered 101): it is
 * stream 1, already ended on the client's side, and its response comes as HTTP/2.
 * Call before feeding what follows the 101's head. Strings are copied.
 */
struct http2_upgrade {
	const char *method, *target, *host;
	const char *req_headers; /* "Name: value\r\n" lines, already redacted; may be NULL */
	uint32_t req_headers_len;
	uint64_t start_ts;       /* monotonic ns of the request's first byte */
	uint32_t tid, flags;
	uint64_t req_bytes;      /* the HTTP/1.1 request on the wire */
	uint64_t resp_bytes;     /* the 101 response */
	bool has_parent;
	uint8_t trace_id[SPAN_TRACE_ID_LEN], parent_id[SPAN_SPAN_ID_LEN];
};
void http2_upgraded(struct http2 *c, const struct http2_upgrade *up);

#endif
