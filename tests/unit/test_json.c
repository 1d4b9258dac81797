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
	bad("{\"argv\": [1, 2]}");
	bad("{\"argv\": {\"a\": \"b\"}}");
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
	bad(big); /* 65 items */

	vqs_buf_json_str(&b, "q\"b\\n\n\x01");
	CHECK(strcmp(vqs_buf_str(&b), "\"q\\\"b\\\\n\\n\\u0001\"") == 0);
	vqs_buf_free(&b);
	return unit_report("test_json");
}
