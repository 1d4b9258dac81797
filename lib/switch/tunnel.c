/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "dp.h"
#include "neigh.h"
#include "pmd.h"
#include "tunnel.h"
#include "vqs_switch.h"

#define VXLAN_FLAG_I   RTE_BE32(0x08000000) /* "a valid VNI" */
#define SRC_PORT_MIN   49152u               /* RFC 7348: the dynamic range */
#define SRC_PORT_RANGE 16384u
/* The flags that say what an mbuf is, not what was done to its data. */
#define MBUF_KIND      (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)

struct outer_hdr {
	struct rte_ether_hdr eth;
	struct rte_ipv4_hdr ip;
	struct rte_udp_hdr udp;
	struct rte_vxlan_hdr vxlan;
} __rte_packed __rte_aligned(2);

_Static_assert(sizeof(struct outer_hdr) == VQS_VXLAN_OVERHEAD, "outer headers");

struct arp_frame {
	struct rte_ether_hdr eth;
	struct rte_arp_hdr arp;
} __rte_packed __rte_aligned(2);

static inline void
count_drop(struct vqs_port *p, struct vqs_pmd *pmd, enum vqs_drop why, uint64_t n)
{
	vqs_count(&p->stats[pmd->id].drops[why], n);
}

/* An ARP request from the underlay port for ip, sent at once. */
static void
arp_ask(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t ul_slot, uint32_t ip)
{
	const struct vqs_dp_underlay *ul = &dp->ports[ul_slot].ul;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pmd->sw->pool);
	struct arp_frame *f;

	if (m == NULL)
		return;
	f = (struct arp_frame *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (f == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(f, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	memset(&f->eth.dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	f->eth.src_addr = ul->mac;
	f->eth.ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	f->arp.arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	f->arp.arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	f->arp.arp_hlen = RTE_ETHER_ADDR_LEN;
	f->arp.arp_plen = sizeof(uint32_t);
	f->arp.arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	f->arp.arp_data.arp_sha = ul->mac;
	f->arp.arp_data.arp_sip = ul->ip;
	f->arp.arp_data.arp_tip = ip;
	vqs_port_tx(dp->ports[ul_slot].port, pmd, &m, 1);
}

enum rx_verdict { RX_KEEP, RX_TAKEN };

/* An ARP frame on an underlay port: its sender learned if it is a next
 * hop; a request for our address answered in place; a reply to us
 * consumed; anything else switched. */
static enum rx_verdict
arp_in(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct rte_mbuf *m,
       uint64_t now)
{
	const struct vqs_dp_underlay *ul = &dp->ports[slot].ul;
	struct arp_frame *f = rte_pktmbuf_mtod(m, struct arp_frame *);
	struct rte_arp_ipv4 *a = &f->arp.arp_data;
	struct rte_ether_addr sha;

	if (m->data_len < sizeof(*f) || f->arp.arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    f->arp.arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    f->arp.arp_hlen != RTE_ETHER_ADDR_LEN || f->arp.arp_plen != sizeof(uint32_t))
		return RX_KEEP;
	sha = a->arp_sha;
	if (a->arp_sip != ul->ip)
		vqs_neigh_learn(dp->neigh, slot, a->arp_sip, &sha, now);
	if (a->arp_tip != ul->ip || a->arp_sip == ul->ip)
		return RX_KEEP;
	if (f->arp.arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) ||
	    !rte_is_valid_assigned_ether_addr(&sha)) {
		rte_pktmbuf_free(m);
		return RX_TAKEN;
	}
	/* The reply, in the request's own mbuf (an ethdev's: direct, ours). */
	f->eth.dst_addr = sha;
	f->eth.src_addr = ul->mac;
	f->arp.arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	a->arp_tha = sha;
	a->arp_tip = a->arp_sip;
	a->arp_sha = ul->mac;
	a->arp_sip = ul->ip;
	vqs_port_tx(dp->ports[slot].port, pmd, &m, 1);
	return RX_TAKEN;
}

/* The tunnel port in dp with this local address, UDP port and VNI, or -1;
 * *port_known whether any has the address and UDP port. */
static int
find_vxlan(const struct vqs_dp *dp, uint32_t local_ip, uint16_t udp_port, uint32_t vni,
	   bool *port_known)
{
	uint16_t k;

	*port_known = false;
	for (k = 0; k < dp->n_vx; k++) {
		const struct vqs_vxlan_conf *c = &dp->ports[dp->vx_slots[k]].vx.conf;

		if (c->local_ip != local_ip || c->dst_port != udp_port)
			continue;
		*port_known = true;
		if (c->vni == vni)
			return dp->vx_slots[k];
	}
	return -1;
}

/* IPv4 for the underlay port's address: decapsulated into *d, or why not. */
static enum vqs_drop
decap(const struct vqs_dp *dp, struct rte_mbuf *m, struct vqs_tnl_rx *d)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								sizeof(struct rte_ether_hdr));
	uint32_t ihl = (uint32_t)(ip->version_ihl & 0xf) * 4, total, inner;
	const struct rte_udp_hdr *udp;
	const struct rte_vxlan_hdr *vh;
	const struct vqs_vxlan_conf *c;
	bool port_known;
	uint16_t r;
	int vx;

	if ((ip->version_ihl >> 4) != 4 || ihl < sizeof(*ip) ||
	    m->data_len < sizeof(struct rte_ether_hdr) + ihl)
		return VQS_DROP_VXLAN_MALFORMED;
	if (ip->next_proto_id != IPPROTO_UDP)
		return VQS_DROP_NOT_VXLAN;
	total = rte_be_to_cpu_16(ip->total_length);
	if ((rte_be_to_cpu_16(ip->fragment_offset) &
	     (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    m->data_len < sizeof(struct rte_ether_hdr) + ihl + sizeof(*udp) ||
	    total < ihl + sizeof(*udp) || sizeof(struct rte_ether_hdr) + total > m->pkt_len)
		return VQS_DROP_VXLAN_MALFORMED;
	udp = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	/* The VNI is not read yet: is it VXLAN at all? */
	find_vxlan(dp, ip->dst_addr, rte_be_to_cpu_16(udp->dst_port), UINT32_MAX, &port_known);
	if (!port_known)
		return VQS_DROP_NOT_VXLAN;
	if (total < ihl + sizeof(*udp) + sizeof(*vh) + RTE_ETHER_HDR_LEN ||
	    m->data_len < sizeof(struct rte_ether_hdr) + ihl + sizeof(*udp) + sizeof(*vh) ||
	    rte_be_to_cpu_16(udp->dgram_len) != total - ihl)
		return VQS_DROP_VXLAN_MALFORMED;
	vh = (const struct rte_vxlan_hdr *)(udp + 1);
	if (!(vh->vx_flags & VXLAN_FLAG_I))
		return VQS_DROP_VXLAN_BAD_FLAGS;
	vx = find_vxlan(dp, ip->dst_addr, rte_be_to_cpu_16(udp->dst_port),
			rte_be_to_cpu_32(vh->vx_vni) >> 8, &port_known);
	if (vx < 0)
		return VQS_DROP_VXLAN_UNKNOWN_VNI;
	c = &dp->ports[vx].vx.conf;
	for (r = 0; r < c->n_remotes && c->remote[r] != ip->src_addr; r++)
		;
	/* 0 is a free place in the list (an EVPN remote gone), no remote. */
	if (r == c->n_remotes || ip->src_addr == 0)
		return VQS_DROP_VXLAN_UNKNOWN_REMOTE;
	inner = total - ihl - (uint32_t)(sizeof(*udp) + sizeof(*vh));
	rte_pktmbuf_adj(m, (uint16_t)(sizeof(struct rte_ether_hdr) + ihl + sizeof(*udp) +
				      sizeof(*vh)));
	if (m->pkt_len > inner) /* the underlay's padding */
		rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - inner));
	m->ol_flags &= MBUF_KIND; /* the NIC's flags were about the outer packet */
	d->m = m;
	d->slot = (uint16_t)vx;
	d->rmt1 = (uint8_t)(r + 1);
	return VQS_DROP_MAX;
}

