/* SPDX-License-Identifier: BSD-3-Clause
 * A malicious QEMU's messages to a running device and a malicious guest
 * kernel's chaos threads, each one case by name.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"

#define F_AVAIL (1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED (1u << VRING_PACKED_DESC_F_USED)
#define FLIP_KINDS 6      /* desc_flip's changes, see flip_word() */
#define BUF_VID 20        /* buf_rewrite's other VLAN */
#define MAX_PAUSE_NS 3000 /* a hostile value stays at most this long */

const char *const chaos_kinds[] = {"avail_back", "avail_ahead", "desc_flip", "buf_rewrite",
				   "event_random", NULL};
const char *const msg_fail_kinds[] = {"mem_table", "vring_call", NULL};

enum chaos_kind { AVAIL_BACK, AVAIL_AHEAD, DESC_FLIP, BUF_REWRITE, EVENT_RANDOM };

/* One descriptor desc_flip changed: the ring slot, its address and its
 * other half as they were, and that half as we left it (split and packed
 * descriptors both have the address in the first 8 bytes; len, flags and
 * next or id in the other 8). */
struct flip {
	uint16_t at;
	bool changed; /* the other half is ours until restored */
	uint64_t addr, word, bad;
};

struct chaos {
	struct guest *g;
	uint16_t vq;
	enum chaos_kind kind;
	long arg; /* -1: the kind's default */
	pthread_t thread;
	pthread_mutex_t lock; /* held for a round, or by the main thread */
	int waiting;          /* the main thread waits for the lock */
	bool stop;
	uint64_t rounds, rng;
	struct flip *flips; /* desc_flip: one per ring slot */
};

/* --- malicious QEMU --- */

/* Whether the message went out or not (a closed connection), and what
 * the switch acked, is for the caller to see in g->conn: no error here. */
void
attack_vring_state(struct guest *g, uint32_t request, uint16_t i, uint32_t num)
{
	g->conn.ack = -1;
	vhu_set_state(&g->conn, request, i, num);
}

