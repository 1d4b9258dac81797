/* SPDX-License-Identifier: BSD-3-Clause
 * The tunnel part of the configuration model (conf.c's helpers for it):
 * a dpdk port's underlay address (ip=, gateway=) and a vxlan port's
 * settings (vni=, local_ip=, remote_ip=, dst_port=, ttl=, tos=).
 */
#ifndef VQS_CONF_TNL_H
#define VQS_CONF_TNL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vqs_model.h"

/* Whether the word kv is "key=..." */
static inline bool
vqs_key_is(const char *kv, const char *key)
{
	size_t n = strlen(key);

	return strncmp(kv, key, n) == 0 && kv[n] == '=';
}

/* A vxlan port's creation option; *handled false if kv is none. */
int vqs_conf_tnl_create_option(const char *kv, const char *v, struct vqs_port_conf *p,
			       bool *handled, struct vqs_err *e);
/* ip= and gateway=, which a dpdk port may change at any time. */
bool vqs_conf_tnl_is_dynamic_key(const char *kv);
int vqs_conf_tnl_dynamic_option(const char *kv, const char *v, struct vqs_port_conf *p,
				struct vqs_err *e);
/* A vxlan port's settings, checked against the other ports of c. */
int vqs_conf_tnl_check_vxlan(const struct vqs_conf *c, const struct vqs_port_conf *p,
			     struct vqs_err *e);
/* The underlay address (any type: only dpdk ports may have one), checked
 * against the other ports of c. */
int vqs_conf_tnl_check_underlay(const struct vqs_conf *c, const struct vqs_port_conf *p,
				struct vqs_err *e);
/* The port's tunnel options as add-port words (" key=value" each). */
void vqs_conf_tnl_write(const struct vqs_port_conf *p, FILE *f);
bool vqs_conf_tnl_equal(const struct vqs_port_conf *a, const struct vqs_port_conf *b);

#endif
