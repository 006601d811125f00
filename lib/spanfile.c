// SPDX-License-Identifier: GPL-2.0-only
/*
 * Span files: pcapng framing around ehttp's span records. docs/spanfile.md is the
 * specification; keep the two in step.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "output.h"
#include "process.h"
#include "spanfile.h"
#include "hex.h"

/* pcapng block types and options we write or read. */
#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u /* obsolete packet block */
#define BT_SPB 0x00000003u
#define BT_NRB 0x00000004u
#define BT_ISB 0x00000005u
#define BT_EPB 0x00000006u
#define BT_DSB 0x0000000Au
#define BT_CB 0x00000BADu
#define BT_CB_NOCOPY 0x40000BADu
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END 0
#define OPT_COMMENT 1
#define OPT_SHB_HARDWARE 2
#define OPT_SHB_OS 3
#define OPT_SHB_USERAPPL 4
#define OPT_IF_NAME 2
#define OPT_IF_DESCRIPTION 3
#define OPT_IF_TSRESOL 9
#define OPT_IF_FILTER 11
#define OPT_IF_OS 12
#define OPT_IF_TSOFFSET 14

#define IF_NAME "ehttp"
#define IF_DESCRIPTION_PREFIX "ehttp spans "
#define PROCESS_COMMENT_PREFIX "ehttp.process\n"
#define META_PREFIX "ehttp."

/* Fields of minor versions after resp_headers (1.1 on): u16 code, u16 length, value.
 * A reader skips codes it does not know. */
#define XF_STREAM_ID 0x1301     /* u32: HTTP/2 stream */
#define XF_GRPC_STATUS 0x1302   /* s32: grpc-status, -1 when none came; marks a gRPC call */
#define XF_GRPC_SERVICE 0x1303  /* bytes */
#define XF_GRPC_METHOD 0x1304   /* bytes */
#define XF_GRPC_MESSAGE 0x1305  /* bytes: grpc-message as sent */
/* 1.2: the Go source's view (present on Go spans only, go_link != 0) */
#define XF_GO_GOROUTINE 0x1401  /* u64: the goroutine that served or made the request */
#define XF_GO_LINK 0x1402       /* u8 link, u8 depth, u8 bits (XF_GO_*); longer: later bytes */
#define XF_GO_WIRE 0x01         /* bits: the socket view of the exchange was merged in */
#define XF_GO_PARENT_ENDED 0x02 /* bits: the call came after its request had ended */
#define XF_GO_LINK_LEN 3
#define XF_STR_MAX 0xffff

/* Fixed part of a span record, version 1.0 (after the 4-byte record header). */
#define SPAN_FIXED_LEN 124
/* kind u16, fixed_len u16, CRC-32 of the bytes after the header */
#define REC_HDR_LEN 8
/* Sanity limit for one block: a span's header blocks are bounded by the snap length. */
#define MAX_BLOCK (16u << 20)
#define MAX_IFACES 1024
#define MAX_WARNINGS 10

/* ---- little-endian helpers --------------------------------------------------------------- */

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static inline size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* ---- escaping ---------------------------------------------------------------------------- */

size_t spanfile_escape(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (!cap)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = in[i];
		char tmp[4];
		size_t n;

		if (c == '\\') {
			tmp[0] = tmp[1] = '\\';
			n = 2;
		} else if (c == '\n') {
			tmp[0] = '\\';
			tmp[1] = 'n';
			n = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15];
			n = 4;
		} else {
			tmp[0] = c;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return o;
}

size_t spanfile_unescape(const char *in, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (!cap)
		return 0;
	while (i < len && o + 1 < cap) {
		char c = in[i];

		if (c == '\\' && i + 1 < len && in[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
		} else if (c == '\\' && i + 1 < len && in[i + 1] == 'n') {
			out[o++] = '\n';
			i += 2;
		} else if (c == '\\' && i + 3 < len && in[i + 1] == 'x' && hex_digit(in[i + 2]) >= 0 &&
			   hex_digit(in[i + 3]) >= 0) {
			out[o++] = (char)(hex_digit(in[i + 2]) << 4 | hex_digit(in[i + 3]));
			i += 4;
		} else {
			out[o++] = c;
			i++;
		}
	}
	out[o] = '\0';
	return o;
}

/* ---- process metadata -------------------------------------------------------------------- */

bool spanfile_proc_from_procfs(uint32_t pid, const char *comm, struct spanfile_process *proc)
{
	const struct process_info *p = process_lookup(pid, comm);

	memset(proc, 0, sizeof(*proc));
	proc->pid = pid;
	if (!p)
		return false;
	memcpy(proc->comm, p->comm, sizeof(proc->comm));
	memcpy(proc->exe, p->exe, sizeof(proc->exe));
	memcpy(proc->cmdline, p->cmdline, sizeof(proc->cmdline));
	proc->cmdline_len = p->cmdline_len;
	memcpy(proc->cgroup, p->cgroup, sizeof(proc->cgroup));
	return true;
}

/* ---- writer ------------------------------------------------------------------------------ */

struct spanfile_writer {
	int fd;
	bool own_fd;
	int error;
	uint8_t *buf;
	size_t len, cap;
	uint64_t bytes, spans;
	spanfile_proc_lookup lookup;
	/* pids already described in this file: open addressing, 0 = empty */
	uint32_t *pids;
	size_t npids, pid_cap;
	uint8_t *rec; /* scratch for one span record */
	size_t rec_cap;
};

#define WRITER_FLUSH_AT (256u << 10)

static uint8_t *wbuf_reserve(struct spanfile_writer *w, size_t n)
{
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 64 << 10;
		uint8_t *nb;

		while (cap < w->len + n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb)
			return NULL;
		w->buf = nb;
		w->cap = cap;
	}
	return w->buf + w->len;
}

int spanfile_writer_flush(struct spanfile_writer *w)
{
	size_t off = 0;

	if (w->error)
		return w->error;
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->error = n < 0 ? -errno : -EIO;
			return w->error;
		}
		off += n;
	}
	w->len = 0;
	return 0;
}

