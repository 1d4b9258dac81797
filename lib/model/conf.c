/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "vqs_model.h"
#include "conf_tnl.h"
#include "paths.h"

const char *
vqs_port_type_name(enum vqs_port_type t)
{
	switch (t) {
	case VQS_PORT_VHOST:
		return "vhostuser";
	case VQS_PORT_VHOST_CLIENT:
		return "vhostuserclient";
	case VQS_PORT_VXLAN:
		return "vxlan";
	default:
		return "dpdk";
	}
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= VQS_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return false;
	return true;
}

struct vqs_br_conf *
vqs_conf_bridge(struct vqs_conf *c, const char *name)
{
	uint16_t i;

	for (i = 0; i < c->n_bridges; i++)
		if (strcmp(c->bridges[i].name, name) == 0)
			return &c->bridges[i];
	return NULL;
}

struct vqs_port_conf *
vqs_conf_port(struct vqs_conf *c, const char *name)
{
	uint16_t i;

	for (i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return &c->ports[i];
	return NULL;
}

/* Splits "key=value"; each key at most once per command. */
static int
split_kv(int argc, char **argv, char **keys, char **vals, struct vqs_err *e)
{
	int i, j;

	for (i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL || eq == argv[i])
			return vqs_err_set(e, -EINVAL, "'%s': expected key=value", argv[i]);
		keys[i] = argv[i];
		vals[i] = eq + 1;
		for (j = 0; j < i; j++)
			if (strncmp(keys[j], keys[i], (size_t)(eq - argv[i])) == 0 &&
			    keys[j][eq - argv[i]] == '=')
				return vqs_err_set(e, -EINVAL, "'%.*s' given twice",
						   (int)(eq - argv[i]), argv[i]);
	}
	return 0;
}

static int
bridge_options(int argc, char **argv, struct vqs_br_conf *b, struct vqs_err *e)
{
	char *keys[VQS_MAX_ARGS], *vals[VQS_MAX_ARGS];
	int i, rc;

	if (argc > VQS_MAX_ARGS)
		return vqs_err_set(e, -EINVAL, "too many options");
	rc = split_kv(argc, argv, keys, vals, e);
	for (i = 0; rc == 0 && i < argc; i++) {
		if (vqs_key_is(keys[i], "mac-aging"))
			rc = vqs_conf_parse_u32("mac-aging", vals[i], 0, 86400 * 365,
				       &b->mac_aging, e);
		else if (vqs_key_is(keys[i], "mac-table-size"))
			rc = vqs_conf_parse_u32("mac-table-size", vals[i], 1,
				       VQS_MAX_MAC_TABLE_SIZE, &b->mac_table_size, e);
		else
			rc = vqs_err_set(e, -EINVAL, "unknown bridge option '%.*s'",
					 (int)(vals[i] - keys[i] - 1), keys[i]);
	}
	return rc;
}

int
vqs_conf_parse_add_br(const struct vqs_conf *c, int argc, char **argv,
		      struct vqs_br_conf *out, struct vqs_err *e)
{
	if (argc < 2)
		return vqs_err_set(e, -EINVAL,
				   "usage: add-br BRIDGE [mac-aging=S] [mac-table-size=N]");
	if (!valid_name(argv[1]))
		return vqs_err_set(e, -EINVAL, "bad bridge name '%s'", argv[1]);
	if (vqs_conf_bridge((struct vqs_conf *)c, argv[1]) != NULL)
		return vqs_err_set(e, -EEXIST, "bridge %s exists", argv[1]);
	if (c->n_bridges == VQS_MAX_BRIDGES)
		return vqs_err_set(e, -ENOSPC, "too many bridges (at most %d)",
				   VQS_MAX_BRIDGES);
	memset(out, 0, sizeof(*out));
	strlcpy(out->name, argv[1], sizeof(out->name));
	out->mac_aging = VQS_DEFAULT_MAC_AGING;
	out->mac_table_size = VQS_DEFAULT_MAC_TABLE_SIZE;
	return bridge_options(argc - 2, argv + 2, out, e);
}

int
vqs_conf_parse_set_bridge(const struct vqs_conf *c, int argc, char **argv,
			  struct vqs_br_conf *inout, struct vqs_err *e)
{
	return bridge_options(argc, argv, inout, e);
}

/* "100,200-210": VLAN ids 0..4095 and ranges. Empty clears (every VLAN);
 * an empty element ("1,,2", ",") is an error, not "no VLAN at all". */
