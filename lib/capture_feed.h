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

/*
 * Feed a CAPTURE_EV_DATA (or, for its gaps only, CAPTURE_EV_CLOSE) event @ev whose
 * payload, @avail bytes of it, is at @data. Inconsistent fields (more captured than
 * available or moved, a tail longer than the copy) are clamped, never trusted.
 * Returns the parser's state afterwards or a negative errno from @sink; stops
 * feeding once the parser says the connection is not HTTP.
 */
int capture_feed(struct httpconn *conn, const struct capture_event *ev, const uint8_t *data,
		 size_t avail, struct span_sink *sink);

#endif
