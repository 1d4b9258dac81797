/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A split vring the switch processes itself (ring.h), and what both
 * layouts share: set-up, hand-back, the guest's call. Ordering, with
 * the guest's side (Linux drivers/virtio/virtio_ring.c) it pairs with:
 *  - avail->idx is loaded with acquire (by the callers): pairs with the
 *    guest's virtio_wmb() between writing the avail ring entry (and
 *    descriptors) and storing avail->idx.
 *  - used->ring entries are written, then used->idx stored with release:
 *    pairs with the guest's virtio_rmb() after it loads used->idx and
 *    before it reads the entries (virtqueue_get_buf).
 *  - a full fence, then used_event (EVENT_IDX) or avail->flags is read
 *    for the call decision: pairs with the guest's virtio_mb() between
 *    writing used_event / clearing NO_INTERRUPT and re-reading used->idx
 *    (virtqueue_enable_cb_prepare/_delayed). Without the fence the load
 *    could pass the store and both sides would miss the interrupt.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "ratelimit.h"
#include "ring.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

void
vqs_ring_init(struct vqs_direct_ring *r)
{
	memset(r, 0, sizeof(*r));
	rte_spinlock_init(&r->lock);
	r->callfd = -1;
}

void
vqs_ring_release(struct vqs_direct_ring *r)
{
	free(r->mem); /* rte_vhost_get_mem_table's malloc */
	r->mem = NULL;
	free(r->stage);
	r->stage = NULL;
	r->stage_slots = 0;
	if (r->callfd >= 0)
		close(r->callfd);
	r->callfd = -1;
	r->own = false;
}

/* Whether [va, va + len) lies in one region of the memory table. */
static bool
mapped(const struct rte_vhost_memory *mem, const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *m = &mem->regions[i];

		if (a >= m->host_user_addr && a - m->host_user_addr <= m->size &&
		    len <= m->size - (a - m->host_user_addr))
			return true;
	}
	return false;
}

bool
vqs_ring_geometry_ok(const struct rte_vhost_memory *mem, const struct rte_vhost_vring *vr,
		     bool packed, bool event_idx)
{
	size_t event = event_idx ? sizeof(uint16_t) : 0; /* used_event, avail_event */

	if (vr->desc == NULL || vr->avail == NULL || vr->used == NULL || vr->size == 0 ||
	    vr->size > 32768 || (!packed && (vr->size & (vr->size - 1))))
		return false;
	if (packed)
		return mapped(mem, vr->desc_packed, (size_t)vr->size * sizeof(struct vring_packed_desc)) &&
		       mapped(mem, vr->driver_event, sizeof(struct vring_packed_desc_event)) &&
		       mapped(mem, vr->device_event, sizeof(struct vring_packed_desc_event));
	return mapped(mem, vr->desc, (size_t)vr->size * sizeof(struct vring_desc)) &&
	       mapped(mem, vr->avail, sizeof(struct vring_avail) + vr->size * sizeof(uint16_t) + event) &&
	       mapped(mem, vr->used, sizeof(struct vring_used) +
		      vr->size * sizeof(struct vring_used_elem) + event);
}

/* Refused: counted and logged once for this ring_gen; the PMDs skip the
 * ring until a message changes it again. */
static enum vqs_ring_owner
refuse(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint32_t gen, const char *why)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;

	r->refused_gen = gen;
	__atomic_fetch_add(&p->vhost.rings_refused, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, WARNING, "port %s: vring %u: %s: not used until the guest sets it up again",
		   p->conf.name, vq, why);
	return VQS_RING_RETRY;
}

