// SPDX-License-Identifier: GPL-2.0-only
/*
 * How a map[string][]string (net/http.Header) is laid out in memory, so that a probe can
 * find one key by visiting every slot (it cannot compute Go's hash: the seed is per map
 * and the hash function is AES-based where the CPU has it).
 *
 *  - Go 1.17-1.23 (and 1.24-1.25 built with GOEXPERIMENT=noswissmap): runtime.hmap, an
 *    array of 2^B buckets of 8 slots (tophash[8], keys[8], elems[8], overflow pointer);
 *    while the map grows, the entries not moved yet are in oldbuckets.
 *  - Go 1.24 and later: Swiss tables (internal/runtime/maps). A Map with dirLen 0 points
 *    at one group; otherwise at a directory of dirLen *table (several entries may share a
 *    table), each with lengthMask+1 groups. A group is a control word (one byte per slot,
 *    high bit clear = full) then its slots, interleaved key/elem, or with
 *    GOEXPERIMENT=mapsplitgroup (1.27) the 8 keys then the 8 elems.
 *
 * From DWARF when the binary has it; otherwise from the tables below, which match the
 * DWARF of every release tested (tests/integration/test_go_versions.sh).
 */
#include <string.h>

#include "goelf_int.h"

static int64_t field(const struct goelf_struct *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (!strcmp(s->fields[i].name, name))
			return (int64_t)s->fields[i].offset;
	return -1;
}

static const char *experiment(const struct goelf_info *info)
{
	size_t i;

	for (i = 0; i < info->nsettings; i++)
		if (!strcmp(info->settings[i].key, "GOEXPERIMENT"))
			return info->settings[i].value;
	return "";
}

