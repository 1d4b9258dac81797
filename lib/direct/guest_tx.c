/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Guest TX vrings processed by the switch (split and packed rings): chains
 * taken as the guest made them available, frames made into mbufs (or
 * pointing into guest memory), the chains given back in order once those
 * mbufs are gone. The ring primitives and their barriers: ring.c,
 * ring_packed.c. Every descriptor is read
 * once into a local copy, its address translated through our copy of the
 * memory table and bounds-checked; a bad chain goes back used with length
 * 0 and counts as drop_bad_desc.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <assert.h>
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

#include "ratelimit.h"
#include "ring.h"
#include "vqs_direct.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

#define COPY_BELOW 512 /* shorter frames are copied (measured: scripts/bench.sh --direct) */
/* A frame left in guest memory has this much copied into an mbuf of the
 * switch's, one cache line: every header the switch reads (Ethernet, an
 * 802.1Q tag, IPv4 and the L4 ports the tunnel's flow hash reads; past
 * 22 bytes of IPv4 options the hash leaves the ports out, as every
 * reader checks data_len). 128 bytes cost 10-20% more cycles per
 * 1518-byte frame than before the head was copied, 64 bytes 4%
 * (scripts/bench.py --before, busy cycles, 12 alternating rounds). */
#define HEAD_COPY 64u
/* A frame that asks for offloads has all its headers copied (offload.h):
 * the checks and the software's work are on the switch's copy. */
static_assert(HEAD_COPY < COPY_BELOW && VQS_OL_HEAD < COPY_BELOW,
	      "an attached frame is longer than its head");

int
vqs_direct_port_init(struct vqs_port *p)
{
	unsigned int q;

	p->vhost.direct = rte_zmalloc("direct", VQS_VHOST_MAX_QP * sizeof(*p->vhost.direct),
				      RTE_CACHE_LINE_SIZE);
	if (p->vhost.direct == NULL)
		return -ENOMEM;
	for (q = 0; q < VQS_VHOST_MAX_QP; q++) {
		vqs_ring_init(&p->vhost.direct[q].tx.r);
		vqs_ring_init(&p->vhost.direct[q].rx);
	}
	return 0;
}

static void
txq_free_slots(struct vqs_direct_txq *t)
{
	rte_free(t->taken);
	rte_free(t->shinfo);
	t->taken = NULL;
	t->shinfo = NULL;
	t->slots = 0;
}

void
vqs_direct_port_free(struct vqs_port *p)
{
	unsigned int q;

	if (p->vhost.direct == NULL)
		return;
	for (q = 0; q < VQS_VHOST_MAX_QP; q++) {
		vqs_ring_release(&p->vhost.direct[q].tx.r);
		txq_free_slots(&p->vhost.direct[q].tx);
		vqs_ring_release(&p->vhost.direct[q].rx);
	}
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
		vqs_ring_save(p, &p->vhost.direct[q].tx.r, vid, (uint16_t)(2 * q + 1));
		vqs_ring_save(p, &p->vhost.direct[q].rx, vid, (uint16_t)(2 * q));
	}
}

static void
ext_free(void *addr __rte_unused, void *opaque __rte_unused)
{
	/* Nothing to do: completion sees the count at zero. */
}

/* The ring taken over, with a slot per ring slot for the chains in flight
 * and a shared info per chain id; a new device has none in flight (each
 * pass gave every chain back before the device went). */
static enum vqs_ring_owner
txq_setup(struct vqs_port *p, struct vqs_direct_txq *t, uint16_t vq, uint32_t gen)
{
	enum vqs_ring_owner o;
	bool new_base;
	uint16_t i;

	o = vqs_ring_setup(p, &t->r, vq, gen, &new_base);
	if (o != VQS_RING_OWN)
		return o;
	if (t->slots != t->r.size) {
		txq_free_slots(t);
		t->taken = rte_zmalloc("direct_taken", t->r.size * sizeof(*t->taken), 0);
		t->shinfo = rte_zmalloc("direct_shinfo", t->r.size * sizeof(*t->shinfo),
					RTE_CACHE_LINE_SIZE);
		if (t->taken == NULL || t->shinfo == NULL) {
			txq_free_slots(t);
			t->r.own = false;
			t->r.ring_gen = 0;
			return VQS_RING_RETRY;
		}
		t->slots = t->r.size;
		for (i = 0; i < t->slots; i++)
			t->shinfo[i].free_cb = ext_free;
		new_base = true;
	}
	if (new_base)
		for (i = 0; i < t->slots; i++)
			rte_mbuf_ext_refcnt_set(&t->shinfo[i], 0);
	return VQS_RING_OWN;
}