static int
parse_trunks(const char *v, struct vqs_vlan_conf *vc, struct vqs_err *e)
{
	const char *tok = v;
	unsigned long lo, hi, id;
	char *end;

	memset(vc->trunks, 0, sizeof(vc->trunks));
	vc->trunks_set = false;
	if (*v == '\0')
		return 0;
	for (;;) {
		if (!isdigit((unsigned char)*tok))
			goto bad;
		lo = hi = strtoul(tok, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				goto bad;
			hi = strtoul(end + 1, &end, 10);
		}
		if ((*end != ',' && *end != '\0') || lo > hi || hi > VQS_VLAN_MAX)
			goto bad;
		for (id = lo; id <= hi; id++)
			vc->trunks[id / 64] |= 1ULL << (id % 64);
		if (*end == '\0')
			break;
		tok = end + 1;
	}
	vc->trunks_set = true;
	return 0;
bad:
	return vqs_err_set(e, -EINVAL,
			   "trunks=%.40s%s: expected VLAN ids 0-4095 and ranges, e.g. 100,200-210 (empty: all VLANs)",
			   v, strlen(v) > 40 ? "..." : "");
}

/* "0:2,1:3": RX queue 0 on lcore 2, queue 1 on lcore 3. Empty clears. */
static int
parse_affinity(const char *v, struct vqs_port_conf *p, struct vqs_err *e)
{
	char buf[256], *tok, *save = NULL, *end;
	unsigned long q, lcore;
	unsigned int i;

	for (i = 0; i < VQS_VHOST_MAX_QP; i++)
		p->affinity[i] = -1;
	if (*v == '\0')
		return 0;
	if (strlcpy(buf, v, sizeof(buf)) >= sizeof(buf))
		goto bad;
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!isdigit((unsigned char)*tok))
			goto bad;
		q = strtoul(tok, &end, 10);
		if (*end != ':' || !isdigit((unsigned char)end[1]))
			goto bad;
		lcore = strtoul(end + 1, &end, 10);
		if (*end != '\0' || lcore >= RTE_MAX_LCORE)
			goto bad;
		if (q >= p->queues)
			return vqs_err_set(e, -EINVAL,
					   "pmd-rxq-affinity: port %s has RX queues 0..%u",
					   p->name, p->queues - 1);
		p->affinity[q] = (int16_t)lcore;
	}
	return 0;
bad:
	return vqs_err_set(e, -EINVAL,
			   "pmd-rxq-affinity=%s: expected QUEUE:LCORE[,QUEUE:LCORE...]", v);
}

/* Options every port may change at any time, without a device restart. */
static bool
is_dynamic_key(const char *kv)
{
	return vqs_key_is(kv, "tag") || vqs_key_is(kv, "trunks") || vqs_key_is(kv, "offloads-kept") ||
	       vqs_key_is(kv, "pmd-rxq-affinity") || vqs_conf_tnl_is_dynamic_key(kv);
}

/* One of them into p; *handled false if kv is none of them. */
static int
port_dynamic_option(const char *kv, const char *v, struct vqs_port_conf *p,
		    struct vqs_err *e, bool *handled)
{
	uint32_t x;
	int rc;

	*handled = true;
	if (vqs_key_is(kv, "tag")) {
		if (*v == '\0') {
			p->vlan.tag = 0;
			return 0;
		}
		rc = vqs_conf_parse_u32("tag", v, 1, VQS_VLAN_MAX, &x, e);
		p->vlan.tag = (uint16_t)x;
		return rc;
	}
	if (vqs_key_is(kv, "trunks"))
		return parse_trunks(v, &p->vlan, e);
	if (vqs_key_is(kv, "pmd-rxq-affinity"))
		return parse_affinity(v, p, e);
	if (vqs_key_is(kv, "offloads-kept")) {
		if (!vqs_port_type_is_vhost(p->type))
			return vqs_err_set(e, -EINVAL,
					   "offloads and offloads-kept are for vhostuser and vhostuserclient ports");
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
			return vqs_err_set(e, -EINVAL, "offloads-kept=%s: expected on or off", v);
		p->offloads_kept = strcmp(v, "on") == 0;
		return 0;
	}
	if (vqs_conf_tnl_is_dynamic_key(kv))
		return vqs_conf_tnl_dynamic_option(kv, v, p, e);
	*handled = false;
	return 0;
}

