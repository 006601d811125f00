// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"

bool json_output;
bool pretty_output;
bool debug_output;

static void vprefixed(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, f);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
}

static char *divert_buf;
static size_t divert_len;

void p_err_divert(char *buf, size_t len)
{
	divert_buf = len ? buf : NULL;
	divert_len = len;
	if (divert_buf)
		divert_buf[0] = '\0';
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (divert_buf) {
		/* The first error is the one that says what failed. */
		if (!divert_buf[0])
			vsnprintf(divert_buf, divert_len, fmt, ap);
	} else if (json_output) {
		char *msg = NULL;

		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		out_json(json_pack("{s:s}", "error", msg ? msg : "out of memory"));
		free(msg);
	} else {
		fflush(stdout);
		vprefixed(stderr, "Error: ", fmt, ap);
	}
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fflush(stdout);
	vprefixed(stderr, "Warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (json_output)
		return;
	va_start(ap, fmt);
	vprefixed(stderr, "", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!debug_output)
		return;
	va_start(ap, fmt);
	vprefixed(stderr, "debug: ", fmt, ap);
	va_end(ap);
}

static int dump_json(json_t *value, bool flush)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty_output ? JSON_INDENT(2) : JSON_COMPACT);
	char buf[8192], *text = buf;
	size_t len;
	int err = 0;

	if (!value)
		return -1;
	/* Render whole, then write once: dumping straight to the stream costs a locked
	 * stdio call per token, which dominates a capture printing thousands of spans/s. */
	len = json_dumpb(value, buf, sizeof(buf) - 1, flags);
	if (len >= sizeof(buf) - 1) {
		text = malloc(len + 1);
		if (!text || json_dumpb(value, text, len, flags) != len)
			err = -1;
	}
	json_decref(value);
	if (!err && len) {
		text[len] = '\n';
		if (fwrite(text, 1, len + 1, stdout) != len + 1)
			err = -1;
	} else {
		err = -1;
	}
	if (text != buf)
		free(text);
	if (err)
		return -1;
	if (!flush)
		return ferror(stdout) ? -1 : 0;
	return fflush(stdout) ? -1 : 0;
}

int out_json(json_t *value)
{
	return dump_json(value, true);
}

int out_json_buffered(json_t *value)
{
	return dump_json(value, false);
}
