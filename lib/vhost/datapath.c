/* SPDX-License-Identifier: BSD-3-Clause
 * Frames in and out of a guest through librte_vhost's own ring code
 * (rte_vhost_dequeue_burst / rte_vhost_enqueue_burst), which also decides
 * and raises the guest's interrupts: docs/notifications.md.
 *
 * What librte_vhost 22.11 does not check, checked before it is handed a
 * vring: that the rings lie in guest memory at the size they have now (it
 * checks only when it translates a ring's address, not when SET_VRING_NUM
 * changes the size of a ring it mapped), that a packed position is inside
 * the ring (SET_VRING_BASE takes any 15 bits), and, before each call, that
 * a split ring's avail index is no further from the library's position
 * than the ring is long (it takes entries until it meets that index).
 *
 * That last check reads the index before the library reads it again, so
 * a guest changing it in between gets past it for one call. What one call
 * can then do is bounded by how many frames it is given (lib_burst): the
 * library stages used entries in a shadow ring of the ring's size, one
 * entry per TX frame and per non-mergeable RX frame, but up to size - 1
 * per mergeable RX frame (a frame takes buffers until it fits, and
 * zero-length buffers never fill it; a packed ring may hold up to three
 * entries of the call's earlier frames on top). So a call takes at most
 * size frames, and one frame when RX buffers are mergeable: the stale
 * entries such a call takes are the guest's own, and the next check stops
 * the vring. Packed RX calls take at most three (LIB_PACKED_RX_SAFE).
 * The direct datapath reads every index and descriptor once and has none
 * of these windows.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_vhost.h>

#include "internal.h"
#include "ratelimit.h"
#include "vqs_direct.h"
#include "vqs_switch.h"

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

/* librte_vhost 22.11 fills four packed RX buffers at once when a call has
 * four frames left (virtio_dev_rx_sync_batch_check), and checks each
 * buffer's length as len - 12 in 64 bits: a buffer shorter than the
 * virtio-net header passes, and the header and frame are written past it
 * (past guest memory, for one at a region's end). It also reads each
 * length twice. Its one-frame path checks every buffer as it maps it. */
#define LIB_PACKED_RX_SAFE 3

/* How many frames one library call on vring vq may take: see the top. */
static uint16_t
lib_burst(uint16_t vq, const struct rte_vhost_vring *vr, uint64_t features)
{
	if (vr->desc == NULL)
		return 0; /* not mapped: nothing we checked */
	if (!(vq & 1) && ((features >> VIRTIO_NET_F_MRG_RXBUF) & 1))
		return 1;
	if (!(vq & 1) && ((features >> VIRTIO_F_RING_PACKED) & 1))
		return RTE_MIN(vr->size, LIB_PACKED_RX_SAFE);
	return RTE_MIN(vr->size, VQS_BURST);
}

/*
 * librte_vhost marks a packed ring's used descriptors in the dirty log at
 * the vring's log address plus their offset, but that address is the
 * device event area's (QEMU gives a packed ring's used_phys): the pages
 * of the descriptors written go unmarked, and a migrated guest finds
 * stale descriptors. So while a packed-ring guest migrates, its whole
 * descriptor ring is marked after each call that moved frames (a page
 * for 256 descriptors).
 */
static void
lib_log_packed_set(struct vqs_vhost_state *vh, uint16_t q, const struct rte_vhost_memory *mem,
		   const struct rte_vhost_vring *vr, uint64_t features)
{
	uint64_t gpa = 0, len = (uint64_t)vr->size * sizeof(struct vring_packed_desc);

	if (mem == NULL || vr->desc_packed == NULL || !((features >> VIRTIO_F_RING_PACKED) & 1) ||
	    !((features >> VHOST_F_LOG_ALL) & 1) || !vqs_mem_gpa_of(mem, vr->desc_packed, len, &gpa))
		len = 0;
	__atomic_store_n(&vh->lib_log_gpa[q], gpa, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->lib_log_len[q], (uint32_t)len, __ATOMIC_RELAXED);
}

