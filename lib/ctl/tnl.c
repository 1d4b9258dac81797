/* SPDX-License-Identifier: BSD-3-Clause
 * Tunnel commands: tnl/show (each tunnel port, its underlay and its
 * remotes with their next hops and counters), tnl/neigh-show,
 * tnl/neigh-flush and tnl/neigh-set (OVS's tnl/neigh-* names).
 */
#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include "cmd.h"
#include "vqs_switch.h"

/* The neighbour's state as text, and its age in seconds. */
static const char *
neigh_state(const struct vqs_neigh *n, uint64_t now, uint64_t *age)
{
	uint64_t mac = __atomic_load_n(&n->mac, __ATOMIC_RELAXED);
	uint64_t seen = __atomic_load_n(&n->seen_tsc, __ATOMIC_RELAXED);

	*age = mac != 0 ? (now - seen) / rte_get_tsc_hz() : 0;
	if (mac == 0)
		return "unresolved";
	return *age > VQS_NEIGH_AGE_S ? "stale" : "reachable";
}

static void
neigh_row(struct vqs_ctl_ctx *x, uint32_t parent, const struct vqs_neigh *n, uint64_t now)
{
	const struct vqs_port *p = x->sw->ports[n->slot];
	char ip[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE] = "";
	struct rte_ether_addr a;
	const char *state;
	uint64_t age;

	state = neigh_state(n, now, &age);
	if (strcmp(state, "unresolved") != 0) {
		vqs_neigh_unpack(__atomic_load_n(&n->mac, __ATOMIC_RELAXED), &a);
		rte_ether_format_addr(mac, sizeof(mac), &a);
	}
	vqs_answer_str(x->ans, parent, "ip", vqs_ipv4_str(n->ip, ip, sizeof(ip)));
	vqs_answer_str(x->ans, parent, "port", p != NULL ? p->conf.name : "?");
	vqs_answer_str(x->ans, parent, "mac", mac);
	vqs_answer_str(x->ans, parent, "state", state);
	vqs_answer_uint(x->ans, parent, "age", age);
	vqs_answer_uint(x->ans, parent, "requests", __atomic_load_n(&n->requests, __ATOMIC_RELAXED));
}

/* tnl/neigh-show: every next hop the tunnels need. */
static int
cmd_neigh_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t table = vqs_answer_table(x->ans, VQS_ANSWER_TOP, NULL);
	uint64_t now = rte_get_tsc_cycles();
	unsigned int i;

	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	for (i = 0; i < VQS_NEIGH_MAX; i++)
		if (x->sw->neigh->e[i].ip != 0)
			neigh_row(x, vqs_answer_obj(x->ans, table, NULL), &x->sw->neigh->e[i], now);
	return 0;
}

/* tnl/neigh-flush: every next hop is resolved again, with the next frame
 * that needs it. */
static int
cmd_neigh_flush(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	RTE_SET_USED(argc);
	RTE_SET_USED(argv);
	vqs_answer_uint(x->ans, vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL), "flushed",
			vqs_neigh_flush(x->sw->neigh));
	return 0;
}

/* tnl/neigh-set PORT IP MAC: a next hop's MAC given, as if ARP had said
 * it (it ages and is confirmed like a learned one; not saved): for a peer
 * that does not answer ARP, or a benchmark's sink. */
static int
cmd_neigh_set(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_port *p = vqs_switch_port(x->sw, argv[1]);
	struct rte_ether_addr mac;
	uint32_t ip;

	RTE_SET_USED(argc);
	if (p == NULL)
		return vqs_err_set(&x->r->err, -ENOENT, "no port named '%s'", argv[1]);
	if (!vqs_parse_ipv4(argv[2], &ip))
		return vqs_err_set(&x->r->err, -EINVAL, "'%s': expected an IPv4 address", argv[2]);
	if (rte_ether_unformat_addr(argv[3], &mac) != 0 || !rte_is_valid_assigned_ether_addr(&mac))
		return vqs_err_set(&x->r->err, -EINVAL, "'%s': expected a unicast MAC address", argv[3]);
	if (!vqs_neigh_learn(x->sw->neigh, p->slot, ip, &mac, rte_get_tsc_cycles()))
		return vqs_err_set(&x->r->err, -ENOENT,
				   "%s is not a next hop of a tunnel on port %s (tnl/neigh-show)", argv[2],
				   argv[1]);
	return 0;
}