uint16_t
vqs_tnl_rx(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct rte_mbuf **pkts,
	   uint16_t n, struct vqs_tnl_rx *dec, uint16_t *n_dec, uint64_t now)
{
	const struct vqs_dp_underlay *ul = &dp->ports[slot].ul;
	struct vqs_port *p = dp->ports[slot].port;
	uint16_t i, kept = 0;
	enum vqs_drop why;

	*n_dec = 0;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		if (m->data_len >= sizeof(*eth) + sizeof(struct rte_arp_hdr) &&
		    eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
			if (arp_in(dp, pmd, slot, m, now) == RX_KEEP)
				pkts[kept++] = m;
			continue;
		}
		if (m->data_len < sizeof(*eth) + sizeof(*ip) ||
		    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ip->dst_addr != ul->ip) {
			pkts[kept++] = m;
			continue;
		}
		why = decap(dp, m, &dec[*n_dec]);
		if (why == VQS_DROP_MAX) {
			(*n_dec)++;
		} else {
			count_drop(p, pmd, why, 1);
			rte_pktmbuf_free(m);
		}
	}
	return kept;
}

/* The inner flow's fields (addresses, and ports of unfragmented TCP and
 * UDP over IPv4) hashed into the outer UDP source port, so that the
 * underlay's ECMP spreads flows and keeps each one on one path. */
