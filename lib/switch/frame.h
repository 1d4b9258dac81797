/* SPDX-License-Identifier: BSD-3-Clause
 * What the bridge does with a frame, decided from its Ethernet header alone.
 */
#ifndef VQS_FRAME_H
#define VQS_FRAME_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "offload.h"
#include "vqs.h"

enum vqs_frame_class {
	VQS_FRAME_BAD,     /* drop: runt, oversize, or invalid source MAC */
	VQS_FRAME_UNICAST, /* look the destination up in the FDB */
	VQS_FRAME_FLOOD,   /* broadcast or multicast: every other port */
};

/*
 * Like the Linux bridge, a frame whose source is a group address or all
 * zeroes is dropped: learning it would poison the table. The header must sit
 * in the first segment, which every RX path here guarantees for valid frames.
 */
static inline enum vqs_frame_class
vqs_frame_classify(const struct rte_mbuf *m, uint32_t max_len)
{
	const struct rte_ether_hdr *eth;

	if (m->data_len < VQS_MIN_FRAME_LEN ||
	    (m->pkt_len > max_len && !vqs_offload_is_gso(m)))
		return VQS_FRAME_BAD; /* a GSO frame's segments are checked: offload.c */
	eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_valid_assigned_ether_addr(&eth->src_addr))
		return VQS_FRAME_BAD;
	if (rte_is_multicast_ether_addr(&eth->dst_addr))
		return VQS_FRAME_FLOOD;
	return VQS_FRAME_UNICAST;
}

#endif
