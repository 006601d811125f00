// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "otlp.pb-c.h"
#include "export/otlp_encode.h"

/* Distinct resources of a batch, in order of first appearance, with their spans. */
struct group {
	const struct export_resource *res;
	size_t n;
	const struct otlp_item **items;
};

static struct group *group_items(const struct otlp_item *items, size_t n, size_t *ngroups)
{
	struct group *g = calloc(n ? n : 1, sizeof(*g));
	const struct otlp_item **slots = calloc(n ? n : 1, sizeof(*slots));
	const struct otlp_item *it;
	size_t k = 0, i, used = 0;

	if (!g || !slots) {
		free(g);
		free(slots);
		return NULL;
	}
	/* count per resource (batches are a few hundred spans from a few processes) */
	for (it = items; it && used < n; it = it->next, used++) {
		for (i = 0; i < k && g[i].res != it->res; i++)
			;
		if (i == k)
			g[k++].res = it->res;
		g[i].n++;
	}
	for (i = 0, used = 0; i < k; i++) {
		g[i].items = slots + used;
		used += g[i].n;
		g[i].n = 0;
	}
	for (it = items, used = 0; it && used < n; it = it->next, used++) {
		for (i = 0; g[i].res != it->res; i++)
			;
		g[i].items[g[i].n++] = it;
	}
	*ngroups = k;
	return g;
}

static void free_groups(struct group *g)
{
	if (g)
		free((void *)g[0].items);
	free(g);
}

/* ---- protobuf ------------------------------------------------------------------------- */

static Otlp__KeyValue **pb_attrs(const struct otlp_attr *attrs, size_t n, struct otlp_arena *a)
{
	Otlp__KeyValue **kvp = otlp_arena_alloc(a, n * sizeof(*kvp) + 1);
	Otlp__KeyValue *kv = otlp_arena_alloc(a, n * sizeof(*kv) + 1);
	Otlp__AnyValue *av = otlp_arena_alloc(a, n * sizeof(*av) + 1);
	size_t i;

	if (!kvp || !kv || !av)
		return NULL;
	for (i = 0; i < n; i++) {
		otlp__key_value__init(&kv[i]);
		otlp__any_value__init(&av[i]);
		kv[i].key = (char *)attrs[i].key;
		kv[i].value = &av[i];
		switch (attrs[i].type) {
		case OTLP_STRING:
			av[i].value_case = OTLP__ANY_VALUE__VALUE_STRING_VALUE;
			av[i].string_value = (char *)attrs[i].str;
			break;
		case OTLP_INT:
			av[i].value_case = OTLP__ANY_VALUE__VALUE_INT_VALUE;
			av[i].int_value = attrs[i].i;
			break;
		case OTLP_BOOL:
			av[i].value_case = OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
			av[i].bool_value = attrs[i].i != 0;
			break;
		}
		kvp[i] = &kv[i];
	}
	return kvp;
}

static Otlp__Span *pb_span(const struct otlp_item *it, struct otlp_arena *a)
{
	Otlp__Span *sp = otlp_arena_alloc(a, sizeof(*sp));
	Otlp__Status *st = otlp_arena_alloc(a, sizeof(*st));
	struct otlp_mapped m;

	if (!sp || !st)
		return NULL;
	otlp_map_span(it, a, &m);
	otlp__span__init(sp);
	otlp__status__init(st);
	sp->trace_id = (ProtobufCBinaryData){ sizeof(it->trace_id), (uint8_t *)it->trace_id };
	sp->span_id = (ProtobufCBinaryData){ sizeof(it->span_id), (uint8_t *)it->span_id };
	if (it->has_parent)
		sp->parent_span_id = (ProtobufCBinaryData){ sizeof(it->parent_span_id),
							    (uint8_t *)it->parent_span_id };
	sp->name = (char *)m.name;
	sp->kind = (Otlp__Span__SpanKind)m.kind;
	sp->start_time_unix_nano = it->start_ns;
	sp->end_time_unix_nano = it->end_ns;
	sp->attributes = pb_attrs(m.attrs, m.nattrs, a);
	if (!sp->attributes)
		return NULL;
	sp->n_attributes = m.nattrs;
	if (m.status != OTLP_STATUS_UNSET) {
		st->code = (Otlp__Status__StatusCode)m.status;
		st->message = (char *)m.status_message;
		sp->status = st;
	}
	return sp;
}

