/* SPDX-License-Identifier: BSD-3-Clause
 * A guest's vring as the direct datapath holds it: what both directions
 * share (guest_tx.c reads guest TX vrings, guest_rx.c fills
 * guest RX vrings). Taking a ring over from librte_vhost, translating and
 * checking descriptor chains, publishing used entries and deciding the
 * guest's interrupt, handing the positions back: split rings in
 * ring.c, packed rings in ring_packed.c. The barriers and the
 * guest's barriers they pair with: docs/notifications.md, "The direct
 * datapath".
 */
#ifndef VQS_VHOST_RING_H
#define VQS_VHOST_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include <rte_spinlock.h>

#include "vqs_direct.h"

struct vqs_port;
struct vqs_vhost_state;
struct rte_vhost_memory;
struct rte_vhost_vring;
struct vring_desc;
struct vring_avail;
struct vring_used;
struct vring_packed_desc;
struct vring_packed_desc_event;

#define VQS_RING_MAX_SEGS 64 /* host segments of one chain (Linux uses up to
			      * 19 buffers): bounds the work one chain costs */

/* A stretch of guest memory as the switch sees it. */
struct vqs_seg {
	uint8_t *va;
	uint32_t len;
};

/* What a used entry gives back: the chain's id (split: its head; packed:
 * the buffer id of its last descriptor) and how many ring slots the chain
 * covered (split: 1 avail entry; packed: its descriptors). */
struct vqs_chain {
	uint16_t id;
	uint16_t ndesc;
};

/* A used entry of an RX burst, kept until the burst is sure and its
 * copies made (guest_rx.c): a packed used entry overwrites the
 * descriptor the guest made available, so nothing is written for a frame
 * that may still be undone; and the entries written together cost the
 * guest's used ring lines one trip between the CPUs, not many. */
struct vqs_used_stage {
	uint16_t pos;
	uint16_t id;
	uint32_t len;
};

/* One vring the switch processes itself. Only the PMD holding 'lock'
 * touches it, and destroy_device after its grace period. */
struct vqs_direct_ring {
	rte_spinlock_t lock;
	uint32_t ring_gen;     /* vhost.ring_gen it was set up at */
	uint32_t base_gen;     /* vhost.base_gen its indexes came from */
	bool own;              /* set up: ours; else the library's */
	bool packed;           /* VIRTIO_F_RING_PACKED: the packed layout */
	bool event_idx;
	bool used_hint;        /* split without EVENT_IDX: the used_event word
				* after the avail ring lies in guest memory
				* (Linux writes it anyway: the watchdog's
				* hint of what the guest consumed) */
	bool mrg_rxbuf;        /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	bool log;              /* VHOST_F_LOG_ALL negotiated: every write into
				* guest memory is logged (ring_log.c) */
	uint16_t hdr_len;      /* virtio-net header before each frame */
	uint8_t ol;            /* offloads (VQS_OL_*): a TX ring's guest may ask
				* for them, an RX ring's guest takes them */
	uint16_t size;
	uint16_t last_avail;   /* next avail entry to take (packed: slot | wrap) */
	uint16_t used_idx;     /* next used entry to write (packed: slot | wrap) */
	uint16_t first_flags;  /* packed: the flags of the burst's first used
				* entry, stored last (vqs_packed_publish) */
	union {
		struct vring_desc *desc;
		struct vring_packed_desc *pdesc;
	};
	union {
		struct vring_avail *avail;
		struct vring_packed_desc_event *driver_event;
	};
	union {
		struct vring_used *used;
		struct vring_packed_desc_event *device_event;
	};
	struct vqs_used_stage *stage; /* RX: a slot's worth each */
	uint16_t stage_slots;
	uint32_t refused_gen;  /* ring_gen whose rings failed the set-up's checks */
	struct rte_vhost_memory *mem;  /* our copy of the memory table */
	int callfd;            /* our duplicate of the call eventfd, or -1 */
	uint32_t callfd_gen;   /* vhost.fd_gen it was duplicated at */
	bool call_owed;        /* a call that could not be made yet */
	bool signalled_valid;  /* a call was decided since the ring started:
				* until then the first used entry is signalled
				* whatever used_event says, as Linux's vhost and
				* librte_vhost do (nothing says what the guest
				* saw before) */
};

/* One guest TX vring (queue pair q's odd vring). */
struct vqs_direct_txq {
	struct vqs_direct_ring r;
	uint16_t slots;        /* entries of taken[] and shinfo[] */
	struct vqs_chain *taken; /* chains taken, by the slot they start at */
	struct rte_mbuf_ext_shared_info *shinfo; /* one per chain id */
};

/* Queue pair q: the guest's TX vring (2q + 1) and RX vring (2q). */
struct vqs_direct_qp {
	struct vqs_direct_txq tx;
	struct vqs_direct_ring rx;
};

/* Who reads a vring: the switch, or nobody until the next pass (set-up
 * failed: if the switch holds its positions the library's are stale, so
 * the library must not touch it either). */
enum vqs_ring_owner { VQS_RING_OWN, VQS_RING_RETRY };

void vqs_ring_init(struct vqs_direct_ring *r);
/* Frees our copy of the memory table, the call eventfd duplicate and the
 * RX stage. */
