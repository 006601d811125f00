/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which kernel record of bpf/propagate.bpf.c belongs to which span: the table of
 * connections with the records not yet taken, and the rules that give a span the ids
 * that went on the wire and what propagation did. Pure: no BPF (lib/propagate.c feeds
 * it from the ring buffer).
 */
#ifndef EHTTP_PROPAGATE_MATCH_H
#define EHTTP_PROPAGATE_MATCH_H

#include <stdint.h>

#include "../bpf/propagate.h"
#include "span.h"

struct propagate_match;

struct propagate_match *propagate_match_new(void);
void propagate_match_free(struct propagate_match *m);
/* A record from the kernel, in the order the ring buffer gives them. */
void propagate_match_record(struct propagate_match *m, const struct propagate_event *ev);
/*
 * Give @s (a span of a selected process; its conn_id is the socket cookie) the ids and
 * the outcome its record says; @start_mono: its start on the kernel's clock. Client
 * spans always get a propagation outcome; server spans get the ids of their context.
 */
void propagate_match_span(struct propagate_match *m, struct span *s, uint64_t start_mono);
/* Records no span took (their spans were filtered out, or lost). */
uint64_t propagate_match_unmatched(const struct propagate_match *m);

#endif
