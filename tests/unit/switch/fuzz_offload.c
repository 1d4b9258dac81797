/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target (in process, build-fuzz only): a guest's virtio-net
 * header and frame through the offload code as the switch runs it. The
 * header is checked against the frame (vqs_offload_take), a VLAN tag
 * taken off and put in, and the frame done in software for a destination
 * that takes some offloads or none (vqs_offload_resolve). Aborts (a
 * crash libFuzzer keeps) when:
 *  - a frame the switch passes on asks for offloads the destination does
 *    not take;
 *  - a segment is longer than the header's gso_size allows or than a
 *    frame may be, or its IP lengths, IPv4 header checksum or TCP
 *    checksum are wrong (the switch computed them: they must be right
 *    whatever the guest wrote);
 *  - a completed checksum does not check: the sum from csum_start on,
 *    and the value the guest left in the field (the pseudo-header's),
 *    must make 0xffff (for an even csum_offset);
 *  - the segments put together are not the frame: payload, sizes,
 *    sequence numbers, FIN/PSH/CWR, IPv4 identifiers, every other header
 *    byte;
 *  - a frame another destination holds changed;
 *  - the mbuf offload flags the library datapath uses do not say what
 *    the header says, or stay set;
 *  - an mbuf is not given back (the pool is whole after every input);
 * and AddressSanitizer reports anything the code reads or writes out of
 * bounds. Input: caps the guest negotiated (byte 0), the destination's
 * (byte 1), a layout byte (bit 0: the frame's first 802.1Q tag taken off,
 * as on ingress; bit 1: one put in, as towards a trunk; bit 2: shared
 * with another destination; bit 3: later pieces of 700 bytes, as one
 * left in guest memory, else 2 KB copies; bits 4-7: the first piece's
 * length, at least VQS_OL_HEAD), the 10-byte header (little endian), the
 * frame. Seeds: tests/unit/switch/fuzz_offload_seeds.py. Run by scripts/test.sh.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_mbuf.h>

#include "offload_sw.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 9216u
#define POOL_SIZE 4095u

static struct rte_mempool *pool;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *args[] = { (*argv)[0], "--no-huge", "--no-pci", "--no-shconf", "-m", "64",
			 "--lcores", "0", "--log-level", "error" };

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(args), args) < 0 || vqs_offload_init() != 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzz", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL)
		abort();
	return 0;
}

/* The frame as the datapaths make one: a first piece in the switch's
 * memory, then pieces of 'rest' bytes. NULL if the pool is out. */
static struct rte_mbuf *
chain(const uint8_t *p, uint32_t len, uint32_t first, uint32_t rest)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *last = m;
	uint32_t off = 0;

	while (m != NULL && off < len) {
		uint32_t take = RTE_MIN(len - off, off == 0 ? first : rest);
		struct rte_mbuf *seg = off == 0 ? m : rte_pktmbuf_alloc(pool);

		if (seg == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		memcpy(rte_pktmbuf_append(seg, (uint16_t)take), p + off, take);
		if (seg != m) {
			last->next = seg;
			last = seg;
			m->nb_segs++;
			m->pkt_len += take;
		}
		off += take;
	}
	return m;
}