/* The frame copied into head, and more mbufs of pool chained to it if it
 * is longer: from byte off of the segments on. false (head freed) when
 * the pool runs out. */
static bool
copy_frame(struct rte_mbuf *head, struct rte_mempool *pool, const struct vqs_seg *s,
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

static void
attach_piece(struct rte_mbuf *m, uint8_t *va, uint32_t len, struct rte_mbuf_ext_shared_info *sh)
{
	rte_pktmbuf_attach_extbuf(m, va, RTE_BAD_IOVA, (uint16_t)len, sh);
	m->data_len = (uint16_t)len;
}

/*
 * What a burst from a guest TX vring keeps until its end. Short frames'
 * copies (and the heads of frames left in guest memory), made together as
 * librte_vhost's dequeue batches its small copies: one after another the
 * loads of the senders' buffers (lines the guest's CPU just wrote) are
 * outstanding together instead of each waiting behind a frame's chain
 * checks. And the mbufs that point into guest memory, taken from the pool
 * for the rest of the burst at once rather than one call a frame; those
 * left over go back at its end. The chains stay the guest's until
 * vqs_direct_complete.
 */
struct burst {
	struct rte_mempool *pool;
	uint16_t left;           /* chains still to take, this one included */
	uint16_t n_copies;
	struct {
		void *dst;
		const void *src;
		uint32_t len;
	} c[VQS_DIRECT_BURST];
	uint16_t n_spare, next_spare;
	struct rte_mbuf *spare[VQS_DIRECT_BURST + VQS_RING_MAX_SEGS];
};

/* len bytes at src to be copied to dst at the end of the burst. */
static void
queue_copy(struct burst *b, void *dst, const uint8_t *src, uint32_t len)
{
	rte_prefetch0(src);
	b->c[b->n_copies].dst = dst;
	b->c[b->n_copies].src = src;
	b->c[b->n_copies].len = len;
	b->n_copies++;
}

/* k mbufs for the burst, or NULL; taken from the pool for up to
 * SPARE_CHUNK chains at once (one each, for the common one-buffer frame):
 * a burst of short frames with a long one among them does not pay for a
 * whole burst's worth. */
#define SPARE_CHUNK 16

static struct rte_mbuf **
take_spares(struct burst *b, uint16_t k)
{
	uint16_t have = b->n_spare - b->next_spare, want;

	if (have < k) {
		memmove(b->spare, b->spare + b->next_spare, have * sizeof(b->spare[0]));
		b->next_spare = 0;
		b->n_spare = have;
		want = RTE_MIN((uint16_t)RTE_DIM(b->spare) - have,
			       RTE_MAX(k, RTE_MIN(b->left, SPARE_CHUNK)) - have);
		if (rte_pktmbuf_alloc_bulk(b->pool, b->spare + have, want) != 0)
			return NULL;
		b->n_spare += want;
	}
	b->next_spare += k;
	return b->spare + b->next_spare - k;
}

/*
 * The frame (len bytes, at least head, from segment i, byte off, on)
 * with its first head bytes copied into m's own buffer and the rest
 * as one mbuf of the burst's per guest buffer pointing there, sharing sh,
 * whose count is their number. Everything the switch decides on (addresses,
 * VLAN tag, EtherType, the tunnel's flow hash) is in those first bytes,
 * so it decides on a copy the guest cannot change under it, sends the
 * bytes it decided on, and takes a tag off in its own buffer, never in
 * the guest's. false (m untouched) if a piece is longer than an mbuf can
 * say or the pool is out.
 */
static bool
attach_frame(struct rte_mbuf *m, struct burst *b, struct rte_mbuf_ext_shared_info *sh,
	     const struct vqs_seg *s, unsigned int n, unsigned int i, uint32_t off, uint32_t len,
	     uint32_t head_len)
{
	struct rte_mbuf **more, *prev = m;
	uint8_t *head = rte_pktmbuf_mtod(m, uint8_t *);
	unsigned int i0 = i, pieces, k;
	uint32_t off0 = off, left = head_len;

	while (left > 0) { /* where the head ends */
		uint32_t take = RTE_MIN(s[i].len - off, left);

		left -= take;
		off += take;
		if (off == s[i].len) {
			i++;
			off = 0;
		}
	}
	pieces = n - i;
	for (k = i; k < n; k++)
		if (s[k].len - (k == i ? off : 0) > UINT16_MAX)
			return false;
	more = take_spares(b, (uint16_t)pieces);
	if (more == NULL)
		return false;
	if (s[i0].len - off0 >= head_len) { /* in one buffer: with the burst's */
		queue_copy(b, head, s[i0].va + off0, head_len);
	} else {
		for (left = head_len; left > 0; i0++, off0 = 0) {
			uint32_t take = RTE_MIN(s[i0].len - off0, left);

			rte_memcpy(head + head_len - left, s[i0].va + off0, take);
			left -= take;
		}
	}
	rte_mbuf_ext_refcnt_set(sh, (uint16_t)pieces);
	for (k = 0; k < pieces; k++) {
		uint32_t skip = k == 0 ? off : 0;

		attach_piece(more[k], s[i + k].va + skip, s[i + k].len - skip, sh);
		prev->next = more[k];
		prev = more[k];
	}
	m->data_len = (uint16_t)head_len;
	m->nb_segs = (uint16_t)(pieces + 1);
	m->pkt_len = len;
	return true;
}

enum take_result { TAKEN, NO_MBUF, BAD_CHAIN, TOO_LONG, IN_FLIGHT, NO_END };

/*
 * The common chain, without the general walk: one descriptor (no NEXT, no
 * INDIRECT, device-readable) in one region, not in flight, holding the
 * header and a frame of 1 to max_frame bytes: *seg is the whole buffer.
 * at is the chain's head (split) or position (packed). false leaves
 * everything to the general path (which reads the descriptor again).
 */
static inline bool
take_one(const struct vqs_direct_txq *t, uint16_t at, uint32_t max_frame, struct vqs_seg *seg,
	 struct vqs_chain *c)
{
	const struct vqs_direct_ring *r = &t->r;
	uint64_t chunk, addr;
	uint16_t flags;
	uint32_t dlen;

	if (r->packed) {
		struct vring_packed_desc d;

		memcpy(&d, &r->pdesc[at & VQS_PACKED_IDX], sizeof(d)); /* once */
		flags = d.flags & ~((1u << VRING_PACKED_DESC_F_AVAIL) |
				    (1u << VRING_PACKED_DESC_F_USED));
		addr = d.addr;
		dlen = d.len;
		c->id = d.id;
		if (d.id >= r->size)
			return false;
	} else {
		struct vring_desc d;

		memcpy(&d, &r->desc[at], sizeof(d)); /* once */
		flags = d.flags;
		addr = d.addr;
		dlen = d.len;
		c->id = at;
	}
	c->ndesc = 1;
	if (flags != 0 || dlen <= r->hdr_len || dlen - r->hdr_len > max_frame ||
	    rte_mbuf_ext_refcnt_read(&t->shinfo[c->id]) != 0)
		return false;
	chunk = dlen;
	seg->va = (uint8_t *)(uintptr_t)rte_vhost_va_from_guest_pa(r->mem, addr, &chunk);
	seg->len = dlen;
	return seg->va != NULL && chunk == dlen;
}

/*
 * The chain's virtio-net header into *h, read once (its first 10 bytes:
 * num_buffers means nothing on TX), if the guest negotiated offloads;
 * else all zero, as the switch ignores it. Whether it asks for any. The
 * chain holds more than the header (checked by the caller).
 */
static bool
read_hdr(const struct vqs_direct_ring *r, const struct vqs_seg *s, unsigned int n,
	 struct virtio_net_hdr *h)
{
	uint8_t *to = (uint8_t *)h;
	uint32_t left = sizeof(*h);
	unsigned int i;

	if (r->ol == 0) {
		memset(h, 0, sizeof(*h));
		return false;
	}
	for (i = 0; i < n && left > 0; i++) {
		uint32_t take = RTE_MIN(s[i].len, left);

		memcpy(to + sizeof(*h) - left, s[i].va, take);
		left -= take;
	}
	return vqs_offload_asked(h);
}

/*
 * The frame of chain id (len bytes after the header, in the n segments s)
 * in m: shorter than COPY_BELOW bytes, copied at the end of the burst;
 * else left in guest memory but for its head (attach_frame: HEAD_COPY
 * bytes, VQS_OL_HEAD if the header asks for offloads) if it can be, or
 * copied into m and more mbufs of the pool.
 */
static enum take_result
attach_or_copy(struct vqs_direct_txq *t, uint16_t id, struct burst *b, struct rte_mbuf *m,
	       const struct vqs_seg *s, unsigned int n, uint32_t len, bool offloads)
{
	uint32_t off = t->r.hdr_len;
	unsigned int i;

	for (i = 0; i < n && off >= s[i].len; i++) /* the header's segments */
		off -= s[i].len;
	if (len < COPY_BELOW && s[i].len - off >= len) { /* in one buffer */
		queue_copy(b, rte_pktmbuf_mtod(m, uint8_t *), s[i].va + off, len);
		m->data_len = (uint16_t)len;
		m->pkt_len = len;
		return TAKEN;
	}
	if (len >= COPY_BELOW &&
	    attach_frame(m, b, &t->shinfo[id], s, n, i, off, len, offloads ? VQS_OL_HEAD : HEAD_COPY))
		return TAKEN;
	return copy_frame(m, b->pool, s, t->r.hdr_len, len) ? TAKEN : NO_MBUF;
}

/*
 * The frame of the chain at 'at' (split: its head; packed: its position,
 * with room slots the guest may own from there) in m (an mbuf of the
 * caller's, used up only when TAKEN), and *c the chain; or why not: no
 * mbuf, a bad chain, a frame longer than max_frame (*len says how long:
 * the switch counts it as a bad frame, as it does one that came through
 * the library, without it costing mbufs), a chain in flight already, a
 * packed chain without an end (*c not known). A frame of at least
 * COPY_BELOW bytes is not copied but for its head: further mbufs point
 * into guest memory, with the chain's shared info (counting those mbufs
 * until they are freed). Anything else is copied: below COPY_BELOW bytes
 * a copy costs less than an external buffer's attach and release.
 */
static enum take_result
take_frame(struct vqs_direct_txq *t, uint16_t at, uint16_t room, struct burst *b,
	   uint32_t max_frame, struct rte_mbuf *m, uint32_t *len, struct vqs_chain *c,
	   struct virtio_net_hdr *h)
{
	const struct vqs_direct_ring *r = &t->r;
	struct vqs_seg s[VQS_RING_MAX_SEGS];
	unsigned int n;
	int64_t total;

	if (take_one(t, at, max_frame, &s[0], c)) {
		*len = s[0].len - r->hdr_len;
		return attach_or_copy(t, c->id, b, m, s, 1, *len, read_hdr(r, s, 1, h));
	}
	if (r->packed) {
		total = vqs_packed_chain(r, at, room, false, s, &n, c);
		if (total == -2)
			return NO_END;
	} else {
		total = vqs_ring_chain(r, at, false, s, &n);
		c->id = at;
		c->ndesc = 1;
	}
	/* The guest made it available twice while it was in flight. */
	if (c->id < r->size && rte_mbuf_ext_refcnt_read(&t->shinfo[c->id]) != 0)
		return IN_FLIGHT;
	if (total < 0 || total <= r->hdr_len)
		return BAD_CHAIN; /* or no frame after the header */
	if (total - r->hdr_len > max_frame) {
		*len = (uint32_t)RTE_MIN(total - r->hdr_len, (int64_t)UINT32_MAX);
		return TOO_LONG;
	}
	*len = (uint32_t)total - r->hdr_len;
	return attach_or_copy(t, c->id, b, m, s, n, *len, read_hdr(r, s, n, h));
}

/*
 * Warms the descriptors of the count chains the burst will take (a guess
 * for packed rings: single-descriptor chains). The guest's CPU wrote
 * them; fetched one chain at a time, each waited alone, here the burst's
 * lines are outstanding together. Nothing read here is trusted or kept.
 */
static inline void
warm_burst(const struct vqs_direct_ring *r, uint16_t count)
{
	uint16_t k, head;

	if (r->packed) {
		for (k = 0; k < count; k++)
			rte_prefetch0(&r->pdesc[((r->last_avail & VQS_PACKED_IDX) + k) % r->size]);
		return;
	}
	for (k = 0; k < count; k++) {
		head = __atomic_load_n(&r->avail->ring[(uint16_t)(r->last_avail + k) & (r->size - 1)],
				       __ATOMIC_RELAXED);
		if (head < r->size)
			rte_prefetch0(&r->desc[head]);
	}
}

/* PMD, lock held: how many chains may be taken from the TX vring now (at
 * most n); 0 if none. What is taken and not given back yet keeps its slot
 * in taken[]. */
static uint16_t
takeable(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq, uint16_t n)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	uint16_t avail_idx, count;

	if (r->packed) /* each chain is looked at in turn */
		return vqs_packed_distance(r, r->used_idx, r->last_avail) < r->size &&
		       vqs_packed_avail(r, r->last_avail) ? n : 0;
	/* Acquire: pairs with the guest's barrier before its avail->idx store. */
	avail_idx = __atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE);
	count = (uint16_t)(avail_idx - r->last_avail);
	if (count > r->size) {
		/* More entries than the ring has: a broken or hostile guest.
		 * Nothing is taken; the watchdog reports the stalled ring. */
		VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: avail index %u is %u ahead of %u: not read",
			   p->conf.name, vq, avail_idx, count, r->last_avail);
		return 0;
	}
	count = RTE_MIN(count, n);
	return RTE_MIN(count, (uint16_t)(r->size - (uint16_t)(r->last_avail - r->used_idx)));
}