/* Options are appended to a block under construction in a small builder. */
struct block {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void blk_add(struct block *b, const void *data, size_t n)
{
	/* An empty option value may come as NULL, which memcpy must not be given. */
	if (b->oom || !n)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void blk_u16(struct block *b, uint16_t v)
{
	uint8_t t[2];

	put16(t, v);
	blk_add(b, t, 2);
}

static void blk_u32(struct block *b, uint32_t v)
{
	uint8_t t[4];

	put32(t, v);
	blk_add(b, t, 4);
}

static void blk_opt(struct block *b, uint16_t code, const void *data, size_t n)
{
	static const uint8_t zero[4];

	if (n > 0xffff)
		n = 0xffff;
	blk_u16(b, code);
	blk_u16(b, (uint16_t)n);
	blk_add(b, data, n);
	blk_add(b, zero, pad4(n) - n);
}

static void blk_opt_str(struct block *b, uint16_t code, const char *s)
{
	if (s && *s)
		blk_opt(b, code, s, strlen(s));
}

static void blk_meta(struct block *b, const char *key, const char *value)
{
	char esc[4096], line[4200];

	spanfile_escape(value ? value : "", value ? strlen(value) : 0, esc, sizeof(esc));
	snprintf(line, sizeof(line), META_PREFIX "%s=%s", key, esc);
	blk_opt_str(b, OPT_COMMENT, line);
}

/* Frame the body in @b as a block of @type and queue it. */
static int queue_block(struct spanfile_writer *w, uint32_t type, struct block *b)
{
	size_t total = 12 + pad4(b->len);
	uint8_t *p;

	if (b->oom || total > MAX_BLOCK)
		return -ENOMEM;
	p = wbuf_reserve(w, total);
	if (!p)
		return -ENOMEM;
	put32(p, type);
	put32(p + 4, (uint32_t)total);
	memcpy(p + 8, b->p, b->len);
	memset(p + 8 + b->len, 0, pad4(b->len) - b->len);
	put32(p + total - 4, (uint32_t)total);
	w->len += total;
	w->bytes += total;
	return 0;
}

static int write_headers(struct spanfile_writer *w, const struct spanfile_meta *meta)
{
	struct block b = { 0 };
	struct utsname uts;
	char os[256], appl[128], desc[64], clock[32];
	uint8_t tsresol = 9;
	int err;

	if (uname(&uts))
		memset(&uts, 0, sizeof(uts));
	snprintf(os, sizeof(os), "%s %s", uts.sysname[0] ? uts.sysname : "Linux",
		 meta->kernel && *meta->kernel ? meta->kernel : uts.release);
	snprintf(appl, sizeof(appl), "ehttp %s", meta->version ? meta->version : "");

	/* Section header: byte order, pcapng 1.0, section length unknown (we stream). */
	blk_u32(&b, BYTE_ORDER_MAGIC);
	blk_u16(&b, 1);
	blk_u16(&b, 0);
	blk_u32(&b, 0xffffffffu);
	blk_u32(&b, 0xffffffffu);
	blk_opt_str(&b, OPT_COMMENT, "ehttp span file: one HTTP span per packet (LINKTYPE_USER0); "
				     "read it with `ehttp replay`");
	blk_opt_str(&b, OPT_SHB_HARDWARE, uts.machine);
	blk_opt_str(&b, OPT_SHB_OS, os);
	blk_opt_str(&b, OPT_SHB_USERAPPL, appl);
	blk_opt(&b, OPT_END, NULL, 0);
	err = queue_block(w, BT_SHB, &b);
	b.len = 0;

	/* Interface: the span stream itself, with the capture's metadata. */
	blk_u16(&b, SPANFILE_LINKTYPE);
	blk_u16(&b, 0);
	blk_u32(&b, 0); /* snaplen: none */
	blk_opt_str(&b, OPT_IF_NAME, IF_NAME);
	snprintf(desc, sizeof(desc), IF_DESCRIPTION_PREFIX "%d.%d", SPANFILE_VERSION_MAJOR,
		 SPANFILE_VERSION_MINOR);
	blk_opt_str(&b, OPT_IF_DESCRIPTION, desc);
	blk_opt(&b, OPT_IF_TSRESOL, &tsresol, 1);
	if (meta->filters && *meta->filters) {
		char filt[1024];
		size_t n = strlen(meta->filters);

		if (n > sizeof(filt) - 1)
			n = sizeof(filt) - 1;
		filt[0] = 0; /* "libpcap filter string" is the only type tools display */
		memcpy(filt + 1, meta->filters, n);
		blk_opt(&b, OPT_IF_FILTER, filt, n + 1);
	}
	blk_opt_str(&b, OPT_IF_OS, os);
	blk_meta(&b, "hostname", meta->hostname);
	blk_meta(&b, "kernel", meta->kernel);
	blk_meta(&b, "version", meta->version);
	blk_meta(&b, "targets", meta->targets);
	blk_meta(&b, "filters", meta->filters);
	snprintf(clock, sizeof(clock), "%llu", (unsigned long long)meta->clock.mono_ns);
	blk_meta(&b, "clock_mono_ns", clock);
	snprintf(clock, sizeof(clock), "%llu", (unsigned long long)meta->clock.real_ns);
	blk_meta(&b, "clock_real_ns", clock);
	blk_opt(&b, OPT_END, NULL, 0);
	if (!err)
		err = queue_block(w, BT_IDB, &b);
	free(b.p);
	if (!err)
		err = spanfile_writer_flush(w);
	return err;
}

int spanfile_writer_fdopen(struct spanfile_writer **out, int fd, const struct spanfile_meta *meta)
{
	struct spanfile_writer *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->lookup = spanfile_proc_from_procfs;
	err = write_headers(w, meta);
	if (err) {
		free(w->buf);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int spanfile_writer_open(struct spanfile_writer **out, const char *path,
			 const struct spanfile_meta *meta)
{
	int fd, err;

	if (!strcmp(path, "-"))
		return spanfile_writer_fdopen(out, STDOUT_FILENO, meta);
	/* Captured headers can hold secrets: owner-only, also when replacing a file. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		p_err("cannot create %s: %s", path, strerror(errno));
		return err;
	}
	if (fchmod(fd, 0600)) {
		err = -errno;
		p_err("cannot make %s private: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	err = spanfile_writer_fdopen(out, fd, meta);
	if (err) {
		p_err("cannot write %s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	(*out)->own_fd = true;
	return 0;
}

void spanfile_writer_set_lookup(struct spanfile_writer *w, spanfile_proc_lookup lookup)
{
	w->lookup = lookup;
}

/* Returns true when @pid was not in the set (and adds it). */
static bool pid_first_seen(struct spanfile_writer *w, uint32_t pid)
{
	size_t i;

	if (pid == 0)
		return false;
	if ((w->npids + 1) * 2 > w->pid_cap) {
		size_t cap = w->pid_cap ? w->pid_cap * 2 : 256, j;
		uint32_t *np = calloc(cap, sizeof(*np));

		if (!np)
			return false;
		for (j = 0; j < w->pid_cap; j++) {
			if (!w->pids[j])
				continue;
			for (i = (w->pids[j] * 2654435761u) & (cap - 1); np[i]; i = (i + 1) & (cap - 1))
				;
			np[i] = w->pids[j];
		}
		free(w->pids);
		w->pids = np;
		w->pid_cap = cap;
	}
	for (i = (pid * 2654435761u) & (w->pid_cap - 1); w->pids[i]; i = (i + 1) & (w->pid_cap - 1))
		if (w->pids[i] == pid)
			return false;
	w->pids[i] = pid;
	w->npids++;
	return true;
}

static size_t process_comment(const struct spanfile_process *proc, char *out, size_t cap)
{
	char comm[80], exe[16400], cmd[16400], cg[4200];

	spanfile_escape(proc->comm, strnlen(proc->comm, sizeof(proc->comm)), comm, sizeof(comm));
	spanfile_escape(proc->exe, strnlen(proc->exe, sizeof(proc->exe)), exe, sizeof(exe));
	spanfile_escape(proc->cmdline, proc->cmdline_len < sizeof(proc->cmdline) ? proc->cmdline_len
										 : sizeof(proc->cmdline),
			cmd, sizeof(cmd));
	spanfile_escape(proc->cgroup, strnlen(proc->cgroup, sizeof(proc->cgroup)), cg, sizeof(cg));
	return (size_t)snprintf(out, cap,
				PROCESS_COMMENT_PREFIX "pid=%u\ncomm=%s\nexe=%s\ncmdline=%s\ncgroup=%s",
				proc->pid, comm, exe, cmd, cg);
}

static size_t strlen0(const char *s)
{
	return s ? strlen(s) : 0;
}

/* A field of a later minor version; @n already bounded by the caller's room check. */
static size_t put_xf(uint8_t *p, uint16_t code, const void *v, size_t n)
{
	put16(p, code);
	put16(p + 2, (uint16_t)n);
	if (n)
		memcpy(p + 4, v, n);
	return 4 + n;
}

static size_t xf_len(const char *s)
{
	size_t n = strlen0(s);

	return n > XF_STR_MAX ? XF_STR_MAX : n;
}

/* Bytes the fields after resp_headers take for @s. */
static size_t xf_need(const struct span *s)
{
	size_t n = 0;

	if (s->stream_id)
		n += 4 + 4;
	if (s->grpc)
		n += 4 + 4 + 4 + xf_len(s->grpc_service) + 4 + xf_len(s->grpc_method) +
		     (s->grpc_message ? 4 + xf_len(s->grpc_message) : 0);
	if (s->go_link)
		n += (s->goid ? 4 + 8 : 0) + 4 + XF_GO_LINK_LEN;
	return n;
}

size_t spanfile_encode_span(const struct span *s, uint8_t *buf, size_t cap)
{
	size_t comm_len = strnlen(s->comm, sizeof(s->comm)), method_len = strlen0(s->method);
	size_t host_len = strlen0(s->host), target_len = strlen0(s->target);
	size_t rqh = s->req_headers ? s->req_headers_len : 0;
	size_t rsh = s->resp_headers ? s->resp_headers_len : 0;
	size_t need, o;
	uint8_t *f, bits = 0;

	if (comm_len > 255)
		comm_len = 255;
	if (method_len > 0xffff)
		method_len = 0xffff;
	if (host_len > 0xffff)
		host_len = 0xffff;
	if (target_len > MAX_BLOCK / 4)
		target_len = MAX_BLOCK / 4;
	if (rqh > MAX_BLOCK / 4)
		rqh = MAX_BLOCK / 4;
	if (rsh > MAX_BLOCK / 4)
		rsh = MAX_BLOCK / 4;
	need = REC_HDR_LEN + SPAN_FIXED_LEN + 1 + comm_len + 2 + method_len + 2 + host_len + 4 +
	       target_len + 4 + rqh + 4 + rsh + xf_need(s);
	if (need > cap)
		return 0;
	put16(buf, SPANFILE_KIND_SPAN);
	put16(buf + 2, SPAN_FIXED_LEN);
	f = buf + REC_HDR_LEN;
	memset(f, 0, SPAN_FIXED_LEN);
	put64(f + 0, s->end_ns >= s->start_ns ? s->end_ns - s->start_ns : 0);
	put32(f + 8, s->pid);
	put32(f + 12, s->tid);
	f[16] = s->role;
	f[17] = s->source;
	f[18] = s->http_major;
	f[19] = s->http_minor;
	put32(f + 20, s->flags);
	put16(f + 24, s->status);
	f[26] = s->local.family == AF_INET ? 4 : s->local.family == AF_INET6 ? 6 : 0;
	f[27] = s->remote.family == AF_INET ? 4 : s->remote.family == AF_INET6 ? 6 : 0;
	put16(f + 28, s->local.port);
	put16(f + 30, s->remote.port);
	memcpy(f + 32, s->local.addr, 16);
	memcpy(f + 48, s->remote.addr, 16);
	put64(f + 64, s->conn_id);
	put64(f + 72, s->req_bytes);
	put64(f + 80, s->resp_bytes);
	if (s->has_parent)
		bits |= 1;
	if (s->req_headers)
		bits |= 2;
	if (s->resp_headers)
		bits |= 4;
	f[88] = bits;
	f[89] = s->propagation;
	f[90] = s->propagation_reason;
	memcpy(f + 92, s->span_id, 8);
	memcpy(f + 100, s->trace_id, 16);
	memcpy(f + 116, s->parent_span_id, 8);
	o = REC_HDR_LEN + SPAN_FIXED_LEN;
	buf[o++] = (uint8_t)comm_len;
	memcpy(buf + o, s->comm, comm_len);
	o += comm_len;
	put16(buf + o, (uint16_t)method_len);
	memcpy(buf + o + 2, s->method, method_len);
	o += 2 + method_len;
	put16(buf + o, (uint16_t)host_len);
	memcpy(buf + o + 2, s->host, host_len);
	o += 2 + host_len;
	put32(buf + o, (uint32_t)target_len);
	memcpy(buf + o + 4, s->target, target_len);
	o += 4 + target_len;
	put32(buf + o, (uint32_t)rqh);
	if (rqh)
		memcpy(buf + o + 4, s->req_headers, rqh);
	o += 4 + rqh;
	put32(buf + o, (uint32_t)rsh);
	if (rsh)
		memcpy(buf + o + 4, s->resp_headers, rsh);
	o += 4 + rsh;
	if (s->stream_id) {
		uint8_t v[4];

		put32(v, s->stream_id);
		o += put_xf(buf + o, XF_STREAM_ID, v, 4);
	}
	if (s->grpc) {
		uint8_t v[4];

		put32(v, (uint32_t)s->grpc_status);
		o += put_xf(buf + o, XF_GRPC_STATUS, v, 4);
		o += put_xf(buf + o, XF_GRPC_SERVICE, s->grpc_service, xf_len(s->grpc_service));
		o += put_xf(buf + o, XF_GRPC_METHOD, s->grpc_method, xf_len(s->grpc_method));
		if (s->grpc_message)
			o += put_xf(buf + o, XF_GRPC_MESSAGE, s->grpc_message, xf_len(s->grpc_message));
	}
	if (s->go_link) {
		uint8_t v[8];

		if (s->goid) {
			put64(v, s->goid);
			o += put_xf(buf + o, XF_GO_GOROUTINE, v, 8);
		}
		v[0] = s->go_link;
		v[1] = s->go_depth;
		v[2] = (s->go_wire ? XF_GO_WIRE : 0) | (s->parent_ended ? XF_GO_PARENT_ENDED : 0);
		o += put_xf(buf + o, XF_GO_LINK, v, XF_GO_LINK_LEN);
	}
	put32(buf + 4, (uint32_t)crc32(0, buf + REC_HDR_LEN, (uInt)(o - REC_HDR_LEN)));
	return o;
}

int spanfile_write_span(struct spanfile_writer *w, const struct span *s)
{
	size_t need = REC_HDR_LEN + SPAN_FIXED_LEN + 1 + 16 + 16 + strlen0(s->method) +
		      strlen0(s->host) + strlen0(s->target) +
		      (s->req_headers ? s->req_headers_len : 0) +
		      (s->resp_headers ? s->resp_headers_len : 0) + xf_need(s);
	char comment[40000];
	size_t rec_len, comment_len = 0, total;
	uint8_t *p;

	if (w->error)
		return w->error;
	if (need > w->rec_cap) {
		uint8_t *nr = realloc(w->rec, need);

		if (!nr)
			return -ENOMEM;
		w->rec = nr;
		w->rec_cap = need;
	}
	rec_len = spanfile_encode_span(s, w->rec, w->rec_cap);
	if (!rec_len)
		return -EINVAL;
	if (pid_first_seen(w, s->pid)) {
		struct spanfile_process proc;

		if (w->lookup && w->lookup(s->pid, s->comm, &proc)) {
			proc.pid = s->pid;
			comment_len = process_comment(&proc, comment, sizeof(comment));
			if (comment_len >= sizeof(comment))
				comment_len = sizeof(comment) - 1;
			if (comment_len > 0xffff)
				comment_len = 0xffff;
		}
	}
	/* EPB: header 28, data padded, options (comment + end), trailing length 4. */
	total = 28 + pad4(rec_len) + (comment_len ? 4 + pad4(comment_len) + 4 : 0) + 4;
	if (total > MAX_BLOCK)
		return -E2BIG;
	p = wbuf_reserve(w, total);
	if (!p)
		return -ENOMEM;
	put32(p, BT_EPB);
	put32(p + 4, (uint32_t)total);
	put32(p + 8, 0);
	put32(p + 12, (uint32_t)(s->start_ns >> 32));
	put32(p + 16, (uint32_t)s->start_ns);
	put32(p + 20, (uint32_t)rec_len);
	put32(p + 24, (uint32_t)rec_len);
	memcpy(p + 28, w->rec, rec_len);
	memset(p + 28 + rec_len, 0, pad4(rec_len) - rec_len);
	if (comment_len) {
		uint8_t *o = p + 28 + pad4(rec_len);

		put16(o, OPT_COMMENT);
		put16(o + 2, (uint16_t)comment_len);
		memcpy(o + 4, comment, comment_len);
		memset(o + 4 + comment_len, 0, pad4(comment_len) - comment_len);
		put32(o + 4 + pad4(comment_len), 0); /* opt_endofopt */
	}
	put32(p + total - 4, (uint32_t)total);
	w->len += total;
	w->bytes += total;
	w->spans++;
	if (w->len >= WRITER_FLUSH_AT)
		return spanfile_writer_flush(w);
	return 0;
}

uint64_t spanfile_writer_bytes(const struct spanfile_writer *w)
{
	return w->bytes;
}

uint64_t spanfile_writer_spans(const struct spanfile_writer *w)
{
	return w->spans;
}

int spanfile_writer_close(struct spanfile_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = spanfile_writer_flush(w);
	if (w->own_fd && close(w->fd) && !err)
		err = -errno;
	free(w->buf);
	free(w->pids);
	free(w->rec);
	free(w);
	return err;
}

static int sink_emit(struct span_sink *sink, const struct span *span)
{
	return spanfile_write_span(sink->ctx, span);
}

void spanfile_sink_init(struct span_sink *sink, struct spanfile_writer *w)
{
	sink->emit = sink_emit;
	sink->ctx = w;
}

/* ---- reader ------------------------------------------------------------------------------ */

struct iface {
	bool ehttp;          /* described as "ehttp spans M.m" */
	unsigned int major, minor;
	uint16_t linktype;
	uint8_t tsresol;     /* pcapng if_tsresol byte; 6 when absent */
	int64_t tsoffset;    /* seconds */
	char hostname[256], kernel[256], version[64], targets[1024], filters[1024];
	struct spanfile_meta meta;
};

struct spanfile_reader {
	char name[256];
	int fd;             /* -1 for memory */
	bool own_fd;
	const uint8_t *mem; /* memory input */
	uint8_t *buf;       /* file input */
	size_t cap;
	const uint8_t *data; /* == mem or buf */
	size_t pos, end;     /* valid bytes are data[pos..end) */
	uint64_t base;       /* file offset of data[0] */
	bool eof;
	bool quiet;
	bool verify;         /* check record checksums */
	bool started;        /* the first section header was read */
	bool swap;           /* section is big-endian */
	bool seen_ehttp;     /* some interface carried spans */
	uint16_t foreign_linktype;
	bool failed;
	unsigned int warnings;
	struct iface *ifaces;
	size_t nifaces;
	const struct iface *cur;
	/* the decoded record */
	struct span span;
	bool span_pending;
	char *strs;
	size_t strs_cap;
	struct spanfile_read_stats st;
};

static void r_warn(struct spanfile_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void r_warn(struct spanfile_reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->quiet)
		return;
	if (++r->warnings > MAX_WARNINGS) {
		if (r->warnings == MAX_WARNINGS + 1)
			p_warn("%s: more problems; not reporting them one by one", r->name);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p_warn("%s: %s", r->name, msg);
}

static enum spanfile_item r_fail(struct spanfile_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static enum spanfile_item r_fail(struct spanfile_reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!r->failed && !r->quiet) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		p_err("%s: %s", r->name, msg);
	}
	r->failed = true;
	return SPANFILE_ERROR;
}

static int reader_alloc(struct spanfile_reader **out, const char *name)
{
	struct spanfile_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->fd = -1;
	r->verify = true;
	*out = r;
	return 0;
}

int spanfile_reader_open_mem(struct spanfile_reader **out, const void *data, size_t len,
			     const char *name)
{
	int err = reader_alloc(out, name ? name : "(memory)");

	if (err)
		return err;
	(*out)->mem = (*out)->data = data;
	(*out)->end = len;
	(*out)->eof = true;
	return 0;
}

int spanfile_reader_open(struct spanfile_reader **out, const char *path)
{
	struct spanfile_reader *r;
	int fd, err;

	if (!strcmp(path, "-")) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			p_err("cannot open %s: %s", path, strerror(errno));
			return err;
		}
	}
	err = reader_alloc(&r, !strcmp(path, "-") ? "(stdin)" : path);
	if (err) {
		if (fd != STDIN_FILENO)
			close(fd);
		return err;
	}
	r->fd = fd;
	r->own_fd = fd != STDIN_FILENO;
	r->cap = 1 << 20;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		spanfile_reader_close(r);
		return -ENOMEM;
	}
	r->data = r->buf;
	*out = r;
	return 0;
}

void spanfile_reader_set_quiet(struct spanfile_reader *r, bool quiet)
{
	r->quiet = quiet;
}

void spanfile_reader_set_verify(struct spanfile_reader *r, bool verify)
{
	r->verify = verify;
}

/* Make @n bytes available at pos (reading more input if needed). */
static bool ensure(struct spanfile_reader *r, size_t n)
{
	if (r->end - r->pos >= n)
		return true;
	if (r->fd < 0 || r->eof)
		return false;
	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->base += r->pos;
		r->end -= r->pos;
		r->pos = 0;
	}
	if (n > r->cap) {
		size_t cap = r->cap;
		uint8_t *nb;

		while (cap < n)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (!nb)
			return false;
		r->buf = nb;
		r->data = nb;
		r->cap = cap;
	}
	while (r->end < n) {
		ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r_warn(r, "read error: %s", strerror(errno));
			r->eof = true;
			return false;
		}
		if (got == 0) {
			r->eof = true;
			return false;
		}
		r->end += got;
	}
	return true;
}

