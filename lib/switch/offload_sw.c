/* SPDX-License-Identifier: BSD-3-Clause
 * Offloads done in software (offload_sw.h).
 *
 * Segmentation is our own rather than librte_gso's: rte_gso covers TCP
 * over IPv4 only, leaves every checksum to be computed afterwards, and
 * hands out segments that point into the frame (which may be in a
 * guest's memory); here each segment is copied once into mbufs of the
 * switch, its headers fixed and its checksums computed, for IPv4 and
 * IPv6 alike, as Linux's tcp_gso_segment makes them: sequence numbers
 * advanced by the payload before, FIN and PSH only on the last segment,
 * CWR only on the first, IPv4 identifiers counted up from the frame's.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "offload_sw.h"
#include "port.h"

/* Byte off of m (off < pkt_len): its mbuf and where in it. */
static uint8_t *
byte_at(struct rte_mbuf *m, uint32_t off)
{
	while (off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	return rte_pktmbuf_mtod_offset(m, uint8_t *, off);
}

/*
 * The one's complement sum of bytes [off, pkt_len) of m, in the byte
 * order rte_raw_cksum reads them. Not rte_raw_cksum_mbuf: DPDK 22.11's
 * cuts a piece's 32-bit sum to 16 bits before it swaps the bytes of a
 * piece that starts at an odd count, and the carries are lost (a wrong
 * checksum for a csum_start that is odd, over more than one mbuf).
 */
static uint16_t
sum_from(const struct rte_mbuf *m, uint32_t off)
{
	uint32_t sum = 0, done = 0;

	for (; m != NULL; m = m->next) {
		uint32_t len;
		uint16_t part;

		if (off >= m->data_len) {
			off -= m->data_len;
			continue;
		}
		len = m->data_len - off;
		part = __rte_raw_cksum_reduce(__rte_raw_cksum(rte_pktmbuf_mtod_offset(m, const void *,
										     off),
							      len, 0));
		sum += (done & 1) ? rte_bswap16(part) : part;
		done += len;
		off = 0;
	}
	return __rte_raw_cksum_reduce(sum);
}

/* The partial checksum at start + offset (it holds the pseudo-header's
 * sum, as NEEDS_CSUM says) completed over [start, pkt_len). m is ours. */
static void
complete(struct rte_mbuf *m, uint32_t start, uint32_t offset)
{
	uint16_t ck = (uint16_t)~sum_from(m, start);

	if (ck == 0) /* as Linux's skb_checksum_help: 0 means "none" for UDP */
		ck = 0xffff;
	/* A 16-bit field may straddle two mbufs of a copy. */
	*byte_at(m, start + offset) = (uint8_t)ck;
	*byte_at(m, start + offset + 1) = (uint8_t)(ck >> 8);
}

/* Whether m and every mbuf after it are the switch's alone to write. */
static bool
writable(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (!RTE_MBUF_DIRECT(m) || rte_mbuf_refcnt_read(m) != 1)
			return false;
	return true;
}

/* len bytes of src from byte off on, appended to seg (a chain of the
 * pool's mbufs growing as needed); false when the pool runs out. */
static bool
append(struct rte_mbuf *seg, struct rte_mempool *pool, const struct rte_mbuf *src, uint32_t off,
       uint32_t len)
{
	struct rte_mbuf *last = rte_pktmbuf_lastseg(seg);

	while (off >= src->data_len) {
		off -= src->data_len;
		src = src->next;
	}
	while (len > 0) {
		uint32_t take;

		if (rte_pktmbuf_tailroom(last) == 0) {
			struct rte_mbuf *more = rte_pktmbuf_alloc(pool);

			if (more == NULL)
				return false;
			last->next = more;
			seg->nb_segs++;
			last = more;
		}
		take = RTE_MIN(RTE_MIN((uint32_t)rte_pktmbuf_tailroom(last), src->data_len - off), len);
		memcpy(rte_pktmbuf_mtod_offset(last, uint8_t *, last->data_len),
		       rte_pktmbuf_mtod_offset(src, const uint8_t *, off), take);
		last->data_len = (uint16_t)(last->data_len + take);
		seg->pkt_len += take;
		len -= take;
		off += take;
		if (off == src->data_len) {
			src = src->next;
			off = 0;
		}
	}
	return true;
}

/* Segment k of n (payload bytes [from, from + len) of m) with its headers
 * fixed and its checksums computed; NULL when the pool runs out. */
static struct rte_mbuf *
segment(struct rte_mbuf *m, const struct vqs_offload *o, struct rte_mempool *pool, uint16_t k,
	uint16_t n, uint32_t from, uint32_t len)
{
	uint32_t hdrs = (uint32_t)o->csum_start + o->l4_len;
	struct rte_mbuf *s = rte_pktmbuf_alloc(pool);
	struct rte_tcp_hdr *tcp;
	uint8_t *h;

	if (s == NULL)
		return NULL;
	/* The headers lie in m's first mbuf (vqs_offload_take), so in s's. */
	if (!append(s, pool, m, 0, hdrs) || !append(s, pool, m, hdrs + from, len)) {
		rte_pktmbuf_free(s);
		return NULL;
	}
	h = rte_pktmbuf_mtod(s, uint8_t *);
	tcp = (struct rte_tcp_hdr *)(h + o->csum_start);
	if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h + o->l3_off);

		ip->total_length = rte_cpu_to_be_16((uint16_t)(s->pkt_len - o->l3_off));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(rte_be_to_cpu_16(ip->packet_id) + k));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(h + o->l3_off);

		ip6->payload_len = rte_cpu_to_be_16((uint16_t)(s->pkt_len - o->l3_off -
							       sizeof(*ip6)));
		tcp->cksum = rte_ipv6_phdr_cksum(ip6, 0);
	}
	tcp->sent_seq = rte_cpu_to_be_32(rte_be_to_cpu_32(tcp->sent_seq) + from);
	if (k + 1 < n)
		tcp->tcp_flags &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
	if (k > 0)
		tcp->tcp_flags &= (uint8_t)~RTE_TCP_CWR_FLAG;
	complete(s, o->csum_start, o->csum_offset);
	s->vlan_tci = m->vlan_tci;
	return s;
}