static uint16_t
sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t k;

	for (k = 0; k + 1 < len; k += 2)
		sum += (uint32_t)(p[k] << 8 | p[k + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* No longer than a frame, and 4 bytes more when a tag went in after
 * the checks. */
static bool
len_ok(const struct rte_mbuf *s)
{
	return s->pkt_len <= MAX_FRAME + 4;
}

/* A segment the switch cut: lengths and checksums right. */
static void
check_segment(struct rte_mbuf *s, const struct vqs_offload *o)
{
	uint8_t buf[MAX_FRAME + 4];
	const uint8_t *p = len_ok(s) ? rte_pktmbuf_read(s, 0, s->pkt_len, buf) : NULL;
	uint32_t l3 = o->l3_off, l4 = o->csum_start, len = s->pkt_len, ps;

	if (p == NULL || vqs_offload_has(s) ||
	    len > (uint32_t)o->csum_start + o->l4_len + o->gso_size)
		abort();
	if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
		if ((uint32_t)(p[l3 + 2] << 8 | p[l3 + 3]) != len - l3 ||
		    sum16(p + l3, (uint32_t)(p[l3] & 0xf) * 4, 0) != 0xffff)
			abort();
		ps = sum16(p + l3 + 12, 8, 0) + 6 + (len - l4);
	} else {
		if ((uint32_t)(p[l3 + 4] << 8 | p[l3 + 5]) != len - l3 - 40)
			abort();
		ps = sum16(p + l3 + 8, 32, 0) + 6 + (len - l4);
	}
	if (sum16(p + l4, len - l4, ps) != 0xffff)
		abort();
}

/* A checksum the switch completed: with the guest's seed, it checks. */
static void
check_completed(struct rte_mbuf *m, const struct vqs_offload *o, uint16_t seed)
{
	static uint8_t buf[MAX_FRAME + 1028];
	const uint8_t *p = m->pkt_len <= sizeof(buf) ? rte_pktmbuf_read(m, 0, m->pkt_len, buf) : NULL;
	uint16_t s;

	if (p == NULL)
		abort();
	s = sum16(p + o->csum_start, m->pkt_len - o->csum_start, seed);
	if (s != 0xffff && s != 0)
		abort();
}

/* The frame before vqs_offload_resolve (after the tag moves). */
static uint8_t orig[MAX_FRAME + 1032];
static uint32_t orig_len;

/* The segments together are the frame: each one's headers are the
 * frame's but for the fields segmentation sets, the payload put back
 * together is the frame's, every segment but the last carries gso_size
 * bytes, sequence numbers advance, FIN/PSH only last, CWR only first,
 * IPv4 identifiers count up. */
static void
check_reassembly(struct rte_mbuf **out, uint16_t n, const struct vqs_offload *o)
{
	static uint8_t buf[MAX_FRAME + 8];
	uint32_t hdrs = (uint32_t)o->csum_start + o->l4_len, l3 = o->l3_off, l4 = o->csum_start;
	uint32_t payload = orig_len - hdrs, done = 0, seq0, k, i;
	uint16_t id0 = (uint16_t)(orig[l3 + 4] << 8 | orig[l3 + 5]);

	seq0 = (uint32_t)orig[l4 + 4] << 24 | (uint32_t)orig[l4 + 5] << 16 | (uint32_t)orig[l4 + 6] << 8 | orig[l4 + 7];
	if (n != (payload + o->gso_size - 1) / o->gso_size)
		abort();
	for (k = 0; k < n; k++) {
		const uint8_t *p = rte_pktmbuf_read(out[k], 0, out[k]->pkt_len, buf);
		uint32_t plen = out[k]->pkt_len - hdrs, seq;
		uint8_t fl = p[l4 + 13], ofl = orig[l4 + 13];

		if (k + 1 < n && plen != o->gso_size)
			abort();
		if (memcmp(p + hdrs, orig + hdrs + done, plen) != 0)
			abort(); /* the payload is not the frame's */
		seq = (uint32_t)p[l4 + 4] << 24 | (uint32_t)p[l4 + 5] << 16 | (uint32_t)p[l4 + 6] << 8 | p[l4 + 7];
		if (seq != seq0 + done)
			abort();
		if ((fl & (RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG)) !=
		    (k + 1 == n ? (ofl & (RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG)) : 0) ||
		    (fl & RTE_TCP_CWR_FLAG) != (k == 0 ? (ofl & RTE_TCP_CWR_FLAG) : 0) ||
		    (fl & ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_CWR_FLAG)) !=
		    (ofl & ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG | RTE_TCP_CWR_FLAG)))
			abort();
		if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
		    (uint16_t)(p[l3 + 4] << 8 | p[l3 + 5]) != (uint16_t)(id0 + k))
			abort();
		/* every other header byte as the frame had it */
		for (i = 0; i < hdrs; i++) {
			bool set = (i >= l4 + 4 && i < l4 + 8) || i == l4 + 13 || i == l4 + o->csum_offset ||
				   i == l4 + o->csum_offset + 1;
			if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV4)
				set = set || (i >= l3 + 2 && i < l3 + 6) || i == l3 + 10 || i == l3 + 11;
			else
				set = set || i == l3 + 4 || i == l3 + 5;
			if (!set && p[i] != orig[i])
				abort();
		}
		done += plen;
	}
	if (done != payload)
		abort();
}

/* What the library datapath makes of the frame's offloads (mbuf TX
 * flags) says what the direct datapath's header says, the lengths a
 * driver reads point at the IP and L4 headers, and nothing stays set. */
