/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Guest TX vrings processed by the switch (split rings). Ordering, with
 * the guest's side (Linux drivers/virtio/virtio_ring.c) it pairs with:
 *  - avail->idx is loaded with acquire: pairs with the guest's
 *    virtio_wmb() between writing the avail ring entry (and descriptors)
 *    and storing avail->idx. Entries and descriptors are read after it.
 *  - used->ring entries are written, then used->idx stored with release:
 *    pairs with the guest's virtio_rmb() after it loads used->idx and
 *    before it reads the entries (virtqueue_get_buf).
 *  - a full fence, then used_event (EVENT_IDX) or avail->flags is read
 *    for the call decision: pairs with the guest's virtio_mb() between
 *    writing used_event / clearing NO_INTERRUPT and re-reading used->idx
 *    (virtqueue_enable_cb_prepare/_delayed). Without the fence the load
 *    could pass the store and both sides would miss the interrupt.
 * Every descriptor is read once into a local copy, its address translated
 * through our copy of the memory table and bounds-checked; a bad chain
 * goes back used with length 0 and counts as drop_bad_desc.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_vhost.h>

#include "ratelimit.h"
#include "switch.h"
#include "vhost_direct.h"
#include "vhost_internal.h"

#define MAX_SEGS 64 /* buffers of one chain (Linux uses up to 19): bounds
		     * the work one chain costs */
#define COPY_BELOW 512 /* shorter frames are copied (measured: scripts/bench.sh --direct) */

struct seg {
	uint8_t *va;
	uint32_t len;
};

int
vqs_direct_port_init(struct vqs_port *p)
{
	unsigned int q;

	p->vhost.direct = rte_zmalloc("direct", VQS_VHOST_MAX_QP * sizeof(*p->vhost.direct),
				      RTE_CACHE_LINE_SIZE);
	if (p->vhost.direct == NULL)
		return -ENOMEM;
	for (q = 0; q < VQS_VHOST_MAX_QP; q++) {
		rte_spinlock_init(&p->vhost.direct[q].lock);
		p->vhost.direct[q].callfd = -1;
	}
	return 0;
}

static void
txq_release(struct vqs_direct_txq *t)
{
	free(t->mem); /* rte_vhost_get_mem_table's malloc */
	t->mem = NULL;
	rte_free(t->head);
	rte_free(t->shinfo);
	t->head = NULL;
	t->shinfo = NULL;
	if (t->callfd >= 0)
		close(t->callfd);
	t->callfd = -1;
	t->own = false;
	t->size = 0;
}

void
vqs_direct_port_free(struct vqs_port *p)
{
	unsigned int q;

	if (p->vhost.direct == NULL)
		return;
	for (q = 0; q < VQS_VHOST_MAX_QP; q++)
		txq_release(&p->vhost.direct[q]);
	rte_free(p->vhost.direct);
	p->vhost.direct = NULL;
}

void
vqs_direct_save(struct vqs_port *p, int vid)
{
	unsigned int q;

	if (p->vhost.direct == NULL)
		return;
	for (q = 0; q < VQS_VHOST_MAX_QP; q++) {
		struct vqs_direct_txq *t = &p->vhost.direct[q];

		/* The base was the library's until a PMD set the ring up. */
		if (t->own && t->base_gen == __atomic_load_n(&p->vhost.base_gen, __ATOMIC_RELAXED))
			rte_vhost_set_vring_base(vid, (uint16_t)(2 * q + 1), t->last_avail,
						 t->used_idx);
		t->own = false;
		t->ring_gen = 0; /* set up again on the next device */
	}
}

static void
ext_free(void *addr __rte_unused, void *opaque __rte_unused)
{
	/* Nothing to do: completion sees the count at zero. */
}

/* Who reads a vring: the switch, the library (a packed ring, which the
 * switch does not read itself), or nobody until the next pass (set-up
 * failed on a ring whose positions the switch holds: the library's are
 * stale, so it must not read it). */
enum owner { OWN, LIBRARY, RETRY };

/* The PMD takes the ring over (again): pointers, memory table, features;
 * the positions only from a new device (base_gen), else they are ours. */
