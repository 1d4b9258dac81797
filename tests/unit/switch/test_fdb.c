/* SPDX-License-Identifier: BSD-3-Clause
 * Forwarding database: learn, move, lookup, aging, full table, flush, and
 * concurrent learning from several threads.
 */
#include <errno.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "fdb.h"
#include "unit.h"
#include "vqs.h"


static struct rte_ether_addr
mac(uint32_t n)
{
	struct rte_ether_addr a = { { 0x02, 0x00, (uint8_t)(n >> 24),
				      (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				      (uint8_t)n } };
	return a;
}

static struct rte_rcu_qsbr *
make_qsv(unsigned int n)
{
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(n),
					     RTE_CACHE_LINE_SIZE);

	rte_rcu_qsbr_init(v, n);
	return v;
}

static void
test_learn_lookup_move(void)
{
	struct vqs_fdb *f = vqs_fdb_create("t_basic", 16, NULL);
	struct rte_ether_addr a = mac(1), b = mac(2);
	uint64_t now = 1000;

	CHECK(f != NULL);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), VQS_FDB_MISS);
	CHECK_EQ(vqs_fdb_learn(f, 0, &a, 3, now), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), 3);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), VQS_FDB_MISS);
	CHECK_EQ(vqs_fdb_learn(f, 0, &a, 3, now + 1), VQS_FDB_KNOWN);
	CHECK_EQ(vqs_fdb_count(f), 1);
	/* The address moves: the next frame for it goes to the new port. */
	CHECK_EQ(vqs_fdb_learn(f, 0, &a, 5, now + 2), VQS_FDB_MOVED);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), 5);
	CHECK_EQ(vqs_fdb_count(f), 1);
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 0, now), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 0);
	CHECK_EQ(vqs_fdb_count(f), 2);
	vqs_fdb_free(f);
}

static void
test_aging(void)
{
	struct rte_rcu_qsbr *v = make_qsv(1);
	struct vqs_fdb *f = vqs_fdb_create("t_age", 16, v);
	struct rte_ether_addr a = mac(1), b = mac(2);
	uint64_t hz = rte_get_tsc_hz(), t0 = 100 * hz;

	CHECK_EQ(vqs_fdb_learn(f, 0, &a, 1, t0), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 2, t0 + 200 * hz), VQS_FDB_NEW);
	/* 300 s limit: at t0+301 s, a (301 s old) goes, b (101 s) stays. */
	CHECK_EQ(vqs_fdb_age(f, t0 + 300 * hz, 300 * hz), 0);
	CHECK_EQ(vqs_fdb_age(f, t0 + 301 * hz, 300 * hz), 1);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), VQS_FDB_MISS);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 2);
	CHECK_EQ(vqs_fdb_count(f), 1);
	/* Refreshing keeps an entry alive. */
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 2, t0 + 450 * hz), VQS_FDB_KNOWN);
	CHECK_EQ(vqs_fdb_age(f, t0 + 600 * hz, 300 * hz), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 2);
	/* A freed slot is reusable and starts clean. */
	CHECK_EQ(vqs_fdb_learn(f, 0, &a, 7, t0 + 601 * hz), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), 7);
	CHECK_EQ(vqs_fdb_flush(f), 2);
	CHECK_EQ(vqs_fdb_count(f), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), VQS_FDB_MISS);
	vqs_fdb_free(f);
	rte_free(v);
}

