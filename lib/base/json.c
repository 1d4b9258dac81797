/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

struct parser {
	const char *p;
	struct vqs_err *e;
};

static void
skip_ws(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')
		ps->p++;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* JSON's one-letter escapes, and the characters they stand for. */
static const char esc_name[] = "\"\\/bfnrt", esc_char[] = "\"\\/\b\f\n\r\t";

/* A string literal; \u escapes above 0x7f become UTF-8. */
static char *
parse_string(struct parser *ps)
{
	struct vqs_buf b = { 0 };
	const char *esc;
	unsigned int cp;
	int i, h;

	if (*ps->p != '"') {
		vqs_err_set(ps->e, -EINVAL, "expected a string");
		return NULL;
	}
	ps->p++;
	vqs_buf_printf(&b, "%s", "");
	while (*ps->p != '"') {
		char c = *ps->p++;

		if (c == '\0' || (unsigned char)c < 0x20)
			goto bad;
		if (c != '\\') {
			vqs_buf_printf(&b, "%c", c);
			continue;
		}
		c = *ps->p++;
		esc = c != '\0' ? strchr(esc_name, c) : NULL;
		if (esc != NULL) {
			vqs_buf_printf(&b, "%c", esc_char[esc - esc_name]);
			continue;
		}
		if (c != 'u')
			goto bad;
		for (cp = 0, i = 0; i < 4; i++) {
			h = hexval(*ps->p++);
			if (h < 0)
				goto bad;
			cp = cp << 4 | (unsigned int)h;
		}
		if (cp == 0)
			goto bad;
		if (cp < 0x80)
			vqs_buf_printf(&b, "%c", (char)cp);
		else if (cp < 0x800)
			vqs_buf_printf(&b, "%c%c", (char)(0xc0 | cp >> 6), (char)(0x80 | (cp & 0x3f)));
		else
			vqs_buf_printf(&b, "%c%c%c", (char)(0xe0 | cp >> 12),
				       (char)(0x80 | ((cp >> 6) & 0x3f)), (char)(0x80 | (cp & 0x3f)));
	}
	ps->p++;
	if (b.oom)
		goto bad;
	return b.s;
bad:
	vqs_buf_free(&b);
	vqs_err_set(ps->e, -EINVAL, "bad string");
	return NULL;
}

static bool
skip_digits(struct parser *ps)
{
	const char *start = ps->p;

	while (*ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > start;
}

/* -?digits[.digits][(e|E)[+|-]digits] */
static int
skip_number(struct parser *ps)
{
	if (*ps->p == '-')
		ps->p++;
	if (!skip_digits(ps))
		return -EINVAL;
	if (*ps->p == '.') {
		ps->p++;
		if (!skip_digits(ps))
			return -EINVAL;
	}
	if (*ps->p == 'e' || *ps->p == 'E') {
		ps->p++;
		if (*ps->p == '+' || *ps->p == '-')
			ps->p++;
		if (!skip_digits(ps))
			return -EINVAL;
	}
	return 0;
}

/* Past one JSON value of any kind, checking it. */
static int
skip_value(struct parser *ps, int depth)
{
	char *str, close;

	skip_ws(ps);
	if (depth > VQS_JSON_MAX_DEPTH)
		return vqs_err_set(ps->e, -E2BIG, "nested deeper than %d", VQS_JSON_MAX_DEPTH);
	if (*ps->p == '"') {
		str = parse_string(ps);
		free(str);
		return str == NULL ? -EINVAL : 0;
	}
	if (*ps->p == '{' || *ps->p == '[') {
		close = *ps->p == '{' ? '}' : ']';
		ps->p++;
		skip_ws(ps);
		if (*ps->p == close) {
			ps->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				skip_ws(ps);
				str = parse_string(ps);
				free(str);
				skip_ws(ps);
				if (str == NULL || *ps->p++ != ':')
					return vqs_err_set(ps->e, -EINVAL, "expected \"key\":");
			}
			if (skip_value(ps, depth + 1) != 0)
				return -EINVAL;
			skip_ws(ps);
			if (*ps->p == close) {
				ps->p++;
				return 0;
			}
			if (*ps->p++ != ',')
				return vqs_err_set(ps->e, -EINVAL, "expected ',' or '%c'", close);
		}
	}
	if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "null", 4) == 0) {
		ps->p += 4;
		return 0;
	}
	if (strncmp(ps->p, "false", 5) == 0) {
		ps->p += 5;
		return 0;
	}
	if (skip_number(ps) == 0)
		return 0;
	return vqs_err_set(ps->e, -EINVAL, "expected a JSON value");
}