static inline uint32_t rd32(const struct spanfile_reader *r, const uint8_t *p)
{
	uint32_t v = get32(p);

	return r->swap ? __builtin_bswap32(v) : v;
}

static inline uint16_t rd16(const struct spanfile_reader *r, const uint8_t *p)
{
	uint16_t v = get16(p);

	return r->swap ? __builtin_bswap16(v) : v;
}

static bool known_block_type(uint32_t type)
{
	switch (type) {
	case BT_SHB: case BT_IDB: case BT_PB: case BT_SPB: case BT_NRB: case BT_ISB:
	case BT_EPB: case BT_DSB: case BT_CB: case BT_CB_NOCOPY:
		return true;
	default:
		return false;
	}
}

/*
 * Is there a whole, self-consistent block at pos? 1 yes, 0 no, -1 not enough input to
 * tell (the input ends inside it). A section header is judged by its own byte-order magic.
 */
static int block_at(struct spanfile_reader *r, uint32_t *type_out, uint32_t *len_out)
{
	const uint8_t *p;
	uint32_t type, len;
	bool swap = r->swap;

	if (!ensure(r, 12))
		return -1;
	p = r->data + r->pos;
	type = get32(p);
	if (type == BT_SHB) {
		uint32_t magic = get32(p + 8);

		if (magic == BYTE_ORDER_MAGIC)
			swap = false;
		else if (magic == __builtin_bswap32(BYTE_ORDER_MAGIC))
			swap = true;
		else
			return 0;
	} else {
		type = swap ? __builtin_bswap32(type) : type;
		if (!known_block_type(type))
			return 0;
	}
	len = get32(p + 4);
	if (swap)
		len = __builtin_bswap32(len);
	if (len < 12 || len % 4 || len > MAX_BLOCK)
		return 0;
	if (type == BT_SHB && len < 28)
		return 0;
	if (type == BT_IDB && len < 20)
		return 0;
	if (type == BT_EPB && len < 32)
		return 0;
	if (!ensure(r, len))
		return -1;
	p = r->data + r->pos;
	{
		uint32_t trail = get32(p + len - 4);

		if ((swap ? __builtin_bswap32(trail) : trail) != len)
			return 0;
	}
	if (type == BT_EPB) {
		uint32_t caplen = get32(p + 20);

		if (swap)
			caplen = __builtin_bswap32(caplen);
		if (caplen > len - 32 || pad4(caplen) > len - 32)
			return 0;
	}
	*type_out = type;
	*len_out = len;
	return 1;
}

