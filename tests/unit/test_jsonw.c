// SPDX-License-Identifier: GPL-2.0-only
/*
 * The JSON writer: escaping, UTF-8, nesting, numbers, and the indented form. jansson
 * is the independent reader: what the writer produces must parse, and its pretty form
 * must be what jansson itself prints for the same document.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "jsonw.h"
#include "span.h"

struct capture_buf {
	char *text;
	size_t len;
	FILE *f;
	struct jsonw w;
};

static struct jsonw *open_buf(struct capture_buf *b, bool pretty)
{
	b->text = NULL;
	b->f = open_memstream(&b->text, &b->len);
	cr_assert_not_null(b->f);
	jsonw_init(&b->w, b->f, pretty);
	return &b->w;
}

/* The text written, owned by the caller. */
static char *close_buf(struct capture_buf *b)
{
	cr_assert_eq(jsonw_flush(&b->w), 0);
	cr_assert_eq(fclose(b->f), 0);
	return b->text;
}

static char *string_json(const char *s, size_t len)
{
	struct capture_buf b;

	jsonw_string_len(open_buf(&b, false), s, len);
	return close_buf(&b);
}

Test(jsonw, escapes_what_json_requires)
{
	static const char in[] = "q\" b\\ s/ n\n r\r t\t b\b f\f \x01\x1f\x7f";
	char *out = string_json(in, sizeof(in) - 1);

	cr_expect_str_eq(out, "\"q\\\" b\\\\ s/ n\\n r\\r t\\t b\\b f\\f \\u0001\\u001f\x7f\"");
	free(out);
}

Test(jsonw, nul_bytes_inside_a_string_are_escaped)
{
	char *out = string_json("a\0b", 3);

	cr_expect_str_eq(out, "\"a\\u0000b\"");
	free(out);
}

Test(jsonw, valid_utf8_is_kept)
{
	static const char in[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	char *out = string_json(in, sizeof(in) - 1);
	json_t *j = json_loads(out, JSON_DECODE_ANY, NULL);

	cr_assert_not_null(j, "not JSON: %s", out);
	cr_expect_str_eq(json_string_value(j), in);
	json_decref(j);
	free(out);
}

Test(jsonw, invalid_utf8_shows_every_non_ascii_byte_as_question_mark)
{
	/* one bad sequence (a lone continuation byte) spoils the whole string: the valid
	 * é is shown as ?? too, as span_write_json has always done */
	static const char lone[] = "caf\xc3\xa9 \x80";
	/* overlong '/', a surrogate, past U+10FFFF, a cut sequence */
	static const char *const bad[] = { "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82" };
	char *out = string_json(lone, sizeof(lone) - 1);
	size_t i;

	cr_expect_str_eq(out, "\"caf?? ?\"");
	free(out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = string_json(bad[i], strlen(bad[i]));
		cr_expect_eq(strspn(out + 1, "?"), strlen(bad[i]), "case %zu: %s", i, out);
		free(out);
	}
}

Test(jsonw, nesting_and_separators)
{
	struct capture_buf b;
	struct jsonw *w = open_buf(&b, false);
	char *out;

	jsonw_start_object(w);
	jsonw_string_field(w, "name", "x");
	jsonw_name(w, "list");
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_null(w);
	jsonw_bool(w, true);
	jsonw_int(w, -9223372036854775807ll - 1);
	jsonw_end_array(w);
	jsonw_bool_field(w, "ok", false);
	jsonw_name(w, "we\"ird");
	jsonw_string(w, NULL);
	jsonw_end_object(w);
	out = close_buf(&b);
	cr_expect_str_eq(out, "{\"name\":\"x\",\"list\":[1,{},[],null,true,-9223372036854775808],"
			      "\"ok\":false,\"we\\\"ird\":null}");
	free(out);
}

Test(jsonw, numbers)
{
	static const uint64_t vals[] = { 0, 1, 9, 10, 99, 100, 999, 1000, 65535, 4294967295ull,
					 999999999999999999ull, 1000000000000000000ull,
					 9999999999999999999ull, 10000000000000000000ull,
					 18446744073709551615ull };
	char want[32], got[32];
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(want, sizeof(want), "%" PRIu64, vals[i]);
		*jsonw_put_dec(got, vals[i]) = '\0';
		cr_expect_str_eq(got, want);
	}
	for (i = 0; i < 64; i++) {
		uint64_t v = (1ull << i) - 1;

		snprintf(want, sizeof(want), "%" PRIu64, v);
		*jsonw_put_dec(got, v) = '\0';
		cr_expect_str_eq(got, want);
	}
}

Test(jsonw, reals_read_back_as_reals)
{
	struct capture_buf b;
	struct jsonw *w = open_buf(&b, false);
	char *out;

	jsonw_start_array(w);
	jsonw_double(w, 0.5);
	jsonw_double(w, 1);
	jsonw_double(w, 0);
	jsonw_double(w, 1e300);
	jsonw_double(w, 0.0 / 0.0);
	jsonw_end_array(w);
	out = close_buf(&b);
	cr_expect_str_eq(out, "[0.5,1.0,0.0,1.0000000000000001e+300,null]");
	free(out);
}

