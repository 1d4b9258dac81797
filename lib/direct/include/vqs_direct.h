/* SPDX-License-Identifier: BSD-3-Clause
 * --datapath=direct: the switch processes a guest's split vrings itself
 * instead of rte_vhost_dequeue_burst and rte_vhost_enqueue_burst, on
 * librte_vhost's control plane (as SPDK's vhost target does): TX vrings in
 * guest_tx.c, RX vrings in guest_rx.c. A frame that lies in one guest buffer is not
 * copied out: its mbuf points into guest memory (an external buffer), and
 * the one copy a VM-to-VM frame gets is the destination's enqueue. Such an
 * mbuf must be gone before the pass that took it ends (vqs_port_tx copies
 * it for ethdevs, the switch tags a copy of it and never strips a tag from
 * it); then the chains go back to the guest in one used-ring update and
 * one call decision. Split and packed rings alike; tagged frames are
 * copied. See docs/notifications.md,
 * "The direct datapath".
 *
 * lib/direct: this header is the folder's public contract. Inside: the
 * ring primitives and their barriers (ring.h: ring.c, split rings and
 * what both layouts share; ring_packed.c; ring_log.c, the dirty log of a
 * migrating guest), used by guest_tx.c and guest_rx.c. The folder works
 * on the port record and the offloads of lib/switch (vqs_switch.h), and
 * takes a ring over from librte_vhost again whenever lib/vhost says it
 * may have changed (ring_gen, base_gen and fd_gen in the port's vhost
 * state, bumped on the vhost-events thread).
 *
 * Threads. A vring the switch processes is touched only by the PMD that
 * holds its spinlock (a TX vring: the PMD that polls it, which try-locks
 * it for a pass; an RX vring: any PMD sending to the guest, one burst at
 * a time), and by destroy_device (vqs_direct_save) after its grace
 * period, when no PMD can be inside. The control thread, RCU-online,
 * only try-locks a ring to make a call it owes (vqs_direct_flush_calls),
 * and allocates and frees a port's rings at its start and stop, when no
 * PMD polls it. Every store into guest memory is ordered against the
 * guest's reads as docs/notifications.md says, one comment per barrier
 * in ring.c and ring_packed.c.
 */
#ifndef VQS_VHOST_DIRECT_H
#define VQS_VHOST_DIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include <rte_mbuf.h>

struct vqs_port;
struct vqs_vhost_state;
struct rte_mempool;
struct rte_vhost_memory;
struct rte_vhost_vring;

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
 * structure, the library's is stale). false if it could not (the ring
 * held by another thread): the guest may then not kick, and the PMD
 * must not sleep long. */
bool vqs_direct_kicks_on(struct vqs_port *p, uint16_t q);
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

/*
 * For lib/vhost, which checks and reads the same rings for librte_vhost's
 * datapath and for operators, and whose messages replace a dirty log
 * while the PMDs may be marking it.
 */

/* Packed positions carry the wrap counter in bit 15, as
 * rte_vhost_get_vring_base and rte_vhost_set_vring_base hand them over. */
#define VQS_PACKED_WRAP 0x8000u
#define VQS_PACKED_IDX 0x7fffu

/* Whether a packed descriptor's flags say "made available" in the lap
 * whose avail wrap counter is wrap: AVAIL equals it, USED does not. */
static inline bool
vqs_packed_flags_avail(uint16_t flags, bool wrap)
{
	return !!(flags & (1u << VRING_PACKED_DESC_F_AVAIL)) == wrap &&
	       !!(flags & (1u << VRING_PACKED_DESC_F_USED)) != wrap;
}

/* Whether a ring of this size lies in guest memory: the descriptor table,
 * the avail ring (with used_event under EVENT_IDX) and the used ring (with
 * avail_event), or the packed descriptor ring and both event structures,
 * each inside one region of mem. */
bool vqs_ring_geometry_ok(const struct rte_vhost_memory *mem, const struct rte_vhost_vring *vr,
			  bool packed, bool event_idx);
/* The guest-physical address of [va, va + len), which lies in one region
 * of mem; false if it does not. */
bool vqs_mem_gpa_of(const struct rte_vhost_memory *mem, const void *va, uint64_t len,
		    uint64_t *gpa);

/* Around marks (any thread): no log is replaced meanwhile. The
 * vhost-events thread, around a SET_LOG_BASE: waits for the marks being
 * made, and keeps new ones waiting until _end. */
void vqs_ring_log_enter(struct vqs_vhost_state *vh);
void vqs_ring_log_exit(struct vqs_vhost_state *vh);
void vqs_ring_log_swap_begin(struct vqs_vhost_state *vh);
void vqs_ring_log_swap_end(struct vqs_vhost_state *vh);

#endif