static enum owner
txq_setup(struct vqs_port *p, struct vqs_direct_txq *t, uint16_t vq, uint32_t gen)
{
	int vid = __atomic_load_n(&p->vhost.vid, __ATOMIC_RELAXED);
	uint32_t base_gen = __atomic_load_n(&p->vhost.base_gen, __ATOMIC_RELAXED);
	struct rte_vhost_memory *mem = NULL;
	struct rte_vhost_vring vr;
	uint64_t features = 0;
	uint16_t last_avail, last_used, i;

	t->ring_gen = 0; /* until it is set up */
	t->own = false;
	if (t->callfd >= 0)
		close(t->callfd);
	t->callfd = -1;
	t->call_owed = false;
	if (rte_vhost_get_negotiated_features(vid, &features) != 0)
		return RETRY;
	if (features & (1ULL << VIRTIO_F_RING_PACKED)) {
		t->ring_gen = gen;
		return LIBRARY;
	}
	if (rte_vhost_get_vhost_vring(vid, vq, &vr) != 0 || vr.desc == NULL ||
	    vr.avail == NULL || vr.used == NULL || vr.size == 0 || (vr.size & (vr.size - 1)) ||
	    rte_vhost_get_mem_table(vid, &mem) != 0)
		return RETRY;
	free(t->mem);
	t->mem = mem;
	if (t->size != vr.size) {
		rte_free(t->head);
		rte_free(t->shinfo);
		t->head = rte_zmalloc("direct_head", vr.size * sizeof(*t->head), 0);
		t->shinfo = rte_zmalloc("direct_shinfo", vr.size * sizeof(*t->shinfo),
					RTE_CACHE_LINE_SIZE);
		t->size = vr.size;
		if (t->head == NULL || t->shinfo == NULL) {
			txq_release(t);
			return RETRY;
		}
		for (i = 0; i < vr.size; i++)
			t->shinfo[i].free_cb = ext_free;
	}
	if (t->base_gen != base_gen) {
		if (rte_vhost_get_vring_base(vid, vq, &last_avail, &last_used) != 0)
			return RETRY;
		t->last_avail = last_avail;
		t->used_idx = last_avail; /* the library resynced used to it */
		t->base_gen = base_gen;
		t->signalled_valid = false;
		/* A new device: nothing of the old one is in flight (each
		 * pass gave every chain back before the device went). */
		for (i = 0; i < t->size; i++)
			rte_mbuf_ext_refcnt_set(&t->shinfo[i], 0);
	}
	t->desc = vr.desc;
	t->avail = vr.avail;
	t->used = vr.used;
	t->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	t->hdr_len = features & ((1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_F_VERSION_1)) ?
		     sizeof(struct virtio_net_hdr_mrg_rxbuf) : sizeof(struct virtio_net_hdr);
	t->own = true;
	t->ring_gen = gen;
	return OWN;
}

/* Guest-physical [gpa, gpa + len) as host segments appended to s; false
 * if any of it is outside the memory table. */
static bool
translate(const struct vqs_direct_txq *t, uint64_t gpa, uint32_t len, struct seg *s,
	  unsigned int *n)
{
	while (len > 0) {
		uint64_t chunk = len;
		uint64_t va = rte_vhost_va_from_guest_pa(t->mem, gpa, &chunk);

		if (va == 0 || chunk == 0 || *n == MAX_SEGS)
			return false;
		s[*n].va = (uint8_t *)(uintptr_t)va;
		s[*n].len = (uint32_t)chunk;
		(*n)++;
		gpa += chunk;
		len -= (uint32_t)chunk;
	}
	return true;
}

/*
 * The buffers of the chain at head, in order; returns the total length,
 * or -1 for a bad chain: an index out of range, a loop (more descriptors
 * than the table holds), a device-writable buffer (a TX buffer is read
 * only), an indirect table that is nested, badly sized or unmapped, a
 * buffer outside guest memory, or more than MAX_SEGS buffers.
 */
static int64_t
chain_segs(const struct vqs_direct_txq *t, uint16_t head, struct seg *s, unsigned int *n)
{
	const struct vring_desc *table = t->desc;
	uint32_t entries = t->size, idx = head, count = 0;
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
			rte_vhost_va_from_guest_pa(t->mem, d.addr, &chunk);
		if (table == NULL || chunk != d.len)
			return -1; /* an indirect table must be contiguous */
		entries = d.len / sizeof(d);
		idx = 0;
		memcpy(&d, &table[0], sizeof(d));
	}
	for (;;) {
		if ((d.flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) ||
		    ++count > entries)
			return -1;
		total += d.len;
		if (!translate(t, d.addr, d.len, s, n))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return (int64_t)total;
		idx = d.next;
		if (idx >= entries)
			return -1;
		memcpy(&d, &table[idx], sizeof(d));
	}
}

