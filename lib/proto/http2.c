// SPDX-License-Identifier: GPL-2.0-only
/*
 * Each direction is a byte stream of frames: the client's starts with the preface.
 * A frame header (9 bytes) is gathered across feeds; payloads that matter (header
 * blocks, RST_STREAM, SETTINGS, GOAWAY) are kept, DATA payloads only counted. A header
 * block (HEADERS or PUSH_PROMISE, then CONTINUATION frames) is decoded when its last
 * fragment arrives, by that direction's HPACK inflater: decoding is in order, per
 * direction, as the peers' own decoders do it.
 *
 * Bytes not captured inside a payload of known length just shorten it. A gap over a
 * frame header loses the framing: the direction looks for a plausible frame header at
 * the start of the following feeds (a syscall's first byte is mostly a frame's first
 * byte). A header block that was not seen whole leaves the inflater's dynamic table
 * unknown: from then on that direction decodes with the table of entries added since
 * (see "unseen tables" below), and fields that name older entries are unknown.
 *
 * Streams are spans: the request is what the client sent on it (HEADERS, DATA,
 * trailers), the response what the server sent, up to END_STREAM both ways or a
 * RST_STREAM. Which direction is the client's comes from the role, the preface, or a
 * header block's pseudo-header fields (:method or :status) on a connection picked up
 * mid-stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "http1_lines.h"
#include "proto/http2.h"
#include "proto/proto.h"

#define FT_DATA 0x0
#define FT_HEADERS 0x1
#define FT_PRIORITY 0x2
#define FT_RST_STREAM 0x3
#define FT_SETTINGS 0x4
#define FT_PUSH_PROMISE 0x5
#define FT_PING 0x6
#define FT_GOAWAY 0x7
#define FT_WINDOW_UPDATE 0x8
#define FT_CONTINUATION 0x9

#define FF_END_STREAM 0x1
#define FF_ACK 0x1
#define FF_END_HEADERS 0x4
#define FF_PADDED 0x8
#define FF_PRIORITY 0x20

#define SETTINGS_HEADER_TABLE_SIZE 0x1
#define SETTINGS_MAX_FRAME_SIZE 0x5
#define HPACK_DEFAULT_TABLE 4096
#define DEFAULT_MAX_FRAME 16384

#define MAX_STREAMS 1024	   /* streams followed at once per connection */
#define MAX_KEPT_PAYLOAD (1u << 16) /* bytes kept of one frame's payload */
#define MAX_BLOCK (1u << 18)	   /* bytes kept of one header block */
#define SYNC_MAX_FRAME (1u << 20)  /* mid-stream, larger frames do not resynchronise */
#define DEFAULT_HEADER_BYTES 4096
#define TARGET_MAX 4096
#define HOST_MAX 256
#define GRPC_MESSAGE_MAX 512
/* Feeds a connection may spend looking for a frame before it is judged not HTTP/2 */
#define SYNC_TRIES 64
#define REDACTED "[redacted]"

enum dstate {
	D_START,   /* nothing seen: a preface or a frame */
	D_PREFACE, /* inside the client preface */
	D_HEAD,	   /* gathering a frame header */
	D_PAYLOAD, /* inside a frame's payload */
	D_SYNC,	   /* framing lost: look for a frame header at the next feed's start */
};

struct buf {
	char *p;
	uint32_t len, cap;
};

/* An HPACK entry known in a direction whose table is not known whole. */
struct known {
	char *name, *value;
	uint32_t name_len, value_len;
};

struct hdir {
	uint8_t state;		  /* enum dstate */
	uint8_t preface_seen;	  /* D_PREFACE: bytes of it matched */
	uint8_t hlen;		  /* D_HEAD: header bytes gathered */
	uint8_t h[HTTP2_FRAME_HEADER_LEN];
	uint8_t type, fflags;
	uint32_t sid, plen, left; /* the frame being read; payload bytes left */
	uint64_t frame_ts;	  /* when its first byte went */
	uint32_t frame_tid;
	bool keep, lost;	  /* its payload is kept; part of it was not seen */
	bool counted;		  /* its bytes count toward its stream */
	struct buf pl;
	/* a header block across HEADERS/PUSH_PROMISE + CONTINUATION */
	bool in_block, block_lost, block_push, block_end_stream;
	uint32_t block_sid;
	struct buf blk;
	nghttp2_hd_inflater *inf;
	/* Unseen tables: the inflater's table is not known. Entries added since, newest
	 * first, are (they are always the newest); older ones are not. */
	bool unseen;
	struct known *kn;
	uint32_t nkn, kn_cap;
	uint64_t kn_size;
	uint32_t table_max;	  /* what this direction's encoder may use (peer's SETTINGS) */
	uint32_t max_frame;	  /* largest frame this direction may send (peer's SETTINGS) */
};

/* What one side of a stream sent: by direction (enum httpconn_dir). */
struct half {
	bool headers, ended;
	uint64_t bytes;
	struct buf hdrs;
};

struct stream {
	uint32_t id;
	uint64_t start_ts, end_ts;
	uint32_t tid, flags;
	bool reset, grpc, has_parent, final_status;
	int32_t grpc_status;
	uint16_t status;
	uint8_t trace_id[SPAN_TRACE_ID_LEN], parent_id[SPAN_SPAN_ID_LEN], span_id[SPAN_SPAN_ID_LEN];
	char method[HTTP1_METHOD_MAX + 1];
	struct buf target, host, grpc_message;
	struct half h[2];
};

struct http2 {
	struct httpconn_info info;
	struct httpconn_opts opts;
	int state;   /* enum httpconn_state */
	int req_dir; /* the client's direction, -1 until known */
	int err;
	struct span_sink *sink;
	struct hdir d[2];
	struct stream **st;
	uint32_t nst, st_cap;
	nghttp2_hd_inflater *scratch; /* decodes single representations for unseen tables */
	uint32_t sync_tries;
	uint32_t max_sid; /* highest stream opened */
};