/* A document with every kind of value, written through the writer. */
static void write_doc(struct jsonw *w)
{
	jsonw_start_object(w);
	jsonw_string_field(w, "s", "text \"quoted\"");
	jsonw_uint_field(w, "u", 9223372036854775807ull); /* jansson reads int64 */
	jsonw_int_field(w, "i", -5);
	jsonw_double_field(w, "d", 0.25);
	jsonw_name(w, "empty_array");
	jsonw_start_array(w);
	jsonw_end_array(w);
	jsonw_name(w, "empty_object");
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_name(w, "nested");
	jsonw_start_array(w);
	jsonw_start_object(w);
	jsonw_bool_field(w, "t", true);
	jsonw_name(w, "n");
	jsonw_null(w);
	jsonw_end_object(w);
	jsonw_string(w, "x");
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_uint(w, 2);
	jsonw_end_array(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

/* jansson's own rendering of @compact, indented by 2 (what -p printed before the writer). */
static char *jansson_pretty(const char *compact)
{
	json_t *j = json_loads(compact, JSON_DECODE_ANY, NULL);
	char *text;

	cr_assert_not_null(j, "not JSON: %s", compact);
	text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(2));
	json_decref(j);
	return text;
}

Test(jsonw, pretty_form_is_jansson_indent_2)
{
	struct capture_buf b;
	char *compact, *pretty, *want;

	write_doc(open_buf(&b, false));
	compact = close_buf(&b);
	write_doc(open_buf(&b, true));
	pretty = close_buf(&b);
	want = jansson_pretty(compact);
	cr_expect_str_eq(pretty, want);
	cr_expect(strchr(pretty, '\n'), "pretty form is on several lines");
	free(compact);
	free(pretty);
	free(want);
}

Test(jsonw, span_pretty_form_is_the_compact_one_indented)
{
	static const char hdrs[] = "Host: x\r\nX-Tab:\ta\r\n";
	struct span s = {
		.start_ns = 1764086400123456789ull, .end_ns = 1764086400123498765ull,
		.pid = 1234, .tid = 1235, .comm = "nginx", .role = SPAN_ROLE_SERVER,
		.source = SPAN_SOURCE_SYSCALL, .http_major = 1, .http_minor = 1,
		.flags = SPAN_F_BODY_UNSEEN | SPAN_F_PARTIAL, .conn_id = 4242, .method = "GET",
		.target = "/index.html", .host = "127.0.0.1:8080", .status = 200,
		.req_bytes = 50, .resp_bytes = 853, .has_parent = true,
		.req_headers = hdrs, .req_headers_len = sizeof(hdrs) - 1,
	};
	struct capture_buf b;
	char *compact, *pretty, *want;

	s.local.family = AF_INET;
	s.local.port = 8080;
	inet_pton(AF_INET, "127.0.0.1", s.local.addr);
	span_jsonw(open_buf(&b, false), &s, true);
	compact = close_buf(&b);
	span_jsonw(open_buf(&b, true), &s, true);
	pretty = close_buf(&b);
	want = jansson_pretty(compact);
	cr_expect_str_eq(pretty, want);
	free(compact);
	free(pretty);
	free(want);
}

Test(jsonw, long_strings_pass_the_buffer)
{
	size_t n = 3 * JSONW_BUF + 17, i;
	char *big = malloc(n), *out;
	struct capture_buf b;
	struct jsonw *w = open_buf(&b, false);
	json_t *j;

	for (i = 0; i < n; i++)
		big[i] = i % 97 == 0 ? '\n' : 'a' + i % 26;
	jsonw_start_array(w);
	for (i = 0; i < 3; i++)
		jsonw_string_len(w, big, n);
	jsonw_end_array(w);
	out = close_buf(&b);
	j = json_loads(out, 0, NULL);
	cr_assert_not_null(j);
	cr_expect_eq(json_array_size(j), 3);
	cr_expect_eq(json_string_length(json_array_get(j, 2)), n);
	cr_expect_eq(memcmp(json_string_value(json_array_get(j, 2)), big, n), 0);
	json_decref(j);
	free(out);
	free(big);
}

Test(jsonw, a_top_level_value_reaches_stdio_when_it_ends)
{
	struct capture_buf b;
	struct jsonw *w = open_buf(&b, false);

	jsonw_start_object(w);
	jsonw_uint_field(w, "a", 1);
	cr_expect_gt(w->len, 0, "inside a value, output stays in the writer");
	jsonw_end_object(w);
	cr_expect_eq(w->len, 0, "a complete value is handed to stdio");
	jsonw_eol(w);
	free(close_buf(&b));
}
