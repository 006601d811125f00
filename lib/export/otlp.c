// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>

#include "output.h"
#include "export/backoff.h"
#include "export/otlp.h"

#define RESPONSE_MAX (64u << 10)
/* Requests in flight at once: one batch is encoded while another waits for its
 * answer, which hides a receiver's latency from the queue. */
#define OTLP_WORKERS 2

struct otlp_exporter;

/* One exporter thread: its connection and the response it is reading. */
struct otlp_worker {
	struct otlp_exporter *e;
	pthread_t thread;
	bool started;
	CURL *curl;
	char response[RESPONSE_MAX];
	size_t response_len;
	char retry_after[64];
};

struct otlp_exporter {
	struct otlp_opts opts;
	char *url;
	struct curl_slist *headers;
	struct otlp_worker workers[OTLP_WORKERS];
	pthread_mutex_t mu;
	pthread_cond_t more;   /* to the thread: items, closing, abort */
	pthread_cond_t room;   /* to blocked emitters: the queue shrank or export failed */
	struct otlp_item *head, *tail;
	size_t queued;
	bool closing;          /* send what is queued, then stop */
	bool abort;            /* the wait at exit is over: stop now */
	bool failed;           /* a batch was given up on (blocking mode stops emitting) */
	struct otlp_stats st;  /* under mu */
};

void otlp_opts_init(struct otlp_opts *opts)
{
	*opts = (struct otlp_opts){ .format = OTLP_PROTOBUF, .gzip = true,
				    .queue_max = OTLP_DEFAULT_QUEUE, .batch_max = OTLP_DEFAULT_BATCH,
				    .delay_ms = OTLP_DEFAULT_DELAY_MS,
				    .timeout_s = OTLP_DEFAULT_TIMEOUT_S };
}

