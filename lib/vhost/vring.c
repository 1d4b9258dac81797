/* SPDX-License-Identifier: BSD-3-Clause
 * What operators read of each vring (vring/show, telemetry, metrics).
 */
#include <string.h>

#include <rte_vhost.h>

#include "internal.h"
#include "vqs_direct.h"

/* Chains the guest made available from pos on: available descriptors
 * that end a chain, up to the first that is not available. */
static uint16_t
packed_waiting(const struct rte_vhost_vring *vr, uint16_t pos)
{
	uint16_t idx = pos & VQS_PACKED_IDX, n = 0, k, flags;
	bool wrap = (pos & VQS_PACKED_WRAP) != 0;

	for (k = 0; k < vr->size && idx < vr->size; k++) {
		flags = __atomic_load_n(&vr->desc_packed[idx].flags, __ATOMIC_ACQUIRE);
		if (!vqs_packed_flags_avail(flags, wrap))
			break;
		n += !(flags & VRING_DESC_F_NEXT);
		if (++idx == vr->size) {
			idx = 0;
			wrap = !wrap;
		}
	}
	return n;
}

/* A packed ring has no indexes in guest memory: the positions are known
 * only where the switch processes it (the direct datapath). */
static void
packed_read(const struct vqs_port *p, const struct rte_vhost_vring *vr, uint16_t q,
	    struct vqs_vring_info *vi)
{
	uint16_t flags;

	if (vr->desc_packed == NULL || vr->driver_event == NULL ||
	    !vqs_direct_position(p, q, &vi->last_avail_idx, &vi->used_idx))
		return;
	vi->direct = true;
	/* Guest memory, read as the guest may be writing it: a snapshot.
	 * Acquire: the guest stores off_wrap before the flags. */
	flags = __atomic_load_n(&vr->driver_event->flags, __ATOMIC_ACQUIRE);
	vi->no_interrupt = flags == VRING_PACKED_EVENT_FLAG_DISABLE;
	vi->event_desc = flags == VRING_PACKED_EVENT_FLAG_DESC;
	vi->used_event = __atomic_load_n(&vr->driver_event->off_wrap, __ATOMIC_RELAXED);
	vi->inflight = packed_waiting(vr, vi->last_avail_idx);
}

static void
vring_read(const struct vqs_port *p, int vid, uint64_t features, uint16_t q,
	   struct vqs_vring_info *vi)
{
	struct rte_vhost_vring vr;
	uint16_t last_used;

	if (rte_vhost_get_vhost_vring(vid, q, &vr) != 0)
		return;
	vi->size = vr.size;
	vi->packed = (features >> VIRTIO_F_RING_PACKED) & 1;
	vi->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	vi->guest_notifications = __atomic_load_n(&p->vhost.guest_notifications[q],
						  __ATOMIC_RELAXED);
	if (vi->packed) {
		packed_read(p, &vr, q, vi);
		return;
	}
	if (vr.avail == NULL || vr.used == NULL)
		return;
	/* Guest memory, read as the guest may be writing it: a snapshot. */
	vi->avail_idx = __atomic_load_n(&vr.avail->idx, __ATOMIC_ACQUIRE);
	vi->no_interrupt = __atomic_load_n(&vr.avail->flags, __ATOMIC_RELAXED) &
			   VRING_AVAIL_F_NO_INTERRUPT;
	vi->used_idx = __atomic_load_n(&vr.used->idx, __ATOMIC_ACQUIRE);
	if (vqs_direct_position(p, q, &vi->last_avail_idx, &last_used))
		vi->direct = true;
	else if (rte_vhost_get_vring_base(vid, q, &vi->last_avail_idx, &last_used) != 0)
		return;
	vi->used_hint = vqs_direct_used_hint(p, q); /* ours, split, no EVENT_IDX */
	if (vi->event_idx || vi->used_hint)
		vi->used_event = __atomic_load_n(&vr.avail->ring[vr.size], __ATOMIC_RELAXED);
	vi->inflight = (uint16_t)(vi->avail_idx - vi->last_avail_idx);
}

unsigned int
vqs_vhost_vring_info(struct vqs_port *p, struct vqs_vring_info *info, unsigned int max)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint64_t features = 0;
	unsigned int q, n = 0;
	int vid;

	if (__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE)) {
		vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
		rte_vhost_get_negotiated_features(vid, &features);
		for (q = 0; q < rte_vhost_get_vring_num(vid) && q < 2u * p->conf.queues &&
			    n < max; q++, n++) {
			struct vqs_vring_info *vi = &info[n];

			memset(vi, 0, sizeof(*vi));
			vi->id = (uint16_t)q;
			vi->enabled = __atomic_load_n(&vh->vring_enabled[q], __ATOMIC_ACQUIRE);
			vi->kicks_off = __atomic_load_n(&vh->kicks_off[q], __ATOMIC_RELAXED);
			if (vi->enabled)
				vring_read(p, vid, features, (uint16_t)q, vi);
		}
	}
	return n;
}

unsigned int
vqs_vhost_vrings_count(const struct vqs_port *p, unsigned int *kicks_off)
{
	const struct vqs_vhost_state *vh = &p->vhost;
	unsigned int q, enabled = 0;

	*kicks_off = 0;
	for (q = 0; q < 2u * p->conf.queues; q++) {
		enabled += __atomic_load_n(&vh->vring_enabled[q], __ATOMIC_RELAXED);
		*kicks_off += __atomic_load_n(&vh->kicks_off[q], __ATOMIC_RELAXED);
	}
	return enabled;
}