enum vqs_ring_owner
vqs_ring_setup(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint32_t gen,
	       bool *new_base)
{
	int vid = __atomic_load_n(&p->vhost.vid, __ATOMIC_RELAXED);
	uint32_t base_gen = __atomic_load_n(&p->vhost.base_gen, __ATOMIC_RELAXED);
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vr;
	uint64_t features = 0;
	uint16_t last_avail, last_used;
	bool packed;

	*new_base = false;
	if (r->refused_gen == gen)
		return VQS_RING_RETRY; /* refused as it is: nothing changed */
	r->ring_gen = 0; /* until it is set up */
	r->own = false;
	if (r->callfd >= 0)
		close(r->callfd);
	r->callfd = -1;
	/* An owed call stays owed (made at the next publish, or by the
	 * control thread, vqs_direct_flush_calls): used entries the guest
	 * was not told of are still there whatever the message was. */
	if (rte_vhost_get_negotiated_features(vid, &features) != 0 ||
	    rte_vhost_get_vhost_vring(vid, vq, &vr) != 0 || rte_vhost_get_mem_table(vid, &mem) != 0)
		return VQS_RING_RETRY;
	free(r->mem);
	r->mem = mem;
	packed = (features >> VIRTIO_F_RING_PACKED) & 1;
	/* librte_vhost checks a ring's extent only when it translates its
	 * address, not when SET_VRING_NUM changes the size of a ring it has
	 * mapped: every set-up checks the rings at the size they have now. */
	if (!vqs_ring_geometry_ok(mem, &vr, packed, (features >> VIRTIO_RING_F_EVENT_IDX) & 1))
		return refuse(p, r, vq, gen, "rings outside guest memory at their size");
	/* Stage for RX: a burst never takes more chains than slots. */
	if (!(vq & 1) && r->stage_slots != vr.size) {
		free(r->stage);
		r->stage_slots = 0;
		r->stage = malloc(vr.size * sizeof(*r->stage));
		if (r->stage == NULL)
			return VQS_RING_RETRY;
		r->stage_slots = vr.size;
	}
	if (r->base_gen != base_gen) {
		if (rte_vhost_get_vring_base(vid, vq, &last_avail, &last_used) != 0)
			return VQS_RING_RETRY;
		/* Packed: slot | wrap counter << 15, the library's encoding. */
		r->last_avail = last_avail;
		r->used_idx = last_avail; /* the library resynced used to it */
		r->base_gen = base_gen;
		r->signalled_valid = false;
		*new_base = true;
	}
	/* A packed position is a slot (SET_VRING_BASE takes any 15 bits,
	 * and a ring may have shrunk since): one past the ring indexes
	 * memory that is not the ring's. */
	if (packed && ((r->last_avail & VQS_PACKED_IDX) >= vr.size ||
		       (r->used_idx & VQS_PACKED_IDX) >= vr.size))
		return refuse(p, r, vq, gen, "position beyond the ring");
	r->size = vr.size;
	r->packed = packed;
	r->desc = vr.desc; /* or desc_packed, driver_event, device_event */
	r->avail = vr.avail;
	r->used = vr.used;
	r->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	/* Without EVENT_IDX librte_vhost mapped the avail ring without the
	 * used_event word: read it only if it is guest memory too. */
	r->used_hint = !packed && !r->event_idx &&
		       mapped(mem, &r->avail->ring[r->size], sizeof(uint16_t));
	r->mrg_rxbuf = (features >> VIRTIO_NET_F_MRG_RXBUF) & 1;
	r->log = (features >> VHOST_F_LOG_ALL) & 1;
	r->hdr_len = features & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_F_VERSION_1)) ?
		     sizeof(struct virtio_net_hdr_mrg_rxbuf) : sizeof(struct virtio_net_hdr);
	r->ol = (vq & 1) ? vqs_offload_host(features) : vqs_offload_guest(features);
	r->own = true;
	r->ring_gen = gen;
	return VQS_RING_OWN;
}

void
vqs_ring_save(struct vqs_port *p, struct vqs_direct_ring *r, int vid, uint16_t vq)
{
	/* The base was the library's until a PMD set the ring up. */
	if (r->own && r->base_gen == __atomic_load_n(&p->vhost.base_gen, __ATOMIC_RELAXED))
		rte_vhost_set_vring_base(vid, vq, r->last_avail, r->used_idx);
	r->own = false;
	r->ring_gen = 0; /* set up again on the next device */
}

bool
vqs_ring_translate(const struct vqs_direct_ring *r, uint64_t gpa, uint32_t len, struct vqs_seg *s,
		   unsigned int *n)
{
	while (len > 0) {
		uint64_t chunk = len;
		uint64_t va = rte_vhost_va_from_guest_pa(r->mem, gpa, &chunk);

		if (va == 0 || chunk == 0 || *n == VQS_RING_MAX_SEGS)
			return false;
		s[*n].va = (uint8_t *)(uintptr_t)va;
		s[*n].len = (uint32_t)chunk;
		(*n)++;
		gpa += chunk;
		len -= (uint32_t)chunk;
	}
	return true;
}

int64_t
vqs_ring_chain(const struct vqs_direct_ring *r, uint16_t head, bool writable,
	       struct vqs_seg *s, unsigned int *n)
{
	const struct vring_desc *table = r->desc;
	uint32_t entries = r->size, idx = head, count = 0;
	uint16_t dir = writable ? VRING_DESC_F_WRITE : 0;
	uint64_t total = 0;
	struct vring_desc d;