uint64_t otlp_stats_dropped(const struct otlp_stats *st)
{
	return st->dropped_queue + st->dropped_failed + st->dropped_rejected + st->dropped_exit;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Condition variables here wait on CLOCK_MONOTONIC: a wall clock step must not stall
 * or hurry a backoff. */
static void wait_until(struct otlp_exporter *e, pthread_cond_t *cv, uint64_t deadline_ms)
{
	struct timespec ts = { .tv_sec = deadline_ms / 1000, .tv_nsec = (deadline_ms % 1000) * 1000000 };

	pthread_cond_timedwait(cv, &e->mu, &ts);
}

/* ---- headers -------------------------------------------------------------------------- */

static int pct_decode(const char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '%' && i + 2 < len && isxdigit((unsigned char)in[i + 1]) &&
		    isxdigit((unsigned char)in[i + 2])) {
			char hex[3] = { in[i + 1], in[i + 2], 0 };

			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return (int)o;
}

static void trim(const char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

static bool add_header(struct curl_slist **list, const char *name, size_t nlen, const char *value,
		       size_t vlen)
{
	struct curl_slist *l;
	char *line;
	size_t i;

	trim(&name, &nlen);
	trim(&value, &vlen);
	if (!nlen)
		return false;
	for (i = 0; i < nlen; i++)
		if (!isgraph((unsigned char)name[i]) || name[i] == ':')
			return false;
	for (i = 0; i < vlen; i++)
		if (value[i] == '\r' || value[i] == '\n')
			return false;
	/* "Name;" is curl's way to send a header with an empty value */
	if (asprintf(&line, vlen ? "%.*s: %.*s" : "%.*s;%.*s", (int)nlen, name, (int)vlen, value) < 0)
		return false;
	l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return false;
	*list = l;
	return true;
}

static int headers_from_env(const char *var, struct curl_slist **list)
{
	const char *v = getenv(var), *p;

	if (!v || !*v)
		return 0;
	for (p = v; *p;) {
		size_t len = strcspn(p, ","), klen;
		const char *eq = memchr(p, '=', len);
		char *key, *val;
		bool ok;

		if (!eq) {
			p_err("%s: '%.*s' is not key=value", var, (int)len, p);
			return -EINVAL;
		}
		klen = eq - p;
		key = malloc(klen + 1);
		val = malloc(len - klen);
		if (!key || !val) {
			free(key);
			free(val);
			return -ENOMEM;
		}
		pct_decode(p, klen, key);
		pct_decode(eq + 1, len - klen - 1, val);
		ok = add_header(list, key, strlen(key), val, strlen(val));
		free(key);
		free(val);
		if (!ok) {
			p_err("%s: not a valid header: '%.*s'", var, (int)klen, p);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

int otlp_read_headers(const char *path, void **listp)
{
	struct curl_slist **list = (struct curl_slist **)listp;
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	ssize_t n;
	FILE *f;
	int err;

	if ((err = headers_from_env("OTEL_EXPORTER_OTLP_HEADERS", list)) ||
	    (err = headers_from_env("OTEL_EXPORTER_OTLP_TRACES_HEADERS", list)))
		return err;
	if (!path)
		return 0;
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		p_err("--otlp-headers %s: %s", path, strerror(errno));
		return err;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		const char *s = line, *colon;
		size_t len = (size_t)n;

		lineno++;
		trim(&s, &len);
		if (!len || *s == '#')
			continue;
		colon = memchr(s, ':', len);
		if (!colon || !add_header(list, s, colon - s, colon + 1, len - (colon - s) - 1)) {
			/* the value is not shown: it is likely a secret */
			p_err("--otlp-headers %s:%u: not a 'Name: value' line", path, lineno);
			err = -EINVAL;
			break;
		}
	}
	free(line);
	fclose(f);
	return err;
}

char *otlp_traces_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
	char *out;

	if (path && path[1])
		return strdup(url);
	if (asprintf(&out, "%.*s/v1/traces", (int)(path ? path - url : (long)strlen(url)), url) < 0)
		return NULL;
	return out;
}

/* ---- one request ---------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct otlp_worker *w = ctx;
	size_t len = size * n, room = RESPONSE_MAX - w->response_len;

	memcpy(w->response + w->response_len, data, len < room ? len : room);
	w->response_len += len < room ? len : room;
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct otlp_worker *w = ctx;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(data, "Retry-After:", 12))
		snprintf(w->retry_after, sizeof(w->retry_after), "%.*s", (int)(len - 12), data + 12);
	return len;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct otlp_exporter *e = ctx;
	bool stop;

	pthread_mutex_lock(&e->mu);
	stop = e->abort;
	pthread_mutex_unlock(&e->mu);
	return stop; /* non-zero aborts the transfer */
}

static int gzip_body(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap = deflateBound(&z, len) + 32;
	int rc;

	*out = malloc(cap);
	if (!*out)
		return -ENOMEM;
	/* windowBits 15 + 16: a gzip wrapper, which Content-Encoding: gzip means */
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(*out);
		return -ENOMEM;
	}
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(*out);
		return -ENOMEM;
	}
	return 0;
}

enum post_result { POST_OK, POST_RETRY, POST_REJECTED, POST_ABORTED };