/* Skip ahead byte by byte to the next whole block; true when one was found. */
static bool resync(struct spanfile_reader *r, uint64_t *skipped)
{
	uint32_t type, len;

	*skipped = 0;
	for (;;) {
		int ok;

		if (!ensure(r, 1))
			return false;
		r->pos++;
		(*skipped)++;
		ok = block_at(r, &type, &len);
		if (ok == 1)
			return true;
		if (ok < 0) {
			/* Not enough input to judge this position; maybe a later one is whole. */
			if (r->end - r->pos < 12)
				break;
		}
	}
	return false;
}

/* Walk the options of a block body [p, p+n). Calls fn for each; stops at opt_endofopt. */
typedef void (*opt_fn)(struct spanfile_reader *r, void *ctx, uint16_t code, const uint8_t *v,
		       uint16_t len);

static void walk_options(struct spanfile_reader *r, const uint8_t *p, size_t n, opt_fn fn,
			 void *ctx)
{
	size_t o = 0;

	while (o + 4 <= n) {
		uint16_t code = rd16(r, p + o), len = rd16(r, p + o + 2);

		if (code == OPT_END)
			break;
		if (o + 4 + len > n)
			break;
		fn(r, ctx, code, p + o + 4, len);
		o += 4 + pad4(len);
	}
}