/* The frame copied into head, and more mbufs of pool chained to it if it
 * is longer: from byte off of the segments on. false (head freed) when
 * the pool runs out. */
static bool
copy_frame(struct rte_mbuf *head, struct rte_mempool *pool, const struct seg *s,
	   uint32_t off, uint32_t len)
{
	struct rte_mbuf *m = head, *next;
	unsigned int i = 0;

	while (off >= s[i].len) /* the header's segments */
		off -= s[i++].len;
	while (len > 0) {
		uint32_t room, take;

		if (rte_pktmbuf_tailroom(m) == 0) {
			next = rte_pktmbuf_alloc(pool);
			if (next == NULL) {
				rte_pktmbuf_free(head);
				return false;
			}
			m->next = next;
			head->nb_segs++;
			m = next;
		}
		room = rte_pktmbuf_tailroom(m);
		take = RTE_MIN(RTE_MIN(room, s[i].len - off), len);
		rte_memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len), s[i].va + off, take);
		m->data_len += take;
		head->pkt_len += take;
		len -= take;
		off += take;
		if (off == s[i].len) {
			i++;
			off = 0;
		}
	}
	return true;
}

enum take_result { TAKEN, NO_MBUF, BAD_CHAIN, TOO_LONG, IN_FLIGHT };

/*
 * The common short frame, without the general walk: one descriptor (no
 * NEXT, no INDIRECT, device-readable) in one region, holding the header
 * and a frame shorter than COPY_BELOW, copied into m's own buffer. false
 * leaves everything to the general path (which re-reads the descriptor).
 */
static inline bool
take_short(const struct vqs_direct_txq *t, uint16_t head, uint32_t max_frame,
	   struct rte_mbuf *m, uint32_t *len)
{
	struct vring_desc d;
	uint64_t chunk;
	uint8_t *va;

	memcpy(&d, &t->desc[head], sizeof(d)); /* once */
	if (d.flags != 0 || d.len <= t->hdr_len || d.len - t->hdr_len >= COPY_BELOW ||
	    d.len - t->hdr_len > max_frame)
		return false;
	chunk = d.len;
	va = (uint8_t *)(uintptr_t)rte_vhost_va_from_guest_pa(t->mem, d.addr, &chunk);
	if (va == NULL || chunk != d.len)
		return false;
	*len = d.len - t->hdr_len;
	rte_memcpy(rte_pktmbuf_mtod(m, uint8_t *), va + t->hdr_len, *len);
	m->data_len = (uint16_t)*len;
	m->pkt_len = *len;
	return true;
}

/*
 * The frame of one chain in m (an mbuf of the caller's, used up only when
 * TAKEN), or why not: no mbuf, a bad chain, a frame longer than max_frame
 * (*len says how long: the switch counts it as a bad frame, as it does
 * one that came through the library, without it costing mbufs). One
 * buffer after the header, untagged and not short: m points into guest
 * memory, with the chain's shared info (count 1 until it is freed).
 * Anything else is copied: below COPY_BELOW bytes a copy costs less than
 * an external buffer's attach and release.
 */
