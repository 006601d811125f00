// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <strings.h>

#include "http1_lines.h"
#include "http1_tokens.h"
#include "hex.h"

struct start_token {
	uint8_t len;
	char token[HTTP1_TOKEN_MAX];
};

#define START_TOKEN(n, a, b, c, d, e, f, g, h) { n, { a, b, c, d, e, f, g, h } },
/* The methods a connection's first message may start with, each with its space: the
 * list the kernel side classifies with, kept short and fixed for its bounded loops. */
static const struct start_token start_methods[] = { HTTP1_METHOD_TOKENS(START_TOKEN) };
static const struct start_token start_status[] = { HTTP1_RESPONSE_TOKENS(START_TOKEN) };

enum http1_verdict http1_request_start(const uint8_t *data, size_t len)
{
	enum http1_verdict v = HTTP1_NO;
	size_t i;

	if (len == 0)
		return HTTP1_MAYBE;
	for (i = 0; i < sizeof(start_methods) / sizeof(start_methods[0]); i++) {
		size_t n = start_methods[i].len;

		if (len >= n) {
			if (!memcmp(data, start_methods[i].token, n))
				return HTTP1_YES;
		} else if (!memcmp(data, start_methods[i].token, len)) {
			v = HTTP1_MAYBE;
		}
	}
	return v;
}

enum http1_verdict http1_response_start(const uint8_t *data, size_t len)
{
	const char *prefix = start_status[0].token;
	size_t n = start_status[0].len;

	if (len >= n)
		return memcmp(data, prefix, n) ? HTTP1_NO : HTTP1_YES;
	return memcmp(data, prefix, len) ? HTTP1_NO : HTTP1_MAYBE;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 tchar: a table, as every byte of every field name is looked up */
static const bool tchar[256] = {
	['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true,
	['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true, ['^'] = true, ['_'] = true,
	['`'] = true, ['|'] = true, ['~'] = true,
};

/* "HTTP/1.x" exactly 8 bytes */
static bool parse_version(const char *s, size_t len, uint8_t *major, uint8_t *minor)
{
	if (len != 8 || memcmp(s, "HTTP/1.", 7) || !is_digit(s[7]))
		return false;
	*major = 1;
	*minor = s[7] - '0';
	return true;
}

bool http1_parse_request_line(const char *line, size_t len, struct http1_request_line *out)
{
	const char *sp1, *sp2;
	size_t i;

	sp1 = memchr(line, ' ', len);
	if (!sp1 || sp1 == line || (size_t)(sp1 - line) > HTTP1_METHOD_MAX)
		return false;
	for (i = 0; line + i < sp1; i++)
		if (!((line[i] >= 'A' && line[i] <= 'Z') || line[i] == '-' || line[i] == '_'))
			return false;
	/* The version is the last word: targets never hold a space, but be exact. */
	if (len < (size_t)(sp1 - line) + 1 + 1 + 1 + 8)
		return false;
	sp2 = line + len - 9;
	if (*sp2 != ' ' || sp2 <= sp1 + 1)
		return false;
	if (!parse_version(sp2 + 1, 8, &out->major, &out->minor))
		return false;
	for (i = 1; sp1 + i < sp2; i++) {
		unsigned char c = sp1[i];

		if (c <= ' ' || c == 0x7f)
			return false;
	}
	out->method = line;
	out->method_len = sp1 - line;
	out->target = sp1 + 1;
	out->target_len = sp2 - sp1 - 1;
	return true;
}

bool http1_parse_status_line(const char *line, size_t len, struct http1_status_line *out)
{
	uint16_t status;

	if (len < 12 || !parse_version(line, 8, &out->major, &out->minor) || line[8] != ' ')
		return false;
	if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]))
		return false;
	if (len > 12 && line[12] != ' ')
		return false;
	status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (status < 100 || status > 599)
		return false;
	out->status = status;
	return true;
}

