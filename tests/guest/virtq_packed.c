/* SPDX-License-Identifier: BSD-3-Clause
 * Packed virtqueue, driver side: one descriptor ring that the device
 * writes back into, and the two event suppression structures.
 */
#include <stdlib.h>

#include "virtq.h"

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)

int
packed_init(struct virtq *q)
{
	uint16_t i;

	q->free_ids = calloc(q->size, sizeof(*q->free_ids));
	q->unpublished = calloc(q->size, sizeof(*q->unpublished));
	if (q->free_ids == NULL || q->unpublished == NULL)
		return -1;
	for (i = 0; i < q->size; i++)
		q->free_ids[i] = (uint16_t)(q->size - 1 - i);
	q->n_free_ids = q->size;
	q->num_free = q->size;
	q->avail_wrap = q->used_wrap = true;
	return 0;
}

/*
 * Both sides start at slot base & 0x7fff with wrap counter bit 15. Every
 * slot must then look used in the lap before the one in which the ring
 * next reaches it (AVAIL and USED both that lap's counter): neither side
 * may take a zeroed slot for one the other wrote. Slots from the start
 * slot on are reached in this lap, the ones before it in the next.
 */
void
packed_set_base(struct virtq *q, uint32_t base)
{
	uint16_t start = base & 0x7fff, s;
	bool wrap = (base >> 15) & 1;

	if (start >= q->size) {
		q->poisoned = true; /* no such slot: our bookkeeping stays at 0 */
		return;
	}
	for (s = 0; s < q->size; s++) {
		bool before = s >= start ? !wrap : wrap;

		q->pdesc[s].flags = before ? (F_AVAIL | F_USED) : 0;
	}
	q->next_avail = q->next_used = start;
	q->avail_wrap = q->used_wrap = wrap;
}

static uint16_t
avail_flags(bool wrap)
{
	return wrap ? F_AVAIL : F_USED;
}

uint16_t
packed_put(struct virtq *q, uint16_t *slot, bool *wrap, const struct vring_packed_desc *d,
	   bool head)
{
	struct vring_packed_desc *p = &q->pdesc[*slot];
	uint16_t f = (d->flags & ~(F_AVAIL | F_USED)) | avail_flags(*wrap);

	p->addr = d->addr;
	p->len = d->len;
	p->id = d->id;
	if (!head)
		p->flags = f;
	if (++*slot == q->size) {
		*slot = 0;
		*wrap = !*wrap;
	}
	return f;
}

int
packed_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect)
{
	uint16_t need = indirect ? 1 : (uint16_t)n, head = q->next_avail, slot = head;
	uint16_t head_flags = 0, id;
	bool head_wrap = q->avail_wrap, wrap = head_wrap;
	int k;

	if (q->num_free < need || q->n_free_ids == 0)
		return -1;
	id = q->free_ids[--q->n_free_ids];
	if (indirect) {
		uint64_t tgpa = virtq_itable(q, id);
		struct vring_packed_desc *t = gmem_ptr(q->mem, tgpa, 16 * VIRTQ_MAX_SEGS);

		if (t == NULL) {
			q->n_free_ids++;
			return -1;
		}
		for (k = 0; k < n; k++) {
			t[k].addr = segs[k].gpa;
			t[k].len = segs[k].len;
			t[k].id = 0;
			t[k].flags = segs[k].write ? VRING_DESC_F_WRITE : 0;
		}
		q->pdesc[head].addr = tgpa;
		q->pdesc[head].len = 16u * n;
		q->pdesc[head].id = id;
		head_flags = VRING_DESC_F_INDIRECT | avail_flags(head_wrap);
		slot = (uint16_t)(head + 1);
	} else {
		for (k = 0; k < n; k++) {
			struct vring_packed_desc d = {
				.addr = segs[k].gpa, .len = segs[k].len, .id = id,
				.flags = (segs[k].write ? VRING_DESC_F_WRITE : 0) |
					 (k + 1 < n ? VRING_DESC_F_NEXT : 0)};
			uint16_t f = packed_put(q, &slot, &wrap, &d, k == 0);

			if (k == 0)
				head_flags = f;
		}
	}
	if (slot >= q->size) {
		slot = 0;
		wrap = !wrap;
	}
	q->next_avail = slot;
	q->avail_wrap = wrap;
	q->num_free -= need;
	q->chain_len[id] = need;
	q->added += need;
	q->unpublished[q->n_unpublished].slot = head;
	q->unpublished[q->n_unpublished++].flags = head_flags;
	return id;
}

