/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The script the connection harnesses (HTTP/1, HTTP/2) read after their setup byte:
 * an op byte, then
 *   op & 0x80: close this connection and open a new one with the next setup byte
 *   otherwise: dir = op & 1; n = 1 + next byte captured bytes follow (fewer at the end);
 *              op & 2: a gap of next-byte * 61 bytes (sometimes << 12) after them
 * Each feed moves the clock on by 1 + op >> 3.
 */
#ifndef EHTTP_FUZZ_FEED_SCRIPT_H
#define EHTTP_FUZZ_FEED_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpconn.h"

/* The setup byte a connection opens with: bits 0-1 role (mod 3), 2 midstream, 3 no
 * redaction, 4-5 header cap, 6 no header blocks kept (bit 7 is the harness's own).
 * Times are fed as wall times. */
static inline void script_setup(uint8_t setup, struct httpconn_info *info, struct httpconn_opts *opts)
{
	static const uint32_t header_caps[4] = { 0, 16, 100, 4096 };
	static const struct span_clock identity;

	*info = (struct httpconn_info){ .conn_id = 1, .pid = 1, .source = SPAN_SOURCE_SYSCALL };
	*opts = (struct httpconn_opts){ .clock = &identity };
	info->role = setup % 3;
	info->midstream = setup & 4;
	opts->no_redact = setup & 8;
	opts->max_header_bytes = header_caps[(setup >> 4) & 3];
	opts->no_header_blocks = setup & 0x40;
}

struct script_step {
	bool reopen;   /* close, then open with @setup (unless @last: the script ended) */
	bool last;
	uint8_t setup;
	int dir;
	const uint8_t *data;
	uint32_t n;    /* captured bytes at @data */
	uint64_t gap;  /* bytes not captured after them */
	uint64_t ts;
};

/* The step at *@i of @data (advanced past it); false at the script's end. */
static inline bool script_next(const uint8_t *data, size_t size, size_t *i, uint64_t *ts,
			       struct script_step *st)
{
	uint8_t op;

	if (*i >= size)
		return false;
	op = data[(*i)++];
	*st = (struct script_step){ .ts = *ts };
	if (op & 0x80) {
		st->reopen = true;
		st->last = *i >= size;
		if (!st->last)
			st->setup = data[(*i)++];
		return true;
	}
	if (*i >= size)
		return false;
	st->n = 1 + data[(*i)++];
	if (op & 2) {
		if (*i >= size)
			return false;
		st->gap = (uint64_t)data[(*i)++] * 61;
		if (op & 4)
			st->gap <<= 12;
	}
	if (st->n > size - *i)
		st->n = size - *i;
	st->dir = op & 1;
	st->data = data + *i;
	*i += st->n;
	*ts += 1 + (op >> 3);
	st->ts = *ts;
	return true;
}

#endif