int
attack_vring_move(struct guest *g, uint16_t i, bool edge, char *err, size_t len)
{
	struct virtq *q = &g->vq[i].q;
	struct vhu_vring_addr a;
	const void *old[3];
	uint64_t size[3], align;
	int k;

	for (k = 0; k < 3; k++) {
		size[k] = virtq_area(q, k, &align);
		old[k] = gmem_ptr(q->mem, virtq_area_gpa(q, k), size[k]);
	}
	if (virtq_place(q, edge) != 0) {
		snprintf(err, len, "guest memory full");
		return -1;
	}
	/* The device area last. What the device completes in the old rings
	 * from here until it takes the new address is lost to us, as to a
	 * QEMU moving a live ring (librte_vhost then takes the used index of
	 * a split ring from the copy and does those entries again). */
	for (k = 0; k < 3; k++)
		memcpy(gmem_ptr(q->mem, virtq_area_gpa(q, k), size[k]), old[k], size[k]);
	guest_vring_addr(g, i, &a);
	g->conn.ack = -1;
	vhu_send(&g->conn, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	return 0;
}

int
attack_mem_remap(struct guest *g)
{
	g->conn.ack = -1;
	guest_send_mem_table(g, NULL);
	return 0;
}

int
attack_mem_shrink(struct guest *g, long mb, char *err, size_t len)
{
	struct vhu_mem_table t = {.nregions = 1};

	if (mb < 1 || (uint64_t)mb > g->mem.size >> 20) {
		snprintf(err, len, "mb must be 1..%llu", (unsigned long long)(g->mem.size >> 20));
		return -1;
	}
	t.regions[0] = (struct vhu_region){GMEM_BASE, (uint64_t)mb << 20,
					   (uint64_t)(uintptr_t)g->mem.va, 0};
	g->conn.ack = -1;
	guest_send_mem_table(g, &t);
	return 0;
}

int
attack_mem_split(struct guest *g, char *err, size_t len)
{
	uint64_t half = g->mem.size / 2 & ~0xfffULL, va = (uint64_t)(uintptr_t)g->mem.va;
	struct vhu_mem_table t = {.nregions = 2};

	if (half == 0) {
		snprintf(err, len, "guest memory too small to split");
		return -1;
	}
	t.regions[0] = (struct vhu_region){GMEM_BASE, half, va, 0};
	t.regions[1] = (struct vhu_region){GMEM_BASE + half, g->mem.size - half, va + half, half};
	g->conn.ack = -1;
	guest_send_mem_table(g, &t);
	return 0;
}

/* The header alone: a backend that reads the payload with a blocking
 * read waits there (part of the payload would not do: a read returns
 * what is there, and a short message is an error). */
int
attack_stall(struct guest *g)
{
	uint32_t hdr[3] = {VHU_SET_VRING_ADDR, VHU_VERSION, sizeof(struct vhu_vring_addr)};

	g->conn.ack = -1;
	return vhu_send_bytes(&g->conn, hdr, VHU_HDR_SIZE, NULL, 0);
}

int
attack_msg_fail(struct guest *g, const char *kind, long index, char *err, size_t len)
{
	int fd;

	if (strcmp(kind, "vring_call") == 0 && index == -1)
		index = 0;
	if (strcmp(kind, "vring_call") == 0 && (index < 0 || index >= g->nr_vq)) {
		snprintf(err, len, "index must be 0..%u", g->nr_vq - 1);
		return -1;
	}
	if (strcmp(kind, "mem_table") != 0 && strcmp(kind, "vring_call") != 0) {
		snprintf(err, len, "no msg_fail kind '%s'", kind);
		return -1;
	}
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, len, "eventfd");
		return -1;
	}
	g->conn.ack = -1;
	if (strcmp(kind, "mem_table") == 0) {
		/* Sound numbers, and different from the table in force (an
		 * equal one is skipped), but the memory is an eventfd: mapping
		 * fails after librte_vhost let go of the old table. */
		struct vhu_mem_table t = {.nregions = 1,
			.regions[0] = {GMEM_BASE + 0x100000000ULL, g->mem.size,
				       (uint64_t)(uintptr_t)g->mem.va, 0}};

		vhu_send(&g->conn, VHU_SET_MEM_TABLE, &t, VHU_MEM_TABLE_SIZE(1), &fd, 1);
	} else {
		/* No descriptor, and no "no descriptor" flag either: the
		 * library's descriptor check fails it after the switch's pre
		 * hook has seen an eventfd being replaced. */
		uint64_t u = (uint64_t)index;

		vhu_send(&g->conn, VHU_SET_VRING_CALL, &u, sizeof(u), NULL, 0);
	}
	close(fd); /* the switch has its own copy */
	return 0;
}

/* --- malicious guest kernel --- */

static uint64_t
rnd(struct chaos *c)
{
	/* xorshift64: the same sequence every run */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* Busy for ns nanoseconds: shorter than the scheduler can sleep. */
static void
spin_ns(long ns)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < ns);
}

/* How long a hostile value stays: a few hundred ns to a few us. */
static void
pause_hostile(struct chaos *c)
{
	spin_ns(200 + (long)(rnd(c) % (MAX_PAUSE_NS - 200)));
}

static void
store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* avail_back, avail_ahead: the avail index off by X, then true again. */
static bool
round_avail(struct chaos *c, struct virtq *q)
{
	uint16_t truth = __atomic_load_n(&q->avail->idx, __ATOMIC_RELAXED);
	uint16_t x = (uint16_t)(c->arg >= 0 ? c->arg : c->kind == AVAIL_BACK ? 8 : q->size + 1);

	store16(&q->avail->idx, c->kind == AVAIL_BACK ? (uint16_t)(truth - x) : (uint16_t)(truth + x));
	pause_hostile(c);
	store16(&q->avail->idx, truth);
	return true;
}

/* The descriptor in ring slot at, as two 64-bit halves. */
static uint64_t *
desc_at(struct virtq *q, uint16_t at)
{
	return q->packed ? (uint64_t *)(void *)&q->pdesc[at] : (uint64_t *)(void *)&q->desc[at];
}

/* Split: every descriptor of every chain in flight (published or not:
 * the device cannot see the others, and they are restored anyway). */
static int
inflight_split(struct chaos *c, struct virtq *q)
{
	int n = 0;
	uint16_t id, i, k;

	for (id = 0; id < q->size; id++)
		for (i = id, k = 0; k < q->chain_len[id] && n < q->size; k++) {
			c->flips[n++].at = i;
			i = q->desc[i].next;
		}
	return n;
}

