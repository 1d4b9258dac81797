/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "vqs_observe.h"

void
vqs_answer_init(struct vqs_answer *o)
{
	memset(o, 0, sizeof(*o));
}

void
vqs_answer_free(struct vqs_answer *o)
{
	free(o->node);
	free(o->text);
	memset(o, 0, sizeof(*o));
}

bool
vqs_answer_empty(const struct vqs_answer *o)
{
	return o->n == 0 || o->node[0].first == 0;
}

/* Offset of a copy of s; 0 for NULL (or when out of memory). */
static uint32_t
text_add(struct vqs_answer *o, const char *s)
{
	size_t len;
	uint32_t at;

	if (s == NULL)
		return 0;
	len = strlen(s) + 1;
	if (o->text_len == 0)
		o->text_len = 1; /* offset 0 means none */
	if (o->text_len + len > o->text_cap) {
		uint32_t cap = o->text_cap ? o->text_cap : 256;
		char *t;

		while (cap < o->text_len + len)
			cap *= 2;
		t = realloc(o->text, cap);
		if (t == NULL) {
			o->oom = true;
			return 0;
		}
		if (o->text_cap == 0)
			t[0] = '\0';
		o->text = t;
		o->text_cap = cap;
	}
	at = o->text_len;
	memcpy(o->text + at, s, len);
	o->text_len += (uint32_t)len;
	return at;
}

static const char *
text_of(const struct vqs_answer *o, uint32_t off)
{
	return off != 0 ? o->text + off : "";
}

/* A new node, last child of parent. */
static uint32_t
node_add(struct vqs_answer *o, uint32_t parent, enum vqs_answer_kind kind, const char *key)
{
	struct vqs_answer_node *nd;
	uint32_t i;

	if (o->n == 0) {
		o->cap = 64;
		o->node = calloc(o->cap, sizeof(*o->node));
		if (o->node == NULL) {
			o->oom = true;
			return 0;
		}
		o->n = 1; /* node 0: the holder of the answer */
	}
	if (o->n == o->cap) {
		nd = realloc(o->node, 2 * o->cap * sizeof(*nd));
		if (nd == NULL) {
			o->oom = true;
			return 0;
		}
		o->node = nd;
		o->cap *= 2;
	}
	if (parent >= o->n)
		parent = 0;
	i = o->n++;
	nd = &o->node[i];
	memset(nd, 0, sizeof(*nd));
	nd->kind = kind;
	nd->key = text_add(o, key);
	if (o->node[parent].last != 0)
		o->node[o->node[parent].last].next = i;
	else
		o->node[parent].first = i;
	o->node[parent].last = i;
	return i;
}

uint32_t
vqs_answer_obj(struct vqs_answer *o, uint32_t parent, const char *key)
{
	return node_add(o, parent, VQS_ANSWER_OBJ, key);
}

uint32_t
vqs_answer_list(struct vqs_answer *o, uint32_t parent, const char *key, const char *label)
{
	uint32_t i = node_add(o, parent, VQS_ANSWER_LIST, key);

	if (i != 0)
		o->node[i].label = text_add(o, label);
	return i;
}

uint32_t
vqs_answer_table(struct vqs_answer *o, uint32_t parent, const char *key)
{
	return node_add(o, parent, VQS_ANSWER_TABLE, key);
}

void
vqs_answer_str(struct vqs_answer *o, uint32_t parent, const char *key, const char *s)
{
	uint32_t i = node_add(o, parent, VQS_ANSWER_STR, key);

	if (i != 0)
		o->node[i].str = text_add(o, s);
}

void
vqs_answer_uint(struct vqs_answer *o, uint32_t parent, const char *key, uint64_t v)
{
	uint32_t i = node_add(o, parent, VQS_ANSWER_UINT, key);

	if (i != 0)
		o->node[i].u = v;
}

void
vqs_answer_bool(struct vqs_answer *o, uint32_t parent, const char *key, bool v)
{
	uint32_t i = node_add(o, parent, VQS_ANSWER_BOOL, key);

	if (i != 0)
		o->node[i].u = v;
}

