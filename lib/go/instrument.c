// SPDX-License-Identifier: GPL-2.0-only
/*
 * What ehttp instruments in a Go binary: the functions it probes and the struct fields its
 * probes read. Field offsets come from the binary (DWARF, else runtime type descriptors);
 * the version-keyed table below is the last resort and is reported as such.
 */
#include <stdlib.h>
#include <string.h>

#include "goelf_int.h"

const struct goelf_want_func goelf_want_funcs[] = {
	/* server */
	{ "net/http.serverHandler.ServeHTTP", true },
	{ "net/http.(*conn).readRequest", true },
	{ "net/http.(*response).WriteHeader", true },
	{ "net/textproto.(*Reader).readContinuedLineSlice", true },
	/* client */
	{ "net/http.(*Transport).roundTrip", true },
	{ "net/http.(*persistConn).roundTrip", true },
	/* propagation: outgoing headers are written through a *bufio.Writer */
	{ "net/http.Header.writeSubset", true },
	/* goroutine lifetimes: requests are keyed by goroutine */
	{ "runtime.newproc1", true },
	{ "runtime.goexit1", true },
	/* TLS plaintext */
	{ "crypto/tls.(*Conn).Read", false },
	{ "crypto/tls.(*Conn).Write", false },
	/* HTTP/2 bundled in net/http */
	{ "net/http.(*http2serverConn).runHandler", false },
	{ "net/http.(*http2serverConn).writeHeaders", false },
	{ "net/http.(*http2ClientConn).RoundTrip", false },
	{ "net/http.(*http2ClientConn).roundTrip", false },
	{ "net/http.(*http2Framer).WriteHeaders", false },
	/* golang.org/x/net/http2 */
	{ "golang.org/x/net/http2.(*serverConn).runHandler", false },
	{ "golang.org/x/net/http2.(*ClientConn).RoundTrip", false },
	{ "golang.org/x/net/http2.(*ClientConn).roundTrip", false },
	{ "golang.org/x/net/http2.(*Framer).WriteHeaders", false },
	/* gRPC */
	{ "google.golang.org/grpc.(*Server).handleStream", false },
	{ "google.golang.org/grpc.(*ClientConn).Invoke", false },
	{ "google.golang.org/grpc/internal/transport.(*http2Server).WriteStatus", false },
	{ "google.golang.org/grpc/internal/transport.(*http2Client).NewStream", false },
};
const size_t goelf_want_funcs_count = sizeof(goelf_want_funcs) / sizeof(goelf_want_funcs[0]);

const struct goelf_want_field goelf_want_fields[] = {
	{ "net/http.Request", "Method" },
	{ "net/http.Request", "URL" },
	{ "net/http.Request", "Header" },
	{ "net/http.Request", "ContentLength" },
	{ "net/http.Request", "Host" },
	{ "net/http.Request", "RemoteAddr" },
	{ "net/http.Request", "RequestURI" },
	{ "net/http.Request", "ProtoMajor" },
	{ "net/http.Request", "ProtoMinor" },
	{ "net/http.Request", "ctx" },
	{ "net/url.URL", "Scheme" },
	{ "net/url.URL", "Host" },
	{ "net/url.URL", "Path" },
	{ "net/url.URL", "RawQuery" },
	{ "net/http.Response", "StatusCode" },
	{ "net/http.Response", "ContentLength" },
	{ "net/http.Response", "ProtoMajor" },
	{ "net/http.Response", "ProtoMinor" },
	{ "net/http.response", "req" },
	{ "net/http.response", "status" },
	{ "bufio.Writer", "buf" },
	{ "bufio.Writer", "n" },
	{ "bufio.Writer", "wr" },
	{ "net/http.conn", "rwc" },
};
const size_t goelf_want_fields_count = sizeof(goelf_want_fields) / sizeof(goelf_want_fields[0]);

/*
 * Last resort, for amd64/arm64: offsets published for Go 1.17 and later (the same on both
 * architectures, 64-bit). Used only when the binary's own DWARF and type descriptors do
 * not have the struct, and only inside the version range each row was checked for.
 */
static const struct {
	const char *strct, *field;
	int min_minor, max_minor;
	int64_t offset;
} table[] = {
	{ "net/http.Request", "Method", 17, 27, 0 },
	{ "net/http.Request", "URL", 17, 27, 16 },
	{ "net/http.Request", "Header", 17, 27, 56 },
	{ "net/http.Request", "ContentLength", 17, 27, 88 },
	{ "net/http.Request", "Host", 17, 27, 128 },
	{ "net/http.Request", "RemoteAddr", 17, 27, 176 },
	{ "net/http.Request", "RequestURI", 17, 27, 192 },
	{ "net/http.Request", "ProtoMajor", 17, 27, 40 },
	{ "net/http.Request", "ProtoMinor", 17, 27, 48 },
	{ "net/http.Request", "ctx", 17, 22, 232 },
	{ "net/http.Request", "ctx", 23, 27, 248 }, /* Pattern string added before ctx */
	{ "net/url.URL", "Scheme", 17, 27, 0 },
	{ "net/url.URL", "Host", 17, 27, 40 },
	{ "net/url.URL", "Path", 17, 27, 56 },
	{ "net/url.URL", "RawQuery", 17, 25, 96 },
	{ "net/url.URL", "RawQuery", 26, 27, 88 },
	{ "net/http.Response", "StatusCode", 17, 27, 16 },
	{ "net/http.Response", "ContentLength", 17, 27, 80 },
	{ "net/http.Response", "ProtoMajor", 17, 27, 40 },
	{ "net/http.Response", "ProtoMinor", 17, 27, 48 },
	{ "net/http.response", "req", 17, 27, 8 },
	{ "net/http.response", "status", 17, 26, 120 },
	{ "net/http.response", "status", 27, 27, 128 }, /* a field added before it */
	{ "bufio.Writer", "buf", 17, 27, 16 },
	{ "bufio.Writer", "n", 17, 27, 40 },
	{ "bufio.Writer", "wr", 17, 27, 48 },
	{ "net/http.conn", "rwc", 17, 27, 16 },
};