static void copy_str(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	spanfile_unescape((const char *)v, len, dst, cap);
}

static uint64_t parse_u64(const uint8_t *v, size_t len)
{
	char num[24];

	copy_str(num, sizeof(num), v, len);
	return strtoull(num, NULL, 10);
}

static void idb_option(struct spanfile_reader *r, void *ctx, uint16_t code, const uint8_t *v,
		       uint16_t len)
{
	struct iface *ifc = ctx;

	switch (code) {
	case OPT_IF_DESCRIPTION: {
		size_t plen = strlen(IF_DESCRIPTION_PREFIX);
		char ver[16];
		unsigned int major, minor;

		if (len <= plen || memcmp(v, IF_DESCRIPTION_PREFIX, plen))
			break;
		copy_str(ver, sizeof(ver), v + plen, len - plen);
		if (sscanf(ver, "%u.%u", &major, &minor) == 2) {
			ifc->ehttp = true;
			ifc->major = major;
			ifc->minor = minor;
		}
		break;
	}
	case OPT_IF_TSRESOL:
		if (len >= 1)
			ifc->tsresol = v[0];
		break;
	case OPT_IF_TSOFFSET:
		if (len >= 8) {
			uint64_t off = get64(v);

			ifc->tsoffset = (int64_t)(r->swap ? __builtin_bswap64(off) : off);
		}
		break;
	case OPT_COMMENT: {
		static const struct {
			const char *key;
			size_t off, cap;
		} keys[] = {
			{ "hostname=", offsetof(struct iface, hostname), sizeof(((struct iface *)0)->hostname) },
			{ "kernel=", offsetof(struct iface, kernel), sizeof(((struct iface *)0)->kernel) },
			{ "version=", offsetof(struct iface, version), sizeof(((struct iface *)0)->version) },
			{ "targets=", offsetof(struct iface, targets), sizeof(((struct iface *)0)->targets) },
			{ "filters=", offsetof(struct iface, filters), sizeof(((struct iface *)0)->filters) },
		};
		size_t plen = strlen(META_PREFIX), i;
		const uint8_t *s = v;

		if (len < plen || memcmp(s, META_PREFIX, plen))
			break;
		s += plen;
		len -= plen;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t kl = strlen(keys[i].key);

			if (len >= kl && !memcmp(s, keys[i].key, kl))
				copy_str((char *)ifc + keys[i].off, keys[i].cap, s + kl, len - kl);
		}
		if (len > 14 && !memcmp(s, "clock_mono_ns=", 14))
			ifc->meta.clock.mono_ns = parse_u64(s + 14, len - 14);
		if (len > 14 && !memcmp(s, "clock_real_ns=", 14))
			ifc->meta.clock.real_ns = parse_u64(s + 14, len - 14);
		break;
	}
	default:
		break;
	}
}

