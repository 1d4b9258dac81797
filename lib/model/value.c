/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Values of key=value words that more than one part of the switch reads:
 * whole numbers and IPv4 addresses (declared in vqs_model.h). Apart from
 * conf.c, which calls conf_tnl.c's tunnel helpers, so that conf_tnl.c
 * calls nothing of conf.c's: it used to call back for the number parser,
 * and the two depended on each other.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include <arpa/inet.h>
#include <bsd/string.h>

#include "vqs_model.h"

int
vqs_conf_parse_u32(const char *key, const char *v, uint32_t min, uint32_t max,
	  uint32_t *out, struct vqs_err *e)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
	    x < min || x > max)
		return vqs_err_set(e, -EINVAL,
				   "%s=%s: expected a whole number from %u to %u",
				   key, v, min, max);
	*out = (uint32_t)x;
	return 0;
}

bool
vqs_parse_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ip = a.s_addr;
	return true;
}

const char *
vqs_ipv4_str(uint32_t ip, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = ip };

	if (inet_ntop(AF_INET, &a, buf, (socklen_t)len) == NULL)
		strlcpy(buf, "?", len);
	return buf;
}