/* A frame of the burst whose header asks for offloads. */
struct ol_frame {
	uint16_t at;              /* where it is in the burst's frames */
	struct virtio_net_hdr h;  /* its header, read once */
};

/*
 * The burst's n_ol frames whose headers ask for offloads: each header
 * checked against the frame's own headers, which are the switch's copy
 * by now (the burst's copies made), and recorded in the frame
 * (offload.h); a frame whose header is refused is dropped, counted as
 * bad_offload (and as received, as every frame the guest sent). Returns
 * how many frames are left in pkts, in order.
 */
static uint16_t
take_offloads(const struct vqs_port *p, struct vqs_port_stats *st, struct rte_mbuf **pkts,
	      uint16_t got, const struct ol_frame *ol, uint16_t n_ol, uint8_t allowed,
	      uint32_t max_frame)
{
	uint16_t i, k = 0, next = 0;

	for (i = 0; i < got; i++) {
		struct rte_mbuf *m = pkts[i];

		if (next < n_ol && ol[next].at == i &&
		    !vqs_offload_take_or_drop(p, st, m, &ol[next++].h, allowed, max_frame))
			continue;
		pkts[k++] = m;
	}
	return k;
}

uint16_t
vqs_direct_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, struct rte_mempool *pool,
	      uint32_t max_frame, struct rte_mbuf **pkts, uint16_t n, bool *held)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_vhost_state *vh = &p->vhost;
	struct vqs_direct_txq *t = &vh->direct[q].tx;
	struct vqs_direct_ring *r = &t->r;
	uint16_t vq = 2 * q + 1, count, i, got = 0, at, slot, room = 0;
	uint32_t gen = __atomic_load_n(&vh->ring_gen, __ATOMIC_RELAXED);
	struct vqs_port_stats *st = &p->stats[pmd_id];
	struct rte_mbuf *mb[VQS_DIRECT_BURST];
	uint16_t used_mb = 0, n_ol = 0;
	enum take_result res;
	struct burst b;
	struct vqs_chain c;
	uint32_t len, take_max;
	struct virtio_net_hdr h;
	struct ol_frame ol[VQS_DIRECT_BURST];

	*held = false;
	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE))
		return 0;
	if (!rte_spinlock_trylock(&r->lock))
		return 0; /* another PMD still has it for a pass (a queue moved) */
	if ((r->ring_gen != gen || !r->own) && txq_setup(p, t, vq, gen) != VQS_RING_OWN) {
		rte_spinlock_unlock(&r->lock);
		return 0;
	}
	*held = true;
	b.pool = pool;
	b.n_copies = b.n_spare = b.next_spare = 0;
	count = takeable(p, r, vq, RTE_MIN(n, VQS_DIRECT_BURST));
	if (count == 0 || rte_pktmbuf_alloc_bulk(pool, mb, count) != 0)
		return 0; /* out of mbufs: the chains stay the guest's for now */
	/* A GSO frame is longer than a frame: its segments are checked. */
	take_max = (r->ol & (VQS_OL_TSO4 | VQS_OL_TSO6)) ? RTE_MAX(max_frame, VQS_GSO_MAX_FRAME) :
							   max_frame;
	warm_burst(r, count);
	for (i = 0; i < count; i++) {
		slot = vqs_ring_slot(r, r->last_avail);
		if (r->packed) {
			room = (uint16_t)(r->size - vqs_packed_distance(r, r->used_idx, r->last_avail));
			if (room == 0 || !vqs_packed_avail(r, r->last_avail))
				break;
			at = r->last_avail;
		} else {
			at = __atomic_load_n(&r->avail->ring[slot], __ATOMIC_RELAXED);
			if (at >= r->size) {
				/* No used entry can name it: the ring stops here. */
				VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: descriptor %u out of range: ring stopped",
					   p->conf.name, vq, at);
				break;
			}
		}
		b.left = (uint16_t)(count - i);
		res = take_frame(t, at, room, &b, take_max, mb[used_mb], &len, &c, &h);
		if (res == NO_MBUF) {
			used_mb++; /* copy_frame freed it */
			break; /* the chain stays the guest's for now */
		}
		if (res == IN_FLIGHT || res == NO_END) {
			/* In flight: its buffer is still being read. No end:
			 * nothing says where the next chain begins. Neither it
			 * nor what follows can be taken: the ring stops (the
			 * watchdog counts a stall) until the guest resets it. */
			VQS_LOG_RL(&rl, WARNING, "port %s: guest TX vring %u: %s at %u: ring stopped",
				   p->conf.name, vq, res == IN_FLIGHT ?
				   "a chain made available twice" : "a chain without an end", at);
			break;
		}
		t->taken[slot] = c;
		r->last_avail = r->packed ? vqs_packed_advance(r, r->last_avail, c.ndesc) :
			       (uint16_t)(r->last_avail + 1);
		if (res == TAKEN) {
			if (vqs_offload_asked(&h))
				ol[n_ol++] = (struct ol_frame){ got, h };
			pkts[got++] = mb[used_mb++];
		} else if (res == TOO_LONG) {
			/* Counted as the switch counts it from the library. */
			vqs_count(&st->rx_packets, 1);
			vqs_count(&st->rx_bytes, len);
			vqs_count(&st->drops[VQS_DROP_BAD_FRAME], 1);
		} else {
			vqs_count(&st->drops[VQS_DROP_BAD_DESC], 1);
		}
	}
	for (i = 0; i < b.n_copies; i++)
		rte_memcpy(b.c[i].dst, b.c[i].src, b.c[i].len);
	if (unlikely(n_ol > 0))
		got = take_offloads(p, st, pkts, got, ol, n_ol, r->ol, max_frame);
	if (b.next_spare < b.n_spare)
		rte_pktmbuf_free_bulk(&b.spare[b.next_spare], b.n_spare - b.next_spare);
	if (used_mb < count)
		rte_pktmbuf_free_bulk(&mb[used_mb], count - used_mb);
	return got;
}

