// fuzz-sources: lib/span_merge.c
/*
 * The Go source's parsing of bytes it does not control: a header line as the probe
 * reads it from the traced program (traceparent, bpf/go_link.h, the code the kernel
 * runs), and the merge's comparison of request targets, one from the wire. Checked:
 * nothing reads outside its buffer (ASan), a line accepted as a traceparent has its
 * name and non-zero ids, and target comparison is symmetric and reflexive.
 *
 * Input: byte 0 picks the line's claimed length beyond what the buffer holds (the
 * kernel copies at most GO_TRACEPARENT_LINE_MAX bytes); the rest is the line, and
 * also two targets split at the first NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "go_link.h"
#include "span_merge.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[GO_TRACEPARENT_LINE_MAX], *a, *b, *nul;
	struct go_traceparent tp;
	uint32_t len;
	size_t n;

	if (!size)
		return 0;
	n = size - 1 < sizeof(line) ? size - 1 : sizeof(line);
	memset(line, 0, sizeof(line));
	memcpy(line, data + 1, n);
	len = (uint32_t)n + (data[0] & 3); /* a claimed length may exceed the copy */
	if (len > sizeof(line))
		len = sizeof(line);
	if (go_parse_traceparent_line(line, len, &tp)) {
		check(len >= GO_TRACEPARENT_NAME + GO_TRACEPARENT_VALUE);
		check((line[0] | 0x20) == 't' && line[11] == ':');
		check(memcmp(tp.trace_id, (uint8_t[16]){ 0 }, 16) != 0);
		check(memcmp(tp.parent_id, (uint8_t[8]){ 0 }, 8) != 0);
	}

	a = malloc(size);
	if (!a)
		return 0;
	memcpy(a, data + 1, size - 1);
	a[size - 1] = 0;
	nul = memchr(a, 0, size);
	b = nul < a + size - 1 ? nul + 1 : nul;
	check(span_merge_same_target(a, a));
	check(span_merge_same_target(a, b) == span_merge_same_target(b, a));
	free(a);
	return 0;
}
