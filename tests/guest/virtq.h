/* SPDX-License-Identifier: BSD-3-Clause
 * The driver's side of one virtqueue, split or packed, in guest memory:
 * what a virtio driver does, one step at a time, so that a test decides
 * when buffers are made available, when the device is kicked and when
 * used entries are consumed. Barriers follow Linux's virtio_ring.c.
 */
#ifndef VQG_VIRTQ_H
#define VQG_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "guest_mem.h"

#define VIRTQ_MAX_SEGS 64 /* descriptors in one chain or indirect table */

struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device writes it (RX buffers) */
};

struct virtq {
	uint16_t size;
	bool packed;
	bool event_idx;
	bool used_hint; /* split: used_event written on enable without
			 * EVENT_IDX too, as Linux does */
	struct gmem *mem;
	uint64_t desc_gpa, driver_gpa, device_gpa; /* for SET_VRING_ADDR */

	/* split layout */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;  /* in the avail ring: written by us */
	uint16_t *avail_event; /* in the used ring: written by the device */
	uint16_t avail_idx;    /* next avail index to publish */
	uint16_t last_used;    /* next used entry to consume */
	uint16_t free_head;    /* descriptors chained through .next */

	/* packed layout */
	struct vring_packed_desc *pdesc;
	struct vring_packed_desc_event *driver_event; /* written by us */
	struct vring_packed_desc_event *device_event; /* written by the device */
	uint16_t next_avail, next_used;
	bool avail_wrap, used_wrap;
	uint16_t *free_ids;    /* stack of unused buffer ids */
	uint16_t n_free_ids;
	struct {               /* chains added, heads not yet made available */
		uint16_t slot, flags;
	} *unpublished;
	uint16_t n_unpublished;

	uint16_t num_free;     /* descriptors (split) or slots (packed) */
	bool poisoned;         /* raw descriptors written: no more adds, and
				* used entries are not trusted to free any */
	uint16_t added;        /* split: buffers, packed: slots made available
				* since the last kick check */
	uint16_t *chain_len;   /* per buffer id: descriptors it took */
	uint64_t *itable;      /* per buffer id: its indirect table, or 0 */
};

/* at_end: the rings from the end of guest memory down (see virtq_place). */
int virtq_init(struct virtq *q, struct gmem *m, uint16_t size, bool packed, bool event_idx,
	       bool at_end);
void virtq_fini(struct virtq *q);
/* Area k (0..2) of the rings: split descriptors, avail ring (used_event
 * after it), used ring (avail_event after it); packed descriptors, driver
 * event, device event. Its size (align set) and its guest address. */
uint64_t virtq_area(const struct virtq *q, int k, uint64_t *align);
uint64_t virtq_area_gpa(const struct virtq *q, int k);
/* Fresh zeroed room for the three areas, pointers set to it: after what
 * was allocated, or (at_end) from the end of guest memory down, the area
 * a larger ring would run past first (split: used, packed: descriptors)
 * the highest. 0, or -1 when guest memory is full. */
int virtq_place(struct virtq *q, bool at_end);
/* The ring as the device finds it after SET_VRING_BASE(base): indexes
 * (split; packed: slot and wrap counter, bit 15) there on both sides.
 * A packed slot past the ring poisons it. */
void virtq_set_base(struct virtq *q, uint32_t base);
/* Chains n segments (or one indirect descriptor pointing at them) and
 * makes the chain available; the buffer id, or -1 when the ring is full. */
int virtq_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect);
/* Publishes what virtq_add queued (split: the avail index). */
void virtq_publish(struct virtq *q);
/* After publishing: does the device want a kick (its event suppression)? */
bool virtq_kick_needed(struct virtq *q);
/* The next used entry: its buffer id (len set), or -1 if none. */
int virtq_get_used(struct virtq *q, uint32_t *len);
/* Used entries published by the device and not consumed yet. */
uint16_t virtq_used_pending(struct virtq *q);
/* Interrupt suppression, the way a driver does it. enable: ask for an
 * interrupt at the next used entry (EVENT_IDX: used_event = last used)
 * and report, after a full barrier, whether entries are pending already. */
bool virtq_enable_interrupts(struct virtq *q);
void virtq_disable_interrupts(struct virtq *q);
/* Linux's enable_cb_delayed: an interrupt only after `later` more used
 * entries; whether the device is past that point already. */
bool virtq_enable_interrupts_delayed(struct virtq *q, uint16_t later);
/* EVENT_IDX: interrupt when the device's used index passes idx. */
void virtq_set_used_event(struct virtq *q, uint16_t idx);
/* Raw flags (split: avail flags; packed: driver event flags). */
void virtq_set_flags(struct virtq *q, uint16_t flags);

/* virtq_split.c / virtq_packed.c */
uint64_t virtq_itable(struct virtq *q, uint16_t id);
int split_init(struct virtq *q);
void split_set_base(struct virtq *q, uint16_t base);
int split_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect);
void split_publish(struct virtq *q);
bool split_kick_needed(struct virtq *q);
int split_get_used(struct virtq *q, uint32_t *len);
uint16_t split_pending(struct virtq *q);
bool split_enable(struct virtq *q);
int packed_init(struct virtq *q);
void packed_set_base(struct virtq *q, uint32_t base);
int packed_add(struct virtq *q, const struct vq_seg *segs, int n, bool indirect);
/* Writes d at *slot with the avail bits of *wrap and moves on. A head's
 * flags are only returned: they make the chain available, so they are
 * stored last. */
uint16_t packed_put(struct virtq *q, uint16_t *slot, bool *wrap, const struct vring_packed_desc *d,
		    bool head);
void packed_set_event(struct virtq *q, uint16_t flags, uint16_t off_wrap);
void packed_publish(struct virtq *q);
bool packed_kick_needed(struct virtq *q);
int packed_get_used(struct virtq *q, uint32_t *len);
uint16_t packed_pending(struct virtq *q);
bool packed_enable(struct virtq *q);

#endif
