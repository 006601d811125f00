// SPDX-License-Identifier: GPL-2.0-only
/*
 * Matching the kernel's propagation records to spans (see lib/propagate_match.h). Pure:
 * no BPF, so unit tests drive it with made-up records and spans.
 *
 * The kernel stamps each record with the time of the send it rewrote (or of the
 * receive that brought a server request); the capture's span starts at the time of the
 * event that carried its first byte, which for a send comes after the sk_msg program
 * ran in it. So a client span takes the first unused record of the last send before it
 * on its connection (keyed by socket cookie, the capture's connection id on socket
 * hooks); the heads pipelined in one write share a send and are taken in order. A
 * server span takes its connection's latest record at or just before its start: both
 * come from the same receive (see SERVER_BEFORE_NS).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "propagate_match.h"

/* Connections followed at once (least recently used first out): ~450 bytes each. */
#define MAX_CONNS 32768
/* Records kept per connection: a pipelined write's heads (the kernel follows as many),
 * and those of spans that never came (filtered out) until newer ones push them out. */
#define CONN_RECORDS PROPAGATE_MAX_HEADS
#define CONN_BUCKETS 16384
/*
 * A server span and its record come from the same receive: the kernel stamps the record
 * in the propagation program, which runs on the receive's tracepoint before the
 * capture's program stamps the event (it is attached first), so the span's own record
 * is the latest one at or before its start. How long before: microseconds, but an
 * emulated or preempted CPU can put tens of milliseconds between the two programs.
 * Just after, only when there is none before: in case the programs ran in the other
 * order.
 */
#define SERVER_BEFORE_NS 100000000ull
#define SERVER_AFTER_NS 1000000ull

struct record {
	uint64_t ts;
	uint8_t outcome, has_parent, go_ctx;
	uint8_t trace_id[SPAN_TRACE_ID_LEN];
	uint8_t span_id[SPAN_SPAN_ID_LEN];
	uint8_t parent_id[SPAN_SPAN_ID_LEN];
};

struct pconn {
	uint64_t cookie;
	uint8_t claim;  /* 0: no claim record; PROPAGATE_INJECTED: claimed; else the failure */
	uint8_t lost;   /* what the kernel stopped rewriting for (enum propagate_outcome) */
	uint64_t last_server_start; /* the last server span matched: pipelined ones share it */
	struct record q[CONN_RECORDS];
	uint32_t head, count;
	struct pconn *hnext;
	TAILQ_ENTRY(pconn) lru;
};

struct propagate_match {
	struct pconn *buckets[CONN_BUCKETS];
	TAILQ_HEAD(, pconn) lru;
	size_t nconns;
	uint64_t unmatched;
};

/* ---- the connection table ------------------------------------------------------------- */

static size_t bucket_of(uint64_t cookie)
{
	return (cookie * 0x9e3779b97f4a7c15ull) >> 50 & (CONN_BUCKETS - 1);
}

static struct pconn *conn_find(struct propagate_match *p, uint64_t cookie)
{
	struct pconn *c;

	for (c = p->buckets[bucket_of(cookie)]; c; c = c->hnext)
		if (c->cookie == cookie)
			return c;
	return NULL;
}

