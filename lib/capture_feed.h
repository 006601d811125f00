/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How one capture event's bytes reach a connection's parser, in wire order: bytes of
 * events the kernel could not queue (counted, unseen), then the copied start of the
 * payload, the unseen middle, and the copied end. Pure: no BPF, so the fuzz harness
 * drives it with made-up events.
 */
#ifndef EHTTP_CAPTURE_FEED_H
#define EHTTP_CAPTURE_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/capture.h" /* the event records shared with the BPF side */
#include "httpconn.h"

/* Where the feeding of one connection stands: the running totals of bytes the kernel
 * counted without an event of their own (sendfile, splice) that were fed already. */
struct capture_feed_pos {
	uint64_t unseen[2]; /* by enum capture_dir */
};

/*
 * Feed a CAPTURE_EV_DATA (or, for its gaps and unseen bytes only, CAPTURE_EV_CLOSE)
 * event @ev whose payload, @avail bytes of it, is at @data: first the bytes of events
 * lost before it, then the unseen bytes counted since the last event (@pos says which
 * were fed), then its own. Inconsistent fields (more captured than available or
 * moved, a tail longer than the copy, totals that go back) are clamped, never trusted.
 * Returns the parser's state afterwards or a negative errno from @sink; stops
 * feeding once the parser says the connection is not HTTP.
 */
int capture_feed(struct httpconn *conn, struct capture_feed_pos *pos, const struct capture_event *ev,
		 const uint8_t *data, size_t avail, struct span_sink *sink);

/* Feed the unseen bytes of running totals @unseen (by enum capture_dir) that @pos has
 * not fed yet, as moved at @ts_ns: egress first, then ingress. Returns as capture_feed(). */
int capture_feed_unseen(struct httpconn *conn, struct capture_feed_pos *pos, const __u64 unseen[2],
			uint64_t ts_ns, struct span_sink *sink);

#endif
