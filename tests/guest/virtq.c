/* SPDX-License-Identifier: BSD-3-Clause
 * What split and packed virtqueues share: buffer bookkeeping and the
 * public steps, each handed to the layout's own code.
 */
#include <stdlib.h>

#include "virtq.h"

int
virtq_init(struct virtq *q, struct gmem *m, uint16_t size, bool packed, bool event_idx,
	   bool at_end)
{
	*q = (struct virtq){.size = size, .packed = packed, .event_idx = event_idx, .mem = m};
	if (size == 0 || (size & (size - 1)) != 0 || size > 32768)
		return -1;
	q->chain_len = calloc(size, sizeof(*q->chain_len));
	q->itable = calloc(size, sizeof(*q->itable));
	if (q->chain_len == NULL || q->itable == NULL || virtq_place(q, at_end) != 0)
		return -1;
	return packed ? packed_init(q) : split_init(q);
}

uint64_t
virtq_area(const struct virtq *q, int k, uint64_t *align)
{
	static const uint64_t split_align[3] = {16, 2, 4}, packed_align[3] = {16, 4, 4};

	if (q->packed) {
		*align = packed_align[k];
		return k == 0 ? 16ULL * q->size : 4;
	}
	*align = split_align[k];
	return k == 0 ? 16ULL * q->size : k == 1 ? 6 + 2ULL * q->size : 6 + 8ULL * q->size;
}

uint64_t
virtq_area_gpa(const struct virtq *q, int k)
{
	return k == 0 ? q->desc_gpa : k == 1 ? q->driver_gpa : q->device_gpa;
}

int
virtq_place(struct virtq *q, bool at_end)
{
	static const int split_down[3] = {2, 1, 0}, packed_down[3] = {0, 2, 1};
	uint64_t gpa[3], size, align;
	int j, k;

	for (j = 0; j < 3; j++) {
		k = !at_end ? j : q->packed ? packed_down[j] : split_down[j];
		size = virtq_area(q, k, &align);
		gpa[k] = at_end ? gmem_alloc_top(q->mem, size, align) : gmem_alloc(q->mem, size, align);
		if (gpa[k] == 0)
			return -1;
	}
	q->desc_gpa = gpa[0];
	q->driver_gpa = gpa[1];
	q->device_gpa = gpa[2];
	if (q->packed) {
		q->pdesc = gmem_ptr(q->mem, gpa[0], 16ULL * q->size);
		q->driver_event = gmem_ptr(q->mem, gpa[1], 4);
		q->device_event = gmem_ptr(q->mem, gpa[2], 4);
	} else {
		q->desc = gmem_ptr(q->mem, gpa[0], 16ULL * q->size);
		q->avail = gmem_ptr(q->mem, gpa[1], 6 + 2ULL * q->size);
		q->used = gmem_ptr(q->mem, gpa[2], 6 + 8ULL * q->size);
		q->used_event = &q->avail->ring[q->size];
		q->avail_event = (uint16_t *)&q->used->ring[q->size];
	}
	return 0;
}

void
virtq_set_base(struct virtq *q, uint32_t base)
{
	if (q->packed)
		packed_set_base(q, base);
	else
		split_set_base(q, (uint16_t)base);
}

void
virtq_fini(struct virtq *q)
{
	free(q->chain_len);
	free(q->itable);
	free(q->free_ids);
	free(q->unpublished);
	q->unpublished = NULL;
	q->chain_len = NULL;
	q->itable = NULL;
	q->free_ids = NULL;
}

/* Buffer id's indirect table: room for VIRTQ_MAX_SEGS descriptors (both
 * layouts' descriptors are 16 bytes), allocated the first time. */
uint64_t
virtq_itable(struct virtq *q, uint16_t id)
{
	if (q->itable[id] == 0)
		q->itable[id] = gmem_alloc(q->mem, 16 * VIRTQ_MAX_SEGS, 16);
	return q->itable[id];
}

int
virtq_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect)
{
	if (n < 1 || n > VIRTQ_MAX_SEGS || q->poisoned)
		return -1;
	return q->packed ? packed_add(q, segs, n, indirect) : split_add(q, segs, n, indirect);
}

void
virtq_publish(struct virtq *q)
{
	if (q->packed)
		packed_publish(q);
	else
		split_publish(q);
}

bool
virtq_kick_needed(struct virtq *q)
{
	bool kick = q->packed ? packed_kick_needed(q) : split_kick_needed(q);

	q->added = 0;
	return kick;
}

int
virtq_get_used(struct virtq *q, uint32_t *len)
{
	return q->packed ? packed_get_used(q, len) : split_get_used(q, len);
}

uint16_t
virtq_used_pending(struct virtq *q)
{
	return q->packed ? packed_pending(q) : split_pending(q);
}

bool
virtq_enable_interrupts(struct virtq *q)
{
	return q->packed ? packed_enable(q) : split_enable(q);
}

bool
virtq_enable_interrupts_delayed(struct virtq *q, uint16_t later)
{
	if (q->packed) {
		virtq_set_used_event(q, (uint16_t)(q->next_used + later));
	} else {
		__atomic_store_n(&q->avail->flags, 0, __ATOMIC_RELAXED);
		virtq_set_used_event(q, (uint16_t)(q->last_used + later));
	}
	/* set_used_event ends with a full barrier: now look. */
	return virtq_used_pending(q) > later;
}

void
virtq_disable_interrupts(struct virtq *q)
{
	if (q->packed)
		packed_set_event(q, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
	else
		__atomic_store_n(&q->avail->flags, VRING_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELAXED);
}

void
virtq_set_used_event(struct virtq *q, uint16_t idx)
{
	if (q->packed) {
		bool wrap = q->used_wrap;

		idx &= 0x7fff;
		if (idx >= q->size) { /* a slot in the next lap */
			idx -= q->size;
			wrap = !wrap;
		}
		packed_set_event(q, VRING_PACKED_EVENT_FLAG_DESC,
				 idx | (uint16_t)(wrap << VRING_PACKED_EVENT_F_WRAP_CTR));
	} else {
		__atomic_store_n(q->used_event, idx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
}

void
virtq_set_flags(struct virtq *q, uint16_t flags)
{
	if (q->packed)
		packed_set_event(q, flags, q->driver_event->off_wrap);
	else
		__atomic_store_n(&q->avail->flags, flags, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