static void
show_tunnel(struct vqs_ctl_ctx *x, uint32_t list, const struct vqs_dp *dp, uint16_t slot,
	    uint64_t now)
{
	const struct vqs_dp_vxlan *vx = &dp->ports[slot].vx;
	const struct vqs_port *p = dp->ports[slot].port;
	uint32_t o = vqs_answer_obj(x->ans, list, NULL), rl, ro;
	struct vqs_tnl_remote_stats st;
	char ip[INET_ADDRSTRLEN];
	uint16_t r;
	uint64_t age;

	vqs_answer_str(x->ans, o, "name", p->conf.name);
	vqs_answer_uint(x->ans, o, "vni", vx->conf.vni);
	vqs_answer_str(x->ans, o, "local_ip", vqs_ipv4_str(vx->conf.local_ip, ip, sizeof(ip)));
	vqs_answer_uint(x->ans, o, "dst_port", vx->conf.dst_port);
	vqs_answer_str(x->ans, o, "evpn", vx->conf.evpn ? "on" : "off");
	vqs_answer_str(x->ans, o, "underlay", vx->ul >= 0 ? dp->ports[vx->ul].port->conf.name : "");
	vqs_answer_uint(x->ans, o, "underlay_mtu", vx->ul >= 0 ? dp->ports[vx->ul].ul.mtu : 0);
	vqs_answer_str(x->ans, o, "ip_checksum", vx->ul < 0 ? "" :
		       dp->ports[vx->ul].ul.ipv4_cksum ? "offloaded" : "software");
	rl = vqs_answer_list(x->ans, o, "remotes", "remote");
	for (r = 0; r < vx->conf.n_remotes; r++) {
		const struct vqs_neigh *n = vx->neigh[r] >= 0 ? &dp->neigh->e[vx->neigh[r]] : NULL;

		if (vx->conf.remote[r] == 0) /* a free place: tunnel.h */
			continue;
		ro = vqs_answer_obj(x->ans, rl, NULL);
		vqs_answer_str(x->ans, ro, "ip", vqs_ipv4_str(vx->conf.remote[r], ip, sizeof(ip)));
		vqs_answer_str(x->ans, ro, "next_hop", n != NULL ? vqs_ipv4_str(n->ip, ip, sizeof(ip)) : "");
		vqs_answer_str(x->ans, ro, "neighbour", n != NULL ? neigh_state(n, now, &age) : "no route");
		vqs_tnl_remote_stats(p, x->sw->n_pmds, r, &st);
		vqs_answer_uint(x->ans, ro, "rx_packets", st.rx_packets);
		vqs_answer_uint(x->ans, ro, "rx_bytes", st.rx_bytes);
		vqs_answer_uint(x->ans, ro, "tx_packets", st.tx_packets);
		vqs_answer_uint(x->ans, ro, "tx_bytes", st.tx_bytes);
		vqs_answer_uint(x->ans, ro, "tx_flooded", st.tx_flooded);
		vqs_answer_str(x->ans, ro, "from", r < p->vx.n_static ? "remote_ip" : "evpn");
	}
}

/* tnl/show [PORT]: the tunnel ports as the datapath has them. The
 * control thread publishes the snapshots, so the one it reads is live. */
static int
cmd_tnl_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	const struct vqs_dp *dp = x->sw->dp;
	uint32_t list = vqs_answer_list(x->ans, VQS_ANSWER_TOP, NULL, "tunnel");
	uint64_t now = rte_get_tsc_cycles();
	uint16_t k;
	bool found = false;

	for (k = 0; dp != NULL && k < dp->n_vx; k++) {
		uint16_t s = dp->vx_slots[k];

		if (argc == 2 && strcmp(dp->ports[s].port->conf.name, argv[1]) != 0)
			continue;
		show_tunnel(x, list, dp, s, now);
		found = true;
	}
	if (argc == 2 && !found)
		return vqs_err_set(&x->r->err, -ENOENT, "no tunnel port named '%s'", argv[1]);
	return 0;
}

static const struct vqs_ctl_cmd commands[] = {
	{ "tnl/show", "[PORT]", "tunnel ports: underlay, remotes, next hops, counters per remote",
	  0, 1, VQS_CMD_QUERY, cmd_tnl_show },
	{ "tnl/neigh-show", "", "the tunnels' next hops and their MAC addresses (ARP)", 0, 0,
	  VQS_CMD_QUERY, cmd_neigh_show },
	{ "tnl/neigh-flush", "", "resolve every next hop again", 0, 0, VQS_CMD_ACTION,
	  cmd_neigh_flush },
	{ "tnl/neigh-set", "PORT IP MAC", "a next hop's MAC, as if ARP had said it (ages; not saved)",
	  3, 3, VQS_CMD_ACTION, cmd_neigh_set },
};

void
vqs_ctl_tnl_register(void)
{
	vqs_ctl_register("Tunnels", commands, RTE_DIM(commands));
}
