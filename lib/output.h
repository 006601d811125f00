/* SPDX-License-Identifier: GPL-2.0-only */
/* One output path for every command: text or JSON (jansson), errors and chatter. */
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
/* "Warning: ..." on stderr in every mode (warnings never pollute JSON on stdout). */
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational text on stderr; silent in JSON mode. */
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Debug text on stderr, only with -d. */
void p_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print one JSON value on stdout (one line, or indented with -p) and release it.
 * Returns 0, or -1 when stdout could not be written. */
int out_json(json_t *value);
/* As out_json, but stdio decides when to write: for bulk output read from files. */
int out_json_buffered(json_t *value);

#endif
