/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The OTLP/HTTP traces sink: spans are copied into a bounded queue when emitted and
 * sent from threads of their own (libcurl), in batches by size and time, with retries
 * on 429, 5xx and connection errors (exponential backoff, or Retry-After). Emitting
 * never waits on the network: with the queue full, a live capture's span is dropped
 * and counted. Replaying files (opts.block) waits for room instead, and stops when
 * the receiver has refused a batch for good. Whatever was not delivered is counted by
 * reason in the statistics.
 */
#ifndef EHTTP_EXPORT_OTLP_H
#define EHTTP_EXPORT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"
#include "export/otlp_encode.h"
#include "export/resource.h"

#define OTLP_DEFAULT_QUEUE 65536
#define OTLP_DEFAULT_BATCH 512
#define OTLP_DEFAULT_DELAY_MS 1000
#define OTLP_DEFAULT_TIMEOUT_S 10
#define OTLP_MAX_ATTEMPTS 5

struct otlp_opts {
	const char *url;          /* "http://host:4318" (/v1/traces added) or a full URL */
	enum otlp_format format;
	bool gzip;
	const char *headers_file; /* "Name: value" lines */
	size_t queue_max;         /* spans waiting at most */
	size_t batch_max;         /* spans per request at most */
	unsigned int delay_ms;    /* a partial batch waits at most this long */
	unsigned int timeout_s;   /* per request, and for what is queued at exit */
	bool block;               /* emit waits for room (span files, not live capture) */
};

struct otlp_stats {
	uint64_t exported;        /* spans the receiver accepted */
	uint64_t requests;        /* requests that succeeded */
	uint64_t failed_requests; /* attempts that failed (each retry counts) */
	uint64_t batches_retried; /* batches that needed more than one attempt */
	uint64_t dropped_queue;   /* the queue was full */
	uint64_t dropped_failed;  /* still failing after every retry */
	uint64_t dropped_rejected; /* refused: 4xx other than 429, or partial success */
	uint64_t dropped_exit;    /* still queued when the wait at exit ran out */
	uint64_t queue_peak;
	char last_error[256];
};

struct otlp_exporter;

void otlp_opts_init(struct otlp_opts *opts);
/* Open the exporter and start its threads; reports its own errors (a bad headers file,
 * an unusable URL). Returns 0 or a negative errno. */
int otlp_exporter_open(struct otlp_exporter **out, const struct otlp_opts *opts);
/* The sink interface: emit only enqueues; < 0 means "stop" (blocking mode, export
 * failed for good). */
int otlp_exporter_emit(void *ctx, const struct span *span, const struct export_resource *res);
/* Send what is queued, wait up to the timeout, count the rest as dropped, stop the
 * threads and free. Returns 0, or -EIO when any span was not delivered. */
int otlp_exporter_close(struct otlp_exporter *e, struct otlp_stats *final);
void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *st);
uint64_t otlp_stats_dropped(const struct otlp_stats *st);

/* Extra request headers: "Name: value" lines of @path (blank lines and # comments
 * skipped) and OTEL_EXPORTER_OTLP_HEADERS / OTEL_EXPORTER_OTLP_TRACES_HEADERS
 * ("k=v,k2=v2", percent-decoded). Appended to @list (a struct curl_slist *). Reports
 * its own errors. */
int otlp_read_headers(const char *path, void **list);

/* The URL requests go to: @url with "/v1/traces" when it has no path. Malloc'ed. */
char *otlp_traces_url(const char *url);

#endif
