/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/1.x message pieces, one line at a time: start lines, header fields, chunk sizes,
 * and the first-bytes test that tells an HTTP/1.x message start from anything else.
 * Lines are given without their line ending. Pure functions over untrusted bytes: no
 * allocation, no state, never read past @len.
 */
#ifndef EHTTP_HTTP1_LINES_H
#define EHTTP_HTTP1_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest method token accepted in a request line (WebDAV's longest is 16). */
#define HTTP1_METHOD_MAX 20
/* Bytes needed to decide whether a message start is HTTP/1.x: "OPTIONS " and "CONNECT "
 * are the longest prefixes looked at (bpf/http1_tokens.h lists them). */
#define HTTP1_START_PREFIX_MAX 8

enum http1_verdict {
	HTTP1_NO = 0,
	HTTP1_YES = 1,
	HTTP1_MAYBE = 2, /* a prefix of a message start: need more bytes */
};

/*
 * Do these bytes start an HTTP/1.x message? A request starts with one of the methods
 * GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH followed by a space; a response
 * with "HTTP/1.". This is the decision the kernel makes from a connection's first bytes.
 */
enum http1_verdict http1_request_start(const uint8_t *data, size_t len);
enum http1_verdict http1_response_start(const uint8_t *data, size_t len);

struct http1_request_line {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	uint8_t major, minor;
};

struct http1_status_line {
	uint8_t major, minor;
	uint16_t status; /* 100..599 */
};

/* "METHOD SP target SP HTTP/1.x": method a token of A-Z, '-', '_'; target visible bytes. */
bool http1_parse_request_line(const char *line, size_t len, struct http1_request_line *out);
/* "HTTP/1.x SP 3DIGIT [SP reason]". */
bool http1_parse_status_line(const char *line, size_t len, struct http1_status_line *out);

/* Header fields ehttp acts on; the rest are kept as they are. */
enum http1_field {
	HTTP1_F_OTHER = 0,
	HTTP1_F_CONTENT_LENGTH,
	HTTP1_F_TRANSFER_ENCODING,
	HTTP1_F_HOST,
	HTTP1_F_TRACEPARENT,
	HTTP1_F_CREDENTIAL, /* Authorization, Proxy-Authorization, Cookie, Set-Cookie */
};

/* "Name: value" with optional whitespace around the value. False when there is no
 * colon or the name is empty or not a token. */
bool http1_parse_field(const char *line, size_t len, const char **name, size_t *name_len,
		       const char **value, size_t *value_len);
enum http1_field http1_field_kind(const char *name, size_t len);

/* Content-Length: digits, or a comma-separated list of the same digits. */
bool http1_parse_content_length(const char *value, size_t len, uint64_t *out);
/* Transfer-Encoding: is the last coding "chunked"? */
bool http1_te_chunked(const char *value, size_t len);
/* A chunk-size line: hex digits, optional whitespace and ";extensions". */
bool http1_parse_chunk_size(const char *line, size_t len, uint64_t *out);

#endif
