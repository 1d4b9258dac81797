/* SPDX-License-Identifier: BSD-3-Clause
 * A control command's answer as a tree of named values, built once by the
 * command and rendered either as JSON (vqctl --format json, the protocol's
 * "output" value) or as text, so the two cannot say different things.
 *
 * Text, from the same tree:
 *   object field       "key: value", or "key:" and the value indented
 *   list of scalars    one a line
 *   labelled list      each object a heading "LABEL FIRST-VALUE:" and its
 *                      other fields indented (bridge br0:, port vm1:)
 *   table              a header of the first row's keys, one row a line
 * Empty strings are left out of text (JSON keeps them).
 */
#ifndef VQS_ANSWER_H
#define VQS_ANSWER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

struct vqs_fields;

enum vqs_answer_kind {
	VQS_ANSWER_OBJ,
	VQS_ANSWER_LIST,
	VQS_ANSWER_TABLE,
	VQS_ANSWER_STR,
	VQS_ANSWER_NUM,    /* a number kept as text (a ratio: "12.50") */
	VQS_ANSWER_UINT,
	VQS_ANSWER_BOOL,
};

struct vqs_answer_node {
	enum vqs_answer_kind kind;
	uint32_t key;     /* offsets into text; 0: none */
	uint32_t label;
	uint32_t str;
	uint64_t u;
	uint32_t first, last, next; /* children, in order; 0: none */
};

struct vqs_answer {
	struct vqs_answer_node *node; /* node[0] holds the answer, if any */
	uint32_t n, cap;
	char *text;                /* keys and strings, NUL-separated */
	uint32_t text_len, text_cap;
	bool oom;                  /* something could not be added */
};

#define VQS_ANSWER_TOP 0u

void vqs_answer_init(struct vqs_answer *o);
void vqs_answer_free(struct vqs_answer *o);
/* Whether a command put an answer in. */
bool vqs_answer_empty(const struct vqs_answer *o);

/* Containers: returns the node to add to (0 when out of memory; adding to
 * 0 then adds at the top, which the oom flag makes harmless: the reply
 * says it is cut short). key is NULL inside a list or at the top. */
uint32_t vqs_answer_obj(struct vqs_answer *o, uint32_t parent, const char *key);
uint32_t vqs_answer_list(struct vqs_answer *o, uint32_t parent, const char *key, const char *label);
uint32_t vqs_answer_table(struct vqs_answer *o, uint32_t parent, const char *key);

void vqs_answer_str(struct vqs_answer *o, uint32_t parent, const char *key, const char *s);
void vqs_answer_uint(struct vqs_answer *o, uint32_t parent, const char *key, uint64_t v);
void vqs_answer_bool(struct vqs_answer *o, uint32_t parent, const char *key, bool v);
/* Every field of a collector (stats.h) into the object parent. */
void vqs_answer_fields(struct vqs_answer *o, uint32_t parent, const struct vqs_fields *f);

void vqs_answer_json(const struct vqs_answer *o, struct vqs_buf *b);
void vqs_answer_text(const struct vqs_answer *o, struct vqs_buf *b);

#endif