static int
port_create_option(const char *kv, const char *v, struct vqs_port_conf *p,
		   bool *has_type, struct vqs_err *e)
{
	bool handled;
	uint32_t x;
	int rc;

	if (vqs_key_is(kv, "type")) {
		if (strcmp(v, "vhostuser") == 0)
			p->type = VQS_PORT_VHOST;
		else if (strcmp(v, "vhostuserclient") == 0)
			p->type = VQS_PORT_VHOST_CLIENT;
		else if (strcmp(v, "dpdk") == 0)
			p->type = VQS_PORT_ETH;
		else if (strcmp(v, "vxlan") == 0)
			p->type = VQS_PORT_VXLAN;
		else
			return vqs_err_set(e, -EINVAL,
					   "type=%s: expected vhostuser, vhostuserclient, dpdk or vxlan", v);
		*has_type = true;
		return 0;
	}
	if (vqs_key_is(kv, "path")) {
		/* Stored in normal form, so that two spellings of one file are
		 * seen to be the same socket. */
		if (vqs_path_normalize(v, p->path, sizeof(p->path)) != 0)
			return vqs_err_set(e, -EINVAL,
					   "path=%s: expected an absolute path without '..', shorter than %d bytes",
					   v, VQS_PATH_MAX);
		return 0;
	}
	if (vqs_key_is(kv, "devargs")) {
		if (v[0] == '\0' || strlcpy(p->devargs, v, sizeof(p->devargs)) >=
					    sizeof(p->devargs))
			return vqs_err_set(e, -EINVAL,
					   "devargs: expected a device name and arguments");
		return 0;
	}
	if (vqs_key_is(kv, "queues") || vqs_key_is(kv, "n_rxq")) {
		rc = vqs_conf_parse_u32(vqs_key_is(kv, "queues") ? "queues" : "n_rxq", v, 1,
			       VQS_VHOST_MAX_QP, &x, e);
		p->queues = (uint16_t)x;
		return rc;
	}
	if (vqs_key_is(kv, "mtu")) {
		rc = vqs_conf_parse_u32("mtu", v, 68, 9000, &x, e);
		p->mtu = (uint16_t)x;
		return rc;
	}
	if (vqs_key_is(kv, "offloads")) {
		if (strcmp(v, "on") == 0)
			p->offloads = VQS_OFFLOADS_ON;
		else if (strcmp(v, "off") == 0)
			p->offloads = VQS_OFFLOADS_OFF;
		else if (strcmp(v, "default") == 0 || v[0] == '\0')
			p->offloads = VQS_OFFLOADS_DEFAULT;
		else
			return vqs_err_set(e, -EINVAL, "offloads=%s: expected on, off or default", v);
		return 0;
	}
	rc = vqs_conf_tnl_create_option(kv, v, p, &handled, e);
	if (handled)
		return rc;
	return vqs_err_set(e, -EINVAL, "unknown port option '%.*s'",
			   (int)(v - kv - 1), kv);
}

