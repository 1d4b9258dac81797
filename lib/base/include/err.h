/* SPDX-License-Identifier: BSD-3-Clause
 * The error every module reports: one line of text, with a negative errno
 * as the return value beside it.
 */
#ifndef VQS_ERR_H
#define VQS_ERR_H

/* Errors are one line of text in err (no trailing newline). */
struct vqs_err {
	char msg[256];
};

int vqs_err_set(struct vqs_err *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
