/* SPDX-License-Identifier: BSD-3-Clause
 * A look at a guest's TX vring, without librte_vhost, that says whether
 * it can have anything for us. rte_vhost_dequeue_burst() on an empty vring
 * still costs a device look-up, a try-lock and the index reads (80-110
 * cycles); with many mostly idle guests per PMD that, not the frames,
 * is where the cycles go. A split ring is empty when the guest's
 * avail->idx equals used->idx: for the guest's TX vrings used->idx is
 * written only by the library's dequeue, which publishes a used entry for
 * every avail entry it takes before it returns, so the two differ exactly
 * when the guest has made descriptors available that the library has not
 * taken. A packed ring is empty when the descriptor at the library's next
 * position does not carry the avail wrap counter.
 *
 * The ring pointers are the library's mappings of guest memory. They are
 * cached per RX queue (struct vqs_dp_rxq) and taken again when the port's
 * ring_gen changes: new_device, vring_state_changed, and every message
 * that pauses the port (memory table, ring address, size, base, features)
 * bump it before 'ready' or the vring's 'enabled' is set again. The caller must
 * have seen 'ready' set (acquire) in this pass, as an RCU reader: a
 * memory table is unmapped only after the port was paused and every
 * reader quiescent (vhost_port.c, pause_port), so the pointers stay
 * mapped for the rest of the pass.
 *
 * Why no descriptor is missed: see docs/notifications.md, "Peeking".
 */
#ifndef VQS_VRING_PEEK_H
#define VQS_VRING_PEEK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

struct vqs_port;
struct vring_packed_desc;

enum vqs_peek_kind {
	VQS_PEEK_NONE,   /* nothing cached that can be read: always poll */
	VQS_PEEK_SPLIT,
	VQS_PEEK_PACKED,
};

struct vqs_vring_peek {
	uint32_t gen;  /* the port's ring_gen when this was filled */
	uint8_t kind;  /* enum vqs_peek_kind */
	uint16_t size; /* packed */
	int vid;       /* packed: for the library's next position */
	const uint16_t *avail_idx; /* split: &avail->idx, &used->idx */
	const uint16_t *used_idx;
	const struct vring_packed_desc *desc; /* packed */
};

/* Takes the ring's pointers again (gen: the port's ring_gen, read after
 * 'ready'). Not the fast path: once per ring change. */
void vqs_vring_peek_refresh(struct vqs_vring_peek *pk, const struct vqs_port *p,
			    uint16_t vq, uint32_t gen);
bool vqs_vring_peek_packed_empty(const struct vqs_vring_peek *pk, uint16_t vq);

/* true: vring vq of p (a guest TX vring polled by this thread, 'ready'
 * seen) has no descriptor the library has not taken. false: it may have. */
static inline bool
vqs_vring_peek_empty(struct vqs_vring_peek *pk, const struct vqs_port *p,
		     uint16_t vq, uint32_t gen)
{
	if (unlikely(gen != pk->gen))
		vqs_vring_peek_refresh(pk, p, vq, gen);
	if (likely(pk->kind == VQS_PEEK_SPLIT))
		/* Acquire pairs with the guest's barrier before its avail
		 * index store; used->idx is our own (the library's) store. */
		return __atomic_load_n(pk->avail_idx, __ATOMIC_ACQUIRE) ==
		       __atomic_load_n(pk->used_idx, __ATOMIC_RELAXED);
	if (pk->kind == VQS_PEEK_PACKED)
		return vqs_vring_peek_packed_empty(pk, vq);
	return false;
}

#endif
