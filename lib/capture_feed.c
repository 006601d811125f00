// SPDX-License-Identifier: GPL-2.0-only
#include "capture_feed.h"

static int feed_at(struct httpconn *conn, int state, enum httpconn_dir dir, uint64_t ts_ns,
		   uint32_t tid, const uint8_t *data, uint32_t captured, uint64_t len,
		   struct span_sink *sink)
{
	if (state < 0 || state == HTTPCONN_NOT_HTTP || (!len && !captured))
		return state;
	return httpconn_feed(conn, dir, ts_ns, tid, data, captured, len, sink);
}

static int feed(struct httpconn *conn, int state, enum httpconn_dir dir, const struct capture_event *ev,
		const uint8_t *data, uint32_t captured, uint64_t len, struct span_sink *sink)
{
	return feed_at(conn, state, dir, ev->ts_ns, ev->tid, data, captured, len, sink);
}

int capture_feed_unseen(struct httpconn *conn, struct capture_feed_pos *pos, const __u64 unseen[2],
			uint64_t ts_ns, struct span_sink *sink)
{
	int state = httpconn_state(conn);

	for (int d = CAPTURE_EGRESS; d <= CAPTURE_INGRESS; d++) {
		uint64_t n = unseen[d] > pos->unseen[d] ? unseen[d] - pos->unseen[d] : 0;

		if (!n)
			continue;
		pos->unseen[d] = unseen[d];
		/* No thread is known for them: 0, as for other bytes not seen. */
		state = feed_at(conn, state, d == CAPTURE_INGRESS ? HTTPCONN_INGRESS : HTTPCONN_EGRESS,
				ts_ns, 0, NULL, 0, n, sink);
	}
	return state;
}

int capture_feed(struct httpconn *conn, struct capture_feed_pos *pos, const struct capture_event *ev,
		 const uint8_t *data, size_t avail, struct span_sink *sink)
{
	enum httpconn_dir dir = ev->dir == CAPTURE_INGRESS ? HTTPCONN_INGRESS : HTTPCONN_EGRESS;
	int state = httpconn_state(conn);
	uint64_t len = ev->len;
	uint32_t captured = ev->captured, tail = ev->tail;

	state = feed(conn, state, HTTPCONN_EGRESS, ev, NULL, 0, ev->gap[CAPTURE_EGRESS], sink);
	state = feed(conn, state, HTTPCONN_INGRESS, ev, NULL, 0, ev->gap[CAPTURE_INGRESS], sink);
	if (state >= 0 && state != HTTPCONN_NOT_HTTP)
		state = capture_feed_unseen(conn, pos, ev->unseen, ev->unseen_ts, sink);
	if (ev->type != CAPTURE_EV_DATA)
		return state;

	if (captured > avail)
		captured = avail;
	if (captured > len)
		captured = len;
	if (tail >= captured || len == captured)
		tail = 0;
	if (!tail)
		return feed(conn, state, dir, ev, data, captured, len, sink);
	/* The start, the bytes between (unseen), then the end. */
	state = feed(conn, state, dir, ev, data, captured - tail, len - tail, sink);
	return feed(conn, state, dir, ev, data + captured - tail, tail, tail, sink);
}
