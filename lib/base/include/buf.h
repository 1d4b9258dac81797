/* SPDX-License-Identifier: BSD-3-Clause
 * A growing text buffer, with JSON string quoting.
 */
#ifndef VQS_BUF_H
#define VQS_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct vqs_buf {
	char *s;     /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
	bool oom;    /* an append failed: the text is cut short */
};

void vqs_buf_printf(struct vqs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quoted and escaped. */
void vqs_buf_json_str(struct vqs_buf *b, const char *s);
const char *vqs_buf_str(const struct vqs_buf *b);
void vqs_buf_reset(struct vqs_buf *b);
void vqs_buf_free(struct vqs_buf *b);

#endif
