/* SPDX-License-Identifier: GPL-2.0-only */
/* Entry points of the commands in the top-level table. */
#ifndef EHTTP_CMD_MAIN_H
#define EHTTP_CMD_MAIN_H

int do_attach(int argc, char **argv);
int do_check(int argc, char **argv);
int do_offsets(int argc, char **argv);
int do_record(int argc, char **argv);
int do_replay(int argc, char **argv);

#endif