static void process_option(struct spanfile_reader *r, void *ctx, uint16_t code, const uint8_t *v,
			   uint16_t len)
{
	struct spanfile_process *proc = ctx;
	size_t plen = strlen(PROCESS_COMMENT_PREFIX), o;

	if (code != OPT_COMMENT || len < plen || memcmp(v, PROCESS_COMMENT_PREFIX, plen))
		return;
	memset(proc, 0, sizeof(*proc));
	proc->pid = UINT32_MAX; /* marks "found" below; replaced by the pid line */
	o = plen;
	while (o < len) {
		const uint8_t *line = v + o, *nl = memchr(line, '\n', len - o);
		size_t n = nl ? (size_t)(nl - line) : len - o;
		const uint8_t *eq = memchr(line, '=', n);

		o += n + 1;
		if (!eq)
			continue;
		{
			size_t kl = eq - line, vl = n - kl - 1;
			const uint8_t *val = eq + 1;

			if (kl == 3 && !memcmp(line, "pid", 3))
				proc->pid = (uint32_t)parse_u64(val, vl);
			else if (kl == 4 && !memcmp(line, "comm", 4))
				copy_str(proc->comm, sizeof(proc->comm), val, vl);
			else if (kl == 3 && !memcmp(line, "exe", 3))
				copy_str(proc->exe, sizeof(proc->exe), val, vl);
			else if (kl == 7 && !memcmp(line, "cmdline", 7))
				proc->cmdline_len = spanfile_unescape((const char *)val, vl, proc->cmdline,
								      sizeof(proc->cmdline));
			else if (kl == 6 && !memcmp(line, "cgroup", 6))
				copy_str(proc->cgroup, sizeof(proc->cgroup), val, vl);
			/* other keys: a newer writer's; ignored */
		}
	}
}

static uint64_t ts_to_ns(const struct iface *ifc, uint64_t ts)
{
	uint64_t ns;
	unsigned int i, e;

	if (ifc->tsresol & 0x80) {
		e = ifc->tsresol & 0x7f;
		ns = e >= 64 ? 0 : (uint64_t)(((unsigned __int128)ts * 1000000000u) >> e);
	} else if (ifc->tsresol <= 9) {
		ns = ts;
		for (i = ifc->tsresol; i < 9; i++)
			ns *= 10;
	} else {
		ns = ts;
		for (i = 9; i < ifc->tsresol && ns; i++)
			ns /= 10;
	}
	return ns + (uint64_t)ifc->tsoffset * 1000000000u;
}

static bool str_reserve(struct spanfile_reader *r, size_t n)
{
	char *ns;

	if (n <= r->strs_cap)
		return true;
	ns = realloc(r->strs, n);
	if (!ns)
		return false;
	r->strs = ns;
	r->strs_cap = n;
	return true;
}

/* The fields after resp_headers (@n bytes at @d); their strings go to @out, which has
 * room for each value and a terminator. */