static enum take_result
take_frame(struct vqs_direct_txq *t, uint16_t head, struct rte_mempool *pool,
	   uint32_t max_frame, struct rte_mbuf *m, uint32_t *len)
{
	struct rte_mbuf_ext_shared_info *sh = &t->shinfo[head];
	struct seg s[MAX_SEGS];
	unsigned int n, i;
	int64_t total;
	uint32_t off;
	uint16_t type;

	if (rte_mbuf_ext_refcnt_read(sh) != 0)
		return IN_FLIGHT; /* the guest put it in the avail ring twice */
	if (take_short(t, head, max_frame, m, len))
		return TAKEN;
	total = chain_segs(t, head, s, &n);
	if (total < 0 || total <= t->hdr_len)
		return BAD_CHAIN; /* or no frame after the header */
	if (total - t->hdr_len > max_frame) {
		*len = (uint32_t)RTE_MIN(total - t->hdr_len, (int64_t)UINT32_MAX);
		return TOO_LONG;
	}
	*len = (uint32_t)total - t->hdr_len;
	for (i = 0, off = t->hdr_len; i < n && off >= s[i].len; i++)
		off -= s[i].len;
	if (i < n && s[i].len - off == *len && *len >= COPY_BELOW && *len <= UINT16_MAX) {
		memcpy(&type, s[i].va + off + 2 * RTE_ETHER_ADDR_LEN, sizeof(type));
		if (type != rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
			rte_mbuf_ext_refcnt_set(sh, 1);
			rte_pktmbuf_attach_extbuf(m, s[i].va + off, RTE_BAD_IOVA, (uint16_t)*len, sh);
			m->data_len = (uint16_t)*len;
			m->pkt_len = *len;
			return TAKEN;
		}
	}
	return copy_frame(m, pool, s, t->hdr_len, *len) ? TAKEN : NO_MBUF;
}

uint16_t
vqs_direct_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, struct rte_mempool *pool,
	      uint32_t max_frame, struct rte_mbuf **pkts, uint16_t n, bool *held)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_vhost_state *vh = &p->vhost;
	struct vqs_direct_txq *t = &vh->direct[q];
	uint16_t vq = 2 * q + 1, avail_idx, count, i, got = 0, head;
	uint32_t gen = __atomic_load_n(&vh->ring_gen, __ATOMIC_RELAXED);
	struct vqs_port_stats *st = &p->stats[pmd_id];
	struct rte_mbuf *mb[VQS_BURST];
	uint16_t used_mb = 0;
	enum take_result r;
	uint32_t len;

	*held = false;
	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE))
		return 0;
	if (!rte_spinlock_trylock(&t->lock))
		return 0; /* another PMD still has it for a pass (a queue moved) */
	if (t->ring_gen != gen || !t->own) {
		enum owner o = t->ring_gen == gen ? LIBRARY : txq_setup(p, t, vq, gen);

		if (o != OWN) {
			rte_spinlock_unlock(&t->lock);
			return o == LIBRARY ? vqs_vhost_rx(p, q, pool, pkts, n) : 0;
		}
	}
	*held = true;
	/* Acquire: pairs with the guest's barrier before its avail->idx store. */
	avail_idx = __atomic_load_n(&t->avail->idx, __ATOMIC_ACQUIRE);
	count = (uint16_t)(avail_idx - t->last_avail);
	if (count > t->size) {
		/* More entries than the ring has: a broken or hostile guest.
		 * Nothing is taken; the watchdog reports the stalled ring. */
		VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: avail index %u is %u ahead of %u: not read",
			   p->conf.name, vq, avail_idx, count, t->last_avail);
		return 0;
	}
	/* What is taken and not given back yet keeps its place in head[]. */
	count = RTE_MIN(count, RTE_MIN(n, VQS_BURST));
	count = RTE_MIN(count, (uint16_t)(t->size - (uint16_t)(t->last_avail - t->used_idx)));
	if (count == 0 || rte_pktmbuf_alloc_bulk(pool, mb, count) != 0)
		return 0; /* out of mbufs: the chains stay the guest's for now */
	for (i = 0; i < count; i++) {
		uint16_t pos = t->last_avail & (t->size - 1);

		head = __atomic_load_n(&t->avail->ring[pos], __ATOMIC_RELAXED);
		if (head >= t->size) {
			/* No used entry can name it: the ring stops here. */
			VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: descriptor %u out of range: ring stopped",
				   p->conf.name, vq, head);
			break;
		}
		r = take_frame(t, head, pool, max_frame, mb[used_mb], &len);
		if (r == NO_MBUF) {
			used_mb++; /* copy_frame freed it */
			break; /* the chain stays the guest's for now */
		}
		if (r == IN_FLIGHT) {
			/* Its buffer is still being read: neither it nor what
			 * follows can be taken. The ring stops (the watchdog
			 * counts a stall) until the guest resets it. */
			VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: descriptor %u made available twice: ring stopped",
				   p->conf.name, vq, head);
			break;
		}
		t->head[pos] = head;
		t->last_avail++;
		if (r == TAKEN) {
			pkts[got++] = mb[used_mb++];
		} else if (r == TOO_LONG) {
			/* Counted as the switch counts it from the library. */
			vqs_count(&st->rx_packets, 1);
			vqs_count(&st->rx_bytes, len);
			vqs_count(&st->drops[VQS_DROP_BAD_FRAME], 1);
		} else {
			vqs_count(&st->drops[VQS_DROP_BAD_DESC], 1);
		}
	}
	if (used_mb < count)
		rte_pktmbuf_free_bulk(&mb[used_mb], count - used_mb);
	return got;
}

