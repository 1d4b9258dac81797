/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "fdb.h"
#include "vqs.h"

struct fdb_key {
	struct rte_ether_addr mac;
	uint16_t vlan;
};

/*
 * Only EAL threads may add keys: rte_hash's multi-writer add keeps per-lcore
 * caches of free slots and indexes them by lcore id.
 *
 * Per-slot data, indexed by the position rte_hash gives a key. owner holds
 * port + 1 (0: slot not yet claimed) and, in the same word, FDB_STATIC, so
 * that one compare-and-swap decides between a learning PMD and the control
 * thread making the entry static: a PMD that read a learned owner cannot
 * overwrite a static entry made meanwhile. Whoever moves owner from 0 owns
 * the count increment.
 */
#define FDB_STATIC    (1u << 16)
/* Installed from BGP EVPN (vqs_fdb_add_evpn): never aged; learning moves
 * it to a port that is not a tunnel (its VM moved here), not to a remote. */
#define FDB_EVPN      (1u << 17)
#define FDB_PORT1(o)  ((uint16_t)(o))

struct fdb_slot {
	uint32_t owner;
	uint64_t seen;
};

struct vqs_fdb {
	struct rte_hash *hash;
	struct rte_rcu_qsbr *qsv;
	uint32_t max_entries;
	uint64_t refresh_tsc; /* TSC ticks between age refreshes of an entry */
	uint32_t count;       /* claimed slots; atomic */
	uint32_t n_slots;
	int32_t *dead;        /* scratch for age/flush, control thread only */
	struct fdb_slot slots[];
};

/* Refresh the age at most this often per entry (in 1/N s) so that a busy
 * address does not bounce its cache line between PMDs on every frame. */
#define FDB_REFRESH_DIV 16

struct vqs_fdb *
vqs_fdb_create(const char *name, uint32_t max_entries, struct rte_rcu_qsbr *qsv)
{
	struct rte_hash_parameters hp = {
		.name = name,
		/* Head room: per-lcore key caches may hold free slots, and
		 * several PMDs may each add one entry past the soft limit. */
		.entries = max_entries + RTE_MAX_LCORE,
		.key_len = sizeof(struct fdb_key),
		.hash_func = rte_hash_crc,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};
	struct rte_hash *h;
	struct vqs_fdb *fdb;
	int32_t n;

	if (max_entries == 0)
		return NULL;
	h = rte_hash_create(&hp);
	if (h == NULL)
		return NULL;
	n = rte_hash_max_key_id(h) + 1;
	fdb = rte_zmalloc(name, sizeof(*fdb) + (size_t)n * sizeof(fdb->slots[0]),
			  RTE_CACHE_LINE_SIZE);
	if (fdb == NULL) {
		rte_hash_free(h);
		return NULL;
	}
	fdb->dead = rte_malloc(name, (size_t)n * sizeof(int32_t), 0);
	if (fdb->dead == NULL) {
		rte_free(fdb);
		rte_hash_free(h);
		return NULL;
	}
	fdb->hash = h;
	fdb->qsv = qsv;
	fdb->max_entries = max_entries;
	fdb->refresh_tsc = rte_get_tsc_hz() / FDB_REFRESH_DIV;
	fdb->n_slots = (uint32_t)n;
	return fdb;
}

void
vqs_fdb_free(struct vqs_fdb *fdb)
{
	if (fdb == NULL)
		return;
	rte_hash_free(fdb->hash);
	rte_free(fdb->dead);
	rte_free(fdb);
}

static inline void
fdb_key_make(struct fdb_key *k, uint16_t vlan, const struct rte_ether_addr *mac)
{
	k->mac = *mac;
	k->vlan = vlan;
}

int
vqs_fdb_lookup(const struct vqs_fdb *fdb, uint16_t vlan,
	       const struct rte_ether_addr *mac)
{
	struct fdb_key k;
	int32_t pos;
	uint16_t port1;

	fdb_key_make(&k, vlan, mac);
	pos = rte_hash_lookup(fdb->hash, &k);
	if (pos < 0)
		return VQS_FDB_MISS;
	/* 0 while the adding PMD has not yet claimed the slot: flood. */
	port1 = FDB_PORT1(__atomic_load_n(&fdb->slots[pos].owner, __ATOMIC_ACQUIRE));
	return port1 == 0 ? VQS_FDB_MISS : port1 - 1;
}

