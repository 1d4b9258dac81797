/* SPDX-License-Identifier: BSD-3-Clause
 * The control protocol's JSON: requests that parse, and garbage that is
 * refused with an error, never a crash.
 */
#include <string.h>

#include "buf.h"
#include "json.h"
#include "unit.h"


static void
bad(const char *text)
{
	struct vqs_json_obj o;
	struct vqs_err e = { "" };

	CHECK(vqs_json_parse(text, &o, &e) != 0);
	CHECK(e.msg[0] != '\0');
	vqs_json_free(&o);
}

/* Parses, but "argv" is not an array of strings: kept as its text. */
static void
not_strings(const char *text, const char *raw)
{
	struct vqs_json_obj o;
	struct vqs_err e;

	CHECK_EQ(vqs_json_parse(text, &o, &e), 0);
	CHECK(vqs_json_get(&o, "argv", VQS_JSON_ARRAY) == NULL);
	CHECK(vqs_json_find(&o, "argv") != NULL && vqs_json_find(&o, "argv")->type == VQS_JSON_RAW);
	CHECK(raw == NULL || strcmp(vqs_json_find(&o, "argv")->raw, raw) == 0);
	vqs_json_free(&o);
}

int
main(void)
{
	const struct vqs_json_field *f;
	struct vqs_buf b = { 0 };
	struct vqs_json_obj o;
	struct vqs_err e;
	char big[400];
	int i;

	CHECK_EQ(vqs_json_parse(" {\"argv\": [\"add-port\", \"br0\", \"v\\u00e9\\n\"], \"format\":\"json\", \"x\": true} ",
				&o, &e), 0);
	f = vqs_json_get(&o, "argv", VQS_JSON_ARRAY);
	CHECK(f != NULL && f->n == 3);
	CHECK(strcmp(f->arr[0], "add-port") == 0);
	CHECK(strcmp(f->arr[2], "v\xc3\xa9\n") == 0);
	CHECK(strcmp(vqs_json_get(&o, "format", VQS_JSON_STR)->str, "json") == 0);
	CHECK(vqs_json_get(&o, "x", VQS_JSON_BOOL)->b);
	CHECK(vqs_json_get(&o, "format", VQS_JSON_ARRAY) == NULL); /* wrong type */
	CHECK(vqs_json_get(&o, "nope", VQS_JSON_STR) == NULL);
	vqs_json_free(&o);
	CHECK_EQ(vqs_json_parse("{}", &o, &e), 0);
	vqs_json_free(&o);
	/* every one-letter escape */
	CHECK_EQ(vqs_json_parse("{\"a\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", &o, &e), 0);
	CHECK(strcmp(vqs_json_get(&o, "a", VQS_JSON_STR)->str, "\"\\/\b\f\n\r\t") == 0);
	vqs_json_free(&o);

	bad("");
	bad("garbage");
	bad("[\"argv\"]");
	bad("{\"argv\": [\"a\",]}");
	bad("{\"argv\": [\"a\"]");
	not_strings("{\"argv\": [1, 2]}", "[1, 2]");
	not_strings("{\"argv\": {\"a\": \"b\"}}", "{\"a\": \"b\"}");
	not_strings("{\"argv\":{\"a\":[{\"b\":-1.5e3,\"c\":null,\"d\":[true,false,\"x\"]}],\"e\":{}}}",
		    "{\"a\":[{\"b\":-1.5e3,\"c\":null,\"d\":[true,false,\"x\"]}],\"e\":{}}");
	not_strings("{\"argv\": 42}", "42");
	bad("{\"argv\": {\"a\": }}");
	bad("{\"argv\": {\"a\" 1}}");
	bad("{\"argv\": {1: 2}}");
	bad("{\"argv\": [1, 2}");
	bad("{\"argv\": -}");
	bad("{\"argv\": 1.}");
	bad("{\"argv\": 1e}");
	bad("{\"argv\": nul}");
	for (i = 0, big[0] = '\0'; i < 40; i++)
		strcat(big, i ? "[" : "{\"argv\":[");
	for (i = 0; i < 40; i++)
		strcat(big, "]");
	strcat(big, "}");
	bad(big); /* 40 deep */
	bad("{\"argv\": [\"a\"]} trailing");
	bad("{\"a\": \"unterminated}");
	bad("{\"a\": \"bad escape \\q\"}");
	bad("{\"a\": \"ends in a backslash \\");
	bad("{\"a\": \"\\u00\"}");
	bad("{\"a\": \"\\u0000\"}");
	bad("{\"a\": \"raw \x01 control\"}");
	bad("{\"a\" \"b\"}");
	bad("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\",\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}");
	for (i = 0, big[0] = '\0'; i < 65; i++)
		strcat(big, i ? ",\"\"" : "{\"argv\":[\"\"");
	strcat(big, "]}");
	not_strings(big, NULL); /* 65 items: not the request's argv */

	vqs_buf_json_str(&b, "q\"b\\n\n\x01");
	CHECK(strcmp(vqs_buf_str(&b), "\"q\\\"b\\\\n\\n\\u0001\"") == 0);
	vqs_buf_free(&b);
	return unit_report("test_json");
}
