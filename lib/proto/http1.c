// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/1.0 and 1.1 behind the protocol interface (proto/proto.h).
 *
 * Each direction of a connection is a byte stream parsed by one state machine: message
 * start, head lines, then the body as its framing says (Content-Length, chunked, until
 * close). The role maps directions to request and response streams. Requests are queued
 * as their start line arrives; a response pairs with the oldest unanswered request
 * (FIFO, so pipelining works) and the span is handed out when the response's last byte
 * is seen.
 *
 * Bytes are looked at once: lines are found with memchr and parsed in place when a
 * whole line sits in one feed; only a line split across feeds is copied, into a per
 * stream buffer allocated the first time that happens. Request slots and their string
 * buffers are reused, so a steady keep-alive connection does not allocate.
 *
 * Bytes that were not captured (past the snap length, sendfile) are counted. Inside a
 * body of known length they just shorten what remains; anywhere else the framing is
 * lost, and the stream looks for the next line that starts a message (as a connection
 * picked up mid-stream does), still counting bytes toward the message it was in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http1_lines.h"
#include "proto/http2.h"
#include "proto/proto.h"

#define MAX_PENDING 32	     /* requests queued per connection (pipelining depth) */
#define INLINE_PENDING 2     /* most connections have one request in flight */
#define LINE_MAX_BYTES 8192  /* longest head line buffered across feeds; longer is cut */
#define DEFAULT_HEADER_BYTES 4096
#define TARGET_MAX 4096	     /* target kept per request */
#define HOST_MAX 256
#define SYNC_BUDGET (1u << 20) /* captured bytes scanned for a first message start */
#define REDACTED "[redacted]"

enum kind { K_UNKNOWN = 0, K_REQ, K_RESP };

enum pstate {
	P_START,      /* at a message boundary: skip blank lines, then a start line */
	P_HEADERS,    /* header lines until the empty line */
	P_BODY_LEN,   /* Content-Length bytes remain */
	P_CHUNK_SIZE, /* a chunk-size line */
	P_CHUNK_DATA, /* chunk bytes remain */
	P_CHUNK_END,  /* the CRLF after chunk data */
	P_TRAILERS,   /* trailer lines until the empty line */
	P_BODY_CLOSE, /* response body delimited by the connection's close */
	P_SYNC,	      /* framing unknown: look for a line that starts a message */
	P_DEAD,	      /* nothing more to parse on this connection */
};

enum msg { M_NONE = 0, M_PENDING, M_ACTIVE };

struct sbuf {
	char *p;
	uint32_t len, cap;
};

struct req {
	uint64_t start_ts, bytes;
	uint32_t tid, flags;
	uint8_t major, minor;
	bool is_head, is_connect, has_parent;
	/* Minted at the start line, before the response: children and propagation need
	 * them first. An incoming traceparent replaces the trace id. */
	uint8_t trace_id[SPAN_TRACE_ID_LEN], parent_id[SPAN_SPAN_ID_LEN], span_id[SPAN_SPAN_ID_LEN];
	char method[HTTP1_METHOD_MAX + 1];
	struct sbuf target, host, hdrs;
};

struct resp {
	bool active; /* bytes of a response (and its 1xx predecessors) are being counted */
	bool paired; /* the oldest queued request is its request */
	bool decided; /* pairing was decided (paired, or a response to nothing tracked) */
	bool is_head, is_connect;
	bool h2c;        /* Upgrade: h2c (with a 101, the connection goes on in HTTP/2) */
	uint16_t status; /* final status */
	uint32_t flags;
	uint64_t start_ts, last_ts, bytes;
	struct sbuf hdrs;
};

struct stream {
	uint8_t kind;  /* enum kind */
	uint8_t state; /* enum pstate */
	uint8_t msg;   /* enum msg: is there a message to count bytes toward */
	bool line_cut;		   /* the buffered line lost bytes past LINE_MAX_BYTES */
	bool checked;		   /* the message start passed the first-bytes test */
	bool drop_fold;		   /* a redacted field's continuation lines are dropped */
	bool chunked, has_te, has_len, bad_len;
	bool at_line_start;	   /* SYNC: the next byte may start a message */
	uint8_t cand_len;	   /* SYNC: bytes of a possible message start */
	uint8_t cand[HTTP1_START_PREFIX_MAX];
	uint32_t linelen;
	char *line;		   /* LINE_MAX_BYTES, allocated on first use */
	uint64_t remaining;	   /* body or chunk bytes left */
	uint64_t content_length;
	uint64_t msg_ts, pre_bytes; /* M_PENDING: first byte's time, bytes so far */
	uint32_t msg_tid;
	uint64_t cand_ts;
	uint32_t cand_tid;
	uint64_t cur;		   /* request stream: sequence number of the request read */
	uint64_t sync_scanned;
};

struct http1conn {
	struct httpconn_info info;
	struct httpconn_opts opts;
	uint8_t state; /* enum httpconn_state */
	uint8_t role;
	int err;      /* first sink error */
	struct span_sink *sink;
	struct stream s[2]; /* by enum httpconn_dir */
	struct resp resp;
	/* FIFO of requests waiting for their response: sequence numbers head..head+count-1
	 * live in q[seq % q_cap]; past MAX_PENDING only a count is kept. The ring starts
	 * inline and moves to the heap only for pipelining. */
	struct req *q;
	uint32_t q_cap;
	struct req q_inline[INLINE_PENDING];
	uint64_t q_head;
	uint32_t q_count;
	uint64_t untracked;
	uint32_t scratch_flags;
	/* The connection speaks HTTP/2: from its first bytes, or after an h2c upgrade.
	 * Feeds go there. */
	struct http2 *h2;
};

#define NO_REQ UINT64_MAX

