/* SPDX-License-Identifier: BSD-3-Clause
 * Split virtqueue, driver side: descriptor table, avail ring (with
 * used_event after it), used ring (with avail_event after it).
 */
#include "virtq.h"

int
split_init(struct virtq *q)
{
	uint16_t i;

	/* Free descriptors are chained through .next. */
	for (i = 0; i < q->size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->num_free = q->size;
	return 0;
}

/* Both indexes at base, in memory too: as left by an earlier run, else
 * the device would see base entries to take and we as many to consume. */
void
split_set_base(struct virtq *q, uint16_t base)
{
	q->avail_idx = q->last_used = base;
	q->avail->idx = base;
	q->used->idx = base;
	*q->used_event = base;
}

static void
fill(struct vring_desc *d, const struct vq_seg *s, bool more)
{
	d->addr = s->gpa;
	d->len = s->len;
	d->flags = (s->write ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0);
}

int
split_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect)
{
	uint16_t need = indirect ? 1 : (uint16_t)n;
	uint16_t head = q->free_head, i = head, last = head;
	int k;

	if (q->num_free < need)
		return -1;
	if (indirect) {
		struct vring_desc *t;
		uint64_t tgpa = virtq_itable(q, head);

		t = gmem_ptr(q->mem, tgpa, 16 * VIRTQ_MAX_SEGS);
		if (t == NULL)
			return -1;
		for (k = 0; k < n; k++) {
			fill(&t[k], &segs[k], k + 1 < n);
			t[k].next = (uint16_t)(k + 1);
		}
		q->desc[head].addr = tgpa;
		q->desc[head].len = 16u * n;
		q->desc[head].flags = VRING_DESC_F_INDIRECT;
	} else {
		for (k = 0; k < n; k++) {
			fill(&q->desc[i], &segs[k], k + 1 < n);
			last = i;
			i = q->desc[i].next;
		}
	}
	q->free_head = q->desc[last].next;
	q->num_free -= need;
	q->chain_len[head] = need;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	q->added++;
	return head;
}

void
split_publish(struct virtq *q)
{
	/* Descriptors and ring entries before the index that exposes them
	 * (virtio_wmb in Linux). */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
}

bool
split_kick_needed(struct virtq *q)
{
	uint16_t new_idx = q->avail_idx, old_idx = (uint16_t)(new_idx - q->added);

	/* The new index must be visible before we read the device's wishes,
	 * or both sides may decide the other one will act (virtio_mb). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		return vring_need_event(__atomic_load_n(q->avail_event, __ATOMIC_RELAXED),
					new_idx, old_idx);
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
}

uint16_t
split_pending(struct virtq *q)
{
	return (uint16_t)(__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) - q->last_used);
}

int
split_get_used(struct virtq *q, uint32_t *len)
{
	struct vring_used_elem e;
	uint16_t id, i, k;

	/* Acquire: the entry is read only after the index that covers it. */
	if (split_pending(q) == 0)
		return -1;
	e = q->used->ring[q->last_used & (q->size - 1)];
	if (q->poisoned) {
		q->last_used++;
		return -2;
	}
	if (e.id >= q->size || q->chain_len[e.id] == 0)
		return -2; /* the device returned a buffer we never gave it */
	id = (uint16_t)e.id;
	*len = e.len;
	for (i = id, k = 1; k < q->chain_len[id]; k++)
		i = q->desc[i].next;
	q->desc[i].next = q->free_head;
	q->free_head = id;
	q->num_free += q->chain_len[id];
	q->chain_len[id] = 0;
	q->last_used++;
	return id;
}

bool
split_enable(struct virtq *q)
{
	__atomic_store_n(&q->avail->flags, 0, __ATOMIC_RELAXED);
	/* Linux writes it with EVENT_IDX or without (the watchdog reads it
	 * as a hint of what was consumed when EVENT_IDX is off). */
	if (q->event_idx || q->used_hint)
		__atomic_store_n(q->used_event, q->last_used, __ATOMIC_RELAXED);
	/* Publish the wish before looking for entries that came meanwhile:
	 * without it the device may miss the wish and we the entries. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return split_pending(q) != 0;
}
