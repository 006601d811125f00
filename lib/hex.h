/* SPDX-License-Identifier: GPL-2.0-only */
/* Hexadecimal digits, as the parsers of untrusted bytes read them. */
#ifndef EHTTP_HEX_H
#define EHTTP_HEX_H

/* The value of a hex digit in either case, or -1. */
static inline int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