static int encode_protobuf(const struct group *g, size_t ngroups, uint8_t **out, size_t *len)
{
	Otlp__ExportTraceServiceRequest req = OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	Otlp__InstrumentationScope scope = OTLP__INSTRUMENTATION_SCOPE__INIT;
	struct otlp_arena a = { 0 };
	int err = -ENOMEM;
	size_t i, j;

	scope.name = (char *)"ehttp";
	scope.version = (char *)EHTTP_VERSION;
	req.resource_spans = otlp_arena_alloc(&a, ngroups * sizeof(*req.resource_spans) + 1);
	if (!req.resource_spans)
		goto out;
	for (i = 0; i < ngroups; i++) {
		Otlp__ResourceSpans *rs = otlp_arena_alloc(&a, sizeof(*rs));
		Otlp__Resource *res = otlp_arena_alloc(&a, sizeof(*res));
		Otlp__ScopeSpans *ss = otlp_arena_alloc(&a, sizeof(*ss));
		Otlp__ScopeSpans **ssp = otlp_arena_alloc(&a, sizeof(*ssp));
		struct otlp_attr rattrs[OTLP_MAX_ATTRS];
		size_t nr;

		if (!rs || !res || !ss || !ssp)
			goto out;
		otlp__resource_spans__init(rs);
		otlp__resource__init(res);
		otlp__scope_spans__init(ss);
		nr = otlp_map_resource(g[i].res, rattrs, OTLP_MAX_ATTRS);
		res->attributes = pb_attrs(rattrs, nr, &a);
		if (!res->attributes)
			goto out;
		res->n_attributes = nr;
		ss->scope = &scope;
		ss->spans = otlp_arena_alloc(&a, g[i].n * sizeof(*ss->spans));
		if (!ss->spans)
			goto out;
		for (j = 0; j < g[i].n; j++)
			if (!(ss->spans[j] = pb_span(g[i].items[j], &a)))
				goto out;
		ss->n_spans = g[i].n;
		*ssp = ss;
		rs->resource = res;
		rs->scope_spans = ssp;
		rs->n_scope_spans = 1;
		req.resource_spans[i] = rs;
	}
	req.n_resource_spans = ngroups;
	*len = otlp__export_trace_service_request__get_packed_size(&req);
	*out = malloc(*len ? *len : 1);
	if (!*out)
		goto out;
	otlp__export_trace_service_request__pack(&req, *out);
	err = 0;
out:
	otlp_arena_free(&a);
	return err;
}

/* ---- OTLP/JSON ------------------------------------------------------------------------ */

static json_t *json_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char buf[2 * SPAN_TRACE_ID_LEN + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		buf[2 * i] = digits[p[i] >> 4];
		buf[2 * i + 1] = digits[p[i] & 15];
	}
	buf[2 * n] = '\0';
	return json_string(buf);
}

/* 64-bit integers are decimal strings in OTLP/JSON (JavaScript numbers lose them). */
static json_t *json_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

static json_t *json_attrs(const struct otlp_attr *attrs, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *kv = json_object(), *v = json_object();

		switch (attrs[i].type) {
		case OTLP_STRING:
			json_object_set_new(v, "stringValue", json_string(attrs[i].str));
			break;
		case OTLP_INT:
			json_object_set_new(v, "intValue", json_u64((uint64_t)attrs[i].i));
			break;
		case OTLP_BOOL:
			json_object_set_new(v, "boolValue", json_boolean(attrs[i].i));
			break;
		}
		json_object_set_new(kv, "key", json_string(attrs[i].key));
		json_object_set_new(kv, "value", v);
		json_array_append_new(arr, kv);
	}
	return arr;
}

