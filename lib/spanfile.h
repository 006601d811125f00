/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Span files: pcapng files whose packets are spans (docs/spanfile.md has the byte
 * layout). The writer is what `record` plugs into the capture as a sink; the reader is
 * the source `replay` reads from. The reader takes untrusted bytes: it never reads out of
 * bounds, resynchronises on damaged blocks and keeps every complete record before a cut.
 */
#ifndef EHTTP_SPANFILE_H
#define EHTTP_SPANFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span.h"

#define SPANFILE_VERSION_MAJOR 1
#define SPANFILE_VERSION_MINOR 2
#define SPANFILE_LINKTYPE 147 /* LINKTYPE_USER0 */

/* Record kinds: the first two bytes of every packet's data (the record header is kind
 * u16, fixed_len u16, CRC-32 u32 of the rest). */
enum spanfile_kind {
	SPANFILE_KIND_SPAN = 1,
};

/* Per-capture metadata, stored in the interface description block. */
struct spanfile_meta {
	const char *hostname;
	const char *kernel;  /* kernel release */
	const char *version; /* ehttp version */
	const char *targets; /* what was captured, e.g. "pid 42" or "all processes" */
	const char *filters; /* the capture filters as given */
	struct span_clock clock;
};

/* What ehttp knows of a process, recorded once per process in each file. */
struct spanfile_process {
	uint32_t pid;
	char comm[16];
	char exe[4096];
	char cmdline[4096]; /* arguments separated by NUL bytes, cmdline_len long */
	size_t cmdline_len;
	char cgroup[1024];
};

/* ---- writer ---------------------------------------------------------------------------- */

struct spanfile_writer;

/* Fills @proc for @pid (comm from the span as fallback); false when nothing is known. */
typedef bool (*spanfile_proc_lookup)(uint32_t pid, const char *comm, struct spanfile_process *proc);
/* The default lookup: what lib/process.h knows of @pid (read from /proc once). */
bool spanfile_proc_from_procfs(uint32_t pid, const char *comm, struct spanfile_process *proc);

/*
 * Create @path with mode 0600 (truncating it; "-" writes to stdout) and write the
 * section and interface headers. Reports its own errors. Returns 0 or a negative errno.
 */
int spanfile_writer_open(struct spanfile_writer **out, const char *path,
			 const struct spanfile_meta *meta);
/* Same, on an open descriptor that the writer does not close. */
int spanfile_writer_fdopen(struct spanfile_writer **out, int fd, const struct spanfile_meta *meta);
void spanfile_writer_set_lookup(struct spanfile_writer *w, spanfile_proc_lookup lookup);
/* Append one span (preceded by its process's record the first time its pid is seen).
 * Records are buffered whole and reach the file only whole. Returns 0 or a negative errno. */
int spanfile_write_span(struct spanfile_writer *w, const struct span *span);
/* Hand buffered records to the kernel. */
int spanfile_writer_flush(struct spanfile_writer *w);
uint64_t spanfile_writer_bytes(const struct spanfile_writer *w); /* written or buffered */
uint64_t spanfile_writer_spans(const struct spanfile_writer *w);
/* Flush and close. Returns 0 or the first error seen. */
int spanfile_writer_close(struct spanfile_writer *w);

/* A sink that writes every span it is given to @w. */
void spanfile_sink_init(struct span_sink *sink, struct spanfile_writer *w);

/* The packet data of one span record (no pcapng framing): for tests and tools.
 * Returns the length, or 0 when @cap is too small. */
size_t spanfile_encode_span(const struct span *span, uint8_t *buf, size_t cap);

/* ---- reader ---------------------------------------------------------------------------- */

struct spanfile_reader;

enum spanfile_item {
	SPANFILE_ERROR = -1,  /* not a span file, newer major version, I/O error: reported */
	SPANFILE_END = 0,     /* end of input (a truncated tail was reported as a warning) */
	SPANFILE_SPAN = 1,
	SPANFILE_PROCESS = 2,
};

struct spanfile_read_stats {
	uint64_t spans;
	uint64_t processes;
	uint64_t skipped_records; /* unknown kinds, other link types, undecodable records */
	uint64_t damaged_regions; /* byte ranges skipped to resynchronise */
	uint64_t damaged_bytes;
	uint64_t truncated_bytes; /* an incomplete block at the end */
};

/* Open @path ("-" = stdin). Reports its own errors. Returns 0 or a negative errno. */
int spanfile_reader_open(struct spanfile_reader **out, const char *path);
/* Read from memory (not copied; must outlive the reader). @name is used in messages. */
int spanfile_reader_open_mem(struct spanfile_reader **out, const void *data, size_t len,
			     const char *name);
/* Warnings counted but not printed (fuzzing, tests). */
void spanfile_reader_set_quiet(struct spanfile_reader *r, bool quiet);
/* Checksums are verified unless turned off (so a fuzzer can reach the decoder). */
void spanfile_reader_set_verify(struct spanfile_reader *r, bool verify);
/*
 * The next item. A span's strings point into the reader and stay valid until the next
 * call. Errors are reported (p_err, unless quiet) once.
 */
enum spanfile_item spanfile_next(struct spanfile_reader *r, struct span *span,
				 struct spanfile_process *proc);
/* Metadata of the interface the last item came from (NULL before the first). Strings
 * are "" when absent. */
const struct spanfile_meta *spanfile_reader_meta(const struct spanfile_reader *r);
void spanfile_reader_stats(const struct spanfile_reader *r, struct spanfile_read_stats *st);
const char *spanfile_reader_name(const struct spanfile_reader *r);
void spanfile_reader_close(struct spanfile_reader *r);

/* Escape arbitrary bytes as printable ASCII (\\, \n, \xHH) and back; for process records. */
size_t spanfile_escape(const char *in, size_t len, char *out, size_t cap);
size_t spanfile_unescape(const char *in, size_t len, char *out, size_t cap);

#endif
