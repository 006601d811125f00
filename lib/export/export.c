// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/export.h"

struct exporters {
	struct export_resources *res;
	struct otlp_exporter *otlp;
	struct metrics *metrics;
	struct pipeline *pipeline;
	const char *(*host_of)(void *arg);
	void *host_arg;
	struct metrics_counters counters;
	bool closed;
	int close_err;
};

void export_opts_init(struct export_opts *o)
{
	memset(o, 0, sizeof(*o));
	otlp_opts_init(&o->otlp);
	o->metrics.max_routes = METRICS_DEFAULT_MAX_ROUTES;
}

void export_opts_free(struct export_opts *o)
{
	free(o->service_map);
	o->service_map = NULL;
	o->nservice_map = 0;
}

int export_parse_opt(struct export_opts *o, int argc, char **argv, bool metrics)
{
	const char *opt = argv[0], *v = argc > 1 ? argv[1] : NULL;
	unsigned long n;

	if (strcmp(opt, "--otlp") && strncmp(opt, "--otlp-", 7) && strcmp(opt, "--service-name") &&
	    (!metrics || (strcmp(opt, "--metrics") && strcmp(opt, "--metrics-routes"))))
		return 0;
	if (!v) {
		p_err("'%s' needs 1 more argument", opt);
		return -1;
	}
	if (!strcmp(opt, "--otlp")) {
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
			p_err("--otlp %s: the URL is not http:// or https://", v);
			return -1;
		}
		o->otlp.url = v;
		o->otlp_on = true;
	} else if (!strcmp(opt, "--otlp-format")) {
		if (!strcmp(v, "protobuf"))
			o->otlp.format = OTLP_PROTOBUF;
		else if (!strcmp(v, "json"))
			o->otlp.format = OTLP_JSON;
		else {
			p_err("--otlp-format: '%s' is neither protobuf nor json", v);
			return -1;
		}
	} else if (!strcmp(opt, "--otlp-compression")) {
		if (strcmp(v, "gzip") && strcmp(v, "none")) {
			p_err("--otlp-compression: '%s' is neither gzip nor none", v);
			return -1;
		}
		o->otlp.gzip = !strcmp(v, "gzip");
	} else if (!strcmp(opt, "--otlp-headers")) {
		o->otlp.headers_file = v;
	} else if (!strcmp(opt, "--otlp-queue")) {
		if (!arg_uint(opt, v, 1, 1u << 24, &n))
			return -1;
		o->otlp.queue_max = n;
	} else if (!strcmp(opt, "--otlp-timeout")) {
		if (!arg_uint(opt, v, 1, 3600, &n))
			return -1;
		o->otlp.timeout_s = (unsigned int)n;
	} else if (!strcmp(opt, "--service-name")) {
		const char **m = realloc(o->service_map, (o->nservice_map + 1) * sizeof(*m));

		if (!m)
			return -1;
		if (!strchr(v, '=') || v[0] == '=' || !strchr(v, '=')[1]) {
			p_err("--service-name: '%s' is not EXE=NAME", v);
			free(m);
			return -1;
		}
		o->service_map = m;
		m[o->nservice_map++] = v;
	} else if (!strcmp(opt, "--metrics")) {
		char addr[64];
		unsigned int port;

		if (!metrics_parse_listen(v, addr, sizeof(addr), &port)) {
			p_err("--metrics %s: not [ADDR:]PORT with ADDR an IPv4 or IPv6 address", v);
			return -1;
		}
		o->metrics.listen = v;
		o->metrics_on = true;
	} else if (!strcmp(opt, "--metrics-routes")) {
		if (!arg_uint(opt, v, 1, 100000, &n))
			return -1;
		o->metrics.max_routes = (unsigned int)n;
	} else {
		p_err("what is '%s'?", opt);
		return -1;
	}
	return 2;
}

