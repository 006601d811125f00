/* SPDX-License-Identifier: GPL-2.0-only */
/* One output path for every command: text or JSON (one writer), errors and chatter. */
#ifndef EHTTP_OUTPUT_H
#define EHTTP_OUTPUT_H

#include <stdbool.h>
#include <jansson.h>

extern bool json_output;   /* -j: machine-readable output on stdout */
extern bool pretty_output; /* -p: indented JSON (implies -j) */
extern bool debug_output;  /* -d: libbpf and loader chatter on stderr */

/* "Error: ..." on stderr, or {"error": "..."} on stdout in JSON mode. */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While @buf is set, p_err() keeps the first message in it instead of printing: for
 * callers that report a failure as data (check's verdicts). NULL prints again. */
void p_err_divert(char *buf, size_t len);
/* Is p_err() writing into a caller's buffer (the caller says what to do next)? */
bool p_err_diverted(void);
/* "Warning: ..." on stderr in every mode (warnings never pollute JSON on stdout). */
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational text on stderr; silent in JSON mode. */
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug text on stderr, only with -d. */
void p_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct jsonw;
/* The writer of every command's JSON on stdout: compact, or indented with -p. A
 * top-level value reaches stdio when it ends; jsonw_eol() ends its line. */
struct jsonw *out_jsonw(void);
/* End the top-level value just written on stdout: newline and fflush. Returns 0, or -1
 * when stdout could not be written. */
int out_jsonw_end(void);

/* What @write produces through a JSON writer, read back by jansson (for tests, and for
 * callers that want a tree rather than text). NULL when it could not be read. */
json_t *jsonw_read_back(void (*write)(struct jsonw *w, const void *arg), const void *arg);

#endif
