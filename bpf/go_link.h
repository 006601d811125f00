/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How a client call finds the server request it belongs to: pure functions over the
 * state bpf/go_http.bpf.c keeps, so that the unit tests run the very code the probes
 * run (no maps, no helpers here).
 *
 * A goroutine's link is copied from its creator when runtime.newproc1 makes it, rather
 * than found by walking creators at call time: the walk needs every ancestor still
 * alive, and errgroup-style code ends the middle goroutine first. The copy costs the
 * same at any depth; the depth is kept so that deep spawn trees (worker pools started
 * by some request) are not taken for part of it.
 */
#ifndef EHTTP_BPF_GO_LINK_H
#define EHTTP_BPF_GO_LINK_H

#include "go_http.h"
#include "../lib/hex.h" /* plain C, no headers: the BPF build uses it as it is */

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * The link a goroutine made by @creator_goid gets: from the request it serves
 * (@creator_server, NULL when none), else from the creator's own link (NULL when none).
 * Returns 1 when @child was set, 0 when the new goroutine belongs to no request.
 */
static __always_inline int go_link_inherit(const struct go_event *creator_server,
					   const struct go_link *creator_link, __u64 creator_goid,
					   struct go_link *child)
{
	if (creator_server) {
		__builtin_memcpy(child->trace_id, creator_server->trace_id, sizeof(child->trace_id));
		__builtin_memcpy(child->span_id, creator_server->span_id, sizeof(child->span_id));
		child->server_goid = creator_goid;
		child->depth = 1;
		child->gave_up = 0;
		return 1;
	}
	if (!creator_link)
		return 0;
	*child = *creator_link;
	if (child->depth < 255)
		child->depth++;
	if (child->depth > GO_LINK_MAX_DEPTH)
		child->gave_up = 1;
	return 1;
}

/*
 * Fill @client's trace id, parent and link flags from the request its own goroutine
 * serves (@own_server), else from the goroutine's link (@link) and what the linked
 * handler's goroutine serves now (@link_server_now). Returns 1 when @client belongs to
 * no request and needs a trace id of its own.
 */
static __always_inline int go_link_resolve(const struct go_event *own_server,
					   const struct go_link *link,
					   const struct go_event *link_server_now,
					   struct go_event *client)
{
	int i, same = 1;

	if (own_server) {
		__builtin_memcpy(client->trace_id, own_server->trace_id, sizeof(client->trace_id));
		__builtin_memcpy(client->parent_span_id, own_server->span_id,
				 sizeof(client->parent_span_id));
		client->flags |= GO_F_LINK_SERVER;
		client->depth = 0;
		return 0;
	}
	if (!link)
		return 1;
	client->depth = link->depth;
	if (link->gave_up) {
		client->flags |= GO_F_LINK_GAVE_UP;
		return 1;
	}
	__builtin_memcpy(client->trace_id, link->trace_id, sizeof(client->trace_id));
	__builtin_memcpy(client->parent_span_id, link->span_id, sizeof(client->parent_span_id));
	client->flags |= GO_F_LINK_SPAWNED;
	if (link_server_now) {
		for (i = 0; i < 8; i++)
			if (link_server_now->span_id[i] != link->span_id[i])
				same = 0;
	}
	/* The goroutine outlived its request (fire-and-forget work after the response):
	 * still its child, and the span says the parent had ended. */
	if (!link_server_now || !same)
		client->flags |= GO_F_PARENT_ENDED;
	return 0;
}

static __always_inline char go_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* @n bytes from 2 * @n hex digits: 1 when they are not all zero, 0 when they are, -1
 * when one is not a hex digit. */
static __always_inline int go_parse_hex_id(const char *hex, __u8 *out, int n)
{
	int i, hi, lo, nonzero = 0;

	for (i = 0; i < n; i++) {
		hi = hex_digit(hex[2 * i]);
		lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = hi << 4 | lo;
		nonzero |= out[i];
	}
	return nonzero != 0;
}

