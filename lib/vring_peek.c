/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include <rte_vhost.h>

#include "port.h"
#include "vhost_direct.h"
#include "vring_peek.h"

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
	    rte_vhost_get_vhost_vring(vid, vq, &vr) != 0 || vr.size == 0)
		return; /* VQS_PEEK_NONE: the library polls it */
	if (features & (1ULL << VIRTIO_F_RING_PACKED)) {
		if (vr.desc_packed == NULL)
			return;
		pk->desc = vr.desc_packed;
		pk->size = vr.size;
		pk->vid = vid;
		pk->kind = VQS_PEEK_PACKED;
	} else if (vr.avail != NULL && vr.used != NULL) {
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
