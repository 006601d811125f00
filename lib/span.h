/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one span model. Every source (syscall capture, Go uprobes, a span file) produces
 * struct span; every sink (printer, span file writer, statistics) consumes it. A span is
 * one HTTP request paired with its response, seen from one process: a server span for a
 * request it accepted, a client span for a request it sent.
 *
 * Strings are borrowed: they belong to the producer and stay valid only during the
 * sink call. A sink that keeps anything copies it.
 */
#ifndef EHTTP_SPAN_H
#define EHTTP_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

enum span_role {
	SPAN_ROLE_UNKNOWN = 0,
	SPAN_ROLE_SERVER = 1, /* the process accepted the connection */
	SPAN_ROLE_CLIENT = 2, /* the process connected */
};

enum span_source {
	SPAN_SOURCE_UNKNOWN = 0,
	SPAN_SOURCE_SYSCALL = 1,  /* syscall tracepoints + user-space HTTP parsing */
	SPAN_SOURCE_GO_UPROBE = 2, /* Go net/http uprobes */
};

enum span_flag {
	SPAN_F_TRUNCATED = 1u << 0,  /* a header block was cut at the snap length */
	SPAN_F_PARTIAL = 1u << 1,    /* no complete response: the connection closed or ehttp stopped */
	SPAN_F_MIDSTREAM = 1u << 2,  /* the connection predates the capture; picked up at a boundary */
	SPAN_F_REDACTED = 1u << 3,   /* credential header values were replaced */
	SPAN_F_BODY_UNSEEN = 1u << 4, /* body bytes were counted, not parsed (sendfile, splice, over snap) */
	/* HTTP/2: a header field referred to the HPACK dynamic table as it was before the
	 * capture saw the connection (or before bytes were lost): that field is unknown. */
	SPAN_F_HPACK_UNSEEN = 1u << 5,
	/* Go server: the request's Header map was too big for the kernel to look in for a
	 * traceparent; the span has a trace of its own, which may not be the sender's. */
	SPAN_F_TRACEPARENT_UNREAD = 1u << 6,
};

/* How a Go span found its parent (docs/go-source.md). */
enum span_go_link {
	SPAN_GO_LINK_NONE = 0,     /* not a Go span */
	SPAN_GO_LINK_ROOT = 1,     /* no parent: a server request without traceparent, or a
				    * call made outside any request */
	SPAN_GO_LINK_INCOMING = 2, /* server: the request's traceparent */
	SPAN_GO_LINK_HANDLER = 3,  /* client: made by the handler's own goroutine */
	SPAN_GO_LINK_SPAWNED = 4,  /* client: made by a goroutine the handler spawned */
	SPAN_GO_LINK_GAVE_UP = 5,  /* client: spawned too many generations below a handler */
};

/* What trace context propagation (--propagate) did for a request. */
enum span_propagation {
	SPAN_PROP_NONE = 0,     /* not asked for this span */
	SPAN_PROP_SOCKMSG = 1,  /* a traceparent was inserted by the kernel as it was sent */
	SPAN_PROP_EXISTING = 2, /* the request carried one: left alone, the span adopts it */
	SPAN_PROP_SKIPPED = 3,  /* left alone: span.propagation_reason says why */
	SPAN_PROP_MEMORY = 4,   /* a traceparent was written into the Go program's buffer */
};