static void
test_full(void)
{
	struct rte_rcu_qsbr *v = make_qsv(1);
	struct vqs_fdb *f = vqs_fdb_create("t_full", 100, v);
	struct rte_ether_addr extra = mac(1000);
	uint32_t i;

	for (i = 0; i < 100; i++) {
		struct rte_ether_addr a = mac(i);

		CHECK_EQ(vqs_fdb_learn(f, 0, &a, (uint16_t)(i % 7), 1), VQS_FDB_NEW);
	}
	CHECK_EQ(vqs_fdb_count(f), 100);
	/* Full: a new address is not learned (frames to it are flooded),
	 * known ones are still found and can still move. */
	CHECK_EQ(vqs_fdb_learn(f, 0, &extra, 1, 2), VQS_FDB_FULL);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &extra), VQS_FDB_MISS);
	for (i = 0; i < 100; i++) {
		struct rte_ether_addr a = mac(i);

		CHECK_EQ(vqs_fdb_lookup(f, 0, &a), i % 7);
	}
	{
		struct rte_ether_addr a = mac(5);

		CHECK_EQ(vqs_fdb_learn(f, 0, &a, 6, 3), VQS_FDB_MOVED);
	}
	/* Aging makes room again. */
	CHECK_EQ(vqs_fdb_age(f, 7, 5), 99); /* mac(5) was seen at 3 */
	CHECK_EQ(vqs_fdb_count(f), 1);
	CHECK_EQ(vqs_fdb_learn(f, 0, &extra, 1, 8), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &extra), 1);
	vqs_fdb_free(f);
	rte_free(v);
}

struct walk_acc {
	unsigned int n;
	unsigned int port_sum;
};

static int
walk_one(const struct vqs_fdb_entry_info *e, void *arg)
{
	struct walk_acc *w = arg;

	w->n++;
	w->port_sum += e->port;
	return 0;
}

static void
test_walk(void)
{
	struct vqs_fdb *f = vqs_fdb_create("t_walk", 16, NULL);
	struct walk_acc w = { 0, 0 };
	uint32_t i;

	for (i = 1; i <= 4; i++) {
		struct rte_ether_addr a = mac(i);

		vqs_fdb_learn(f, 0, &a, (uint16_t)i, 1);
	}
	vqs_fdb_walk(f, 1, walk_one, &w);
	CHECK_EQ(w.n, 4);
	CHECK_EQ(w.port_sum, 1 + 2 + 3 + 4);
	vqs_fdb_free(f);
}

/* (VLAN, MAC) is the key; static entries neither age nor move; a port's
 * entries can be flushed alone. */
static void
test_vlans_static_flush_port(void)
{
	struct rte_rcu_qsbr *v = make_qsv(1);
	struct vqs_fdb *f = vqs_fdb_create("t_vlan", 16, v);
	struct rte_ether_addr a = mac(1), b = mac(2);

	CHECK_EQ(vqs_fdb_learn(f, 100, &a, 1, 1), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_learn(f, 200, &a, 2, 1), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_lookup(f, 100, &a), 1);
	CHECK_EQ(vqs_fdb_lookup(f, 200, &a), 2);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), VQS_FDB_MISS);
	CHECK_EQ(vqs_fdb_count(f), 2);

	CHECK_EQ(vqs_fdb_add_static(f, 0, &b, 3), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 3);
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 4, 2), VQS_FDB_STATIC);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 3);
	CHECK_EQ(vqs_fdb_age(f, 1000, 10), 2); /* both learned ones, not b */
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 3);

	CHECK_EQ(vqs_fdb_learn(f, 100, &a, 1, 2000), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_learn(f, 100, &b, 1, 2000), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_flush_port(f, 1), 2);
	CHECK_EQ(vqs_fdb_count(f), 1);
	CHECK_EQ(vqs_fdb_flush_port(f, 3), 1); /* static entries go with their port */
	CHECK_EQ(vqs_fdb_count(f), 0);
	vqs_fdb_free(f);
	rte_free(v);
}

/* Several learners add overlapping addresses at once while the main lcore
 * ages out a set of stale ones: the count stays exact (the learners' own,
 * refreshed at most every 1/16 s, are never old enough to go: every time
 * stamp here is a fake one, and aging compares them with each other only)
 * and every address maps to a real port.
 * Learners are EAL lcores, as PMDs are: rte_hash's multi-writer add keeps
 * per-lcore caches and does not take non-EAL threads. */
#define MT_THREADS 4
#define MT_MACS 2000
#define MT_STALE 500

struct mt_arg {
	struct vqs_fdb *f;
	struct rte_rcu_qsbr *v;
	unsigned int id;
	const bool *aged; /* the main lcore has aged the stale addresses out */
};

