// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "loader.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Like bpftool -d: everything libbpf says, debug level included, or nothing. */
	(void)level;
	if (!debug_output)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void loader_setup_libbpf(void)
{
	static bool done;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (done)
		return;
	done = true;
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_set_print(libbpf_print);
	/* Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later ones ignore it. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) && errno != EPERM)
		p_debug("setrlimit(RLIMIT_MEMLOCK): %s", strerror(errno));
}

/* The dispatcher calls this with a command's declared needs, once, before the handler. */
int cli_satisfy_needs(unsigned int needs)
{
	struct kernel_privileges priv;
	struct kernel_fs_state st;

	if (needs & (NEED_BPF | NEED_ROOT | NEED_TRACEFS))
		loader_setup_libbpf();

	if (needs & NEED_ROOT) {
		if (kernel_read_privileges(&kernel_default_paths, &priv) == 0 &&
		    !kernel_may_trace(&priv)) {
			p_err("this command needs root (or CAP_BPF and CAP_PERFMON): run it with sudo");
			return EXIT_FAIL;
		}
	}
	if (needs & NEED_TRACEFS) {
		if (kernel_fs_ensure(&kernel_default_paths, KFS_TRACEFS, &st)) {
			p_err("tracefs is not mounted and mounting it at %s failed (%s): "
			      "mount -t tracefs tracefs %s",
			      st.path, strerror(st.error), st.path);
			return EXIT_FAIL;
		}
		if (st.mounted_by_ehttp)
			p_debug("mounted tracefs at %s", st.path);
	}
	return 0;
}

static const struct loader_optional *find_optional(const struct loader_optional *opt,
						   const char *prog)
{
	for (; opt && opt->prog; opt++)
		if (strcmp(opt->prog, prog) == 0)
			return opt;
	return NULL;
}

static void add_skip(struct loader *l, const char *prog, const char *fmt, ...)
{
	struct loader_skip *s;
	va_list ap;

	if (l->nskipped >= LOADER_MAX_SKIPPED)
		return;
	s = &l->skipped[l->nskipped++];
	snprintf(s->prog, sizeof(s->prog), "%s", prog);
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

/* "tracepoint/syscalls/sys_enter_read" or "tp/..." → does it exist here? */
static bool tracepoint_missing(const char *sec, char *why, size_t len)
{
	char category[64], name[128], path[320];
	const char *rest;

	if (strncmp(sec, "tracepoint/", 11) == 0)
		rest = sec + 11;
	else if (strncmp(sec, "tp/", 3) == 0)
		rest = sec + 3;
	else
		return false;
	if (sscanf(rest, "%63[^/]/%127s", category, name) != 2)
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s/%s", category, name);
	if (access(path, F_OK) == 0)
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/debug/tracing/events/%s/%s", category, name);
	if (access(path, F_OK) == 0)
		return false;
	snprintf(why, len, "tracepoint %s/%s does not exist on this kernel", category, name);
	return true;
}

/*
 * Under -d, how many instructions the verifier went through for each program (Linux
 * >= 5.16 counts them). Its limit is a million: a loop that explores badly shows here
 * long before a kernel or compiler that explores a little more refuses the program.
 */
static void report_verified(struct bpf_object *obj)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) || !info.verified_insns)
			continue;
		p_debug("%s: the verifier went through %u instructions (its limit is 1000000)",
			bpf_program__name(prog), info.verified_insns);
	}
}

int loader_load(struct loader *l, struct bpf_object *obj, const struct loader_optional *optional)
{
	struct bpf_program *prog;
	char why[256];
	int err;

	memset(l, 0, sizeof(*l));
	l->obj = obj;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		const struct loader_optional *opt = find_optional(optional, name);

		if (!bpf_program__autoload(prog))
			continue;
		if (tracepoint_missing(bpf_program__section_name(prog), why, sizeof(why))) {
			if (!opt) {
				p_err("%s: %s", name, why);
				return -ENOENT;
			}
			add_skip(l, name, "%s", why);
			bpf_program__set_autoload(prog, false);
			continue;
		}
		if (opt && opt->feature >= 0) {
			const struct probe_result *res = kernel_probe(opt->feature);

			if (!res->ok) {
				add_skip(l, name, "%s: %s", kernel_feature_name(opt->feature),
					 res->reason);
				bpf_program__set_autoload(prog, false);
			}
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		/* A caller taking the error as data (check) gives its own remedy. */
		p_err("loading BPF programs failed: %s%s", strerror(-err),
		      debug_output || p_err_diverted() ? "" : " (run with -d for the verifier's log)");
		return err;
	}
	if (debug_output)
		report_verified(obj);
	return 0;
}

int loader_keep_link(struct loader *l, struct bpf_link *link)
{
	if (l->nlinks >= LOADER_MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	l->links[l->nlinks++] = link;
	return 0;
}

int loader_attach_all(struct loader *l, const struct loader_optional *optional)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, l->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *link;
		long err;

		if (!bpf_program__autoload(prog))
			continue;
		/* Uprobes without a target in their section are attached by the caller. */
		if (strncmp(bpf_program__section_name(prog), "uprobe", 6) == 0)
			continue;
		link = bpf_program__attach(prog);
		err = libbpf_get_error(link);
		if (err) {
			if (find_optional(optional, name)) {
				add_skip(l, name, "attach failed: %s", strerror(-err));
				continue;
			}
			p_err("attaching %s failed: %s", name, strerror(-err));
			return err;
		}
		err = loader_keep_link(l, link);
		if (err) {
			p_err("too many BPF links");
			return err;
		}
	}
	return 0;
}

void loader_report_skips(const struct loader *l)
{
	size_t i;

	for (i = 0; i < l->nskipped; i++)
		p_debug("skipped %s: %s", l->skipped[i].prog, l->skipped[i].reason);
	if (l->nskipped)
		p_warn("%zu optional BPF program%s not loaded (first: %s: %s)%s", l->nskipped,
		       l->nskipped == 1 ? "" : "s", l->skipped[0].prog, l->skipped[0].reason,
		       debug_output ? "" : "; -d lists them");
}

void loader_detach(struct loader *l)
{
	while (l->nlinks)
		bpf_link__destroy(l->links[--l->nlinks]);
}
