// SPDX-License-Identifier: GPL-2.0-only
/* Merging the Go and wire views of one exchange (see span_merge.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include "hex.h"
#include "span_merge.h"

/* Slack on the time overlap: the wire's times are at syscall exit, the Go view's at
 * function entry and return, and the two ring buffers are read at different moments. */
#define MATCH_SLACK_NS 2000000ull

/*
 * Held spans are found by a hash of what every match must share exactly: process, role,
 * method, the percent-decoded target and, for a server span whose client address is
 * known, that address. A busy server's spans all have the same few targets, and a span
 * compared with every held one cost more than everything else ehttp does per span.
 */
#define MERGE_BUCKETS 16384 /* per view; a power of two */

struct held {
	struct span sp;   /* strings point into @text */
	char *text;
	uint64_t arrived; /* CLOCK_MONOTONIC */
	uint64_t seq;     /* arrival order, the tie-break among equally close candidates */
	uint64_t hash;    /* key_hash(&sp, has_remote_key(&sp)) */
	enum span_merge_input kind;
	TAILQ_ENTRY(held) link;
	LIST_ENTRY(held) chain; /* in its bucket */
};

TAILQ_HEAD(held_list, held);
LIST_HEAD(held_bucket, held);

struct span_merge;

struct merge_input {
	struct span_sink sink;
	struct span_merge *m;
	enum span_merge_input kind;
};

struct span_merge {
	struct span_merge_opts opts;
	struct span_sink *out;
	struct merge_input inputs[2];
	struct held_list held[2]; /* per kind, arrival order */
	struct held_bucket *buckets[2]; /* per kind, by key_hash */
	size_t unaddressed[2]; /* held server spans without a client address, per kind */
	size_t nheld;
	uint64_t seq;
	struct span_merge_stats stats;
};

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- matching --------------------------------------------------------------------------- */
/* The next byte of @p decoded, advancing it. */
static int next_decoded(const char **p)
{
	const char *s = *p;
	int hi, lo;

	if (s[0] == '%' && (hi = hex_digit(s[1])) >= 0 && (lo = hex_digit(s[2])) >= 0) {
		*p = s + 3;
		return hi << 4 | lo;
	}
	*p = s + 1;
	return (unsigned char)s[0];
}

bool span_merge_same_target(const char *a, const char *b)
{
	a = a ? a : "";
	b = b ? b : "";
	if (!strcmp(a, b))
		return true;
	while (*a && *b)
		if (next_decoded(&a) != next_decoded(&b))
			return false;
	return !*a && !*b;
}

static bool same_addr(const struct span_addr *a, const struct span_addr *b)
{
	size_t len = a->family == 2 ? 4 : 16;

	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, len);
}

/* Where @s is known to have ended: a partial span's end is set to its start, but the
 * exchange ran on for as long as the capture watched it (an unanswered request at the
 * end is partial in both views, and the two starts can be far apart on a slow host). */
static uint64_t known_end(const struct span *s)
{
	if ((s->flags & SPAN_F_PARTIAL) && s->end_ns == s->start_ns)
		return UINT64_MAX - MATCH_SLACK_NS;
	return s->end_ns;
}

bool span_merge_match(const struct span *go, const struct span *wire, uint64_t *distance)
{
	/* the cheap tests first: held views of the same connection's other requests mostly
	 * fail on the times */
	if (go->pid != wire->pid || go->role != wire->role)
		return false;
	/* Overlapping lifetimes. Server: the request was read before the handler began,
	 * and the response is written while it runs or just after. Client: the request is
	 * written and the response head read while roundTrip runs. */
	if (wire->start_ns > known_end(go) + MATCH_SLACK_NS ||
	    go->start_ns > known_end(wire) + MATCH_SLACK_NS)
		return false;
	/* The server's view of its client, as net/http has it, is the connection's peer. */
	if (go->role == SPAN_ROLE_SERVER && go->remote.family && wire->remote.family &&
	    !same_addr(&go->remote, &wire->remote))
		return false;
	if (strcmp(go->method ? go->method : "", wire->method ? wire->method : ""))
		return false;
	if (!span_merge_same_target(go->target, wire->target))
		return false;
	if (go->role == SPAN_ROLE_CLIENT && go->host && *go->host && wire->host && *wire->host &&
	    strcasecmp(go->host, wire->host))
		return false;
	*distance = go->start_ns > wire->start_ns ? go->start_ns - wire->start_ns
						  : wire->start_ns - go->start_ns;
	return true;
}