static void conn_free(struct propagate_match *p, struct pconn *c)
{
	struct pconn **pp = &p->buckets[bucket_of(c->cookie)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	TAILQ_REMOVE(&p->lru, c, lru);
	p->unmatched += c->count;
	p->nconns--;
	free(c);
}

static struct pconn *conn_get(struct propagate_match *p, uint64_t cookie)
{
	struct pconn *c = conn_find(p, cookie);
	size_t b;

	if (c) {
		TAILQ_REMOVE(&p->lru, c, lru);
		TAILQ_INSERT_TAIL(&p->lru, c, lru);
		return c;
	}
	if (p->nconns >= MAX_CONNS) {
			conn_free(p, TAILQ_FIRST(&p->lru));
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cookie = cookie;
	b = bucket_of(cookie);
	c->hnext = p->buckets[b];
	p->buckets[b] = c;
	TAILQ_INSERT_TAIL(&p->lru, c, lru);
	p->nconns++;
	return c;
}

static struct record *rec_at(struct pconn *c, uint32_t i)
{
	return &c->q[(c->head + i) % CONN_RECORDS];
}

static void rec_drop(struct propagate_match *p, struct pconn *c, uint32_t n)
{
	c->head = (c->head + n) % CONN_RECORDS;
	c->count -= n;
	(void)p;
}

/* ---- records ------------------------------------------------------------------------- */

void propagate_match_record(struct propagate_match *p, const struct propagate_event *ev)
{
	struct record *r;
	struct pconn *c;

	c = conn_get(p, ev->cookie);
	if (!c)
		return;
	if (ev->type == PROPAGATE_EV_CLAIM) {
		c->claim = ev->err ? ev->outcome : PROPAGATE_INJECTED;
		return;
	}
	if (ev->type == PROPAGATE_EV_RELEASE) {
		c->lost = ev->outcome == PROPAGATE_SKIP_NOT_HTTP1 ? ev->outcome : PROPAGATE_SKIP_FRAMING;
		return;
	}
	if (ev->type == PROPAGATE_EV_CLIENT) {
		switch (ev->outcome) {
		case PROPAGATE_SKIP_NOT_HTTP1:
			c->lost = PROPAGATE_SKIP_NOT_HTTP1;
			break;
		case PROPAGATE_SKIP_SPLIT:
		case PROPAGATE_SKIP_LONG_HEAD:
		case PROPAGATE_SKIP_FRAMING:
			c->lost = PROPAGATE_SKIP_FRAMING;
			break;
		}
	}
	if (c->count == CONN_RECORDS) {
		rec_drop(p, c, 1);
		p->unmatched++;
	}
	r = rec_at(c, c->count++);
	r->ts = ev->ts_ns;
	r->outcome = ev->outcome;
	r->has_parent = ev->has_parent;
	r->go_ctx = ev->go_ctx;
	memcpy(r->trace_id, ev->trace_id, sizeof(r->trace_id));
	memcpy(r->span_id, ev->span_id, sizeof(r->span_id));
	memcpy(r->parent_id, ev->parent_id, sizeof(r->parent_id));
}

/* The record of the send that carried the first byte of a request sent at @start:
 * the first unused one of the last send before it. */
static struct record *take_client_record(struct propagate_match *p, struct pconn *c, uint64_t start)
{
	uint32_t i, last = UINT32_MAX;
	uint64_t group;

	for (i = 0; i < c->count; i++)
		if (rec_at(c, i)->ts < start)
			last = i;
	if (last == UINT32_MAX)
		return NULL;
	group = rec_at(c, last)->ts;
	for (i = 0; i < c->count && rec_at(c, i)->ts < group; i++)
		;
	p->unmatched += i; /* older sends' records: their spans never came */
	rec_drop(p, c, i);
	return rec_at(c, 0);
}

static struct record *take_server_record(struct propagate_match *p, struct pconn *c, uint64_t start)
{
	uint32_t i, best = UINT32_MAX;
	uint64_t best_ts = 0;

	if (c->last_server_start == start)
		return NULL; /* pipelined behind the one matched at the same receive */
	/* the latest at or before the start; else the first just after it (the next
	 * request's may already be there, a little later: never preferred) */
	for (i = 0; i < c->count; i++) {
		uint64_t ts = rec_at(c, i)->ts;

		if (ts <= start && ts + SERVER_BEFORE_NS >= start && (best == UINT32_MAX || ts >= best_ts)) {
			best_ts = ts;
			best = i;
		}
	}
	for (i = 0; i < c->count && best == UINT32_MAX; i++)
		if (rec_at(c, i)->ts > start && rec_at(c, i)->ts <= start + SERVER_AFTER_NS)
			best = i;
	if (best == UINT32_MAX)
		return NULL;
	p->unmatched += best;
	rec_drop(p, c, best);
	c->last_server_start = start;
	return rec_at(c, 0);
}

static void apply_client(struct span *s, const struct record *r)
{
	switch (r->outcome) {
	case PROPAGATE_INJECTED:
		s->propagation = SPAN_PROP_SOCKMSG;
		memcpy(s->span_id, r->span_id, sizeof(s->span_id));
		/* A Go program's request that did not get its goroutine's ids (the Go view
		 * knows them) began a new trace: the span says why. */
		if (r->go_ctx == PROPAGATE_GO_NONE)
			s->propagation_reason = SPAN_PROP_R_GO_NONE;
		else if (r->go_ctx == PROPAGATE_GO_STALE)
			s->propagation_reason = SPAN_PROP_R_GO_STALE;
		break;
	case PROPAGATE_EXISTING:
		s->propagation = SPAN_PROP_EXISTING;
		/* The header's parent-id is this request's span, as its sender made it. */
		if (!s->has_parent)
			return;
		memcpy(s->span_id, s->parent_span_id, sizeof(s->span_id));
		/* Its parent is the thread's server request when the header continued
		 * that trace; otherwise it is not known. */
		s->has_parent = r->has_parent && !memcmp(s->trace_id, r->trace_id, sizeof(s->trace_id));
		if (s->has_parent)
			memcpy(s->parent_span_id, r->parent_id, sizeof(s->parent_span_id));
		else
			memset(s->parent_span_id, 0, sizeof(s->parent_span_id));
		return;
	default:
		s->propagation = SPAN_PROP_SKIPPED;
		s->propagation_reason = r->outcome;
		break;
	}
	/* Skipped requests still belong to the thread's trace: their spans link to it. */
	memcpy(s->trace_id, r->trace_id, sizeof(s->trace_id));
	s->has_parent = r->has_parent;
	memcpy(s->parent_span_id, r->parent_id, sizeof(s->parent_span_id));
}

void propagate_match_span(struct propagate_match *p, struct span *s, uint64_t start)
{
	struct pconn *c;
	struct record *r;

	if (s->role != SPAN_ROLE_CLIENT && s->role != SPAN_ROLE_SERVER)
		return;
	c = conn_find(p, s->conn_id);
	if (s->role == SPAN_ROLE_SERVER) {
		r = c ? take_server_record(p, c, start) : NULL;
		if (r) {
			memcpy(s->trace_id, r->trace_id, sizeof(s->trace_id));
			memcpy(s->span_id, r->span_id, sizeof(s->span_id));
			memcpy(s->parent_span_id, r->parent_id, sizeof(s->parent_span_id));
			s->has_parent = r->has_parent;
			rec_drop(p, c, 1);
		}
		return;
	}
	s->propagation = SPAN_PROP_SKIPPED;
	if (!c || !c->claim) {
		s->propagation_reason = SPAN_PROP_R_UNCLAIMED;
	} else if (c->claim != PROPAGATE_INJECTED) {
		s->propagation_reason = c->claim;
	} else if ((r = take_client_record(p, c, start))) {
		apply_client(s, r);
		rec_drop(p, c, 1);
	} else {
		s->propagation_reason = c->lost ? c->lost : SPAN_PROP_R_NO_RECORD;
	}
}

struct propagate_match *propagate_match_new(void)
{
	struct propagate_match *p = calloc(1, sizeof(*p));

	if (p)
		TAILQ_INIT(&p->lru);
	return p;
}

uint64_t propagate_match_unmatched(const struct propagate_match *p)
{
	return p->unmatched;
}

void propagate_match_free(struct propagate_match *p)
{
	if (!p)
		return;
	while (!TAILQ_EMPTY(&p->lru))
		conn_free(p, TAILQ_FIRST(&p->lru));
	free(p);
}