/* ---- small pieces ------------------------------------------------------------------ */

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get31(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) & 0x7fffffffu;
}

static uint64_t wall(const struct http2 *c, uint64_t ts)
{
	return c->opts.clock ? span_clock_wall(c->opts.clock, ts) : ts;
}

/* Room for @need bytes in all (doubling). */
static bool buf_grow(struct buf *b, size_t need)
{
	uint32_t cap = b->cap ? b->cap : 64;
	char *p;

	if (need <= b->cap)
		return true;
	while (cap < need)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

/* Append up to @max bytes in all; strings shown in spans keep to printable ASCII
 * (@block: tabs and line endings too). False when something did not fit. */
static bool buf_add(struct buf *b, const void *data, size_t n, uint32_t max, bool block)
{
	size_t room = max > b->len ? max - b->len : 0, take = n < room ? n : room;
	const unsigned char *s = data;

	if (!buf_grow(b, b->len + take + 1))
		return false;
	for (size_t i = 0; i < take; i++) {
		unsigned char ch = s[i];

		b->p[b->len + i] = (ch >= 0x20 && ch < 0x7f) ||
					   (block && (ch == '\t' || ch == '\r' || ch == '\n'))
				       ? (char)ch
				       : '?';
	}
	b->len += take;
	b->p[b->len] = '\0';
	return take == n;
}

/* Raw bytes (payloads, header blocks): no cleaning. */
static bool buf_raw(struct buf *b, const uint8_t *data, size_t n, uint32_t max)
{
	if (!n)
		return true;
	if (b->len + n > max || !buf_grow(b, b->len + n))
		return false;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return true;
}

static const char *buf_str(const struct buf *b)
{
	return b->p ? b->p : "";
}

static bool lower_eq(const uint8_t *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);

	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i];

		if (ch != (uint8_t)lit[i])
			return false;
	}
	return true;
}

/* ---- classification ---------------------------------------------------------------- */

bool http2_frame_plausible(const uint8_t *h)
{
	uint32_t len = get24(h), sid = get31(h + 5);
	uint8_t type = h[3], fl = h[4];

	if (h[5] & 0x80)
		return false; /* the reserved bit */
	switch (type) {
	case FT_DATA:
		return sid && !(fl & ~(FF_END_STREAM | FF_PADDED));
	case FT_HEADERS:
		return sid && len && !(fl & ~(FF_END_STREAM | FF_END_HEADERS | FF_PADDED | FF_PRIORITY));
	case FT_PRIORITY:
		return sid && len == 5 && !fl;
	case FT_RST_STREAM:
		return sid && len == 4 && !fl;
	case FT_SETTINGS:
		return !sid && len % 6 == 0 && !(fl & ~FF_ACK) && (!(fl & FF_ACK) || !len);
	case FT_PUSH_PROMISE:
		return sid && len >= 4 && !(fl & ~(FF_END_HEADERS | FF_PADDED));
	case FT_PING:
		return !sid && len == 8 && !(fl & ~FF_ACK);
	case FT_GOAWAY:
		return !sid && len >= 8 && !fl;
	case FT_WINDOW_UPDATE:
		return len == 4 && !fl;
	case FT_CONTINUATION:
		return sid && !(fl & ~FF_END_HEADERS);
	}
	return false;
}

int http2_classify(const uint8_t *data, uint32_t len, int dir)
{
	uint32_t n = len < HTTP2_PREFACE_LEN ? len : HTTP2_PREFACE_LEN;
	uint8_t h[HTTP2_FRAME_HEADER_LEN] = { 0 };

	(void)dir;
	if (n && !memcmp(data, HTTP2_PREFACE, n))
		return n == HTTP2_PREFACE_LEN ? HTTP2_YES : HTTP2_MAYBE;
	/* A server's first frame: SETTINGS without ACK on stream 0, whole entries. The
	 * bytes not there yet are taken as the ones that would pass. */
	memcpy(h, data, len < sizeof(h) ? len : sizeof(h));
	if (len < 4)
		h[3] = FT_SETTINGS;
	if ((len > 3 && h[3] != FT_SETTINGS) || (len > 4 && h[4]) || (len > 5 && h[5]) ||
	    (len > 6 && h[6]) || (len > 7 && h[7]) || (len > 8 && h[8]))
		return HTTP2_NO;
	if (len >= 3 && get24(h) % 6)
		return HTTP2_NO;
	return len >= HTTP2_FRAME_HEADER_LEN ? HTTP2_YES : HTTP2_MAYBE;
}

/* ---- streams ----------------------------------------------------------------------- */

static struct stream *stream_find(struct http2 *c, uint32_t id)
{
	/* Newest first: the stream a frame is for is mostly one of the last opened. */
	for (uint32_t i = c->nst; i-- > 0;)
		if (c->st[i]->id == id)
			return c->st[i];
	return NULL;
}

static struct stream *stream_open(struct http2 *c, uint32_t id, uint64_t ts, uint32_t tid)
{
	struct stream *s;

