/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Tunnel settings in the configuration model: parsing, checks against the
 * other ports, and the words the state file gets (conf_tnl.h).
 */
#include <errno.h>
#include <string.h>

#include <bsd/string.h>

#include "conf_tnl.h"

/* A unicast address a tunnel can use: not 0.0.0.0, multicast, broadcast
 * or loopback. */
static bool
usable_ipv4(uint32_t ip)
{
	uint32_t h = ntohl(ip);

	return h != 0 && (h >> 28) != 0xe && h != 0xffffffffu && (h >> 24) != 127;
}

static int
parse_addr(const char *key, const char *v, uint32_t *ip, struct vqs_err *e)
{
	if (!vqs_parse_ipv4(v, ip) || !usable_ipv4(*ip))
		return vqs_err_set(e, -EINVAL, "%s=%s: expected a unicast IPv4 address", key, v);
	return 0;
}

static int
parse_remotes(const char *v, struct vqs_vxlan_conf *vx, struct vqs_err *e)
{
	char buf[VQS_VXLAN_MAX_STATIC * 16 + 1], *tok, *save = NULL;
	uint16_t i;
	uint32_t ip;

	if (strlcpy(buf, v, sizeof(buf)) >= sizeof(buf))
		return vqs_err_set(e, -EINVAL, "remote_ip: at most %d addresses",
				   VQS_VXLAN_MAX_STATIC);
	vx->n_remotes = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		if (parse_addr("remote_ip", tok, &ip, e) != 0)
			return -EINVAL;
		for (i = 0; i < vx->n_remotes; i++)
			if (vx->remote[i] == ip)
				return vqs_err_set(e, -EINVAL, "remote_ip: %s is listed twice", tok);
		if (vx->n_remotes == VQS_VXLAN_MAX_STATIC)
			return vqs_err_set(e, -EINVAL, "remote_ip: at most %d addresses",
					   VQS_VXLAN_MAX_STATIC);
		vx->remote[vx->n_remotes++] = ip;
	}
	if (vx->n_remotes == 0)
		return vqs_err_set(e, -EINVAL, "remote_ip: expected ADDR[,ADDR...]");
	return 0;
}

int
vqs_conf_tnl_create_option(const char *kv, const char *v, struct vqs_port_conf *p,
			   bool *handled, struct vqs_err *e)
{
	struct vqs_vxlan_conf *vx = &p->vx;
	uint32_t x;
	int rc;

	*handled = true;
	if (vqs_key_is(kv, "vni"))
		return vqs_conf_parse_u32("vni", v, 0, VQS_VXLAN_VNI_MAX, &vx->vni, e);
	if (vqs_key_is(kv, "local_ip"))
		return parse_addr("local_ip", v, &vx->local_ip, e);
	if (vqs_key_is(kv, "remote_ip"))
		return parse_remotes(v, vx, e);
	if (vqs_key_is(kv, "evpn")) {
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return vqs_err_set(e, -EINVAL, "evpn=%s: expected on or off", v);
		vx->evpn = strcmp(v, "on") == 0;
		return 0;
	}
	if (vqs_key_is(kv, "dst_port")) {
		rc = vqs_conf_parse_u32("dst_port", v, 1, 65535, &x, e);
		vx->dst_port = (uint16_t)x;
		return rc;
	}
	if (vqs_key_is(kv, "ttl")) {
		rc = vqs_conf_parse_u32("ttl", v, 1, 255, &x, e);
		vx->ttl = (uint8_t)x;
		return rc;
	}
	if (vqs_key_is(kv, "tos")) {
		if (strcmp(v, "inherit") == 0) {
			vx->tos = VQS_TOS_INHERIT;
			return 0;
		}
		rc = vqs_conf_parse_u32("tos", v, 0, 255, &x, e);
		if (rc != 0)
			return vqs_err_set(e, rc, "tos=%s: expected 0 to 255 or inherit", v);
		vx->tos = (int16_t)x;
		return 0;
	}
	*handled = false;
	return 0;
}

bool
vqs_conf_tnl_is_dynamic_key(const char *kv)
{
	return vqs_key_is(kv, "ip") || vqs_key_is(kv, "gateway");
}

int
vqs_conf_tnl_dynamic_option(const char *kv, const char *v, struct vqs_port_conf *p,
			    struct vqs_err *e)
{
	char buf[24], *slash;
	uint32_t prefix;

	if (vqs_key_is(kv, "gateway")) {
		if (*v == '\0' || strcmp(v, "none") == 0) {
			p->ul.gateway = 0;
			return 0;
		}
		return parse_addr("gateway", v, &p->ul.gateway, e);
	}
	/* ip=ADDR/PREFIX; "" or none takes the address (and gateway) away. */
	if (*v == '\0' || strcmp(v, "none") == 0) {
		memset(&p->ul, 0, sizeof(p->ul));
		return 0;
	}
	if (strlcpy(buf, v, sizeof(buf)) >= sizeof(buf) || (slash = strchr(buf, '/')) == NULL)
		return vqs_err_set(e, -EINVAL, "ip=%s: expected ADDRESS/PREFIX, e.g. 192.0.2.10/24", v);
	*slash = '\0';
	if (parse_addr("ip", buf, &p->ul.ip, e) != 0 ||
	    vqs_conf_parse_u32("ip prefix", slash + 1, 1, 32, &prefix, e) != 0)
		return -EINVAL;
	p->ul.prefix = (uint8_t)prefix;
	return 0;
}