/* Packed: the slots from the next used one that chains made available
 * (the ones added but not yet published are at the end: left alone, a
 * flipped AVAIL bit would publish them). */
static int
inflight_packed(struct chaos *c, struct virtq *q)
{
	int n = q->size - q->num_free, k;
	uint16_t at = q->next_used;

	for (k = 0; k < q->n_unpublished; k++) {
		uint16_t id = q->pdesc[q->unpublished[k].slot].id;

		n -= id < q->size ? q->chain_len[id] : 0;
	}
	for (k = 0; k < n; k++, at = (uint16_t)((at + 1) % q->size))
		c->flips[k].at = at;
	return n < 0 ? 0 : n;
}

/* Descriptor half `word` with change m: 0 len 0, 1 len 0xffffffff,
 * 3 NEXT set (split: next past the ring), 4 WRITE toggled, 5 packed:
 * AVAIL and USED toggled, split: INDIRECT toggled. (2 is the address.) */
static uint64_t
flip_word(const struct virtq *q, uint64_t w, int m)
{
	int fs = q->packed ? 48 : 32; /* where the flags are */

	switch (m) {
	case 0:
		return w & ~0xffffffffULL;
	case 1:
		return w | 0xffffffffULL;
	case 3:
		w |= (uint64_t)VRING_DESC_F_NEXT << fs;
		return q->packed ? w : (w & ~(0xffffULL << 48)) | (uint64_t)(q->size + 5) << 48;
	case 4:
		return w ^ (uint64_t)VRING_DESC_F_WRITE << fs;
	default:
		return w ^ (uint64_t)(q->packed ? F_AVAIL | F_USED : VRING_DESC_F_INDIRECT) << fs;
	}
}

/*
 * The device never writes a split descriptor, nor a packed one's
 * address; but it writes a packed used entry's len, id and flags over
 * the descriptor (one 64-bit half). That half is changed and restored
 * only if it still holds what we left there: we never undo the device's
 * work.
 */
static void
flip(struct chaos *c, struct virtq *q, struct flip *f, int m)
{
	uint64_t *d = desc_at(q, f->at);

	f->addr = __atomic_load_n(&d[0], __ATOMIC_RELAXED);
	f->word = __atomic_load_n(&d[1], __ATOMIC_RELAXED);
	f->changed = false;
	if (m == 2) {
		__atomic_store_n(&d[0], GMEM_BASE + c->g->mem.size + 0x100000, __ATOMIC_RELEASE);
		return;
	}
	f->bad = flip_word(q, f->word, m);
	/* fails if the device wrote it since we looked: then leave it */
	f->changed = __atomic_compare_exchange_n(&d[1], &f->word, f->bad, false, __ATOMIC_RELEASE,
						 __ATOMIC_RELAXED);
}

static void
unflip(struct virtq *q, struct flip *f)
{
	uint64_t *d = desc_at(q, f->at);

	__atomic_store_n(&d[0], f->addr, __ATOMIC_RELEASE);
	/* fails if the device wrote a used entry over ours: it stays */
	if (f->changed)
		__atomic_compare_exchange_n(&d[1], &f->bad, f->word, false, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED);
}

/* desc_flip: every descriptor in flight changed (X: always change X,
 * else each another), then restored. */
static bool
round_desc(struct chaos *c, struct virtq *q)
{
	int n = q->packed ? inflight_packed(c, q) : inflight_split(c, q), k;

	for (k = 0; k < n; k++)
		flip(c, q, &c->flips[k], c->arg >= 0 ? (int)c->arg : (int)((c->rounds + k) % FLIP_KINDS));
	if (n == 0)
		return false;
	pause_hostile(c);
	for (k = n - 1; k >= 0; k--)
		unflip(q, &c->flips[k]);
	return true;
}

static void
put16(uint8_t *p, uint16_t v)
{
	__atomic_store_n(&p[0], (uint8_t)(v >> 8), __ATOMIC_RELAXED);
	__atomic_store_n(&p[1], (uint8_t)v, __ATOMIC_RELAXED);
}

/* buf_rewrite on one frame at p (after the virtio-net header), phase 0
 * or 1: a tagged frame's VLAN id X, then its own; an untagged frame an
 * 802.1Q tag of VLAN id X where its EtherType and first two bytes after
 * it are, then those bytes as written. The untagged frame's four bytes
 * are one store where they are 4-byte aligned (a 12-byte header in a
 * buffer aligned to 64): a device's one read of them sees either frame
 * whole, never half of each. */
