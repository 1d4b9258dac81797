/* SPDX-License-Identifier: BSD-3-Clause
 * Frame classification: what the bridge floods, looks up or drops.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "frame.h"
#include "unit.h"


static struct rte_mempool *pool;

static struct rte_mbuf *
frame(const char *dst, const char *src, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	uint32_t left = len;

	/* Build chains for lengths past one mbuf, as the RX paths do: each
	 * segment is filled before it is chained, so pkt_len adds up. */
	left -= (uint32_t)RTE_MIN(left, rte_pktmbuf_tailroom(m));
	rte_pktmbuf_append(m, (uint16_t)(len - left));
	while (left > 0) {
		struct rte_mbuf *seg = rte_pktmbuf_alloc(pool);
		uint16_t take = (uint16_t)RTE_MIN(left, rte_pktmbuf_tailroom(seg));

		rte_pktmbuf_append(seg, take);
		left -= take;
		rte_pktmbuf_chain(m, seg);
	}
	if (len >= RTE_ETHER_HDR_LEN) {
		eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		rte_ether_unformat_addr(dst, &eth->dst_addr);
		rte_ether_unformat_addr(src, &eth->src_addr);
		eth->ether_type = rte_cpu_to_be_16(0x88b5);
	}
	return m;
}

static void
check(const char *dst, const char *src, uint32_t len, enum vqs_frame_class want, uint32_t max)
{
	struct rte_mbuf *m = frame(dst, src, len);

	CHECK_EQ(vqs_frame_classify(m, max), want);
	rte_pktmbuf_free(m);
}

int
main(int argc, char **argv)
{
	const char *a = "02:00:00:00:00:01", *b = "02:00:00:00:00:02";

	if (unit_eal_init(argv[0]) < 0)
		return 2;
	pool = rte_pktmbuf_pool_create("t", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(pool != NULL);

	check(b, a, 60, VQS_FRAME_UNICAST, VQS_MAX_FRAME_LEN);
	check("ff:ff:ff:ff:ff:ff", a, 60, VQS_FRAME_FLOOD, VQS_MAX_FRAME_LEN);       /* broadcast */
	check("01:00:5e:00:00:01", a, 60, VQS_FRAME_FLOOD, VQS_MAX_FRAME_LEN);       /* IPv4 mcast */
	check("33:33:00:00:00:01", a, 60, VQS_FRAME_FLOOD, VQS_MAX_FRAME_LEN);       /* IPv6 mcast */
	check("01:80:c2:00:00:00", a, 60, VQS_FRAME_FLOOD, VQS_MAX_FRAME_LEN);       /* STP group */
	check(b, "01:00:5e:00:00:01", 60, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);          /* mcast src */
	check(b, "ff:ff:ff:ff:ff:ff", 60, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);          /* bcast src */
	check(b, "00:00:00:00:00:00", 60, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);          /* zero src */
	check(b, a, 14, VQS_FRAME_UNICAST, VQS_MAX_FRAME_LEN);                        /* header only */
	check(b, a, 13, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);                            /* runt */
	check(b, a, 0, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);
	check(b, a, 9018, VQS_FRAME_UNICAST, VQS_MAX_FRAME_LEN);                      /* jumbo chain */
	check(b, a, VQS_MAX_FRAME_LEN, VQS_FRAME_UNICAST, VQS_MAX_FRAME_LEN);
	check(b, a, VQS_MAX_FRAME_LEN + 1, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);         /* oversize */
	check(b, a, 65535, VQS_FRAME_BAD, VQS_MAX_FRAME_LEN);
	check(b, a, 65535, VQS_FRAME_UNICAST, VQS_MAX_FRAME_LIMIT); /* --max-frame-len */

	rte_mempool_free(pool);
	rte_eal_cleanup();
	return unit_report("test_frame");
}