void
vqs_direct_complete(struct vqs_port *p, uint16_t q)
{
	struct vqs_direct_txq *t = &p->vhost.direct[q].tx;
	struct vqs_direct_ring *r = &t->r;
	uint16_t old = r->used_idx, pos = old, slot;
	struct vqs_chain c;

	while (pos != r->last_avail) {
		slot = vqs_ring_slot(r, pos);
		c = t->taken[slot];
		/* Still referenced: it and the ones after it wait (used
		 * entries keep the order the chains were taken in). */
		if (c.id < r->size && rte_mbuf_ext_refcnt_read(&t->shinfo[c.id]) != 0)
			break;
		if (r->packed) {
			vqs_packed_put_used(r, pos, c.id, 0, old);
			pos = vqs_packed_advance(r, pos, c.ndesc);
		} else {
			struct vring_used_elem e = { c.id, 0 };

			memcpy(&r->used->ring[slot], &e, sizeof(e));
			pos++;
		}
	}
	r->used_idx = pos;
	if (unlikely(r->log)) {
		vqs_ring_log_enter(&p->vhost);
		vqs_ring_publish(p, r, (uint16_t)(2 * q + 1), old);
		vqs_ring_log_exit(&p->vhost);
	} else {
		vqs_ring_publish(p, r, (uint16_t)(2 * q + 1), old);
	}
	rte_spinlock_unlock(&r->lock);
}