/* An array of strings into f; -EINVAL (e untouched) if it is anything else. */
static int
parse_str_array(const char *text, struct vqs_json_field *f)
{
	struct vqs_err quiet;
	struct parser ps = { text + 1, &quiet };

	skip_ws(&ps);
	if (*ps.p == ']')
		return 0;
	for (;;) {
		skip_ws(&ps);
		if (f->n == VQS_JSON_MAX_ARRAY || *ps.p != '"')
			return -EINVAL;
		f->arr[f->n] = parse_string(&ps);
		if (f->arr[f->n] == NULL)
			return -EINVAL;
		f->n++;
		skip_ws(&ps);
		if (*ps.p == ']')
			return 0;
		if (*ps.p++ != ',')
			return -EINVAL;
	}
}

static int
parse_value(struct parser *ps, struct vqs_json_field *f)
{
	const char *start;
	int i;

	skip_ws(ps);
	if (*ps->p == '"') {
		f->type = VQS_JSON_STR;
		f->str = parse_string(ps);
		return f->str == NULL ? -EINVAL : 0;
	}
	if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
		f->type = VQS_JSON_BOOL;
		f->b = *ps->p == 't';
		ps->p += f->b ? 4 : 5;
		return 0;
	}
	start = ps->p;
	if (skip_value(ps, 1) != 0)
		return -EINVAL;
	f->raw = strndup(start, (size_t)(ps->p - start));
	if (f->raw == NULL)
		return vqs_err_set(ps->e, -ENOMEM, "out of memory");
	f->type = VQS_JSON_RAW;
	if (*start == '[') {
		if (parse_str_array(start, f) == 0) {
			f->type = VQS_JSON_ARRAY;
		} else {
			for (i = 0; i < f->n; i++)
				free(f->arr[i]);
			f->n = 0;
		}
	}
	return 0;
}

int
vqs_json_parse(const char *text, struct vqs_json_obj *o, struct vqs_err *e)
{
	struct parser ps = { text, e };
	int rc;

	memset(o, 0, sizeof(*o));
	skip_ws(&ps);
	if (*ps.p++ != '{')
		return vqs_err_set(e, -EINVAL, "expected a JSON object");
	skip_ws(&ps);
	if (*ps.p == '}') {
		ps.p++;
		goto end;
	}
	for (;;) {
		struct vqs_json_field *f;

		if (o->n == VQS_JSON_MAX_FIELDS)
			return vqs_err_set(e, -E2BIG, "too many fields");
		f = &o->f[o->n++];
		skip_ws(&ps);
		f->key = parse_string(&ps);
		if (f->key == NULL)
			return -EINVAL;
		skip_ws(&ps);
		if (*ps.p++ != ':')
			return vqs_err_set(e, -EINVAL, "expected ':' after \"%s\"", f->key);
		rc = parse_value(&ps, f);
		if (rc != 0)
			return rc;
		skip_ws(&ps);
		if (*ps.p == '}') {
			ps.p++;
			break;
		}
		if (*ps.p++ != ',')
			return vqs_err_set(e, -EINVAL, "expected ',' or '}'");
	}
end:
	skip_ws(&ps);
	if (*ps.p != '\0')
		return vqs_err_set(e, -EINVAL, "text after the JSON object");
	return 0;
}

const struct vqs_json_field *
vqs_json_get(const struct vqs_json_obj *o, const char *key, enum vqs_json_type t)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->f[i].key != NULL && strcmp(o->f[i].key, key) == 0)
			return o->f[i].type == t ? &o->f[i] : NULL;
	return NULL;
}

const struct vqs_json_field *
vqs_json_find(const struct vqs_json_obj *o, const char *key)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->f[i].key != NULL && strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

void
vqs_json_free(struct vqs_json_obj *o)
{
	int i, j;

	for (i = 0; i < o->n; i++) {
		free(o->f[i].key);
		free(o->f[i].str);
		free(o->f[i].raw);
		for (j = 0; j < o->f[i].n; j++)
			free(o->f[i].arr[j]);
	}
	memset(o, 0, sizeof(*o));
}