/* ---- small helpers -------------------------------------------------------------------- */

static uint64_t wall(const struct http1conn *c, uint64_t ts)
{
	return c->opts.clock ? span_clock_wall(c->opts.clock, ts) : ts;
}

/* Bytes kept in spans become JSON strings and text lines: keep them printable ASCII
 * (header blocks keep their line structure and tabs). */
static char clean(unsigned char ch, bool block)
{
	if (ch >= 0x20 && ch < 0x7f)
		return ch;
	return block && (ch == '\t' || ch == '\r' || ch == '\n') ? ch : '?';
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Might clean() change any of the 8 bytes in @w: is one below 0x20, 0x7f or above?
 * Exact as a yes or no: a carry or borrow can only leave a lane that already said yes.
 * Tabs and line endings say yes too; clean() keeps them in a header block.
 */
static bool word_unclean(uint64_t w)
{
	return (w | (w + ONES) | (w - 0x20 * ONES)) & HIGHS;
}

/* Append up to @max total; returns false when something did not fit. Header blocks
 * are most of what is copied and nearly all of it printable: copy 8 bytes at a time
 * and look at single bytes only in the words that need it. */
static bool sbuf_append_as(struct sbuf *b, const char *data, size_t n, uint32_t max, bool block)
{
	size_t room = max > b->len ? max - b->len : 0, take = n < room ? n : room, i, k;
	char *dst;

	if (b->len + take + 1 > b->cap) {
		uint32_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + take + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return false;
		b->p = p;
		b->cap = cap;
	}
	dst = b->p + b->len;
	for (i = 0; i + 8 <= take; i += 8) {
		uint64_t w;

		memcpy(&w, data + i, 8);
		memcpy(dst + i, &w, 8);
		if (word_unclean(w))
			for (k = i; k < i + 8; k++)
				dst[k] = clean(data[k], block);
	}
	for (; i < take; i++)
		dst[i] = clean(data[i], block);
	b->len += take;
	b->p[b->len] = '\0';
	return take == n;
}

/* a header block */
static bool sbuf_append(struct sbuf *b, const char *data, size_t n, uint32_t max)
{
	return sbuf_append_as(b, data, n, max, true);
}

/* a one-line string: target, Host */
static bool sbuf_append_str(struct sbuf *b, const char *data, size_t n, uint32_t max)
{
	return sbuf_append_as(b, data, n, max, false);
}

static void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

static const char *sbuf_str(const struct sbuf *b)
{
	return b->p ? b->p : "";
}

static struct stream *resp_stream(struct http1conn *c)
{
	return c->s[HTTPCONN_INGRESS].kind == K_RESP ? &c->s[HTTPCONN_INGRESS] : &c->s[HTTPCONN_EGRESS];
}

static struct req *req_by_seq(struct http1conn *c, uint64_t seq)
{
	if (seq == NO_REQ || seq < c->q_head || seq >= c->q_head + c->q_count)
		return NULL;
	return &c->q[seq % c->q_cap];
}

static void set_kinds(struct http1conn *c, enum httpconn_dir dir, enum kind kind)
{
	enum httpconn_dir other = dir == HTTPCONN_INGRESS ? HTTPCONN_EGRESS : HTTPCONN_INGRESS;

	c->s[dir].kind = kind;
	c->s[other].kind = kind == K_REQ ? K_RESP : K_REQ;
	if (c->role == SPAN_ROLE_UNKNOWN)
		c->role = (dir == HTTPCONN_INGRESS) == (kind == K_REQ) ? SPAN_ROLE_SERVER
								       : SPAN_ROLE_CLIENT;
}

static enum http1_verdict start_verdict(const struct stream *s, const uint8_t *d, size_t n)
{
	enum http1_verdict a = HTTP1_NO, b = HTTP1_NO;

	if (s->kind != K_RESP)
		a = http1_request_start(d, n);
	if (s->kind != K_REQ)
		b = http1_response_start(d, n);
	if (a == HTTP1_YES || b == HTTP1_YES)
		return HTTP1_YES;
	return a == HTTP1_MAYBE || b == HTTP1_MAYBE ? HTTP1_MAYBE : HTTP1_NO;
}

static void dead(struct http1conn *c)
{
	c->state = HTTPCONN_NOT_HTTP;
	c->s[0].state = c->s[1].state = P_DEAD;
}

/* ---- spans ---------------------------------------------------------------------------- */

static void emit(struct http1conn *c, const struct req *r, const struct resp *p, uint32_t flags,
		 struct span_sink *sink)
{
	struct span s;
	int err;

	if (!sink || c->err)
		return;
	memset(&s, 0, sizeof(s));
	s.start_ns = wall(c, r->start_ts);
	s.end_ns = p ? wall(c, p->last_ts < r->start_ts ? r->start_ts : p->last_ts) : s.start_ns;
	s.pid = c->info.pid;
	s.tid = r->tid;
	memcpy(s.comm, c->info.comm, sizeof(s.comm));
	s.comm[sizeof(s.comm) - 1] = '\0';
	s.role = c->role;
	s.source = c->info.source;
	s.http_major = r->major;
	s.http_minor = r->minor;
	s.flags = r->flags | flags | (p ? p->flags : 0) | (c->info.midstream ? SPAN_F_MIDSTREAM : 0);
	s.local = c->info.local;
	s.remote = c->info.remote;
	s.conn_id = c->info.conn_id;
	s.method = r->method;
	s.target = sbuf_str(&r->target);
	s.host = sbuf_str(&r->host);
	s.status = p ? p->status : 0;
	s.req_bytes = r->bytes;
	s.resp_bytes = p ? p->bytes : 0;
	s.has_parent = r->has_parent;
	memcpy(s.trace_id, r->trace_id, sizeof(s.trace_id));
	memcpy(s.parent_span_id, r->parent_id, sizeof(s.parent_span_id));
	memcpy(s.span_id, r->span_id, sizeof(s.span_id));
	if (!c->opts.no_header_blocks) {
		s.req_headers = r->hdrs.p;
		s.req_headers_len = r->hdrs.len;
	}
	if (p && !c->opts.no_header_blocks) {
		s.resp_headers = p->hdrs.p;
		s.resp_headers_len = p->hdrs.len;
	}
	err = sink->emit(sink, &s);
	if (err)
		c->err = err < 0 ? err : -EPIPE;
}

static void pop_request(struct http1conn *c)
{
	c->q_head++;
	c->q_count--;
}

static void resp_reset(struct resp *p)
{
	struct sbuf hdrs = p->hdrs;

	memset(p, 0, sizeof(*p));
	sbuf_reset(&hdrs);
	p->hdrs = hdrs;
}

/* The response's last byte was seen (or the connection closed): hand out its span. */
static void resp_complete(struct http1conn *c, uint32_t flags)
{
	struct resp *p = &c->resp;
	struct stream *rs = resp_stream(c);

	if (p->active && p->paired && c->q_count) {
		emit(c, &c->q[c->q_head % c->q_cap], p, flags, c->sink);
		pop_request(c);
	}
	resp_reset(p);
	rs->msg = M_NONE;
}

/* ---- message starts ------------------------------------------------------------------- */

static void account(struct http1conn *c, struct stream *s, uint64_t n, uint64_t ts)
{
	if (s->msg == M_PENDING) {
		s->pre_bytes += n;
	} else if (s->msg == M_ACTIVE) {
		if (s->kind == K_RESP) {
			c->resp.bytes += n;
			c->resp.last_ts = ts;
		} else {
			struct req *r = req_by_seq(c, s->cur);

			if (r)
				r->bytes += n;
		}
	}
}

/* Where flags of the message @s is reading go (a scratch word when it is untracked). */
static uint32_t *msg_flags(struct http1conn *c, struct stream *s)
{
	struct req *r;

	if (s->kind == K_RESP && c->resp.active)
		return &c->resp.flags;
	if (s->kind == K_REQ && (r = req_by_seq(c, s->cur)))
		return &r->flags;
	return &c->scratch_flags;
}

/* The first byte of a message at a boundary. */
static void msg_begin(struct stream *s, uint64_t ts, uint32_t tid)
{
	if (s->msg == M_NONE) {
		s->msg = M_PENDING;
		s->msg_ts = ts;
		s->msg_tid = tid;
		s->pre_bytes = 0;
	}
	s->checked = false;
	s->chunked = s->has_te = s->has_len = s->bad_len = false;
	s->drop_fold = false;
	s->content_length = 0;
}

/* Double the request ring. It is full, so every slot moves (buffers included) to
 * where its sequence number maps in the larger ring. */
static void queue_grow(struct http1conn *c)
{
	uint32_t cap = c->q_cap * 2;
	struct req *q = calloc(cap, sizeof(*q));
	uint64_t seq;

	if (!q)
		return; /* stays at its size: later requests are counted, not tracked */
	for (seq = c->q_head; seq < c->q_head + c->q_count; seq++)
		q[seq % cap] = c->q[seq % c->q_cap];
	if (c->q != c->q_inline)
		free(c->q);
	c->q = q;
	c->q_cap = cap;
}

/* A request start line (or what was seen of it): queue the request. */
static struct req *req_create(struct http1conn *c, struct stream *s)
{
	struct req *r;

	/* A new request while a response's end is unknown: that response is over. */
	if (c->resp.active && resp_stream(c)->state == P_SYNC)
		resp_complete(c, 0);
	s->cur = NO_REQ;
	if (c->q_count == c->q_cap && c->q_cap < MAX_PENDING)
		queue_grow(c);
	if (c->q_count == c->q_cap || c->untracked) {
		c->untracked++;
		s->msg = M_ACTIVE;
		return NULL;
	}
	s->cur = c->q_head + c->q_count++;
	r = &c->q[s->cur % c->q_cap];
	r->start_ts = s->msg_ts;
	r->tid = s->msg_tid;
	r->bytes = s->pre_bytes;
	r->flags = 0;
	r->major = 1;
	r->minor = 1;
	r->is_head = r->is_connect = r->has_parent = false;
	span_new_id(r->span_id);
	span_new_trace_id(r->trace_id);
	memset(r->parent_id, 0, sizeof(r->parent_id));
	r->method[0] = '\0';
	sbuf_reset(&r->target);
	sbuf_reset(&r->host);
	sbuf_reset(&r->hdrs);
	s->msg = M_ACTIVE;
	return r;
}

/* A response start line: pair it with the oldest unanswered request. */
static void resp_create(struct http1conn *c, struct stream *s)
{
	struct resp *p = &c->resp;

	if (!p->active) {
		p->active = true;
		p->start_ts = s->msg_ts;
		p->last_ts = s->msg_ts;
		p->bytes = 0;
	}
	if (s->msg == M_PENDING)
		p->bytes += s->pre_bytes;
	s->msg = M_ACTIVE;
	sbuf_reset(&p->hdrs);
	if (!p->decided) {
		p->decided = true;
		if (c->q_count) {
			struct req *r = &c->q[c->q_head % c->q_cap];

			p->paired = true;
			p->is_head = r->is_head;
			p->is_connect = r->is_connect;
		} else if (c->untracked) {
			c->untracked--; /* its response: parse, do not pair */
		}
	}
}

static void copy_method(struct req *r, const char *m, size_t n)
{
	if (n > HTTP1_METHOD_MAX)
		n = HTTP1_METHOD_MAX;
	memcpy(r->method, m, n);
	r->method[n] = '\0';
	r->is_head = n == 4 && !memcmp(m, "HEAD", 4);
	r->is_connect = n == 7 && !memcmp(m, "CONNECT", 7);
}

/* The start of a request line cut by a gap or the line cap: a method token and a
 * space. Returns the method's length, 0 when it is not one. */
static size_t partial_method(const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n && i <= HTTP1_METHOD_MAX; i++) {
		if (line[i] == ' ')
			return i;
		if (!((line[i] >= 'A' && line[i] <= 'Z') || line[i] == '-' || line[i] == '_'))
			return 0;
	}
	return 0;
}

