/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer (after bpftool's json_writer): every command's JSON goes
 * through one, compact or indented (-p), so there is one set of escaping and layout rules.
 *
 *	jsonw_start_object(w);
 *	jsonw_name(w, "pid");  jsonw_uint(w, 42);
 *	jsonw_string_field(w, "comm", "nginx");
 *	jsonw_end_object(w);   -> {"pid":42,"comm":"nginx"}
 *
 * Output is assembled in the writer's buffer and handed to stdio when a top-level value
 * ends (or the buffer fills): a stdio call per token cost more than the formatting when
 * attach prints tens of thousands of spans a second. Strings that are not valid UTF-8
 * have their non-ASCII bytes written as '?': JSON carries UTF-8 only, and what is shown
 * must never be mistaken for what was sent.
 */
#ifndef EHTTP_JSONW_H
#define EHTTP_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define JSONW_BUF 4096
#define JSONW_MAX_DEPTH 64

struct jsonw {
	FILE *f;
	bool pretty;      /* two-space indentation, "key": value, one member per line */
	bool named;       /* a name was written: the next value follows it directly */
	bool failed;      /* a write to f failed */
	unsigned int depth;
	uint64_t nonempty; /* bit d: the container at depth d has a member already */
	size_t len;
	char buf[JSONW_BUF];
};

/* Set up @w for @f; the buffer is left as it is (no need to clear 4 KiB per use). */
void jsonw_init(struct jsonw *w, FILE *f, bool pretty);
/* Hand what is buffered to stdio. Returns 0, or -1 when a write failed. */
int jsonw_flush(struct jsonw *w);

void jsonw_start_object(struct jsonw *w);
void jsonw_end_object(struct jsonw *w);
void jsonw_start_array(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);

/* The name of the next object member (escaped like any string). */
void jsonw_name(struct jsonw *w, const char *name);
void jsonw_string(struct jsonw *w, const char *s);   /* NULL is written as null */
void jsonw_string_len(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* Shortest round-trip form that still reads as a real: 0.5, 1.0, 1e+300. */
void jsonw_double(struct jsonw *w, double v);
/* A newline after a top-level value (one JSON document per line), flushed to stdio. */
void jsonw_eol(struct jsonw *w);

/* name + value in one call. */
void jsonw_string_field(struct jsonw *w, const char *name, const char *s);
void jsonw_uint_field(struct jsonw *w, const char *name, uint64_t v);
void jsonw_int_field(struct jsonw *w, const char *name, int64_t v);
void jsonw_bool_field(struct jsonw *w, const char *name, bool v);
void jsonw_double_field(struct jsonw *w, const char *name, double v);

/*
 * Fast paths for the span printer, the one hot writer: a name that is a literal known to
 * need no escaping, and string values known to need none (ids, addresses, enum names).
 */
/* A member name; @plain: known to need no escaping (a literal). */
void jsonw__member(struct jsonw *w, const char *name, size_t len, bool plain);
void jsonw__separate(struct jsonw *w);
void jsonw__put_slow(struct jsonw *w, const char *p, size_t n);
char *jsonw__room(struct jsonw *w, size_t n);

/* Before a value: right after its name, or separated from the previous element. */
static inline void jsonw__value(struct jsonw *w)
{
	if (w->named)
		w->named = false;
	else
		jsonw__separate(w);
}

/* A top-level value is complete: let stdio have it, so output keeps its order with
 * whatever else the program prints. */
static inline void jsonw__value_done(struct jsonw *w)
{
	if (!w->depth)
		jsonw_flush(w);
}

/* Two decimal digits for each of 0..99. */
static const char jsonw__dec2[] = "00010203040506070809101112131415161718192021222324252627282930"
			   "31323334353637383940414243444546474849505152535455565758596061"
			   "62636465666768697071727374757677787980818283848586878889909192"
			   "93949596979899";

/*
 * Numbers are most of a span's JSON and addresses are in every span: printf's machinery
 * for them cost more than the rest of the line.
 */
/* @v in decimal at @p (up to 20 bytes, not terminated); returns the end. */
static inline char *jsonw_put_dec(char *p, uint64_t v)
{
	static const uint64_t pow10[] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull, 1000000000000000ull,
		10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
		10000000000000000000ull,
	};
	/* the length first (log10 from the bit length, corrected by one comparison), then
	 * the digits in place from the end */
	unsigned int t = (64 - __builtin_clzll(v | 1)) * 1233 >> 12;
	size_t n = t + (v >= pow10[t]);
	char *d;

	if (!n)
		n = 1;
	d = p + n;
	while (v >= 100) {
		d -= 2;
		memcpy(d, jsonw__dec2 + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		d -= 2;
		memcpy(d, jsonw__dec2 + v * 2, 2);
	} else {
		*--d = '0' + v;
	}
	return p + n;
}

static inline void jsonw_uint(struct jsonw *w, uint64_t v)
{
	size_t at;

	jsonw__value(w);
	at = w->len;
	if (at + 20 > JSONW_BUF) {
		jsonw_flush(w);
		at = 0;
	}
	w->len = jsonw_put_dec(w->buf + at, v) - w->buf;
	jsonw__value_done(w);
}

static inline void jsonw_name_lit_len(struct jsonw *w, const char *name, size_t len)
{
	/* fields in locals: stores through char pointers would make the compiler reload them */
	size_t at = w->len;
	uint64_t bit = 1ull << w->depth, nonempty = w->nonempty;

	if (!w->pretty && at + len + 4 <= JSONW_BUF) {
		char *p = w->buf + at;

		if (nonempty & bit)
			*p++ = ',';
		*p = '"';
		memcpy(p + 1, name, len);
		p[len + 1] = '"';
		p[len + 2] = ':';
		w->len = p + len + 3 - w->buf;
		w->nonempty = nonempty | bit;
		w->named = true;
		return;
	}
	jsonw__member(w, name, len, true);
}
#define jsonw_name_lit(w, lit) jsonw_name_lit_len(w, "" lit, sizeof(lit) - 1)

/*
 * A member name literal that is not its object's first (a separator goes before it): as
 * one copy of ",\"name\":" in compact form, which keeps the span printer as fast as
 * writing the line by hand.
 */
static inline void jsonw__next(struct jsonw *w, const char *sep_lit, size_t sep_len,
			       const char *name, size_t len)
{
	size_t at = w->len;

	if (!w->pretty && at + sep_len <= JSONW_BUF) {
		memcpy(w->buf + at, sep_lit, sep_len);
		w->len = at + sep_len;
		w->named = true;
		return;
	}
	jsonw__member(w, name, len, true);
}
#define jsonw_next_name_lit(w, lit) \
	jsonw__next(w, ",\"" lit "\":", sizeof(lit) + 3, "" lit, sizeof(lit) - 1)

/* A string value that needs no escaping, as it is. */
static inline void jsonw_plain_len(struct jsonw *w, const char *s, size_t len)
{
	size_t at;
	char *p;

	jsonw__value(w);
	at = w->len;
	if (at + len + 2 > JSONW_BUF) {
		jsonw__put_slow(w, "\"", 1);
		jsonw__put_slow(w, s, len);
		jsonw__put_slow(w, "\"", 1);
		return;
	}
	p = w->buf + at;
	p[0] = '"';
	memcpy(p + 1, s, len);
	p[len + 1] = '"';
	w->len = at + len + 2;
}

/* Whether @len bytes of @text are valid UTF-8 (no overlong forms or surrogates). */
bool jsonw_utf8_valid(const char *text, size_t len);

#endif
