// SPDX-License-Identifier: GPL-2.0-only
/* The exporters' pure parts: span → OTLP mapping, query redaction, container ids,
 * backoff and Retry-After, the bounded queue's accounting, request grouping (decoded
 * back with protobuf-c), Prometheus rendering and the route cap. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "otlp.pb-c.h"
#include "export/backoff.h"
#include "export/metrics.h"
#include "export/otlp.h"
#include "export/otlp_encode.h"
#include "export/otlp_map.h"
#include "export/resource.h"

static struct export_resource res = { .pid = 42, .service = "web", .comm = "web",
				      .exe = "/usr/sbin/web", .host = "h1" };

static struct span make_span(uint8_t role, const char *method, const char *target, uint16_t status)
{
	struct span s = { .start_ns = 1000, .end_ns = 3000, .pid = 42, .role = role,
			  .source = SPAN_SOURCE_SYSCALL, .http_major = 1, .http_minor = 1,
			  .method = method, .target = target, .host = "shop.example:8080",
			  .status = status, .req_bytes = 100, .resp_bytes = 200 };

	s.local.family = AF_INET;
	s.local.port = 8080;
	inet_pton(AF_INET, "10.0.0.1", s.local.addr);
	s.remote.family = AF_INET;
	s.remote.port = 5555;
	inet_pton(AF_INET, "10.0.0.2", s.remote.addr);
	memset(s.span_id, 0xab, sizeof(s.span_id));
	return s;
}

static const struct otlp_attr *attr(const struct otlp_mapped *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->nattrs; i++)
		if (!strcmp(m->attrs[i].key, key))
			return &m->attrs[i];
	return NULL;
}

static const char *sattr(const struct otlp_mapped *m, const char *key)
{
	const struct otlp_attr *a = attr(m, key);

	return a && a->type == OTLP_STRING ? a->str : NULL;
}

static struct otlp_mapped map(const struct span *s, struct otlp_arena *a, struct otlp_item **it)
{
	struct otlp_mapped m;

	*it = otlp_item_new(s, &res);
	cr_assert(*it);
	otlp_map_span(*it, a, &m);
	return m;
}

Test(otlp_map, server_span)
{
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/users/42?q=1&sig=abc", 200);
	struct otlp_arena a = { 0 };
	struct otlp_item *it;
	struct otlp_mapped m = map(&s, &a, &it);
	static const uint8_t zero[SPAN_TRACE_ID_LEN];

	cr_expect_str_eq(m.name, "GET /users/{id}");
	cr_expect_eq(m.kind, OTLP_KIND_SERVER);
	cr_expect_eq(m.status, OTLP_STATUS_UNSET);
	cr_expect_str_eq(sattr(&m, "http.request.method"), "GET");
	cr_expect_str_eq(sattr(&m, "url.path"), "/users/42");
	cr_expect_str_eq(sattr(&m, "url.query"), "q=1&sig=REDACTED");
	cr_expect_str_eq(sattr(&m, "http.route"), "/users/{id}");
	cr_expect_eq(attr(&m, "http.response.status_code")->i, 200);
	cr_expect_str_eq(sattr(&m, "server.address"), "shop.example");
	cr_expect_eq(attr(&m, "server.port")->i, 8080);
	cr_expect_str_eq(sattr(&m, "client.address"), "10.0.0.2");
	cr_expect_str_eq(sattr(&m, "network.protocol.version"), "1.1");
	cr_expect_eq(attr(&m, "http.request.size")->i, 100);
	cr_expect_eq(attr(&m, "http.response.size")->i, 200);
	cr_expect_null(attr(&m, "url.full"));
	cr_expect_null(attr(&m, "error.type"));
	/* no traceparent: a trace id is minted, and no parent is claimed */
	cr_expect_neq(memcmp(it->trace_id, zero, sizeof(zero)), 0);
	cr_expect_not(it->has_parent);
	free(it);
	otlp_arena_free(&a);
}