static json_t *json_span(const struct otlp_item *it, struct otlp_arena *a)
{
	json_t *sp = json_object();
	struct otlp_mapped m;

	otlp_map_span(it, a, &m);
	json_object_set_new(sp, "traceId", json_hex(it->trace_id, sizeof(it->trace_id)));
	json_object_set_new(sp, "spanId", json_hex(it->span_id, sizeof(it->span_id)));
	if (it->has_parent)
		json_object_set_new(sp, "parentSpanId", json_hex(it->parent_span_id, sizeof(it->parent_span_id)));
	json_object_set_new(sp, "name", json_string(m.name));
	json_object_set_new(sp, "kind", json_integer(m.kind));
	json_object_set_new(sp, "startTimeUnixNano", json_u64(it->start_ns));
	json_object_set_new(sp, "endTimeUnixNano", json_u64(it->end_ns));
	json_object_set_new(sp, "attributes", json_attrs(m.attrs, m.nattrs));
	if (m.status != OTLP_STATUS_UNSET) {
		json_t *st = json_object();

		json_object_set_new(st, "code", json_integer(m.status));
		json_object_set_new(st, "message", json_string(m.status_message));
		json_object_set_new(sp, "status", st);
	}
	return sp;
}

static int encode_json(const struct group *g, size_t ngroups, uint8_t **out, size_t *len)
{
	json_t *req = json_object(), *rss = json_array();
	struct otlp_arena a = { 0 };
	size_t i, j;
	char *text;

	for (i = 0; i < ngroups; i++) {
		struct otlp_attr rattrs[OTLP_MAX_ATTRS];
		size_t nr = otlp_map_resource(g[i].res, rattrs, OTLP_MAX_ATTRS);
		json_t *rs = json_object(), *res = json_object(), *ss = json_object(),
		       *scope = json_object(), *spans = json_array(), *ssa = json_array();

		for (j = 0; j < g[i].n; j++)
			json_array_append_new(spans, json_span(g[i].items[j], &a));
		json_object_set_new(res, "attributes", json_attrs(rattrs, nr));
		json_object_set_new(scope, "name", json_string("ehttp"));
		json_object_set_new(scope, "version", json_string(EHTTP_VERSION));
		json_object_set_new(ss, "scope", scope);
		json_object_set_new(ss, "spans", spans);
		json_array_append_new(ssa, ss);
		json_object_set_new(rs, "resource", res);
		json_object_set_new(rs, "scopeSpans", ssa);
		json_array_append_new(rss, rs);
	}
	otlp_arena_free(&a);
	json_object_set_new(req, "resourceSpans", rss);
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return -ENOMEM;
	*out = (uint8_t *)text;
	*len = strlen(text);
	return 0;
}

int otlp_encode(enum otlp_format fmt, const struct otlp_item *items, size_t n, uint8_t **out,
		size_t *len)
{
	size_t ngroups = 0;
	struct group *g = group_items(items, n, &ngroups);
	int err;

	if (!g)
		return -ENOMEM;
	err = fmt == OTLP_JSON ? encode_json(g, ngroups, out, len) : encode_protobuf(g, ngroups, out, len);
	free_groups(g);
	return err;
}

int64_t otlp_response_rejected(enum otlp_format fmt, const uint8_t *body, size_t len, char *msg,
			       size_t msg_len)
{
	int64_t rejected = 0;

	msg[0] = '\0';
	if (!len)
		return 0;
	if (fmt == OTLP_JSON) {
		json_t *r = json_loadb((const char *)body, len, 0, NULL), *ps, *v;

		ps = r ? json_object_get(r, "partialSuccess") : NULL;
		if (ps) {
			v = json_object_get(ps, "rejectedSpans");
			rejected = json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
				   : json_is_integer(v) ? json_integer_value(v) : 0;
			v = json_object_get(ps, "errorMessage");
			if (json_is_string(v))
				snprintf(msg, msg_len, "%s", json_string_value(v));
		}
		json_decref(r);
	} else {
		Otlp__ExportTraceServiceResponse *r =
			otlp__export_trace_service_response__unpack(NULL, len, body);

		if (r && r->partial_success) {
			rejected = r->partial_success->rejected_spans;
			snprintf(msg, msg_len, "%s", r->partial_success->error_message);
		}
		if (r)
			otlp__export_trace_service_response__free_unpacked(r, NULL);
	}
	return rejected < 0 ? 0 : rejected;
}