static void
lib_log_packed(struct vqs_port *p, int vid, uint16_t vq)
{
	vqs_ring_log_enter(&p->vhost);
	rte_vhost_log_write(vid, __atomic_load_n(&p->vhost.lib_log_gpa[vq], __ATOMIC_RELAXED),
			    __atomic_load_n(&p->vhost.lib_log_len[vq], __ATOMIC_RELAXED));
	vqs_ring_log_exit(&p->vhost);
}

void
vqs_vhost_lib_check(struct vqs_port *p, int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_vhost_state *vh = &p->vhost;
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vr;
	uint64_t features = 0;
	bool ok, split;
	uint16_t q;

	if (vh->direct != NULL)
		return; /* the direct datapath checks at each set-up */
	if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
	    rte_vhost_get_mem_table(vid, &mem) != 0)
		mem = NULL;
	split = !((features >> VIRTIO_F_RING_PACKED) & 1);
	for (q = 0; q < 2 * p->conf.queues; q++) {
		ok = mem != NULL && lib_ring_ok(vid, q, mem, features, &vr);
		if (!ok) {
			__atomic_fetch_add(&vh->rings_refused, 1, __ATOMIC_RELAXED);
			VQS_LOG_RL(&rl, WARNING, "port %s: vring %u: rings or position outside guest memory or the ring: not used until the guest sets it up again",
				   p->conf.name, q);
		}
		__atomic_store_n(&vh->lib_avail[q], ok && split && vr.avail != NULL ?
				 &vr.avail->idx : NULL, __ATOMIC_RELAXED);
		__atomic_store_n(&vh->lib_size[q], ok ? vr.size : 0, __ATOMIC_RELAXED);
		__atomic_store_n(&vh->lib_burst[q], ok ? lib_burst(q, &vr, features) : 0,
				 __ATOMIC_RELAXED);
		lib_log_packed_set(vh, q, ok ? mem : NULL, &vr, features);
		/* Release: a PMD that sees the vring usable sees the above. */
		__atomic_store_n(&vh->lib_ring_ok[q], ok, __ATOMIC_RELEASE);
	}
	free(mem); /* rte_vhost_get_mem_table's malloc */
}

/* PMD, split vring vq: false if the guest's avail index is further from
 * the library's position than the ring is long, either way (the library
 * would take stale entries without end). */
static bool
lib_avail_ok(struct vqs_port *p, int vid, uint16_t vq)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	const struct vqs_vhost_state *vh = &p->vhost;
	const uint16_t *avail = __atomic_load_n(&vh->lib_avail[vq], __ATOMIC_RELAXED);
	uint16_t idx, last_avail, last_used;

	if (avail == NULL)
		return true; /* packed: each descriptor's flags say */
	idx = __atomic_load_n(avail, __ATOMIC_ACQUIRE);
	if (rte_vhost_get_vring_base(vid, vq, &last_avail, &last_used) == 0 &&
	    (uint16_t)(idx - last_avail) <= vh->lib_size[vq])
		return true;
	VQS_LOG_RL(&rl, WARNING, "port %s: guest vring %u: avail index %u is impossible at %u: not handed to the library",
		   p->conf.name, vq, idx, last_avail);
	return false;
}

/*
 * The offloads of the n frames the library dequeued, as its legacy
 * offload flags say them (a guest's header it read and found right:
 * csum_start at the TCP or UDP header it parsed, and the GSO type),
 * checked once more against each frame's own headers (the library's
 * copy, in switch memory) and kept as the direct datapath keeps them
 * (offload.h). The library clears the flags of a header it finds wrong
 * and passes the frame on, its checksum unfinished: this datapath is for
 * trusted guests (docs/offloads.md). How many frames are left.
 */
