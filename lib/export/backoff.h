/* SPDX-License-Identifier: GPL-2.0-only */
/* When to try an export again: exponential backoff with jitter, or what the receiver
 * asked for with Retry-After (RFC 9110 §10.2.3: delay-seconds or an HTTP-date). */
#ifndef EHTTP_EXPORT_BACKOFF_H
#define EHTTP_EXPORT_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define BACKOFF_INITIAL_MS 500
#define BACKOFF_MAX_MS 30000
/* A Retry-After longer than this is cut to it: a capture's queue cannot wait an hour. */
#define BACKOFF_RETRY_AFTER_MAX_MS 60000

/* The wait before retry number @attempt (1 = the first retry): INITIAL * 2^(attempt-1)
 * capped at MAX, then scaled by 0.8 + 0.4 * @jitter (@jitter in [0, 1)). */
uint64_t backoff_delay_ms(unsigned int attempt, double jitter);

/* Parse a Retry-After value against @now: true and the delay in ms (capped) when valid. */
bool backoff_retry_after(const char *value, time_t now, uint64_t *delay_ms);

/* Whether an HTTP status from an OTLP receiver is worth retrying: 429 and 5xx. */
bool backoff_retryable_status(long status);

#endif