	*n = 0;
	memcpy(&d, &table[idx], sizeof(d)); /* once: the guest may change it */
	if (d.flags & VRING_DESC_F_INDIRECT) {
		uint64_t chunk = d.len;

		if (d.len == 0 || d.len % sizeof(d) != 0 || d.len / sizeof(d) > 32768 ||
		    (d.flags & VRING_DESC_F_NEXT))
			return -1;
		table = (const struct vring_desc *)(uintptr_t)
			rte_vhost_va_from_guest_pa(r->mem, d.addr, &chunk);
		if (table == NULL || chunk != d.len)
			return -1; /* an indirect table must be contiguous */
		entries = d.len / sizeof(d);
		idx = 0;
		memcpy(&d, &table[0], sizeof(d));
	}
	for (;;) {
		if ((d.flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) != dir ||
		    ++count > entries)
			return -1;
		total += d.len;
		if (!vqs_ring_translate(r, d.addr, d.len, s, n))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return (int64_t)total;
		idx = d.next;
		if (idx >= entries)
			return -1;
		memcpy(&d, &table[idx], sizeof(d));
	}
}

/* The guest's call eventfd, through our duplicate: made again whenever
 * the library may have replaced the eventfd (fd_gen, vhost/notify.c). */
void
vqs_ring_call(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint32_t gen = __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST);
	uint32_t left = __atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED);

	r->call_owed = false;
	if (unlikely(left != 0)) { /* fault injection: swallowed */
		__atomic_store_n(&vh->drop_calls, left - 1, __ATOMIC_RELAXED);
		return;
	}
	if (r->callfd < 0 || r->callfd_gen != gen) {
		if (r->callfd >= 0)
			close(r->callfd);
		r->callfd = (gen & 1) ? -1 : vqs_vhost_vring_fd_dup(p, vq, false);
		r->callfd_gen = gen;
	}
	if (r->callfd < 0 || eventfd_write(r->callfd, 1) != 0) {
		r->call_owed = true; /* being replaced: at the next pass */
		return;
	}
	__atomic_fetch_add(&vh->guest_notifications[vq], 1, __ATOMIC_RELAXED);
	/* A SET_VRING_CALL that began meanwhile (fd_gen moved: the pre hook
	 * bumps it before the library swaps the eventfd) may have made ours
	 * the superseded eventfd, read by nobody once QEMU has checked it:
	 * the call is made again on the new one. One call too many is
	 * harmless, one too few stalls the guest. Pairs with the SEQ_CST
	 * increment in vhost/guard.c's pre hook. */
	if (__atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST) != gen)
		r->call_owed = true;
}

void
vqs_ring_publish(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t old)
{
	uint16_t idx = r->used_idx, used_event;
	bool call;

	if (idx == old) { /* nothing to publish: no call, but an owed one */
		if (r->call_owed)
			vqs_ring_call(p, r, vq);
		return;
	}
	/* One publish for either layout, so guest_tx.c and guest_rx.c need
	 * not know which. A deliberate cycle: ring_packed.c uses this file's
	 * shared primitives (vqs_ring_translate, vqs_ring_call), and this
	 * file hands it the packed rings here: one ring (ring.h) in two
	 * layouts. Cutting it (the shared primitives in a third file) would
	 * change what the compiler sees together in the fast path, which
	 * nobody has measured, to remove an arrow between two files that
	 * the rest of the folder reaches only through ring.h. */
	if (r->packed) {
		vqs_packed_publish(p, r, vq, old);
		return;
	}
	/* Release: pairs with the guest's barrier after its used->idx load. */
	__atomic_store_n(&r->used->idx, idx, __ATOMIC_RELEASE);
	if (unlikely(r->log))
		vqs_ring_log_used(p, r, vq, old);
	/* Full fence: our used->idx store before the used_event/flags load;
	 * the guest's mb() orders its used_event store before its used->idx
	 * reload. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (r->event_idx) {
		used_event = __atomic_load_n(&r->avail->ring[r->size], __ATOMIC_RELAXED);
		call = (uint16_t)(idx - used_event - 1) < (uint16_t)(idx - old) ||
		       !r->signalled_valid;
		r->signalled_valid = true;
	} else {
		call = !(__atomic_load_n(&r->avail->flags, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (call || r->call_owed)
		vqs_ring_call(p, r, vq);
}
