// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeparse.h"

/* Digits after a decimal point as ns (extra digits beyond 9 ignored). Returns chars used. */
static int parse_fraction(const char *s, uint64_t *ns)
{
	uint64_t scale = 100000000;
	int i = 0;

	*ns = 0;
	while (isdigit((unsigned char)s[i])) {
		*ns += (uint64_t)(s[i] - '0') * scale;
		scale /= 10;
		i++;
	}
	return i;
}

static bool digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool parse_time_arg(const char *text, uint64_t *ns)
{
	const char *s = text;
	int year, mon, day, hour, min, sec, n, oh, om;
	uint64_t frac = 0, secs = 0;
	struct tm tm;
	time_t t;

	if (!*s)
		return false;
	/* epoch seconds */
	for (n = 0; isdigit((unsigned char)s[n]); n++)
		;
	if (n > 0 && n <= 12 && (s[n] == '\0' || (s[n] == '.' && isdigit((unsigned char)s[n + 1])))) {
		for (int i = 0; i < n; i++)
			secs = secs * 10 + (s[i] - '0');
		if (s[n] == '.') {
			n++;
			n += parse_fraction(s + n, &frac);
			if (s[n])
				return false;
		}
		*ns = secs * 1000000000ull + frac;
		return true;
	}
	/* RFC 3339 */
	if (strlen(s) < 19 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) ||
	    s[7] != '-' || !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
	    sec > 60)
		return false;
	s += 19;
	if (*s == '.') {
		n = parse_fraction(s + 1, &frac);
		if (!n)
			return false;
		s += 1 + n;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	if (*s == '\0') {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	} else if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		t = timegm(&tm);
	} else if ((*s == '+' || *s == '-') && digits(s + 1, 2, &oh) && s[3] == ':' &&
		   digits(s + 4, 2, &om) && s[6] == '\0' && oh < 24 && om < 60) {
		t = timegm(&tm);
		t += (*s == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	} else {
		return false;
	}
	if (t < 0)
		return false;
	*ns = (uint64_t)t * 1000000000ull + frac;
	return true;
}