void vqs_ring_release(struct vqs_direct_ring *r);
/* PMD, lock held, r->ring_gen != gen: takes the ring (again) from the
 * library: pointers, memory table, features; the positions only from a new
 * device (base_gen), then *new_base is set. */
enum vqs_ring_owner vqs_ring_setup(struct vqs_port *p, struct vqs_direct_ring *r,
				   uint16_t vq, uint32_t gen, bool *new_base);
/* destroy_device, after its grace period: the positions go back to the
 * library, which answers GET_VRING_BASE with them. */
void vqs_ring_save(struct vqs_port *p, struct vqs_direct_ring *r, int vid, uint16_t vq);

/* Guest-physical [gpa, gpa + len) as host segments appended from s[*n]
 * on; false if any of it is outside the memory table or the segments run
 * out. */
bool vqs_ring_translate(const struct vqs_direct_ring *r, uint64_t gpa, uint32_t len,
			struct vqs_seg *s, unsigned int *n);

/*
 * The buffers of the chain at head, in order, as host segments appended
 * from s[0]; returns the chain's length, or -1 for a bad chain: an index
 * out of range, a loop (more descriptors than the table holds), a buffer
 * whose direction is wrong (writable must be set on every buffer of an RX
 * chain and on none of a TX chain), an indirect table that is nested,
 * badly sized or not contiguous, a buffer outside guest memory, or more
 * than VQS_RING_MAX_SEGS segments. Each descriptor is read once.
 */
int64_t vqs_ring_chain(const struct vqs_direct_ring *r, uint16_t head, bool writable,
		       struct vqs_seg *s, unsigned int *n);

/* PMD, lock held: the used entries up to r->used_idx (written from old on)
 * are published with one release store of used->idx, and one call decision
 * made after a full fence; an owed call is retried. Packed rings: the
 * store is the flags of the first entry (vqs_packed_publish). */
void vqs_ring_publish(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t old);
/* The guest's call eventfd written (ring.c), or the call owed. */
void vqs_ring_call(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq);

/* Dirty-page logging (ring_log.c), only where r->log: after the
 * writes they stand for. [va, va + len) of guest memory written, within
 * one region; with marked (the page last marked, UINT64_MAX at first)
 * not marked again when it lies in that page: for marks that all follow
 * the writes they stand for (a batch's copies, then its marks). The used
 * entries from old to r->used_idx and the used index (split) just
 * published; the kick suppression word just written (split with
 * EVENT_IDX: avail_event; packed: the device event area). */
void vqs_ring_log_write(const struct vqs_direct_ring *r, int vid, const void *va, uint64_t len,
			uint64_t *marked);
void vqs_ring_log_used(const struct vqs_port *p, const struct vqs_direct_ring *r, uint16_t vq,
		       uint16_t old);
void vqs_ring_log_kicks(const struct vqs_port *p, const struct vqs_direct_ring *r, uint16_t vq);

/* The ring slot of a position: where its avail entry or descriptor is. */
static inline uint16_t
vqs_ring_slot(const struct vqs_direct_ring *r, uint16_t pos)
{
	return r->packed ? (uint16_t)(pos & VQS_PACKED_IDX) : (uint16_t)(pos & (r->size - 1));
}

/* Packed ring primitives (ring_packed.c). */
static inline uint16_t
vqs_packed_advance(const struct vqs_direct_ring *r, uint16_t pos, uint16_t n)
{
	uint32_t idx = (pos & VQS_PACKED_IDX) + n;
	uint16_t wrap = pos & VQS_PACKED_WRAP;

	if (idx >= r->size) {
		idx -= r->size;
		wrap ^= VQS_PACKED_WRAP;
	}
	return (uint16_t)(idx | wrap);
}

/* Slots from position 'from' to position 'to' (to not behind from). */
static inline uint16_t
vqs_packed_distance(const struct vqs_direct_ring *r, uint16_t from, uint16_t to)
{
	uint16_t a = from & VQS_PACKED_IDX, b = to & VQS_PACKED_IDX;

	return ((from ^ to) & VQS_PACKED_WRAP) ? (uint16_t)(r->size - a + b) : (uint16_t)(b - a);
}

/* Whether the guest made the descriptor at pos available (acquire). */
bool vqs_packed_avail(const struct vqs_direct_ring *r, uint16_t pos);
/*
 * The chain whose first descriptor is at pos, as vqs_ring_chain does for
 * split rings, and *c: its buffer id and descriptor count. -1: a bad
 * chain whose extent is known (*c valid: it can be given back); -2: a
 * chain that does not end within 'room' slots (nothing can be given back:
 * the ring stops there).
 */
int64_t vqs_packed_chain(const struct vqs_direct_ring *r, uint16_t pos, uint16_t room,
			 bool writable, struct vqs_seg *s, unsigned int *n, struct vqs_chain *c);
/* The used entry of the chain at pos, written but for the flags of the
 * burst's first entry (pos == old), which publish stores last. */
void vqs_packed_put_used(struct vqs_direct_ring *r, uint16_t pos, uint16_t id, uint32_t len,
			 uint16_t old);
/* vqs_ring_publish for packed rings, with at least one used entry since
 * old. */
void vqs_packed_publish(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t old);
/* Kicks wanted from the next avail descriptor on (our position, not the
 * library's stale one). */
void vqs_packed_kicks_on(struct vqs_direct_ring *r);

#endif