	if (c->nst == MAX_STREAMS)
		return NULL;
	if (c->nst == c->st_cap) {
		uint32_t cap = c->st_cap ? c->st_cap * 2 : 8;
		struct stream **p = realloc(c->st, cap * sizeof(*p));

		if (!p)
			return NULL;
		c->st = p;
		c->st_cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->id = id;
	s->start_ts = s->end_ts = ts;
	s->tid = tid;
	s->grpc_status = -1;
	/* ids at the request's start: a traceparent in its headers replaces the trace id */
	span_new_id(s->span_id);
	span_new_trace_id(s->trace_id);
	c->st[c->nst++] = s;
	if (id > c->max_sid)
		c->max_sid = id;
	return s;
}

static void stream_free(struct stream *s)
{
	free(s->target.p);
	free(s->host.p);
	free(s->grpc_message.p);
	free(s->h[0].hdrs.p);
	free(s->h[1].hdrs.p);
	free(s);
}

static void stream_remove(struct http2 *c, struct stream *s)
{
	for (uint32_t i = 0; i < c->nst; i++) {
		if (c->st[i] == s) {
			memmove(c->st + i, c->st + i + 1, (c->nst - i - 1) * sizeof(*c->st));
			c->nst--;
			break;
		}
	}
	stream_free(s);
}

/* "/pkg.Service/Method": the service and the method, when :path has that shape. */
static void grpc_names(const char *path, char *svc, size_t svc_cap, char *meth, size_t meth_cap)
{
	const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	size_t n;

	svc[0] = meth[0] = '\0';
	if (!slash)
		return;
	n = slash - path - 1;
	snprintf(svc, svc_cap, "%.*s", (int)(n < svc_cap ? n : svc_cap - 1), path + 1);
	snprintf(meth, meth_cap, "%s", slash + 1);
}

/* Hand out the span of @s (its request was seen), then forget it. */
static void stream_emit(struct http2 *c, struct stream *s, uint32_t flags)
{
	char svc[256], meth[256];
	int rq = c->req_dir, rs = !c->req_dir;
	struct span sp;
	int err;

	if (c->req_dir < 0 || !s->h[rq].headers || !c->sink || c->err) {
		stream_remove(c, s);
		return;
	}
	memset(&sp, 0, sizeof(sp));
	sp.start_ns = wall(c, s->start_ts);
	sp.end_ns = wall(c, s->end_ts < s->start_ts ? s->start_ts : s->end_ts);
	sp.pid = c->info.pid;
	sp.tid = s->tid;
	memcpy(sp.comm, c->info.comm, sizeof(sp.comm));
	sp.comm[sizeof(sp.comm) - 1] = '\0';
	sp.role = rq == HTTPCONN_INGRESS ? SPAN_ROLE_SERVER : SPAN_ROLE_CLIENT;
	sp.source = c->info.source;
	sp.http_major = 2;
	sp.http_minor = 0;
	sp.flags = s->flags | flags | (c->info.midstream ? SPAN_F_MIDSTREAM : 0);
	/* no response end, or an end without a response head (its HEADERS were lost) */
	if ((!s->h[rs].ended && !(s->reset && s->final_status)) || (!s->h[rs].headers && !s->reset))
		sp.flags |= SPAN_F_PARTIAL;
	sp.local = c->info.local;
	sp.remote = c->info.remote;
	sp.conn_id = c->info.conn_id;
	sp.method = s->method;
	sp.target = buf_str(&s->target);
	sp.host = buf_str(&s->host);
	sp.status = s->final_status ? s->status : 0;
	sp.req_bytes = s->h[rq].bytes;
	sp.resp_bytes = s->h[rs].bytes;
	sp.has_parent = s->has_parent;
	memcpy(sp.trace_id, s->trace_id, sizeof(sp.trace_id));
	memcpy(sp.parent_span_id, s->parent_id, sizeof(sp.parent_span_id));
	memcpy(sp.span_id, s->span_id, sizeof(sp.span_id));
	if (!c->opts.no_header_blocks) {
		sp.req_headers = s->h[rq].hdrs.p ? s->h[rq].hdrs.p : "";
		sp.req_headers_len = s->h[rq].hdrs.len;
		if (s->h[rs].headers) {
			sp.resp_headers = s->h[rs].hdrs.p ? s->h[rs].hdrs.p : "";
			sp.resp_headers_len = s->h[rs].hdrs.len;
		}
	}
	sp.stream_id = s->id;
	if (s->grpc) {
		grpc_names(sp.target, svc, sizeof(svc), meth, sizeof(meth));
		sp.grpc = true;
		sp.grpc_status = s->grpc_status;
		sp.grpc_service = svc;
		sp.grpc_method = meth;
		sp.grpc_message = s->grpc_message.p;
	}
	err = c->sink->emit(c->sink, &sp);
	if (err)
		c->err = err < 0 ? err : -EPIPE;
	stream_remove(c, s);
}

/* Both sides ended (or one reset it): the span is complete. */
static void stream_check_done(struct http2 *c, struct stream *s)
{
	if (c->req_dir < 0)
		return;
	if (s->reset || (s->h[0].ended && s->h[1].ended))
		stream_emit(c, s, 0);
}

/* ---- header fields ----------------------------------------------------------------- */

/* A decoded field of a header block that @dir sent on @s; @name NULL when the field
 * is unknown (an entry of an unseen table). */
static void field(struct http2 *c, struct stream *s, int dir, const uint8_t *name, size_t nlen,
		  const uint8_t *value, size_t vlen)
{
	struct half *h = &s->h[dir];
	uint32_t max = c->opts.max_header_bytes;
	bool ok = true;

	if (!name) {
		s->flags |= SPAN_F_HPACK_UNSEEN;
		return;
	}
	if (nlen && name[0] == ':') {
		if (lower_eq(name, nlen, ":method")) {
			size_t n = vlen < HTTP1_METHOD_MAX ? vlen : HTTP1_METHOD_MAX;

			for (size_t i = 0; i < n; i++)
				s->method[i] = value[i] >= 0x21 && value[i] < 0x7f ? value[i] : '?';
			s->method[n] = '\0';
			if (c->req_dir < 0)
				c->req_dir = dir;
		} else if (lower_eq(name, nlen, ":path")) {
			s->target.len = 0;
			if (!buf_add(&s->target, value, vlen, TARGET_MAX, false))
				s->flags |= SPAN_F_TRUNCATED;
		} else if (lower_eq(name, nlen, ":authority")) {
			s->host.len = 0;
			buf_add(&s->host, value, vlen, HOST_MAX, false);
		} else if (lower_eq(name, nlen, ":status")) {
			uint16_t st = 0;

			if (vlen == 3 && value[0] >= '1' && value[0] <= '5' && value[1] >= '0' &&
			    value[1] <= '9' && value[2] >= '0' && value[2] <= '9')
				st = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
			if (st >= 200) {
				s->status = st;
				s->final_status = true;
			}
			if (c->req_dir < 0)
				c->req_dir = !dir;
		}
		return; /* pseudo-header fields are the span's own fields, not its block */
	}
	if (lower_eq(name, nlen, "host") && !s->host.len) {
		buf_add(&s->host, value, vlen, HOST_MAX, false);
	} else if (lower_eq(name, nlen, "content-type")) {
		if (vlen >= 16 && lower_eq(value, 16, "application/grpc"))
			s->grpc = true;
	} else if (lower_eq(name, nlen, "grpc-status")) {
		int32_t v = 0;
		size_t i;

		for (i = 0; i < vlen && i < 9 && value[i] >= '0' && value[i] <= '9'; i++)
			v = v * 10 + (value[i] - '0');
		if (i && i == vlen)
			s->grpc_status = v;
	} else if (lower_eq(name, nlen, "grpc-message")) {
		s->grpc_message.len = 0;
		buf_add(&s->grpc_message, value, vlen, GRPC_MESSAGE_MAX, false);
	} else if (lower_eq(name, nlen, "traceparent")) {
		if (!s->has_parent)
			s->has_parent = span_parse_traceparent((const char *)value, vlen, s->trace_id,
							       s->parent_id);
	}
	if (c->opts.no_header_blocks) {
		/* no copy: only whether one would have fit */
		h->hdrs.len += nlen + vlen + 4;
		if (h->hdrs.len > max)
			s->flags |= SPAN_F_TRUNCATED;
		if (http1_field_kind((const char *)name, nlen) == HTTP1_F_CREDENTIAL && !c->opts.no_redact)
			s->flags |= SPAN_F_REDACTED;
		return;
	}
	ok = buf_add(&h->hdrs, name, nlen, max, true) && buf_add(&h->hdrs, ": ", 2, max, true);
	if (ok && http1_field_kind((const char *)name, nlen) == HTTP1_F_CREDENTIAL && !c->opts.no_redact) {
		ok = buf_add(&h->hdrs, REDACTED, sizeof(REDACTED) - 1, max, true);
		s->flags |= SPAN_F_REDACTED;
	} else if (ok) {
		ok = buf_add(&h->hdrs, value, vlen, max, true);
	}
	ok = ok && buf_add(&h->hdrs, "\r\n", 2, max, true);
	if (!ok)
		s->flags |= SPAN_F_TRUNCATED;
}

/* ---- unseen tables ------------------------------------------------------------------
 *
 * A direction whose dynamic table is not known is decoded one representation at a
 * time. Entries added since the table became unknown are the newest: they are kept
 * here (index 62 is the newest), with the size accounting of RFC 7541 4.1 so that
 * they are dropped when the encoder's table would have evicted them. Entries older
 * than those are never guessed. Strings (Huffman or not) and static-table entries are
 * decoded by libnghttp2, from a one-representation block that uses neither table.
 */

static void kn_clear(struct hdir *d)
{
	for (uint32_t i = 0; i < d->nkn; i++) {
		free(d->kn[i].name);
		free(d->kn[i].value);
	}
	d->nkn = 0;
	d->kn_size = 0;
}

static void kn_evict(struct hdir *d, uint64_t room)
{
	while (d->nkn && d->kn_size + room > d->table_max) {
		struct known *k = &d->kn[--d->nkn];

		d->kn_size -= k->name_len + k->value_len + 32;
		free(k->name);
		free(k->value);
	}
}

static void kn_insert(struct hdir *d, const uint8_t *name, size_t nlen, const uint8_t *value,
		      size_t vlen)
{
	uint64_t size = nlen + vlen + 32;
	struct known k;

	kn_evict(d, size);
	if (size > d->table_max)
		return; /* larger than the table: it empties it (done above) */
	if (d->nkn == d->kn_cap) {
		uint32_t cap = d->kn_cap ? d->kn_cap * 2 : 16;
		struct known *p = realloc(d->kn, cap * sizeof(*p));

		if (!p) {
			kn_clear(d);
			return;
		}
		d->kn = p;
		d->kn_cap = cap;
	}
	k.name = malloc(nlen + 1);
	k.value = malloc(vlen + 1);
	if (!k.name || !k.value) {
		free(k.name);
		free(k.value);
		kn_clear(d);
		return;
	}
	if (nlen)
		memcpy(k.name, name, nlen);
	if (vlen)
		memcpy(k.value, value, vlen);
	k.name_len = nlen;
	k.value_len = vlen;
	memmove(d->kn + 1, d->kn, d->nkn * sizeof(*d->kn));
	d->kn[0] = k;
	d->nkn++;
	d->kn_size += size;
}

/* An HPACK integer with an @bits-bit prefix at *@p. */
static bool hp_int(const uint8_t **p, const uint8_t *end, int bits, uint64_t *out)
{
	uint64_t max = (1u << bits) - 1, v;
	int shift = 0;

	if (*p >= end)
		return false;
	v = **p & max;
	(*p)++;
	if (v < max) {
		*out = v;
		return true;
	}
	while (*p < end && shift <= 28) {
		uint8_t b = *(*p)++;

		v += (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* A string literal at *@p: its representation (length prefix included). */
static bool hp_str(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	const uint8_t *start = *p;
	uint64_t len;

	if (!hp_int(p, end, 7, &len) || len > (uint64_t)(end - *p))
		return false;
	*p += len;
	*s = start;
	*n = *p - start;
	return true;
}

/* Decode a one-representation block with the scratch inflater into @nb (unless NULL)
 * and @vb: @rep must use no table but the static one and add nothing. The strings are
 * copied: the inflater frees them when the block ends. */
static bool scratch_decode(struct http2 *c, const uint8_t *rep, size_t n, struct buf *nb,
			   struct buf *vb)
{
	nghttp2_nv nv;
	bool ok = false;
	ssize_t rv;
	int fl;

	if (!c->scratch && nghttp2_hd_inflate_new(&c->scratch))
		return false;
	for (;;) {
		fl = 0;
		rv = nghttp2_hd_inflate_hd2(c->scratch, &nv, &fl, rep, n, 1);
		if (rv < 0) {
			/* A failed inflater stays failed: start a fresh one next time. */
			nghttp2_hd_inflate_del(c->scratch);
			c->scratch = NULL;
			return false;
		}
		rep += rv;
		n -= rv;
		if (fl & NGHTTP2_HD_INFLATE_EMIT) {
			if (nb)
				nb->len = 0;
			vb->len = 0;
			ok = (!nb || buf_raw(nb, nv.name, nv.namelen, MAX_BLOCK)) &&
			     buf_raw(vb, nv.value, nv.valuelen, MAX_BLOCK);
			break;
		}
		if ((fl & NGHTTP2_HD_INFLATE_FINAL) || !n)
			break;
	}
	nghttp2_hd_inflate_end_headers(c->scratch);
	return ok;
}

/* Entry @idx of the tables as far as they are known: false when it is unknown. The
 * name and value are copied to @nbuf/@vbuf (the scratch inflater's memory does not
 * outlive its next call). */
static bool table_entry(struct http2 *c, struct hdir *d, uint64_t idx, struct buf *nb, struct buf *vb)
{
	uint8_t rep = 0x80 | (uint8_t)idx;

	nb->len = vb->len = 0;
	if (idx >= 1 && idx <= 61)
		return scratch_decode(c, &rep, 1, nb, vb);
	if (idx >= 62 && idx - 62 < d->nkn) {
		struct known *k = &d->kn[idx - 62];

		return buf_raw(nb, (uint8_t *)k->name, k->name_len, MAX_BLOCK) &&
		       buf_raw(vb, (uint8_t *)k->value, k->value_len, MAX_BLOCK);
	}
	return false;
}

/* Decode a literal's strings: @name_rep is the name's string literal (NULL when the
 * name came from a table), @val_rep the value's. */
static bool literal_strings(struct http2 *c, const uint8_t *name_rep, size_t name_n,
			    const uint8_t *val_rep, size_t val_n, struct buf *nb, struct buf *vb)
{
	struct buf rep = { 0 };
	bool ok;

	/* "literal without indexing, new name": 0x00, name, value */
	ok = buf_raw(&rep, (const uint8_t *)"\0", 1, MAX_BLOCK) &&
	     buf_raw(&rep, name_rep ? name_rep : (const uint8_t *)"\001x", name_rep ? name_n : 2, MAX_BLOCK) &&
	     buf_raw(&rep, val_rep, val_n, MAX_BLOCK) &&
	     scratch_decode(c, (uint8_t *)rep.p, rep.len, name_rep ? nb : NULL, vb);
	free(rep.p);
	return ok;
}

/* Decode a header block of direction @d whose table is not known whole. Returns false
 * when the block does not parse (the rest of it is lost). */
static bool decode_unseen(struct http2 *c, struct hdir *d, struct stream *s, int dir,
			  const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	struct buf nb = { 0 }, vb = { 0 };
	bool ok = true;

	while (ok && p < end) {
		uint8_t b = *p;
		uint64_t idx;
		bool incr = false, known_name;
		const uint8_t *nrep = NULL, *vrep;
		size_t nn = 0, vn;

		if (b & 0x80) { /* indexed field */
			if (!hp_int(&p, end, 7, &idx) || !idx) {
				ok = false;
				break;
			}
			if (table_entry(c, d, idx, &nb, &vb)) {
				if (s)
					field(c, s, dir, (uint8_t *)nb.p, nb.len, (uint8_t *)vb.p, vb.len);
			} else if (s) {
				field(c, s, dir, NULL, 0, NULL, 0);
			}
			continue;
		}
		if ((b & 0xe0) == 0x20) { /* dynamic table size update */
			if (!hp_int(&p, end, 5, &idx)) {
				ok = false;
				break;
			}
			d->table_max = idx < UINT32_MAX ? (uint32_t)idx : UINT32_MAX;
			kn_evict(d, 0);
			continue;
		}
		incr = (b & 0xc0) == 0x40;
		if (!hp_int(&p, end, incr ? 6 : 4, &idx)) {
			ok = false;
			break;
		}
		if (!idx && !hp_str(&p, end, &nrep, &nn)) {
			ok = false;
			break;
		}
		if (!hp_str(&p, end, &vrep, &vn)) {
			ok = false;
			break;
		}
		known_name = !idx || table_entry(c, d, idx, &nb, &vb);
		if (!literal_strings(c, nrep, nn, vrep, vn, &nb, &vb)) {
			ok = false;
			break;
		}
		if (s)
			field(c, s, dir, known_name ? (uint8_t *)nb.p : NULL, nb.len, (uint8_t *)vb.p, vb.len);
		if (incr) {
			if (known_name)
				kn_insert(d, (uint8_t *)nb.p, nb.len, (uint8_t *)vb.p, vb.len);
			else
				kn_clear(d); /* the newest entry is unknown: so is every index */
		}
	}
	free(nb.p);
	free(vb.p);
	return ok;
}

/* The table of @d is not known from here on. */
static void lose_table(struct hdir *d)
{
	if (!d->unseen) {
		d->unseen = true;
		kn_clear(d);
	}
}

/* Decode with the inflater: false (and the table lost) when it fails. */
static bool decode_seen(struct http2 *c, struct hdir *d, struct stream *s, int dir,
			const uint8_t *p, size_t n)
{
	int fl;
	ssize_t rv;
	nghttp2_nv nv;

	if (!d->inf) {
		if (nghttp2_hd_inflate_new(&d->inf))
			return false;
		if (d->table_max != HPACK_DEFAULT_TABLE)
			nghttp2_hd_inflate_change_table_size(d->inf, d->table_max);
	}
	for (;;) {
		fl = 0;
		rv = nghttp2_hd_inflate_hd2(d->inf, &nv, &fl, p, n, 1);
		if (rv < 0)
			return false;
		p += rv;
		n -= rv;
		if ((fl & NGHTTP2_HD_INFLATE_EMIT) && s)
			field(c, s, dir, nv.name, nv.namelen, nv.value, nv.valuelen);
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inf);
			return true;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n)
			return false;
	}
}

/* A whole header block of @dir for stream @sid arrived. */
static void block_done(struct http2 *c, int dir, uint64_t ts)
{
	struct hdir *d = &c->d[dir];
	struct stream *s = d->block_push ? NULL : stream_find(c, d->block_sid);
	const uint8_t *p = d->blk.p ? (const uint8_t *)d->blk.p : (const uint8_t *)"";

	/* Trailers (a later block) go on in the same header block of the span. */
	d->in_block = false;
	if (s)
		s->h[dir].headers = true;
	if (d->block_lost) {
		if (s)
			s->flags |= SPAN_F_HPACK_UNSEEN | SPAN_F_TRUNCATED;
		lose_table(d);
	} else if (!d->unseen) {
		if (!decode_seen(c, d, s, dir, p, d->blk.len)) {
			/* What the inflater took of it is unknown: decode it again as an
			 * unseen table would, from the start. */
			nghttp2_hd_inflate_del(d->inf);
			d->inf = NULL;
			lose_table(d);
			if (s)
				s->flags |= SPAN_F_HPACK_UNSEEN;
		}
	} else if (!decode_unseen(c, d, s, dir, p, d->blk.len)) {
		kn_clear(d);
		if (s)
			s->flags |= SPAN_F_HPACK_UNSEEN | SPAN_F_TRUNCATED;
	}
	d->blk.len = 0;
	if (s && d->block_end_stream) {
		s->h[dir].ended = true;
		s->end_ts = ts;
		stream_check_done(c, s);
	}
}

/* ---- frames ------------------------------------------------------------------------ */

/* SETTINGS from @dir: a header table size it allows the other direction's encoder. */
static void settings(struct http2 *c, int dir, const uint8_t *p, uint32_t n)
{
	struct hdir *o = &c->d[!dir];

	for (uint32_t i = 0; i + 6 <= n; i += 6) {
		uint16_t id = (uint16_t)(p[i] << 8 | p[i + 1]);
		uint32_t v = (uint32_t)p[i + 2] << 24 | (uint32_t)p[i + 3] << 16 | (uint32_t)p[i + 4] << 8 | p[i + 5];

		if (id == SETTINGS_MAX_FRAME_SIZE && v >= DEFAULT_MAX_FRAME && v < (1u << 24))
			o->max_frame = v;
		if (id != SETTINGS_HEADER_TABLE_SIZE)
			continue;
		o->table_max = v;
		/* The encoder says when it uses the new size (a size update in a block);
		 * the inflater must allow it from now. Blocks are inflated whole, so this
		 * never falls inside one. */
		if (o->inf)
			nghttp2_hd_inflate_change_table_size(o->inf, v);
		if (o->unseen)
			kn_evict(o, 0);
	}
}

/* A frame's header is complete. */
static void frame_begin(struct http2 *c, int dir)
{
	struct hdir *d = &c->d[dir];
	struct stream *s;

	d->plen = d->left = get24(d->h);
	d->type = d->h[3];
	d->fflags = d->h[4];
	d->sid = get31(d->h + 5);
	d->lost = false;
	d->pl.len = 0;
	d->keep = d->type == FT_HEADERS || d->type == FT_CONTINUATION || d->type == FT_PUSH_PROMISE ||
		  d->type == FT_RST_STREAM || d->type == FT_SETTINGS || d->type == FT_GOAWAY;
	if (d->in_block && d->type != FT_CONTINUATION) {
		/* a block never finished: the protocol broke, the table is unknown */
		d->in_block = false;
		lose_table(d);
	}
	/* A stream's bytes are its messages' frames: flow control and priority frames
	 * (which may also come after the stream ended) are the connection's business. */
	d->counted = d->sid && d->type != FT_WINDOW_UPDATE && d->type != FT_PRIORITY;
	if (d->sid) {
		s = stream_find(c, d->sid);
		if (!s && d->type == FT_HEADERS && !d->in_block)
			s = stream_open(c, d->sid, d->frame_ts, d->frame_tid);
		if (s && d->counted)
			s->h[dir].bytes += HTTP2_FRAME_HEADER_LEN;
	}
}

/* @n more bytes of the current frame's payload went by: they count toward its stream
 * as they go, so that a connection cut mid-frame counts only what moved. */
static void account(struct http2 *c, int dir, uint64_t n)
{
	struct hdir *d = &c->d[dir];
	struct stream *s = d->counted ? stream_find(c, d->sid) : NULL;

	if (s)
		s->h[dir].bytes += n;
}

/* A frame's payload is complete (@d->pl holds it when kept). */
static void frame_end(struct http2 *c, int dir, uint64_t ts)
{
	struct hdir *d = &c->d[dir];
	const uint8_t *p = d->pl.p ? (const uint8_t *)d->pl.p : (const uint8_t *)"";
	uint32_t n = d->pl.len, pad = 0, skip = 0;
	struct stream *s = d->sid ? stream_find(c, d->sid) : NULL;

	d->state = D_HEAD;
	d->hlen = 0;
	switch (d->type) {
	case FT_DATA:
		if (s && (d->fflags & FF_END_STREAM)) {
			s->h[dir].ended = true;
			s->end_ts = ts;
			stream_check_done(c, s);
		} else if (s) {
			s->end_ts = ts;
		}
		return;
	case FT_HEADERS:
	case FT_PUSH_PROMISE:
		d->in_block = true;
		d->block_sid = d->sid;
		d->block_push = d->type == FT_PUSH_PROMISE;
		d->block_end_stream = d->type == FT_HEADERS && (d->fflags & FF_END_STREAM);
		d->block_lost = d->lost;
		d->blk.len = 0;
		if (d->fflags & FF_PADDED) {
			if (n < 1)
				d->block_lost = true;
			else
				pad = p[0], skip = 1;
		}
		if (d->type == FT_HEADERS && (d->fflags & FF_PRIORITY))
			skip += 5;
		if (d->type == FT_PUSH_PROMISE)
			skip += 4;
		if (skip + pad > n) {
			d->block_lost = true;
			skip = pad = 0;
		}
		if (!d->block_lost && !buf_raw(&d->blk, p + skip, n - skip - pad, MAX_BLOCK))
			d->block_lost = true;
		break;
	case FT_CONTINUATION:
		if (!d->in_block || d->sid != d->block_sid)
			return;
		d->block_lost |= d->lost;
		if (!d->block_lost && !buf_raw(&d->blk, p, n, MAX_BLOCK))
			d->block_lost = true;
		break;
	case FT_RST_STREAM:
		if (s) {
			s->reset = true;
			s->end_ts = ts;
			stream_check_done(c, s);
		}
		return;
	case FT_SETTINGS:
		if (!(d->fflags & FF_ACK) && !d->lost)
			settings(c, dir, p, n);
		return;
	case FT_GOAWAY:
		/* Streams above the last one the sender processed will never be answered
		 * (when the sender is the one that would answer them). */
		if (n >= 8 && !d->lost && c->req_dir >= 0 && dir != c->req_dir) {
			uint32_t last = get31(p);

			for (uint32_t i = c->nst; i-- > 0;) {
				s = c->st[i];
				if (s->id > last && (s->id & 1)) {
					s->end_ts = ts;
					stream_emit(c, s, SPAN_F_PARTIAL);
				}
			}
		}
		return;
	default:
		return;
	}
	if (d->fflags & FF_END_HEADERS)
		block_done(c, dir, ts);
}

/* Would a resynchronisation of @d at @p (@n bytes there) start at a frame? Besides
 * looking like one, it must fit the peer's frame size and be for the connection, a
 * stream followed, or a new stream: a wrong guess would read payload as frames. */
static bool sync_here(struct http2 *c, const struct hdir *d, const uint8_t *p, size_t n)
{
	uint32_t len, sid;

	if (n < HTTP2_FRAME_HEADER_LEN || !http2_frame_plausible(p))
		return false;
	len = get24(p);
	sid = get31(p + 5);
	if (len > d->max_frame)
		return false;
	if (sid && !stream_find(c, sid) && !(p[3] == FT_HEADERS && sid > c->max_sid))
		return false;
	/* when the next frame's header is in the bytes too, it must pass as well */
	if (n >= (size_t)HTTP2_FRAME_HEADER_LEN * 2 + len)
		return http2_frame_plausible(p + HTTP2_FRAME_HEADER_LEN + len);
	return true;
}

static void parse(struct http2 *c, int dir, const uint8_t *p, size_t n, uint64_t ts, uint32_t tid)
{
	struct hdir *d = &c->d[dir];
	const uint8_t *end = p + n;

	if (d->state == D_SYNC) {
		if (!sync_here(c, d, p, n))
			return;
		d->state = D_HEAD;
		d->hlen = 0;
		d->in_block = false;
	}
	while (p < end && !c->err) {
		size_t avail = end - p, take;

		switch (d->state) {
		case D_START: {
			size_t k = avail < HTTP2_PREFACE_LEN ? avail : HTTP2_PREFACE_LEN;

			if (!memcmp(p, HTTP2_PREFACE, k)) {
				d->state = D_PREFACE;
				if (c->req_dir < 0)
					c->req_dir = dir;
			} else {
				d->state = D_HEAD;
			}
			break;
		}
		case D_PREFACE:
			take = HTTP2_PREFACE_LEN - d->preface_seen;
			if (take > avail)
				take = avail;
			if (memcmp(p, &HTTP2_PREFACE[d->preface_seen], take)) {
				d->state = D_SYNC;
				return;
			}
			d->preface_seen += take;
			p += take;
			if (d->preface_seen == HTTP2_PREFACE_LEN) {
				d->state = D_HEAD;
				d->hlen = 0;
			}
			break;
		case D_HEAD:
			if (!d->hlen) {
				d->frame_ts = ts;
				d->frame_tid = tid;
			}
			take = HTTP2_FRAME_HEADER_LEN - d->hlen;
			if (take > avail)
				take = avail;
			memcpy(d->h + d->hlen, p, take);
			d->hlen += take;
			p += take;
			if (d->hlen < HTTP2_FRAME_HEADER_LEN)
				break;
			frame_begin(c, dir);
			d->state = D_PAYLOAD;
			if (!d->left)
				frame_end(c, dir, ts);
			break;
		case D_PAYLOAD:
			take = avail < d->left ? avail : d->left;
			if (d->keep && !d->lost && !buf_raw(&d->pl, p, take, MAX_KEPT_PAYLOAD))
				d->lost = true;
			d->left -= take;
			p += take;
			account(c, dir, take);
			if (!d->left)
				frame_end(c, dir, ts);
			break;
		default:
			return;
		}
	}
}

/* @n bytes of @dir went by unseen. */
static void gap(struct http2 *c, int dir, uint64_t n, uint64_t ts)
{
	struct hdir *d = &c->d[dir];

	switch (d->state) {
	case D_PAYLOAD:
		/* DATA payloads are counted, never parsed: bytes unseen there lose nothing */
		account(c, dir, n < d->left ? n : d->left);
		if (n <= d->left) {
			d->left -= n;
			d->lost |= d->keep;
			if (!d->left)
				frame_end(c, dir, ts);
			return;
		}
		break; /* the payload's end, then at least one frame header unseen */
	case D_SYNC:
		return;
	default:
		break;
	}
	/* Framing lost: whatever was in those bytes, the table may have changed, and
	 * any open stream may have had frames there (its counts are short). */
	for (uint32_t i = 0; i < c->nst; i++)
		c->st[i]->flags |= SPAN_F_BODY_UNSEEN;
	d->state = D_SYNC;
	d->in_block = false;
	lose_table(d);
	if (d->inf) {
		nghttp2_hd_inflate_del(d->inf);
		d->inf = NULL;
	}
}

/* ---- the interface ----------------------------------------------------------------- */

struct http2 *http2_new(const struct httpconn_info *info, const struct httpconn_opts *opts)
{
	struct http2 *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->info = *info;
	if (opts)
		c->opts = *opts;
	if (!c->opts.max_header_bytes)
		c->opts.max_header_bytes = DEFAULT_HEADER_BYTES;
	c->state = HTTPCONN_UNKNOWN;
	c->req_dir = info->role == SPAN_ROLE_SERVER ? HTTPCONN_INGRESS
		     : info->role == SPAN_ROLE_CLIENT ? HTTPCONN_EGRESS
						      : -1;
	for (int i = 0; i < 2; i++) {
		c->d[i].table_max = HPACK_DEFAULT_TABLE;
		/* mid-stream, the peers' SETTINGS were not seen */
		c->d[i].max_frame = info->midstream ? SYNC_MAX_FRAME : DEFAULT_MAX_FRAME;
		/* Picked up mid-stream: neither the framing nor the tables are known. */
		c->d[i].state = info->midstream ? D_SYNC : D_START;
		c->d[i].unseen = info->midstream;
	}
	return c;
}

int http2_feed(struct http2 *c, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
	       uint32_t captured, uint64_t len, struct span_sink *sink)
{
	if (dir != HTTPCONN_EGRESS && dir != HTTPCONN_INGRESS)
		return c->state;
	if (captured > len)
		captured = len;
	if (!data)
		captured = 0;
	c->sink = sink;
	c->err = 0;
	if (captured) {
		parse(c, dir, data, captured, ts_ns, tid);
		if (c->state == HTTPCONN_UNKNOWN && c->d[dir].state != D_SYNC)
			c->state = HTTPCONN_HTTP;
		else if (c->state == HTTPCONN_UNKNOWN && ++c->sync_tries > SYNC_TRIES)
			c->state = HTTPCONN_NOT_HTTP;
	}
	if (len > captured)
		gap(c, dir, len - captured, ts_ns);
	c->sink = NULL;
	return c->err ? c->err : c->state;
}

void http2_upgraded(struct http2 *c, const struct http2_upgrade *up)
{
	int rq = c->req_dir < 0 ? HTTPCONN_EGRESS : c->req_dir;
	struct stream *s = stream_find(c, 1);

	if (!s)
		s = stream_open(c, 1, up->start_ts, up->tid);
	if (!s)
		return;
	c->req_dir = rq;
	snprintf(s->method, sizeof(s->method), "%s", up->method ? up->method : "");
	buf_add(&s->target, up->target ? up->target : "", up->target ? strlen(up->target) : 0, TARGET_MAX, false);
	buf_add(&s->host, up->host ? up->host : "", up->host ? strlen(up->host) : 0, HOST_MAX, false);
	if (up->req_headers && !c->opts.no_header_blocks)
		buf_add(&s->h[rq].hdrs, up->req_headers, up->req_headers_len, c->opts.max_header_bytes, true);
	s->start_ts = s->end_ts = up->start_ts;
	s->flags |= up->flags;
	s->has_parent = up->has_parent;
	memcpy(s->trace_id, up->trace_id, sizeof(s->trace_id));
	memcpy(s->parent_id, up->parent_id, sizeof(s->parent_id));
	s->h[rq].headers = s->h[rq].ended = true;
	s->h[rq].bytes += up->req_bytes;
	s->h[!rq].bytes += up->resp_bytes;
	c->state = HTTPCONN_HTTP;
}

void http2_close(struct http2 *c, uint64_t ts_ns, struct span_sink *sink)
{
	if (!c)
		return;
	c->sink = sink;
	c->err = 0;
	/* A stream's end stays its last frame's time. */
	while (c->nst)
		stream_emit(c, c->st[0], 0);
	free(c->st);
	for (int i = 0; i < 2; i++) {
		kn_clear(&c->d[i]);
		free(c->d[i].kn);
		free(c->d[i].pl.p);
		free(c->d[i].blk.p);
		if (c->d[i].inf)
			nghttp2_hd_inflate_del(c->d[i].inf);
	}
	if (c->scratch)
		nghttp2_hd_inflate_del(c->scratch);
	free(c);
}

/* ---- the protocol interface (lib/proto/proto.h) ------------------------------------- */

static void *proto_new(const struct httpconn_info *info, const struct httpconn_opts *opts)
{
	return http2_new(info, opts);
}

static int proto_feed(void *p, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
		      uint32_t captured, uint64_t len, struct span_sink *sink)
{
	return http2_feed(p, dir, ts_ns, tid, data, captured, len, sink);
}

static void proto_close(void *p, uint64_t ts_ns, struct span_sink *sink)
{
	http2_close(p, ts_ns, sink);
}

const struct proto_ops proto_http2 = {
	.name = "http2",
	.classify = http2_classify,
	.new = proto_new,
	.feed = proto_feed,
	.close = proto_close,
};