static void
rewrite(uint8_t *p, const uint8_t *was, uint16_t x, int phase)
{
	uint16_t tci = (uint16_t)(was[2] << 8 | was[3]);
	uint8_t tag[4] = {0x81, 0x00, (uint8_t)(x >> 8), (uint8_t)x};
	uint32_t word;

	if (was[0] == 0x81 && was[1] == 0x00) {
		put16(p + 14, phase == 0 ? (uint16_t)((tci & 0xf000) | x) : tci);
	} else if (((uintptr_t)(p + 12) & 3) == 0) {
		memcpy(&word, phase == 0 ? tag : was, sizeof(word));
		__atomic_store_n((uint32_t *)(void *)(p + 12), word, __ATOMIC_RELAXED);
	} else {
		put16(p + 14, phase == 0 ? x : tci);
		put16(p + 12, phase == 0 ? 0x8100 : (uint16_t)(was[0] << 8 | was[1]));
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/* buf_rewrite: bytes 12..17 of every TX frame in flight, two hostile
 * phases, then as written. */
static bool
round_buf(struct chaos *c, struct virtq *q)
{
	struct guest_vq *v = &c->g->vq[c->vq];
	uint32_t hl = c->g->hdr_len;
	uint16_t x = (uint16_t)(c->arg >= 0 ? c->arg : BUF_VID);
	uint8_t was[6];
	bool any = false;
	int phase;
	uint16_t id;

	for (phase = 0; phase < 3; phase++) {
		for (id = 0; id < q->size; id++) {
			uint8_t *p;

			if (q->chain_len[id] == 0 || v->buf_len[id] < hl + 18 ||
			    (p = gmem_ptr(&c->g->mem, v->buf[id] + hl, 18)) == NULL)
				continue;
			memcpy(was, v->tx_sum[id].mid, sizeof(was)); /* as queued */
			if (phase < 2)
				rewrite(p, was, x, phase);
			else
				memcpy(p + 12, was, sizeof(was));
			v->tx_sum[id].rewritten = true;
			any = true;
		}
		if (!any)
			return false;
		if (phase < 2)
			pause_hostile(c);
	}
	return true;
}

/* event_random: the driver's event suppression words random, then back. */
static bool
round_event(struct chaos *c, struct virtq *q)
{
	uint32_t *ev = (uint32_t *)(void *)q->driver_event, was;
	uint16_t flags, used_event;

	if (q->packed) {
		was = __atomic_load_n(ev, __ATOMIC_RELAXED);
		__atomic_store_n(ev, (uint32_t)rnd(c), __ATOMIC_RELEASE);
		pause_hostile(c);
		__atomic_store_n(ev, was, __ATOMIC_RELEASE);
		return true;
	}
	flags = __atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED);
	used_event = __atomic_load_n(q->used_event, __ATOMIC_RELAXED);
	store16(&q->avail->flags, (uint16_t)rnd(c));
	store16(q->used_event, (uint16_t)rnd(c));
	pause_hostile(c);
	store16(&q->avail->flags, flags);
	store16(q->used_event, used_event);
	return true;
}

/* One round, with the lock: whether it changed anything. */
static bool
round_once(struct chaos *c)
{
	struct virtq *q = &c->g->vq[c->vq].q;

	switch (c->kind) {
	case AVAIL_BACK:
	case AVAIL_AHEAD:
		return round_avail(c, q);
	case DESC_FLIP:
		return round_desc(c, q);
	case BUF_REWRITE:
		return round_buf(c, q);
	default:
		return round_event(c, q);
	}
}

static void *
chaos_main(void *arg)
{
	struct chaos *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		bool did;

		/* The lock is not fair: let a waiting main thread in first. */
		if (__atomic_load_n(&c->waiting, __ATOMIC_ACQUIRE) > 0) {
			sched_yield();
			continue;
		}
		pthread_mutex_lock(&c->lock);
		did = round_once(c);
		pthread_mutex_unlock(&c->lock);
		if (did) {
			c->rounds++;
			pause_hostile(c); /* the device sees the truth too */
		} else {
			/* nothing in flight yet */
			nanosleep(&(struct timespec){.tv_nsec = 20000}, NULL);
		}
	}
	return NULL;
}

