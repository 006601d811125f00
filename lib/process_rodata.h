/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The user side of bpf/process.bpf.h: its knobs set in a skeleton's rodata before load.
 * Every object that includes that header has them under the same names, so one macro
 * serves each skeleton's own rodata type.
 */
#ifndef EHTTP_PROCESS_RODATA_H
#define EHTTP_PROCESS_RODATA_H

#include <string.h>
#include <unistd.h>

#include "span_filter.h"

/* Never ehttp itself; -p's pids (as many as the kernel side holds); --comm; whether
 * --cgroup was given (its cgroup goes into the object's targ_cgroup map after load:
 * cgroup_sel_to_map()). The span filter checks pids and comm again on the spans. */
#define PROCESS_RODATA_SET(rodata, filter)                                                  \
	do {                                                                                \
		const struct span_filter *f_ = (filter);                                    \
		size_t i_;                                                                  \
                                                                                            \
		(rodata)->self_tgid = getpid();                                             \
		for (i_ = 0; i_ < f_->npids && i_ < sizeof((rodata)->targ_pids) /         \
								sizeof((rodata)->targ_pids[0]);    \
		     i_++)                                                                  \
			(rodata)->targ_pids[i_] = f_->pids[i_];                             \
		(rodata)->targ_npids = i_;                                                  \
		(rodata)->filter_cgroup = f_->cgroup.dir[0] != '\0';                      \
		if (f_->comm[0]) {                                                          \
			(rodata)->filter_comm = true;                                       \
			memcpy((char *)(rodata)->targ_comm, f_->comm, sizeof((rodata)->targ_comm)); \
		}                                                                           \
	} while (0)

#endif