static uint16_t
flow_src_port(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t h = rte_hash_crc(eth, 2 * RTE_ETHER_ADDR_LEN + sizeof(eth->ether_type), 0);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	uint32_t ihl;

	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
	    m->data_len >= sizeof(*eth) + sizeof(*ip)) {
		h = rte_hash_crc_4byte(ip->src_addr, h);
		h = rte_hash_crc_4byte(ip->dst_addr, h);
		h = rte_hash_crc_1byte(ip->next_proto_id, h);
		ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
		if ((ip->next_proto_id == IPPROTO_TCP || ip->next_proto_id == IPPROTO_UDP) &&
		    (rte_be_to_cpu_16(ip->fragment_offset) &
		     (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) == 0 &&
		    ihl >= sizeof(*ip) && m->data_len >= sizeof(*eth) + ihl + 4) {
			uint32_t ports;

			memcpy(&ports, (const uint8_t *)ip + ihl, sizeof(ports));
			h = rte_hash_crc_4byte(ports, h);
		}
	}
	return (uint16_t)(SRC_PORT_MIN + h % SRC_PORT_RANGE);
}

/* The inner IPv4 header's TOS (tos=inherit), 0 for anything else. */
static uint8_t
inner_tos(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    m->data_len < sizeof(*eth) + sizeof(struct rte_ipv4_hdr))
		return 0;
	return ((const struct rte_ipv4_hdr *)(eth + 1))->type_of_service;
}

/*
 * One frame for remote r: the packet to send on the underlay, or NULL and
 * *why. The frame itself gets the outer headers (*used) when it is the
 * last use of it, an mbuf of ours not shared with other destinations and
 * with the room in front; else a copy does.
 */
static struct rte_mbuf *
encap(const struct vqs_dp *dp, struct vqs_pmd *pmd, const struct vqs_dp_vxlan *vx, uint16_t r,
      struct rte_mbuf *m, bool last, uint64_t now, bool *used, enum vqs_drop *why)
{
	const struct vqs_dp_underlay *ul = &dp->ports[vx->ul].ul;
	const struct vqs_vxlan_conf *c = &vx->conf;
	uint32_t inner = m->pkt_len;
	struct rte_ether_addr mac;
	struct outer_hdr *h;
	struct rte_mbuf *o;
	bool refresh, known;
	uint16_t src_port;
	uint8_t tos;