static int
kind_of(const char *kind)
{
	int k;

	for (k = 0; chaos_kinds[k] != NULL; k++)
		if (strcmp(kind, chaos_kinds[k]) == 0)
			return k;
	return -1;
}

/* Whether kind can run on vring i with arg; err set if not. */
static bool
chaos_fits(const struct guest *g, uint16_t i, int kind, long arg, char *err, size_t len)
{
	const char *name = chaos_kinds[kind];

	if ((kind == AVAIL_BACK || kind == AVAIL_AHEAD) && g->vq[i].q.packed)
		snprintf(err, len, "%s: split rings only", name);
	else if (kind == BUF_REWRITE && i % 2 == 0)
		snprintf(err, len, "%s goes on a TX (odd) vring", name);
	else if ((kind == AVAIL_BACK || kind == AVAIL_AHEAD) && arg > 0xffff)
		snprintf(err, len, "%s: arg must be 0..65535", name);
	else if (kind == DESC_FLIP && arg >= FLIP_KINDS)
		snprintf(err, len, "%s: arg must be 0..%d", name, FLIP_KINDS - 1);
	else if (kind == BUF_REWRITE && arg > 4095)
		snprintf(err, len, "%s: arg must be a VLAN id, 0..4095", name);
	else if (arg < -1)
		snprintf(err, len, "%s: arg must not be negative", name);
	else
		return true;
	return false;
}

int
chaos_start(struct guest *g, uint16_t i, const char *kind, long arg, char *err, size_t len)
{
	int k = kind_of(kind);
	struct chaos *c;

	if (g->vq[i].chaos != NULL) {
		snprintf(err, len, "chaos already runs on vq %u", i);
		return -1;
	}
	if (k < 0) {
		snprintf(err, len, "no chaos kind '%s'", kind);
		return -1;
	}
	if (!chaos_fits(g, i, k, arg, err, len))
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->flips = calloc(g->conf.size, sizeof(*c->flips))) == NULL) {
		free(c);
		snprintf(err, len, "out of memory");
		return -1;
	}
	*c = (struct chaos){.g = g, .vq = i, .kind = (enum chaos_kind)k, .arg = arg,
			    .rng = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)i << 32) ^ (uint64_t)k,
			    .flips = c->flips};
	if (k == EVENT_RANDOM && arg >= 0) /* X: the seed (xorshift needs bits set) */
		c->rng = (uint64_t)arg * 0x100000001b3ULL | 1;
	pthread_mutex_init(&c->lock, NULL);
	if (pthread_create(&c->thread, NULL, chaos_main, c) != 0) {
		pthread_mutex_destroy(&c->lock);
		free(c->flips);
		free(c);
		snprintf(err, len, "pthread_create");
		return -1;
	}
	g->vq[i].chaos = c;
	return 0;
}

uint64_t
chaos_stop(struct guest *g, uint16_t i)
{
	struct chaos *c = g->vq[i].chaos;
	uint64_t rounds;

	if (c == NULL)
		return 0;
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	pthread_join(c->thread, NULL); /* its last round restored the ring */
	rounds = c->rounds;
	pthread_mutex_destroy(&c->lock);
	free(c->flips);
	free(c);
	g->vq[i].chaos = NULL;
	return rounds;
}

void
chaos_stop_all(struct guest *g)
{
	uint16_t i;

	for (i = 0; i < 2 * GUEST_MAX_QP; i++)
		chaos_stop(g, i);
}

void
chaos_hold(struct guest *g, uint16_t i)
{
	struct chaos *c = g->vq[i].chaos;

	if (c == NULL)
		return;
	__atomic_fetch_add(&c->waiting, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&c->lock);
	__atomic_fetch_sub(&c->waiting, 1, __ATOMIC_ACQ_REL);
}

void
chaos_release(struct guest *g, uint16_t i)
{
	if (g->vq[i].chaos != NULL)
		pthread_mutex_unlock(&g->vq[i].chaos->lock);
}

void
chaos_hold_all(struct guest *g, bool hold)
{
	uint16_t i;

	for (i = 0; i < g->nr_vq; i++) {
		if (hold)
			chaos_hold(g, i);
		else
			chaos_release(g, i);
	}
}
