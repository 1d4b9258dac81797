/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp.h"
#include "neigh.h"
#include "pmd.h"
#include "vqs_switch.h"

void
vqs_dp_free(struct vqs_dp *dp)
{
	unsigned int i;

	if (dp == NULL)
		return;
	for (i = 0; i < VQS_MAX_PMDS; i++)
		free(dp->pmds[i].rxq);
	free(dp);
}

static int
dp_build_rxqs(struct vqs_switch *sw, struct vqs_dp *dp)
{
	uint16_t count[VQS_MAX_PMDS] = { 0 };
	unsigned int s, q, i;

	for (s = 0; s < dp->n_slots; s++) {
		const struct vqs_port *p = dp->ports[s].port;

		for (q = 0; p != NULL && q < p->n_rxq; q++)
			count[p->rxq_pmd[q]]++;
	}
	for (i = 0; i < sw->n_pmds; i++) {
		dp->pmds[i].rxq = calloc(count[i] + 1u, sizeof(struct vqs_dp_rxq));
		if (dp->pmds[i].rxq == NULL)
			return -ENOMEM;
	}
	for (s = 0; s < dp->n_slots; s++) {
		const struct vqs_port *p = dp->ports[s].port;

		for (q = 0; p != NULL && q < p->n_rxq; q++) {
			struct vqs_dp_pmd *pm = &dp->pmds[p->rxq_pmd[q]];
			struct vqs_dp_rxq *rq = &pm->rxq[pm->n_rxq++];

			rq->slot = (uint16_t)s;
			rq->qid = (uint16_t)q;
			rq->port = dp->ports[s].port;
			rq->vhost = vqs_port_type_is_vhost(p->conf.type);
			rq->direct = rq->vhost && p->vhost.direct != NULL;
		}
	}
	return 0;
}

/* A started dpdk port with an address in the model is an underlay. */
static void
dp_underlay(struct vqs_dp_underlay *ul, const struct vqs_port *p, const struct vqs_port_conf *pc)
{
	uint16_t mtu = RTE_ETHER_MTU;

	memset(ul, 0, sizeof(*ul));
	if (p->conf.type != VQS_PORT_ETH || !p->eth.started || pc == NULL || pc->ul.ip == 0 ||
	    rte_eth_macaddr_get(p->eth.port_id, &ul->mac) != 0)
		return;
	rte_eth_dev_get_mtu(p->eth.port_id, &mtu);
	ul->ip = pc->ul.ip;
	ul->prefix = pc->ul.prefix;
	ul->mtu = mtu;
	ul->ipv4_cksum = p->eth.ipv4_cksum;
}

/* Each tunnel port's underlay (the port with its local_ip) and the next
 * hop of each remote: the remote itself on the underlay's subnet, else
 * the underlay's gateway. */
static void
dp_tunnels(struct vqs_switch *sw, struct vqs_dp *dp)
{
	unsigned int s, u, r;
	int nh;

	dp->neigh = sw->neigh;
	for (s = 0; s < dp->n_slots; s++) {
		struct vqs_dp_vxlan *vx = &dp->ports[s].vx;
		const struct vqs_port_conf *upc;
		uint32_t hop;

		if (dp->ports[s].port == NULL || dp->ports[s].port->conf.type != VQS_PORT_VXLAN)
			continue;
		dp->vx_slots[dp->n_vx++] = (uint16_t)s;
		vx->conf = dp->ports[s].port->conf.vx;
		vx->ul = -1;
		for (u = 0; u < dp->n_slots; u++)
			if (dp->ports[u].ul.ip != 0 && dp->ports[u].ul.ip == vx->conf.local_ip)
				vx->ul = (int16_t)u;
		for (r = 0; r < vx->conf.n_remotes; r++) {
			vx->neigh[r] = -1;
			if (vx->ul < 0 || vx->conf.remote[r] == 0) /* 0: a free place */
				continue;
			upc = vqs_conf_port(sw->conf, dp->ports[vx->ul].port->conf.name);
			hop = vqs_ipv4_same_subnet(vx->conf.remote[r], upc->ul.ip, upc->ul.prefix) ?
			      vx->conf.remote[r] : upc->ul.gateway;
			if (hop == 0)
				continue;
			nh = vqs_neigh_want(sw->neigh, (uint16_t)vx->ul, hop);
			if (nh < 0)
				VQS_LOG(WARNING, "port %s: the neighbour table is full (%d next hops)",
					dp->ports[s].port->conf.name, VQS_NEIGH_MAX);
			vx->neigh[r] = (int16_t)nh;
		}
	}
}

int
vqs_dp_publish(struct vqs_switch *sw)
{
	struct vqs_dp *dp, *old;
	unsigned int s, b;
	int rc;

	if (sw->debug_fail_publish > 0) {
		sw->debug_fail_publish--; /* fault injection: as if out of memory */
		return -ENOMEM;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL)
		return -ENOMEM;
	dp->max_frame_len = sw->max_frame_len;
	dp->n_bridges = sw->n_bridges;
	for (b = 0; b < sw->n_bridges; b++)
		dp->bridges[b].fdb = sw->bridges[b]->fdb;
	for (s = 0; s < VQS_MAX_PORTS; s++) {
		struct vqs_port *p = sw->ports[s];
		const struct vqs_port_conf *pc;
		struct vqs_dp_bridge *db;

		if (p == NULL || p->deleting)
			continue;
		pc = vqs_conf_port(sw->conf, p->conf.name);
		b = (unsigned int)vqs_switch_bridge_index(sw, p->conf.bridge);
		dp->ports[s].port = p;
		dp->ports[s].bridge = (uint16_t)b;
		dp->ports[s].vlan = pc != NULL ? pc->vlan : p->conf.vlan;
		dp_underlay(&dp->ports[s].ul, p, pc);
		db = &dp->bridges[b];
		db->ports[db->n_ports++] = (uint16_t)s;
		dp->n_slots = (uint16_t)(s + 1);
	}
	rc = dp_build_rxqs(sw, dp);
	if (rc != 0) {
		vqs_dp_free(dp);
		return rc;
	}
	vqs_neigh_sync_begin(sw->neigh);
	dp_tunnels(sw, dp);
	old = __atomic_exchange_n(&sw->dp, dp, __ATOMIC_ACQ_REL);
	/* A sleeping PMD must see the new queues; after the grace period no
	 * PMD holds the old snapshot. */
	vqs_pmds_wake(sw);
	rte_rcu_qsbr_synchronize(sw->qsv, RTE_QSBR_THRID_INVALID);
	vqs_neigh_sync_end(sw->neigh); /* no PMD holds a snapshot naming the others */
	vqs_dp_free(old);
	return 0;
}
