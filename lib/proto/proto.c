// SPDX-License-Identifier: GPL-2.0-only
/*
 * The protocol table, and the connection that holds what its first bytes chose: until
 * then, bytes a protocol is still unsure of (PROTO_MAYBE) are held and handed over
 * once it is decided.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

/* One line per protocol (lib/proto/NAME.c defines proto_NAME), in the order they are
 * asked to classify a connection's first bytes. */
#define PROTOCOLS(X)                                                                        \
	X(http2)                                                                            \
	X(http1)                                                                            \
	/* end of the table */

#define PROTO_DECLARE(name) extern const struct proto_ops proto_##name;
#define PROTO_ENTRY(name) &proto_##name,
PROTOCOLS(PROTO_DECLARE)
const struct proto_ops *const proto_table[] = { PROTOCOLS(PROTO_ENTRY) NULL };

/* What new connections choose from. */
static const struct proto_ops *const *protocols = proto_table;

void proto_use_table(const struct proto_ops *const *table)
{
	protocols = table ? table : proto_table;
}

const struct proto_ops *proto_find(const char *name)
{
	for (size_t i = 0; protocols[i]; i++)
		if (!strcmp(protocols[i]->name, name))
			return protocols[i];
	return NULL;
}

/* ---- the connection ---------------------------------------------------------------- */

struct held_feed {
	uint64_t ts_ns;
	uint32_t tid, len;
	uint8_t dir;
};

struct httpconn {
	const struct proto_ops *ops; /* NULL until the first bytes chose */
	void *p;                     /* the protocol's state */
	struct httpconn_info info;
	struct httpconn_opts opts;
	int state;                   /* enum httpconn_state */
	/* The first feeds (one direction, whole), held while a protocol is unsure. */
	uint8_t held[PROTO_SNIFF_MAX];
	uint32_t nheld;
	struct held_feed feeds[PROTO_SNIFF_MAX];
	uint32_t nfeeds;
};

struct httpconn *httpconn_new(const struct httpconn_info *info, const struct httpconn_opts *opts)
{
	struct httpconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->info = *info;
	if (opts)
		c->opts = *opts;
	c->state = HTTPCONN_UNKNOWN;
	return c;
}

/* The protocol that judges a connection by itself: mid-stream, or unclaimed. */
static const struct proto_ops *resyncing(void)
{
	for (size_t i = 0; protocols[i]; i++)
		if (protocols[i]->resyncs)
			return protocols[i];
	return NULL;
}

/* A protocol that says yes to @data; PROTO_MAYBE while one that does not judge by
 * itself might still. */
static int classify(const uint8_t *data, uint32_t len, int dir, const struct proto_ops **yes)
{
	bool maybe = false;

	for (size_t i = 0; protocols[i]; i++) {
		int v = protocols[i]->classify(data, len, dir);

		if (v == PROTO_YES) {
			*yes = protocols[i];
			return PROTO_YES;
		}
		if (v == PROTO_MAYBE && !protocols[i]->resyncs)
			maybe = true;
	}
	return maybe ? PROTO_MAYBE : PROTO_NO;
}

static int track(struct httpconn *c, int rc)
{
	if (rc >= 0)
		c->state = rc;
	return rc;
}

int httpconn_feed(struct httpconn *c, enum httpconn_dir dir, uint64_t ts_ns, uint32_t tid,
		  const uint8_t *data, uint32_t captured, uint64_t len, struct span_sink *sink)
{
	const struct proto_ops *ops = NULL;
	uint8_t head[PROTO_SNIFF_MAX];
	uint32_t i, n, off = 0;
	int rc = HTTPCONN_UNKNOWN;

	if (c->ops)
		return track(c, c->ops->feed(c->p, dir, ts_ns, tid, data, captured, len, sink));
	if (c->state == HTTPCONN_NOT_HTTP)
		return c->state;
	if (captured > len)
		captured = len;
	if (!data)
		captured = 0;
	/* The first bytes one way, those held and this feed's, decide. Mid-stream they
	 * are no message start: nothing to classify. */
	if (!c->info.midstream && captured && (!c->nfeeds || c->feeds[0].dir == dir)) {
		n = captured < PROTO_SNIFF_MAX - c->nheld ? captured : PROTO_SNIFF_MAX - c->nheld;
		memcpy(head, c->held, c->nheld);
		memcpy(head + c->nheld, data, n);
		if (classify(head, c->nheld + n, dir, &ops) == PROTO_MAYBE && captured == len &&
		    c->nheld + captured <= PROTO_SNIFF_MAX) {
			/* Unsure: hold the feed whole until more bytes say. */
			memcpy(c->held + c->nheld, data, captured);
			c->feeds[c->nfeeds++] = (struct held_feed){ ts_ns, tid, captured, dir };
			c->nheld += captured;
			return HTTPCONN_UNKNOWN;
		}
		/* Still unsure with all it can hold, or a gap: the resyncing protocol judges. */
	}
	if (!ops)
		ops = resyncing();
	if (!ops)
		return c->state = HTTPCONN_NOT_HTTP;
	c->p = ops->new(&c->info, &c->opts);
	if (!c->p)
		return -ENOMEM;
	c->ops = ops;
	for (i = 0; i < c->nfeeds; i++) {
		const struct held_feed *f = &c->feeds[i];

		rc = track(c, ops->feed(c->p, f->dir, f->ts_ns, f->tid, c->held + off, f->len, f->len,
					sink));
		off += f->len;
		if (rc < 0)
			return rc;
	}
	c->nfeeds = c->nheld = 0;
	return track(c, ops->feed(c->p, dir, ts_ns, tid, data, captured, len, sink));
}

void httpconn_close(struct httpconn *c, uint64_t ts_ns, struct span_sink *sink)
{
	if (!c)
		return;
	/* Bytes still held made no message a protocol took: nothing to report. */
	if (c->ops)
		c->ops->close(c->p, ts_ns, sink);
	free(c);
}

enum httpconn_state httpconn_state(const struct httpconn *c)
{
	return c->state;
}

bool httpconn_in_body(const struct httpconn *c)
{
	return c->ops && c->ops->in_body && c->ops->in_body(c->p);
}

const struct proto_ops *httpconn_proto(const struct httpconn *c)
{
	return c->ops;
}
