/* SPDX-License-Identifier: GPL-2.0-only */
/* One OTLP ExportTraceServiceRequest from a batch of queued spans: protobuf (through
 * protobuf-c) or OTLP/JSON (hex ids, 64-bit integers as strings). Spans are grouped
 * into one ResourceSpans per process. */
#ifndef EHTTP_EXPORT_OTLP_ENCODE_H
#define EHTTP_EXPORT_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "export/otlp_map.h"

enum otlp_format { OTLP_PROTOBUF = 0, OTLP_JSON = 1 };

/* Encode the @n items of the list @items into a malloc'ed buffer. Returns 0 or -ENOMEM. */
int otlp_encode(enum otlp_format fmt, const struct otlp_item *items, size_t n, uint8_t **out,
		size_t *len);

/* The rejected_spans of an ExportTraceServiceResponse body (partial success), or 0. */
int64_t otlp_response_rejected(enum otlp_format fmt, const uint8_t *body, size_t len,
			       char *msg, size_t msg_len);

#endif