/*
 * A traceparent value "00-<32 hex>-<16 hex>-<2 hex>", @len bytes at @v (at least
 * GO_TRACEPARENT_VALUE of them readable), as net/http's Header holds it (trimmed).
 * Returns 1 and fills @tp when it is valid (version 00, non-zero ids; a later version
 * may carry more fields after a dash).
 */
static __always_inline int go_parse_traceparent_value(const char *v, __u32 len,
						      struct go_traceparent *tp)
{
	int hi, lo, nonzero_t, nonzero_p;

	if (len < GO_TRACEPARENT_VALUE)
		return 0;
	if (v[2] != '-' || v[35] != '-' || v[52] != '-')
		return 0;
	hi = hex_digit(v[0]);
	lo = hex_digit(v[1]);
	if (hi < 0 || lo < 0 || (hi == 15 && lo == 15)) /* version ff is invalid */
		return 0;
	if (hi == 0 && lo == 0 && len != GO_TRACEPARENT_VALUE)
		return 0; /* version 00 has exactly these fields */
	if (len > GO_TRACEPARENT_VALUE && v[GO_TRACEPARENT_VALUE] != '-')
		return 0; /* a later version's further fields follow a dash */
	nonzero_t = go_parse_hex_id(v + 3, tp->trace_id, 16);
	nonzero_p = go_parse_hex_id(v + 36, tp->parent_id, 8);
	if (nonzero_t < 0 || nonzero_p < 0)
		return 0;
	if (hex_digit(v[53]) < 0 || hex_digit(v[54]) < 0)
		return 0;
	return nonzero_t && nonzero_p;
}

/* Is the 11-byte map key @k "Traceparent", in any case? (net/http stores keys in
 * canonical form, "Traceparent"; a key it could not canonicalise is kept as sent.) */
static __always_inline int go_is_traceparent_key(const char *k)
{
	const __u64 lo = 0x7261706563617274ull; /* "tracepar" little-endian */
	__u64 lo8 = 0;
	__u32 i;

	for (i = 0; i < 8; i++)
		lo8 |= (__u64)(__u8)go_lower(k[i]) << (8 * i);
	return lo8 == lo && go_lower(k[8]) == 'e' && go_lower(k[9]) == 'n' && go_lower(k[10]) == 't';
}

/*
 * A header line as net/textproto returns it ("Name: value", no CRLF), @len bytes of
 * which @line holds at least min(@len, GO_TRACEPARENT_LINE_MAX). Returns 1 and fills
 * @tp when it is a valid W3C traceparent (version 00, non-zero ids; a later version
 * is read for its first fields, as the spec asks), 0 otherwise.
 */
static __always_inline int go_parse_traceparent_line(const char *line, __u32 len,
						     struct go_traceparent *tp)
{
	/* "traceparent:" as a number each half, not a string: no read-only data in BPF */
	const __u64 name_lo = 0x7261706563617274ull; /* "tracepar" little-endian */
	const __u32 name_hi = 0x3a746e65;            /* "ent:" */
	__u64 lo8 = 0;
	__u32 hi4 = 0, i, at = GO_TRACEPARENT_NAME;

	if (len < GO_TRACEPARENT_NAME + GO_TRACEPARENT_VALUE || len > GO_TRACEPARENT_LINE_MAX)
		return 0;
	for (i = 0; i < 8; i++)
		lo8 |= (__u64)(__u8)go_lower(line[i]) << (8 * i);
	for (i = 0; i < 4; i++)
		hi4 |= (__u32)(__u8)go_lower(line[8 + i]) << (8 * i);
	if (lo8 != name_lo || hi4 != name_hi)
		return 0;
	for (i = 0; i < 4 && (line[at] == ' ' || line[at] == '\t'); i++)
		at++;
	/* optional whitespace around the value, as the wire's parser (span.c) allows */
	for (i = 0; i < 4 && len > at && (line[len - 1] == ' ' || line[len - 1] == '\t'); i++)
		len--;
	if (len - at < GO_TRACEPARENT_VALUE)
		return 0;
	return go_parse_traceparent_value(line + at, len - at, tp);
}

#endif
