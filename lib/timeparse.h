/* SPDX-License-Identifier: GPL-2.0-only */
/* Points in time given on the command line (--since, --until). */
#ifndef EHTTP_TIMEPARSE_H
#define EHTTP_TIMEPARSE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Parse @text into ns since the epoch:
 *   epoch seconds, with an optional fraction:   1764089400, 1764089400.25
 *   RFC 3339:                                   2026-11-25T16:50:00Z, 2026-11-25 16:50:00.5+01:00
 *   RFC 3339 without an offset: local time:     2026-11-25T16:50:00
 * Returns false when @text is none of these.
 */
bool parse_time_arg(const char *text, uint64_t *ns);

#endif
