/* SPDX-License-Identifier: BSD-3-Clause
 * A guest's virtio-net header checked against the frame it came with, and
 * the header a receiver gets. The rules: docs/offloads.md.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#define VQS_LOG_MODULE VQS_LOG_VHOST

#include "offload.h"
#include "port.h"
#include "ratelimit.h"

int vqs_offload_field = -1;
uint64_t vqs_offload_flag;

const char *const vqs_ol_error_names[] = {
	[VQS_OL_OK] = "ok",
	[VQS_OL_BAD_FLAGS] = "bad flags",
	[VQS_OL_NOT_OFFERED] = "an offload not negotiated",
	[VQS_OL_BAD_CSUM] = "bad csum_start or csum_offset",
	[VQS_OL_BAD_GSO] = "bad GSO",
};

int
vqs_offload_init(void)
{
	static const struct rte_mbuf_dynfield field = {
		.name = "vqs_offload",
		.size = sizeof(struct vqs_offload),
		.align = __alignof__(struct vqs_offload),
	};
	static const struct rte_mbuf_dynflag flag = { .name = "vqs_offload_set" };
	int off, bit;

	if (vqs_offload_field >= 0)
		return 0;
	off = rte_mbuf_dynfield_register(&field);
	bit = off < 0 ? -1 : rte_mbuf_dynflag_register(&flag);
	if (off < 0 || bit < 0)
		return -rte_errno;
	vqs_offload_field = off;
	vqs_offload_flag = 1ULL << bit;
	return 0;
}

/* The frame's headers as far as they are in its first mbuf. */
struct parsed {
	uint16_t l2_end;   /* after the Ethernet header and its VLAN tags */
	uint16_t l3_off;   /* 0: not IPv4 or IPv6 */
	uint8_t ip_ver;
	uint8_t l4_proto;  /* 0: no TCP or UDP header whole in the mbuf */
	uint16_t l4_off;
	uint16_t l4_len;
	bool fragment;     /* IPv4 MF or a fragment offset */
};

static uint16_t
be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ethernet, up to two 802.1Q/802.1ad tags, IPv4 or IPv6 (no extension
 * headers), TCP or UDP: as much of it as lies in the len bytes at p. */
static void
parse(const uint8_t *p, uint32_t len, struct parsed *x)
{
	uint32_t off = 12, l4;
	uint16_t type;
	int tags = 0;

	memset(x, 0, sizeof(*x));
	if (len < RTE_ETHER_HDR_LEN)
		return;
	type = be16_at(p + off);
	while ((type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) && tags++ < 2) {
		off += 4;
		if (off + 2 > len)
			return;
		type = be16_at(p + off);
	}
	off += 2;
	x->l2_end = (uint16_t)off;
	if (type == RTE_ETHER_TYPE_IPV4 && off + sizeof(struct rte_ipv4_hdr) <= len &&
	    (p[off] >> 4) == 4 && (p[off] & 0xf) >= 5) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + off);

		l4 = off + (uint32_t)(p[off] & 0xf) * 4;
		x->fragment = (be16_at((const uint8_t *)&ip->fragment_offset) &
			       (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0;
		x->ip_ver = 4;
		x->l4_proto = ip->next_proto_id;
	} else if (type == RTE_ETHER_TYPE_IPV6 && off + sizeof(struct rte_ipv6_hdr) <= len &&
		   (p[off] >> 4) == 6) {
		l4 = off + sizeof(struct rte_ipv6_hdr);
		x->ip_ver = 6;
		x->l4_proto = ((const struct rte_ipv6_hdr *)(p + off))->proto;
	} else {
		return;
	}
	x->l3_off = (uint16_t)off;
	x->l4_off = (uint16_t)l4;
	if (x->l4_proto == IPPROTO_TCP && l4 + sizeof(struct rte_tcp_hdr) <= len &&
	    (p[l4 + 12] >> 4) >= 5 && l4 + (uint32_t)(p[l4 + 12] >> 4) * 4 <= len)
		x->l4_len = (uint16_t)((p[l4 + 12] >> 4) * 4);
	else if (x->l4_proto == IPPROTO_UDP && l4 + sizeof(struct rte_udp_hdr) <= len)
		x->l4_len = sizeof(struct rte_udp_hdr);
	else
		x->l4_proto = 0;
}

