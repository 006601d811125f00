// fuzz-sources: lib/capture_feed.c lib/proto/proto.c lib/proto/http1.c lib/proto/http2.c lib/http1_lines.c lib/span.c lib/jsonw.c lib/output.c
/*
 * Capture events as the ring buffer could deliver them, one connection's worth, into
 * the parser: arbitrary directions, lengths, copied starts and ends (tail), gaps from
 * dropped events, sendfile-style unseen bytes, and fields that disagree with each other
 * (more captured than moved or present, a tail longer than the copy). Checked: nothing
 * crashes or reads out of bounds, and spans never count more bytes than were moved.
 *
 * Input: a setup byte (role, midstream), then events: a 12-byte control block
 *   [0] flags: bit0 dir, bit1 unseen, bit2 close event, bit3 gap egress, bit4 gap ingress,
 *       bit5 the payload is HTTP/2 walk segments (arbitrary offsets and lengths)
 *   [1..2] captured, [3..4] tail, [5..8] extra bytes moved beyond captured, [9..11] gap
 * With the unseen bit, the extra bytes are instead added to the running unseen total of
 * the event's direction, which the event then carries (as the kernel's do), moving no
 * bytes of its own.
 * followed by up to `captured` payload bytes (fewer at the end of the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture_feed.h"

struct totals {
	uint64_t moved[2];
	uint64_t counted[2];
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static int count(struct span_sink *sink, const struct span *s)
{
	struct totals *t = sink->ctx;

	check(s->method && s->target && s->host);
	t->counted[0] += s->req_bytes;
	t->counted[1] += s->resp_bytes;
	json_decref(span_to_json(s, true));
	return 0;
}

static uint32_t le(const uint8_t *p, int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct span_clock clock = { 1000, 1700000000000000000ull };
	struct httpconn_opts opts = { .clock = &clock };
	struct httpconn_info info = { .conn_id = 1, .pid = 1, .source = SPAN_SOURCE_SYSCALL };
	struct totals t = { { 0 } };
	struct capture_feed_pos pos = { { 0 } };
	__u64 unseen[2] = { 0, 0 };
	struct span_sink sink = { count, &t };
	struct httpconn *conn;
	uint64_t ts = 2000;

	if (size < 1)
		return 0;
	info.role = data[0] % 3;
	info.midstream = data[0] & 4;
	data++, size--;
	conn = httpconn_new(&info, &opts);
	if (!conn)
		return 0;
	while (size >= 12) {
		struct capture_event ev;
		size_t avail;
		int rc;

		memset(&ev, 0, sizeof(ev));
		ev.type = data[0] & 4 ? CAPTURE_EV_CLOSE : CAPTURE_EV_DATA;
		ev.dir = data[0] & 1;
		ev.flags = data[0] & 0x20 ? CAPTURE_DF_SEGMENTS : 0;
		ev.captured = le(data + 1, 2);
		ev.tail = le(data + 3, 2);
		ev.len = (uint64_t)ev.captured + (le(data + 5, 4) & 0xffffff);
		if (data[0] & 2) {
			unseen[ev.dir] += ev.len - ev.captured;
			ev.len = ev.captured = 0;
		}
		ev.unseen[0] = unseen[0];
		ev.unseen[1] = unseen[1];
		ev.unseen_ts = ts;
		if (data[0] & 8)
			ev.gap[CAPTURE_EGRESS] = le(data + 9, 3);
		if (data[0] & 16)
			ev.gap[CAPTURE_INGRESS] = le(data + 9, 3);
		ev.ts_ns = ts += 1000;
		data += 12, size -= 12;
		avail = size < ev.captured ? size : ev.captured;
		/* Copy to the heap so reads past what the event holds are caught. */
		uint8_t *payload = malloc(avail ? avail : 1);
		check(payload != NULL);
		memcpy(payload, data, avail);
		rc = capture_feed(conn, &pos, &ev, payload, avail, &sink);
		free(payload);
		data += avail, size -= avail;
		check(rc >= 0);
		t.moved[CAPTURE_EGRESS] += ev.gap[CAPTURE_EGRESS];
		t.moved[CAPTURE_INGRESS] += ev.gap[CAPTURE_INGRESS];
		if (ev.type == CAPTURE_EV_DATA)
			t.moved[ev.dir] += ev.len;
		if (rc == HTTPCONN_NOT_HTTP || ev.type == CAPTURE_EV_CLOSE)
			break;
	}
	httpconn_close(conn, ts + 1000, &sink);
	/* Requests and responses go opposite ways; whichever way, never more than moved. */
	check(t.counted[0] + t.counted[1] <= t.moved[0] + t.moved[1] + pos.unseen[0] + pos.unseen[1]);
	check(pos.unseen[0] <= unseen[0] && pos.unseen[1] <= unseen[1]);
	return 0;
}
