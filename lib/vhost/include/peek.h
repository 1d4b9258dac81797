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
 * taken (the direct datapath's TX vrings: every pass gives back every
 * chain it took). A packed ring is empty when the descriptor at the next
 * position (the library's, or the direct datapath's) does not carry the
 * avail wrap counter.
 *
 * The ring pointers are the library's mappings of guest memory. They are
 * cached per RX queue (struct vqs_dp_rxq) and taken again when the port's
 * ring_gen changes: new_device, vring_state_changed, and every message
 * that pauses the port (memory table, ring address, size, base, features)
 * bump it before 'ready' or the vring's 'enabled' is set again. The caller must
 * have seen 'ready' set (acquire) in this pass, as an RCU reader: a
 * memory table is unmapped only after the port was paused and every
 * reader quiescent (guard.c, pause_port), so the pointers stay
 * mapped for the rest of the pass.
 *
 * Why no descriptor is missed: see docs/notifications.md, "Peeking".
 */
#ifndef VQS_VRING_PEEK_H
#define VQS_VRING_PEEK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>

#include "port.h"

struct vring_packed_desc;

enum vqs_peek_kind {
	VQS_PEEK_NONE,   /* nothing cached that can be read: always poll */
	VQS_PEEK_SPLIT,
	VQS_PEEK_PACKED,
};

#define VQS_PEEK_NO_INDEX 0x10000u /* empty_at: no avail index known empty */

struct vqs_vring_peek {
	uint32_t gen;      /* the port's ring_gen when this was filled */
	/* Split: an avail->idx value that was equal to used->idx. While
	 * avail->idx still has it, nothing was added, and the peek reads
	 * one cache line of guest memory instead of two. */
	uint32_t empty_at;
	uint8_t kind;      /* enum vqs_peek_kind */
	uint16_t size;     /* packed */
	int vid;           /* packed: for the library's next position */
	union {
		struct {
			const uint16_t *avail_idx; /* split: &avail->idx */
			const uint16_t *used_idx;  /*        &used->idx */
		};
		const struct vring_packed_desc *desc; /* packed */
	};
};

/* Takes the ring's pointers again. Not the fast path: once per change. */
void vqs_vring_peek_refresh(struct vqs_vring_peek *pk, const struct vqs_port *p,
			    uint16_t vq, uint32_t gen);
bool vqs_vring_peek_packed_empty(const struct vqs_vring_peek *pk, const struct vqs_port *p,
				 uint16_t vq);

/*
 * true: guest TX vring vq of vhost port p has nothing for us (or no guest
 * is connected): no need to call the library. false: it may have. Caller:
 * the PMD that polls the vring, RCU-online.
 */
static inline bool
vqs_vring_peek_idle(struct vqs_vring_peek *pk, const struct vqs_port *p, uint16_t vq)
{
	const struct vqs_vhost_state *vh = &p->vhost;
	uint32_t gen;
	uint16_t avail;

	/* Acquire pairs with the release that set 'ready' after ring_gen. */
	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return true;
	gen = __atomic_load_n(&vh->ring_gen, __ATOMIC_RELAXED);
	if (unlikely(gen != pk->gen))
		vqs_vring_peek_refresh(pk, p, vq, gen);
	if (likely(pk->kind == VQS_PEEK_SPLIT)) {
		/* Acquire pairs with the guest's barrier before its avail
		 * index store (the library reads it again anyway). */
		avail = __atomic_load_n(pk->avail_idx, __ATOMIC_ACQUIRE);
		if (avail == pk->empty_at)
			return true;
		/* used->idx is the library's store, made on this thread. */
		if (avail != __atomic_load_n(pk->used_idx, __ATOMIC_RELAXED))
			return false;
		pk->empty_at = avail;
		return true;
	}
	if (pk->kind == VQS_PEEK_PACKED)
		return vqs_vring_peek_packed_empty(pk, p, vq);
	return false;
}

#endif
