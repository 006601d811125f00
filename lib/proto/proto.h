/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The protocols ehttp parses, behind one interface. A connection (struct httpconn,
 * httpconn.h) holds the protocol its first bytes chose and feeds it every byte after;
 * sources (socket capture, TLS plaintext later) never see which one it is.
 *
 * A protocol is one file (lib/proto/http1.c shows one) exporting a struct proto_ops
 * named proto_NAME, and one line in the table of lib/proto/proto.c.
 *
 * Pure: no BPF, no I/O; unit tests and fuzz harnesses drive protocols with bytes.
 */
#ifndef EHTTP_PROTO_H
#define EHTTP_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "httpconn.h"

enum proto_verdict {
	PROTO_MAYBE = 0, /* a prefix of what this protocol starts with: more bytes decide */
	PROTO_YES = 1,
	PROTO_NO = 2,
};

/* First bytes held on a connection while a protocol still says PROTO_MAYBE (the
 * HTTP/2 client preface, the longest start looked for, is 24). */
#define PROTO_SNIFF_MAX 32

struct proto_ops {
	const char *name; /* "http1", "http2" */
	/* It finds message boundaries in any bytes and judges a connection by itself:
	 * it takes connections picked up mid-stream, and those no protocol claims
	 * (and tells they are not its own with HTTPCONN_NOT_HTTP). */
	bool resyncs;
	/* Do a connection's first bytes, sent @dir (enum httpconn_dir), start this
	 * protocol? enum proto_verdict. */
	int (*classify)(const uint8_t *data, uint32_t len, int dir);
	void *(*new)(const struct httpconn_info *info, const struct httpconn_opts *opts);
	/* httpconn_feed()'s contract; returns enum httpconn_state or a negative errno. */
	int (*feed)(void *p, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
		    uint32_t captured, uint64_t len, struct span_sink *sink);
	/* httpconn_close()'s contract: partial spans to @sink (may be NULL), then free. */
	void (*close)(void *p, uint64_t ts_ns, struct span_sink *sink);
	/* Inside a body whose end is a byte count away? May be NULL (never). */
	bool (*in_body)(const void *p);
};

/* The registered protocols, in the order they are asked; NULL-terminated. */
extern const struct proto_ops *const proto_table[];
/* What connections created from now on choose from (tests); NULL = proto_table. */
void proto_use_table(const struct proto_ops *const *table);
const struct proto_ops *proto_find(const char *name);

/* The protocol a connection speaks (NULL before its first bytes chose). */
const struct proto_ops *httpconn_proto(const struct httpconn *c);

#endif