static void
check_mbuf_flags(struct rte_mbuf *m)
{
	struct virtio_net_hdr a, b;
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct vqs_offload *o = vqs_offload_get(m);

	vqs_offload_hdr(m, &a);
	vqs_offload_to_mbuf(m);
	if ((uint32_t)m->l2_len + m->l3_len != o->csum_start || m->l2_len != o->l3_off ||
	    (p[m->l2_len] >> 4) != o->ip_ver ||
	    (uint32_t)m->l2_len + m->l3_len + m->l4_len > m->data_len)
		abort();
	if (!vqs_offload_from_mbuf(m, &b) || a.flags != b.flags || a.csum_start != b.csum_start ||
	    a.csum_offset != b.csum_offset || a.gso_type != b.gso_type || a.gso_size != b.gso_size)
		abort();
	if (m->ol_flags & (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
			   RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_IP_CKSUM))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m, *out[VQS_GSO_MAX_SEGS], *other = NULL;
	struct virtio_net_hdr h;
	struct vqs_offload o = { 0 };
	uint8_t allowed, caps, layout, needs, seed[2];
	const uint8_t *field;
	uint16_t seed16 = 0;
	enum vqs_sw_result r;
	uint32_t len, first;
	uint16_t n, k;

	if (size < 13 || size - 13 > MAX_FRAME + 1024)
		return 0;
	allowed = data[0] & VQS_OL_ALL;
	caps = data[1] & VQS_OL_ALL;
	layout = data[2];
	memcpy(&h, data + 3, sizeof(h));
	len = (uint32_t)size - 13;
	first = RTE_MAX(VQS_OL_HEAD, (uint32_t)(layout >> 4) * 128);
	m = chain(data + 13, len, first, layout & 8 ? 700 : 2048);
	if (m == NULL)
		return 0;
	if (vqs_offload_take(m, &h, allowed, MAX_FRAME) != VQS_OL_OK) {
		rte_pktmbuf_free(m);
		goto out;
	}
	if ((layout & 1) && m->data_len >= 18 && rte_vlan_strip(m) == 0)
		vqs_offload_shift(m, -4);
	if ((layout & 2) && rte_vlan_insert(&m) == 0)
		vqs_offload_shift(m, 4);
	if (layout & 4) { /* another destination holds it too */
		rte_pktmbuf_refcnt_update(m, 1);
		other = m;
	}
	needs = vqs_offload_needs(m);
	orig_len = m->pkt_len;
	{
		const uint8_t *q = rte_pktmbuf_read(m, 0, orig_len, orig);

		if (q == NULL)
			abort();
		if (q != orig)
			memcpy(orig, q, orig_len);
	}
	if (vqs_offload_has(m) && !(needs & VQS_OL_CSUM_ANY))
		check_mbuf_flags(m);
	if (vqs_offload_has(m)) {
		o = *vqs_offload_of(m);
		field = rte_pktmbuf_read(m, (uint32_t)o.csum_start + o.csum_offset, 2, seed);
		if (field == NULL)
			abort(); /* vqs_offload_take let a field past the frame through */
		seed16 = (uint16_t)(field[0] << 8 | field[1]);
	}
	r = vqs_offload_resolve(m, caps, pool, out, &n);
	for (k = 0; k < n; k++) {
		if ((vqs_offload_needs(out[k]) & ~caps) != 0)
			abort();
		if (r == VQS_SW_SEGMENTED)
			check_segment(out[k], &o);
	}
	if (r == VQS_SW_SEGMENTED)
		check_reassembly(out, n, &o);
	if (other != NULL) { /* the other destination's frame is as it was */
		static uint8_t ob[MAX_FRAME + 1032];
		const uint8_t *q = rte_pktmbuf_read(other, 0, other->pkt_len, ob);

		if (other->pkt_len != orig_len || memcmp(q, orig, orig_len) != 0)
			abort();
	}
	if (r == VQS_SW_CSUM && !(o.csum_offset & 1))
		check_completed(out[0], &o, seed16);
	if (r == VQS_SW_AS_IS && (needs & ~caps) != 0)
		abort();
	rte_pktmbuf_free_bulk(out, n);
	if (other != NULL)
		rte_pktmbuf_free(other);
out:
	if (rte_mempool_avail_count(pool) != POOL_SIZE)
		abort(); /* an mbuf not given back */
	return 0;
}