Test(otlp_map, errors_by_role)
{
	struct otlp_arena a = { 0 };
	struct otlp_item *it;
	struct span s;
	struct otlp_mapped m;

	s = make_span(SPAN_ROLE_SERVER, "GET", "/x", 404);
	m = map(&s, &a, &it);
	cr_expect_eq(m.status, OTLP_STATUS_UNSET, "a 404 is the client's error, not the server's");
	free(it);
	s = make_span(SPAN_ROLE_CLIENT, "GET", "/x", 404);
	m = map(&s, &a, &it);
	cr_expect_eq(m.status, OTLP_STATUS_ERROR);
	cr_expect_str_eq(sattr(&m, "error.type"), "404");
	cr_expect_eq(m.kind, OTLP_KIND_CLIENT);
	cr_expect_str_eq(sattr(&m, "url.full"), "http://shop.example:8080/x");
	cr_expect_str_eq(sattr(&m, "server.address"), "shop.example");
	cr_expect_eq(attr(&m, "server.port")->i, 5555, "a client's server is the remote end");
	cr_expect_null(attr(&m, "client.address"));
	free(it);
	s = make_span(SPAN_ROLE_SERVER, "POST", "/x", 503);
	m = map(&s, &a, &it);
	cr_expect_eq(m.status, OTLP_STATUS_ERROR);
	free(it);
	s = make_span(SPAN_ROLE_SERVER, "GET", "/x", 0);
	s.flags = SPAN_F_PARTIAL;
	m = map(&s, &a, &it);
	cr_expect_eq(m.status, OTLP_STATUS_ERROR);
	cr_expect_str_eq(sattr(&m, "error.type"), "incomplete");
	cr_expect_null(attr(&m, "http.response.status_code"));
	cr_expect_str_eq(sattr(&m, "ehttp.flags"), "partial");
	cr_expect_null(attr(&m, "ehttp.propagation"), "no --propagate, no attribute");
	free(it);
	s = make_span(SPAN_ROLE_CLIENT, "GET", "/x", 200);
	s.propagation = SPAN_PROP_SKIPPED;
	s.propagation_reason = SPAN_PROP_R_PIPELINED;
	m = map(&s, &a, &it);
	cr_expect_str_eq(sattr(&m, "ehttp.propagation"), "skipped: pipelined after the first request in one write");
	free(it);
	s.propagation = SPAN_PROP_SOCKMSG;
	m = map(&s, &a, &it);
	cr_expect_str_eq(sattr(&m, "ehttp.propagation"), "sockmsg");
	free(it);
	otlp_arena_free(&a);
}

Test(otlp_map, redacted_and_unknown_method)
{
	struct span s = make_span(SPAN_ROLE_SERVER, "PURGE", "/cache?token=x", 200);
	struct otlp_arena a = { 0 };
	struct otlp_item *it;
	struct otlp_mapped m;

	s.flags = SPAN_F_REDACTED;
	s.has_parent = true;
	memset(s.trace_id, 0x11, sizeof(s.trace_id));
	memset(s.parent_span_id, 0x22, sizeof(s.parent_span_id));
	m = map(&s, &a, &it);
	cr_expect_null(attr(&m, "url.query"), "credentials were redacted: the query is left out");
	cr_expect_str_eq(sattr(&m, "http.request.method"), "_OTHER");
	cr_expect_str_eq(sattr(&m, "http.request.method_original"), "PURGE");
	cr_expect_str_eq(m.name, "_OTHER /cache");
	cr_expect_str_eq(sattr(&m, "ehttp.flags"), "redacted");
	cr_expect(it->has_parent);
	cr_expect_eq(it->trace_id[0], 0x11);
	cr_expect_eq(it->parent_span_id[7], 0x22);
	free(it);
	otlp_arena_free(&a);
}

