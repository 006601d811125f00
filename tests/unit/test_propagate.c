// SPDX-License-Identifier: GPL-2.0-only
/* Matching propagation records to spans: which record a span takes, and what it says. */
#include <criterion/criterion.h>
#include <string.h>

#include "propagate_match.h"

#define COOKIE 0x1234

static struct propagate_match *m;

static void setup(void)
{
	m = propagate_match_new();
	cr_assert(m);
}

static void teardown(void)
{
	propagate_match_free(m);
}

static void claim(uint64_t cookie, int err, uint8_t outcome)
{
	struct propagate_event ev = { .type = PROPAGATE_EV_CLAIM, .cookie = cookie, .err = err,
				       .outcome = outcome };

	propagate_match_record(m, &ev);
}

/* A record whose ids are all @tag (trace, span; parent @parent or none). */
static void record(uint32_t type, uint64_t ts, uint8_t outcome, uint8_t tag, uint8_t parent)
{
	struct propagate_event ev = { .type = type, .cookie = COOKIE, .ts_ns = ts, .outcome = outcome,
				       .has_parent = parent != 0 };

	memset(ev.trace_id, tag, sizeof(ev.trace_id));
	memset(ev.span_id, tag, sizeof(ev.span_id));
	memset(ev.parent_id, parent, sizeof(ev.parent_id));
	propagate_match_record(m, &ev);
}

static struct span span_of(uint8_t role)
{
	struct span s = { .role = role, .conn_id = COOKIE };

	memset(s.span_id, 0xee, sizeof(s.span_id));
	return s;
}

static void expect_ids(const struct span *s, uint8_t tag)
{
	uint8_t want[SPAN_TRACE_ID_LEN];

	memset(want, tag, sizeof(want));
	cr_expect_eq(memcmp(s->trace_id, want, SPAN_TRACE_ID_LEN), 0, "trace id %02x...", s->trace_id[0]);
	cr_expect_eq(memcmp(s->span_id, want, SPAN_SPAN_ID_LEN), 0, "span id %02x...", s->span_id[0]);
}

TestSuite(propagate, .init = setup, .fini = teardown);

Test(propagate, client_span_takes_the_ids_written)
{
	struct span s = span_of(SPAN_ROLE_CLIENT);

	claim(COOKIE, 0, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_INJECTED, 0x11, 0x22);
	propagate_match_span(m, &s, 150);
	cr_expect_eq(s.propagation, SPAN_PROP_SOCKMSG);
	expect_ids(&s, 0x11);
	cr_expect(s.has_parent);
	cr_expect_eq(s.parent_span_id[0], 0x22);
}

/* The heads of one write share its send's time: taken in order; the next send's record
 * (after the spans' start) is not theirs. */
Test(propagate, pipelined_heads_take_their_send_in_order)
{
	struct span a = span_of(SPAN_ROLE_CLIENT), b = a, c = a, d = a;

	claim(COOKIE, 0, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_INJECTED, 0x11, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_SKIP_PIPELINED, 0x12, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_SKIP_PIPELINED, 0x13, 0);
	record(PROPAGATE_EV_CLIENT, 300, PROPAGATE_INJECTED, 0x14, 0);
	propagate_match_span(m, &a, 150);
	propagate_match_span(m, &b, 150);
	propagate_match_span(m, &c, 150);
	propagate_match_span(m, &d, 350);
	cr_expect_eq(a.propagation, SPAN_PROP_SOCKMSG);
	expect_ids(&a, 0x11);
	cr_expect_eq(b.propagation, SPAN_PROP_SKIPPED);
	cr_expect_eq(b.propagation_reason, SPAN_PROP_R_PIPELINED);
	cr_expect_eq(c.propagation_reason, SPAN_PROP_R_PIPELINED);
	cr_expect_eq(d.propagation, SPAN_PROP_SOCKMSG);
	expect_ids(&d, 0x14);
	cr_expect_eq(propagate_match_unmatched(m), 0);
}

/* A span that never came (filtered out) leaves its record behind: the next span takes
 * its own send's record, and the stale one is counted. */
Test(propagate, stale_records_are_passed_over_and_counted)
{
	struct span s = span_of(SPAN_ROLE_CLIENT);

	claim(COOKIE, 0, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_INJECTED, 0x11, 0);
	record(PROPAGATE_EV_CLIENT, 200, PROPAGATE_INJECTED, 0x12, 0);
	propagate_match_span(m, &s, 250);
	expect_ids(&s, 0x12);
	cr_expect_eq(propagate_match_unmatched(m), 1);
}

Test(propagate, unclaimed_and_refused_connections_say_so)
{
	struct span s = span_of(SPAN_ROLE_CLIENT);

	propagate_match_span(m, &s, 100);
	cr_expect_eq(s.propagation, SPAN_PROP_SKIPPED);
	cr_expect_eq(s.propagation_reason, SPAN_PROP_R_UNCLAIMED);
	claim(COOKIE, -16, PROPAGATE_SKIP_BUSY);
	s = span_of(SPAN_ROLE_CLIENT);
	propagate_match_span(m, &s, 100);
	cr_expect_eq(s.propagation_reason, SPAN_PROP_R_BUSY);
}