/* ---- the index --------------------------------------------------------------------------- */
static bool has_remote_key(const struct span *s)
{
	return s->role == SPAN_ROLE_SERVER && s->remote.family;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* Equal for any two spans span_merge_match() could pair (with @remote, for server spans
 * whose addresses are both known). */
static uint64_t key_hash(const struct span *s, bool remote)
{
	const char *t = s->target ? s->target : "";
	const char *method = s->method ? s->method : "";
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char c;

	h = fnv(h, &s->pid, sizeof(s->pid));
	h = fnv(h, &s->role, sizeof(s->role));
	h = fnv(h, method, strlen(method) + 1);
	while (*t) {
		c = (unsigned char)next_decoded(&t);
		h = fnv(h, &c, 1);
	}
	if (remote) {
		h = fnv(h, &s->remote.family, sizeof(s->remote.family));
		h = fnv(h, &s->remote.port, sizeof(s->remote.port));
		h = fnv(h, s->remote.addr, s->remote.family == 2 ? 4 : 16);
	}
	return h;
}

void span_merge_combine(const struct span *go, const struct span *wire, struct span *out)
{
	*out = *wire;
	out->source = SPAN_SOURCE_GO_UPROBE;
	/* Ids that went on the wire (--propagate wrote a traceparent, or the request had
	 * one) are those the called service continues: the span keeps them. */
	if (wire->propagation != SPAN_PROP_SOCKMSG && wire->propagation != SPAN_PROP_EXISTING) {
		out->has_parent = go->has_parent;
		memcpy(out->trace_id, go->trace_id, sizeof(out->trace_id));
		memcpy(out->parent_span_id, go->parent_span_id, sizeof(out->parent_span_id));
		memcpy(out->span_id, go->span_id, sizeof(out->span_id));
	} else if (wire->propagation == SPAN_PROP_EXISTING && go->propagation == SPAN_PROP_EXISTING &&
		   !out->has_parent && go->has_parent && !memcmp(out->trace_id, go->trace_id, sizeof(out->trace_id)) &&
		   !memcmp(out->span_id, go->span_id, sizeof(out->span_id))) {
		/* The program wrote its own traceparent, continuing its handler's trace: the
		 * wire does not know whose child that is (a Go thread serves no request), the
		 * Go view does. */
		out->has_parent = true;
		memcpy(out->parent_span_id, go->parent_span_id, sizeof(out->parent_span_id));
	}
	out->goid = go->goid;
	out->go_link = go->go_link;
	out->go_depth = go->go_depth;
	out->parent_ended = go->parent_ended;
	out->go_wire = true;
	/* What the wire view did not see done (no sk_msg record), the Go view may know: a
	 * traceparent the program wrote itself, or one ehttp wrote into its buffer (then
	 * sk_msg left the connection alone, and its "unclaimed" is not the story). */
	if (go->propagation == SPAN_PROP_MEMORY ||
	    (wire->propagation == SPAN_PROP_NONE && go->propagation != SPAN_PROP_NONE)) {
		out->propagation = go->propagation;
		out->propagation_reason = go->propagation_reason;
	}
	out->flags |= go->flags & SPAN_F_TRACEPARENT_UNREAD; /* only the Go view knows it */
	if (!out->status && go->status) /* the wire's capture ended before the response */
		out->status = go->status;
	if (!out->host || !*out->host)
		out->host = go->host;
}

/* ---- holding ------------------------------------------------------------------------- */
static size_t text_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

static char *keep_text(char **p, const char *s, size_t len)
{
	char *at = *p;

	if (!s)
		return NULL;
	memcpy(at, s, len);
	*p += len;
	return at;
}

static struct held *hold(const struct span *sp, enum span_merge_input kind, uint64_t now)
{
	size_t lm = text_size(sp->method), lt = text_size(sp->target), lh = text_size(sp->host);
	size_t lq = sp->req_headers ? sp->req_headers_len : 0;
	size_t lr = sp->resp_headers ? sp->resp_headers_len : 0;
	struct held *h = malloc(sizeof(*h) + lm + lt + lh + lq + lr + 1); /* and its text */
	char *p;

	if (!h)
		return NULL;
	h->text = (char *)(h + 1);
	p = h->text;
	h->sp = *sp;
	h->sp.method = keep_text(&p, sp->method, lm);
	h->sp.target = keep_text(&p, sp->target, lt);
	h->sp.host = keep_text(&p, sp->host, lh);
	h->sp.req_headers = keep_text(&p, sp->req_headers, lq);
	h->sp.resp_headers = keep_text(&p, sp->resp_headers, lr);
	h->arrived = now;
	h->kind = kind;
	h->hash = key_hash(&h->sp, has_remote_key(&h->sp));
	return h;
}

static void drop(struct span_merge *m, struct held *h)
{
	TAILQ_REMOVE(&m->held[h->kind], h, link);
	LIST_REMOVE(h, chain);
	if (h->sp.role == SPAN_ROLE_SERVER && !h->sp.remote.family)
		m->unaddressed[h->kind]--;
	m->nheld--;
	free(h);
}

struct best {
	struct held *h;
	uint64_t d;
};

/* @sp (of the view @kind) against one held span @h of the other view. */
static void consider(struct best *b, enum span_merge_input kind, const struct span *sp, struct held *h)
{
	uint64_t d;
	bool ok = kind == SPAN_MERGE_GO ? span_merge_match(sp, &h->sp, &d) : span_merge_match(&h->sp, sp, &d);

	if (ok && (!b->h || d < b->d || (d == b->d && h->seq < b->h->seq))) {
		b->h = h;
		b->d = d;
	}
}

static void consider_bucket(struct best *b, struct span_merge *m, enum span_merge_input kind,
			    const struct span *sp, uint64_t hash)
{
	enum span_merge_input other = kind == SPAN_MERGE_GO ? SPAN_MERGE_WIRE : SPAN_MERGE_GO;
	struct held *h;

	LIST_FOREACH(h, &m->buckets[other][hash & (MERGE_BUCKETS - 1)], chain)
		if (h->hash == hash)
			consider(b, kind, sp, h);
}

/* The held span of the other view @sp pairs with, the closest start first, then the
 * oldest; NULL when none. */
static struct held *find_other(struct span_merge *m, enum span_merge_input kind, const struct span *sp)
{
	enum span_merge_input other = kind == SPAN_MERGE_GO ? SPAN_MERGE_WIRE : SPAN_MERGE_GO;
	struct best b = { NULL, 0 };
	struct held *h;

	if (sp->role == SPAN_ROLE_SERVER && !sp->remote.family) {
		/* without an address it may pair with any: every held one is looked at */
		TAILQ_FOREACH(h, &m->held[other], link)
			consider(&b, kind, sp, h);
		return b.h;
	}
	consider_bucket(&b, m, kind, sp, key_hash(sp, has_remote_key(sp)));
	if (has_remote_key(sp) && m->unaddressed[other])
		consider_bucket(&b, m, kind, sp, key_hash(sp, false));
	return b.h;
}

static int emit_alone(struct span_merge *m, struct held *h)
{
	int rc;

	if (h->kind == SPAN_MERGE_GO)
		m->stats.go_alone++;
	else
		m->stats.wire_alone++;
	rc = m->out->emit(m->out, &h->sp);
	drop(m, h);
	return rc;
}

static int input_emit(struct span_sink *sink, const struct span *sp)
{
	struct merge_input *in = sink->ctx;
	struct span_merge *m = in->m;
	struct held *h, *best;
	struct span one;

	if (in->kind == SPAN_MERGE_WIRE && !m->opts.watched(m->opts.arg, sp->pid))
		return m->out->emit(m->out, sp);
	best = find_other(m, in->kind, sp);
	if (best) {
		int rc;

		if (in->kind == SPAN_MERGE_GO)
			span_merge_combine(sp, &best->sp, &one);
		else
			span_merge_combine(&best->sp, sp, &one);
		m->stats.merged++;
		rc = m->out->emit(m->out, &one);
		drop(m, best);
		return rc;
	}
	if (m->nheld >= SPAN_MERGE_MAX_HELD) {
		struct held *a = TAILQ_FIRST(&m->held[SPAN_MERGE_WIRE]);
		struct held *b = TAILQ_FIRST(&m->held[SPAN_MERGE_GO]);
		int rc = emit_alone(m, !a || (b && b->arrived < a->arrived) ? b : a);

		if (rc)
			return rc;
	}
	h = hold(sp, in->kind, m->opts.now());
	if (!h) /* no memory to wait: it goes out alone now rather than never */
		return m->out->emit(m->out, sp);
	h->seq = m->seq++;
	TAILQ_INSERT_TAIL(&m->held[in->kind], h, link);
	LIST_INSERT_HEAD(&m->buckets[in->kind][h->hash & (MERGE_BUCKETS - 1)], h, chain);
	if (h->sp.role == SPAN_ROLE_SERVER && !h->sp.remote.family)
		m->unaddressed[in->kind]++;
	m->nheld++;
	return 0;
}

int span_merge_release(struct span_merge *m, bool all)
{
	uint64_t now = m->opts.now();
	struct held *h;
	int k, rc;

	for (k = 0; k < 2; k++)
		while ((h = TAILQ_FIRST(&m->held[k])) && (all || h->arrived + m->opts.hold_ns <= now)) {
			rc = emit_alone(m, h);
			if (rc)
				return rc;
		}
	return 0;
}

int span_merge_new(struct span_merge **out_merge, const struct span_merge_opts *opts,
		   struct span_sink *out)
{
	struct span_merge *m = calloc(1, sizeof(*m));
	int k;

	*out_merge = NULL;
	if (!m)
		return -ENOMEM;
	m->opts = *opts;
	if (!m->opts.hold_ns)
		m->opts.hold_ns = SPAN_MERGE_HOLD_NS;
	if (!m->opts.now)
		m->opts.now = mono_now;
	m->out = out;
	for (k = 0; k < 2; k++) {
		m->buckets[k] = calloc(MERGE_BUCKETS, sizeof(*m->buckets[k]));
		if (!m->buckets[k]) {
			free(m->buckets[0]);
			free(m);
			return -ENOMEM;
		}
	}
	for (k = 0; k < 2; k++) {
		TAILQ_INIT(&m->held[k]);
		m->inputs[k].m = m;
		m->inputs[k].kind = k;
		m->inputs[k].sink.emit = input_emit;
		m->inputs[k].sink.ctx = &m->inputs[k];
	}
	*out_merge = m;
	return 0;
}

struct span_sink *span_merge_input(struct span_merge *m, enum span_merge_input which)
{
	return &m->inputs[which].sink;
}

void span_merge_get_stats(const struct span_merge *m, struct span_merge_stats *st)
{
	*st = m->stats;
}

void span_merge_free(struct span_merge *m)
{
	struct held *h;
	int k;

	if (!m)
		return;
	for (k = 0; k < 2; k++)
		while ((h = TAILQ_FIRST(&m->held[k])))
			drop(m, h);
	free(m->buckets[0]);
	free(m->buckets[1]);
	free(m);
}