static void decode_xf(struct span *s, const uint8_t *d, size_t n, char *out)
{
	static const char *none = "";

	for (size_t x = 0; x + 4 <= n;) {
		uint16_t code = get16(d + x), len = get16(d + x + 2);
		const uint8_t *v = d + x + 4;
		const char **str = NULL;

		if (len > n - x - 4)
			break;
		switch (code) {
		case XF_STREAM_ID:
			if (len == 4)
				s->stream_id = get32(v);
			break;
		case XF_GRPC_STATUS:
			if (len == 4) {
				s->grpc = true;
				s->grpc_status = (int32_t)get32(v);
			}
			break;
		case XF_GRPC_SERVICE:
			str = &s->grpc_service;
			break;
		case XF_GRPC_METHOD:
			str = &s->grpc_method;
			break;
		case XF_GRPC_MESSAGE:
			str = &s->grpc_message;
			break;
		case XF_GO_GOROUTINE:
			if (len == 8)
				s->goid = get64(v);
			break;
		case XF_GO_LINK:
			if (len >= XF_GO_LINK_LEN && v[0]) {
				s->go_link = v[0];
				s->go_depth = v[1];
				s->go_wire = v[2] & XF_GO_WIRE;
				s->parent_ended = v[2] & XF_GO_PARENT_ENDED;
			}
			break;
		}
		if (str) {
			memcpy(out, v, len);
			out[len] = '\0';
			*str = out;
			out += len + 1;
		}
		x += 4 + len;
	}
	if (s->grpc) {
		/* a record from a writer that left one out */
		if (!s->grpc_service)
			s->grpc_service = none;
		if (!s->grpc_method)
			s->grpc_method = none;
	} else {
		s->grpc_service = s->grpc_method = s->grpc_message = NULL;
	}
}

/* Decode one span record. 1 ok, 0 unknown kind (skip), -1 damaged. */
static int decode_record(struct spanfile_reader *r, const uint8_t *d, size_t n, uint64_t start_ns)
{
	uint8_t f[SPAN_FIXED_LEN] = { 0 };
	struct span *s = &r->span;
	uint16_t kind, fixed_len;
	size_t o, comm_len, lens[5], offs[5], i, total = 0, xf_at;
	char *out;

	if (n < REC_HDR_LEN)
		return -1;
	if (r->verify && get32(d + 4) != (uint32_t)crc32(0, d + REC_HDR_LEN, (uInt)(n - REC_HDR_LEN)))
		return -1;
	kind = get16(d);
	fixed_len = get16(d + 2);
	if (kind != SPANFILE_KIND_SPAN)
		return 0;
	if (REC_HDR_LEN + (size_t)fixed_len > n)
		return -1;
	memcpy(f, d + REC_HDR_LEN, fixed_len < SPAN_FIXED_LEN ? fixed_len : SPAN_FIXED_LEN);
	o = REC_HDR_LEN + fixed_len;
	/* variable part: comm (u8 length), method, host (u16), target, headers (u32) */
	if (o + 1 > n)
		return -1;
	comm_len = d[o++];
	if (o + comm_len > n)
		return -1;
	memset(s, 0, sizeof(*s));
	memcpy(s->comm, d + o, comm_len < sizeof(s->comm) - 1 ? comm_len : sizeof(s->comm) - 1);
	o += comm_len;
	for (i = 0; i < 5; i++) {
		size_t w = i < 2 ? 2 : 4;

		if (o + w > n)
			return -1;
		lens[i] = w == 2 ? get16(d + o) : get32(d + o);
		o += w;
		if (lens[i] > n - o)
			return -1;
		offs[i] = o;
		o += lens[i];
		total += lens[i] + 1;
	}
	/* bytes after resp_headers: fields of later minor versions (code, length, value);
	 * codes not known here are skipped, a field cut short ends them */
	xf_at = o;
	for (size_t x = o; x + 4 <= n && get16(d + x + 2) <= n - x - 4; x += 4 + get16(d + x + 2))
		total += get16(d + x + 2) + 1;
	if (!str_reserve(r, total))
		return -1;
	out = r->strs;
	{
		const char **dst[3] = { &s->method, &s->host, &s->target };

		for (i = 0; i < 5; i++) {
			memcpy(out, d + offs[i], lens[i]);
			out[lens[i]] = '\0';
			if (i < 3)
				*dst[i] = out;
			out += lens[i] + 1;
		}
	}
	s->start_ns = start_ns;
	s->end_ns = start_ns + get64(f + 0);
	s->pid = get32(f + 8);
	s->tid = get32(f + 12);
	s->role = f[16];
	s->source = f[17];
	s->http_major = f[18];
	s->http_minor = f[19];
	s->flags = get32(f + 20);
	s->status = get16(f + 24);
	s->local.family = f[26] == 4 ? AF_INET : f[26] == 6 ? AF_INET6 : 0;
	s->remote.family = f[27] == 4 ? AF_INET : f[27] == 6 ? AF_INET6 : 0;
	s->local.port = get16(f + 28);
	s->remote.port = get16(f + 30);
	memcpy(s->local.addr, f + 32, 16);
	memcpy(s->remote.addr, f + 48, 16);
	s->conn_id = get64(f + 64);
	s->req_bytes = get64(f + 72);
	s->resp_bytes = get64(f + 80);
	s->has_parent = f[88] & 1;
	s->propagation = f[89];
	s->propagation_reason = f[90];
	memcpy(s->span_id, f + 92, 8);
	memcpy(s->trace_id, f + 100, 16);
	memcpy(s->parent_span_id, f + 116, 8);
	out = r->strs + lens[0] + 1 + lens[1] + 1 + lens[2] + 1;
	if (f[88] & 2) {
		s->req_headers = out;
		s->req_headers_len = (uint32_t)lens[3];
	}
	out += lens[3] + 1;
	if (f[88] & 4) {
		s->resp_headers = out;
		s->resp_headers_len = (uint32_t)lens[4];
	}
	out += lens[4] + 1;
	decode_xf(s, d + xf_at, n - xf_at, out);
	return 1;
}

static enum spanfile_item finish(struct spanfile_reader *r)
{
	if (!r->seen_ehttp) {
		if (r->foreign_linktype)
			return r_fail(r, "a capture of link type %u packets, not an ehttp span file",
				      r->foreign_linktype);
		return r_fail(r, "no span stream in this pcapng file: not an ehttp span file, "
				 "or cut before its interface description");
	}
	return SPANFILE_END;
}

static enum spanfile_item first_block(struct spanfile_reader *r)
{
	size_t avail;
	uint32_t magic, type, len;

	ensure(r, 28);
	avail = r->end - r->pos;
	if (avail == 0)
		return r_fail(r, "empty file, not an ehttp span file");
	if (avail >= 4) {
		magic = get32(r->data + r->pos);
		if (magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u || magic == 0xa1b23c4du ||
		    magic == 0x4d3cb2a1u)
			return r_fail(r, "a classic pcap capture, not an ehttp span file");
		if (magic != BT_SHB)
			return r_fail(r, "not an ehttp span file (no pcapng section header)");
	}
	if (block_at(r, &type, &len) != 1 || type != BT_SHB)
		return r_fail(r, "not an ehttp span file (%s pcapng section header)",
			      avail < 28 ? "incomplete" : "damaged");
	return SPANFILE_SPAN; /* any non-error value: go on */
}

