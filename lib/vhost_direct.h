/* SPDX-License-Identifier: BSD-3-Clause
 * --datapath=direct: the switch processes a guest's split vrings itself
 * instead of rte_vhost_dequeue_burst and rte_vhost_enqueue_burst, on
 * librte_vhost's control plane (as SPDK's vhost target does): TX vrings in
 * vhost_direct.c, RX vrings in vhost_direct_rx.c. A frame that lies in one guest buffer is not
 * copied out: its mbuf points into guest memory (an external buffer), and
 * the one copy a VM-to-VM frame gets is the destination's enqueue. Such an
 * mbuf must be gone before the pass that took it ends (vqs_port_tx copies
 * it for ethdevs, the switch tags a copy of it and never strips a tag from
 * it); then the chains go back to the guest in one used-ring update and
 * one call decision. Split and packed rings alike; tagged frames are
 * copied. See docs/notifications.md,
 * "The direct datapath".
 */
#ifndef VQS_VHOST_DIRECT_H
#define VQS_VHOST_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "vhost_ring.h"

struct vqs_port;
struct rte_mempool;

/* One guest TX vring (queue pair q's odd vring). */
struct vqs_direct_txq {
	struct vqs_direct_ring r;
	uint16_t slots;        /* entries of taken[] and shinfo[] */
	struct vqs_chain *taken; /* chains taken, by the slot they start at */
	struct rte_mbuf_ext_shared_info *shinfo; /* one per chain id */
};

/* Queue pair q: the guest's TX vring (2q + 1) and RX vring (2q). */
struct vqs_direct_qp {
	struct vqs_direct_txq tx;
	struct vqs_direct_ring rx;
};

/* Port start (direct datapath): the per-vring state, or -ENOMEM. */
int vqs_direct_port_init(struct vqs_port *p);
/* Port gone, no PMD or callback left on it: frees everything. */
void vqs_direct_port_free(struct vqs_port *p);
/* destroy_device, after its grace period: every vring's positions go
 * back to the library, which answers GET_VRING_BASE with them. */
void vqs_direct_save(struct vqs_port *p, int vid);

/*
 * PMD, guest TX of queue pair q: up to n frames (VQS_DIRECT_BURST at
 * most). Returns the frames; sets *held when the vring is locked and
 * vqs_direct_complete() must follow in this pass, after the frames are
 * sent.
 */
uint16_t vqs_direct_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id,
		       struct rte_mempool *pool, uint32_t max_frame, struct rte_mbuf **pkts,
		       uint16_t n, bool *held);
/* PMD: the chains of every frame freed go back to the guest, one used
 * index store, one call decision; then the vring is let go. */
void vqs_direct_complete(struct vqs_port *p, uint16_t q);
/* PMD before it sleeps: asks the guest to kick at the next avail entry
 * (EVENT_IDX: our own position in avail_event or the device event
 * structure, the library's is stale). */
void vqs_direct_kicks_on(struct vqs_port *p, uint16_t q);
/* Control thread, RCU-online, the guest connected: the calls a ring
 * could not make (its eventfd being replaced) made now, for rings whose
 * PMD may not come back to them soon (an RX vring gets no pass until the
 * next frame for the guest, an idle TX vring is only peeked at). */
void vqs_direct_flush_calls(struct vqs_port *p);
/*
 * PMD: frames for the guest (RX vring of the queue pair pmd_id % queues,
 * or queue pair 0's), copied into its buffers: with MRG_RXBUF over as many
 * buffers as it takes (num_buffers and each used length right), without
 * into one buffer chain each. One used index store and one call decision
 * for the burst. Returns the frames sent, or -1 if the guest cannot take
 * any (not ready, no RX vring); never frees them.
 */
int vqs_direct_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts, uint16_t n);
/* Where the switch is in a vring it owns: the next avail entry it takes
 * and the next used entry it writes (packed: slot | wrap << 15), for
 * readouts, peeks and the watchdog; false if not ours. Any thread: a
 * snapshot. */
bool vqs_direct_position(const struct vqs_port *p, uint16_t vq, uint16_t *last_avail,
			 uint16_t *used);
/* Whether the watchdog may read used_event of split vring vq without
 * EVENT_IDX (struct vqs_direct_ring's used_hint). Any thread, RCU-online. */
bool vqs_direct_used_hint(const struct vqs_port *p, uint16_t vq);

#endif
