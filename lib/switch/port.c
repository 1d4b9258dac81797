/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>
#include <string.h>

#include <rte_ethdev.h>

#include "eth_port.h"
#include "offload_sw.h"
#include "pmd.h"
#include "port.h"
#include "vqs_direct.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

const char *const vqs_drop_names[VQS_DROP_MAX] = {
	[VQS_DROP_BAD_FRAME] = "bad_frame",
	[VQS_DROP_NO_DEST] = "no_dest",
	[VQS_DROP_VLAN_FILTERED] = "vlan_filtered",
	[VQS_DROP_TX_FULL] = "tx_full",
	[VQS_DROP_TX_DOWN] = "tx_down",
	[VQS_DROP_NO_MBUF] = "no_mbuf",
	[VQS_DROP_BAD_DESC] = "bad_desc",
	[VQS_DROP_BAD_OFFLOAD] = "bad_offload",
	[VQS_DROP_VXLAN_MALFORMED] = "vxlan_malformed",
	[VQS_DROP_VXLAN_BAD_FLAGS] = "vxlan_bad_flags",
	[VQS_DROP_VXLAN_UNKNOWN_VNI] = "vxlan_unknown_vni",
	[VQS_DROP_VXLAN_UNKNOWN_REMOTE] = "vxlan_unknown_remote",
	[VQS_DROP_NOT_VXLAN] = "not_vxlan",
	[VQS_DROP_TNL_NO_ROUTE] = "tnl_no_route",
	[VQS_DROP_TNL_UNRESOLVED] = "tnl_unresolved",
	[VQS_DROP_TNL_TOO_BIG] = "tnl_too_big",
};

bool
vqs_port_is_up(const struct vqs_port *p)
{
	if (vqs_port_type_is_vhost(p->conf.type))
		return __atomic_load_n(&p->vhost.ready, __ATOMIC_ACQUIRE);
	if (p->conf.type == VQS_PORT_VXLAN)
		return true; /* what it lacks is counted per frame (tnl_*) */
	return p->eth.started;
}

uint8_t
vqs_port_offload_caps(const struct vqs_port *p)
{
	if (p->conf.type == VQS_PORT_ETH)
		return p->eth.ol;
	if (!vqs_port_type_is_vhost(p->conf.type))
		return 0; /* a tunnel: segments before it encapsulates */
	return __atomic_load_n(&p->vhost.ol_guest, __ATOMIC_RELAXED);
}

uint8_t
vqs_port_offload_caps_for(const struct vqs_port *p, uint8_t caps, const struct rte_mbuf *m)
{
	const struct vqs_offload *o = vqs_offload_get(m);

	/* A device's segments must fit its MTU; the guest chose gso_size. */
	if (p->conf.type == VQS_PORT_ETH && o->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	    (uint32_t)o->csum_start - o->l3_off + o->l4_len + o->gso_size > p->eth.mtu)
		return caps & (uint8_t)~(VQS_OL_TSO4 | VQS_OL_TSO6);
	return caps;
}

uint16_t
vqs_port_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, uint32_t max_frame,
	    struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	if (vqs_port_type_is_vhost(p->conf.type))
		return vqs_vhost_rx(p, q, pmd_id, max_frame, pool, pkts, n);
	n = rte_eth_rx_burst(p->eth.port_id, q, pkts, n);
	/* Offloads come from guests' headers only (offload.h): a driver that
	 * left flags of an mbuf's earlier life does not make up one. */
	for (i = 0; i < n; i++)
		pkts[i]->ol_flags &= ~vqs_offload_flag;
	return n;
}

/* m as an mbuf of our own: a copy from pool, m freed. NULL if out of
 * mbufs, counted in st as no_mbuf. */
static struct rte_mbuf *
own_copy(struct rte_mbuf *m, struct rte_mempool *pool, struct vqs_port_stats *st)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);

	rte_pktmbuf_free(m);
	if (c == NULL)
		vqs_count(&st->drops[VQS_DROP_NO_MBUF], 1);
	return c;
}

/* Whether some of m points into guest memory: after its head, which is
 * the switch's own (direct/guest_tx.c), or a tunnel's outer headers. */
static inline bool
in_guest(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (RTE_MBUF_HAS_EXTBUF(m))
			return true;
	return false;
}

/* A frame whose offloads the device takes (vqs_port_offload_caps_for)
 * with them in its mbuf's TX offload flags: on a copy of the switch's
 * alone (not in guest memory; and the flags and the pseudo-header's sum
 * the driver writes would change it for other destinations). NULL if out
 * of mbufs (counted). */
static struct rte_mbuf *
eth_offloads(struct rte_mbuf *m, struct rte_mempool *pool, struct vqs_port_stats *st)
{
	const struct rte_mbuf *s;

	for (s = m; s != NULL; s = s->next)
		if (!RTE_MBUF_DIRECT(s) || rte_mbuf_refcnt_read(s) != 1)
			break;
	if (s != NULL && (m = own_copy(m, pool, st)) == NULL)
		return NULL;
	vqs_offload_to_mbuf(m);
	if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) && (m->ol_flags & RTE_MBUF_F_TX_IPV4))
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM; /* each segment's */
	m->ol_flags &= ~vqs_offload_flag;
	return m;
}

