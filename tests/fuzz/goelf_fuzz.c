// fuzz-sources: lib/go/goelf.c lib/go/info.c lib/go/buildinfo.c lib/go/pclntab.c lib/go/funcs.c lib/go/returns.c lib/go/dwarf.c lib/go/rtypes.c lib/go/instrument.c lib/go/maps.c lib/go/probepoints.c
/*
 * The Go binary reader on arbitrary bytes: the whole path (ELF, build info, pclntab,
 * functions and returns, DWARF, runtime types, the instrumentation set) and, on the same
 * input, each pure parser on its own. Seeds (tests/fuzz/goelf_seeds.sh): tiny Go-shaped
 * images in the layouts of Go 1.14 to 1.27 (tests/unit/test_goelf.c), and a real Go 1.27
 * program for amd64 and arm64 with its machine code zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include "go/goelf_int.h"

static bool flat_ptr(void *ctx, uint64_t vaddr, uint64_t *out)
{
	const uint8_t **d = ctx;
	size_t size = (size_t)(d[1] - d[0]);

	if (!in_bounds(vaddr, 8, size))
		return false;
	*out = ld64(d[0] + vaddr);
	return true;
}

static const uint8_t *flat_bytes(void *ctx, uint64_t vaddr, uint64_t len)
{
	const uint8_t **d = ctx;

	return in_bounds(vaddr, len, (size_t)(d[1] - d[0])) ? d[0] + vaddr : NULL;
}

static bool every_third(const char *name, void *arg)
{
	return (strlen(name) % 3) == 0;
}

static void pure_parsers(const uint8_t *data, size_t size)
{
	const uint8_t *bounds[2] = { data, data + size };
	struct gmem mem = { bounds, flat_ptr, flat_bytes };
	struct pclntab t;
	struct buildinfo bi;
	struct modinfo mi;
	char err[GOELF_ERR_MAX];
	uint64_t *r = NULL, i, entry, end;
	size_t n = 0;
	const char *name;

	if (!pclntab_parse(&t, data, size, 0x1000, err, sizeof(err)))
		for (i = 0; i < t.nfunc && i < 4096; i++)
			(void)pclntab_func(&t, i, &entry, &end, &name);
	if (!buildinfo_parse(data, size, &mem, &bi, err, sizeof(err))) {
		if (!modinfo_parse(bi.modinfo, &mi))
			modinfo_free(&mi);
		modinfo_free(&mi);
		buildinfo_free(&bi);
	}
	scan_returns(GOELF_ARCH_AMD64, data, size < 4096 ? size : 4096, 0x1000, &r, &n);
	scan_returns(GOELF_ARCH_ARM64, data, size < 4096 ? size : 4096, 0x1000, &r, &n);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct goelf_field_offset offs[64];
	const struct goelf_info *in;
	char err[GOELF_ERR_MAX];
	struct goelf_funcs fs;
	struct goelf_struct s;
	struct goelf *g;

	pure_parsers(data, size);
	g = goelf_open_mem(data, size, err, sizeof(err));
	if (!g)
		return 0;
	if (!goelf_info(g, &in)) {
		if (!goelf_want_functions(g, &fs))
			goelf_funcs_free(&fs);
		if (!goelf_find_funcs(g, every_third, NULL, &fs)) {
			/* cheap probe points: entry jumps, calls and result checks between two functions */
			struct goelf_call *calls = NULL;
			struct goelf_result_check rc;
			size_t i, ncalls = 0;
			uint64_t at;

			for (i = 0; i < fs.n && i < 64; i++) {
				(void)goelf_entry_jump(g, &fs.v[i], &at);
				(void)goelf_calls_to(g, &fs.v[i], fs.v[(i + 1) % fs.n].address, &calls, &ncalls);
				(void)goelf_result_check(g, &fs.v[i], fs.v[(i + 1) % fs.n].address, &rc);
			}
			free(calls);
			goelf_funcs_free(&fs);
		}
		{
			struct goelf_map_layout ml;

			(void)goelf_header_map(g, &ml);
		}
		{
			/* the itab the memory write checks the writer by: symbols, else the
			 * runtime's itab list (itablinks, or Go 1.27's inline itabs) */
			uint64_t va, off;

			(void)goelf_itab(g, "*bufio.Writer", "io.Writer", &va, &off);
		}
		if (goelf_want_fields_count <= 64)
			(void)goelf_want_offsets(g, GOELF_PREFER_AUTO, offs);
		if (!goelf_struct(g, "main.T", GOELF_ONLY_RUNTIME, &s))
			goelf_struct_free(&s);
		if (!goelf_struct(g, "net/http.Request", GOELF_PREFER_AUTO, &s))
			goelf_struct_free(&s);
	}
	goelf_close(g);
	return 0;
}