static int
mt_learner(void *p)
{
	struct mt_arg *a = p;
	uint32_t round, i;

	rte_rcu_qsbr_thread_register(a->v, a->id);
	rte_rcu_qsbr_thread_online(a->v, a->id);
	/* Until the stale addresses are gone, a full table refuses some of
	 * ours: one more round after that, however the lcores were
	 * scheduled. */
	for (round = 0; round < 20 || !__atomic_load_n(a->aged, __ATOMIC_ACQUIRE); round++) {
		for (i = 0; i < MT_MACS; i++) {
			struct rte_ether_addr m = mac(i);

			vqs_fdb_learn(a->f, 0, &m, (uint16_t)a->id, 1000 + round % 20);
			vqs_fdb_lookup(a->f, 0, &m);
			if (i % 64 == 0)
				rte_rcu_qsbr_quiescent(a->v, a->id);
		}
	}
	rte_rcu_qsbr_thread_offline(a->v, a->id);
	rte_rcu_qsbr_thread_unregister(a->v, a->id);
	return 0;
}

static void
test_concurrent(void)
{
	struct rte_rcu_qsbr *v = make_qsv(MT_THREADS);
	struct vqs_fdb *f = vqs_fdb_create("t_mt", MT_MACS, v);
	struct mt_arg args[MT_THREADS];
	struct walk_acc w = { 0, 0 };
	unsigned int i = 0, lcore;
	unsigned int aged = 0;
	bool aged_out = false;

	CHECK_EQ(rte_lcore_count(), MT_THREADS + 1);
	for (i = 0; i < MT_STALE; i++) {
		struct rte_ether_addr m = mac(1000000 + i);

		CHECK_EQ(vqs_fdb_learn(f, 0, &m, 0, 0), VQS_FDB_NEW);
	}
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		args[i] = (struct mt_arg){ f, v, i, &aged_out };
		rte_eal_remote_launch(mt_learner, &args[i], lcore);
		i++;
	}
	/* Learners stamp 1000..1019: at 1019 with 100 they are all fresh,
	 * the stale ones (0) are not. */
	for (i = 0; i < 50; i++)
		aged += vqs_fdb_age(f, 1019, 100);
	__atomic_store_n(&aged_out, true, __ATOMIC_RELEASE);
	rte_eal_mp_wait_lcore();
	CHECK_EQ(aged, MT_STALE);
	CHECK_EQ(vqs_fdb_count(f), MT_MACS);
	vqs_fdb_walk(f, 2000, walk_one, &w);
	CHECK_EQ(w.n, MT_MACS);
	for (i = 0; i < MT_MACS; i++) {
		struct rte_ether_addr m = mac(i);
		int port = vqs_fdb_lookup(f, 0, &m);

		CHECK(port >= 0 && port < MT_THREADS);
	}
	CHECK_EQ(vqs_fdb_flush(f), MT_MACS);
	CHECK_EQ(vqs_fdb_count(f), 0);
	vqs_fdb_free(f);
	rte_free(v);
}

/* Learners keep learning one address on their own ports while the main
 * lcore makes it static: after add_static returns, no learner may move it
 * (the static flag and the port change in one swap). */
struct race_arg {
	struct vqs_fdb *f;
	struct rte_rcu_qsbr *v;
	unsigned int id;
	volatile bool *stop;
};

static int
race_learner(void *p)
{
	struct race_arg *a = p;
	struct rte_ether_addr m = mac(77);
	uint64_t n = 0;

	rte_rcu_qsbr_thread_register(a->v, a->id);
	rte_rcu_qsbr_thread_online(a->v, a->id);
	while (!*a->stop) {
		vqs_fdb_learn(a->f, 0, &m, (uint16_t)a->id, n++);
		rte_rcu_qsbr_quiescent(a->v, a->id);
	}
	rte_rcu_qsbr_thread_offline(a->v, a->id);
	rte_rcu_qsbr_thread_unregister(a->v, a->id);
	return 0;
}