int
vqs_conf_tnl_check_vxlan(const struct vqs_conf *c, const struct vqs_port_conf *p,
			 struct vqs_err *e)
{
	const struct vqs_vxlan_conf *vx = &p->vx;
	uint16_t i, r;

	if (p->path[0] != '\0' || p->devargs[0] != '\0' || p->mtu != 0 || p->queues != 0)
		return vqs_err_set(e, -EINVAL,
				   "path, devargs, mtu and queues are not for type=vxlan ports (the underlay port has them)");
	if (vx->local_ip == 0 || (vx->n_remotes == 0 && !vx->evpn))
		return vqs_err_set(e, -EINVAL,
				   "type=vxlan needs vni=, local_ip= and remote_ip= (or evpn=on)");
	for (r = 0; r < vx->n_remotes; r++)
		if (vx->remote[r] == vx->local_ip)
			return vqs_err_set(e, -EINVAL, "remote_ip: the local_ip itself");
	for (i = 0; i < c->n_ports; i++) {
		const struct vqs_port_conf *o = &c->ports[i];

		if (strcmp(o->name, p->name) == 0 || o->type != VQS_PORT_VXLAN)
			continue;
		/* What a received packet is told apart by. */
		if (o->vx.local_ip == vx->local_ip && o->vx.dst_port == vx->dst_port &&
		    o->vx.vni == vx->vni)
			return vqs_err_set(e, -EEXIST,
					   "port %s already has vni %u on local_ip and dst_port %u",
					   o->name, vx->vni, vx->dst_port);
	}
	return 0;
}

int
vqs_conf_tnl_check_underlay(const struct vqs_conf *c, const struct vqs_port_conf *p,
			    struct vqs_err *e)
{
	char a[INET_ADDRSTRLEN];
	uint16_t i;

	if (p->ul.gateway != 0 && p->ul.ip == 0)
		return vqs_err_set(e, -EINVAL, "gateway= needs ip=");
	if (p->ul.ip == 0)
		return 0;
	if (p->type != VQS_PORT_ETH)
		return vqs_err_set(e, -EINVAL, "ip= and gateway= are for type=dpdk ports");
	if (p->ul.gateway != 0 &&
	    (p->ul.gateway == p->ul.ip || !vqs_ipv4_same_subnet(p->ul.gateway, p->ul.ip, p->ul.prefix)))
		return vqs_err_set(e, -EINVAL, "gateway=%s: not another address of %s's subnet",
				   vqs_ipv4_str(p->ul.gateway, a, sizeof(a)), p->name);
	for (i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, p->name) != 0 && c->ports[i].ul.ip == p->ul.ip)
			return vqs_err_set(e, -EEXIST, "ip=%s: port %s has that address",
					   vqs_ipv4_str(p->ul.ip, a, sizeof(a)), c->ports[i].name);
	return 0;
}

void
vqs_conf_format_remotes(const struct vqs_vxlan_conf *vx, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN];
	size_t off = 0;
	uint16_t r;

	buf[0] = '\0';
	for (r = 0; r < vx->n_remotes && off < len; r++)
		if (vx->remote[r] != 0) /* 0: a free place, evpn.h */
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
						vqs_ipv4_str(vx->remote[r], a, sizeof(a)));
}

void
vqs_conf_tnl_write(const struct vqs_port_conf *p, FILE *f)
{
	char a[INET_ADDRSTRLEN], remotes[VQS_VXLAN_MAX_STATIC * 16 + 1];

	if (p->type == VQS_PORT_VXLAN) {
		vqs_conf_format_remotes(&p->vx, remotes, sizeof(remotes));
		fprintf(f, " vni=%u local_ip=%s", p->vx.vni, vqs_ipv4_str(p->vx.local_ip, a, sizeof(a)));
		if (p->vx.n_remotes > 0)
			fprintf(f, " remote_ip=%s", remotes);
		if (p->vx.evpn)
			fprintf(f, " evpn=on");
		fprintf(f, " dst_port=%u ttl=%u", p->vx.dst_port, p->vx.ttl);
		if (p->vx.tos == VQS_TOS_INHERIT)
			fprintf(f, " tos=inherit");
		else
			fprintf(f, " tos=%d", p->vx.tos);
	}
	if (p->ul.ip != 0)
		fprintf(f, " ip=%s/%u", vqs_ipv4_str(p->ul.ip, a, sizeof(a)), p->ul.prefix);
	if (p->ul.gateway != 0)
		fprintf(f, " gateway=%s", vqs_ipv4_str(p->ul.gateway, a, sizeof(a)));
}

bool
vqs_conf_tnl_equal(const struct vqs_port_conf *a, const struct vqs_port_conf *b)
{
	const struct vqs_vxlan_conf *x = &a->vx, *y = &b->vx;

	return a->ul.ip == b->ul.ip && a->ul.prefix == b->ul.prefix &&
	       a->ul.gateway == b->ul.gateway && x->vni == y->vni &&
	       x->local_ip == y->local_ip && x->n_remotes == y->n_remotes &&
	       memcmp(x->remote, y->remote, x->n_remotes * sizeof(x->remote[0])) == 0 &&
	       x->evpn == y->evpn && x->dst_port == y->dst_port && x->ttl == y->ttl &&
	       x->tos == y->tos;
}
