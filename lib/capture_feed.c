// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

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

/* An HTTP/2 walk's segments (CAPTURE_DF_SEGMENTS): the bytes between them unseen. A
 * segment that overlaps the one before or runs past the payload ends them. */
static int feed_segments(struct httpconn *conn, int state, enum httpconn_dir dir,
			 const struct capture_event *ev, const uint8_t *data, size_t avail,
			 struct span_sink *sink)
{
	uint64_t pos = 0;
	size_t at = 0;

	while (avail - at >= sizeof(struct capture_segment)) {
		struct capture_segment sg;

		memcpy(&sg, data + at, sizeof(sg));
		at += sizeof(sg);
		if (sg.off < pos || sg.n > avail - at || sg.off + (uint64_t)sg.n > ev->len)
			break;
		state = feed(conn, state, dir, ev, NULL, 0, sg.off - pos, sink);
		state = feed(conn, state, dir, ev, data + at, sg.n, sg.n, sink);
		pos = sg.off + sg.n;
		at += (sg.n + 3) & ~3u;
		if (at > avail)
			break;
	}
	return feed(conn, state, dir, ev, NULL, 0, ev->len - pos, sink);
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
	if (ev->flags & CAPTURE_DF_SEGMENTS)
		return feed_segments(conn, state, dir, ev, data, captured, sink);
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