static void
test_static_vs_learning(void)
{
	struct rte_rcu_qsbr *v = make_qsv(MT_THREADS);
	struct vqs_fdb *f = vqs_fdb_create("t_race", 16, v);
	struct rte_ether_addr m = mac(77);
	struct race_arg args[MT_THREADS];
	volatile bool stop = false;
	unsigned int i = 0, lcore, round, wrong = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		args[i] = (struct race_arg){ f, v, i, &stop };
		rte_eal_remote_launch(race_learner, &args[i], lcore);
		i++;
	}
	for (round = 0; round < 300; round++) {
		CHECK_EQ(vqs_fdb_add_static(f, 0, &m, 9), 0);
		rte_delay_us_sleep(100); /* the learners run meanwhile */
		wrong += vqs_fdb_lookup(f, 0, &m) != 9;
		vqs_fdb_flush(f);
	}
	stop = true;
	rte_eal_mp_wait_lcore();
	CHECK_EQ(wrong, 0);
	CHECK(vqs_fdb_count(f) <= 1);
	vqs_fdb_free(f);
	rte_free(v);
}

/* EVPN entries: never aged; frames from another remote of the tunnel do
 * not move them, frames from a local port do; a static entry is not
 * replaced; del_evpn leaves what is no longer EVPN's; flush_dest takes
 * one remote's entries and no static one. */
static void
test_evpn(void)
{
	struct vqs_fdb *f = vqs_fdb_create("t_evpn", 16, NULL);
	struct rte_ether_addr a = mac(1), b = mac(2), s = mac(3);
	uint16_t r1 = VQS_FDB_DEST(7, 1), r2 = VQS_FDB_DEST(7, 2);
	uint64_t now = 1000;

	CHECK_EQ(vqs_fdb_add_evpn(f, 0, &a, r1), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), r1);
	CHECK_EQ(vqs_fdb_count(f), 1);
	CHECK_EQ(vqs_fdb_learn(f, 0, &a, r2, now), VQS_FDB_STATIC);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), r1);
	CHECK_EQ(vqs_fdb_age(f, UINT64_MAX / 2, 1), 0);
	/* Over a learned entry (the route is newer than the frame). */
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 4, now), VQS_FDB_NEW);
	CHECK_EQ(vqs_fdb_add_evpn(f, 0, &b, r2), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), r2);
	CHECK_EQ(vqs_fdb_count(f), 2);
	/* The VM moved here: learned, ages again, del_evpn leaves it. */
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, 4, now), VQS_FDB_MOVED);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 4);
	CHECK_EQ(vqs_fdb_del_evpn(f, 0, &b), -ENOENT);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &b), 4);
	CHECK_EQ(vqs_fdb_del_evpn(f, 0, &a), 0);
	CHECK_EQ(vqs_fdb_lookup(f, 0, &a), VQS_FDB_MISS);
	/* An operator's static entry wins. */
	CHECK_EQ(vqs_fdb_add_static(f, 0, &s, r1), 0);
	CHECK_EQ(vqs_fdb_add_evpn(f, 0, &s, r2), -EEXIST);
	CHECK_EQ(vqs_fdb_add_evpn(f, 0, &a, r1), 0);
	CHECK_EQ(vqs_fdb_learn(f, 0, &b, r1, now), VQS_FDB_MOVED);
	CHECK_EQ(vqs_fdb_count(f), 3);
	CHECK_EQ(vqs_fdb_flush_dest(f, r1), 2); /* a and b, not s */
	CHECK_EQ(vqs_fdb_lookup(f, 0, &s), r1);
	CHECK_EQ(vqs_fdb_count(f), 1);
	vqs_fdb_free(f);
}

int
main(int argc, char **argv)
{
	/* Five lcores: main on CPU 0, 4 learners sharing CPU 1. */
	if (unit_eal_init_lcores(argv[0], "0@0,(1-4)@1") < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 2;
	}
	test_learn_lookup_move();
	test_aging();
	test_full();
	test_walk();
	test_vlans_static_flush_port();
	test_concurrent();
	test_static_vs_learning();
	test_evpn();
	rte_eal_cleanup();
	return unit_report("test_fdb");
}
