// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "jsonw.h"
#include "output.h"

bool json_output;
bool pretty_output;
bool debug_output;

struct jsonw *out_jsonw(void)
{
	static struct jsonw w;

	if (!w.f)
		jsonw_init(&w, stdout, pretty_output);
	if (!w.depth)
		w.pretty = pretty_output; /* -p may come after the command */
	return &w;
}

int out_jsonw_end(void)
{
	struct jsonw *w = out_jsonw();

	jsonw_eol(w);
	if (fflush(stdout))
		w->failed = true;
	return w->failed ? -1 : 0;
}

json_t *jsonw_read_back(void (*write)(struct jsonw *w, const void *arg), const void *arg)
{
	struct jsonw *w = malloc(sizeof(*w));
	char *text = NULL;
	size_t len = 0;
	json_t *o = NULL;
	FILE *f;

	if (!w)
		return NULL;
	f = open_memstream(&text, &len);
	if (f) {
		jsonw_init(w, f, false);
		write(w, arg);
		jsonw_flush(w);
		if (!fclose(f) && !w->failed)
			o = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
		free(text);
	}
	free(w);
	return o;
}

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

bool p_err_diverted(void)
{
	return divert_buf != NULL;
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
		struct jsonw *w = out_jsonw();
		char *msg = NULL;

		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
		jsonw_start_object(w);
		jsonw_string_field(w, "error", msg ? msg : "out of memory");
		jsonw_end_object(w);
		out_jsonw_end();
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