static enum post_result post(struct otlp_worker *w, const uint8_t *body, size_t len, size_t nspans,
			     uint64_t *retry_ms, int64_t *rejected)
{
	struct otlp_exporter *e = w->e;
	char msg[200];
	long status = 0;
	CURLcode rc;

	w->response_len = 0;
	w->retry_after[0] = '\0';
	*retry_ms = 0;
	*rejected = 0;
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(w->curl);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return POST_ABORTED;
	pthread_mutex_lock(&e->mu);
	if (rc != CURLE_OK) {
		e->st.failed_requests++;
		snprintf(e->st.last_error, sizeof(e->st.last_error), "%s", curl_easy_strerror(rc));
		pthread_mutex_unlock(&e->mu);
		return POST_RETRY;
	}
	curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		*rejected = otlp_response_rejected(e->opts.format, (uint8_t *)w->response,
						   w->response_len, msg, sizeof(msg));
		if (*rejected > (int64_t)nspans)
			*rejected = (int64_t)nspans;
		if (*rejected)
			snprintf(e->st.last_error, sizeof(e->st.last_error),
				 "the receiver rejected %lld spans: %s", (long long)*rejected, msg);
		e->st.requests++;
		pthread_mutex_unlock(&e->mu);
		return POST_OK;
	}
	e->st.failed_requests++;
	snprintf(e->st.last_error, sizeof(e->st.last_error), "HTTP %ld from %s%s%.*s", status,
		 e->url, w->response_len ? ": " : "",
		 (int)strcspn(w->response_len < 120 ? w->response : "", "\r\n"),
		 w->response_len < 120 ? w->response : "");
	pthread_mutex_unlock(&e->mu);
	if (!backoff_retryable_status(status))
		return POST_REJECTED;
	if (w->retry_after[0])
		backoff_retry_after(w->retry_after, time(NULL), retry_ms);
	return POST_RETRY;
}

/* Send one batch with its retries; count what became of its spans. */
static void send_batch(struct otlp_worker *w, const struct otlp_item *items, size_t n)
{
	struct otlp_exporter *e = w->e;
	uint8_t *raw = NULL, *zipped = NULL;
	size_t raw_len = 0, zipped_len = 0;
	const uint8_t *body;
	size_t body_len;
	unsigned int attempt;
	uint64_t *drop = NULL;
	int64_t rejected = 0;

	if (otlp_encode(e->opts.format, items, n, &raw, &raw_len) ||
	    (e->opts.gzip && gzip_body(raw, raw_len, &zipped, &zipped_len))) {
		pthread_mutex_lock(&e->mu);
		e->st.dropped_failed += n;
		snprintf(e->st.last_error, sizeof(e->st.last_error), "out of memory encoding a batch");
		e->failed = true;
		pthread_cond_broadcast(&e->room);
		pthread_mutex_unlock(&e->mu);
		free(raw);
		return;
	}
	body = zipped ? zipped : raw;
	body_len = zipped ? zipped_len : raw_len;

	for (attempt = 1;; attempt++) {
		uint64_t retry_ms, jitter_bits = 0, deadline;
		enum post_result r = post(w, body, body_len, n, &retry_ms, &rejected);

		pthread_mutex_lock(&e->mu);
		if (r == POST_OK) {
			e->st.exported += n - (size_t)rejected;
			e->st.dropped_rejected += (uint64_t)rejected;
			pthread_mutex_unlock(&e->mu);
			break;
		}
		if (r == POST_REJECTED) {
			drop = &e->st.dropped_rejected;
		} else if (r == POST_ABORTED || e->abort) {
			drop = &e->st.dropped_exit;
		} else if (attempt >= OTLP_MAX_ATTEMPTS) {
			drop = &e->st.dropped_failed;
		}
		if (drop) {
			*drop += n;
			if (drop != &e->st.dropped_exit)
				e->failed = true;
			pthread_cond_broadcast(&e->room);
			pthread_mutex_unlock(&e->mu);
			break;
		}
		if (attempt == 1)
			e->st.batches_retried++;
		if (!retry_ms) {
			if (getrandom(&jitter_bits, sizeof(jitter_bits), GRND_NONBLOCK) != sizeof(jitter_bits))
				jitter_bits = mono_ms() * 0x9e3779b97f4a7c15ull;
			retry_ms = backoff_delay_ms(attempt, (double)(jitter_bits >> 11) / (double)(1ull << 53));
		}
		deadline = mono_ms() + retry_ms;
		while (!e->abort && mono_ms() < deadline)
			wait_until(e, &e->more, deadline);
		pthread_mutex_unlock(&e->mu);
	}
	free(zipped);
	free(raw);
}