/* NEEDS_CSUM: inside the frame, after its Ethernet header; and where the
 * frame has a TCP or UDP header at csum_start, at its checksum. */
static enum vqs_ol_error
check_csum(const struct virtio_net_hdr *h, uint32_t pkt_len, const struct parsed *x,
	   struct vqs_offload *o)
{
	uint32_t start = h->csum_start, off = h->csum_offset;

	if (start < x->l2_end || x->l2_end == 0 || start + off + 2 > pkt_len)
		return VQS_OL_BAD_CSUM;
	o->csum_start = (uint16_t)start;
	o->csum_offset = (uint16_t)off;
	if (x->l4_proto != 0 && start == x->l4_off) {
		if (off != (x->l4_proto == IPPROTO_TCP ? offsetof(struct rte_tcp_hdr, cksum) :
			    offsetof(struct rte_udp_hdr, dgram_cksum)))
			return VQS_OL_BAD_CSUM;
		o->l4_proto = x->l4_proto;
		o->l4_len = (uint8_t)x->l4_len;
	}
	o->l3_off = (uint8_t)x->l3_off;
	o->ip_ver = x->ip_ver;
	return VQS_OL_OK;
}

/* TCPV4/TCPV6: TCP of that IP version at csum_start, not a fragment,
 * with payload; its segments no longer than max_frame, and not more
 * than the switch makes in software. */
static enum vqs_ol_error
check_gso(const struct virtio_net_hdr *h, uint32_t pkt_len, const struct parsed *x,
	  uint32_t max_frame, struct vqs_offload *o)
{
	uint32_t hdrs, payload, segs;

	if (o->l4_proto != IPPROTO_TCP || x->fragment ||
	    x->ip_ver != (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? 4 : 6) || h->gso_size == 0)
		return VQS_OL_BAD_GSO;
	hdrs = (uint32_t)x->l4_off + x->l4_len;
	if (pkt_len <= hdrs || hdrs + h->gso_size > max_frame)
		return VQS_OL_BAD_GSO;
	payload = pkt_len - hdrs;
	segs = (payload + h->gso_size - 1) / h->gso_size;
	if (segs > VQS_GSO_MAX_SEGS)
		return VQS_OL_BAD_GSO;
	if (segs > 1) { /* one segment: a frame with a partial checksum */
		o->gso_type = h->gso_type;
		o->gso_size = h->gso_size;
	}
	return VQS_OL_OK;
}

enum vqs_ol_error
vqs_offload_take(struct rte_mbuf *m, const struct virtio_net_hdr *h, uint8_t allowed,
		 uint32_t max_frame)
{
	struct vqs_offload o = { 0 };
	uint8_t gso = h->gso_type;
	enum vqs_ol_error e;
	struct parsed x;

	m->ol_flags &= ~vqs_offload_flag;
	if (!vqs_offload_asked(h))
		return VQS_OL_OK;
	/* DATA_VALID and RSC_INFO are the device's to set (virtio 1.2,
	 * 5.1.6.2.1), never the driver's. */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return VQS_OL_BAD_FLAGS;
	if (!(allowed & VQS_OL_CSUM) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV4 && !(allowed & VQS_OL_TSO4)) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !(allowed & VQS_OL_TSO6)) ||
	    (gso != VIRTIO_NET_HDR_GSO_NONE && gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
	     gso != VIRTIO_NET_HDR_GSO_TCPV6))
		return VQS_OL_NOT_OFFERED;
	/* Linux sets NEEDS_CSUM on every GSO frame; segments need it. */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return VQS_OL_BAD_GSO;
	parse(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &x);
	e = check_csum(h, m->pkt_len, &x, &o);
	if (e == VQS_OL_OK && gso != VIRTIO_NET_HDR_GSO_NONE)
		e = check_gso(h, m->pkt_len, &x, max_frame, &o);
	if (e != VQS_OL_OK)
		return e;
	*vqs_offload_of(m) = o;
	m->ol_flags |= vqs_offload_flag;
	return VQS_OL_OK;
}

