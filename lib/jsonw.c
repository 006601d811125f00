// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

void jsonw_init(struct jsonw *w, FILE *f, bool pretty)
{
	w->f = f;
	w->pretty = pretty;
	w->named = false;
	w->failed = false;
	w->depth = 0;
	w->nonempty = 0;
	w->len = 0;
}

int jsonw_flush(struct jsonw *w)
{
	if (w->len && fwrite_unlocked(w->buf, 1, w->len, w->f) != w->len)
		w->failed = true;
	w->len = 0;
	return w->failed ? -1 : 0;
}

char *jsonw__room(struct jsonw *w, size_t n)
{
	if (n > JSONW_BUF - w->len) {
		jsonw_flush(w);
		if (n > JSONW_BUF)
			return NULL;
	}
	return w->buf + w->len;
}

void jsonw__put_slow(struct jsonw *w, const char *p, size_t n)
{
	char *d = jsonw__room(w, n);

	if (!d) {
		if (fwrite_unlocked(p, 1, n, w->f) != n)
			w->failed = true;
		return;
	}
	memcpy(d, p, n);
	w->len += n;
}

static inline void put(struct jsonw *w, const char *p, size_t n)
{
	if (n <= JSONW_BUF - w->len) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		return;
	}
	jsonw__put_slow(w, p, n);
}

static inline void putch(struct jsonw *w, char c)
{
	if (w->len == JSONW_BUF)
		jsonw_flush(w);
	w->buf[w->len++] = c;
}

static void indent(struct jsonw *w, unsigned int depth)
{
	static const char spaces[] = "                                ";
	size_t n = depth * 2;

	putch(w, '\n');
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put(w, spaces, k);
		n -= k;
	}
}

/* Before a member or an array element of the container at the current depth. */
void jsonw__separate(struct jsonw *w)
{
	uint64_t bit = 1ull << w->depth;

	if (!w->depth)
		return;
	if (w->nonempty & bit)
		putch(w, ',');
	w->nonempty |= bit;
	if (w->pretty)
		indent(w, w->depth);
}


static void start(struct jsonw *w, char c)
{
	jsonw__value(w);
	putch(w, c);
	if (w->depth + 1 < JSONW_MAX_DEPTH)
		w->depth++;
	w->nonempty &= ~(1ull << w->depth);
}

static void end(struct jsonw *w, char c)
{
	if (w->pretty && (w->nonempty & (1ull << w->depth)))
		indent(w, w->depth - 1);
	if (w->depth)
		w->depth--;
	putch(w, c);
	jsonw__value_done(w);
}

void jsonw_start_object(struct jsonw *w) { start(w, '{'); }
void jsonw_end_object(struct jsonw *w) { end(w, '}'); }
void jsonw_start_array(struct jsonw *w) { start(w, '['); }
void jsonw_end_array(struct jsonw *w) { end(w, ']'); }

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned int c = s[0], cp;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool jsonw_utf8_valid(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			uint64_t word;

			/* mostly ASCII: skip it 8 bytes at a time */
			i++;
			while (i + 8 <= len && (memcpy(&word, s + i, 8), !(word & 0x8080808080808080ull)))
				i += 8;
			continue;
		}
		n = utf8_seq(s + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* What a byte needs in a JSON string: an escape, or '?' when the string is not UTF-8. */
enum { J_ESC = 1, J_HIGH = 2 };
static const unsigned char json_byte[256] = {
	[0x00 ... 0x1f] = J_ESC, ['"'] = J_ESC, ['\\'] = J_ESC, [0x80 ... 0xff] = J_HIGH,
};

/* The quoted string; runs of bytes that need nothing are copied as they are. */
static void put_string(struct jsonw *w, const char *text, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)text;
	unsigned char stop = jsonw_utf8_valid(text, len) ? J_ESC : J_ESC | J_HIGH;
	size_t i = 0, run;
	char *p;

	putch(w, '"');
	while (i < len) {
		unsigned char c;

		for (run = i; i < len && !(json_byte[s[i]] & stop); i++)
			;
		put(w, text + run, i - run);
		if (i == len)
			break;
		c = s[i++];
		p = jsonw__room(w, 6);
		if (c >= 0x80) {
			p[0] = '?';
			w->len += 1;
			continue;
		}
		p[0] = '\\';
		w->len += 2;
		switch (c) {
		case '"': p[1] = '"'; break;
		case '\\': p[1] = '\\'; break;
		case '\n': p[1] = 'n'; break;
		case '\r': p[1] = 'r'; break;
		case '\t': p[1] = 't'; break;
		case '\b': p[1] = 'b'; break;
		case '\f': p[1] = 'f'; break;
		default:
			memcpy(p + 1, "u00", 3);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			w->len += 4;
			break;
		}
	}
	putch(w, '"');
}

void jsonw__member(struct jsonw *w, const char *name, size_t len, bool plain)
{
	jsonw__separate(w);
	if (plain) {
		putch(w, '"');
		put(w, name, len);
		putch(w, '"');
	} else {
		put_string(w, name, len);
	}
	if (w->pretty)
		put(w, ": ", 2);
	else
		putch(w, ':');
	w->named = true;
}

void jsonw_name(struct jsonw *w, const char *name)
{
	jsonw__member(w, name, strlen(name), false);
}

void jsonw_string_len(struct jsonw *w, const char *s, size_t len)
{
	jsonw__value(w);
	put_string(w, s ? s : "", s ? len : 0);
	jsonw__value_done(w);
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (!s) {
		jsonw_null(w);
		return;
	}
	jsonw_string_len(w, s, strlen(s));
}

void jsonw_int(struct jsonw *w, int64_t v)
{
	char *p;

	jsonw__value(w);
	p = jsonw__room(w, 21);
	if (v < 0) {
		*p++ = '-';
		w->len = jsonw_put_dec(p, -(uint64_t)v) - w->buf;
	} else {
		w->len = jsonw_put_dec(p, v) - w->buf;
	}
	jsonw__value_done(w);
}

static void put_literal(struct jsonw *w, const char *lit, size_t len)
{
	jsonw__value(w);
	put(w, lit, len);
	jsonw__value_done(w);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	if (v)
		put_literal(w, "true", 4);
	else
		put_literal(w, "false", 5);
}

void jsonw_null(struct jsonw *w)
{
	put_literal(w, "null", 4);
}

void jsonw_double(struct jsonw *w, double v)
{
	char text[40];
	int n;

	if (!isfinite(v)) { /* JSON has no NaN or infinity */
		jsonw_null(w);
		return;
	}
	n = snprintf(text, sizeof(text), "%.17g", v);
	/* a real stays a real when read back: "1" -> "1.0" */
	if (!strpbrk(text, ".eE") && n + 2 < (int)sizeof(text)) {
		memcpy(text + n, ".0", 3);
		n += 2;
	}
	put_literal(w, text, n);
}

void jsonw_eol(struct jsonw *w)
{
	if (w->len) {
		putch(w, '\n');
		jsonw_flush(w);
	} else if (putc_unlocked('\n', w->f) == EOF) {
		w->failed = true;
	}
}

/* name + value in one call, for each kind of value */
#define FIELD(kind, type)                                                      \
	void jsonw_##kind##_field(struct jsonw *w, const char *name, type v) \
	{                                                                      \
		jsonw_name(w, name);                                           \
		jsonw_##kind(w, v);                                            \
	}
FIELD(string, const char *)
FIELD(uint, uint64_t)
FIELD(int, int64_t)
FIELD(bool, bool)
FIELD(double, double)
