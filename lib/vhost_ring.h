/* SPDX-License-Identifier: BSD-3-Clause
 * A guest's split vring as the direct datapath holds it: what both
 * directions share (vhost_direct.c reads guest TX vrings, vhost_direct_rx.c
 * fills guest RX vrings). Taking a ring over from librte_vhost, translating
 * and checking descriptor chains, publishing used entries and deciding the
 * guest's interrupt, handing the positions back. The barriers and the
 * guest's barriers they pair with: docs/notifications.md, "The direct
 * datapath".
 */
#ifndef VQS_VHOST_RING_H
#define VQS_VHOST_RING_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_spinlock.h>

struct vqs_port;
struct rte_vhost_memory;
struct vring_desc;
struct vring_avail;
struct vring_used;

#define VQS_RING_MAX_SEGS 64 /* host segments of one chain (Linux uses up to
			      * 19 buffers): bounds the work one chain costs */

/* A stretch of guest memory as the switch sees it. */
struct vqs_seg {
	uint8_t *va;
	uint32_t len;
};

/* One split vring the switch processes itself. Only the PMD holding
 * 'lock' touches it, and destroy_device after its grace period. */
struct vqs_direct_ring {
	rte_spinlock_t lock;
	uint32_t ring_gen;     /* vhost.ring_gen it was set up at */
	uint32_t base_gen;     /* vhost.base_gen its indexes came from */
	bool own;              /* split ring set up: ours; else the library's */
	bool event_idx;
	bool mrg_rxbuf;        /* VIRTIO_NET_F_MRG_RXBUF negotiated */
	uint16_t hdr_len;      /* virtio-net header before each frame */
	uint16_t size;
	uint16_t last_avail;   /* next avail entry to take */
	uint16_t used_idx;     /* next used entry to write */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
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

/* Who reads a vring: the switch, the library (a packed ring, which the
 * switch does not process itself), or nobody until the next pass (set-up
 * failed on a ring whose positions the switch holds: the library's are
 * stale, so it must not touch it). */
enum vqs_ring_owner { VQS_RING_OWN, VQS_RING_LIBRARY, VQS_RING_RETRY };

void vqs_ring_init(struct vqs_direct_ring *r);
/* Frees our copy of the memory table and the call eventfd duplicate. */
void vqs_ring_release(struct vqs_direct_ring *r);
/* PMD, lock held, r->ring_gen != gen: takes the ring (again) from the
 * library: pointers, memory table, features; the positions only from a new
 * device (base_gen), then *new_base is set. */
enum vqs_ring_owner vqs_ring_setup(struct vqs_port *p, struct vqs_direct_ring *r,
				   uint16_t vq, uint32_t gen, bool *new_base);
/* destroy_device, after its grace period: the positions go back to the
 * library, which answers GET_VRING_BASE with them. */
void vqs_ring_save(struct vqs_port *p, struct vqs_direct_ring *r, int vid, uint16_t vq);

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
 * made after a full fence; an owed call is retried. */
void vqs_ring_publish(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t old);

#endif