void
vqs_answer_fields(struct vqs_answer *o, uint32_t parent, const struct vqs_fields *f)
{
	unsigned int k;
	uint32_t i;

	for (k = 0; k < f->n; k++) {
		if (!f->f[k].is_str) {
			vqs_answer_uint(o, parent, f->f[k].key, f->f[k].u);
			continue;
		}
		if (f->f[k].is_text) {
			vqs_answer_str(o, parent, f->f[k].key, f->f[k].s);
			continue;
		}
		i = node_add(o, parent, VQS_ANSWER_NUM, f->f[k].key);
		if (i != 0)
			o->node[i].str = text_add(o, f->f[k].s);
	}
}

static bool
is_scalar(const struct vqs_answer_node *nd)
{
	return nd->kind != VQS_ANSWER_OBJ && nd->kind != VQS_ANSWER_LIST && nd->kind != VQS_ANSWER_TABLE;
}

/* ---- JSON ---- */

static void
json_node(const struct vqs_answer *o, uint32_t i, struct vqs_buf *b)
{
	const struct vqs_answer_node *nd = &o->node[i];
	uint32_t c;

	switch (nd->kind) {
	case VQS_ANSWER_OBJ:
		vqs_buf_printf(b, "{");
		for (c = nd->first; c != 0; c = o->node[c].next) {
			vqs_buf_printf(b, "%s", c == nd->first ? "" : ",");
			vqs_buf_json_str(b, text_of(o, o->node[c].key));
			vqs_buf_printf(b, ":");
			json_node(o, c, b);
		}
		vqs_buf_printf(b, "}");
		break;
	case VQS_ANSWER_LIST:
	case VQS_ANSWER_TABLE:
		vqs_buf_printf(b, "[");
		for (c = nd->first; c != 0; c = o->node[c].next) {
			vqs_buf_printf(b, "%s", c == nd->first ? "" : ",");
			json_node(o, c, b);
		}
		vqs_buf_printf(b, "]");
		break;
	case VQS_ANSWER_STR:
		vqs_buf_json_str(b, text_of(o, nd->str));
		break;
	case VQS_ANSWER_NUM:
		vqs_buf_printf(b, "%s", text_of(o, nd->str));
		break;
	case VQS_ANSWER_UINT:
		vqs_buf_printf(b, "%" PRIu64, nd->u);
		break;
	case VQS_ANSWER_BOOL:
		vqs_buf_printf(b, "%s", nd->u ? "true" : "false");
		break;
	}
}

void
vqs_answer_json(const struct vqs_answer *o, struct vqs_buf *b)
{
	if (!vqs_answer_empty(o))
		json_node(o, o->node[0].first, b);
}

/* ---- text ---- */

/* A scalar's text, in buf when it is a number. */
static const char *
scalar_text(const struct vqs_answer *o, const struct vqs_answer_node *nd, char *buf, size_t len)
{
	switch (nd->kind) {
	case VQS_ANSWER_UINT:
		snprintf(buf, len, "%" PRIu64, nd->u);
		return buf;
	case VQS_ANSWER_BOOL:
		return nd->u ? "true" : "false";
	default:
		return text_of(o, nd->str);
	}
}

#define TABLE_COLS 32

static void text_fields(const struct vqs_answer *o, uint32_t from, int indent, struct vqs_buf *b);

/* One cell: padded to its column, or the last of its line. */
static void
cell(struct vqs_buf *b, const char *s, size_t width, bool last)
{
	if (last)
		vqs_buf_printf(b, "%s\n", s);
	else
		vqs_buf_printf(b, "%-*s  ", (int)width, s);
}