/* Options that make no sense for the port's type are errors, not ignored. */
static int
port_check(const struct vqs_conf *c, struct vqs_port_conf *pc,
	   const char *socket_dir, bool existing, struct vqs_err *e)
{
	size_t n = strcspn(pc->devargs, ",");
	uint16_t i;
	int rc;

	if ((pc->offloads != VQS_OFFLOADS_DEFAULT || pc->offloads_kept) &&
	    !vqs_port_type_is_vhost(pc->type))
		return vqs_err_set(e, -EINVAL,
				   "offloads and offloads-kept are for vhostuser and vhostuserclient ports");
	if (pc->type != VQS_PORT_VXLAN &&
	    (pc->vx.vni != 0 || pc->vx.local_ip != 0 || pc->vx.n_remotes != 0 || pc->vx.dst_port != 0 ||
	     pc->vx.ttl != 0 || pc->vx.tos != 0 || pc->vx.evpn))
		return vqs_err_set(e, -EINVAL,
				   "vni, local_ip, remote_ip, evpn, dst_port, ttl and tos are for type=vxlan ports");
	if (pc->type == VQS_PORT_VXLAN) {
		if (pc->vx.dst_port == 0)
			pc->vx.dst_port = VQS_VXLAN_UDP_PORT;
		if (pc->vx.ttl == 0)
			pc->vx.ttl = 64;
		rc = vqs_conf_tnl_check_vxlan(c, pc, e);
		if (rc != 0)
			return rc;
	} else if (vqs_port_type_is_vhost(pc->type)) {
		if (pc->devargs[0] != '\0' || pc->mtu != 0)
			return vqs_err_set(e, -EINVAL, "devargs and mtu are for type=dpdk ports");
		if (pc->path[0] != '\0' && pc->type == VQS_PORT_VHOST &&
		    !vqs_path_in_dir(pc->path, socket_dir))
			return vqs_err_set(e, -EINVAL,
					   "path=%s: a type=vhostuser socket must be directly inside the socket directory %s (type=vhostuserclient may connect anywhere)",
					   pc->path, socket_dir);
		if (pc->path[0] == '\0') {
			if (pc->type == VQS_PORT_VHOST_CLIENT)
				return vqs_err_set(e, -EINVAL,
						   "type=vhostuserclient needs path= (the socket QEMU listens on)");
			if ((size_t)snprintf(pc->path, sizeof(pc->path), "%s/%s.sock",
					     socket_dir, pc->name) >= sizeof(pc->path))
				return vqs_err_set(e, -EINVAL, "socket path for %s is too long",
						   pc->name);
		}
		if (pc->queues == 0)
			pc->queues = VQS_VHOST_MAX_QP;
	} else {
		if (pc->devargs[0] == '\0')
			return vqs_err_set(e, -EINVAL, "type=dpdk needs devargs=");
		if (pc->path[0] != '\0')
			return vqs_err_set(e, -EINVAL, "path is for vhost-user ports");
		if (pc->queues == 0)
			pc->queues = 1;
	}
	for (i = 0; i < c->n_ports; i++) {
		const struct vqs_port_conf *o = &c->ports[i];

		if (strcmp(o->name, pc->name) == 0) {
			if (existing)
				continue; /* itself, being reconfigured */
			return vqs_err_set(e, -EEXIST, "port %s exists (on bridge %s)",
					   pc->name, o->bridge);
		}
		if (vqs_port_type_is_vhost(pc->type) && vqs_port_type_is_vhost(o->type) &&
		    strcmp(o->path, pc->path) == 0)
			return vqs_err_set(e, -EEXIST, "socket %s is used by port %s",
					   pc->path, o->name);
		if (pc->type == VQS_PORT_ETH && o->type == VQS_PORT_ETH &&
		    strcspn(o->devargs, ",") == n && strncmp(o->devargs, pc->devargs, n) == 0)
			return vqs_err_set(e, -EEXIST, "device %.*s is used by port %s",
					   (int)n, pc->devargs, o->name);
	}
	return 0;
}

int
vqs_conf_parse_add_port(const struct vqs_conf *c, int argc, char **argv,
			const char *socket_dir, struct vqs_port_conf *pc,
			struct vqs_err *e)
{
	char *keys[VQS_MAX_ARGS], *vals[VQS_MAX_ARGS];
	bool has_type = false, handled;
	unsigned int q;
	int i, rc;

	if (argc < 3)
		return vqs_err_set(e, -EINVAL,
				   "usage: add-port BRIDGE PORT type=vhostuser|vhostuserclient|dpdk|vxlan [options]");
	if (vqs_conf_bridge((struct vqs_conf *)c, argv[1]) == NULL)
		return vqs_err_set(e, -ENOENT, "no bridge named '%s'", argv[1]);
	if (!valid_name(argv[2]))
		return vqs_err_set(e, -EINVAL,
				   "bad port name '%s' (letters, digits, '_.-', at most %d)",
				   argv[2], VQS_NAME_MAX - 1);
	if (c->n_ports == VQS_MAX_PORTS)
		return vqs_err_set(e, -ENOSPC, "too many ports (at most %d)", VQS_MAX_PORTS);
	if (argc - 3 > VQS_MAX_ARGS)
		return vqs_err_set(e, -EINVAL, "too many options");
	memset(pc, 0, sizeof(*pc));
	strlcpy(pc->bridge, argv[1], sizeof(pc->bridge));
	strlcpy(pc->name, argv[2], sizeof(pc->name));
	for (q = 0; q < VQS_VHOST_MAX_QP; q++)
		pc->affinity[q] = -1;
	rc = split_kv(argc - 3, argv + 3, keys, vals, e);
	/* Creation options first: affinity is checked against queues. */
	for (i = 0; rc == 0 && i < argc - 3; i++)
		if (!is_dynamic_key(keys[i]))
			rc = port_create_option(keys[i], vals[i], pc, &has_type, e);
	if (rc == 0 && !has_type)
		rc = vqs_err_set(e, -EINVAL, "add-port %s: type= is required", pc->name);
	if (rc == 0)
		rc = port_check(c, pc, socket_dir, false, e);
	for (i = 0; rc == 0 && i < argc - 3; i++)
		rc = port_dynamic_option(keys[i], vals[i], pc, e, &handled);
	if (rc == 0)
		rc = vqs_conf_tnl_check_underlay(c, pc, e);
	if (rc == 0 && vqs_port_type_is_vhost(pc->type) && vqs_conf_offloads(c, pc))
		pc->offloads_kept = true; /* offered: frontends may keep them (written
					   * only once they are not offered) */
	return rc;
}