static bool has_experiment(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static void table_buckets(struct goelf_map_layout *l)
{
	l->kind = GOELF_MAP_BUCKETS;
	l->count_off = 0;
	l->flags_off = 8;
	l->b_off = 9;
	l->buckets_off = 16;
	l->oldbuckets_off = 24;
	l->group_size = 8 + 8 * 16 + 8 * 24 + 8;
	l->key_off = 8;
	l->key_stride = 16;
	l->elem_off = 8 + 8 * 16;
	l->elem_stride = 24;
	l->overflow_off = l->group_size - 8;
}

static void table_swiss(struct goelf_map_layout *l, bool split)
{
	l->kind = GOELF_MAP_SWISS;
	l->count_off = 0;
	l->dir_ptr_off = 16;
	l->dir_len_off = 24;
	l->table_groups_off = 16;
	l->table_mask_off = 24;
	l->group_size = 8 + 8 * (16 + 24);
	l->key_off = 8;
	l->key_stride = split ? 16 : 40;
	l->elem_off = split ? 8 + 8 * 16 : 8 + 16;
	l->elem_stride = split ? 24 : 40;
}

/* The layout from DWARF: 0 found, 1 not there. */
static int dwarf_buckets(struct goelf *g, struct goelf_map_layout *l)
{
	struct goelf_struct h, b;
	int rc = 1;

	if (goelf_struct(g, "runtime.hmap", GOELF_ONLY_DWARF, &h))
		return 1;
	if (goelf_struct(g, "bucket<string,[]string>", GOELF_ONLY_DWARF, &b)) {
		goelf_struct_free(&h);
		return 1;
	}
	l->kind = GOELF_MAP_BUCKETS;
	l->count_off = field(&h, "count");
	l->flags_off = field(&h, "flags");
	l->b_off = field(&h, "B");
	l->buckets_off = field(&h, "buckets");
	l->oldbuckets_off = field(&h, "oldbuckets");
	l->group_size = b.size > 0 ? (uint64_t)b.size : 0;
	l->key_off = field(&b, "keys");
	l->key_stride = 16;
	l->elem_off = field(&b, "elems");
	l->elem_stride = 24;
	l->overflow_off = field(&b, "overflow");
	if (l->count_off >= 0 && l->flags_off >= 0 && l->b_off >= 0 && l->buckets_off >= 0 &&
	    l->oldbuckets_off >= 0 && l->group_size && (int64_t)l->key_off >= 0 &&
	    (int64_t)l->elem_off >= 0 && (int64_t)l->overflow_off >= 0)
		rc = 0;
	goelf_struct_free(&h);
	goelf_struct_free(&b);
	return rc;
}

static int dwarf_swiss(struct goelf *g, struct goelf_map_layout *l)
{
	struct goelf_struct m = { 0 }, t = { 0 }, r = { 0 }, grp = { 0 }, slot = { 0 };
	int64_t groups, data, mask, slots, keys, elems;
	int rc = 1;

	if (goelf_struct(g, "internal/runtime/maps.Map", GOELF_ONLY_DWARF, &m) ||
	    goelf_struct(g, "internal/runtime/maps.table", GOELF_ONLY_DWARF, &t) ||
	    goelf_struct(g, "internal/runtime/maps.groupsReference", GOELF_ONLY_DWARF, &r) ||
	    goelf_struct(g, "noalg.map.group[string][]string", GOELF_ONLY_DWARF, &grp))
		goto out;
	groups = field(&t, "groups");
	data = field(&r, "data");
	mask = field(&r, "lengthMask");
	slots = field(&grp, "slots");
	keys = field(&grp, "keys");
	elems = field(&grp, "elems");
	l->kind = GOELF_MAP_SWISS;
	l->count_off = field(&m, "used");
	l->dir_ptr_off = field(&m, "dirPtr");
	l->dir_len_off = field(&m, "dirLen");
	l->table_groups_off = groups >= 0 && data >= 0 ? groups + data : -1;
	l->table_mask_off = groups >= 0 && mask >= 0 ? groups + mask : -1;
	l->group_size = grp.size > 0 ? (uint64_t)grp.size : 0;
	if (slots >= 0) {
		int64_t k, e;

		if (goelf_struct(g, "noalg.struct { key string; elem []string }", GOELF_ONLY_DWARF, &slot))
			goto out;
		k = field(&slot, "key");
		e = field(&slot, "elem");
		if (k < 0 || e < 0 || slot.size <= 0)
			goto out;
		l->key_off = slots + k;
		l->elem_off = slots + e;
		l->key_stride = l->elem_stride = slot.size;
	} else if (keys >= 0 && elems >= 0) {
		l->key_off = keys;
		l->key_stride = 16;
		l->elem_off = elems;
		l->elem_stride = 24;
	} else {
		goto out;
	}
	if (l->count_off >= 0 && l->dir_ptr_off >= 0 && l->dir_len_off >= 0 &&
	    l->table_groups_off >= 0 && l->table_mask_off >= 0 && l->group_size)
		rc = 0;
out:
	goelf_struct_free(&m);
	goelf_struct_free(&t);
	goelf_struct_free(&r);
	goelf_struct_free(&grp);
	goelf_struct_free(&slot);
	return rc;
}

/* Does the layout stay inside its group? (The probe reads one group at a time.) */
static bool sane(const struct goelf_map_layout *l)
{
	return l->group_size >= 8 + 8 * 40 && l->group_size <= GOELF_MAP_GROUP_MAX &&
	       l->key_off + 7 * l->key_stride + 16 <= l->group_size &&
	       l->elem_off + 7 * l->elem_stride + 24 <= l->group_size &&
	       (l->kind != GOELF_MAP_BUCKETS || l->overflow_off + 8 <= l->group_size);
}

int goelf_header_map(struct goelf *g, struct goelf_map_layout *out)
{
	const struct goelf_info *info;
	const char *exp;
	bool swiss;

	memset(out, 0, sizeof(*out));
	if (goelf_info(g, &info))
		return -1;
	exp = experiment(info);
	/* Swiss tables from 1.24, unless turned off (possible in 1.24 and 1.25 only) */
	swiss = info->go_minor >= 24 && !has_experiment(exp, "noswissmap");
	if (info->has_dwarf && (swiss ? dwarf_swiss(g, out) : dwarf_buckets(g, out)) == 0 && sane(out)) {
		out->source = GOELF_SRC_DWARF;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if (!info->version_exact || info->go_minor < 17 || info->go_minor > 27 ||
	    (info->arch != GOELF_ARCH_AMD64 && info->arch != GOELF_ARCH_ARM64))
		return 1; /* no table row checked for it */
	if (swiss)
		table_swiss(out, has_experiment(exp, "mapsplitgroup"));
	else
		table_buckets(out);
	out->source = GOELF_SRC_TABLE;
	return 0;
}
