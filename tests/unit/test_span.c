// SPDX-License-Identifier: GPL-2.0-only
/* The span model's helpers: W3C traceparent parsing, addresses, ids, filters. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "span.h"
#include "span_filter.h"

static bool tp(const char *value, uint8_t *tid, uint8_t *pid)
{
	return span_parse_traceparent(value, strlen(value), tid, pid);
}

Test(span, traceparent_valid)
{
	uint8_t tid[16], pid[8];

	/* The example from the W3C Trace Context specification. */
	cr_assert(tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tid, pid));
	cr_expect_eq(tid[0], 0x4b);
	cr_expect_eq(tid[15], 0x36);
	cr_expect_eq(pid[0], 0x00);
	cr_expect_eq(pid[7], 0xb7);
	cr_expect(tp(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ", tid, pid));
	/* A future version may append fields after a dash. */
	cr_expect(tp("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", tid, pid));
}

Test(span, traceparent_invalid)
{
	uint8_t tid[16], pid[8];

	cr_expect_not(tp("", tid, pid));
	cr_expect_not(tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", tid, pid));
	cr_expect_not(tp("00-00000000000000000000000000000000-00f067aa0ba902b7-01", tid, pid));
	cr_expect_not(tp("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", tid, pid));
	cr_expect_not(tp("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", tid, pid));
	cr_expect_not(tp("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tid, pid));
	cr_expect_not(tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", tid, pid));
	cr_expect_not(tp("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", tid, pid));
}

Test(span, addr_format)
{
	struct span_addr a = { .family = AF_INET, .port = 8080 };
	char buf[64];

	inet_pton(AF_INET, "127.0.0.1", a.addr);
	cr_expect_str_eq(span_addr_format(&a, buf, sizeof(buf)), "127.0.0.1:8080");
	a.family = AF_INET6;
	inet_pton(AF_INET6, "::1", a.addr);
	cr_expect_str_eq(span_addr_format(&a, buf, sizeof(buf)), "[::1]:8080");
	a.family = 0;
	cr_expect_str_eq(span_addr_format(&a, buf, sizeof(buf)), "-");
}

Test(span, ids_unique_and_nonzero)
{
	uint8_t a[8], b[8], zero[8] = { 0 };
	int i;

	for (i = 0; i < 1000; i++) {
		span_new_id(a);
		span_new_id(b);
		cr_assert(memcmp(a, b, 8) != 0);
		cr_assert(memcmp(a, zero, 8) != 0);
	}
}

Test(span, json_keys)
{
	struct span s = { .start_ns = 1000, .end_ns = 3500, .pid = 42, .tid = 43,
			  .role = SPAN_ROLE_SERVER, .source = SPAN_SOURCE_SYSCALL,
			  .http_major = 1, .http_minor = 1, .method = "GET", .target = "/x?y=1",
			  .host = "h", .status = 200, .req_bytes = 10, .resp_bytes = 20 };
	json_t *j;

	strcpy(s.comm, "nginx");
	j = span_to_json(&s, false);
	cr_assert_not_null(j);
	cr_expect_eq(json_integer_value(json_object_get(j, "duration_ns")), 2500);
	cr_expect_str_eq(json_string_value(json_object_get(j, "role")), "server");
	cr_expect_str_eq(json_string_value(json_object_get(j, "version")), "HTTP/1.1");
	cr_expect_str_eq(json_string_value(json_object_get(j, "source")), "syscall");
	cr_expect_str_eq(json_string_value(json_object_get(j, "local")), "-");
	cr_expect_null(json_object_get(j, "trace_id"), "no trace id without a traceparent");
	json_decref(j);
}

Test(span, filter_status)
{
	uint16_t lo, hi;

	cr_expect(span_filter_parse_status("404", &lo, &hi));
	cr_expect(lo == 404 && hi == 404);
	cr_expect(span_filter_parse_status("5xx", &lo, &hi));
	cr_expect(lo == 500 && hi == 599);
	cr_expect_not(span_filter_parse_status("6xx", &lo, &hi));
	cr_expect_not(span_filter_parse_status("40", &lo, &hi));
	cr_expect_not(span_filter_parse_status("4x4", &lo, &hi));
}

Test(span, filter_match, .init = cr_redirect_stderr)
{
	struct span s = { .pid = 7, .method = "POST", .target = "/api/users/1", .status = 503,
			  .local = { .port = 80 }, .remote = { .port = 51000 } };
	struct span_filter f;
	char *args[][2] = { { "--method", "post" }, { "--path", "/api" }, { "--status", "5xx" },
			    { "--port", "51000" }, { "-p", "7" } };
	size_t i;

	strcpy(s.comm, "curl");
	span_filter_init(&f);
	for (i = 0; i < 5; i++)
		cr_assert_eq(span_filter_parse(&f, 2, args[i]), 2);
	cr_expect(span_filter_match(&f, &s));
	s.status = 200;
	cr_expect_not(span_filter_match(&f, &s));
	s.status = 503;
	s.pid = 8;
	cr_expect_not(span_filter_match(&f, &s));

	cr_expect_eq(span_filter_parse(&f, 1, (char *[]){ "--port" }), -1);
	cr_expect_eq(span_filter_parse(&f, 2, (char *[]){ "--port", "70000" }), -1);
	cr_expect_eq(span_filter_parse(&f, 2, (char *[]){ "--frob", "1" }), 0);
}

Test(span, json_survives_bytes_that_are_not_utf8)
{
	/* Targets and headers are bytes off the wire or out of a file; a span whose
	 * strings are not UTF-8 must still print, as valid JSON, with those bytes shown
	 * as '?' and the valid text around them kept. */
	char comm[16] = "srv\xff";
	struct span s = { .method = "GET", .target = "/caf\xe9?x=\xc3", .host = "h\x80st",
			  .req_headers = "X-A: \xfe\r\n", .req_headers_len = 8 };
	json_t *j;
	char *text;

	memcpy(s.comm, comm, sizeof(comm));
	j = span_to_json(&s, true);
	cr_assert_not_null(j);
	cr_expect_str_eq(json_string_value(json_object_get(j, "target")), "/caf??x=?");
	cr_expect_str_eq(json_string_value(json_object_get(j, "host")), "h?st");
	cr_expect_str_eq(json_string_value(json_object_get(j, "comm")), "srv?");
	cr_expect_str_eq(json_string_value(json_object_get(j, "req_headers")), "X-A: ?\r\n");
	text = json_dumps(j, 0);
	cr_assert_not_null(text);
	cr_expect_not_null(json_loads(text, 0, NULL));
	free(text);
	json_decref(j);
}

/* The target as JSON carries it, read back by jansson (an independent parser). */
static char *target_through_json(const char *target)
{
	struct span s = { .method = "GET", .target = target, .host = "" };
	char *text = NULL, *out;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *j;

	span_write_json(f, &s, false);
	fclose(f);
	j = json_loadb(text, len, 0, NULL);
	cr_assert_not_null(j, "not JSON: %s", text);
	out = strdup(json_string_value(json_object_get(j, "target")));
	json_decref(j);
	free(text);
	return out;
}

Test(span, json_strings_escape_and_keep_valid_utf8)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "/a\"b\\c", "/a\"b\\c" },
		{ "/tab\there\r\n\x01\x1f\x7f", "/tab\there\r\n\x01\x1f\x7f" },
		{ "/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80", "/caf\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80" },
		/* not UTF-8: an overlong '/', a surrogate, a cut sequence, past U+10FFFF */
		{ "/\xc0\xaf", "/??" },
		{ "/\xed\xa0\x80", "/???" },
		{ "/\xc3\xa9\xe2\x82", "/????" },
		{ "/\xf4\x90\x80\x80", "/????" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = target_through_json(cases[i].in);

		cr_expect_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
}

/* The JSON text of a span whose request header block is @len bytes at @block. */
static char *json_with_block(const char *block, size_t len, size_t *out_len)
{
	struct span s = { .method = "GET", .target = "/", .host = "", .req_headers = block,
			  .req_headers_len = len };
	char *text = NULL;
	FILE *f = open_memstream(&text, out_len);

	cr_assert_not_null(f);
	span_write_json(f, &s, true);
	cr_assert_eq(fclose(f), 0);
	return text;
}

/* How a byte of a valid UTF-8 string is written: the escapes JSON requires, and the
 * short forms where JSON has them. */
static size_t escaped(unsigned char c, char *out)
{
	switch (c) {
	case '"': return (size_t)sprintf(out, "\\\"");
	case '\\': return (size_t)sprintf(out, "\\\\");
	case '\n': return (size_t)sprintf(out, "\\n");
	case '\r': return (size_t)sprintf(out, "\\r");
	case '\t': return (size_t)sprintf(out, "\\t");
	case '\b': return (size_t)sprintf(out, "\\b");
	case '\f': return (size_t)sprintf(out, "\\f");
	}
	if (c < 0x20)
		return (size_t)sprintf(out, "\\u%04x", c);
	out[0] = c;
	return 1;
}

Test(span, json_escapes_every_byte)
{
	/* Every byte, in a valid UTF-8 string (ASCII and multi-byte sequences) and in one
	 * that is not (where each non-ASCII byte becomes '?'), at lengths that fill the
	 * writer's buffer several times: the text is exact and reads back through jansson. */
	static const char utf8[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\xc2\x80";
	size_t reps[] = { 1, 3, 100 }, r;

	for (r = 0; r < sizeof(reps) / sizeof(reps[0]); r++) {
		for (int valid = 0; valid < 2; valid++) {
			size_t n = 0, w = 0, len, i;
			char *in = malloc(reps[r] * 512), *want = malloc(reps[r] * 4096), *text;
			char *key;
			json_t *j, *v;

			cr_assert(in && want);
			w += (size_t)sprintf(want, ",\"req_headers\":\"");
			for (i = 0; i < reps[r]; i++) {
				for (unsigned int b = 0; b < 0x100; b++) {
					if (valid && b >= 0x80)
						break;
					in[n++] = b;
					w += b < 0x80 ? escaped(b, want + w) : (want[w] = '?', 1);
				}
				if (valid) {
					memcpy(in + n, utf8, sizeof(utf8) - 1);
					memcpy(want + w, utf8, sizeof(utf8) - 1);
					n += sizeof(utf8) - 1;
					w += sizeof(utf8) - 1;
				}
			}
			w += (size_t)sprintf(want + w, "\"}");
			text = json_with_block(in, n, &len);
			key = memmem(text, len, ",\"req_headers\":", 15);
			cr_assert_not_null(key);
			cr_expect_eq((size_t)(text + len - key), w, "reps %zu valid %d", reps[r],
				     valid);
			cr_expect(!memcmp(key, want, w), "reps %zu valid %d", reps[r], valid);
			j = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
			cr_assert_not_null(j, "not JSON (reps %zu valid %d)", reps[r], valid);
			v = json_object_get(j, "req_headers");
			cr_assert_eq(json_string_length(v), n);
			for (i = 0; i < n; i++) {
				unsigned char c = in[i];

				cr_assert_eq((unsigned char)json_string_value(v)[i],
					     valid || c < 0x80 ? c : '?', "byte %zu", i);
			}
			json_decref(j);
			free(text);
			free(in);
			free(want);
		}
	}
}

Test(span, json_numbers_and_addresses)
{
	struct span s = { .start_ns = 0, .end_ns = UINT64_MAX, .pid = UINT32_MAX, .tid = 10,
			  .http_major = 255, .http_minor = 0, .method = "GET", .target = "/",
			  .host = "", .status = 99, .req_bytes = 9999999999999999999ull,
			  .resp_bytes = 10000000000000000000ull, .conn_id = 100 };
	char *text = NULL, buf[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	s.local.family = AF_INET;
	s.local.port = 65535;
	inet_pton(AF_INET, "255.0.10.199", s.local.addr);
	s.remote.family = AF_INET6;
	s.remote.port = 0;
	inet_pton(AF_INET6, "::ffff:10.0.0.1", s.remote.addr);
	cr_assert_not_null(f);
	span_write_json(f, &s, false);
	fclose(f);
	cr_expect_str_eq(text, "{\"start_ns\":0,\"end_ns\":18446744073709551615,"
			       "\"duration_ns\":18446744073709551615,\"role\":\"unknown\","
			       "\"method\":\"GET\",\"target\":\"/\",\"host\":\"\","
			       "\"status\":99,\"version\":\"HTTP/255.0\","
			       "\"pid\":4294967295,\"tid\":10,\"comm\":\"\","
			       "\"local\":\"255.0.10.199:65535\","
			       "\"remote\":\"[::ffff:10.0.0.1]:0\","
			       "\"req_bytes\":9999999999999999999,"
			       "\"resp_bytes\":10000000000000000000,\"source\":\"unknown\","
			       "\"span_id\":\"0000000000000000\",\"conn_id\":100}");
	free(text);
	/* cut to the buffer as snprintf cuts */
	memset(buf, 'x', sizeof(buf));
	cr_expect_str_eq(span_addr_format(&s.local, buf, 8), "255.0.1");
	cr_expect_eq(buf[8], 'x');
	cr_expect_str_eq(span_addr_format(&s.remote, buf, 1), "");
	buf[0] = 'x';
	span_addr_format(&s.remote, buf, 0);
	cr_expect_eq(buf[0], 'x', "nothing written into no room");
}

/* What --propagate did is a contract of the JSON: "sockmsg", "existing", "skipped: ...". */
Test(span, propagation_in_json)
{
	struct span s = { .method = "GET", .target = "/", .host = "" };
	json_t *j;

	j = span_to_json(&s, false);
	cr_expect_null(json_object_get(j, "propagation"), "absent unless asked");
	json_decref(j);
	s.propagation = SPAN_PROP_SOCKMSG;
	j = span_to_json(&s, false);
	cr_expect_str_eq(json_string_value(json_object_get(j, "propagation")), "sockmsg");
	json_decref(j);
	s.propagation = SPAN_PROP_SKIPPED;
	s.propagation_reason = SPAN_PROP_R_SPLIT;
	j = span_to_json(&s, false);
	cr_expect_str_eq(json_string_value(json_object_get(j, "propagation")),
			 "skipped: head split across writes");
	json_decref(j);
}
