// fuzz-sources: lib/spanfile.c lib/process.c lib/span.c lib/jsonw.c lib/span_stats.c lib/output.c
// SPDX-License-Identifier: GPL-2.0-only
/* The span file reader on arbitrary bytes: never crash, hang or read out of bounds; every
 * span it returns must be printable and countable. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "span.h"
#include "span_stats.h"
#include "spanfile.h"

static struct span_stats stats;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct spanfile_process proc;
	struct spanfile_reader *r;
	struct span s;
	char line[8192];
	int item, n = 0;

	if (!stats.routes && span_stats_init(&stats))
		return 0;
	if (spanfile_reader_open_mem(&r, data, size, "fuzz"))
		return 0;
	spanfile_reader_set_quiet(r, true);
	/* Inputs with an odd length skip the checksums, so mutations reach the decoder. */
	spanfile_reader_set_verify(r, size % 2 == 0);
	while ((item = spanfile_next(r, &s, &proc)) > 0 && n++ < 100000) {
		if (item == SPANFILE_SPAN) {
			json_t *o = span_to_json(&s, true);

			json_decref(o);
			span_format_text(&s, line, sizeof(line));
			span_stats_add(&stats, &s);
			if (s.req_headers)
				(void)memchr(s.req_headers, 0, s.req_headers_len + 1);
			if (s.resp_headers)
				(void)memchr(s.resp_headers, 0, s.resp_headers_len + 1);
		} else {
			(void)strlen(proc.comm);
			(void)strlen(proc.exe);
			(void)strlen(proc.cgroup);
		}
	}
	spanfile_reader_meta(r);
	spanfile_reader_close(r);
	return 0;
}
