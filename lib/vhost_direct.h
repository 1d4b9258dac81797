/* SPDX-License-Identifier: BSD-3-Clause
 * --datapath=direct: the switch processes a guest's split TX vrings itself
 * instead of rte_vhost_dequeue_burst, on librte_vhost's control plane (as
 * SPDK's vhost target does). A frame that lies in one guest buffer is not
 * copied out: its mbuf points into guest memory (an external buffer), and
 * the one copy a VM-to-VM frame gets is the destination's enqueue. Such an
 * mbuf must be gone before the pass that took it ends (vqs_port_tx copies
 * it for ethdevs, rte_vlan_insert copies it, the switch never strips a tag
 * from it); then the chains go back to the guest in one used-ring update
 * and one call decision. Packed rings, and frames in several buffers or
 * tagged, take the copying paths. See docs/notifications.md, "The direct
 * datapath".
 */
#ifndef VQS_VHOST_DIRECT_H
#define VQS_VHOST_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_spinlock.h>

struct vqs_port;
struct rte_vhost_memory;
struct vring_desc;
struct vring_avail;
struct vring_used;

/* One guest TX vring (queue pair q's odd vring). Only the PMD holding
 * 'lock' touches it, and destroy_device after its grace period. */
struct vqs_direct_txq {
	rte_spinlock_t lock;   /* a PMD from dequeue to completion */
	uint32_t ring_gen;     /* vhost.ring_gen it was set up at */
	uint32_t base_gen;     /* vhost.base_gen its indexes came from */
	bool own;              /* split ring set up: ours; else the library's */
	bool event_idx;
	uint16_t hdr_len;      /* virtio-net header before each frame */
	uint16_t size;
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to write */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct rte_vhost_memory *mem;  /* our copy of the memory table */
	uint16_t *head;        /* chains taken, by avail position & (size - 1) */
	struct rte_mbuf_ext_shared_info *shinfo; /* one per descriptor head */
	int callfd;            /* our duplicate of the call eventfd, or -1 */
	uint32_t callfd_gen;   /* vhost.fd_gen it was duplicated at */
	bool call_owed;        /* a call that could not be made yet */
	bool signalled_valid;  /* a call was decided since the ring started:
				* until then the first used entry is signalled
				* whatever used_event says, as Linux's vhost and
				* librte_vhost do (nothing says what the guest
				* saw before) */
};

/* Port start (direct datapath): the per-vring state, or -ENOMEM. */
int vqs_direct_port_init(struct vqs_port *p);
/* Port gone, no PMD or callback left on it: frees everything. */
void vqs_direct_port_free(struct vqs_port *p);
/* destroy_device, after its grace period: every vring's positions go
 * back to the library, which answers GET_VRING_BASE with them. */
void vqs_direct_save(struct vqs_port *p, int vid);

/*
 * PMD, guest TX of queue pair q: up to n frames. Returns the frames; sets
 * *held when the vring is locked and vqs_direct_complete() must follow in
 * this pass, after the frames are sent. A vring that is not ours (packed)
 * is read through the library and never held.
 */
uint16_t vqs_direct_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id,
		       struct rte_mempool *pool, uint32_t max_frame, struct rte_mbuf **pkts,
		       uint16_t n, bool *held);
/* PMD: the chains of every frame freed go back to the guest, one used
 * index store, one call decision; then the vring is let go. */
void vqs_direct_complete(struct vqs_port *p, uint16_t q);
/* PMD before it sleeps: asks the guest to kick at the next avail entry
 * (EVENT_IDX: our own position in avail_event, the library's is stale). */
void vqs_direct_kicks_on(struct vqs_port *p, uint16_t q);
/* Where the switch is in a vring it owns, for readouts; false if not ours. */
bool vqs_direct_position(const struct vqs_port *p, uint16_t vq, uint16_t *last_avail);

#endif