/* A frame with offloads that the device's driver refused
 * (rte_eth_tx_prepare), done in software after all and sent on its own;
 * counted. */
static void
eth_in_software(struct vqs_port *p, struct vqs_pmd *pmd, struct rte_mbuf *m)
{
	struct vqs_port_stats *st = &p->stats[pmd->id];
	struct rte_mbuf *segs[VQS_GSO_MAX_SEGS];
	uint64_t bytes = 0;
	uint16_t n = 0, i;
	int sent;

	vqs_offload_count(st, vqs_offload_resolve(m, 0, pmd->sw->pool, segs, &n));
	if (n == 0)
		return; /* dropped, counted */
	for (i = 0; i < n; i++)
		bytes += segs[i]->pkt_len;
	sent = vqs_eth_tx(p, pmd->id, segs, n);
	for (i = (uint16_t)sent; i < n; i++)
		bytes -= segs[i]->pkt_len;
	vqs_count(&st->tx_packets, (uint64_t)sent);
	vqs_count(&st->tx_bytes, bytes);
	if (sent < n) {
		vqs_count(&st->drops[VQS_DROP_TX_FULL], n - (uint16_t)sent);
		rte_pktmbuf_free_bulk(segs + sent, n - (uint16_t)sent);
	}
}

/*
 * Frames to an ethdev, in one pass. An ethdev keeps what it sends until
 * the hardware is done with it, which may be after the guest's buffer
 * went back to the guest (or the guest went): a frame that points into
 * guest memory (vqs_direct.h) is copied into mbufs of our own first. A
 * frame's offloads (which the device takes: vqs_port_offload_caps_for)
 * go to it in the mbuf's flags (eth_offloads), checked by its driver one
 * frame at a time (rte_eth_tx_prepare, which also writes the
 * pseudo-header sums it wants); one the driver refuses is done in
 * software after all, and sent on its own. Returns how many are left (a
 * copy that finds no mbuf is dropped and counted).
 */
static uint16_t
eth_frames(struct vqs_port *p, struct vqs_pmd *pmd, struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_port_stats *st = &p->stats[pmd->id];
	uint16_t i, k = 0, q = (uint16_t)(pmd->id % p->eth.nb_txq);

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (likely(!vqs_offload_has(m))) {
			if (unlikely(in_guest(m)) && (m = own_copy(m, pmd->sw->pool, st)) == NULL)
				continue;
			pkts[k++] = m;
			continue;
		}
		m = eth_offloads(m, pmd->sw->pool, st);
		if (m == NULL)
			continue;
		if (rte_eth_tx_prepare(p->eth.port_id, q, &m, 1) != 1) {
			vqs_offload_flags_clear(m);
			m->ol_flags |= vqs_offload_flag; /* its offload field is as it was */
			eth_in_software(p, pmd, m);
			continue;
		}
		pkts[k++] = m;
	}
	return k;
}

void
vqs_port_tx(struct vqs_port *p, struct vqs_pmd *pmd, struct rte_mbuf **pkts,
	    uint16_t n)
{
	struct vqs_port_stats *st = &p->stats[pmd->id];
	enum vqs_drop why = VQS_DROP_TX_FULL;
	uint32_t len[VQS_OUT_MAX];
	uint64_t bytes = 0;
	int sent;
	uint16_t i;

	if (vqs_port_type_is_vhost(p->conf.type)) {
		/* The library or the switch's own ring code copies: the mbufs
		 * are ours until freed below. */
		sent = p->vhost.direct != NULL ? vqs_direct_tx(p, pmd->id, pkts, n) :
						 vqs_vhost_tx(p, pmd->id, pkts, n);
		for (i = 0; i < sent; i++)
			bytes += pkts[i]->pkt_len;
	} else {
		n = eth_frames(p, pmd, pkts, n);
		/* Lengths first: an ethdev may free what it sent before it
		 * returns (net_tap, af_packet and ring copy or hand over at
		 * once). */
		for (i = 0; i < n; i++)
			len[i] = pkts[i]->pkt_len;
		sent = vqs_eth_tx(p, pmd->id, pkts, n);
		for (i = 0; i < sent; i++)
			bytes += len[i];
	}
	if (sent < 0) {
		why = VQS_DROP_TX_DOWN;
		sent = 0;
	}
	vqs_count(&st->tx_packets, sent);
	vqs_count(&st->tx_bytes, bytes);
	if (sent < n)
		vqs_count(&st->drops[why], n - sent);
	/* vhost copies every frame; an ethdev owns what it accepted. */
	if (vqs_port_type_is_vhost(p->conf.type))
		rte_pktmbuf_free_bulk(pkts, n);
	else if (sent < n)
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
}