/* A request line cut by a gap or the line cap: keep what can be trusted. */
static void req_line_partial(struct req *r, const char *line, size_t n)
{
	size_t m = partial_method(line, n);
	const char *sp = line + m;
	const char *t;
	size_t tn;

	if (!m)
		return;
	copy_method(r, line, m);
	t = sp + 1;
	tn = line + n - t;
	if (memchr(t, ' ', tn))
		tn = (const char *)memchr(t, ' ', tn) - t;
	sbuf_append_str(&r->target, t, tn, TARGET_MAX);
}

/* ---- head lines ----------------------------------------------------------------------- */

static void head_done(struct http1conn *c, struct stream *s, uint64_t ts);
static void msg_done(struct http1conn *c, struct stream *s, uint64_t ts);
static void lose_framing(struct http1conn *c, struct stream *s, uint32_t flag);

/* The start line of a message. Returns false for garbage. */
static bool start_line(struct http1conn *c, struct stream *s, enum httpconn_dir dir,
		       const char *line, size_t n)
{
	struct http1_request_line rl;
	struct http1_status_line sl;

	if (s->kind != K_RESP && http1_parse_request_line(line, n, &rl)) {
		struct req *r;

		if (s->kind == K_UNKNOWN)
			set_kinds(c, dir, K_REQ);
		r = req_create(c, s);
		if (r) {
			copy_method(r, rl.method, rl.method_len);
			r->major = rl.major;
			r->minor = rl.minor;
			if (!sbuf_append_str(&r->target, rl.target, rl.target_len, TARGET_MAX) || s->line_cut)
				r->flags |= SPAN_F_TRUNCATED;
		}
	} else if (s->kind != K_REQ && http1_parse_status_line(line, n, &sl)) {
		if (s->kind == K_UNKNOWN)
			set_kinds(c, dir, K_RESP);
		resp_create(c, s);
		c->resp.status = sl.status;
		if (s->line_cut)
			c->resp.flags |= SPAN_F_TRUNCATED;
	} else if (s->line_cut && s->kind != K_RESP &&
		   start_verdict(&(struct stream){ .kind = K_REQ }, (const uint8_t *)line, n) ==
			   HTTP1_YES) {
		/* A request line longer than the line buffer: the target was cut. */
		struct req *r;

		if (s->kind == K_UNKNOWN)
			set_kinds(c, dir, K_REQ);
		r = req_create(c, s);
		if (r) {
			req_line_partial(r, line, n);
			r->flags |= SPAN_F_TRUNCATED;
		}
	} else {
		return false;
	}
	if (c->state == HTTPCONN_UNKNOWN)
		c->state = HTTPCONN_HTTP;
	s->state = P_HEADERS;
	return true;
}