enum spanfile_item spanfile_next(struct spanfile_reader *r, struct span *span,
				 struct spanfile_process *proc)
{
	uint32_t type, len;
	const uint8_t *p;

	if (r->failed)
		return SPANFILE_ERROR;
	if (r->span_pending) {
		r->span_pending = false;
		*span = r->span;
		r->st.spans++;
		return SPANFILE_SPAN;
	}
	if (!r->started && first_block(r) == SPANFILE_ERROR)
		return SPANFILE_ERROR;
	for (;;) {
		uint64_t at = r->base + r->pos, skipped;
		int ok = block_at(r, &type, &len);

		if (ok < 0 && r->end == r->pos)
			return finish(r);
		if (ok <= 0) {
			size_t avail = r->end - r->pos;

			if (resync(r, &skipped)) {
				r->st.damaged_regions++;
				r->st.damaged_bytes += skipped;
				r_warn(r, "damaged data at offset %llu: skipped %llu bytes",
				       (unsigned long long)at, (unsigned long long)skipped);
				continue;
			}
			skipped += r->end - r->pos;
			r->pos = r->end;
			if (ok < 0 && skipped == avail) {
				r->st.truncated_bytes += skipped;
				r_warn(r, "truncated: the last %llu bytes (from offset %llu) are an "
					  "incomplete record", (unsigned long long)skipped,
				       (unsigned long long)at);
			} else {
				r->st.damaged_regions++;
				r->st.damaged_bytes += skipped;
				r_warn(r, "damaged data from offset %llu to the end: skipped %llu bytes",
				       (unsigned long long)at, (unsigned long long)skipped);
			}
			return finish(r);
		}
		p = r->data + r->pos;
		r->pos += len;
		if (type == BT_SHB) {
			uint16_t major;

			r->swap = get32(p + 8) != BYTE_ORDER_MAGIC;
			major = rd16(r, p + 12);
			if (major != 1)
				return r_fail(r, "pcapng version %u is not supported", major);
			r->started = true;
			r->nifaces = 0;
			r->cur = NULL;
		} else if (!r->started) {
			return r_fail(r, "not an ehttp span file (no pcapng section header)");
		} else if (type == BT_IDB) {
			struct iface ifc = { .tsresol = 6 };

			ifc.linktype = rd16(r, p + 8);
			walk_options(r, p + 16, len - 20, idb_option, &ifc);
			if (ifc.ehttp && (ifc.linktype < 147 || ifc.linktype > 162))
				ifc.ehttp = false;
			if (ifc.ehttp && ifc.major > SPANFILE_VERSION_MAJOR)
				return r_fail(r, "span format %u.%u is newer than this ehttp reads (%d.x): "
						 "upgrade ehttp", ifc.major, ifc.minor,
					      SPANFILE_VERSION_MAJOR);
			if (ifc.ehttp)
				r->seen_ehttp = true;
			else if (!r->foreign_linktype)
				r->foreign_linktype = ifc.linktype ? ifc.linktype : 0xffff;
			if (r->nifaces >= MAX_IFACES) {
				r_warn(r, "more than %d interfaces in a section: ignoring the rest",
				       MAX_IFACES);
				continue;
			}
			if (!(r->nifaces & (r->nifaces + 1)) || !r->ifaces) {
				/* grow at 0, 1, 3, 7, ...: capacity is the next power of two */
				struct iface *ni = realloc(r->ifaces, (r->nifaces + 1) * 2 * sizeof(*ni));

				if (!ni)
					return r_fail(r, "out of memory");
				r->ifaces = ni;
			}
			r->cur = NULL; /* the array may have moved */
			r->ifaces[r->nifaces++] = ifc;
		} else if (type == BT_EPB) {
			uint32_t if_id = rd32(r, p + 8), caplen = rd32(r, p + 20);
			uint64_t ts = (uint64_t)rd32(r, p + 12) << 32 | rd32(r, p + 16);
			const struct iface *ifc;
			int rc;

			if (if_id >= r->nifaces) {
				r->st.skipped_records++;
				r_warn(r, "packet at offset %llu names interface %u, which was never "
					  "described: skipped", (unsigned long long)at, if_id);
				continue;
			}
			ifc = &r->ifaces[if_id];
			if (!ifc->ehttp) {
				if (!r->seen_ehttp)
					return r_fail(r, "a capture of link type %u packets, not an ehttp "
							 "span file", ifc->linktype);
				r->st.skipped_records++;
				continue;
			}
			rc = decode_record(r, p + 28, caplen, ts_to_ns(ifc, ts));
			if (rc == 0) {
				r->st.skipped_records++;
				continue;
			}
			if (rc < 0) {
				r->st.skipped_records++;
				r_warn(r, "damaged span record at offset %llu: skipped",
				       (unsigned long long)at);
				continue;
			}
			r->cur = ifc;
			if (proc) {
				size_t opt = 28 + pad4(caplen);

				proc->pid = 0;
				if (opt + 4 <= len)
					walk_options(r, p + opt, len - 4 - opt, process_option, proc);
				if (proc->pid) {
					if (proc->pid == UINT32_MAX)
						proc->pid = r->span.pid;
					r->span_pending = true;
					r->st.processes++;
					return SPANFILE_PROCESS;
				}
			}
			*span = r->span;
			r->st.spans++;
			return SPANFILE_SPAN;
		} else {
			/* statistics, name resolution, custom, simple packet blocks: not ours */
			if (type == BT_SPB || type == BT_PB)
				r->st.skipped_records++;
		}
	}
}

const struct spanfile_meta *spanfile_reader_meta(const struct spanfile_reader *r)
{
	struct iface *ifc = (struct iface *)r->cur;

	if (!ifc)
		return NULL;
	ifc->meta.hostname = ifc->hostname;
	ifc->meta.kernel = ifc->kernel;
	ifc->meta.version = ifc->version;
	ifc->meta.targets = ifc->targets;
	ifc->meta.filters = ifc->filters;
	return &ifc->meta;
}

void spanfile_reader_stats(const struct spanfile_reader *r, struct spanfile_read_stats *st)
{
	*st = r->st;
}

const char *spanfile_reader_name(const struct spanfile_reader *r)
{
	return r->name;
}

void spanfile_reader_close(struct spanfile_reader *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r->buf);
	free(r->ifaces);
	free(r->strs);
	free(r);
}