static int64_t table_offset(int minor, const char *strct, const char *field)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (minor >= table[i].min_minor && minor <= table[i].max_minor &&
		    !strcmp(table[i].strct, strct) && !strcmp(table[i].field, field))
			return table[i].offset;
	return -1;
}

/* The package of "net/http.Request" is "net/http": its functions are named "net/http.". */
static size_t pkg_len(const char *strct)
{
	const char *slash = strrchr(strct, '/'), *dot = strchr(slash ? slash : strct, '.');

	return dot ? (size_t)(dot - strct) : strlen(strct);
}

struct pkg_seen {
	const char *pkgs[16];
	size_t n;
	unsigned int seen; /* bit per pkgs[] entry */
};

static bool note_package(const char *name, void *arg)
{
	struct pkg_seen *p = arg;
	size_t i, l;

	for (i = 0; i < p->n; i++) {
		l = pkg_len(p->pkgs[i]);
		if (!strncmp(name, p->pkgs[i], l) && name[l] == '.')
			p->seen |= 1u << i;
	}
	return false; /* collect nothing */
}

/*
 * The table describes net/http and friends as linked into a program that uses them; a
 * program without a package's code has none of its structs, and gets no table rows.
 */
static void table_fallback(struct goelf *g, struct goelf_field_offset *out)
{
	struct pkg_seen p = { .n = 0 };
	struct goelf_funcs none;
	size_t i, j;

	for (i = 0; i < goelf_want_fields_count; i++) {
		if (out[i].source != GOELF_SRC_NONE)
			continue;
		for (j = 0; j < p.n && strcmp(p.pkgs[j], out[i].strct); j++)
			;
		if (j == p.n && p.n < 16)
			p.pkgs[p.n++] = out[i].strct;
	}
	if (!p.n || goelf_find_funcs(g, note_package, &p, &none))
		return;
	goelf_funcs_free(&none);
	for (i = 0; i < goelf_want_fields_count; i++) {
		if (out[i].source != GOELF_SRC_NONE)
			continue;
		for (j = 0; j < p.n && strcmp(p.pkgs[j], out[i].strct); j++)
			;
		if (j == p.n || !(p.seen & (1u << j)))
			continue;
		out[i].offset = table_offset(g->info.go_minor, out[i].strct, out[i].field);
		if (out[i].offset >= 0)
			out[i].source = GOELF_SRC_TABLE;
	}
}

int goelf_want_offsets(struct goelf *g, enum goelf_source_pref pref,
		       struct goelf_field_offset *out)
{
	size_t i, j, k;

	for (i = 0; i < goelf_want_fields_count; i++)
		out[i] = (struct goelf_field_offset){ goelf_want_fields[i].strct,
						      goelf_want_fields[i].field, -1, GOELF_SRC_NONE };
	for (i = 0; i < goelf_want_fields_count; i++) {
		struct goelf_struct s;
		int rc;

		if (out[i].source != GOELF_SRC_NONE || (i && !strcmp(out[i].strct, out[i - 1].strct)))
			continue; /* rows of one struct are adjacent: looked up once */
		rc = pref == GOELF_ONLY_TABLE ? 1 : goelf_struct(g, out[i].strct, pref, &s);
		if (rc < 0 && pref != GOELF_PREFER_AUTO)
			return -1;
		if (rc != 0)
			continue;
		for (j = i; j < goelf_want_fields_count && !strcmp(out[j].strct, out[i].strct); j++)
			for (k = 0; k < s.nfields; k++)
				if (!strcmp(s.fields[k].name, out[j].field)) {
					out[j].offset = (int64_t)s.fields[k].offset;
					out[j].source = s.source;
				}
		goelf_struct_free(&s);
	}
	if (pref == GOELF_PREFER_AUTO || pref == GOELF_ONLY_TABLE)
		table_fallback(g, out);
	return 0;
}

static bool wanted(const char *name, void *arg)
{
	size_t i;

	(void)arg;
	/* cheap first-byte filter: nearly every symbol fails it */
	if (name[0] != 'n' && name[0] != 'r' && name[0] != 'c' && name[0] != 'g')
		return false;
	for (i = 0; i < goelf_want_funcs_count; i++)
		if (!strcmp(name, goelf_want_funcs[i].name))
			return true;
	return false;
}

static size_t want_index(const char *name)
{
	size_t i;

	for (i = 0; i < goelf_want_funcs_count; i++)
		if (!strcmp(name, goelf_want_funcs[i].name))
			return i;
	return i;
}

static int cmp_want(const void *a, const void *b)
{
	size_t ia = want_index(((const struct goelf_func *)a)->name);
	size_t ib = want_index(((const struct goelf_func *)b)->name);

	return ia < ib ? -1 : ia > ib;
}

int goelf_want_functions(struct goelf *g, struct goelf_funcs *out)
{
	if (goelf_find_funcs(g, wanted, NULL, out))
		return -1;
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_want);
	return 0;
}
