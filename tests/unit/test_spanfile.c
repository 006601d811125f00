// SPDX-License-Identifier: GPL-2.0-only
/*
 * Span files: writer → reader round trips, cuts at every byte, flipped bytes, junk,
 * forward compatibility with records and fields of later versions, and the merge.
 * Framing is checked by an independent walk of the pcapng blocks in this file.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "spanfile.h"
#include "spanfile_merge.h"

static char tmpdir[] = "/tmp/ehttp-unit-spanfile.XXXXXX";

static void setup(void)
{
	cr_assert(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static char *tmp_path(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tmpdir, name);
	return buf[i];
}

static bool fake_lookup(uint32_t pid, const char *comm, struct spanfile_process *p)
{
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	/* bytes that need escaping: newline, backslash, non-ASCII, '=' */
	snprintf(p->exe, sizeof(p->exe), "/opt/we\\ird\nexe=\xc3\xa9/%u", pid);
	memcpy(p->cmdline, "srv\0-x\0a=b", 10);
	p->cmdline_len = 10;
	snprintf(p->cgroup, sizeof(p->cgroup), "0::/system.slice/srv%u.service", pid);
	return true;
}

static const struct spanfile_meta test_meta = {
	.hostname = "host-1", .kernel = "6.18.0-test", .version = "9.9.9",
	.targets = "pid 42", .filters = "--port 8080 --status 5xx",
	.clock = { .mono_ns = 123456789, .real_ns = 1764000000123456789ull },
};

/* A span with every field set, varied by @i. */
static void make_span(struct span *s, int i, char *target, size_t tlen)
{
	static const char req_h[] = "Host: a\r\nTraceparent: x\r\n";
	static const char resp_h[] = "Content-Length: 0\r\n";

	memset(s, 0, sizeof(*s));
	s->start_ns = 1764000000000000000ull + (uint64_t)i * 1000003;
	s->end_ns = s->start_ns + 1234567 + i;
	s->pid = 100 + i % 3;
	s->tid = 200 + i;
	snprintf(s->comm, sizeof(s->comm), "comm-%d", i % 3);
	s->role = i % 2 ? SPAN_ROLE_CLIENT : SPAN_ROLE_SERVER;
	s->source = i % 2 ? SPAN_SOURCE_GO_UPROBE : SPAN_SOURCE_SYSCALL;
	s->http_major = 1;
	s->http_minor = i % 2;
	s->flags = (uint32_t)i & 0x1f;
	if (i % 2) {
		s->local.family = s->remote.family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", s->local.addr);
		inet_pton(AF_INET6, "::1", s->remote.addr);
	} else {
		s->local.family = s->remote.family = AF_INET;
		inet_pton(AF_INET, "127.0.0.1", s->local.addr);
		inet_pton(AF_INET, "10.1.2.3", s->remote.addr);
	}
	s->local.port = 8080;
	s->remote.port = 40000 + i;
	s->conn_id = 77 + i;
	s->method = i % 3 ? "POST" : "GET";
	snprintf(target, tlen, "/items/%d?x=%d&y=\xc3\xa9", i, i);
	s->target = target;
	s->host = i % 4 ? "example.org" : "";
	s->status = i % 5 ? 200 : 503;
	s->req_bytes = 1000 + i;
	s->resp_bytes = 1ull << 40 | (uint64_t)i;
	s->has_parent = i % 2;
	memset(s->trace_id, s->has_parent ? 0x4b : 0, sizeof(s->trace_id));
	memset(s->parent_span_id, s->has_parent ? 0x0f : 0, sizeof(s->parent_span_id));
	memset(s->span_id, 0x10 + i, sizeof(s->span_id));
	if (s->source == SPAN_SOURCE_GO_UPROBE) { /* 1.2: the Go source's view */
		s->goid = i % 5 ? 1000003ull * i : 0;
		s->go_link = 1 + (i / 2) % 5; /* root ... gave_up */
		s->go_depth = (uint8_t)(i % 9);
		s->go_wire = i % 3 == 1;
		s->parent_ended = i % 7 == 3;
	}
	s->propagation = i % 4; /* none, sockmsg, existing, skipped */
	s->propagation_reason = s->propagation == SPAN_PROP_SKIPPED ? SPAN_PROP_R_PIPELINED : 0;
	if (i % 3 != 2) {
		s->req_headers = req_h;
		s->req_headers_len = sizeof(req_h) - 1;
	}
	if (i % 3 == 1) {
		s->resp_headers = i % 2 ? resp_h : "";
		s->resp_headers_len = i % 2 ? sizeof(resp_h) - 1 : 0;
	}
}