enum vqs_fdb_learn_result
vqs_fdb_learn(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac,
	      uint16_t port, uint64_t now)
{
	struct fdb_key k;
	struct fdb_slot *s;
	uint32_t want = (uint32_t)port + 1, cur;
	int32_t pos;

	fdb_key_make(&k, vlan, mac);
	pos = rte_hash_lookup(fdb->hash, &k);
	if (pos < 0) {
		if (__atomic_load_n(&fdb->count, __ATOMIC_RELAXED) >=
		    fdb->max_entries)
			return VQS_FDB_FULL;
		pos = rte_hash_add_key(fdb->hash, &k);
		if (pos < 0)
			return VQS_FDB_FULL;
	}
	s = &fdb->slots[pos];
	cur = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
	if (cur == want) {
		if (now - __atomic_load_n(&s->seen, __ATOMIC_RELAXED) > fdb->refresh_tsc)
			__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
		return VQS_FDB_KNOWN;
	}
	/* New (cur 0: unclaimed, maybe another PMD adds it at once) or moved.
	 * A failed swap reloads cur: a static entry wins, another learner's
	 * port is replaced on the next try. */
	do {
		if ((cur & FDB_STATIC) || ((cur & FDB_EVPN) && VQS_FDB_RMT1(port) != 0))
			return VQS_FDB_STATIC;
		__atomic_store_n(&s->seen, now, __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&s->owner, &cur, want, false,
					      __ATOMIC_RELEASE, __ATOMIC_ACQUIRE));
	if (cur != 0)
		return VQS_FDB_MOVED;
	__atomic_fetch_add(&fdb->count, 1, __ATOMIC_RELAXED);
	return VQS_FDB_NEW;
}

/*
 * Deletes the keys in fdb->dead[0..n), waits until no PMD can still hold
 * their positions, then clears and frees the slots. Clearing before the
 * grace period would race with a PMD refreshing the slot it just looked up.
 */
static void
fdb_reclaim(struct vqs_fdb *fdb, unsigned int n)
{
	unsigned int i;

	if (n == 0)
		return;
	if (fdb->qsv != NULL)
		rte_rcu_qsbr_synchronize(fdb->qsv, RTE_QSBR_THRID_INVALID);
	for (i = 0; i < n; i++) {
		struct fdb_slot *s = &fdb->slots[fdb->dead[i]];

		__atomic_store_n(&s->owner, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->seen, 0, __ATOMIC_RELAXED);
		rte_hash_free_key_with_position(fdb->hash, fdb->dead[i]);
	}
	__atomic_fetch_sub(&fdb->count, n, __ATOMIC_RELAXED);
}

enum fdb_remove {
	FDB_REMOVE_AGED,  /* learned entries older than max_age */
	FDB_REMOVE_PORT,  /* every entry of one port */
	FDB_REMOVE_DEST,  /* entries not static of one port and remote */
	FDB_REMOVE_ALL,
};

static unsigned int
fdb_remove(struct vqs_fdb *fdb, enum fdb_remove what, uint64_t now,
	   uint64_t max_age, uint16_t port)
{
	unsigned int n = 0;
	uint32_t pos, owner;
	void *key;

	for (pos = 0; pos < fdb->n_slots; pos++) {
		struct fdb_slot *s = &fdb->slots[pos];

		owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
		if (owner == 0)
			continue;
		if (what == FDB_REMOVE_AGED &&
		    ((owner & (FDB_STATIC | FDB_EVPN)) ||
		     now - __atomic_load_n(&s->seen, __ATOMIC_RELAXED) <= max_age))
			continue;
		if (what == FDB_REMOVE_PORT && VQS_FDB_SLOT(FDB_PORT1(owner) - 1) != port)
			continue;
		if (what == FDB_REMOVE_DEST &&
		    ((owner & FDB_STATIC) || FDB_PORT1(owner) - 1 != port))
			continue;
		if (rte_hash_get_key_with_position(fdb->hash, (int32_t)pos,
						   &key) < 0)
			continue;
		if (rte_hash_del_key(fdb->hash, key) == (int32_t)pos)
			fdb->dead[n++] = (int32_t)pos;
	}
	fdb_reclaim(fdb, n);
	return n;
}

unsigned int
vqs_fdb_age(struct vqs_fdb *fdb, uint64_t now, uint64_t max_age)
{
	return fdb_remove(fdb, FDB_REMOVE_AGED, now, max_age, 0);
}

unsigned int
vqs_fdb_flush(struct vqs_fdb *fdb)
{
	return fdb_remove(fdb, FDB_REMOVE_ALL, 0, 0, 0);
}

unsigned int
vqs_fdb_flush_port(struct vqs_fdb *fdb, uint16_t port)
{
	return fdb_remove(fdb, FDB_REMOVE_PORT, 0, 0, port);
}

unsigned int
vqs_fdb_flush_dest(struct vqs_fdb *fdb, uint16_t dest)
{
	return fdb_remove(fdb, FDB_REMOVE_DEST, 0, 0, dest);
}

