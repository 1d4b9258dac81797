/* SPDX-License-Identifier: BSD-3-Clause
 * The control protocol's JSON: one object a line. Strings, booleans and
 * arrays of strings are taken apart; any other value (an object, a number,
 * null, a mixed array: a reply's "output") is checked and kept as its text.
 */
#ifndef VQS_JSON_H
#define VQS_JSON_H

#include <stdbool.h>

#include "err.h"

#define VQS_JSON_MAX_FIELDS 8
#define VQS_JSON_MAX_ARRAY  64

#define VQS_JSON_MAX_DEPTH 32

enum vqs_json_type { VQS_JSON_STR, VQS_JSON_BOOL, VQS_JSON_ARRAY, VQS_JSON_RAW };

struct vqs_json_field {
	char *key;
	enum vqs_json_type type;
	char *str;                 /* VQS_JSON_STR */
	bool b;                    /* VQS_JSON_BOOL */
	int n;                     /* VQS_JSON_ARRAY */
	char *arr[VQS_JSON_MAX_ARRAY];
	char *raw;                 /* VQS_JSON_ARRAY, VQS_JSON_RAW: the text */
};

struct vqs_json_obj {
	int n;
	struct vqs_json_field f[VQS_JSON_MAX_FIELDS];
};

int vqs_json_parse(const char *text, struct vqs_json_obj *o, struct vqs_err *e);
const struct vqs_json_field *vqs_json_get(const struct vqs_json_obj *o,
					  const char *key, enum vqs_json_type t);
/* The field named key, whatever its type; NULL if none. */
const struct vqs_json_field *vqs_json_find(const struct vqs_json_obj *o, const char *key);
void vqs_json_free(struct vqs_json_obj *o);

#endif
