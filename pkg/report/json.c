// SPDX-License-Identifier: Apache-2.0
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at @s (max @n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t k;
	unsigned cp;
	if ((s[0] & 0xe0) == 0xc0) {
		k = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		k = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		k = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

size_t np_json_quote(char *dst, const char *v)
{
	if (!v) {
		if (dst)
			memcpy(dst, "null", 4);
		return 4;
	}
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), i = 0, w = 0;
	if (dst)
		dst[w] = '"';
	w++;
	while (i < n) {
		size_t k = utf8_len(s + i, n - i);
		if (k == 0 || (k == 1 && s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')) { /* as np_json_string() */
			if (dst)
				dst[w] = '?';
			w++;
			i++;
			continue;
		}
		if (k == 1 && (s[i] == '"' || s[i] == '\\' || s[i] == '\t' || s[i] == '\n')) {
			if (dst) {
				dst[w] = '\\';
				dst[w + 1] = s[i] == '\t' ? 't' : s[i] == '\n' ? 'n' : (char)s[i];
			}
			w += 2;
			i++;
			continue;
		}
		if (dst)
			memcpy(dst + w, s + i, k);
		w += k;
		i += k;
	}
	if (dst)
		dst[w] = '"';
	return w + 1;
}

json_t *np_json_string(const char *v)
{
	if (!v)
		return json_null();
	size_t n = strlen(v);
	char *c = malloc(n + 1);
	if (!c)
		return json_null();
	const unsigned char *s = (const unsigned char *)v;
	size_t i = 0, w = 0;
	while (i < n) {
		size_t k = utf8_len(s + i, n - i);
		if (k == 0 || (k == 1 && s[i] < 0x20 && s[i] != '\t' && s[i] != '\n')) {
			c[w++] = '?';
			i++;
			continue;
		}
		memcpy(c + w, s + i, k);
		w += k;
		i += k;
	}
	c[w] = '\0';
	json_t *j = json_stringn(c, w);
	free(c);
	return j ? j : json_null();
}