bool
vqs_direct_kicks_on(struct vqs_port *p, uint16_t q)
{
	struct vqs_direct_txq *t = &p->vhost.direct[q].tx;
	struct vqs_direct_ring *r = &t->r;
	uint32_t gen = __atomic_load_n(&p->vhost.ring_gen, __ATOMIC_RELAXED);

	/* Held (an owed call being made, a burst not completed): the library's
	 * stale avail_event, just written by vqs_vhost_kicks, stays, and
	 * the guest may never kick. Before: returned as if done, and a
	 * sleeping PMD found a frame only at its 100 ms timeout. */
	if (!rte_spinlock_trylock(&r->lock))
		return false;
	/* An idle ring is not set up again by a pass (the peek finds it
	 * empty): its pointers may be those of a memory table or ring
	 * address that is gone. Taken again here, or nothing is written. */
	if ((r->ring_gen == gen && r->own) || txq_setup(p, t, (uint16_t)(2 * q + 1), gen) == VQS_RING_OWN) {
		if (r->packed)
			vqs_packed_kicks_on(r);
		else if (r->event_idx)
			__atomic_store_n((uint16_t *)&r->used->ring[r->size], r->last_avail,
					 __ATOMIC_RELAXED);
		if (unlikely(r->log)) {
			vqs_ring_log_enter(&p->vhost);
			vqs_ring_log_kicks(p, r, (uint16_t)(2 * q + 1));
			vqs_ring_log_exit(&p->vhost);
		}
	}
	rte_spinlock_unlock(&r->lock);
	return true; /* or a ring not usable: nothing to poll, nothing to kick for */
}