/* Control thread: one key's entry; returns once no PMD can still use it. */
static int
del_key(struct vqs_fdb *fdb, const struct fdb_key *k)
{
	int32_t pos = rte_hash_del_key(fdb->hash, k);

	if (pos < 0)
		return -ENOENT;
	fdb->dead[0] = pos;
	fdb_reclaim(fdb, 1);
	return 0;
}

/* The one entry, if an EVPN one: a PMD that moves it to a local port
 * between the check and the removal loses that entry, and learns it again
 * from the VM's next frame. */
int
vqs_fdb_del_evpn(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac)
{
	struct fdb_key k;
	int32_t pos;

	fdb_key_make(&k, vlan, mac);
	pos = rte_hash_lookup(fdb->hash, &k);
	if (pos < 0 || !(__atomic_load_n(&fdb->slots[pos].owner, __ATOMIC_ACQUIRE) & FDB_EVPN))
		return -ENOENT;
	return del_key(fdb, &k);
}

int
vqs_fdb_del(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac)
{
	struct fdb_key k;

	fdb_key_make(&k, vlan, mac);
	return del_key(fdb, &k);
}

/* Control thread: the slot of (vlan, mac), added if need be; NULL when
 * the table is full. */
static struct fdb_slot *
slot_of(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac)
{
	struct fdb_key k;
	int32_t pos;

	fdb_key_make(&k, vlan, mac);
	pos = rte_hash_lookup(fdb->hash, &k);
	if (pos < 0) {
		if (vqs_fdb_count(fdb) >= fdb->max_entries)
			return NULL;
		pos = rte_hash_add_key(fdb->hash, &k);
		if (pos < 0)
			return NULL;
	}
	return &fdb->slots[pos];
}

int
vqs_fdb_add_static(struct vqs_fdb *fdb, uint16_t vlan,
		   const struct rte_ether_addr *mac, uint16_t port)
{
	struct fdb_slot *s = slot_of(fdb, vlan, mac);

	if (s == NULL)
		return -ENOSPC;
	__atomic_store_n(&s->seen, rte_get_tsc_cycles(), __ATOMIC_RELAXED);
	/* One store of port and flag: a learner's swap from the old value
	 * fails after it (see vqs_fdb_learn). */
	if (__atomic_exchange_n(&s->owner, ((uint32_t)port + 1) | FDB_STATIC,
				__ATOMIC_ACQ_REL) == 0)
		__atomic_fetch_add(&fdb->count, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Over anything but a static entry: the kernel's entry, which FRR made
 * from the newest route, says where the address is now. */
int
vqs_fdb_add_evpn(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac,
		 uint16_t dest)
{
	uint32_t want = ((uint32_t)dest + 1) | FDB_EVPN, cur;
	struct fdb_slot *s = slot_of(fdb, vlan, mac);

	if (s == NULL)
		return -ENOSPC;
	cur = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
	do {
		if (cur & FDB_STATIC)
			return -EEXIST;
		__atomic_store_n(&s->seen, rte_get_tsc_cycles(), __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(&s->owner, &cur, want, false,
					      __ATOMIC_RELEASE, __ATOMIC_ACQUIRE));
	if (cur == 0)
		__atomic_fetch_add(&fdb->count, 1, __ATOMIC_RELAXED);
	return 0;
}

uint32_t
vqs_fdb_count(const struct vqs_fdb *fdb)
{
	return __atomic_load_n(&fdb->count, __ATOMIC_RELAXED);
}

uint32_t
vqs_fdb_capacity(const struct vqs_fdb *fdb)
{
	return fdb->max_entries;
}

void
vqs_fdb_walk(const struct vqs_fdb *fdb, uint64_t now,
	     int (*fn)(const struct vqs_fdb_entry_info *e, void *arg), void *arg)
{
	struct vqs_fdb_entry_info e;
	uint32_t pos;
	void *key;

	for (pos = 0; pos < fdb->n_slots; pos++) {
		const struct fdb_slot *s = &fdb->slots[pos];
		uint32_t owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
		uint16_t port1 = FDB_PORT1(owner);

		if (port1 == 0 ||
		    rte_hash_get_key_with_position(fdb->hash, (int32_t)pos,
						   &key) < 0)
			continue;
		e.mac = ((const struct fdb_key *)key)->mac;
		e.vlan = ((const struct fdb_key *)key)->vlan;
		e.port = port1 - 1;
		e.is_static = (owner & FDB_STATIC) != 0;
		e.is_evpn = (owner & FDB_EVPN) != 0;
		e.age_tsc = now - __atomic_load_n(&s->seen, __ATOMIC_RELAXED);
		if (fn(&e, arg) != 0)
			return;
	}
}