/* The guest's call eventfd, through our duplicate: made again whenever
 * the library may have replaced the eventfd (fd_gen, vhost_notify.c). */
static void
call_guest(struct vqs_port *p, struct vqs_direct_txq *t, uint16_t vq)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint32_t gen = __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST);
	uint32_t left = __atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED);

	t->call_owed = false;
	if (unlikely(left != 0)) { /* fault injection: swallowed */
		__atomic_store_n(&vh->drop_calls, left - 1, __ATOMIC_RELAXED);
		return;
	}
	if (t->callfd < 0 || t->callfd_gen != gen) {
		if (t->callfd >= 0)
			close(t->callfd);
		t->callfd = (gen & 1) ? -1 : vqs_vhost_vring_fd_dup(p, vq, false);
		t->callfd_gen = gen;
	}
	if (t->callfd < 0 || eventfd_write(t->callfd, 1) != 0) {
		t->call_owed = true; /* being replaced: at the next pass */
		return;
	}
	__atomic_fetch_add(&vh->guest_notifications[vq], 1, __ATOMIC_RELAXED);
}

void
vqs_direct_complete(struct vqs_port *p, uint16_t q)
{
	struct vqs_direct_txq *t = &p->vhost.direct[q];
	uint16_t vq = 2 * q + 1, old = t->used_idx, idx = old, mask = t->size - 1;
	uint16_t used_event;
	bool call;

	while (idx != t->last_avail) {
		uint16_t head = t->head[idx & mask];
		struct vring_used_elem e = { head, 0 };

		/* Still referenced: it and the ones after it wait (the used
		 * ring keeps the order they were taken in). */
		if (rte_mbuf_ext_refcnt_read(&t->shinfo[head]) != 0)
			break;
		memcpy(&t->used->ring[idx & mask], &e, sizeof(e));
		idx++;
	}
	if (idx != old) {
		/* Release: pairs with the guest's barrier after its used->idx load. */
		__atomic_store_n(&t->used->idx, idx, __ATOMIC_RELEASE);
		t->used_idx = idx;
		/* Full fence: our used->idx store before the used_event/flags
		 * load; the guest's mb() orders its used_event store before its
		 * used->idx reload. */
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (t->event_idx) {
			used_event = __atomic_load_n(&t->avail->ring[t->size], __ATOMIC_RELAXED);
			call = (uint16_t)(idx - used_event - 1) < (uint16_t)(idx - old) ||
			       !t->signalled_valid;
			t->signalled_valid = true;
		} else {
			call = !(__atomic_load_n(&t->avail->flags, __ATOMIC_RELAXED) &
				 VRING_AVAIL_F_NO_INTERRUPT);
		}
		if (call || t->call_owed)
			call_guest(p, t, vq);
	} else if (t->call_owed) {
		call_guest(p, t, vq);
	}
	rte_spinlock_unlock(&t->lock);
}

void
vqs_direct_kicks_on(struct vqs_port *p, uint16_t q)
{
	struct vqs_direct_txq *t = &p->vhost.direct[q];

	if (!rte_spinlock_trylock(&t->lock))
		return;
	if (t->own && t->event_idx)
		__atomic_store_n((uint16_t *)&t->used->ring[t->size], t->last_avail,
				 __ATOMIC_RELAXED);
	rte_spinlock_unlock(&t->lock);
}

bool
vqs_direct_position(const struct vqs_port *p, uint16_t vq, uint16_t *last_avail)
{
	const struct vqs_direct_txq *t;

	if (p->vhost.direct == NULL || !(vq & 1))
		return false;
	t = &p->vhost.direct[vq / 2];
	if (!__atomic_load_n(&t->own, __ATOMIC_RELAXED))
		return false;
	*last_avail = __atomic_load_n(&t->last_avail, __ATOMIC_RELAXED);
	return true;
}