static void *exporter_main(void *arg)
{
	struct otlp_worker *w = arg;
	struct otlp_exporter *e = w->e;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		struct otlp_item *batch, *last, *it, *next;
		size_t n = 0;

		/* a batch is full, or its oldest span has waited delay_ms, or the queue is
		 * to be emptied */
		while (!e->abort && !e->closing && e->queued < e->opts.batch_max &&
		       (!e->queued || mono_ms() < e->head->queued_ms + e->opts.delay_ms))
			wait_until(e, &e->more, e->queued ? e->head->queued_ms + e->opts.delay_ms
						       : mono_ms() + 60000);
		if (e->abort || (e->closing && !e->queued))
			break;
		if (!e->queued)
			continue;
		/* detach the first batch_max items */
		batch = last = e->head;
		for (n = 1; n < e->opts.batch_max && last->next; n++)
			last = last->next;
		e->head = last->next;
		last->next = NULL;
		if (!e->head)
			e->tail = NULL;
		e->queued -= n;
		pthread_cond_broadcast(&e->room);
		pthread_mutex_unlock(&e->mu);

		send_batch(w, batch, n);
		for (it = batch; it; it = next) {
			next = it->next;
			free(it);
		}
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

/* ---- the sink ------------------------------------------------------------------------- */

int otlp_exporter_emit(void *ctx, const struct span *span, const struct export_resource *res)
{
	struct otlp_exporter *e = ctx;
	struct otlp_item *it = otlp_item_new(span, res);

	pthread_mutex_lock(&e->mu);
	while (e->opts.block && e->queued >= e->opts.queue_max && !e->failed)
		pthread_cond_wait(&e->room, &e->mu);
	if (e->opts.block && e->failed) {
		pthread_mutex_unlock(&e->mu);
		free(it);
		return -EIO;
	}
	if (!it || e->queued >= e->opts.queue_max) {
		e->st.dropped_queue++;
		pthread_mutex_unlock(&e->mu);
		free(it);
		return 0;
	}
	it->queued_ms = mono_ms();
	if (e->tail)
		e->tail->next = it;
	else
		e->head = it;
	e->tail = it;
	if (++e->queued > e->st.queue_peak)
		e->st.queue_peak = e->queued;
	/* the first span starts a worker's batch timer; a full batch goes at once */
	if (e->queued == 1 || e->queued == e->opts.batch_max)
		pthread_cond_signal(&e->more);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

void otlp_exporter_stats(struct otlp_exporter *e, struct otlp_stats *st)
{
	pthread_mutex_lock(&e->mu);
	*st = e->st;
	pthread_mutex_unlock(&e->mu);
}

static void free_exporter(struct otlp_exporter *e)
{
	struct otlp_item *it, *next;
	size_t i;

	for (it = e->head; it; it = next) {
		next = it->next;
		free(it);
	}
	for (i = 0; i < OTLP_WORKERS; i++)
		if (e->workers[i].curl)
			curl_easy_cleanup(e->workers[i].curl);
	curl_slist_free_all(e->headers);
	pthread_cond_destroy(&e->more);
	pthread_cond_destroy(&e->room);
	pthread_mutex_destroy(&e->mu);
	free(e->url);
	free(e);
}

/* Stop the workers still running now: in-flight requests are aborted. */
static void stop_workers(struct otlp_exporter *e)
{
	size_t i;

	pthread_mutex_lock(&e->mu);
	e->abort = true;
	pthread_cond_broadcast(&e->more);
	pthread_mutex_unlock(&e->mu);
	for (i = 0; i < OTLP_WORKERS; i++)
		if (e->workers[i].started)
			pthread_join(e->workers[i].thread, NULL);
}

int otlp_exporter_open(struct otlp_exporter **out, const struct otlp_opts *opts)
{
	struct otlp_exporter *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	int err = -ENOMEM;
	size_t i;

	if (!e)
		return -ENOMEM;
	e->opts = *opts;
	if (!e->opts.queue_max)
		e->opts.queue_max = OTLP_DEFAULT_QUEUE;
	if (!e->opts.batch_max)
		e->opts.batch_max = OTLP_DEFAULT_BATCH;
	if (e->opts.batch_max > e->opts.queue_max)
		e->opts.batch_max = e->opts.queue_max;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->more, &ca);
	pthread_cond_init(&e->room, &ca);
	pthread_condattr_destroy(&ca);

	if (strncmp(opts->url, "http://", 7) && strncmp(opts->url, "https://", 8)) {
		p_err("--otlp %s: the URL is not http:// or https://", opts->url);
		err = -EINVAL;
		goto fail;
	}
	e->url = otlp_traces_url(opts->url);
	if (!e->url)
		goto fail;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		goto fail;
	err = otlp_read_headers(opts->headers_file, (void **)&e->headers);
	if (err)
		goto fail;
	err = -ENOMEM;
	if (!(e->headers = curl_slist_append(e->headers, opts->format == OTLP_JSON
						      ? "Content-Type: application/json"
						      : "Content-Type: application/x-protobuf")))
		goto fail;
	if (opts->gzip && !(e->headers = curl_slist_append(e->headers, "Content-Encoding: gzip")))
		goto fail;
	/* no "Expect: 100-continue" round trip before large bodies */
	if (!(e->headers = curl_slist_append(e->headers, "Expect:")))
		goto fail;

	for (i = 0; i < OTLP_WORKERS; i++) {
		struct otlp_worker *w = &e->workers[i];

		w->e = e;
		w->curl = curl_easy_init();
		if (!w->curl)
			goto fail;
		curl_easy_setopt(w->curl, CURLOPT_URL, e->url);
		curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, e->headers);
		curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "ehttp/" EHTTP_VERSION);
		curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)e->opts.timeout_s * 1000);
		curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)e->opts.timeout_s * 1000);
		curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(w->curl, CURLOPT_WRITEDATA, w);
		curl_easy_setopt(w->curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(w->curl, CURLOPT_HEADERDATA, w);
		curl_easy_setopt(w->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(w->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(w->curl, CURLOPT_XFERINFODATA, e);
		/* the receiver is named by the user: no redirects to somewhere else */
		curl_easy_setopt(w->curl, CURLOPT_FOLLOWLOCATION, 0L);
	}
	for (i = 0; i < OTLP_WORKERS; i++) {
		err = -pthread_create(&e->workers[i].thread, NULL, exporter_main, &e->workers[i]);
		if (err) {
			p_err("cannot start the OTLP exporter thread: %s", strerror(-err));
			goto fail;
		}
		e->workers[i].started = true;
	}
	*out = e;
	return 0;
fail:
	stop_workers(e);
	free_exporter(e);
	return err;
}

int otlp_exporter_close(struct otlp_exporter *e, struct otlp_stats *final)
{
	struct timespec ts;
	struct otlp_item *it;
	uint64_t left;
	size_t i;

	if (!e)
		return 0;
	pthread_mutex_lock(&e->mu);
	e->closing = true;
	pthread_cond_broadcast(&e->more);
	pthread_mutex_unlock(&e->mu);

	/* one deadline for every worker: what is left then is counted, not waited for */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += e->opts.timeout_s;
	for (i = 0; i < OTLP_WORKERS; i++) {
		if (!e->workers[i].started || !pthread_timedjoin_np(e->workers[i].thread, NULL, &ts)) {
			e->workers[i].started = false;
			continue;
		}
		break;
	}
	stop_workers(e);
	for (left = 0, it = e->head; it; it = it->next)
		left++;
	e->st.dropped_exit += left;
	if (final)
		*final = e->st;
	left = otlp_stats_dropped(&e->st);
	free_exporter(e);
	return left ? -EIO : 0;
}
