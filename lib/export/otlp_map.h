/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From ehttp's span model to OpenTelemetry's: what an OTLP span says about one HTTP
 * exchange (name, kind, status, semantic-convention attributes), independent of the
 * encoding (protobuf or OTLP/JSON) that carries it.
 *
 * A sink copies each span into an otlp_item when it is emitted (strings are borrowed
 * from the producer); the mapping runs later, on the exporter thread.
 */
#ifndef EHTTP_EXPORT_OTLP_MAP_H
#define EHTTP_EXPORT_OTLP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"
#include "export/resource.h"

/* One span as queued: the fields the mapping needs, strings copied behind it. */
struct otlp_item {
	struct otlp_item *next;
	uint64_t queued_ms; /* CLOCK_MONOTONIC, set by the queue */
	const struct export_resource *res;
	uint64_t start_ns, end_ns;
	uint8_t trace_id[SPAN_TRACE_ID_LEN];
	uint8_t span_id[SPAN_SPAN_ID_LEN];
	uint8_t parent_span_id[SPAN_SPAN_ID_LEN];
	bool has_parent;
	uint8_t role, source, http_major, http_minor;
	uint16_t status;
	uint32_t flags;
	struct span_addr local, remote;
	uint64_t conn_id;
	uint8_t propagation, propagation_reason; /* enum span_propagation and its reason */
	uint64_t req_bytes, resp_bytes;
	const char *method, *target, *host; /* into strings[] */
	char strings[];
};

/* OTLP strings must be UTF-8, and a span's are bytes from the wire: in a string that
 * is not valid UTF-8 every non-ASCII byte becomes U+FFFD (not '?', which would start a
 * query in a target). otlp_utf8_len gives the length that makes; otlp_utf8_copy writes
 * at most @cap bytes with the NUL, and returns the length written. */
size_t otlp_utf8_len(const char *in, size_t len);
size_t otlp_utf8_copy(char *out, size_t cap, const char *in, size_t len);

/* A copy of @span for the queue (one allocation; free()); strings made UTF-8. A span without a trace id
 * gets a fresh random one: OTLP has no span outside a trace. NULL when out of memory. */
struct otlp_item *otlp_item_new(const struct span *span, const struct export_resource *res);

/* Memory that lives as long as one request being built: never moves, freed at once. */
struct otlp_arena {
	struct otlp_arena_block *head;
};
void *otlp_arena_alloc(struct otlp_arena *a, size_t size);
char *otlp_arena_printf(struct otlp_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void otlp_arena_free(struct otlp_arena *a);

enum otlp_value_type { OTLP_STRING, OTLP_INT, OTLP_BOOL };

struct otlp_attr {
	const char *key;
	enum otlp_value_type type;
	const char *str;
	int64_t i;
};

/* Span kinds and status codes with the published OTLP numbers. */
enum otlp_kind { OTLP_KIND_UNSPECIFIED = 0, OTLP_KIND_SERVER = 2, OTLP_KIND_CLIENT = 3 };
enum otlp_status { OTLP_STATUS_UNSET = 0, OTLP_STATUS_ERROR = 2 };

#define OTLP_MAX_ATTRS 28

struct otlp_mapped {
	const char *name; /* "GET /users/{id}" */
	enum otlp_kind kind;
	enum otlp_status status;
	const char *status_message; /* "" when none */
	struct otlp_attr attrs[OTLP_MAX_ATTRS];
	size_t nattrs;
};

/* Map @it; strings it makes live in @a. */
void otlp_map_span(const struct otlp_item *it, struct otlp_arena *a, struct otlp_mapped *out);

/* The resource attributes of @res (service.name first). Returns how many (<= @cap). */
size_t otlp_map_resource(const struct export_resource *res, struct otlp_attr *attrs, size_t cap);

/* The query of a target with the values of parameters that carry credentials by
 * convention (OpenTelemetry's list: AWSAccessKeyId, Signature, sig, X-Goog-Signature)
 * replaced by REDACTED; in @a. */
const char *otlp_redact_query(const char *query, struct otlp_arena *a);

#endif
