/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a connection's first HTTP/1.x message starts with, written once for the kernel
 * (bpf/capture.bpf.c classifies a connection's first bytes) and user space (lib/http1_lines.c
 * makes the same decision, and more). Each entry: the token's length, then its bytes,
 * padded to eight with zeros, so that the kernel side compares one 64-bit word. Both
 * sides look at the first HTTP1_TOKEN_MAX bytes at most.
 */
#ifndef EHTTP_HTTP1_TOKENS_H
#define EHTTP_HTTP1_TOKENS_H

#define HTTP1_TOKEN_MAX 8

/* A request: one of these methods and the space after it (case-sensitive). */
#define HTTP1_METHOD_TOKENS(X)                                                               \
	X(4, 'G', 'E', 'T', ' ', 0, 0, 0, 0)                                                 \
	X(5, 'H', 'E', 'A', 'D', ' ', 0, 0, 0)                                               \
	X(5, 'P', 'O', 'S', 'T', ' ', 0, 0, 0)                                               \
	X(4, 'P', 'U', 'T', ' ', 0, 0, 0, 0)                                                 \
	X(7, 'D', 'E', 'L', 'E', 'T', 'E', ' ', 0)                                           \
	X(8, 'C', 'O', 'N', 'N', 'E', 'C', 'T', ' ')                                         \
	X(8, 'O', 'P', 'T', 'I', 'O', 'N', 'S', ' ')                                         \
	X(6, 'T', 'R', 'A', 'C', 'E', ' ', 0, 0)                                             \
	X(6, 'P', 'A', 'T', 'C', 'H', ' ', 0, 0)

/* A response: the status line's start. */
#define HTTP1_RESPONSE_TOKENS(X) X(7, 'H', 'T', 'T', 'P', '/', '1', '.', 0)

#endif