bool export_opts_valid(const struct export_opts *o)
{
	struct otlp_opts def;

	otlp_opts_init(&def);
	if (!o->otlp_on && (o->otlp.format != def.format || o->otlp.gzip != def.gzip ||
			    o->otlp.headers_file || o->otlp.queue_max != def.queue_max ||
			    o->otlp.timeout_s != def.timeout_s)) {
		p_err("the --otlp-* options go with --otlp URL");
		return false;
	}
	if (!o->metrics_on && o->metrics.max_routes != METRICS_DEFAULT_MAX_ROUTES) {
		p_err("--metrics-routes goes with --metrics");
		return false;
	}
	if (o->nservice_map && !export_wanted(o)) {
		p_err("--service-name goes with --otlp or --metrics");
		return false;
	}
	return true;
}

/* Every descriptor goes through export_parse_opt, which checks each value. */
static int export_opt(void *ctx, const struct opt *o, const char *spelled, const char *value)
{
	char name[64];
	char *argv[2] = { name, (char *)value };

	snprintf(name, sizeof(name), "--%s", o->name);
	return export_parse_opt(ctx, 2, argv, true) == 2 ? 0 : -1;
}

const struct opt export_otlp_opts[] = {
	{ "otlp", 0, "URL", "send spans to an OTLP/HTTP receiver (a collector, Jaeger,\n"
			     "Tempo): http://HOST:4318 posts to /v1/traces", OPT_CALL(export_opt) },
	{ "otlp-format", 0, "protobuf|json", "the request encoding (default protobuf)",
	  OPT_CALL(export_opt) },
	{ "otlp-compression", 0, "gzip|none", "request compression (default gzip)",
	  OPT_CALL(export_opt) },
	{ "otlp-headers", 0, "FILE", "extra request headers, 'Name: value' lines; also read\n"
				     "from OTEL_EXPORTER_OTLP_HEADERS and\n"
				     "OTEL_EXPORTER_OTLP_TRACES_HEADERS", OPT_CALL(export_opt) },
	{ "otlp-queue", 0, "SPANS", "spans waiting to be sent at most (default 65536)",
	  OPT_CALL(export_opt) },
	{ "otlp-timeout", 0, "SEC", "per request, and for what is queued at exit (default 10)",
	  OPT_CALL(export_opt) },
	{ "service-name", 0, "EXE=NAME", "service.name for the executable EXE (default: the\n"
					 "executable's name)", OPT_CALL(export_opt) },
	{ NULL },
};

const struct opt export_metrics_opts[] = {
	{ "metrics", 0, "[ADDR:]PORT", "serve Prometheus metrics on http://ADDR:PORT/metrics\n"
				       "(ADDR 127.0.0.1 unless given)", OPT_CALL(export_opt) },
	{ "metrics-routes", 0, "N", "routes per service in metrics before the rest fold into\n"
				    "one series (default 100)", OPT_CALL(export_opt) },
	{ NULL },
};

static int sink_emit(void *ctx, const struct span *span)
{
	struct exporters *x = ctx;
	const struct export_resource *res;

	if (x->host_of)
		export_resources_set_host(x->res, x->host_of(x->host_arg));
	res = export_resources_get(x->res, span);
	if (!res)
		return 0; /* out of memory: the exporters' loss, not the capture's */
	if (x->metrics)
		metrics_observe(x->metrics, span, res);
	return x->otlp ? otlp_exporter_emit(x->otlp, span, res) : 0;
}

static int sink_tick(void *ctx, uint64_t now_mono_ns)
{
	struct exporters *x = ctx;
	struct pipeline_stats st;

	if (!x->metrics || !x->pipeline)
		return 0;
	pipeline_get_stats(x->pipeline, &st);
	x->counters.events = st.events;
	x->counters.events_dropped = st.dropped;
	x->counters.spans = st.spans;
	x->counters.spans_lost = st.lost;
	if (x->otlp)
		otlp_exporter_stats(x->otlp, &x->counters.otlp);
	metrics_set_counters(x->metrics, &x->counters);
	return 0;
}

static void print_otlp_summary(const struct otlp_stats *st);

/* Delivery failures are counted and reported, not the pipeline's error: the capture
 * itself succeeded. exporters_free() says whether everything was delivered. */
