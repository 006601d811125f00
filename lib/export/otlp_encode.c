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

/* Written straight into one buffer: building a jansson tree cost ten times the time of
 * the protobuf encoding. Strings are UTF-8 already (otlp_item_new made them so). */
struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static char *jb_room(struct jbuf *b, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64 << 10;
		char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = b->oom ? NULL : realloc(b->p, cap);
		if (!p) {
			b->oom = true; /* the request is dropped whole */
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p + b->len;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	char *p = jb_room(b, n);

	if (p) {
		memcpy(p, s, n);
		b->len += n;
	}
}

#define JB_LIT(b, lit) jb_put(b, "" lit, sizeof(lit) - 1)

static void jb_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;

	JB_LIT(b, "\"");
	while (*s) {
		for (run = s; *s && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20; s++)
			;
		jb_put(b, run, s - run);
		if (!*s)
			break;
		if (*s == '"' || *s == '\\') {
			char esc[2] = { '\\', *s };

			jb_put(b, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[(unsigned char)*s >> 4], hex[*s & 15] };

			jb_put(b, esc, 6);
		}
		s++;
	}
	JB_LIT(b, "\"");
}

/* 64-bit integers are decimal strings in OTLP/JSON (JavaScript numbers lose them). */
static void jb_u64(struct jbuf *b, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "\"%" PRIu64 "\"", v);

	jb_put(b, buf, (size_t)n);
}

static void jb_hex(struct jbuf *b, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char buf[2 * SPAN_TRACE_ID_LEN + 2];
	size_t i;

	buf[0] = '"';
	for (i = 0; i < n; i++) {
		buf[1 + 2 * i] = digits[p[i] >> 4];
		buf[2 + 2 * i] = digits[p[i] & 15];
	}
	buf[1 + 2 * n] = '"';
	jb_put(b, buf, 2 * n + 2);
}

static void jb_attrs(struct jbuf *b, const struct otlp_attr *attrs, size_t n)
{
	size_t i;

	JB_LIT(b, "[");
	for (i = 0; i < n; i++) {
		if (i)
			JB_LIT(b, ",");
		JB_LIT(b, "{\"key\":");
		jb_str(b, attrs[i].key);
		switch (attrs[i].type) {
		case OTLP_STRING:
			JB_LIT(b, ",\"value\":{\"stringValue\":");
			jb_str(b, attrs[i].str);
			break;
		case OTLP_INT:
			JB_LIT(b, ",\"value\":{\"intValue\":");
			jb_u64(b, (uint64_t)attrs[i].i);
			break;
		case OTLP_BOOL:
			if (attrs[i].i)
				JB_LIT(b, ",\"value\":{\"boolValue\":true");
			else
				JB_LIT(b, ",\"value\":{\"boolValue\":false");
			break;
		}
		JB_LIT(b, "}}");
	}
	JB_LIT(b, "]");
}

static void jb_span(struct jbuf *b, const struct otlp_item *it, struct otlp_arena *a)
{
	struct otlp_mapped m;
	char kind[32];

	otlp_map_span(it, a, &m);
	JB_LIT(b, "{\"traceId\":");
	jb_hex(b, it->trace_id, sizeof(it->trace_id));
	JB_LIT(b, ",\"spanId\":");
	jb_hex(b, it->span_id, sizeof(it->span_id));
	if (it->has_parent) {
		JB_LIT(b, ",\"parentSpanId\":");
		jb_hex(b, it->parent_span_id, sizeof(it->parent_span_id));
	}
	JB_LIT(b, ",\"name\":");
	jb_str(b, m.name);
	jb_put(b, kind, (size_t)snprintf(kind, sizeof(kind), ",\"kind\":%d", (int)m.kind));
	JB_LIT(b, ",\"startTimeUnixNano\":");
	jb_u64(b, it->start_ns);
	JB_LIT(b, ",\"endTimeUnixNano\":");
	jb_u64(b, it->end_ns);
	JB_LIT(b, ",\"attributes\":");
	jb_attrs(b, m.attrs, m.nattrs);
	if (m.status != OTLP_STATUS_UNSET) {
		jb_put(b, kind, (size_t)snprintf(kind, sizeof(kind), ",\"status\":{\"code\":%d", (int)m.status));
		JB_LIT(b, ",\"message\":");
		jb_str(b, m.status_message);
		JB_LIT(b, "}");
	}
	JB_LIT(b, "}");
}

static int encode_json(const struct group *g, size_t ngroups, uint8_t **out, size_t *len)
{
	struct jbuf b = { 0 };
	size_t i, j;

	JB_LIT(&b, "{\"resourceSpans\":[");
	for (i = 0; i < ngroups; i++) {
		struct otlp_attr rattrs[OTLP_MAX_ATTRS];
		size_t nr = otlp_map_resource(g[i].res, rattrs, OTLP_MAX_ATTRS);
		struct otlp_arena a = { 0 };

		if (i)
			JB_LIT(&b, ",");
		JB_LIT(&b, "{\"resource\":{\"attributes\":");
		jb_attrs(&b, rattrs, nr);
		JB_LIT(&b, "},\"scopeSpans\":[{\"scope\":{\"name\":\"ehttp\",\"version\":");
		jb_str(&b, EHTTP_VERSION);
		JB_LIT(&b, "},\"spans\":[");
		for (j = 0; j < g[i].n; j++) {
			if (j)
				JB_LIT(&b, ",");
			jb_span(&b, g[i].items[j], &a);
		}
		otlp_arena_free(&a);
		JB_LIT(&b, "]}]}");
	}
	JB_LIT(&b, "]}");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = (uint8_t *)b.p;
	*len = b.len;
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