/* Why a request was left alone (= enum propagate_outcome's skips, bpf/propagate.h). */
enum span_propagation_reason {
	SPAN_PROP_R_NONE = 0,
	SPAN_PROP_R_PIPELINED = 3,   /* after the first request in one write */
	SPAN_PROP_R_SPLIT = 4,       /* its head was split across writes */
	SPAN_PROP_R_NOT_HTTP1 = 5,   /* the connection does not speak HTTP/1.x */
	SPAN_PROP_R_LONG_HEAD = 6,   /* its head is longer than the kernel looks */
	SPAN_PROP_R_FRAMING = 7,     /* the connection's message boundaries were lost */
	SPAN_PROP_R_NO_MEMORY = 8,   /* the kernel could not make room */
	SPAN_PROP_R_BUSY = 9,        /* another program's sockmap holds the socket */
	SPAN_PROP_R_CLAIM = 10,      /* the socket could not be claimed */
	SPAN_PROP_R_UNCLAIMED = 11,  /* the connection was opened before ehttp started */
	SPAN_PROP_R_NO_RECORD = 12,  /* the kernel's record of it was lost */
	/* --propagate=memory (bpf/go_memwrite.bpf.c): */
	SPAN_PROP_R_NO_ROOM = 13,    /* the Go program's write buffer had less room than the line */
	SPAN_PROP_R_NOT_BUFIO = 14,  /* the headers were not written through a *bufio.Writer */
	SPAN_PROP_R_WRITE_FAILED = 15, /* the kernel refused to write the program's memory */
	SPAN_PROP_R_NO_ITAB = 16,    /* the binary's *bufio.Writer itab was not found */
	SPAN_PROP_R_NOT_WRITTEN = 17, /* no HTTP/1 header write was seen (HTTP/2, an error) */
	/* With SPAN_PROP_SOCKMSG, for a Go program's request: why it begins a new trace
	 * rather than the one its goroutine belongs to (enum propagate_go_ctx). */
	SPAN_PROP_R_GO_NONE = 18,    /* the Go probes published nothing for the sending thread */
	SPAN_PROP_R_GO_STALE = 19,   /* what they published was too old, or another request's */
	SPAN_PROP_REASON__COUNT,
};

/* "sockmsg", "existing", "skipped: pipelined after the first request in one write",
 * "sockmsg; new trace: ..." (a Go request without its goroutine's context); NULL for
 * SPAN_PROP_NONE. Returns @buf or a constant. */
const char *span_propagation_text(uint8_t propagation, uint8_t reason, char *buf, size_t len);

#define SPAN_TRACE_ID_LEN 16
#define SPAN_SPAN_ID_LEN 8

/* An endpoint: AF_INET or AF_INET6 address in network order, port in host order. */
struct span_addr {
	uint8_t family; /* 0 when unknown */
	uint16_t port;
	uint8_t addr[16];
};

struct span {
	/* Times are wall-clock ns since the epoch, derived from the kernel's monotonic clock
	 * through one anchor per capture (struct span_clock), so durations stay exact. */
	uint64_t start_ns; /* first byte of the request seen */
	uint64_t end_ns;   /* last byte of the response seen (start_ns when partial) */
	uint32_t pid, tid;
	char comm[16];
	uint8_t role;   /* enum span_role */
	uint8_t source; /* enum span_source */
	uint8_t http_major, http_minor;
	uint32_t flags; /* enum span_flag */
	struct span_addr local, remote;
	uint64_t conn_id; /* unique per connection within one capture; 0 when unknown */

	const char *method; /* "GET"; never NULL (empty when unknown) */
	const char *target; /* request target as sent: path and query */
	const char *host;   /* Host header, "" when absent */
	uint16_t status;    /* final (non-1xx) status; 0 when no response */
	uint64_t req_bytes;  /* request bytes on the wire: head and body */
	uint64_t resp_bytes; /* response bytes on the wire, 1xx interim responses included */

	/* Ids exist from the request's start. The trace id is the incoming traceparent's,
	 * or a fresh one when there is none (never all zero from a source; all zero only
	 * in span files written before that). */
	bool has_parent; /* the request carried a valid W3C traceparent: parent_span_id is valid */
	uint8_t trace_id[SPAN_TRACE_ID_LEN];
	uint8_t parent_span_id[SPAN_SPAN_ID_LEN];
	uint8_t span_id[SPAN_SPAN_ID_LEN]; /* generated by ehttp for this span */

	/* Go source (uprobes on net/http): how the span was linked; zero for other sources. */
	uint64_t goid;      /* the goroutine that served or made the request; 0 unknown */
	uint8_t go_link;    /* enum span_go_link */
	uint8_t go_depth;   /* client: goroutine generations between the handler and the call */
	bool go_wire;       /* the socket view of the same exchange was merged in */
	bool parent_ended;  /* client: the request it belongs to had ended before the call */

	/* propagate: enum span_propagation, and the reason when skipped */
	uint8_t propagation;
	uint8_t propagation_reason;