bool http1_parse_field(const char *line, size_t len, const char **name, size_t *name_len,
		       const char **value, size_t *value_len)
{
	const char *v, *end = line + len;
	size_t i = 0;

	/* ':' is not a tchar: the name is the token before the first non-tchar, and
	 * that must be the first colon */
	while (i < len && tchar[(unsigned char)line[i]])
		i++;
	if (i == 0 || i == len || line[i] != ':')
		return false;
	v = line + i + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*name = line;
	*name_len = i;
	*value = v;
	*value_len = end - v;
	return true;
}

/* @name is @lit (lowercase) but for ASCII case, as strncasecmp in the C locale says,
 * without the call: most names differ in their first byte. */
static bool name_is(const char *name, size_t len, const char *lit)
{
	size_t i;

	if (strlen(lit) != len)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

enum http1_field http1_field_kind(const char *name, size_t len)
{
	switch (len) {
	case 4:
		return name_is(name, len, "host") ? HTTP1_F_HOST : HTTP1_F_OTHER;
	case 6:
		return name_is(name, len, "cookie") ? HTTP1_F_CREDENTIAL : HTTP1_F_OTHER;
	case 10:
		return name_is(name, len, "set-cookie") ? HTTP1_F_CREDENTIAL : HTTP1_F_OTHER;
	case 11:
		return name_is(name, len, "traceparent") ? HTTP1_F_TRACEPARENT : HTTP1_F_OTHER;
	case 13:
		return name_is(name, len, "authorization") ? HTTP1_F_CREDENTIAL : HTTP1_F_OTHER;
	case 14:
		return name_is(name, len, "content-length") ? HTTP1_F_CONTENT_LENGTH : HTTP1_F_OTHER;
	case 17:
		return name_is(name, len, "transfer-encoding") ? HTTP1_F_TRANSFER_ENCODING
							     : HTTP1_F_OTHER;
	case 19:
		return name_is(name, len, "proxy-authorization") ? HTTP1_F_CREDENTIAL
							       : HTTP1_F_OTHER;
	default:
		return HTTP1_F_OTHER;
	}
}

/* Lengths past this are not HTTP bodies anyone sends; refusing them keeps sums exact. */
#define LENGTH_MAX (1ull << 60)

bool http1_parse_content_length(const char *value, size_t len, uint64_t *out)
{
	uint64_t first = 0;
	bool have = false;
	size_t i = 0;

	while (i < len) {
		uint64_t n = 0;
		size_t digits = 0;

		while (i < len && (value[i] == ' ' || value[i] == '\t'))
			i++;
		while (i < len && is_digit(value[i])) {
			n = n * 10 + (value[i++] - '0');
			if (++digits > 18 || n > LENGTH_MAX)
				return false;
		}
		if (!digits)
			return false;
		while (i < len && (value[i] == ' ' || value[i] == '\t'))
			i++;
		if (have && n != first)
			return false;
		first = n;
		have = true;
		if (i < len && value[i++] != ',')
			return false;
	}
	if (!have)
		return false;
	*out = first;
	return true;
}

bool http1_te_chunked(const char *value, size_t len)
{
	/* The last coding decides; trailing whitespace was trimmed by the field parser,
	 * parameters (";q=") do not apply to chunked. */
	size_t end = len, start;

	while (end && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	start = end;
	while (start && value[start - 1] != ',' && value[start - 1] != ' ' &&
	       value[start - 1] != '\t')
		start--;
	return end - start == 7 && !strncasecmp(value + start, "chunked", 7);
}

bool http1_parse_chunk_size(const char *line, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i = 0;
	int d;

	while (i < len && (d = hex_digit(line[i])) >= 0) {
		if (i >= 15) /* 16^15 = 2^60: nothing real is that large */
			return false;
		n = n << 4 | (uint64_t)d;
		i++;
	}
	if (i == 0)
		return false;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
		return false;
	*out = n;
	return true;
}