	if (vx->neigh[r] < 0) {
		*why = VQS_DROP_TNL_NO_ROUTE;
		return NULL;
	}
	known = vqs_neigh_get(&dp->neigh->e[vx->neigh[r]], now, rte_get_tsc_hz(), &mac, &refresh);
	if (refresh && vqs_neigh_may_ask(&dp->neigh->e[vx->neigh[r]], now, rte_get_tsc_hz()))
		arp_ask(dp, pmd, (uint16_t)vx->ul, dp->neigh->e[vx->neigh[r]].ip);
	if (!known) {
		*why = VQS_DROP_TNL_UNRESOLVED;
		return NULL;
	}
	if (inner + VQS_VXLAN_OVERHEAD - sizeof(struct rte_ether_hdr) > ul->mtu) {
		*why = VQS_DROP_TNL_TOO_BIG;
		return NULL;
	}
	/* From the inner headers, before the outer ones may go in front. */
	src_port = flow_src_port(m);
	tos = c->tos == VQS_TOS_INHERIT ? inner_tos(m) : (uint8_t)c->tos;
	if (last && RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 &&
	    rte_pktmbuf_headroom(m) >= VQS_VXLAN_OVERHEAD) {
		o = m;
		*used = true;
	} else {
		o = rte_pktmbuf_copy(m, pmd->sw->pool, 0, UINT32_MAX);
		if (o == NULL) {
			*why = VQS_DROP_NO_MBUF;
			return NULL;
		}
	}
	h = (struct outer_hdr *)rte_pktmbuf_prepend(o, VQS_VXLAN_OVERHEAD);
	h->eth.dst_addr = mac;
	h->eth.src_addr = ul->mac;
	h->eth.ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	h->ip.version_ihl = RTE_IPV4_VHL_DEF;
	h->ip.type_of_service = tos;
	h->ip.total_length = rte_cpu_to_be_16((uint16_t)(inner + VQS_VXLAN_OVERHEAD -
							 sizeof(struct rte_ether_hdr)));
	h->ip.packet_id = 0; /* DF: never fragmented (RFC 6864) */
	h->ip.fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	h->ip.time_to_live = c->ttl;
	h->ip.next_proto_id = IPPROTO_UDP;
	h->ip.src_addr = c->local_ip;
	h->ip.dst_addr = c->remote[r];
	h->ip.hdr_checksum = 0;
	h->udp.src_port = rte_cpu_to_be_16(src_port);
	h->udp.dst_port = rte_cpu_to_be_16(c->dst_port);
	h->udp.dgram_len = rte_cpu_to_be_16((uint16_t)(inner + sizeof(h->udp) + sizeof(h->vxlan)));
	h->udp.dgram_cksum = 0; /* optional over IPv4 (RFC 7348 5.) */
	h->vxlan.vx_flags = VXLAN_FLAG_I;
	h->vxlan.vx_vni = rte_cpu_to_be_32(c->vni << 8);
	o->ol_flags &= MBUF_KIND;
	if (ul->ipv4_cksum) { /* the device fills in hdr_checksum */
		o->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		o->l2_len = sizeof(h->eth);
		o->l3_len = sizeof(h->ip);
	} else {
		h->ip.hdr_checksum = rte_ipv4_cksum(&h->ip);
	}
	return o;
}

void
vqs_tnl_tx(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot, struct rte_mbuf **pkts,
	   const uint8_t *rmt1, uint16_t n)
{
	const struct vqs_dp_vxlan *vx = &dp->ports[slot].vx;
	struct vqs_port *p = dp->ports[slot].port, *ulp;
	struct vqs_tnl_remote_stats *rs = p->vx.remote[pmd->id];
	struct vqs_port_stats *st = &p->stats[pmd->id];
	struct rte_mbuf *out[VQS_OUT_MAX], *o;
	uint64_t now = rte_rdtsc();
	uint16_t i, r, first, end, k = 0;
	enum vqs_drop why;
	uint32_t len;
	bool used, flood;

	if (vx->ul < 0 || !vqs_port_is_up(dp->ports[vx->ul].port)) {
		count_drop(p, pmd, VQS_DROP_TNL_NO_ROUTE, n);
		rte_pktmbuf_free_bulk(pkts, n);
		return;
	}
	ulp = dp->ports[vx->ul].port;
	for (i = 0; i < n; i++) {
		/* An entry names a remote of this port (its slot's entries go
		 * with it); anything else would be every remote. */
		flood = rmt1[i] == 0 || rmt1[i] > vx->conf.n_remotes;
		first = flood ? 0 : rmt1[i] - 1;
		end = flood ? vx->conf.n_remotes : rmt1[i];
		len = pkts[i]->pkt_len;
		used = false;
		for (r = first; r < end; r++) {
			if (vx->conf.remote[r] == 0) { /* a free place (tunnel.h) */
				if (!flood) /* an entry the flush has not reached yet */
					count_drop(p, pmd, VQS_DROP_TNL_NO_ROUTE, 1);
				continue;
			}
			if (k == RTE_DIM(out)) {
				vqs_port_tx(ulp, pmd, out, k);
				k = 0;
			}
			o = encap(dp, pmd, vx, r, pkts[i], r + 1 == end, now, &used, &why);
			if (o == NULL) {
				count_drop(p, pmd, why, 1);
				continue;
			}
			out[k++] = o;
			vqs_count(&rs[r].tx_packets, 1);
			vqs_count(&rs[r].tx_bytes, len);
			if (flood)
				vqs_count(&rs[r].tx_flooded, 1);
			vqs_count(&st->tx_packets, 1);
			vqs_count(&st->tx_bytes, len);
		}
		if (!used)
			rte_pktmbuf_free(pkts[i]);
	}
	if (k > 0)
		vqs_port_tx(ulp, pmd, out, k);
}

