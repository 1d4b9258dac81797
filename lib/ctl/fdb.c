/* SPDX-License-Identifier: BSD-3-Clause
 * MAC table commands: fdb/show, fdb/flush, fdb/add, fdb/del (OVS's names).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ether.h>

#include "cmd.h"
#include "vqs_switch.h"

#define FDB_SHOW_LIMIT     10000  /* entries fdb/show lists unless asked */
#define FDB_SHOW_LIMIT_MAX 100000 /* ... and at most: the control thread's
				   * other work waits while it formats */

struct fdb_show {
	struct vqs_ctl_ctx *x;
	uint32_t table;
	uint32_t skip;   /* entries still to pass over (offset=) */
	uint32_t left;   /* entries still to show (limit=) */
	uint32_t shown;
	bool more;       /* an entry was left out at the end */
};

static int
fdb_show_one(const struct vqs_fdb_entry_info *e, void *arg)
{
	struct fdb_show *fs = arg;
	struct vqs_answer *o = fs->x->ans;
	const struct vqs_port *p = fs->x->sw->ports[VQS_FDB_SLOT(e->port)];
	char mac[RTE_ETHER_ADDR_FMT_SIZE], remote[INET_ADDRSTRLEN];
	uint32_t row;

	if (fs->skip > 0) {
		fs->skip--;
		return 0;
	}
	if (fs->left == 0) {
		fs->more = true;
		return 1;
	}
	fs->left--;
	fs->shown++;
	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	row = vqs_answer_obj(o, fs->table, NULL);
	vqs_answer_str(o, row, "port", p != NULL ? p->conf.name : "?");
	vqs_answer_uint(o, row, "vlan", e->vlan);
	vqs_answer_str(o, row, "mac", mac);
	vqs_answer_uint(o, row, "age", e->age_tsc / rte_get_tsc_hz());
	vqs_answer_bool(o, row, "static", e->is_static);
	vqs_answer_bool(o, row, "evpn", e->is_evpn);
	vqs_answer_str(o, row, "remote", vqs_tnl_remote_str(p, e->port, remote, sizeof(remote)));
	return 0;
}

/*
 * fdb/show BRIDGE [offset=N] [limit=N]: a guest can fill a table with a
 * million random sources, and everything else the control thread does
 * waits while it formats them, so a reply lists at most limit entries
 * (default FDB_SHOW_LIMIT) and says when there are more; offset= pages on.
 */
static int
cmd_fdb_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_bridge *b = vqs_ctl_find_runtime_bridge(x, argv[1]);
	struct fdb_show fs = { x, 0, 0, FDB_SHOW_LIMIT, 0, false };
	struct vqs_err *e = &x->r->err;
	uint32_t offset;
	int i, rc = 0;

	if (b == NULL)
		return -ENOENT;
	for (i = 2; rc == 0 && i < argc; i++) {
		if (strncmp(argv[i], "offset=", 7) == 0)
			rc = vqs_conf_parse_u32("offset", argv[i] + 7, 0, UINT32_MAX, &fs.skip, e);
		else if (strncmp(argv[i], "limit=", 6) == 0)
			rc = vqs_conf_parse_u32("limit", argv[i] + 6, 1, FDB_SHOW_LIMIT_MAX, &fs.left, e);
		else
			rc = vqs_err_set(e, -EINVAL, "'%s': expected offset=N or limit=N", argv[i]);
	}
	if (rc != 0)
		return rc;
	offset = fs.skip;
	fs.table = vqs_answer_table(x->ans, VQS_ANSWER_TOP, NULL);
	vqs_fdb_walk(b->fdb, rte_get_tsc_cycles(), fdb_show_one, &fs);
	if (fs.more)
		snprintf(x->r->warning, sizeof(x->r->warning),
			 "truncated: %u entries shown, more follow (fdb/show %s offset=%u)",
			 fs.shown, argv[1], offset + fs.shown);
	return 0;
}

static int
cmd_fdb_flush(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_bridge *b = vqs_ctl_find_runtime_bridge(x, argv[1]);

	if (b == NULL)
		return -ENOENT;
	vqs_answer_uint(x->ans, vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL), "flushed", vqs_fdb_flush(b->fdb));
	return 0;
}

