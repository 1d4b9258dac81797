/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Guest RX vrings filled by the switch (split and packed rings), instead of
 * rte_vhost_enqueue_burst. Each frame is copied once, from its mbuf
 * (which may point into the sending guest's memory: guest_tx.c)
 * straight into the receiving guest's buffers. With MRG_RXBUF a frame
 * takes as many avail chains as it needs, each given back with the bytes
 * written into it, and num_buffers in its header says how many (the
 * lengths add up to header + frame: the jumbo miscount some switches had
 * is the bug not to have); without, it must fit one chain. A frame that
 * finds too few buffers is not sent and takes none: its chains stay the
 * guest's, like the frames after it (counted as tx_full by the caller).
 * A chain the switch cannot write (out of range, read-only, outside guest
 * memory, a header that does not fit) stops the ring there, as it stops
 * librte_vhost: nothing is consumed, the watchdog sees it. The burst's
 * used entries are published with one used index store (packed: one
 * store of the first entry's flags) and one call decision (ring.c,
 * ring_packed.c). The used entries are kept in r->stage until the
 * burst is sure and its copies are made, then written together: packed
 * ones would overwrite descriptors the guest still owns if a frame were
 * undone; split ones, written as frames went, kept the guest's used ring
 * lines moving between its CPU (reading the last burst's entries) and
 * ours for the whole burst, and cost 10% more cycles per 64-byte frame
 * (measured, as librte_vhost's shadow used ring avoids).
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <string.h>

#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_vhost.h>

#include "ratelimit.h"
#include "ring.h"
#include "vqs_direct.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/*
 * Short copies are deferred to the end of the burst and made together, as
 * librte_vhost does (batch_copy): the receiver's buffers were last touched
 * by the guest's CPU, so each store first has to fetch its line; made one
 * after the other, interleaved with the descriptor reads, those fetches
 * wait for each other, made together they overlap. A frame that is not
 * published after all (too few buffers) still has its copies made: into
 * buffers the guest offered and still owns, where they do no harm.
 */
#define BATCH_COPY_MAX 256 /* longer copies are made at once */
#define BATCH_ELEMS 128

struct batch {
	unsigned int n, n_hdr;
	unsigned int flushes;  /* copies made so far: a header queued before
				* the last flush is in the guest's buffer */
	struct {
		uint8_t *dst;
		const uint8_t *src;
		uint32_t len;
		bool if_changed; /* a header: written only where it differs */
	} e[BATCH_ELEMS];
	/* headers of the burst's frames, copied out with the rest: their
	 * num_buffers is set once the frame has all its buffers */
	struct virtio_net_hdr_mrg_rxbuf hdr[BATCH_ELEMS / 2];
	/* The ring whose guest's writes are logged (r->log), or NULL:
	 * each copy is marked in the dirty log once it is made. */
	const struct vqs_direct_ring *log;
	int vid;
};

/*
 * Whether len bytes at a and b are equal; inline for a virtio-net header's
 * 10 or 12 bytes (two overlapping 8-byte words). A receiver's header
 * mostly holds what the switch would write (no offloads, one buffer): as
 * librte_vhost does, it is left alone then, and its line stays clean in
 * the guest's cache (virtio-user puts the header in the line before the
 * frame: rewritten each time, the generator's read of num_buffers missed
 * and 64-byte VM-to-VM ran 0.9x the library in the test machine's slow
 * spells; compared, 1.1x-1.2x). Compared when the copies are made, the
 * loads of a burst's header lines are outstanding together.
 */
static inline bool
same(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint64_t a0, a1, b0, b1;

	if (len < 8 || len > 16)
		return memcmp(a, b, len) == 0;
	memcpy(&a0, a, 8);
	memcpy(&b0, b, 8);
	memcpy(&a1, a + len - 8, 8);
	memcpy(&b1, b + len - 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static void
batch_flush(struct batch *b)
{
	unsigned int k;

	for (k = 0; k < b->n; k++)
		if (!b->e[k].if_changed || !same(b->e[k].dst, b->e[k].src, b->e[k].len))
			rte_memcpy(b->e[k].dst, b->e[k].src, b->e[k].len);
	if (unlikely(b->log != NULL)) { /* after every copy of the batch */
		uint64_t marked = UINT64_MAX;

		for (k = 0; k < b->n; k++)
			vqs_ring_log_write(b->log, b->vid, b->e[k].dst, b->e[k].len, &marked);
	}
	b->n = 0;
	b->n_hdr = 0;
	b->flushes++;
}

static void
batch_copy(struct batch *b, uint8_t *dst, const uint8_t *src, uint32_t len, bool if_changed)
{
	if (len > BATCH_COPY_MAX) {
		/* The C library's, not rte_memcpy: it picks the widest vector
		 * copy the CPU has when the program starts, while DPDK's
		 * inline one is fixed at build time (SSE for a distribution
		 * build): 5% fewer cycles per 1518-byte frame, measured. */
		memcpy(dst, src, len);
		if (unlikely(b->log != NULL))
			vqs_ring_log_write(b->log, b->vid, dst, len, NULL);
		return;
	}
	if (b->n == BATCH_ELEMS)
		batch_flush(b);
	b->e[b->n].dst = dst;
	b->e[b->n].src = src;
	b->e[b->n].len = len;
	b->e[b->n].if_changed = if_changed;
	b->n++;
}

/* Where a frame is being written: the current chain's segments. */
struct fill {
	struct vqs_seg s[VQS_RING_MAX_SEGS];
	unsigned int n, i;  /* segments, the current one */
	uint32_t off;       /* into s[i] */
	uint32_t written;   /* into the current chain */
	struct vqs_chain c; /* the current chain */
	uint16_t at;        /* its position */
	struct batch *batch;
};

enum take { TAKEN, NONE, BAD };

/* The common split RX buffer, without the general walk: one descriptor,
 * device-writable, no NEXT, no INDIRECT, in one region. false leaves it
 * to vqs_ring_chain (which reads the descriptor again). */
static inline bool
one_buffer(const struct vqs_direct_ring *r, uint16_t head, struct fill *f)
{
	struct vring_desc d;
	uint64_t chunk, va;

	memcpy(&d, &r->desc[head], sizeof(d)); /* once */
	if (d.flags != VRING_DESC_F_WRITE || d.len == 0)
		return false;
	chunk = d.len;
	va = rte_vhost_va_from_guest_pa(r->mem, d.addr, &chunk);
	if (va == 0 || chunk != d.len)
		return false;
	f->s[0].va = (uint8_t *)(uintptr_t)va;
	f->s[0].len = d.len;
	f->n = 1;
	return true;
}

/* The next avail chain (at *pos; split: before end) into f, the burst
 * having taken 'taken' chains. All the burst takes goes back in it, so a
 * packed chain may reach as far as the slot the burst started at; and it
 * never takes more chains than the ring has slots (r->stage holds one
 * used entry per slot), whatever the guest's indexes and flags say. */
static enum take
take_chain(const struct vqs_direct_ring *r, struct fill *f, uint16_t taken, uint16_t *pos,
	   uint16_t end)
{
	uint16_t room;
	int64_t len;

	if (taken >= r->stage_slots)
		return NONE;
	f->at = *pos;
	if (r->packed) {
		room = (uint16_t)(r->size - vqs_packed_distance(r, r->last_avail, *pos));
		if (room == 0 || !vqs_packed_avail(r, *pos))
			return NONE;
		len = vqs_packed_chain(r, *pos, room, true, f->s, &f->n, &f->c);
		if (len <= 0 || len > UINT32_MAX)
			return BAD;
		*pos = vqs_packed_advance(r, *pos, f->c.ndesc);
	} else {
		if (*pos == end)
			return NONE;
		f->c.id = __atomic_load_n(&r->avail->ring[*pos & (r->size - 1)], __ATOMIC_RELAXED);
		f->c.ndesc = 1;
		if (f->c.id >= r->size)
			return BAD;
		if (!one_buffer(r, f->c.id, f)) {
			len = vqs_ring_chain(r, f->c.id, true, f->s, &f->n);
			if (len <= 0 || len > UINT32_MAX)
				return BAD;
		}
		(*pos)++;
	}
	f->i = 0;
	f->off = 0;
	f->written = 0;
	return TAKEN;
}

/* Up to len bytes of src written where f is; how many fitted. */
static uint32_t
put(struct fill *f, const void *src, uint32_t len, bool if_changed)
{
	const uint8_t *from = src;
	uint32_t done = 0;

	while (done < len && f->i < f->n) {
		uint32_t take = RTE_MIN(f->s[f->i].len - f->off, len - done);

		batch_copy(f->batch, f->s[f->i].va + f->off, from + done, take, if_changed);
		done += take;
		f->off += take;
		if (f->off == f->s[f->i].len) {
			f->i++;
			f->off = 0;
		}
	}
	f->written += done;
	return done;
}

/* The common frame without put's walk: fitting with its header into the
 * chain's one segment (a short frame's two calls of put were an
 * eighth of the PMD's time at 64 bytes). false leaves it to put. */
static inline bool
put_whole(const struct vqs_direct_ring *r, const struct rte_mbuf *m, struct fill *f,
	  const struct virtio_net_hdr_mrg_rxbuf *hdr)
{
	uint8_t *dst = f->s[0].va + r->hdr_len;
	const struct rte_mbuf *seg;

	if (f->n != 1 || f->s[0].len < r->hdr_len + m->pkt_len)
		return false;
	batch_copy(f->batch, f->s[0].va, (const uint8_t *)hdr, r->hdr_len, true);
	/* A frame from a guest's TX vring may be two: its head, copied,
	 * and the rest in the sender's buffer (guest_tx.c). */
	for (seg = m; seg != NULL; seg = seg->next) {
		batch_copy(f->batch, dst, rte_pktmbuf_mtod(seg, const uint8_t *), seg->data_len,
			   false);
		dst += seg->data_len;
	}
	f->written = r->hdr_len + m->pkt_len;
	return true;
}

/* The host address of byte pos of the current chain (pos < its length). */
static uint8_t *
chain_byte(const struct fill *f, uint32_t pos)
{
	unsigned int i = 0;

	while (pos >= f->s[i].len)
		pos -= f->s[i++].len;
	return f->s[i].va + pos;
}

/* Used entry k of the burst, for the chain f is at, staged. */
static void
used_put(const struct vqs_direct_ring *r, uint16_t k, const struct fill *f)
{
	r->stage[k] = (struct vqs_used_stage){ f->at, f->c.id, f->written };
}

/* The burst's n staged used entries into the ring, past the published
 * ones (the guest reads none of them before the publishing store). */
static void
used_write(struct vqs_direct_ring *r, uint16_t old, uint16_t n)
{
	uint16_t k;

	for (k = 0; k < n; k++) {
		const struct vqs_used_stage *u = &r->stage[k];

		if (r->packed) {
			vqs_packed_put_used(r, u->pos, u->id, u->len, old);
		} else {
			struct vring_used_elem e = { u->id, u->len };

			memcpy(&r->used->ring[(uint16_t)(old + k) & (r->size - 1)], &e, sizeof(e));
		}
	}
}

#define WARM_AHEAD 4 /* chains */

/* Warms the descriptor of the chain WARM_AHEAD chains after the one at
 * pos (split: if the guest made it available before end; packed: if its
 * chains are single descriptors). Waiting for each descriptor's line (the
 * guest's CPU wrote it when it refilled) was most of a short frame's cost
 * on this side; a guess, nothing read here is trusted or kept. */
static inline void
warm_ahead(const struct vqs_direct_ring *r, uint16_t pos, uint16_t end)
{
	uint16_t head;

	if (r->packed) {
		rte_prefetch0(&r->pdesc[((pos & VQS_PACKED_IDX) + WARM_AHEAD) % r->size]);
		return;
	}
	if ((uint16_t)(end - pos) <= WARM_AHEAD)
		return;
	head = __atomic_load_n(&r->avail->ring[(uint16_t)(pos + WARM_AHEAD) & (r->size - 1)],
			       __ATOMIC_RELAXED);
	if (head < r->size)
		rte_prefetch0(&r->desc[head]);
}

/*
 * One frame into the chains from *pos on; their used entries written
 * from the *n_used-th unpublished one on. On anything but TAKEN, *pos and
 * *n_used are as they were (what was written stays unpublished: the guest
 * never sees it).
 */
static enum take
put_frame(const struct vqs_direct_ring *r, const struct rte_mbuf *m, struct fill *f,
	  uint16_t *n_used, uint16_t *pos, uint16_t end)
{
	struct virtio_net_hdr_mrg_rxbuf *hdr;
	uint16_t pos0 = *pos, n0 = *n_used, buffers = 1;
	uint8_t *nb_lo = NULL, *nb_hi = NULL;
	unsigned int flushes;
	const struct rte_mbuf *seg;
	uint32_t left, done;
	enum take t;

	/* Offloads the guest does not take were done in software before
	 * (offload_sw.h); its features cannot have changed since but by a
	 * new device, which would leave it none: such a frame is not sent. */
	if (unlikely(vqs_offload_needs(m) & ~r->ol))
		return NONE;
	t = take_chain(r, f, *n_used, pos, end);
	if (t != TAKEN)
		return t;
	/* A header's slot and all its pieces in one batch: a flush between
	 * two pieces would leave the later ones pointing at a slot that the
	 * next frames reuse (their num_buffers written over this frame's). */
	if (f->batch->n_hdr == RTE_DIM(f->batch->hdr) ||
	    f->batch->n + r->hdr_len > RTE_DIM(f->batch->e))
		batch_flush(f->batch);
	hdr = &f->batch->hdr[f->batch->n_hdr++];
	if (unlikely(vqs_offload_has(m)))
		vqs_offload_hdr(m, &hdr->hdr);
	else
		memset(hdr, 0, sizeof(*hdr));
	hdr->num_buffers = 1;
	if (put_whole(r, m, f, hdr)) { /* in one buffer: num_buffers is right */
		used_put(r, (*n_used)++, f);
		return TAKEN;
	}
	flushes = f->batch->flushes; /* one during the header's put counts */
	if (put(f, hdr, r->hdr_len, true) != r->hdr_len)
		goto bad; /* the header does not fit the first chain */
	if (r->mrg_rxbuf) { /* num_buffers is known at the end */
		nb_lo = chain_byte(f, offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers));
		nb_hi = chain_byte(f, offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers) + 1);
	}
	for (seg = m; seg != NULL; seg = seg->next) {
		left = seg->data_len;
		while (left > 0) {
			done = put(f, rte_pktmbuf_mtod_offset(seg, const uint8_t *,
							      seg->data_len - left), left, false);
			left -= done;
			if (left == 0)
				break;
			/* This chain is full: the next one, if the guest
			 * merges buffers and has one. */
			if (!r->mrg_rxbuf) {
				t = NONE; /* too small for the frame */
				goto undo;
			}
			used_put(r, (*n_used)++, f);
			t = take_chain(r, f, *n_used, pos, end);
			if (t != TAKEN)
				goto undo;
			buffers++;
		}
	}
	used_put(r, (*n_used)++, f);
	if (nb_lo != NULL) { /* little endian, as virtio 1 and x86 legacy */
		/* In the header copy still to be made, or in the guest's
		 * buffer if a full batch made the copy already (not always:
		 * that store would fetch the guest's line on its own). */
		hdr->num_buffers = buffers;
		if (f->batch->flushes != flushes) {
			*nb_lo = (uint8_t)buffers;
			*nb_hi = (uint8_t)(buffers >> 8);
			if (unlikely(f->batch->log != NULL)) {
				vqs_ring_log_write(r, f->batch->vid, nb_lo, 1, NULL);
				vqs_ring_log_write(r, f->batch->vid, nb_hi, 1, NULL);
			}
		}
	}
	return TAKEN;
bad:
	t = BAD;
undo:
	*pos = pos0;
	*n_used = n0;
	return t;
}

/* The RX vring of the queue pair the PMD sends on, or -1. */
static int
rx_vring(const struct vqs_port *p, uint16_t pmd_id)
{
	const struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * (pmd_id % p->conf.queues);

	if (__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE))
		return vq;
	return __atomic_load_n(&vh->vring_enabled[0], __ATOMIC_ACQUIRE) ? 0 : -1;
}

int
vqs_direct_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts, uint16_t n)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_vhost_state *vh = &p->vhost;
	uint32_t gen = __atomic_load_n(&vh->ring_gen, __ATOMIC_RELAXED);
	uint16_t pos, end = 0, old, n_used = 0, sent = 0;
	unsigned int looks = 0;
	struct vqs_direct_ring *r;
	enum take t = TAKEN;
	struct batch batch;
	bool new_base;
	struct fill f;
	int vq;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return -1;
	vq = rx_vring(p, pmd_id);
	if (vq < 0)
		return -1;
	r = &vh->direct[vq / 2].rx;
	rte_spinlock_lock(&r->lock); /* PMDs sharing the vring: one burst each */
	if ((r->ring_gen != gen || !r->own) &&
	    vqs_ring_setup(p, r, (uint16_t)vq, gen, &new_base) != VQS_RING_OWN) {
		rte_spinlock_unlock(&r->lock);
		return 0;
	}
	if (unlikely(r->log))
		vqs_ring_log_enter(vh);
	old = r->used_idx;
	pos = r->last_avail;
	batch.n = 0;
	batch.n_hdr = 0;
	batch.flushes = 0;
	batch.log = r->log ? r : NULL;
	batch.vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	f.batch = &batch;
	/* Acquire: pairs with the guest's barrier before its avail->idx
	 * store (packed: before the flags of a chain's first descriptor).
	 * Looked at again while the guest keeps adding buffers, like the
	 * library path's retries. */
	while (sent < n && t != BAD && looks++ <= VQS_TX_RETRIES) {
		if (r->packed) { /* each chain's flags say */
			if (!vqs_packed_avail(r, pos))
				break;
		} else {
			end = __atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE);
			/* Against where the burst is now, not only where it
			 * began: an index moved back below entries this burst
			 * took already would have the next look take stale
			 * entries until pos wraps (Linux's vhost: "Guest moved
			 * avail index"). More entries than the ring has, or
			 * fewer than were taken: a broken or hostile guest,
			 * nothing more is taken. */
			if ((uint16_t)(end - r->last_avail) > r->size ||
			    (uint16_t)(end - r->last_avail) < (uint16_t)(pos - r->last_avail)) {
				VQS_LOG_RL(&rl, WARNING, "port %s: guest RX vring %d: avail index %u is impossible at %u (burst from %u): not read",
					   p->conf.name, vq, end, pos, r->last_avail);
				break;
			}
			if (end == pos)
				break;
		}
		while (sent < n) {
			warm_ahead(r, pos, end);
			t = put_frame(r, pkts[sent], &f, &n_used, &pos, end);
			if (t != TAKEN)
				break;
			sent++;
		}
	}
	if (t == BAD)
		VQS_LOG_RL(&rl, WARNING, "port %s: guest RX vring %d: a buffer the switch cannot write at avail entry %u: ring stopped",
			   p->conf.name, vq, pos);
	batch_flush(&batch); /* before the used index store publishes it */
	used_write(r, old, n_used); /* every chain taken is given back, in order */
	r->used_idx = r->packed ? pos : (uint16_t)(old + n_used);
	r->last_avail = pos;
	vqs_ring_publish(p, r, (uint16_t)vq, old);
	if (unlikely(r->log))
		vqs_ring_log_exit(vh);
	rte_spinlock_unlock(&r->lock);
	return sent;
}