const char *
vqs_tnl_remote_str(const struct vqs_port *p, uint16_t dest, char *buf, size_t len)
{
	uint16_t rmt1 = VQS_FDB_RMT1(dest);

	buf[0] = '\0';
	if (p != NULL && p->conf.type == VQS_PORT_VXLAN && rmt1 != 0 &&
	    rmt1 <= p->conf.vx.n_remotes && p->conf.vx.remote[rmt1 - 1] != 0)
		vqs_ipv4_str(p->conf.vx.remote[rmt1 - 1], buf, len);
	return buf;
}

int
vqs_tnl_remote_index(const struct vqs_port *p, uint32_t ip)
{
	uint16_t r;

	for (r = 0; ip != 0 && r < p->conf.vx.n_remotes; r++)
		if (p->conf.vx.remote[r] == ip)
			return r;
	return -ENOENT;
}

int
vqs_tnl_remote_add(struct vqs_switch *sw, struct vqs_port *p, uint32_t ip)
{
	struct vqs_vxlan_conf *c = &p->conf.vx;
	int r = vqs_tnl_remote_index(p, ip);

	if (r >= 0)
		return r;
	if (ip == 0 || ip == c->local_ip)
		return -EINVAL;
	for (r = p->vx.n_static; r < c->n_remotes && c->remote[r] != 0; r++)
		;
	if (r == VQS_VXLAN_MAX_REMOTES)
		return -ENOSPC;
	pthread_mutex_lock(&sw->lock);
	/* A place used before: its counters start again from 0. */
	vqs_tnl_remote_stats_rebase(p, sw->n_pmds, (uint16_t)r);
	c->remote[r] = ip;
	if (r == c->n_remotes)
		c->n_remotes++;
	pthread_mutex_unlock(&sw->lock);
	return r;
}

int
vqs_tnl_remote_del(struct vqs_switch *sw, struct vqs_port *p, uint32_t ip)
{
	struct vqs_vxlan_conf *c = &p->conf.vx;
	int r = vqs_tnl_remote_index(p, ip);

	if (r < 0 || r < p->vx.n_static)
		return r < 0 ? r : -EPERM;
	/* The places after it keep their indexes: the MAC table has them. */
	pthread_mutex_lock(&sw->lock);
	c->remote[r] = 0;
	while (c->n_remotes > p->vx.n_static && c->remote[c->n_remotes - 1] == 0)
		c->n_remotes--;
	pthread_mutex_unlock(&sw->lock);
	return r;
}

int
vqs_tnl_port_start(struct vqs_port *p, uint16_t n_pmds)
{
	p->vx.n_static = p->conf.vx.n_remotes;
	p->vx.remote = rte_zmalloc("tnl_stats", n_pmds * sizeof(*p->vx.remote),
				   RTE_CACHE_LINE_SIZE);
	return p->vx.remote == NULL ? -ENOMEM : 0;
}

void
vqs_tnl_port_stop(struct vqs_port *p)
{
	rte_free(p->vx.remote);
	p->vx.remote = NULL;
}