static void
text_table(const struct vqs_answer *o, uint32_t t, int indent, struct vqs_buf *b)
{
	const struct vqs_answer_node *first_row;
	size_t width[TABLE_COLS] = { 0 };
	char num[32];
	uint32_t r, c;
	unsigned int k;

	if (o->node[t].first == 0)
		return; /* no rows, no header: the keys come from a row */
	first_row = &o->node[o->node[t].first];
	for (k = 0, c = first_row->first; c != 0 && k < TABLE_COLS; c = o->node[c].next, k++)
		width[k] = strlen(text_of(o, o->node[c].key));
	for (r = o->node[t].first; r != 0; r = o->node[r].next)
		for (k = 0, c = o->node[r].first; c != 0 && k < TABLE_COLS; c = o->node[c].next, k++) {
			size_t len = strlen(scalar_text(o, &o->node[c], num, sizeof(num)));

			if (len > width[k])
				width[k] = len;
		}
	vqs_buf_printf(b, "%*s", indent, "");
	for (k = 0, c = first_row->first; c != 0 && k < TABLE_COLS; c = o->node[c].next, k++)
		cell(b, text_of(o, o->node[c].key), width[k], o->node[c].next == 0);
	for (r = o->node[t].first; r != 0; r = o->node[r].next) {
		vqs_buf_printf(b, "%*s", indent, "");
		for (k = 0, c = o->node[r].first; c != 0 && k < TABLE_COLS;
		     c = o->node[c].next, k++)
			cell(b, scalar_text(o, &o->node[c], num, sizeof(num)), width[k],
			     o->node[c].next == 0);
	}
}

static void
text_list(const struct vqs_answer *o, uint32_t l, int indent, struct vqs_buf *b)
{
	const char *label = text_of(o, o->node[l].label);
	char num[32];
	uint32_t c;

	for (c = o->node[l].first; c != 0; c = o->node[c].next) {
		const struct vqs_answer_node *nd = &o->node[c];

		if (is_scalar(nd)) {
			vqs_buf_printf(b, "%*s%s\n", indent, "", scalar_text(o, nd, num, sizeof(num)));
		} else if (nd->kind == VQS_ANSWER_TABLE) {
			text_table(o, c, indent, b);
		} else if (nd->kind == VQS_ANSWER_LIST) {
			text_list(o, c, indent, b);
		} else if (label[0] != '\0' && nd->first != 0 && is_scalar(&o->node[nd->first])) {
			vqs_buf_printf(b, "%*s%s %s:\n", indent, "", label,
				       scalar_text(o, &o->node[nd->first], num, sizeof(num)));
			text_fields(o, o->node[nd->first].next, indent + 2, b);
		} else {
			text_fields(o, nd->first, indent, b);
		}
	}
}

/* An object's fields from child 'from' on. */
static void
text_fields(const struct vqs_answer *o, uint32_t from, int indent, struct vqs_buf *b)
{
	char num[32];
	uint32_t c;

	for (c = from; c != 0; c = o->node[c].next) {
		const struct vqs_answer_node *nd = &o->node[c];
		const char *key = text_of(o, nd->key);

		if (is_scalar(nd)) {
			const char *v = scalar_text(o, nd, num, sizeof(num));

			if (v[0] != '\0')
				vqs_buf_printf(b, "%*s%s: %s\n", indent, "", key, v);
		} else if (nd->kind == VQS_ANSWER_LIST && nd->label != 0) {
			text_list(o, c, indent, b);
		} else if (nd->first != 0) {
			vqs_buf_printf(b, "%*s%s:\n", indent, "", key);
			if (nd->kind == VQS_ANSWER_OBJ)
				text_fields(o, nd->first, indent + 2, b);
			else if (nd->kind == VQS_ANSWER_TABLE)
				text_table(o, c, indent + 2, b);
			else
				text_list(o, c, indent + 2, b);
		}
	}
}

void
vqs_answer_text(const struct vqs_answer *o, struct vqs_buf *b)
{
	uint32_t top;
	char num[32];

	if (vqs_answer_empty(o))
		return;
	top = o->node[0].first;
	switch (o->node[top].kind) {
	case VQS_ANSWER_OBJ:
		text_fields(o, o->node[top].first, 0, b);
		break;
	case VQS_ANSWER_LIST:
		text_list(o, top, 0, b);
		break;
	case VQS_ANSWER_TABLE:
		text_table(o, top, 0, b);
		break;
	default:
		vqs_buf_printf(b, "%s\n", scalar_text(o, &o->node[top], num, sizeof(num)));
	}
}