/* Raw sums, without the baseline. */
static void
stats_total(const struct vqs_port *p, uint16_t n_pmds, struct vqs_port_stats *out)
{
	unsigned int i, d;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n_pmds; i++) {
		const struct vqs_port_stats *s = &p->stats[i];

		out->rx_packets += vqs_read(&s->rx_packets);
		out->rx_bytes += vqs_read(&s->rx_bytes);
		out->tx_packets += vqs_read(&s->tx_packets);
		out->tx_bytes += vqs_read(&s->tx_bytes);
		out->fdb_full += vqs_read(&s->fdb_full);
		out->sw_csum += vqs_read(&s->sw_csum);
		out->sw_gso += vqs_read(&s->sw_gso);
		for (d = 0; d < VQS_DROP_MAX; d++)
			out->drops[d] += vqs_read(&s->drops[d]);
	}
}

/* Every counter is a uint64_t, sw_gso the last. */
#define STATS_FIELDS (offsetof(struct vqs_port_stats, sw_gso) / sizeof(uint64_t) + 1)

void
vqs_port_stats_sum(const struct vqs_port *p, uint16_t n_pmds,
		   struct vqs_port_stats *out)
{
	struct vqs_port_stats now;

	stats_total(p, n_pmds, &now);
	memset(out, 0, sizeof(*out));
	vqs_counters_since((const uint64_t *)&now, (const uint64_t *)&p->base,
			   (uint64_t *)out, STATS_FIELDS);
}

static uint64_t
device_missed(const struct vqs_port *p)
{
	struct rte_eth_stats st;

	if (p->conf.type != VQS_PORT_ETH || !p->eth.started ||
	    rte_eth_stats_get(p->eth.port_id, &st) != 0)
		return 0;
	return st.imissed;
}

uint64_t
vqs_port_rx_missed(const struct vqs_port *p)
{
	uint64_t now = device_missed(p);

	return p->conf.type != VQS_PORT_ETH ? 0 :
	       now - RTE_MIN(now, __atomic_load_n(&p->eth.missed_base, __ATOMIC_RELAXED));
}

/* A tunnel port's counters per remote (struct vqs_vxlan_state): here with
 * the port's other counters, so that clearing a port's counters clears
 * them too without port.c calling into tunnel.c, which sends through
 * port.c (vqs_port_tx on the underlay): the two depended on each other. */
static void
remote_total(const struct vqs_port *p, uint16_t n_pmds, uint16_t r,
	     struct vqs_tnl_remote_stats *out)
{
	uint16_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; p->vx.remote != NULL && i < n_pmds; i++) {
		const struct vqs_tnl_remote_stats *s = &p->vx.remote[i][r];

		out->rx_packets += vqs_read(&s->rx_packets);
		out->rx_bytes += vqs_read(&s->rx_bytes);
		out->tx_packets += vqs_read(&s->tx_packets);
		out->tx_bytes += vqs_read(&s->tx_bytes);
		out->tx_flooded += vqs_read(&s->tx_flooded);
	}
}

#define REMOTE_FIELDS (sizeof(struct vqs_tnl_remote_stats) / sizeof(uint64_t))

void
vqs_tnl_remote_stats(const struct vqs_port *p, uint16_t n_pmds, uint16_t r,
		     struct vqs_tnl_remote_stats *out)
{
	struct vqs_tnl_remote_stats now;

	remote_total(p, n_pmds, r, &now);
	vqs_counters_since((const uint64_t *)&now, (const uint64_t *)&p->vx.base[r],
			   (uint64_t *)out, REMOTE_FIELDS);
}

void
vqs_tnl_remote_stats_rebase(struct vqs_port *p, uint16_t n_pmds, uint16_t r)
{
	struct vqs_tnl_remote_stats now;

	remote_total(p, n_pmds, r, &now);
	vqs_counters_rebase((const uint64_t *)&now, (uint64_t *)&p->vx.base[r], REMOTE_FIELDS);
}

void
vqs_tnl_remote_stats_clear(struct vqs_port *p, uint16_t n_pmds)
{
	uint16_t r;

	for (r = 0; r < VQS_VXLAN_MAX_REMOTES; r++)
		vqs_tnl_remote_stats_rebase(p, n_pmds, r);
}

void
vqs_port_stats_clear(struct vqs_port *p, uint16_t n_pmds)
{
	struct vqs_port_stats now;

	stats_total(p, n_pmds, &now);
	vqs_counters_rebase((const uint64_t *)&now, (uint64_t *)&p->base, STATS_FIELDS);
	if (p->conf.type == VQS_PORT_ETH)
		__atomic_store_n(&p->eth.missed_base, device_missed(p), __ATOMIC_RELAXED);
	if (p->conf.type == VQS_PORT_VXLAN)
		vqs_tnl_remote_stats_clear(p, n_pmds);
}