/* What the device is made from: a change restarts the port. */
static bool
same_device(const struct vqs_conf *c, const struct vqs_port_conf *a, const struct vqs_port_conf *b)
{
	struct vqs_port_conf x = *a;

	x.ul = b->ul; /* the address is not the device */
	return a->type == b->type && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->devargs, b->devargs) == 0 && a->queues == b->queues && a->mtu == b->mtu &&
	       vqs_conf_offloads(c, a) == vqs_conf_offloads(c, b) && vqs_conf_tnl_equal(&x, b);
}

int
vqs_conf_parse_port_options(const struct vqs_conf *c, int argc, char **argv,
			    const char *socket_dir, struct vqs_port_conf *inout,
			    bool *restart, struct vqs_err *e)
{
	char *keys[VQS_MAX_ARGS], *vals[VQS_MAX_ARGS];
	struct vqs_port_conf np = *inout;
	bool has_type = false, handled;
	unsigned int q;
	int i, rc;

	*restart = false;
	if (argc > VQS_MAX_ARGS)
		return vqs_err_set(e, -EINVAL, "too many options");
	rc = split_kv(argc, argv, keys, vals, e);
	for (i = 0; rc == 0 && i < argc; i++)
		if (vqs_key_is(keys[i], "type"))
			rc = port_create_option(keys[i], vals[i], &np, &has_type, e);
	/* Another type starts its device settings afresh (a dpdk port has no
	 * socket path, a vhost-user one no devargs). */
	if (rc == 0 && np.type != inout->type) {
		memset(np.path, 0, sizeof(np.path));
		memset(np.devargs, 0, sizeof(np.devargs));
		memset(&np.vx, 0, sizeof(np.vx));
		memset(&np.ul, 0, sizeof(np.ul));
		np.queues = np.mtu = 0;
		np.offloads = VQS_OFFLOADS_DEFAULT;
		np.offloads_kept = false;
	}
	for (i = 0; rc == 0 && i < argc; i++)
		if (!vqs_key_is(keys[i], "type") && !is_dynamic_key(keys[i]))
			rc = port_create_option(keys[i], vals[i], &np, &has_type, e);
	if (rc == 0 && !same_device(c, &np, inout)) {
		rc = port_check(c, &np, socket_dir, true, e);
		*restart = true;
	}
	for (i = 0; rc == 0 && i < argc; i++)
		if (is_dynamic_key(keys[i]))
			rc = port_dynamic_option(keys[i], vals[i], &np, e, &handled);
	if (rc == 0)
		rc = vqs_conf_tnl_check_underlay(c, &np, e);
	for (q = np.queues; rc == 0 && q < VQS_VHOST_MAX_QP; q++)
		if (np.affinity[q] >= 0)
			rc = vqs_err_set(e, -EINVAL,
					 "pmd-rxq-affinity pins queue %u, and port %s would have queues 0..%u: "
					 "change pmd-rxq-affinity= in the same command",
					 q, np.name, np.queues - 1);
	if (rc == 0 && vqs_port_type_is_vhost(np.type) && vqs_conf_offloads(c, &np))
		np.offloads_kept = true; /* offered: frontends may keep them */
	if (rc == 0)
		*inout = np;
	return rc;
}

/* "set WHAT KEY=VALUE...": each word key=value with WHAT's one key, split
 * into keys and vals. */
static int
split_one_key(int argc, char **argv, const char *key, const char *what, char **keys, char **vals,
	      struct vqs_err *e)
{
	int i, rc;