static uint16_t
lib_offloads_in(struct vqs_port *p, uint16_t pmd_id, uint32_t max_frame, struct rte_mbuf **pkts,
		uint16_t n, uint8_t allowed)
{
	struct vqs_port_stats *st = &p->stats[pmd_id];
	struct virtio_net_hdr h;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (!vqs_offload_from_mbuf(m, &h))
			h.flags = 0xff; /* refused below, counted */
		if (vqs_offload_asked(&h) && !vqs_offload_take_or_drop(p, st, m, &h, allowed, max_frame))
			continue;
		pkts[k++] = m;
	}
	return k;
}

uint16_t
vqs_vhost_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, uint32_t max_frame,
	     struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * q + 1; /* guest TX */
	uint8_t ol;
	int vid;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->lib_ring_ok[vq], __ATOMIC_ACQUIRE))
		return 0;
	vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	n = RTE_MIN(n, __atomic_load_n(&vh->lib_burst[vq], __ATOMIC_RELAXED));
	if (n == 0 || !lib_avail_ok(p, vid, vq))
		return 0;
	/* The library notifies the guest of the freed TX descriptors. */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	vqs_lib_enter(vh);
	n = rte_vhost_dequeue_burst(vid, vq, pool, pkts, n);
	vqs_lib_exit(vh);
	if (unlikely(__atomic_load_n(&vh->lib_log_len[vq], __ATOMIC_RELAXED) != 0) && n > 0)
		lib_log_packed(p, vid, vq);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && n > 0)
		vqs_vhost_drop_call(p, vq);
	ol = __atomic_load_n(&vh->ol_host, __ATOMIC_RELAXED);
	if (unlikely(ol != 0) && n > 0)
		n = lib_offloads_in(p, pmd_id, max_frame, pkts, n, ol);
	return n;
}

int
vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	     uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * (pmd_id % p->conf.queues); /* guest RX */
	uint16_t sent = 0, k, burst, ask, i;
	bool ol;
	unsigned int retries = 0;
	uint32_t delay;
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
	burst = __atomic_load_n(&vh->lib_burst[vq], __ATOMIC_RELAXED);
	if (burst == 0)
		return 0;
	/*
	 * Each call that fills descriptors publishes the used ring and lets
	 * the library decide whether to interrupt the guest (with EVENT_IDX
	 * at most once per used_event, however many calls). A call that
	 * takes fewer frames than asked found the ring full: retry while
	 * the guest keeps freeing buffers, like OVS's tx-retries.
	 */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	/* The library writes each frame's virtio-net header from its offload
	 * flags (and the pseudo-header's sum into a partial checksum): set
	 * for this call only, the frames may have other destinations. Frames
	 * the guest cannot take were done in software before (offload_sw.h):
	 * a guest without offloads gets none. */
	ol = __atomic_load_n(&vh->ol_guest, __ATOMIC_RELAXED) != 0;
	for (i = 0; ol && i < n; i++)
		if (unlikely(vqs_offload_has(pkts[i])))
			vqs_offload_to_mbuf(pkts[i]);
	while (sent < n) {
		if (!lib_avail_ok(p, vid, vq))
			break;
		ask = RTE_MIN(burst, n - sent);
		vqs_lib_enter(vh);
		delay = __atomic_load_n(&vh->enqueue_delay_us, __ATOMIC_RELAXED);
		if (unlikely(delay != 0)) /* debug/delay-enqueue */
			rte_delay_us_block(delay);
		k = rte_vhost_enqueue_burst(vid, vq, pkts + sent, ask);
		vqs_lib_exit(vh);
		sent += k;
		if (k == 0 || (k < ask && retries++ >= VQS_TX_RETRIES))
			break;
	}
	for (i = 0; ol && i < n; i++)
		if (unlikely(vqs_offload_has(pkts[i])))
			vqs_offload_flags_clear(pkts[i]);
	if (unlikely(__atomic_load_n(&vh->lib_log_len[vq], __ATOMIC_RELAXED) != 0) && sent > 0)
		lib_log_packed(p, vid, vq);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && sent > 0)
		vqs_vhost_drop_call(p, vq);
	return sent;
}