static char *json_of(const struct span *s)
{
	json_t *o = span_to_json(s, true);
	char *text;

	if (!o) /* not valid UTF-8: flipped bytes can do that */
		return strdup("(no json)");
	json_object_set_new(o, "has_req_headers", json_boolean(s->req_headers != NULL));
	json_object_set_new(o, "has_resp_headers", json_boolean(s->resp_headers != NULL));
	text = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	return text;
}

static void write_spans(const char *path, int n, int first)
{
	struct spanfile_writer *w;
	struct span s;
	char target[128];
	int i;

	cr_assert_eq(spanfile_writer_open(&w, path, &test_meta), 0);
	spanfile_writer_set_lookup(w, fake_lookup);
	for (i = first; i < first + n; i++) {
		make_span(&s, i, target, sizeof(target));
		cr_assert_eq(spanfile_write_span(w, &s), 0);
	}
	cr_assert_eq(spanfile_writer_close(w), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	cr_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

struct read_result {
	int spans, processes;
	enum spanfile_item last;
	char *json[64];
	struct spanfile_read_stats st;
};

static void read_mem(const uint8_t *data, size_t len, struct read_result *res)
{
	static struct spanfile_process proc;
	struct spanfile_reader *r;
	struct span s;
	enum spanfile_item item;

	memset(res, 0, sizeof(*res));
	cr_assert_eq(spanfile_reader_open_mem(&r, data, len, "test"), 0);
	spanfile_reader_set_quiet(r, true);
	while ((item = spanfile_next(r, &s, &proc)) > 0) {
		if (item == SPANFILE_PROCESS) {
			res->processes++;
			continue;
		}
		if (res->spans < 64)
			res->json[res->spans] = json_of(&s);
		res->spans++;
	}
	res->last = item;
	spanfile_reader_stats(r, &res->st);
	spanfile_reader_close(r);
}

static void free_result(struct read_result *res)
{
	int i;

	for (i = 0; i < 64; i++)
		free(res->json[i]);
}

/* Independent pcapng walk: offsets where blocks end. */
static int block_ends(const uint8_t *d, size_t len, size_t *ends, int max)
{
	size_t o = 0;
	int n = 0;

	while (o + 12 <= len && n < max) {
		uint32_t blen;

		memcpy(&blen, d + o + 4, 4);
		o += blen;
		ends[n++] = o;
	}
	cr_assert_eq(o, len);
	return n;
}

TestSuite(spanfile, .init = setup, .fini = teardown);

Test(spanfile, round_trip_every_field)
{
	static struct spanfile_process proc;
	struct spanfile_reader *r;
	const struct spanfile_meta *meta;
	struct span s, orig;
	char target[128];
	int item, i = 0, procs = 0;
	struct stat st;

	write_spans(tmp_path("rt.pcapng"), 12, 0);
	cr_assert_eq(stat(tmp_path("rt.pcapng"), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(spanfile_reader_open(&r, tmp_path("rt.pcapng")), 0);
	while ((item = spanfile_next(r, &s, &proc)) > 0) {
		if (item == SPANFILE_PROCESS) {
			struct spanfile_process want;

			fake_lookup(proc.pid, "", &want);
			cr_expect_str_eq(proc.exe, want.exe);
			cr_expect_eq(proc.cmdline_len, want.cmdline_len);
			cr_expect_eq(memcmp(proc.cmdline, want.cmdline, want.cmdline_len), 0);
			cr_expect_str_eq(proc.cgroup, want.cgroup);
			procs++;
			continue;
		}
		make_span(&orig, i, target, sizeof(target));
		{
			char *a = json_of(&orig), *b = json_of(&s);

			cr_expect_str_eq(b, a, "span %d", i);
			free(a);
			free(b);
		}
		cr_expect_eq(memcmp(s.trace_id, orig.trace_id, 16), 0);
		cr_expect_eq(s.req_headers_len, orig.req_headers_len);
		i++;
	}
	cr_expect_eq(item, SPANFILE_END);
	cr_expect_eq(i, 12);
	cr_expect_eq(procs, 3, "one process record per pid");
	meta = spanfile_reader_meta(r);
	cr_assert(meta);
	cr_expect_str_eq(meta->hostname, "host-1");
	cr_expect_str_eq(meta->kernel, "6.18.0-test");
	cr_expect_str_eq(meta->version, "9.9.9");
	cr_expect_str_eq(meta->targets, "pid 42");
	cr_expect_str_eq(meta->filters, "--port 8080 --status 5xx");
	cr_expect_eq(meta->clock.mono_ns, 123456789);
	cr_expect_eq(meta->clock.real_ns, 1764000000123456789ull);
	spanfile_reader_close(r);
}

Test(spanfile, replaces_existing_file_privately)
{
	int fd = open(tmp_path("old"), O_CREAT | O_WRONLY, 0666);
	struct stat st;

	cr_assert(fd >= 0);
	fchmod(fd, 0644);
	cr_assert_eq(write(fd, "old contents that are longer", 28), 28);
	close(fd);
	write_spans(tmp_path("old"), 1, 0);
	cr_assert_eq(stat(tmp_path("old"), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
}

Test(spanfile, truncation_at_every_offset)
{
	size_t len, ends[32], k;
	uint8_t *data;
	int nblocks, i;

	write_spans(tmp_path("cut.pcapng"), 4, 0);
	data = slurp(tmp_path("cut.pcapng"), &len);
	nblocks = block_ends(data, len, ends, 32);
	cr_assert_eq(nblocks, 2 + 4, "SHB, IDB and one EPB per span");
	for (k = 0; k <= len; k++) {
		struct read_result res;
		uint8_t *copy = malloc(k ? k : 1);
		int whole = 0;

		memcpy(copy, data, k);
		read_mem(copy, k, &res);
		for (i = 2; i < nblocks; i++)
			whole += ends[i] <= k;
		if (k < ends[1]) {
			cr_expect_eq(res.last, SPANFILE_ERROR, "cut at %zu, inside the headers", k);
		} else {
			cr_expect_eq(res.last, SPANFILE_END, "cut at %zu", k);
			cr_expect_eq(res.spans, whole, "cut at %zu: %d spans, %d whole", k, res.spans, whole);
			cr_expect_eq(res.st.truncated_bytes, k - (whole ? ends[1 + whole] : ends[1]),
				     "cut at %zu", k);
		}
		free_result(&res);
		free(copy);
	}
	free(data);
}

Test(spanfile, random_byte_flips)
{
	size_t len, ends[64];
	uint8_t *data, *copy;
	int iter;

	write_spans(tmp_path("flip.pcapng"), 20, 0);
	data = slurp(tmp_path("flip.pcapng"), &len);
	block_ends(data, len, ends, 64);
	copy = malloc(len);
	srand(12345);
	for (iter = 0; iter < 3000; iter++) {
		struct read_result res;
		int flips = 1 + rand() % 3, j;
		bool headers_hit = false;

		memcpy(copy, data, len);
		for (j = 0; j < flips; j++) {
			size_t at = rand() % len;

			copy[at] ^= (uint8_t)(1 + rand() % 255);
			headers_hit |= at < ends[1];
		}
		read_mem(copy, len, &res);
		cr_assert(res.spans <= 20);
		if (!headers_hit) {
			/* each damaged block costs that block and at most the next one */
			cr_expect_eq(res.last, SPANFILE_END);
			cr_expect_geq(res.spans, 20 - 2 * flips, "iteration %d: %d spans", iter, res.spans);
		}
		free_result(&res);
	}
	free(copy);
	free(data);
}

Test(spanfile, resynchronises_after_inserted_garbage)
{
	size_t len, ends[16];
	uint8_t *data, *bad;
	struct read_result res;
	static const uint8_t junk[] = { 6, 0, 0, 0, 0xff, 0, 0, 0, 'j', 'u', 'n', 'k', 1, 2, 3 };

	write_spans(tmp_path("ins.pcapng"), 5, 0);
	data = slurp(tmp_path("ins.pcapng"), &len);
	block_ends(data, len, ends, 16);
	bad = malloc(len + sizeof(junk));
	/* garbage between the 2nd and 3rd span: not a multiple of 4 long */
	memcpy(bad, data, ends[3]);
	memcpy(bad + ends[3], junk, sizeof(junk));
	memcpy(bad + ends[3] + sizeof(junk), data + ends[3], len - ends[3]);
	read_mem(bad, len + sizeof(junk), &res);
	cr_expect_eq(res.last, SPANFILE_END);
	cr_expect_eq(res.spans, 5);
	cr_expect_eq(res.st.damaged_regions, 1);
	cr_expect_eq(res.st.damaged_bytes, sizeof(junk));
	free_result(&res);
	free(bad);
	free(data);
}

static void expect_refused(const void *data, size_t len, const char *what)
{
	struct read_result res;

	read_mem(data, len, &res);
	cr_expect_eq(res.last, SPANFILE_ERROR, "%s", what);
	cr_expect_eq(res.spans, 0, "%s", what);
	free_result(&res);
}

/* pcapng block builder for hand-made files */
struct buf {
	uint8_t d[4096];
	size_t n;
};

static void b_add(struct buf *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

/* framing written big-endian, as a section from a big-endian machine would be */
static bool big_endian;

static void b_u16(struct buf *b, uint16_t v)
{
	if (big_endian)
		v = __builtin_bswap16(v);
	b_add(b, &v, 2);
}

static void b_u32(struct buf *b, uint32_t v)
{
	if (big_endian)
		v = __builtin_bswap32(v);
	b_add(b, &v, 4);
}

static void b_opt(struct buf *b, uint16_t code, const void *p, size_t n)
{
	static const uint8_t zero[4];

	b_u16(b, code);
	b_u16(b, n);
	b_add(b, p, n);
	b_add(b, zero, (4 - n % 4) % 4);
}

static void b_block(struct buf *out, uint32_t type, const struct buf *body)
{
	uint32_t len = 12 + body->n;

	b_u32(out, type);
	b_u32(out, len);
	b_add(out, body->d, body->n);
	b_u32(out, len);
}

static void b_shb(struct buf *out)
{
	struct buf body = { .n = 0 };

	b_u32(&body, 0x1A2B3C4D);
	b_u16(&body, 1);
	b_u16(&body, 0);
	b_u32(&body, 0xffffffff);
	b_u32(&body, 0xffffffff);
	b_block(out, 0x0A0D0D0A, &body);
}

static void b_idb(struct buf *out, uint16_t linktype, const char *desc)
{
	struct buf body = { .n = 0 };
	uint8_t nine = 9;

	b_u16(&body, linktype);
	b_u16(&body, 0);
	b_u32(&body, 0);
	if (desc)
		b_opt(&body, 3, desc, strlen(desc));
	b_opt(&body, 9, &nine, 1);
	b_u32(&body, 0);
	b_block(out, 1, &body);
}

static void b_epb(struct buf *out, const void *data, size_t n, uint64_t ts)
{
	struct buf body = { .n = 0 };
	static const uint8_t zero[4];

	b_u32(&body, 0);
	b_u32(&body, ts >> 32);
	b_u32(&body, (uint32_t)ts);
	b_u32(&body, n);
	b_u32(&body, n);
	b_add(&body, data, n);
	b_add(&body, zero, (4 - n % 4) % 4);
	b_block(out, 6, &body);
}

Test(spanfile, refuses_what_is_not_a_span_file)
{
	static const uint8_t classic[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
	static const char text[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	static const uint8_t eth[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t rnd[4096];
	struct buf net = { .n = 0 }, nodesc = { .n = 0 };
	size_t i;

	expect_refused("", 0, "empty");
	expect_refused(text, sizeof(text) - 1, "text");
	expect_refused(classic, sizeof(classic), "classic pcap");
	srand(7);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = rand();
	expect_refused(rnd, sizeof(rnd), "random bytes");
	/* an ordinary network capture: Ethernet */
	b_shb(&net);
	b_idb(&net, 1, "eth0");
	b_epb(&net, eth, sizeof(eth), 1);
	expect_refused(net.d, net.n, "ethernet pcapng");
	/* a user link type without ehttp's description: someone else's records */
	b_shb(&nodesc);
	b_idb(&nodesc, 147, NULL);
	b_epb(&nodesc, eth, sizeof(eth), 1);
	expect_refused(nodesc.d, nodesc.n, "USER0 without ehttp description");
	/* only a section header */
	b_shb(&nodesc);
	expect_refused(nodesc.d, 28, "no interface");
}

Test(spanfile, refuses_newer_major_accepts_newer_minor)
{
	struct buf f = { .n = 0 };
	uint8_t rec[512];
	struct span s;
	char target[128];
	size_t n;
	struct read_result res;

	make_span(&s, 1, target, sizeof(target));
	n = spanfile_encode_span(&s, rec, sizeof(rec));
	cr_assert(n);
	b_shb(&f);
	b_idb(&f, 147, "ehttp spans 2.0");
	b_epb(&f, rec, n, s.start_ns);
	expect_refused(f.d, f.n, "major 2");

	f.n = 0;
	b_shb(&f);
	b_idb(&f, 147, "ehttp spans 1.7");
	b_epb(&f, rec, n, s.start_ns);
	read_mem(f.d, f.n, &res);
	cr_expect_eq(res.last, SPANFILE_END);
	cr_expect_eq(res.spans, 1);
	free_result(&res);
}

Test(spanfile, forward_compatible_kinds_fields_and_blocks)
{
	struct buf f = { .n = 0 }, custom = { .n = 0 };
	uint8_t rec[512], big[600], unknown[16] = { 99, 0, 4, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint32_t crc;
	struct span s;
	char target[128], *want;
	size_t n, fixed;
	struct read_result res;

	make_span(&s, 4, target, sizeof(target));
	want = json_of(&s);
	n = spanfile_encode_span(&s, rec, sizeof(rec));
	cr_assert(n);
	/* a later minor version: 8 more fixed bytes, and a trailing field after the strings */
	fixed = rec[2] | rec[3] << 8;
	memcpy(big, rec, 8 + fixed);
	big[2] = (uint8_t)(fixed + 8);
	memset(big + 8 + fixed, 0xee, 8);
	memcpy(big + 8 + fixed + 8, rec + 8 + fixed, n - 8 - fixed);
	memcpy(big + n + 8, "\x05\x00\x00\x00hello", 9);
	/* the checksum covers everything after the 8-byte record header (zlib's CRC-32) */
	crc = crc32(0, big + 8, n + 17 - 8);
	memcpy(big + 4, &crc, 4);
	crc = crc32(0, unknown + 8, sizeof(unknown) - 8);
	memcpy(unknown + 4, &crc, 4);

	b_shb(&f);
	b_idb(&f, 147, "ehttp spans 1.3");
	b_epb(&f, unknown, sizeof(unknown), s.start_ns); /* a record kind from the future */
	b_u32(&custom, 32473);                           /* a custom block, someone's PEN */
	b_u32(&custom, 0xdeadbeef);
	b_block(&f, 0x00000BAD, &custom);
	b_epb(&f, big, n + 17, s.start_ns);
	b_epb(&f, rec, n, s.start_ns);
	read_mem(f.d, f.n, &res);
	cr_expect_eq(res.last, SPANFILE_END);
	cr_assert_eq(res.spans, 2);
	cr_expect_str_eq(res.json[0], want);
	cr_expect_str_eq(res.json[1], want);
	cr_expect_eq(res.st.skipped_records, 1);
	cr_expect_eq(res.st.damaged_regions, 0);
	free_result(&res);
	free(want);
}

/* 1.2's Go fields: every link kind, depth and bit come back; a span file of 1.0 (the
 * fuzz seed, written before them) still reads, its spans without a Go link; a longer
 * link value (a later minor version's bytes) is read for what it knows. */
Test(spanfile, go_fields_round_trip_and_older_files_read)
{
	uint8_t rec[512], longer[520], *old;
	struct buf f = { .n = 0 };
	struct read_result res;
	struct span s, back;
	struct spanfile_reader *r;
	static struct spanfile_process proc;
	char target[128], *a, *b;
	size_t n, len, at;
	uint32_t crc;
	int item, spans = 0;

	for (int i = 1; i < 20; i += 2) {
		make_span(&s, i, target, sizeof(target));
		n = spanfile_encode_span(&s, rec, sizeof(rec));
		cr_assert(n);
		f.n = 0;
		b_shb(&f);
		b_idb(&f, 147, "ehttp spans 1.2");
		b_epb(&f, rec, n, s.start_ns);
		cr_assert_eq(spanfile_reader_open_mem(&r, f.d, f.n, "t"), 0);
		cr_assert_eq(spanfile_next(r, &back, &proc), SPANFILE_SPAN);
		cr_expect_eq(back.goid, s.goid, "span %d", i);
		cr_expect_eq(back.go_link, s.go_link, "span %d", i);
		cr_expect_eq(back.go_depth, s.go_depth, "span %d", i);
		cr_expect_eq(back.go_wire, s.go_wire, "span %d", i);
		cr_expect_eq(back.parent_ended, s.parent_ended, "span %d", i);
		a = json_of(&s);
		b = json_of(&back);
		cr_expect_str_eq(b, a, "span %d", i);
		cr_expect(strstr(a, "\"link\":") != NULL, "%s", a);
		free(a);
		free(b);
		spanfile_reader_close(r);
	}

	/* The link field with two bytes more, as a later minor version might write it. */
	make_span(&s, 3, target, sizeof(target));
	n = spanfile_encode_span(&s, rec, sizeof(rec));
	cr_assert(n >= 7 && rec[n - 7] == 0x02 && rec[n - 6] == 0x14 && rec[n - 5] == 3);
	at = n - 7;
	memcpy(longer, rec, n);
	longer[at + 2] = 5;
	longer[n] = 0xaa;
	longer[n + 1] = 0xbb;
	crc = crc32(0, longer + 8, n + 2 - 8);
	memcpy(longer + 4, &crc, 4);
	f.n = 0;
	b_shb(&f);
	b_idb(&f, 147, "ehttp spans 1.9");
	b_epb(&f, longer, n + 2, s.start_ns);
	read_mem(f.d, f.n, &res);
	cr_assert_eq(res.spans, 1);
	a = json_of(&s);
	cr_expect_str_eq(res.json[0], a);
	free(a);
	free_result(&res);

	old = slurp("tests/fuzz/corpus/spanfile_fuzz/seed-3-spans.pcapng", &len);
	cr_assert(memmem(old, len, "ehttp spans 1.0", 15));
	cr_assert_eq(spanfile_reader_open_mem(&r, old, len, "seed"), 0);
	spanfile_reader_set_quiet(r, true);
	while ((item = spanfile_next(r, &back, &proc)) > 0) {
		if (item != SPANFILE_SPAN)
			continue;
		spans++;
		cr_expect_eq(back.go_link, 0);
		cr_expect_eq(back.goid, 0);
		cr_expect_not(back.go_wire);
	}
	cr_expect_eq(item, SPANFILE_END);
	cr_expect_eq(spans, 3);
	spanfile_reader_close(r);
	free(old);
}

Test(spanfile, merge_reads_files_in_start_time_order)
{
	static struct spanfile_process proc;
	char *paths[2];
	struct spanfile_merge *m;
	struct span s;
	uint64_t prev = 0;
	int item, n = 0;
	struct spanfile_writer *w;
	struct span sp;
	char target[64];
	int i;

	/* two files with interleaved times: even and odd milliseconds */
	for (int f = 0; f < 2; f++) {
		paths[f] = strdup(tmp_path(f ? "b" : "a"));
		cr_assert_eq(spanfile_writer_open(&w, paths[f], &test_meta), 0);
		spanfile_writer_set_lookup(w, fake_lookup);
		for (i = 0; i < 10; i++) {
			make_span(&sp, i, target, sizeof(target));
			sp.start_ns = 1764000000000000000ull + (uint64_t)(2 * i + f) * 1000000;
			sp.end_ns = sp.start_ns + 10;
			cr_assert_eq(spanfile_write_span(w, &sp), 0);
		}
		cr_assert_eq(spanfile_writer_close(w), 0);
	}
	cr_assert_eq(spanfile_merge_open(&m, paths, 2), 0);
	while ((item = spanfile_merge_next(m, &s, &proc)) > 0) {
		if (item != SPANFILE_SPAN)
			continue;
		cr_expect_eq(s.start_ns, 1764000000000000000ull + (uint64_t)n * 1000000);
		cr_expect_geq(s.start_ns, prev);
		prev = s.start_ns;
		n++;
	}
	cr_expect_eq(item, SPANFILE_END);
	cr_expect_eq(n, 20);
	spanfile_merge_close(m);
	free(paths[0]);
	free(paths[1]);
}

Test(spanfile, escape_round_trip)
{
	char in[256], esc[1100], out[256];
	size_t i, n;

	for (i = 0; i < 256; i++)
		in[i] = (char)i;
	spanfile_escape(in, 256, esc, sizeof(esc));
	for (i = 0; esc[i]; i++)
		cr_assert(esc[i] >= 0x20 && esc[i] < 0x7f && esc[i] != '\n');
	n = spanfile_unescape(esc, strlen(esc), out, sizeof(out) + 1);
	cr_expect_eq(n, 256);
	cr_expect_eq(memcmp(in, out, 256), 0);
}

Test(spanfile, checksum_catches_payload_damage)
{
	size_t len, ends[16];
	uint8_t *data;
	struct read_result res;

	write_spans(tmp_path("crc.pcapng"), 5, 0);
	data = slurp(tmp_path("crc.pcapng"), &len);
	block_ends(data, len, ends, 16);
	/* a byte inside the third span's fixed part: the framing stays intact */
	data[ends[3] + 28 + 8 + 40] ^= 0x20;
	read_mem(data, len, &res);
	cr_expect_eq(res.last, SPANFILE_END);
	cr_expect_eq(res.spans, 4);
	cr_expect_eq(res.st.skipped_records, 1);
	free_result(&res);
	free(data);
}

Test(spanfile, big_endian_section)
{
	struct buf f = { .n = 0 };
	uint8_t rec[512];
	struct span s;
	char target[128], *want;
	size_t n;
	struct read_result res;

	make_span(&s, 3, target, sizeof(target));
	want = json_of(&s);
	n = spanfile_encode_span(&s, rec, sizeof(rec));
	big_endian = true;
	b_shb(&f);
	b_idb(&f, 147, "ehttp spans 1.0");
	b_epb(&f, rec, n, s.start_ns); /* the span record itself stays little-endian */
	big_endian = false;
	cr_assert_eq(f.d[8], 0x1A, "byte-order magic written big-endian");
	read_mem(f.d, f.n, &res);
	cr_expect_eq(res.last, SPANFILE_END);
	cr_assert_eq(res.spans, 1);
	cr_expect_str_eq(res.json[0], want);
	free_result(&res);
	free(want);
}