Test(otlp_map, resource)
{
	struct otlp_attr attrs[OTLP_MAX_ATTRS];
	struct export_resource r = res;
	size_t n, i;
	bool pid = false, path = false;

	strcpy(r.container_id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	n = otlp_map_resource(&r, attrs, OTLP_MAX_ATTRS);
	cr_assert_gt(n, 4);
	cr_expect_str_eq(attrs[0].key, "service.name");
	cr_expect_str_eq(attrs[0].str, "web");
	for (i = 0; i < n; i++) {
		pid |= !strcmp(attrs[i].key, "process.pid") && attrs[i].i == 42;
		path |= !strcmp(attrs[i].key, "process.executable.path") && !strcmp(attrs[i].str, "/usr/sbin/web");
	}
	cr_expect(pid && path);
}

Test(export, container_ids)
{
	char id[EXPORT_CONTAINER_ID_LEN + 1];
	const char *hex = "4e8b2f3a9c1d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f";
	char buf[512];

	snprintf(buf, sizeof(buf), "0::/system.slice/docker-%s.scope", hex);
	cr_expect(export_container_id(buf, id));
	cr_expect_str_eq(id, hex);
	snprintf(buf, sizeof(buf), "12:memory:/docker/%s\n11:cpu:/docker/%s", hex, hex);
	cr_expect(export_container_id(buf, id));
	cr_expect_str_eq(id, hex);
	snprintf(buf, sizeof(buf), "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-%s.scope", hex);
	cr_expect(export_container_id(buf, id));
	cr_expect_not(export_container_id("0::/user.slice/user-0.slice/session-3.scope", id));
	cr_expect_eq(id[0], '\0');
	snprintf(buf, sizeof(buf), "0::/x/%sff", hex); /* 66 digits: not an id */
	cr_expect_not(export_container_id(buf, id));
}

Test(export, service_name_mapping)
{
	struct export_resources *set = export_resources_new("h", false);
	struct spanfile_process p = { .pid = 7, .comm = "python3", .exe = "/usr/bin/python3.11" };
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/", 200);

	cr_assert(set);
	cr_expect(export_resources_add_mapping(set, "python3.11=checkout"));
	cr_expect_not(export_resources_add_mapping(set, "nonsense"));
	export_resources_set_process(set, &p);
	s.pid = 7;
	cr_expect_str_eq(export_resources_get(set, &s)->service, "checkout");
	s.pid = 8;
	strcpy(s.comm, "nginx");
	cr_expect_str_eq(export_resources_get(set, &s)->service, "nginx", "unknown process: its comm");
	export_resources_free(set);
}

Test(backoff, delays)
{
	cr_expect_eq(backoff_delay_ms(1, 0.5), BACKOFF_INITIAL_MS);
	cr_expect_eq(backoff_delay_ms(2, 0.5), 2 * BACKOFF_INITIAL_MS);
	cr_expect_eq(backoff_delay_ms(4, 0.5), 8 * BACKOFF_INITIAL_MS);
	cr_expect_eq(backoff_delay_ms(40, 0.5), BACKOFF_MAX_MS);
	cr_expect_eq(backoff_delay_ms(1, 0), BACKOFF_INITIAL_MS * 8 / 10);
	cr_expect_lt(backoff_delay_ms(1, 0.9999), BACKOFF_INITIAL_MS * 12 / 10);
}

Test(backoff, retry_after)
{
	uint64_t ms;
	time_t now = 1764000000; /* Mon, 24 Nov 2025 16:00:00 GMT */

	cr_expect(backoff_retry_after(" 3", now, &ms));
	cr_expect_eq(ms, 3000);
	cr_expect(backoff_retry_after("0\r\n", now, &ms));
	cr_expect_eq(ms, 0);
	cr_expect(backoff_retry_after("86400", now, &ms));
	cr_expect_eq(ms, BACKOFF_RETRY_AFTER_MAX_MS);
	cr_expect(backoff_retry_after("Mon, 24 Nov 2025 16:00:05 GMT", now, &ms));
	cr_expect_eq(ms, 5000);
	cr_expect(backoff_retry_after("Mon, 24 Nov 2025 15:00:00 GMT", now, &ms));
	cr_expect_eq(ms, 0, "a date in the past: now");
	cr_expect_not(backoff_retry_after("soon", now, &ms));
	cr_expect_not(backoff_retry_after("5s", now, &ms));
	cr_expect(backoff_retryable_status(429));
	cr_expect(backoff_retryable_status(503));
	cr_expect(backoff_retryable_status(500));
	cr_expect_not(backoff_retryable_status(400));
	cr_expect_not(backoff_retryable_status(413));
}

Test(otlp, traces_url)
{
	char *u;

	cr_expect_str_eq(u = otlp_traces_url("http://collector:4318"), "http://collector:4318/v1/traces");
	free(u);
	cr_expect_str_eq(u = otlp_traces_url("http://collector:4318/"), "http://collector:4318/v1/traces");
	free(u);
	cr_expect_str_eq(u = otlp_traces_url("https://x/otlp/v1/traces"), "https://x/otlp/v1/traces");
	free(u);
}

/* The queue's accounting with a receiver that refuses connections: what does not fit
 * is dropped at once and counted, the rest is counted when given up on. At most the
 * queue and a batch per worker (two) are held. */
Test(otlp, bounded_queue_counts_every_span)
{
	struct otlp_opts o;
	struct otlp_exporter *e;
	struct otlp_stats st;
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/", 200);
	int i;

	otlp_opts_init(&o);
	o.url = "http://127.0.0.1:1";
	o.queue_max = 10;
	o.timeout_s = 1;
	cr_assert_eq(otlp_exporter_open(&e, &o), 0);
	for (i = 0; i < 100; i++)
		cr_expect_eq(otlp_exporter_emit(e, &s, &res), 0, "a live emit never fails");
	otlp_exporter_stats(e, &st);
	cr_expect_geq(st.dropped_queue, 100 - 10 - 2 * 10);
	cr_expect_leq(st.queue_peak, 10);
	cr_expect_eq(otlp_exporter_close(e, &st), -EIO);
	cr_expect_eq(st.exported, 0);
	cr_expect_eq(otlp_stats_dropped(&st), 100);
}

Test(otlp_encode, one_resource_per_process)
{
	struct export_resource r2 = res;
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/a", 200);
	struct otlp_item *a = otlp_item_new(&s, &res), *b, *c;
	Otlp__ExportTraceServiceRequest *req;
	uint8_t *buf;
	size_t len;

	r2.pid = 43;
	s.target = "/b";
	b = otlp_item_new(&s, &r2);
	s.target = "/c";
	c = otlp_item_new(&s, &res);
	a->next = b;
	b->next = c;
	cr_assert_eq(otlp_encode(OTLP_PROTOBUF, a, 3, &buf, &len), 0);
	req = otlp__export_trace_service_request__unpack(NULL, len, buf);
	cr_assert(req);
	cr_expect_eq(req->n_resource_spans, 2);
	cr_expect_eq(req->resource_spans[0]->scope_spans[0]->n_spans, 2);
	cr_expect_str_eq(req->resource_spans[0]->scope_spans[0]->spans[1]->name, "GET /c");
	cr_expect_eq(req->resource_spans[1]->scope_spans[0]->n_spans, 1);
	cr_expect_eq(req->resource_spans[0]->scope_spans[0]->spans[0]->kind, OTLP__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
	cr_expect_eq(req->resource_spans[0]->scope_spans[0]->spans[0]->start_time_unix_nano, 1000);
	otlp__export_trace_service_request__free_unpacked(req, NULL);
	free(buf);
	free(a);
	free(b);
	free(c);
}

Test(metrics, render_and_cap)
{
	struct metrics_opts o = { .max_routes = 2 };
	struct metrics *m;
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/a", 200);
	char *text;

	cr_assert_eq(metrics_open(&m, &o), 0);
	s.end_ns = s.start_ns + 30000000; /* 30 ms */
	metrics_observe(m, &s, &res);
	s.target = "/b";
	metrics_observe(m, &s, &res);
	s.target = "/c\"x";
	metrics_observe(m, &s, &res);
	s.role = SPAN_ROLE_CLIENT;
	s.target = "/a";
	metrics_observe(m, &s, &res);
	cr_expect_eq(metrics_folded(m), 1);
	text = metrics_render(m);
	cr_assert(text);
	cr_expect(strstr(text, "# TYPE http_server_request_duration_seconds histogram\n"));
	cr_expect(strstr(text, "http_server_request_duration_seconds_bucket{service=\"web\",method=\"GET\","
			       "route=\"/a\",status_code=\"200\",le=\"0.025\"} 0\n"));
	cr_expect(strstr(text, "http_server_request_duration_seconds_bucket{service=\"web\",method=\"GET\","
			       "route=\"/a\",status_code=\"200\",le=\"0.05\"} 1\n"));
	cr_expect(strstr(text, "route=\"(other routes)\",status_code=\"200\",le=\"+Inf\"} 1\n"));
	cr_expect(strstr(text, "http_client_request_duration_seconds_count{service=\"web\",method=\"GET\","
			       "route=\"/a\",status_code=\"200\"} 1\n"));
	cr_expect(strstr(text, "ehttp_metrics_routes_folded_total 1\n"));
	free(text);
	metrics_close(m);
}

Test(metrics, listen_address)
{
	char addr[64];
	unsigned int port;

	cr_expect(metrics_parse_listen("9464", addr, sizeof(addr), &port));
	cr_expect_str_eq(addr, "127.0.0.1");
	cr_expect_eq(port, 9464);
	cr_expect(metrics_parse_listen("0.0.0.0:80", addr, sizeof(addr), &port));
	cr_expect_str_eq(addr, "0.0.0.0");
	cr_expect(metrics_parse_listen("[::1]:9464", addr, sizeof(addr), &port));
	cr_expect_str_eq(addr, "::1");
	cr_expect_not(metrics_parse_listen("0", addr, sizeof(addr), &port));
	cr_expect_not(metrics_parse_listen("70000", addr, sizeof(addr), &port));
	cr_expect_not(metrics_parse_listen(":80", addr, sizeof(addr), &port));
	cr_expect_not(metrics_parse_listen("localhost:80", addr, sizeof(addr), &port), "names are not resolved");
}

Test(otlp_encode, partial_success)
{
	Otlp__ExportTraceServiceResponse resp = OTLP__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
	Otlp__ExportTracePartialSuccess ps = OTLP__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
	static const char json[] = "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"too old\"}}";
	uint8_t buf[64];
	char msg[64];
	size_t len;

	ps.rejected_spans = 7;
	ps.error_message = (char *)"spans too old";
	resp.partial_success = &ps;
	len = otlp__export_trace_service_response__pack(&resp, buf);
	cr_expect_eq(otlp_response_rejected(OTLP_PROTOBUF, buf, len, msg, sizeof(msg)), 7);
	cr_expect_str_eq(msg, "spans too old");
	cr_expect_eq(otlp_response_rejected(OTLP_JSON, (const uint8_t *)json, strlen(json), msg, sizeof(msg)), 3);
	cr_expect_str_eq(msg, "too old");
	cr_expect_eq(otlp_response_rejected(OTLP_JSON, (const uint8_t *)"{}", 2, msg, sizeof(msg)), 0);
	cr_expect_eq(otlp_response_rejected(OTLP_PROTOBUF, (const uint8_t *)"", 0, msg, sizeof(msg)), 0);
}

/* OTLP strings are UTF-8: bytes from the wire that are not become U+FFFD; OTLP/JSON
 * escapes what JSON needs and parses back to the same strings. */
Test(otlp_encode, json_strings)
{
	struct span s = make_span(SPAN_ROLE_SERVER, "GET", "/a\"b\\c\x01\xff", 200);
	struct otlp_item *it = otlp_item_new(&s, &res), *ok;
	json_t *root, *attrs, *kv;
	uint8_t *buf;
	size_t len, i;
	const char *path = NULL;

	cr_assert(it);
	cr_expect_str_eq(it->target, "/a\"b\\c\x01\xef\xbf\xbd");
	s.target = "/caf\xc3\xa9";
	ok = otlp_item_new(&s, &res);
	cr_expect_str_eq(ok->target, "/caf\xc3\xa9", "valid UTF-8 is kept");
	free(ok);
	cr_assert_eq(otlp_encode(OTLP_JSON, it, 1, &buf, &len), 0);
	root = json_loadb((const char *)buf, len, 0, NULL);
	cr_assert(root, "OTLP/JSON that parses");
	attrs = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(
		json_array_get(json_object_get(root, "resourceSpans"), 0), "scopeSpans"), 0), "spans"), 0),
		"attributes");
	json_array_foreach(attrs, i, kv)
		if (!strcmp(json_string_value(json_object_get(kv, "key")), "url.path"))
			path = json_string_value(json_object_get(json_object_get(kv, "value"), "stringValue"));
	cr_expect_str_eq(path, "/a\"b\\c\x01\xef\xbf\xbd");
	json_decref(root);
	free(buf);
	free(it);
}