/* A ring's owed call, made if the PMD that has the ring is not in it. */
static void
flush_call(struct vqs_port *p, struct vqs_direct_ring *r, uint16_t vq)
{
	if (!__atomic_load_n(&r->call_owed, __ATOMIC_RELAXED) || !rte_spinlock_trylock(&r->lock))
		return;
	if (r->own && r->call_owed)
		vqs_ring_call(p, r, vq);
	rte_spinlock_unlock(&r->lock);
}

void
vqs_direct_flush_calls(struct vqs_port *p)
{
	uint16_t q;

	for (q = 0; q < p->conf.queues; q++) {
		flush_call(p, &p->vhost.direct[q].tx.r, (uint16_t)(2 * q + 1));
		flush_call(p, &p->vhost.direct[q].rx, (uint16_t)(2 * q));
	}
}

static const struct vqs_direct_ring *
ring_of(const struct vqs_port *p, uint16_t vq)
{
	if (p->vhost.direct == NULL)
		return NULL;
	return (vq & 1) ? &p->vhost.direct[vq / 2].tx.r : &p->vhost.direct[vq / 2].rx;
}

bool
vqs_direct_used_hint(const struct vqs_port *p, uint16_t vq)
{
	const struct vqs_direct_ring *r = ring_of(p, vq);

	/* Set up for the rings as they are now: the library's pointers the
	 * caller reads through belong to the same memory table. */
	return r != NULL && __atomic_load_n(&r->own, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&r->ring_gen, __ATOMIC_RELAXED) ==
		       __atomic_load_n(&p->vhost.ring_gen, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&r->used_hint, __ATOMIC_RELAXED);
}

bool
vqs_direct_position(const struct vqs_port *p, uint16_t vq, uint16_t *last_avail,
		    uint16_t *used)
{
	const struct vqs_direct_ring *r = ring_of(p, vq);

	if (r == NULL)
		return false;
	if (!__atomic_load_n(&r->own, __ATOMIC_RELAXED))
		return false;
	*last_avail = __atomic_load_n(&r->last_avail, __ATOMIC_RELAXED);
	*used = __atomic_load_n(&r->used_idx, __ATOMIC_RELAXED);
	return true;
}