#define MBUF_TX_FLAGS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG | \
		       RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM)

void
vqs_offload_flags_clear(struct rte_mbuf *m)
{
	m->ol_flags &= ~MBUF_TX_FLAGS;
}

void
vqs_offload_to_mbuf(struct rte_mbuf *m)
{
	const struct vqs_offload *o = vqs_offload_get(m);

	/* A TCP or UDP header at csum_start behind IPv4 or IPv6: parsed
	 * (vqs_offload_needs has no VQS_OL_CSUM_ANY). */
	m->l2_len = o->l3_off;
	m->l3_len = (uint16_t)(o->csum_start - o->l3_off);
	m->l4_len = o->l4_len;
	m->tso_segsz = o->gso_size;
	m->ol_flags |= (o->l4_proto == IPPROTO_UDP ? RTE_MBUF_F_TX_UDP_CKSUM : RTE_MBUF_F_TX_TCP_CKSUM) |
		       (o->ip_ver == 4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6);
	if (o->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
}

bool
vqs_offload_from_mbuf(struct rte_mbuf *m, struct virtio_net_hdr *h)
{
	uint64_t f = m->ol_flags;

	memset(h, 0, sizeof(*h));
	vqs_offload_flags_clear(m);
	if (!(f & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_UDP_SEG)))
		return true;
	if ((f & RTE_MBUF_F_TX_UDP_SEG) || ((f & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_TCP_CKSUM &&
					     (f & RTE_MBUF_F_TX_L4_MASK) != RTE_MBUF_F_TX_UDP_CKSUM))
		return false; /* UFO, SCTP: never offered */
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)(m->l2_len + m->l3_len);
	h->csum_offset = (f & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_UDP_CKSUM ?
			 offsetof(struct rte_udp_hdr, dgram_cksum) : offsetof(struct rte_tcp_hdr, cksum);
	if (f & RTE_MBUF_F_TX_TCP_SEG) {
		h->gso_type = (f & RTE_MBUF_F_TX_IPV4) ? VIRTIO_NET_HDR_GSO_TCPV4 :
							 VIRTIO_NET_HDR_GSO_TCPV6;
		h->gso_size = m->tso_segsz;
	}
	return true;
}

bool
vqs_offload_take_or_drop(const struct vqs_port *p, struct vqs_port_stats *st, struct rte_mbuf *m,
			 const struct virtio_net_hdr *h, uint8_t allowed, uint32_t max_frame)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	enum vqs_ol_error e = vqs_offload_take(m, h, allowed, max_frame);

	if (e == VQS_OL_OK)
		return true;
	VQS_LOG_RL(&rl, WARNING, "port %s: a frame's virtio-net header: %s: dropped", p->conf.name,
		   vqs_ol_error_names[e]);
	vqs_count(&st->rx_packets, 1);
	vqs_count(&st->rx_bytes, m->pkt_len);
	vqs_count(&st->drops[VQS_DROP_BAD_OFFLOAD], 1);
	rte_pktmbuf_free(m);
	return false;
}

void
vqs_offload_hdr(const struct rte_mbuf *m, struct virtio_net_hdr *h)
{
	const struct vqs_offload *o = vqs_offload_get(m);

	memset(h, 0, sizeof(*h));
	if (!vqs_offload_has(m))
		return;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = o->csum_start;
	h->csum_offset = o->csum_offset;
	if (o->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		h->gso_type = o->gso_type;
		h->gso_size = o->gso_size;
		h->hdr_len = (uint16_t)(o->csum_start + o->l4_len);
	}
}
