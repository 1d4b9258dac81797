/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Dirty-page logging for live migration on the direct datapath. While a
 * guest's frontend has VHOST_F_LOG_ALL negotiated, every byte the switch
 * writes into guest memory is marked in the dirty log the frontend shares
 * (SET_LOG_BASE), through librte_vhost's public calls: the bytes written
 * into RX buffers (rte_vhost_log_write, by guest-physical address), the
 * used entries and index of split rings (rte_vhost_log_used_vring: at the
 * address the frontend gave for the used ring's log), the used entries
 * of packed rings (by their own addresses: see log_packed), and the kick
 * suppression words. Each mark follows the write it stands for: the
 * frontend clears a page's bit before it sends the page, so a page
 * marked before the write could be sent without it (the library's mark
 * has a release fence before it for the same reason). Nothing here runs
 * unless r->log is set: a ring set up with LOG_ALL negotiated.
 *
 * The log may be replaced (SET_LOG_BASE) and LOG_ALL turned on or off
 * (SET_FEATURES) while the device runs: both pause the port until the
 * library has the new state (vhost/guard.c), and the rings are set up
 * again after (ring_gen), so r->log follows the features. The pause
 * waits for the PMDs only so long (a PMD may be waiting for a vq lock
 * that the message holds), and a PMD that is slow to finish its burst
 * must still not mark a log the library has unmapped meanwhile: so every
 * mark is made between vqs_ring_log_enter and _exit, and the message
 * waits, with no bound, until no mark is being made (nothing between
 * the two waits for anything), and keeps new ones out until it is done.
 * A burst that wanted to mark meanwhile waits for the new log and marks
 * that one (the frontend reads the old log once more after replacing it,
 * and the new one from then on: either is right).
 */
#include <stddef.h>

#include <rte_pause.h>
#include <rte_vhost.h>

#include "ring.h"
#include "vqs_switch.h"

void
vqs_ring_log_enter(struct vqs_vhost_state *vh)
{
	for (;;) {
		/* SEQ_CST, both sides: our count before our look at log_swap,
		 * the guard's log_swap before its look at the count. */
		__atomic_fetch_add(&vh->log_writers, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&vh->log_swap, __ATOMIC_SEQ_CST))
			return;
		__atomic_fetch_sub(&vh->log_writers, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&vh->log_swap, __ATOMIC_ACQUIRE))
			rte_pause();
	}
}

void
vqs_ring_log_exit(struct vqs_vhost_state *vh)
{
	__atomic_fetch_sub(&vh->log_writers, 1, __ATOMIC_RELEASE);
}

void
vqs_ring_log_swap_begin(struct vqs_vhost_state *vh)
{
	__atomic_store_n(&vh->log_swap, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&vh->log_writers, __ATOMIC_SEQ_CST) != 0)
		rte_pause();
}

void
vqs_ring_log_swap_end(struct vqs_vhost_state *vh)
{
	__atomic_store_n(&vh->log_swap, 0, __ATOMIC_RELEASE);
}

bool
vqs_mem_gpa_of(const struct rte_vhost_memory *mem, const void *va, uint64_t len, uint64_t *gpa)
{
	uintptr_t a = (uintptr_t)va;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *m = &mem->regions[i];

		if (a >= m->host_user_addr && a - m->host_user_addr < m->size &&
		    len <= m->size - (a - m->host_user_addr)) {
			*gpa = m->guest_phys_addr + (a - m->host_user_addr);
			return true;
		}
	}
	return false;
}

#define LOG_PAGE 4096 /* VHOST_LOG_PAGE: one bit of the log */

void
vqs_ring_log_write(const struct vqs_direct_ring *r, int vid, const void *va, uint64_t len,
		   uint64_t *marked)
{
	uint64_t gpa, last;

	/* Within one region: vqs_ring_translate splits segments where
	 * regions end. */
	if (len == 0 || !vqs_mem_gpa_of(r->mem, va, len, &gpa))
		return;
	last = (gpa + len - 1) / LOG_PAGE;
	if (marked != NULL) {
		if (gpa / LOG_PAGE == *marked && last == *marked)
			return; /* marked after this write already */
		*marked = last;
	}
	rte_vhost_log_write(vid, gpa, len);
}

/* A packed ring's used entries are its descriptors. librte_vhost logs
 * them at the used ring's log address plus their offset, but QEMU gives
 * a packed ring's device event area as that address (its used_phys), so
 * the descriptors are logged where they are instead. */
static void
log_packed(const struct vqs_direct_ring *r, int vid, uint16_t old)
{
	uint16_t from = old & VQS_PACKED_IDX, n = vqs_packed_distance(r, old, r->used_idx);
	uint16_t first = RTE_MIN(n, (uint16_t)(r->size - from));

	if (n == 0)
		return;
	vqs_ring_log_write(r, vid, &r->pdesc[from], (uint64_t)first * sizeof(r->pdesc[0]), NULL);
	if (n > first)
		vqs_ring_log_write(r, vid, &r->pdesc[0], (uint64_t)(n - first) * sizeof(r->pdesc[0]),
				   NULL);
}

void
vqs_ring_log_used(const struct vqs_port *p, const struct vqs_direct_ring *r, uint16_t vq,
		  uint16_t old)
{
	int vid = __atomic_load_n(&p->vhost.vid, __ATOMIC_RELAXED);
	uint16_t n, from, first;

	if (r->packed) {
		log_packed(r, vid, old);
		return;
	}
	n = (uint16_t)(r->used_idx - old);
	from = old & (r->size - 1);
	first = RTE_MIN(n, (uint16_t)(r->size - from));
	rte_vhost_log_used_vring(vid, vq, offsetof(struct vring_used, ring) +
				 from * sizeof(struct vring_used_elem),
				 first * sizeof(struct vring_used_elem));
	if (n > first)
		rte_vhost_log_used_vring(vid, vq, offsetof(struct vring_used, ring),
					 (n - first) * sizeof(struct vring_used_elem));
	rte_vhost_log_used_vring(vid, vq, offsetof(struct vring_used, idx), sizeof(uint16_t));
}

void
vqs_ring_log_kicks(const struct vqs_port *p, const struct vqs_direct_ring *r, uint16_t vq)
{
	int vid = __atomic_load_n(&p->vhost.vid, __ATOMIC_RELAXED);

	if (r->packed)
		vqs_ring_log_write(r, vid, r->device_event, sizeof(*r->device_event), NULL);
	else if (r->event_idx) /* avail_event, after the used ring */
		rte_vhost_log_used_vring(vid, vq, offsetof(struct vring_used, ring) +
					 r->size * sizeof(struct vring_used_elem), sizeof(uint16_t));
}