void
packed_publish(struct virtq *q)
{
	/* A head's flags make its chain available, so they go last, after
	 * everything the chain covers (virtio_wmb). Heads are written from
	 * the last chain back to the first: the device, which stops at the
	 * first unavailable slot, sees the whole batch at once. */
	while (q->n_unpublished > 0) {
		q->n_unpublished--;
		__atomic_store_n(&q->pdesc[q->unpublished[q->n_unpublished].slot].flags,
				 q->unpublished[q->n_unpublished].flags, __ATOMIC_RELEASE);
	}
}

bool
packed_kick_needed(struct virtq *q)
{
	uint16_t new_idx = q->next_avail, old_idx = (uint16_t)(new_idx - q->added);
	uint16_t off_wrap, flags, event;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	off_wrap = __atomic_load_n(&q->device_event->off_wrap, __ATOMIC_RELAXED);
	flags = __atomic_load_n(&q->device_event->flags, __ATOMIC_RELAXED);
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	event = off_wrap & 0x7fff;
	if ((bool)(off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR) != q->avail_wrap)
		event = (uint16_t)(event - q->size);
	return vring_need_event(event, new_idx, old_idx);
}

static bool
is_used(struct virtq *q, uint16_t slot, bool wrap)
{
	uint16_t f = __atomic_load_n(&q->pdesc[slot].flags, __ATOMIC_ACQUIRE);

	return !!(f & F_AVAIL) == !!(f & F_USED) && !!(f & F_USED) == wrap;
}

uint16_t
packed_pending(struct virtq *q)
{
	uint16_t slot = q->next_used, n = 0, seen = 0;
	bool wrap = q->used_wrap;

	while (seen < q->size && is_used(q, slot, wrap)) {
		uint16_t id = q->pdesc[slot].id, len = id < q->size ? q->chain_len[id] : 0;

		if (len == 0)
			break;
		n++;
		seen += len;
		slot += len;
		if (slot >= q->size) {
			slot -= q->size;
			wrap = !wrap;
		}
	}
	return n;
}

int
packed_get_used(struct virtq *q, uint32_t *len)
{
	struct vring_packed_desc *d = &q->pdesc[q->next_used];
	uint16_t id;

	if (!is_used(q, q->next_used, q->used_wrap))
		return -1;
	id = d->id;
	if (id >= q->size || q->chain_len[id] == 0 || q->poisoned)
		return -2;
	*len = d->len;
	q->next_used += q->chain_len[id];
	if (q->next_used >= q->size) {
		q->next_used -= q->size;
		q->used_wrap = !q->used_wrap;
	}
	q->num_free += q->chain_len[id];
	q->chain_len[id] = 0;
	q->free_ids[q->n_free_ids++] = id;
	return id;
}

void
packed_set_event(struct virtq *q, uint16_t flags, uint16_t off_wrap)
{
	__atomic_store_n(&q->driver_event->off_wrap, off_wrap, __ATOMIC_RELAXED);
	__atomic_store_n(&q->driver_event->flags, flags, __ATOMIC_RELEASE);
}

bool
packed_enable(struct virtq *q)
{
	if (q->event_idx)
		packed_set_event(q, VRING_PACKED_EVENT_FLAG_DESC,
				 q->next_used | (uint16_t)(q->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
	else
		packed_set_event(q, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return is_used(q, q->next_used, q->used_wrap);
}