static int
parse_fdb_mac(struct vqs_ctl_ctx *x, const char *s, struct rte_ether_addr *mac)
{
	if (rte_ether_unformat_addr(s, mac) != 0 || !rte_is_valid_assigned_ether_addr(mac))
		return vqs_err_set(&x->r->err, -EINVAL, "bad MAC address '%s' (a unicast xx:xx:xx:xx:xx:xx)",
				   s);
	return 0;
}

static int
parse_fdb_vlan(struct vqs_ctl_ctx *x, const char *s, uint16_t *vlan)
{
	uint32_t v;
	int rc = vqs_conf_parse_u32("VLAN", s, 0, VQS_VLAN_MAX, &v, &x->r->err);

	*vlan = (uint16_t)v;
	return rc;
}

/*
 * fdb/add BRIDGE MAC PORT [VLAN], or in OVS's order (ovs-appctl fdb/add
 * BRIDGE PORT VLAN MAC): a third word that is a MAC address says which.
 */
static int
cmd_fdb_add(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_bridge *b = vqs_ctl_find_runtime_bridge(x, argv[1]);
	struct rte_ether_addr mac;
	const char *port, *mac_word;
	struct vqs_port *p;
	uint16_t vlan = 0;
	bool ovs;
	int rc;

	if (b == NULL)
		return -ENOENT;
	ovs = argc == 5 && rte_ether_unformat_addr(argv[2], &mac) != 0 &&
	      rte_ether_unformat_addr(argv[4], &mac) == 0;
	mac_word = ovs ? argv[4] : argv[2];
	port = ovs ? argv[2] : argv[3];
	rc = parse_fdb_mac(x, mac_word, &mac);
	if (rc == 0 && argc == 5)
		rc = parse_fdb_vlan(x, ovs ? argv[3] : argv[4], &vlan);
	if (rc != 0)
		return rc;
	p = vqs_switch_port(x->sw, port);
	if (p == NULL || strcmp(p->conf.bridge, argv[1]) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "no port '%s' on bridge %s", port, argv[1]);
	if (vqs_fdb_add_static(b->fdb, vlan, &mac, p->slot) != 0)
		return vqs_err_set(&x->r->err, -ENOSPC, "the MAC table of %s is full", argv[1]);
	return 0;
}

/* fdb/del BRIDGE VLAN MAC (OVS's order), learned or static. */
static int
cmd_fdb_del(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_bridge *b = vqs_ctl_find_runtime_bridge(x, argv[1]);
	struct rte_ether_addr mac;
	uint16_t vlan;
	int rc;

	if (b == NULL)
		return -ENOENT;
	rc = parse_fdb_vlan(x, argv[2], &vlan);
	if (rc == 0)
		rc = parse_fdb_mac(x, argv[3], &mac);
	if (rc != 0)
		return rc;
	if (vqs_fdb_del(b->fdb, vlan, &mac) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "no entry for %s in VLAN %u on bridge %s",
				   argv[3], vlan, argv[1]);
	return 0;
}

static const struct vqs_ctl_cmd commands[] = {
	{ "fdb/show", "BRIDGE [offset=N] [limit=N]", "the MAC table (10000 entries unless limit=)",
	  1, 3, VQS_CMD_QUERY, cmd_fdb_show },
	{ "fdb/flush", "BRIDGE", "forget every learned and static entry", 1, 1, VQS_CMD_ACTION,
	  cmd_fdb_flush },
	{ "fdb/add", "BRIDGE MAC PORT [VLAN] | BRIDGE PORT VLAN MAC", "a static entry (OVS's order too)",
	  3, 4, VQS_CMD_ACTION, cmd_fdb_add },
	{ "fdb/del", "BRIDGE VLAN MAC", "remove one entry", 3, 3, VQS_CMD_ACTION, cmd_fdb_del },
};

void
vqs_ctl_fdb_register(void)
{
	vqs_ctl_register("MAC tables", commands, RTE_DIM(commands));
}