void
vqs_offload_count(struct vqs_port_stats *st, enum vqs_sw_result r)
{
	switch (r) {
	case VQS_SW_AS_IS:
		break;
	case VQS_SW_CSUM:
		vqs_count(&st->sw_csum, 1);
		break;
	case VQS_SW_SEGMENTED:
		vqs_count(&st->sw_gso, 1);
		break;
	case VQS_SW_NO_MBUF:
		vqs_count(&st->drops[VQS_DROP_NO_MBUF], 1);
		break;
	case VQS_SW_BAD:
		vqs_count(&st->drops[VQS_DROP_BAD_OFFLOAD], 1);
		break;
	}
}

enum vqs_sw_result
vqs_offload_resolve(struct rte_mbuf *m, uint8_t caps, struct rte_mempool *pool,
		    struct rte_mbuf **out, uint16_t *n)
{
	uint8_t needs = vqs_offload_needs(m);
	const struct vqs_offload *o;
	struct rte_mbuf *c;
	uint32_t payload, mss;
	uint16_t k, segs;

	if ((needs & caps) == needs) {
		out[0] = m;
		*n = 1;
		return VQS_SW_AS_IS;
	}
	o = vqs_offload_get(m);
	*n = 0;
	if (o->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		c = writable(m) ? m : rte_pktmbuf_copy(m, pool, 0, UINT32_MAX);
		if (c != m)
			rte_pktmbuf_free(m);
		if (c == NULL)
			return VQS_SW_NO_MBUF;
		complete(c, o->csum_start, o->csum_offset);
		c->ol_flags &= ~vqs_offload_flag;
		out[(*n)++] = c;
		return VQS_SW_CSUM;
	}
	mss = o->gso_size;
	payload = m->pkt_len - o->csum_start - o->l4_len;
	if ((payload + mss - 1) / mss > VQS_GSO_MAX_SEGS) { /* vqs_offload_take refused such */
		rte_pktmbuf_free(m);
		return VQS_SW_BAD;
	}
	segs = (uint16_t)((payload + mss - 1) / mss);
	for (k = 0; k < segs; k++) {
		c = segment(m, o, pool, k, segs, k * mss, RTE_MIN(mss, payload - k * mss));
		if (c == NULL) {
			rte_pktmbuf_free_bulk(out, *n);
			*n = 0;
			rte_pktmbuf_free(m);
			return VQS_SW_NO_MBUF;
		}
		out[(*n)++] = c;
	}
	rte_pktmbuf_free(m);
	return VQS_SW_SEGMENTED;
}