/* Append to a message's header block, up to the limit: false when it did not fit. With
 * no_header_blocks only the length is kept, so that the truncated flag comes out the
 * same whether a copy is kept or not. */
static bool hdrs_append(const struct http1conn *c, struct sbuf *b, const char *data, size_t n)
{
	uint32_t max = c->opts.max_header_bytes;
	size_t room;

	if (!c->opts.no_header_blocks)
		return sbuf_append(b, data, n, max);
	room = max > b->len ? max - b->len : 0;
	b->len += n < room ? n : room;
	return n <= room;
}

static void header_line(struct http1conn *c, struct stream *s, const char *line, size_t n)
{
	struct req *r = s->kind == K_REQ ? req_by_seq(c, s->cur) : NULL;
	struct sbuf *hdrs = s->kind == K_REQ ? (r ? &r->hdrs : NULL) : (c->resp.active ? &c->resp.hdrs : NULL);
	uint32_t *flags = msg_flags(c, s);
	const char *name, *value;
	size_t name_len, value_len;
	enum http1_field kind = HTTP1_F_OTHER;
	bool ok = true;

	if (line[0] == ' ' || line[0] == '\t') {
		/* obsolete line folding: a continuation of the previous field */
		if (hdrs && !s->drop_fold)
			ok = hdrs_append(c, hdrs, line, n) && hdrs_append(c, hdrs, "\r\n", 2);
		if (!ok || s->line_cut)
			*flags |= SPAN_F_TRUNCATED;
		return;
	}
	s->drop_fold = false;
	if (!http1_parse_field(line, n, &name, &name_len, &value, &value_len)) {
		/* Not a valid field ("Cookie : x"): a lenient peer may still take it, so
		 * a credential's value is not kept either. */
		const char *colon = memchr(line, ':', n);

		name = line;
		name_len = colon ? (size_t)(colon - line) : 0;
		while (name_len && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
			name_len--;
		if (name_len && http1_field_kind(name, name_len) == HTTP1_F_CREDENTIAL &&
		    !c->opts.no_redact) {
			if (hdrs)
				ok = hdrs_append(c, hdrs, line, colon - line) &&
				     hdrs_append(c, hdrs, ": " REDACTED "\r\n", sizeof(REDACTED) + 3);
			*flags |= SPAN_F_REDACTED;
			s->drop_fold = true;
		} else if (hdrs) {
			ok = hdrs_append(c, hdrs, line, n) && hdrs_append(c, hdrs, "\r\n", 2);
		}
		if (!ok || s->line_cut)
			*flags |= SPAN_F_TRUNCATED;
		return;
	}
	kind = http1_field_kind(name, name_len);
	if (s->kind == K_RESP && c->resp.active && name_len == 7 && !strncasecmp(name, "upgrade", 7) &&
	    value_len == 3 && !strncasecmp(value, "h2c", 3))
		c->resp.h2c = true;
	switch (kind) {
	case HTTP1_F_CONTENT_LENGTH:
		if (s->has_len) {
			uint64_t v;

			if (!http1_parse_content_length(value, value_len, &v) || v != s->content_length)
				s->bad_len = true;
		} else if (http1_parse_content_length(value, value_len, &s->content_length)) {
			s->has_len = true;
		} else {
			s->bad_len = true;
		}
		break;
	case HTTP1_F_TRANSFER_ENCODING:
		/* Only the last Transfer-Encoding field's last coding counts. */
		s->has_te = true;
		s->chunked = http1_te_chunked(value, value_len);
		break;
	case HTTP1_F_HOST:
		if (r && !r->host.len)
			sbuf_append_str(&r->host, value, value_len, HOST_MAX);
		break;
	case HTTP1_F_TRACEPARENT:
		if (r && !r->has_parent)
			r->has_parent = span_parse_traceparent(value, value_len, r->trace_id,
							       r->parent_id);
		break;
	default:
		break;
	}
	if (!hdrs)
		return;
	if (kind == HTTP1_F_CREDENTIAL && !c->opts.no_redact) {
		ok = hdrs_append(c, hdrs, name, name_len) && hdrs_append(c, hdrs, ": " REDACTED "\r\n",
									      sizeof(REDACTED) + 3);
		*flags |= SPAN_F_REDACTED;
		s->drop_fold = true;
	} else {
		ok = hdrs_append(c, hdrs, line, n) && hdrs_append(c, hdrs, "\r\n", 2);
	}
	if (!ok || s->line_cut)
		*flags |= SPAN_F_TRUNCATED;
}

/* One complete line (line ending removed) in a line-oriented state. Returns false for
 * garbage at a message start. */
static bool on_line(struct http1conn *c, struct stream *s, enum httpconn_dir dir, const char *line,
		    size_t n, uint64_t ts)
{
	uint64_t size;

	switch (s->state) {
	case P_START:
		return start_line(c, s, dir, line, n);
	case P_HEADERS:
		if (n == 0)
			head_done(c, s, ts);
		else
			header_line(c, s, line, n);
		break;
	case P_CHUNK_SIZE:
		if (!http1_parse_chunk_size(line, n, &size) || s->line_cut) {
			lose_framing(c, s, SPAN_F_BODY_UNSEEN);
		} else if (size == 0) {
			s->state = P_TRAILERS;
		} else {
			s->remaining = size;
			s->state = P_CHUNK_DATA;
		}
		break;
	case P_CHUNK_END:
		if (n == 0)
			s->state = P_CHUNK_SIZE;
		else
			lose_framing(c, s, SPAN_F_BODY_UNSEEN);
		break;
	case P_TRAILERS:
		if (n == 0)
			msg_done(c, s, ts);
		break;
	default:
		break;
	}
	return true;
}

/* The framing of the current message is lost: count bytes toward it until the next
 * message start is found. */
static void lose_framing(struct http1conn *c, struct stream *s, uint32_t flag)
{
	if (s->msg == M_ACTIVE)
		*msg_flags(c, s) |= flag;
	s->state = P_SYNC;
	s->linelen = 0;
	s->line_cut = false;
	s->cand_len = 0;
	s->at_line_start = false;
}

/* A message ended: the next byte starts another. */
static void msg_done(struct http1conn *c, struct stream *s, uint64_t ts)
{
	s->state = P_START;
	if (s->kind == K_RESP) {
		resp_complete(c, 0);
	} else {
		s->msg = M_NONE;
		s->cur = NO_REQ;
	}
}

/* A 101 to Upgrade: h2c: the request is HTTP/2's stream 1, whose response comes in
 * HTTP/2 frames. The HTTP/2 parser takes the connection over. */
static bool upgrade_h2c(struct http1conn *c)
{
	struct req *r = &c->q[c->q_head % c->q_cap];
	struct httpconn_info info = c->info;
	struct http2_upgrade up = {
		.method = r->method, .target = sbuf_str(&r->target), .host = sbuf_str(&r->host),
		.req_headers = r->hdrs.p, .req_headers_len = r->hdrs.len,
		.start_ts = r->start_ts, .tid = r->tid, .flags = r->flags | c->resp.flags,
		.req_bytes = r->bytes, .resp_bytes = c->resp.bytes, .has_parent = r->has_parent,
	};

	info.role = c->role;
	c->h2 = http2_new(&info, &c->opts);
	if (!c->h2)
		return false;
	memcpy(up.trace_id, r->trace_id, sizeof(up.trace_id));
	memcpy(up.parent_id, r->parent_id, sizeof(up.parent_id));
	http2_upgraded(c->h2, &up);
	pop_request(c);
	resp_reset(&c->resp);
	c->s[0].state = c->s[1].state = P_DEAD;
	c->s[0].msg = c->s[1].msg = M_NONE;
	c->state = HTTPCONN_HTTP;
	return true;
}

static void head_done(struct http1conn *c, struct stream *s, uint64_t ts)
{
	if (s->kind == K_REQ) {
		/* Transfer-Encoding overrides Content-Length; a request body is never
		 * delimited by close, so an unknown coding leaves its length unknown. */
		if (s->chunked)
			s->state = P_CHUNK_SIZE;
		else if (s->bad_len || s->has_te)
			lose_framing(c, s, SPAN_F_BODY_UNSEEN);
		else if (s->has_len && s->content_length) {
			s->remaining = s->content_length;
			s->state = P_BODY_LEN;
		} else
			msg_done(c, s, ts);
		return;
	}
	/* response */
	struct resp *p = &c->resp;
	uint16_t st = p->status;

	if (st == 101 && p->h2c && p->paired && c->q_count && upgrade_h2c(c))
		return;
	if (st == 101 || (p->is_connect && st >= 200 && st < 300)) {
		/* The connection now speaks another protocol (or is a tunnel). */
		resp_complete(c, 0);
		dead(c);
		return;
	}
	if (st < 200) {
		/* interim: the final response follows and belongs to the same span */
		p->status = 0;
		s->state = P_START;
		return;
	}
	if (p->is_head || st == 204 || st == 304) {
		msg_done(c, s, ts);
	} else if (s->chunked) {
		s->state = P_CHUNK_SIZE;
	} else if (s->has_te) {
		s->state = P_BODY_CLOSE;
	} else if (s->bad_len) {
		lose_framing(c, s, SPAN_F_BODY_UNSEEN);
	} else if (s->has_len) {
		if (s->content_length) {
			s->remaining = s->content_length;
			s->state = P_BODY_LEN;
		} else {
			msg_done(c, s, ts);
		}
	} else {
		s->state = P_BODY_CLOSE;
	}
}

/* ---- the byte loop -------------------------------------------------------------------- */

static bool line_append(struct stream *s, const char *p, size_t n)
{
	size_t room;

	if (!s->line) {
		s->line = malloc(LINE_MAX_BYTES);
		if (!s->line)
			return false;
	}
	room = LINE_MAX_BYTES - s->linelen;
	if (n > room) {
		n = room;
		s->line_cut = true;
	}
	memcpy(s->line + s->linelen, p, n);
	s->linelen += n;
	return true;
}

/* SYNC: look for a line that starts a message, byte by byte at line starts and with
 * memchr in between. Bytes passed over count toward the message being skipped (if
 * any); candidate bytes are held back until decided. Returns the bytes consumed; on a
 * find, the stream is at P_START with the candidate buffered as the line's start. */
static size_t sync_scan(struct http1conn *c, struct stream *s, const uint8_t *p, size_t n,
			uint64_t ts, uint32_t tid)
{
	uint64_t skipped = 0;
	size_t i = 0;

	while (i < n) {
		if (s->cand_len == 0 && !s->at_line_start) {
			const uint8_t *nl = memchr(p + i, '\n', n - i);
			size_t next = nl ? (size_t)(nl - p) + 1 : n;

			skipped += next - i;
			i = next;
			s->at_line_start = nl != NULL;
			continue;
		}
		if (s->cand_len == 0) {
			s->cand_ts = ts;
			s->cand_tid = tid;
		}
		s->at_line_start = false;
		s->cand[s->cand_len++] = p[i++];
		switch (start_verdict(s, s->cand, s->cand_len)) {
		case HTTP1_YES: {
			/* The message skipped over, if any, ends where this one starts. */
			uint8_t k = s->cand_len;

			account(c, s, skipped, ts);
			if (s->kind == K_RESP && s->msg == M_ACTIVE)
				resp_complete(c, 0);
			s->msg = M_NONE;
			s->cand_len = 0;
			s->state = P_START;
			msg_begin(s, s->cand_ts, s->cand_tid);
			s->checked = true;
			s->pre_bytes = k;
			s->linelen = 0;
			s->line_cut = false;
			if (!line_append(s, (const char *)s->cand, k))
				dead(c);
			return i;
		}
		case HTTP1_NO:
			skipped += s->cand_len;
			if (s->cand[s->cand_len - 1] == '\n')
				s->at_line_start = true;
			s->cand_len = 0;
			break;
		case HTTP1_MAYBE:
			break;
		}
	}
	account(c, s, skipped, ts);
	return i;
}

/* Parse @n captured bytes of stream @dir. */
static void parse(struct http1conn *c, enum httpconn_dir dir, const uint8_t *data, size_t n,
		  uint64_t ts, uint32_t tid)
{
	struct stream *s = &c->s[dir];
	const uint8_t *p = data, *end = data + n;

	while (p < end && s->state != P_DEAD) {
		size_t avail = end - p, take;

		switch (s->state) {
		case P_SYNC: {
			size_t used = sync_scan(c, s, p, avail, ts, tid);

			s->sync_scanned += used;
			if (c->state == HTTPCONN_UNKNOWN && s->sync_scanned > SYNC_BUDGET) {
				dead(c);
				return;
			}
			p += used;
			break;
		}
		case P_START:
			if (s->linelen == 0) {
				/* blank lines between messages are tolerated */
				while (p < end && (*p == '\r' || *p == '\n'))
					p++;
				if (p == end)
					break;
				avail = end - p;
				msg_begin(s, ts, tid);
			}
			if (!s->checked && c->state == HTTPCONN_UNKNOWN) {
				/* The connection's first message: the first-bytes test
				 * decides before a whole line is there. Later messages
				 * may use other methods; their start line decides. */
				uint8_t head[HTTP1_START_PREFIX_MAX];
				size_t k = s->linelen < sizeof(head) ? s->linelen : sizeof(head);
				size_t m = avail < sizeof(head) - k ? avail : sizeof(head) - k;
				enum http1_verdict v;

				memcpy(head, s->line ? s->line : "", k);
				memcpy(head + k, p, m);
				v = start_verdict(s, head, k + m);
				if (v == HTTP1_NO) {
					dead(c);
					return;
				}
				if (v == HTTP1_YES) {
					s->checked = true;
					c->state = HTTPCONN_HTTP;
				}
			}
			/* fall through */
		case P_HEADERS:
		case P_CHUNK_SIZE:
		case P_CHUNK_END:
		case P_TRAILERS: {
			const uint8_t *nl = memchr(p, '\n', avail);
			const char *line;
			size_t len, used;

			if (!nl) {
				if (!line_append(s, (const char *)p, avail)) {
					dead(c);
					return;
				}
				account(c, s, avail, ts);
				p = end;
				break;
			}
			used = nl - p + 1;
			if (s->linelen) {
				if (!line_append(s, (const char *)p, used - 1)) {
					dead(c);
					return;
				}
				line = s->line;
				len = s->linelen;
			} else {
				line = (const char *)p;
				len = used - 1;
			}
			if (len && line[len - 1] == '\r')
				len--;
			account(c, s, used, ts);
			p += used;
			if (!on_line(c, s, dir, line, len, ts)) {
				if (c->state != HTTPCONN_HTTP && !c->info.midstream) {
					dead(c);
					return;
				}
				/* HTTP was seen here already: more likely the framing
				 * was misread (a HEAD response whose request was not
				 * seen) than the protocol changed. Mid-stream, body
				 * text can look like a message start. Find the next. */
				lose_framing(c, s, 0);
				s->at_line_start = true;
				continue;
			}
			s->linelen = 0;
			s->line_cut = false;
			break;
		}
		case P_BODY_LEN:
		case P_CHUNK_DATA:
			take = avail < s->remaining ? avail : s->remaining;
			account(c, s, take, ts);
			s->remaining -= take;
			p += take;
			if (s->remaining == 0) {
				if (s->state == P_CHUNK_DATA)
					s->state = P_CHUNK_END;
				else
					msg_done(c, s, ts);
			}
			break;
		case P_BODY_CLOSE:
			account(c, s, avail, ts);
			p = end;
			break;
		default:
			p = end;
			break;
		}
	}
	/* An h2c upgrade's 101 ended here: what follows it is HTTP/2. */
	if (c->h2 && p < end) {
		int rc = http2_feed(c->h2, dir, ts, tid, p, end - p, end - p, c->sink);

		if (rc < 0)
			c->err = rc;
	}
}

/* @n bytes of stream @dir went by without being captured. */
static void gap(struct http1conn *c, enum httpconn_dir dir, uint64_t n, uint64_t ts, uint32_t tid)
{
	struct stream *s = &c->s[dir];
	uint64_t take;

	switch (s->state) {
	case P_DEAD:
		return;
	case P_SYNC:
		account(c, s, n + s->cand_len, ts);
		if (s->msg == M_ACTIVE)
			*msg_flags(c, s) |= SPAN_F_BODY_UNSEEN;
		s->cand_len = 0;
		break;
	case P_START:
		if (s->msg == M_NONE) {
			/* A whole message start unseen (the kernel could not copy it). On an
			 * HTTP connection it is still a message: keep it in the queue with
			 * what is known (nothing but its size), so that pairing stays in
			 * step; its end is found as after any lost framing. */
			if (c->state != HTTPCONN_HTTP || s->kind == K_UNKNOWN ||
			    (s->kind == K_RESP && !c->q_count)) {
				lose_framing(c, s, 0);
				break;
			}
			msg_begin(s, ts, tid);
			if (s->kind == K_REQ) {
				req_create(c, s);
			} else {
				resp_create(c, s);
				c->resp.status = 0;
			}
		}
		if (s->msg == M_PENDING && s->linelen &&
		    ((s->kind == K_REQ && partial_method(s->line, s->linelen)) ||
		     (s->kind == K_RESP && http1_response_start((const uint8_t *)s->line, s->linelen) == HTTP1_YES))) {
			/* what was seen of the start line makes the message */
			const char *line = s->line;
			size_t len = s->linelen;

			if (s->kind == K_REQ) {
				struct req *r = req_create(c, s);

				if (r)
					req_line_partial(r, line, len);
			} else {
				struct http1_status_line sl;

				resp_create(c, s);
				if (len >= 12 && http1_parse_status_line(line, 12, &sl) && sl.status >= 200)
					c->resp.status = sl.status;
			}
		}
		/* fall through */
	case P_HEADERS:
		account(c, s, n, ts);
		if (s->msg == M_ACTIVE)
			*msg_flags(c, s) |= SPAN_F_TRUNCATED;
		lose_framing(c, s, 0);
		break;
	case P_BODY_LEN:
	case P_CHUNK_DATA:
		take = n < s->remaining ? n : s->remaining;
		account(c, s, take, ts);
		*msg_flags(c, s) |= SPAN_F_BODY_UNSEEN;
		s->remaining -= take;
		n -= take;
		if (s->remaining == 0) {
			if (s->state == P_CHUNK_DATA) {
				s->state = P_CHUNK_END;
				if (n) {
					account(c, s, n, ts);
					lose_framing(c, s, SPAN_F_BODY_UNSEEN);
				}
			} else {
				msg_done(c, s, ts);
				if (n)
					lose_framing(c, s, 0);
			}
		}
		break;
	case P_CHUNK_SIZE:
	case P_CHUNK_END:
	case P_TRAILERS:
		account(c, s, n, ts);
		lose_framing(c, s, SPAN_F_BODY_UNSEEN);
		break;
	case P_BODY_CLOSE:
		account(c, s, n, ts);
		*msg_flags(c, s) |= SPAN_F_BODY_UNSEEN;
		break;
	}
}

/* ---- the interface -------------------------------------------------------------------- */

static void *http1_new(const struct httpconn_info *info, const struct httpconn_opts *opts)
{
	struct http1conn *c = calloc(1, sizeof(*c));
	int d;

	if (!c)
		return NULL;
	c->info = *info;
	if (opts)
		c->opts = *opts;
	if (!c->opts.max_header_bytes)
		c->opts.max_header_bytes = DEFAULT_HEADER_BYTES;
	c->q = c->q_inline;
	c->q_cap = INLINE_PENDING;
	c->role = info->role;
	if (c->role == SPAN_ROLE_SERVER) {
		c->s[HTTPCONN_INGRESS].kind = K_REQ;
		c->s[HTTPCONN_EGRESS].kind = K_RESP;
	} else if (c->role == SPAN_ROLE_CLIENT) {
		c->s[HTTPCONN_INGRESS].kind = K_RESP;
		c->s[HTTPCONN_EGRESS].kind = K_REQ;
	} else {
		c->role = SPAN_ROLE_UNKNOWN;
	}
	for (d = 0; d < 2; d++) {
		c->s[d].cur = NO_REQ;
		c->s[d].state = info->midstream ? P_SYNC : P_START;
		c->s[d].at_line_start = true;
	}
	return c;
}

static int http1_feed(void *conn, int dir, uint64_t ts_ns, uint32_t tid, const uint8_t *data,
		      uint32_t captured, uint64_t len, struct span_sink *sink)
{
	struct http1conn *c = conn;
	struct stream *s;

	if (c->state == HTTPCONN_NOT_HTTP || (dir != HTTPCONN_EGRESS && dir != HTTPCONN_INGRESS))
		return c->state;
	if (captured > len)
		captured = len;
	if (!data)
		captured = 0;
	/* HTTP/2 that the protocol table did not see first: picked up mid-stream (a
	 * frame at a syscall's start), or first bytes that came with a gap. */
	if (!c->h2 && c->state == HTTPCONN_UNKNOWN && captured &&
	    (c->info.midstream ? captured >= HTTP2_FRAME_HEADER_LEN && http2_frame_plausible(data)
			       : http2_classify(data, captured, dir) == HTTP2_YES)) {
		c->h2 = http2_new(&c->info, &c->opts);
		c->s[0].state = c->s[1].state = P_DEAD;
	}
	if (c->h2) {
		int rc = http2_feed(c->h2, dir, ts_ns, tid, data, captured, len, sink);

		if (rc >= 0)
			c->state = rc;
		return rc;
	}
	s = &c->s[dir];
	c->sink = sink;
	c->err = 0;
	/* Each syscall's first byte is likely a message start: a candidate when syncing. */
	if (s->state == P_SYNC && s->cand_len == 0)
		s->at_line_start = true;
	if (captured)
		parse(c, dir, data, captured, ts_ns, tid);
	if (len > captured && c->h2 && !c->err) /* upgraded within these bytes */
		c->err = http2_feed(c->h2, dir, ts_ns, tid, NULL, 0, len - captured, sink) < 0 ? c->err : 0;
	else if (len > captured && c->state != HTTPCONN_NOT_HTTP)
		gap(c, dir, len - captured, ts_ns, tid);
	c->sink = NULL;
	return c->err ? c->err : c->state;
}

static int http1_classify(const uint8_t *data, uint32_t len, int dir)
{
	switch (httpconn_classify(data, len)) {
	case HTTPCONN_HTTP:
		return PROTO_YES;
	case HTTPCONN_NOT_HTTP:
		return PROTO_NO;
	}
	return PROTO_MAYBE;
}

int httpconn_classify(const uint8_t *data, uint32_t len)
{
	enum http1_verdict a = http1_request_start(data, len), b = http1_response_start(data, len);

	if (a == HTTP1_YES || b == HTTP1_YES)
		return HTTPCONN_HTTP;
	if (a == HTTP1_MAYBE || b == HTTP1_MAYBE)
		return HTTPCONN_UNKNOWN;
	return HTTPCONN_NOT_HTTP;
}

static void http1_close(void *conn, uint64_t ts_ns, struct span_sink *sink)
{
	struct http1conn *c = conn;
	struct resp *p = &c->resp;
	int i;

	if (!c)
		return;
	c->sink = sink;
	c->err = 0;
	http2_close(c->h2, ts_ns, sink);
	if (p->active && p->paired && c->q_count) {
		struct stream *rs = resp_stream(c);
		/* A response delimited by close (or whose end was lost) ends here; one cut
		 * short is partial but keeps its status. */
		bool complete = rs->state == P_BODY_CLOSE || (rs->state == P_SYNC && p->status);

		resp_complete(c, complete ? 0 : SPAN_F_PARTIAL);
	}
	while (c->q_count) {
		emit(c, &c->q[c->q_head % c->q_cap], NULL, SPAN_F_PARTIAL, sink);
		pop_request(c);
	}
	for (i = 0; i < (int)c->q_cap; i++) {
		free(c->q[i].target.p);
		free(c->q[i].host.p);
		free(c->q[i].hdrs.p);
	}
	if (c->q != c->q_inline)
		free(c->q);
	free(c->resp.hdrs.p);
	free(c->s[0].line);
	free(c->s[1].line);
	free(c);
}

static bool http1_in_body(const void *conn)
{
	const struct http1conn *c = conn;

	for (int d = 0; d < 2; d++)
		if (c->s[d].state == P_BODY_LEN || c->s[d].state == P_CHUNK_DATA)
			return true;
	return false;
}

const struct proto_ops proto_http1 = {
	.name = "http1",
	.resyncs = true,
	.classify = http1_classify,
	.new = http1_new,
	.feed = http1_feed,
	.close = http1_close,
	.in_body = http1_in_body,
};
