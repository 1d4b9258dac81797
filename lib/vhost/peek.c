/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include <rte_vhost.h>

#include "peek.h"
#include "vqs_direct.h"
#include "vqs_switch.h"

/* The ring's size and pointers are the library's, which does not check
 * them against guest memory when a frontend resizes a mapped ring: only
 * a ring that lies in guest memory at its size now is peeked at (a
 * packed position is then bounded by that size). Any other is left to
 * the datapath, which refuses it. */
static bool
ring_ok(int vid, const struct rte_vhost_vring *vr, uint64_t features)
{
	struct rte_vhost_memory *mem = NULL;
	bool ok;

	if (rte_vhost_get_mem_table(vid, &mem) != 0)
		return false;
	ok = vqs_ring_geometry_ok(mem, vr, (features >> VIRTIO_F_RING_PACKED) & 1,
				  (features >> VIRTIO_RING_F_EVENT_IDX) & 1);
	free(mem); /* rte_vhost_get_mem_table's malloc */
	return ok;
}

void
vqs_vring_peek_refresh(struct vqs_vring_peek *pk, const struct vqs_port *p,
		       uint16_t vq, uint32_t gen)
{
	int vid = __atomic_load_n(&p->vhost.vid, __ATOMIC_RELAXED);
	struct rte_vhost_vring vr;
	uint64_t features = 0;

	memset(pk, 0, sizeof(*pk));
	pk->gen = gen;
	pk->empty_at = VQS_PEEK_NO_INDEX;
	if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
	    rte_vhost_get_vhost_vring(vid, vq, &vr) != 0 || !ring_ok(vid, &vr, features))
		return; /* VQS_PEEK_NONE: the datapath polls it */
	if (features & (1ULL << VIRTIO_F_RING_PACKED)) {
		pk->desc = vr.desc_packed;
		pk->size = vr.size;
		pk->vid = vid;
		pk->kind = VQS_PEEK_PACKED;
	} else {
		pk->avail_idx = &vr.avail->idx;
		pk->used_idx = &vr.used->idx;
		pk->kind = VQS_PEEK_SPLIT;
	}
}

/* The descriptor at the next position is available when its AVAIL flag
 * equals the avail wrap counter and its USED flag does not. */
bool
vqs_vring_peek_packed_empty(const struct vqs_vring_peek *pk, const struct vqs_port *p,
			    uint16_t vq)
{
	uint16_t last_avail, last_used, idx, flags;
	bool wrap;

	if (!vqs_direct_position(p, vq, &last_avail, &last_used) &&
	    rte_vhost_get_vring_base(pk->vid, vq, &last_avail, &last_used) != 0)
		return false;
	wrap = (last_avail >> 15) & 1;
	idx = last_avail & 0x7fff;
	if (idx >= pk->size)
		return false;
	/* Acquire pairs with the guest's barrier before its flags store. */
	flags = __atomic_load_n(&pk->desc[idx].flags, __ATOMIC_ACQUIRE);
	return !vqs_packed_flags_avail(flags, wrap);
}