	if (argc > VQS_MAX_ARGS)
		return vqs_err_set(e, -EINVAL, "too many options");
	rc = split_kv(argc, argv, keys, vals, e);
	for (i = 0; rc == 0 && i < argc; i++)
		if (!vqs_key_is(keys[i], key))
			return vqs_err_set(e, -EINVAL, "unknown %s option '%.*s'", what,
					   (int)(vals[i] - keys[i] - 1), keys[i]);
	return rc;
}

int
vqs_conf_parse_set_pmd(int argc, char **argv, uint32_t *sleep_ms, struct vqs_err *e)
{
	char *keys[VQS_MAX_ARGS], *vals[VQS_MAX_ARGS];
	int i, rc = split_one_key(argc, argv, "sleep", "pmd", keys, vals, e);

	for (i = 0; rc == 0 && i < argc; i++) {
		if (strcmp(vals[i], "on") == 0)
			*sleep_ms = 100;
		else if (strcmp(vals[i], "off") == 0)
			*sleep_ms = 0;
		else
			rc = vqs_conf_parse_u32("sleep", vals[i], 0, 60000, sleep_ms, e);
	}
	return rc;
}

int
vqs_conf_parse_set_switch(int argc, char **argv, bool *offloads, struct vqs_err *e)
{
	char *keys[VQS_MAX_ARGS], *vals[VQS_MAX_ARGS];
	int i, rc = split_one_key(argc, argv, "offloads", "switch", keys, vals, e);

	for (i = 0; rc == 0 && i < argc; i++) {
		if (strcmp(vals[i], "on") != 0 && strcmp(vals[i], "off") != 0)
			return vqs_err_set(e, -EINVAL, "offloads=%s: expected on or off", vals[i]);
		*offloads = strcmp(vals[i], "on") == 0;
	}
	return rc;
}

void
vqs_conf_set_offloads(struct vqs_conf *c, bool on)
{
	uint16_t i;

	c->offloads_off = !on;
	for (i = 0; on && i < c->n_ports; i++)
		if (vqs_port_type_is_vhost(c->ports[i].type) &&
		    c->ports[i].offloads == VQS_OFFLOADS_DEFAULT)
			c->ports[i].offloads_kept = true; /* offered: frontends may keep them */
}

void
vqs_conf_add_bridge(struct vqs_conf *c, const struct vqs_br_conf *b)
{
	c->bridges[c->n_bridges++] = *b;
}