	/* Raw header blocks ("Name: value\r\n"...), start line excluded, up to the snap
	 * length, credentials already redacted unless asked otherwise; may be NULL. */
	const char *req_headers;
	uint32_t req_headers_len;
	const char *resp_headers;
	uint32_t resp_headers_len;

	/* HTTP/2 (http_major 2): one span per stream. */
	uint32_t stream_id; /* 0 for HTTP/1 */
	/* gRPC (content-type application/grpc*): service and method from :path, status and
	 * message from the trailers (or a trailers-only response). */
	bool grpc;
	int32_t grpc_status;      /* -1 when no grpc-status was seen */
	const char *grpc_service; /* "pkg.Service"; NULL unless grpc */
	const char *grpc_method;
	const char *grpc_message; /* as sent (percent-encoded); NULL when absent */
};

/* The anchor that maps the kernel's CLOCK_MONOTONIC to wall time for one capture. */
struct span_clock {
	uint64_t mono_ns;
	uint64_t real_ns;
};

void span_clock_now(struct span_clock *clock);
static inline uint64_t span_clock_wall(const struct span_clock *clock, uint64_t mono_ns)
{
	return clock->real_ns + (mono_ns - clock->mono_ns);
}

const char *span_role_name(uint8_t role);
const char *span_source_name(uint8_t source);
const char *span_go_link_name(uint8_t link);

/* "127.0.0.1:8080" or "[::1]:8080"; "-" when unknown. Returns @buf. */
char *span_addr_format(const struct span_addr *addr, char *buf, size_t len);

/* A fresh random span id (never all zero). */
void span_new_id(uint8_t id[SPAN_SPAN_ID_LEN]);
/* A fresh random trace id (never all zero), for a request that came without one. */
void span_new_trace_id(uint8_t id[SPAN_TRACE_ID_LEN]);
/* Is @id (SPAN_TRACE_ID_LEN bytes) set, not all zero? */
bool span_trace_id_set(const uint8_t id[SPAN_TRACE_ID_LEN]);

/*
 * Parse a W3C traceparent value ("00-<32 hex>-<16 hex>-<2 hex>"). Returns true and
 * fills the ids when valid (version 00 exactly, or a higher version with at least those
 * fields; all-zero ids are invalid).
 */
bool span_parse_traceparent(const char *value, size_t len, uint8_t trace_id[SPAN_TRACE_ID_LEN],
			    uint8_t parent_id[SPAN_SPAN_ID_LEN]);

/* ---- sinks ---------------------------------------------------------------------------- */

/* What producers (protocols, sources) emit into: the pipeline's input (lib/pipeline.h),
 * or a test's collector. */
struct span_sink {
	/* Consume one span; non-zero stops the producer: PIPELINE_ENOUGH when no more
	 * spans are wanted, a negative errno when the output failed. */
	int (*emit)(struct span_sink *sink, const struct span *span);
	void *ctx;
};

/* The JSON object attach and replay print for a span (keys are a contract): written
 * as one compact line without a newline, through a JSON writer (compact or pretty),
 * or parsed into a jansson object. Strings
 * that are not valid UTF-8 show their non-ASCII bytes as '?'. */
void span_write_json(FILE *f, const struct span *span, bool with_headers);
struct jsonw;
void span_jsonw(struct jsonw *w, const struct span *span, bool with_headers);
json_t *span_to_json(const struct span *span, bool with_headers);
/* The one-line text form. Returns @buf. */
char *span_format_text(const struct span *span, char *buf, size_t len);

/* The printer sink: text lines, or one JSON object per line (json_output/pretty). */
struct span_printer {
	bool with_headers; /* include header blocks in JSON */
	bool batch;        /* let stdio buffer instead of a write per span, which bulk
			    * output pays for */
	bool flush_rounds; /* with batch: out at the end of each pipeline round (live) */
	uint64_t printed;
};
struct pipeline_sink;
/* The printer as a pipeline sink (lib/pipeline.h); its close flushes stdout. */
void span_printer_sink(struct pipeline_sink *sink, struct span_printer *printer);

#endif
