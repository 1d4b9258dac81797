/* SPDX-License-Identifier: BSD-3-Clause
 * What the switch does in software for a destination that cannot take a
 * frame's offloads (offload.h): the checksum completed, a GSO frame cut
 * into TCP segments with every checksum right. Never in guest memory or in
 * a frame other destinations share: the work is done on a copy of the
 * switch's own.
 */
#ifndef VQS_OFFLOAD_SW_H
#define VQS_OFFLOAD_SW_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "offload.h"

/* What became of a frame. */
enum vqs_sw_result {
	VQS_SW_AS_IS,     /* the destination takes it as it is */
	VQS_SW_CSUM,      /* its checksum completed */
	VQS_SW_SEGMENTED, /* cut into segments */
	VQS_SW_NO_MBUF,   /* out of mbufs: dropped */
	VQS_SW_BAD,       /* more segments than VQS_GSO_MAX_SEGS (the checks
			   * allow none such): dropped */
};

/*
 * Frame m for a destination that takes 'caps' (VQS_OL_*): into out[],
 * as it is, completed, or as its segments (at most VQS_GSO_MAX_SEGS);
 * *n how many (0 if dropped). m's reference is used up (passed on or
 * freed). An offloaded frame it passes on keeps its offloads; the rest
 * have none.
 */
enum vqs_sw_result vqs_offload_resolve(struct rte_mbuf *m, uint8_t caps, struct rte_mempool *pool,
				       struct rte_mbuf **out, uint16_t *n);

struct vqs_port_stats;

/* What vqs_offload_resolve did, counted on the destination port: sw_csum,
 * sw_gso, or the drop (no_mbuf, bad_offload). */
void vqs_offload_count(struct vqs_port_stats *st, enum vqs_sw_result r);

#endif