/* After a split head the kernel rewrites nothing more, and sends no records. */
Test(propagate, requests_after_lost_boundaries_say_so)
{
	struct span a = span_of(SPAN_ROLE_CLIENT), b = a;

	claim(COOKIE, 0, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_SKIP_SPLIT, 0x11, 0);
	propagate_match_span(m, &a, 150);
	propagate_match_span(m, &b, 250);
	cr_expect_eq(a.propagation_reason, SPAN_PROP_R_SPLIT);
	cr_expect_eq(b.propagation_reason, SPAN_PROP_R_FRAMING);
}

/* A request that had a traceparent: the span is the one its header names. */
Test(propagate, existing_traceparent_is_adopted)
{
	struct span s = span_of(SPAN_ROLE_CLIENT);

	claim(COOKIE, 0, 0);
	record(PROPAGATE_EV_CLIENT, 100, PROPAGATE_EXISTING, 0x11, 0x22);
	s.has_parent = true; /* what the parser read from the header */
	memset(s.trace_id, 0x33, sizeof(s.trace_id));
	memset(s.parent_span_id, 0x44, sizeof(s.parent_span_id));
	propagate_match_span(m, &s, 150);
	cr_expect_eq(s.propagation, SPAN_PROP_EXISTING);
	cr_expect_eq(s.span_id[0], 0x44);
	cr_expect_eq(s.trace_id[0], 0x33);
	cr_expect_not(s.has_parent, "another trace than the thread's: no parent known");
}

/* A server span takes the record of its receive, either side of its start. */
Test(propagate, server_span_takes_its_receive)
{
	struct span a = span_of(SPAN_ROLE_SERVER), b = a, c = a;

	record(PROPAGATE_EV_SERVER, 1000100, 0, 0x11, 0x22);
	record(PROPAGATE_EV_SERVER, 5000000, 0, 0x12, 0);
	propagate_match_span(m, &a, 1000000); /* the record came just after the event */
	propagate_match_span(m, &b, 1000000); /* pipelined behind it in the same receive */
	propagate_match_span(m, &c, 5000050);
	expect_ids(&a, 0x11);
	cr_expect(a.has_parent);
	cr_expect_eq(b.span_id[0], 0xee, "no record of its own");
	expect_ids(&c, 0x12);
	cr_expect_not(c.has_parent);
	cr_expect_eq(a.propagation, SPAN_PROP_NONE, "server spans carry no outcome");
}

/* Between the propagation program's stamp and the capture's, a stalled (emulated,
 * preempted) CPU may spend milliseconds: the latest record before the span is its own;
 * one from far earlier is not. */
Test(propagate, server_span_takes_the_latest_record_before_it)
{
	struct span a = span_of(SPAN_ROLE_SERVER), b = a;

	record(PROPAGATE_EV_SERVER, 10000000, 0, 0x11, 0);
	record(PROPAGATE_EV_SERVER, 40000000, 0, 0x12, 0);
	propagate_match_span(m, &a, 70000000); /* 30 ms after its record */
	expect_ids(&a, 0x12);
	record(PROPAGATE_EV_SERVER, 100000000, 0, 0x13, 0);
	propagate_match_span(m, &b, 300000000); /* 200 ms: not its receive */
	cr_expect_eq(b.span_id[0], 0xee, "no record of its own");
}

/* A fast server's next request may already have its record, a fraction of a millisecond
 * after this span's start: the span keeps its own, from before it. */
Test(propagate, server_span_keeps_its_own_before_the_next_one)
{
	struct span a = span_of(SPAN_ROLE_SERVER), b = a;

	record(PROPAGATE_EV_SERVER, 1000000, 0, 0x11, 0);
	record(PROPAGATE_EV_SERVER, 1000300, 0, 0x12, 0);
	propagate_match_span(m, &a, 1000010);
	propagate_match_span(m, &b, 1000310);
	expect_ids(&a, 0x11);
	expect_ids(&b, 0x12);
}

/* A Go program's request: the ids the Go probes published, or a new trace that says why. */
Test(propagate, go_requests_say_where_their_ids_came_from)
{
	static const uint8_t ctx[] = { PROPAGATE_GO_LINKED, PROPAGATE_GO_NONE, PROPAGATE_GO_STALE };
	static const uint8_t want[] = { SPAN_PROP_R_NONE, SPAN_PROP_R_GO_NONE, SPAN_PROP_R_GO_STALE };
	static const char *const text[] = { "sockmsg", "sockmsg; new trace: no Go context for the sending thread",
					    "sockmsg; new trace: the sending thread's Go context was stale or another request's" };
	char buf[128];

	claim(COOKIE, 0, 0);
	for (int i = 0; i < 3; i++) {
		struct span s = span_of(SPAN_ROLE_CLIENT);
		struct propagate_event ev = { .type = PROPAGATE_EV_CLIENT, .cookie = COOKIE, .ts_ns = 100 + 100 * i,
					       .outcome = PROPAGATE_INJECTED, .go_ctx = ctx[i] };

		memset(ev.trace_id, 0x30 + i, sizeof(ev.trace_id));
		memset(ev.span_id, 0x30 + i, sizeof(ev.span_id));
		propagate_match_record(m, &ev);
		propagate_match_span(m, &s, 150 + 100 * i);
		cr_expect_eq(s.propagation, SPAN_PROP_SOCKMSG);
		cr_expect_eq(s.propagation_reason, want[i], "go_ctx %d: reason %d", ctx[i], s.propagation_reason);
		expect_ids(&s, 0x30 + i);
		cr_expect_str_eq(span_propagation_text(s.propagation, s.propagation_reason, buf, sizeof(buf)), text[i]);
	}
}