/* Removes element i of an array of n, keeping the order. */
static void
array_remove(void *base, size_t size, uint16_t *n, size_t i)
{
	char *a = base;

	memmove(a + i * size, a + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

void
vqs_conf_del_bridge(struct vqs_conf *c, const char *name)
{
	struct vqs_br_conf *b = vqs_conf_bridge(c, name);

	if (b != NULL)
		array_remove(c->bridges, sizeof(*b), &c->n_bridges, (size_t)(b - c->bridges));
}

void
vqs_conf_add_port(struct vqs_conf *c, const struct vqs_port_conf *p)
{
	c->ports[c->n_ports++] = *p;
}

void
vqs_conf_del_port(struct vqs_conf *c, const char *name)
{
	struct vqs_port_conf *p = vqs_conf_port(c, name);

	if (p != NULL)
		array_remove(c->ports, sizeof(*p), &c->n_ports, (size_t)(p - c->ports));
}

void
vqs_vlan_format_trunks(const struct vqs_vlan_conf *v, char *buf)
{
	const size_t len = VQS_TRUNKS_TEXT_MAX;
	size_t off = 0;
	unsigned int id, end;

	buf[0] = '\0';
	if (!v->trunks_set)
		return;
	for (id = 0; id <= VQS_VLAN_MAX && off < len; id++) {
		if (!vqs_vlan_allowed(v, (uint16_t)id))
			continue;
		for (end = id; end < VQS_VLAN_MAX && vqs_vlan_allowed(v, (uint16_t)(end + 1)); end++)
			;
		off += (size_t)snprintf(buf + off, len - off, end > id ? "%s%u-%u" : "%s%u",
					off ? "," : "", id, end);
		id = end;
	}
}

void
vqs_conf_format_affinity(const struct vqs_port_conf *p, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int q;

	buf[0] = '\0';
	for (q = 0; q < VQS_VHOST_MAX_QP && off < len; q++)
		if (p->affinity[q] >= 0)
			off += (size_t)snprintf(buf + off, len - off, "%s%u:%d",
						off ? "," : "", q, p->affinity[q]);
}

/* A value as the reader gets it back: quoted when it holds a blank, a
 * quote, a backslash or '#', or is empty. Control characters never get
 * this far (vqs_ctl_exec refuses them). */
static void
put_value(FILE *f, const char *v)
{
	if (*v != '\0' && strpbrk(v, " \t\"'\\#") == NULL) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

static void
put_kv(FILE *f, const char *key, const char *v)
{
	fprintf(f, " %s=", key);
	put_value(f, v);
}

int
vqs_conf_write(const struct vqs_conf *c, FILE *f)
{
	char trunks[VQS_TRUNKS_TEXT_MAX], aff[128];
	uint16_t i;

	fprintf(f, "# vqswitch state: the commands that rebuild the running configuration\n");
	if (c->pmd_sleep_ms != 0)
		fprintf(f, "set pmd sleep=%u\n", c->pmd_sleep_ms);
	if (c->offloads_off)
		fprintf(f, "set switch offloads=off\n");
	for (i = 0; i < c->n_bridges; i++)
		fprintf(f, "add-br %s mac-aging=%u mac-table-size=%u\n", c->bridges[i].name,
			c->bridges[i].mac_aging, c->bridges[i].mac_table_size);
	for (i = 0; i < c->n_ports; i++) {
		const struct vqs_port_conf *p = &c->ports[i];

		fprintf(f, "add-port %s %s type=%s", p->bridge, p->name,
			vqs_port_type_name(p->type));
		if (vqs_port_type_is_vhost(p->type)) {
			put_kv(f, "path", p->path);
			fprintf(f, " queues=%u", p->queues);
		} else if (p->type == VQS_PORT_ETH) {
			put_kv(f, "devargs", p->devargs);
			fprintf(f, " n_rxq=%u", p->queues);
		}
		if (p->mtu != 0)
			fprintf(f, " mtu=%u", p->mtu);
		if (p->offloads != VQS_OFFLOADS_DEFAULT)
			fprintf(f, " offloads=%s", p->offloads == VQS_OFFLOADS_ON ? "on" : "off");
		if (p->offloads_kept && !vqs_conf_offloads(c, p)) /* else implied */
			fprintf(f, " offloads-kept=on");
		if (p->vlan.tag != 0)
			fprintf(f, " tag=%u", p->vlan.tag);
		vqs_vlan_format_trunks(&p->vlan, trunks);
		if (p->vlan.trunks_set)
			fprintf(f, " trunks=%s", trunks);
		vqs_conf_format_affinity(p, aff, sizeof(aff));
		if (aff[0] != '\0')
			fprintf(f, " pmd-rxq-affinity=%s", aff);
		vqs_conf_tnl_write(p, f);
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

bool
vqs_vlan_equal(const struct vqs_vlan_conf *a, const struct vqs_vlan_conf *b)
{
	return a->tag == b->tag && a->trunks_set == b->trunks_set &&
	       memcmp(a->trunks, b->trunks, sizeof(a->trunks)) == 0;
}

static bool
port_equal(const struct vqs_port_conf *a, const struct vqs_port_conf *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->bridge, b->bridge) == 0 &&
	       a->type == b->type && strcmp(a->path, b->path) == 0 &&
	       strcmp(a->devargs, b->devargs) == 0 && a->queues == b->queues &&
	       a->mtu == b->mtu && a->offloads == b->offloads &&
	       a->offloads_kept == b->offloads_kept && vqs_vlan_equal(&a->vlan, &b->vlan) &&
	       memcmp(a->affinity, b->affinity, sizeof(a->affinity)) == 0 &&
	       vqs_conf_tnl_equal(a, b);
}

bool
vqs_conf_equal(const struct vqs_conf *a, const struct vqs_conf *b)
{
	uint16_t i;

	if (a->pmd_sleep_ms != b->pmd_sleep_ms || a->offloads_off != b->offloads_off ||
	    a->n_bridges != b->n_bridges ||
	    a->n_ports != b->n_ports)
		return false;
	for (i = 0; i < a->n_bridges; i++)
		if (strcmp(a->bridges[i].name, b->bridges[i].name) != 0 ||
		    a->bridges[i].mac_aging != b->bridges[i].mac_aging ||
		    a->bridges[i].mac_table_size != b->bridges[i].mac_table_size)
			return false;
	for (i = 0; i < a->n_ports; i++)
		if (!port_equal(&a->ports[i], &b->ports[i]))
			return false;
	return true;
}
