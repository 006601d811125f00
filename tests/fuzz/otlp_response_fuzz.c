// fuzz-sources: lib/export/otlp_encode.c lib/export/otlp_map.c lib/export/backoff.c lib/span.c lib/span_stats.c lib/output.c $(OUT)/gen/otlp.pb-c.c
// SPDX-License-Identifier: GPL-2.0-only
/* What an OTLP receiver answers, on arbitrary bytes: the response body in both
 * encodings (partial success) and a Retry-After value. A hostile or broken receiver
 * must not crash the exporter or make it wait beyond the cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/backoff.h"
#include "export/otlp_encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[200], *text;
	uint64_t ms;

	otlp_response_rejected(OTLP_PROTOBUF, data, size, msg, sizeof(msg));
	otlp_response_rejected(OTLP_JSON, data, size, msg, sizeof(msg));
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (backoff_retry_after(text, 1764000000, &ms) && ms > BACKOFF_RETRY_AFTER_MAX_MS)
		abort();
	free(text);
	return 0;
}