static int sink_close(void *ctx)
{
	struct exporters *x = ctx;
	struct otlp_stats st;

	if (x->closed)
		return 0;
	x->closed = true;
	if (x->otlp) {
		x->close_err = otlp_exporter_close(x->otlp, &st);
		x->otlp = NULL;
		print_otlp_summary(&st);
	}
	if (x->metrics) {
		uint64_t folded = metrics_folded(x->metrics);

		if (folded)
			fprintf(stderr, "Metrics: %llu span%s folded into the route \"%s\" (over %s)\n",
				(unsigned long long)folded, folded == 1 ? "" : "s",
				"(other routes)", "--metrics-routes");
		metrics_close(x->metrics);
		x->metrics = NULL;
	}
	return 0;
}

void exporters_sink(struct exporters *x, struct pipeline *p, struct pipeline_sink *sink)
{
	x->pipeline = p;
	*sink = (struct pipeline_sink){ .name = "export", .ctx = x, .emit = sink_emit,
					.tick = sink_tick, .close = sink_close };
}

int exporters_add_live(struct exporters **out, const struct export_opts *o, const char *host,
		       struct pipeline *p)
{
	struct pipeline_sink sink;
	int rc;

	*out = NULL;
	if (!export_wanted(o))
		return 0;
	rc = exporters_open(out, o, host, true, false);
	if (rc)
		return rc;
	exporters_sink(*out, p, &sink);
	return pipeline_add_sink(p, &sink);
}

void exporters_set_host_of(struct exporters *x, const char *(*host)(void *arg), void *arg)
{
	x->host_of = host;
	x->host_arg = arg;
}

int exporters_open(struct exporters **out, const struct export_opts *o, const char *host, bool live,
		   bool block)
{
	struct exporters *x = calloc(1, sizeof(*x));
	struct otlp_opts oo = o->otlp;
	size_t i;
	int err = -ENOMEM;

	if (!x)
		return -ENOMEM;
	x->res = export_resources_new(host, live);
	if (!x->res)
		goto fail;
	for (i = 0; i < o->nservice_map; i++)
		if (!export_resources_add_mapping(x->res, o->service_map[i]))
			goto fail;
	if (o->otlp_on) {
		oo.block = block;
		err = otlp_exporter_open(&x->otlp, &oo);
		if (err)
			goto fail;
		x->counters.have_otlp = true;
	}
	if (o->metrics_on) {
		err = metrics_open(&x->metrics, &o->metrics);
		if (err)
			goto fail;
		/* Tests and scripts may wait for this line before scraping. */
		fprintf(stderr, "Metrics: serving http://%s/metrics\n", metrics_address(x->metrics));
	}
	*out = x;
	return 0;
fail:
	otlp_exporter_close(x->otlp, NULL);
	metrics_close(x->metrics);
	export_resources_free(x->res);
	free(x);
	return err;
}

int exporters_set_process(void *ctx, const struct spanfile_process *p)
{
	struct exporters *x = ctx;

	if (x->host_of)
		export_resources_set_host(x->res, x->host_of(x->host_arg));
	export_resources_set_process(x->res, p);
	return 0;
}

static void print_otlp_summary(const struct otlp_stats *st)
{
	uint64_t dropped = otlp_stats_dropped(st);

	fprintf(stderr, "OTLP: %llu span%s exported in %llu request%s, %llu batch%s retried, "
			"%llu span%s dropped",
		(unsigned long long)st->exported, st->exported == 1 ? "" : "s",
		(unsigned long long)st->requests, st->requests == 1 ? "" : "s",
		(unsigned long long)st->batches_retried, st->batches_retried == 1 ? "" : "es",
		(unsigned long long)dropped, dropped == 1 ? "" : "s");
	if (dropped)
		fprintf(stderr, " (%llu queue full, %llu after every retry, %llu rejected, %llu unsent at exit)",
			(unsigned long long)st->dropped_queue, (unsigned long long)st->dropped_failed,
			(unsigned long long)st->dropped_rejected, (unsigned long long)st->dropped_exit);
	fputc('\n', stderr);
	if (dropped || st->failed_requests)
		p_warn("OTLP: %llu failed request%s; the last error: %s",
		       (unsigned long long)st->failed_requests, st->failed_requests == 1 ? "" : "s",
		       st->last_error[0] ? st->last_error : "none");
}

int exporters_free(struct exporters *x)
{
	int err;

	if (!x)
		return 0;
	sink_close(x);
	err = x->close_err;
	export_resources_free(x->res);
	free(x);
	return err;
}
