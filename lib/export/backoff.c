// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "export/backoff.h"

uint64_t backoff_delay_ms(unsigned int attempt, double jitter)
{
	uint64_t d = BACKOFF_INITIAL_MS;

	while (attempt-- > 1 && d < BACKOFF_MAX_MS)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	if (jitter < 0)
		jitter = 0;
	if (jitter >= 1)
		jitter = 0.999;
	return (uint64_t)((double)d * (0.8 + 0.4 * jitter));
}

bool backoff_retry_after(const char *value, time_t now, uint64_t *delay_ms)
{
	const char *p = value;
	time_t when;

	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		char *end;
		unsigned long long s = strtoull(p, &end, 10);

		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end)
			return false;
		*delay_ms = s >= BACKOFF_RETRY_AFTER_MAX_MS / 1000 ? BACKOFF_RETRY_AFTER_MAX_MS : s * 1000;
		return true;
	}
	/* an HTTP-date; curl's parser knows the three formats RFC 9110 accepts */
	when = curl_getdate(p, NULL);
	if (when == -1)
		return false;
	if (when <= now)
		*delay_ms = 0;
	else if ((uint64_t)(when - now) >= BACKOFF_RETRY_AFTER_MAX_MS / 1000)
		*delay_ms = BACKOFF_RETRY_AFTER_MAX_MS;
	else
		*delay_ms = (uint64_t)(when - now) * 1000;
	return true;
}

bool backoff_retryable_status(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}
