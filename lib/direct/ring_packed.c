/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A packed vring the switch processes itself (ring.h). One ring of
 * descriptors that both sides write: the guest makes a chain available by
 * storing its first descriptor's flags last (AVAIL = its wrap counter,
 * USED = the opposite); the switch gives a chain back by writing one used
 * descriptor where the chain began (id, bytes written, AVAIL = USED = the
 * used wrap counter) and skipping the chain's other slots. Chains are
 * given back in the order they were taken, so the used position always
 * is the position of the oldest chain not given back. Ordering, with the
 * guest's side (Linux drivers/virtio/virtio_ring.c) it pairs with:
 *  - the first descriptor's flags are loaded with acquire: pairs with the
 *    guest's virtio_wmb() between writing the chain (its other
 *    descriptors, addresses, lengths, ids) and storing those flags.
 *  - a burst's used entries are written, every entry's flags but the
 *    first's, then the first's flags stored with release: pairs with the
 *    guest's virtio_rmb() after it sees a used flag (more_used_packed,
 *    virtqueue_get_buf_ctx_packed), and as the guest stops at the first
 *    entry that is not used, it sees the burst at once.
 *  - a full fence, then the driver event suppression structure is read
 *    for the call decision: pairs with the guest's virtio_mb() between
 *    writing it (virtqueue_enable_cb_prepare_packed) and re-reading the
 *    used flags. The flags load is acquire: the guest stores off_wrap
 *    before the flags with a barrier between.
 */
#include <string.h>

#include <rte_vhost.h>

#include "ring.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)

bool
vqs_packed_avail(const struct vqs_direct_ring *r, uint16_t pos)
{
	uint16_t flags = __atomic_load_n(&r->pdesc[pos & VQS_PACKED_IDX].flags, __ATOMIC_ACQUIRE);

	return vqs_packed_flags_avail(flags, (pos & VQS_PACKED_WRAP) != 0);
}

/* The buffers of an indirect table (a packed table is read in order, all
 * of it: no NEXT), appended to s; -1 if any is wrong. */
static int64_t
indirect(const struct vqs_direct_ring *r, const struct vring_packed_desc *d, uint16_t dir,
	 struct vqs_seg *s, unsigned int *n)
{
	const struct vring_packed_desc *table;
	struct vring_packed_desc e;
	uint64_t chunk = d->len, total = 0;
	uint32_t k;

	if (d->len == 0 || d->len % sizeof(e) != 0 || d->len / sizeof(e) > 32768)
		return -1;
	table = (const struct vring_packed_desc *)(uintptr_t)
		rte_vhost_va_from_guest_pa(r->mem, d->addr, &chunk);
	if (table == NULL || chunk != d->len)
		return -1; /* an indirect table must be contiguous */
	for (k = 0; k < d->len / sizeof(e); k++) {
		memcpy(&e, &table[k], sizeof(e)); /* once */
		if ((e.flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) != dir ||
		    !vqs_ring_translate(r, e.addr, e.len, s, n))
			return -1;
		total += e.len;
	}
	return (int64_t)total;
}

int64_t
vqs_packed_chain(const struct vqs_direct_ring *r, uint16_t pos, uint16_t room, bool writable,
		 struct vqs_seg *s, unsigned int *n, struct vqs_chain *c)
{
	uint16_t dir = writable ? VRING_DESC_F_WRITE : 0, idx = pos & VQS_PACKED_IDX, k = 0;
	struct vring_packed_desc d;
	int64_t total = 0, len;

	*n = 0;
	/* The chain's extent first of all: even a bad chain is given back,
	 * and the next one starts after it. */
	for (;;) {
		if (k == room)
			return -2; /* no end before slots the guest does not own */
		memcpy(&d, &r->pdesc[idx], sizeof(d)); /* once: the guest may change it */
		k++;
		if (total >= 0) {
			if (d.flags & VRING_DESC_F_INDIRECT) {
				/* Alone in its chain: an indirect table is
				 * the whole chain. */
				len = k == 1 && !(d.flags & VRING_DESC_F_NEXT) ?
				      indirect(r, &d, dir, s, n) : -1;
				total = len < 0 ? -1 : len;
			} else if ((d.flags & VRING_DESC_F_WRITE) != dir ||
				   !vqs_ring_translate(r, d.addr, d.len, s, n)) {
				total = -1;
			} else {
				total += d.len;
			}
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (++idx == r->size)
			idx = 0;
	}
	c->id = d.id; /* the buffer id is in the chain's last descriptor */
	c->ndesc = k;
	return c->id < r->size ? total : -1;
}

void
vqs_packed_put_used(struct vqs_direct_ring *r, uint16_t pos, uint16_t id, uint32_t len,
		    uint16_t old)
{
	struct vring_packed_desc *d = &r->pdesc[pos & VQS_PACKED_IDX];
	uint16_t flags = (pos & VQS_PACKED_WRAP) ? F_AVAIL | F_USED : 0;

	if (len != 0)
		flags |= VRING_DESC_F_WRITE; /* as librte_vhost marks RX entries */
	d->id = id;
	d->len = len;
	if (pos == old)
		r->first_flags = flags;
	else
		__atomic_store_n(&d->flags, flags, __ATOMIC_RELAXED);
}

/* The guest's test (vring_need_event): has the used position gone past
 * event since old? */
static bool
need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void
vqs_packed_publish(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t old)
{
	uint16_t new_pos = r->used_idx, flags, off_wrap, off, o, n;
	bool call;

	/* Release: every used entry of the burst before the flags that make
	 * the first of them used. */
	__atomic_store_n(&r->pdesc[old & VQS_PACKED_IDX].flags, r->first_flags, __ATOMIC_RELEASE);
	if (unlikely(r->log))
		vqs_ring_log_used(p, r, vq, old);
	/* Full fence: those stores before the event structure's loads; the
	 * guest's mb() orders its event store before its used flags re-read. */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = __atomic_load_n(&r->driver_event->flags, __ATOMIC_ACQUIRE);
	if (flags == VRING_PACKED_EVENT_FLAG_DESC && r->event_idx && r->signalled_valid) {
		off_wrap = __atomic_load_n(&r->driver_event->off_wrap, __ATOMIC_RELAXED);
		off = off_wrap & VQS_PACKED_IDX;
		n = new_pos & VQS_PACKED_IDX;
		o = old & VQS_PACKED_IDX;
		if (n <= o) /* the burst wrapped: old is a lap behind */
			o = (uint16_t)(o - r->size);
		if ((off_wrap ^ new_pos) & VQS_PACKED_WRAP) /* event in the last lap */
			off = (uint16_t)(off - r->size);
		call = need_event(off, n, o);
	} else {
		/* Also the first decision after the ring started with an event
		 * index: nothing says what the guest saw before. */
		call = flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	}
	r->signalled_valid = true;
	if (call || r->call_owed)
		vqs_ring_call(p, r, vq);
}

void
vqs_packed_kicks_on(struct vqs_direct_ring *r)
{
	/* off_wrap before the flags that make the guest read it. */
	if (r->event_idx) {
		__atomic_store_n(&r->device_event->off_wrap, r->last_avail, __ATOMIC_RELAXED);
		__atomic_store_n(&r->device_event->flags, VRING_PACKED_EVENT_FLAG_DESC, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&r->device_event->flags, VRING_PACKED_EVENT_FLAG_ENABLE, __ATOMIC_RELEASE);
	}
}
