/* SPDX-License-Identifier: BSD-3-Clause
 * Frames in and out of a guest through librte_vhost's own ring code
 * (rte_vhost_dequeue_burst / rte_vhost_enqueue_burst), which also decides
 * and raises the guest's interrupts: docs/notifications.md.
 *
 * What librte_vhost 22.11 does not check, checked before it is handed a
 * vring: that the rings lie in guest memory at the size they have now (it
 * checks only when it translates a ring's address, not when SET_VRING_NUM
 * changes the size of a ring it mapped), that a packed position is inside
 * the ring (SET_VRING_BASE takes any 15 bits), and, before each enqueue,
 * that the guest's RX avail index is no further from the library's
 * position than the ring is long (its split enqueue takes entries until
 * it meets that index: one step back and it writes past its shadow used
 * ring). The last check reads the index before the library reads it
 * again: a frontend changing it in between can still get past it. The
 * direct datapath reads every index once and has no such window.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <stdlib.h>
#include <string.h>

#include <rte_vhost.h>

#include "ratelimit.h"
#include "switch.h"
#include "vhost_internal.h"
#include "vhost_ring.h"

/* Vring vq of device vid as it is now: false if it must not be used. */
static bool
lib_ring_ok(int vid, uint16_t vq, const struct rte_vhost_memory *mem, uint64_t features,
	    struct rte_vhost_vring *vr)
{
	bool packed = (features >> VIRTIO_F_RING_PACKED) & 1;
	uint16_t last_avail, last_used;

	/* Not there or not mapped (yet): the library does not touch it. */
	if (rte_vhost_get_vhost_vring(vid, vq, vr) != 0) {
		memset(vr, 0, sizeof(*vr));
		return true;
	}
	if (vr->desc == NULL && vr->avail == NULL && vr->used == NULL)
		return true;
	return vqs_ring_geometry_ok(mem, vr, packed, (features >> VIRTIO_RING_F_EVENT_IDX) & 1) &&
	       rte_vhost_get_vring_base(vid, vq, &last_avail, &last_used) == 0 &&
	       (!packed || ((last_avail & VQS_PACKED_IDX) < vr->size &&
			    (last_used & VQS_PACKED_IDX) < vr->size));
}

void
vqs_vhost_lib_check(struct vqs_port *p, int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_vhost_state *vh = &p->vhost;
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vr;
	uint64_t features = 0;
	uint16_t q;
	bool ok;

	if (vh->direct != NULL)
		return; /* the direct datapath checks at each set-up */
	if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
	    rte_vhost_get_mem_table(vid, &mem) != 0)
		mem = NULL;
	for (q = 0; q < 2 * p->conf.queues; q++) {
		ok = mem != NULL && lib_ring_ok(vid, q, mem, features, &vr);
		if (!ok) {
			__atomic_fetch_add(&vh->rings_refused, 1, __ATOMIC_RELAXED);
			VQS_LOG_RL(&rl, WARNING, "port %s: vring %u: rings or position outside guest memory or the ring: not used until the guest sets it up again",
				   p->conf.name, q);
		}
		if (!(q & 1)) {
			__atomic_store_n(&vh->lib_rx_avail[q / 2],
					 ok && vr.avail != NULL && !((features >> VIRTIO_F_RING_PACKED) & 1) ?
					 &vr.avail->idx : NULL, __ATOMIC_RELAXED);
			__atomic_store_n(&vh->lib_rx_size[q / 2], ok ? vr.size : 0, __ATOMIC_RELAXED);
		}
		/* Release: a PMD that sees the vring usable sees its pointer. */
		__atomic_store_n(&vh->lib_ring_ok[q], ok, __ATOMIC_RELEASE);
	}
	free(mem); /* rte_vhost_get_mem_table's malloc */
}

/* PMD, split RX vring vq (queue pair q): false if the guest's avail index
 * is further from the library's position than the ring is long, either
 * way (the library would take stale entries without end). */
static bool
lib_rx_avail_ok(struct vqs_port *p, int vid, uint16_t vq)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	const struct vqs_vhost_state *vh = &p->vhost;
	const uint16_t *avail = __atomic_load_n(&vh->lib_rx_avail[vq / 2], __ATOMIC_RELAXED);
	uint16_t idx, last_avail, last_used;

	if (avail == NULL)
		return true; /* packed (each descriptor's flags say), or not mapped */
	idx = __atomic_load_n(avail, __ATOMIC_ACQUIRE);
	if (rte_vhost_get_vring_base(vid, vq, &last_avail, &last_used) == 0 &&
	    (uint16_t)(idx - last_avail) <= vh->lib_rx_size[vq / 2])
		return true;
	VQS_LOG_RL(&rl, WARNING, "port %s: guest RX vring %u: avail index %u is impossible at %u: not handed to the library",
		   p->conf.name, vq, idx, last_avail);
	return false;
}

uint16_t
vqs_vhost_rx(struct vqs_port *p, uint16_t q, struct rte_mempool *pool,
	     struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * q + 1; /* guest TX */

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->lib_ring_ok[vq], __ATOMIC_ACQUIRE))
		return 0;
	/* The library notifies the guest of the freed TX descriptors. */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	n = rte_vhost_dequeue_burst(__atomic_load_n(&vh->vid, __ATOMIC_RELAXED),
				    vq, pool, pkts, n);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && n > 0)
		vqs_vhost_drop_call(p, vq);
	return n;
}

int
vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	     uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * (pmd_id % p->conf.queues); /* guest RX */
	uint16_t sent = 0, k;
	unsigned int retries = 0;
	int vid;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return -1;
	if (!__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE)) {
		vq = 0;
		if (!__atomic_load_n(&vh->vring_enabled[0], __ATOMIC_ACQUIRE))
			return -1;
	}
	vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&vh->lib_ring_ok[vq], __ATOMIC_ACQUIRE))
		return 0;
	/*
	 * Each call that fills descriptors publishes the used ring and lets
	 * the library decide whether to interrupt the guest. Retry while the
	 * guest keeps freeing buffers, like OVS's tx-retries.
	 */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	do {
		if (!lib_rx_avail_ok(p, vid, vq))
			break;
		k = rte_vhost_enqueue_burst(vid, vq, pkts + sent, n - sent);
		sent += k;
	} while (sent < n && k > 0 && retries++ < VQS_TX_RETRIES);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && sent > 0)
		vqs_vhost_drop_call(p, vq);
	return sent;
}
