/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static bool
buf_reserve(struct vqs_buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	char *s;

	if (b->oom)
		return false;
	while (cap < b->len + more + 1)
		cap *= 2;
	if (cap == b->cap)
		return true;
	s = realloc(b->s, cap);
	if (s == NULL) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

void
vqs_buf_printf(struct vqs_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
vqs_buf_json_str(struct vqs_buf *b, const char *s)
{
	vqs_buf_printf(b, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			vqs_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			vqs_buf_printf(b, "\\n");
		else if (c == '\t')
			vqs_buf_printf(b, "\\t");
		else if (c < 0x20)
			vqs_buf_printf(b, "\\u%04x", c);
		else
			vqs_buf_printf(b, "%c", c);
	}
	vqs_buf_printf(b, "\"");
}

const char *
vqs_buf_str(const struct vqs_buf *b)
{
	return b->s != NULL ? b->s : "";
}

void
vqs_buf_reset(struct vqs_buf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->s != NULL)
		b->s[0] = '\0';
}

void
vqs_buf_free(struct vqs_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
