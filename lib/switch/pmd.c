/* SPDX-License-Identifier: BSD-3-Clause */
#define VQS_LOG_MODULE VQS_LOG_PMD

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_vhost.h>

#include "pmd.h"
#include "vqs_direct.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/* epoll data: eventfds we drain on waking; RX interrupt fds of ethdevs
 * must not be read (for net_tap the fd is the device itself). */
#define EV_DRAIN (1ULL << 32)

/* An eventfd the PMD was woken by, read empty: its count is of no use. */
static void
eventfd_drain(int fd)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	(void)n;
}

static bool
epoll_add(struct vqs_pmd *pmd, int fd, bool drain)
{
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = (uint32_t)fd | (drain ? EV_DRAIN : 0) };

	return epoll_ctl(pmd->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

int
vqs_pmds_create(struct vqs_switch *sw)
{
	unsigned int lcore;

	sw->n_pmds = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct vqs_pmd *pmd;

		if (sw->n_pmds == VQS_MAX_PMDS)
			break;
		pmd = rte_zmalloc_socket("pmd", sizeof(*pmd), RTE_CACHE_LINE_SIZE,
					 (int)rte_lcore_to_socket_id(lcore));
		if (pmd == NULL)
			return -ENOMEM;
		pmd->sw = sw;
		pmd->lcore = lcore;
		pmd->id = sw->n_pmds;
		pmd->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		pmd->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (pmd->wake_fd < 0 || pmd->epoll_fd < 0 ||
		    !epoll_add(pmd, pmd->wake_fd, true))
			return -errno;
		sw->pmds[sw->n_pmds++] = pmd;
	}
	return sw->n_pmds == 0 ? -ENODEV : 0;
}

void
vqs_pmds_free(struct vqs_switch *sw)
{
	uint16_t i;

	for (i = 0; i < sw->n_pmds; i++) {
		close(sw->pmds[i]->wake_fd);
		close(sw->pmds[i]->epoll_fd);
		rte_free(sw->pmds[i]);
	}
	sw->n_pmds = 0;
}

/* struct vqs_pmd_stats is nothing but uint64_t counters. */
#define PMD_STATS_FIELDS (sizeof(struct vqs_pmd_stats) / sizeof(uint64_t))

/* A snapshot of the PMD's counters, each read once. */
static void
pmd_stats_now(const struct vqs_pmd *pmd, uint64_t *now)
{
	const uint64_t *c = (const uint64_t *)&pmd->stats;
	size_t i;

	for (i = 0; i < PMD_STATS_FIELDS; i++)
		now[i] = vqs_read(&c[i]);
}

void
vqs_pmd_stats_read(const struct vqs_pmd *pmd, struct vqs_pmd_stats *out)
{
	uint64_t now[PMD_STATS_FIELDS];

	pmd_stats_now(pmd, now);
	vqs_counters_since(now, (const uint64_t *)&pmd->base, (uint64_t *)out,
			   PMD_STATS_FIELDS);
}

void
vqs_pmd_stats_clear(struct vqs_pmd *pmd)
{
	uint64_t now[PMD_STATS_FIELDS];

	pmd_stats_now(pmd, now);
	vqs_counters_rebase(now, (uint64_t *)&pmd->base, PMD_STATS_FIELDS);
}

/* RX queues placed on each PMD, leaving out one port (or none). */
static void
pmd_loads(const struct vqs_switch *sw, const struct vqs_port *skip,
	  unsigned int load[VQS_MAX_PMDS])
{
	uint16_t s, q;

	memset(load, 0, VQS_MAX_PMDS * sizeof(load[0]));
	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = sw->ports[s];

		for (q = 0; p != NULL && p != skip && !p->deleting && q < p->n_rxq; q++)
			load[p->rxq_pmd[q]]++;
	}
}

unsigned int
vqs_pmd_rxq_count(const struct vqs_switch *sw, uint16_t pmd)
{
	unsigned int load[VQS_MAX_PMDS];

	pmd_loads(sw, NULL, load);
	return load[pmd];
}

int
vqs_pmd_of_lcore(const struct vqs_switch *sw, unsigned int lcore)
{
	uint16_t i;

	for (i = 0; i < sw->n_pmds; i++)
		if (sw->pmds[i]->lcore == lcore)
			return i;
	return -1;
}

int
vqs_pmds_assign_port(struct vqs_switch *sw, struct vqs_port *p,
		     const struct vqs_port_conf *pc, struct vqs_err *e)
{
	unsigned int load[VQS_MAX_PMDS];
	uint16_t q, i, best;
	int pmd;

	pmd_loads(sw, p, load);
	for (q = 0; q < p->n_rxq; q++) {
		if (pc->affinity[q] >= 0) {
			pmd = vqs_pmd_of_lcore(sw, (unsigned int)pc->affinity[q]);
			if (pmd < 0)
				return vqs_err_set(e, -EINVAL,
						   "pmd-rxq-affinity: lcore %d is not a PMD lcore",
						   pc->affinity[q]);
		} else {
			for (best = 0, i = 1; i < sw->n_pmds; i++)
				if (load[i] < load[best])
					best = i;
			pmd = best;
		}
		p->rxq_pmd[q] = (uint16_t)pmd;
		load[pmd]++;
	}
	return 0;
}

/* The RARP of a migrated guest (vhost/announce.c), switched as if the guest
 * had sent it on rq. */
static uint32_t
announce(struct vqs_pmd *pmd, const struct vqs_dp *dp, struct vqs_dp_rxq *rq, uint64_t *now)
{
	struct rte_mbuf *m = vqs_announce_take(rq->port, pmd->sw->pool);

	if (m == NULL)
		return 0;
	if (*now == 0)
		*now = rte_rdtsc();
	vqs_switch_burst(dp, pmd, rq->slot, &m, 1, *now);
	return 1;
}

/* One pass over the PMD's RX queues; returns the frames it moved. Guest
 * vrings are peeked at first (vhost/include/peek.h) unless full, and sends what
 * the pass switched; then the guest TX vrings read directly get their
 * chains back (every mbuf pointing into them is freed by then). */
static uint32_t
pmd_pass(struct vqs_pmd *pmd, const struct vqs_dp *dp, uint16_t *batches, bool full)
{
	struct rte_mbuf *pkts[VQS_DIRECT_BURST];
	uint16_t i, k, n, n_held = 0;
	uint64_t now = 0;
	uint32_t got = 0;

	for (i = 0; dp != NULL && i < dp->pmds[pmd->id].n_rxq; i++) {
		struct vqs_dp_rxq *rq = &dp->pmds[pmd->id].rxq[i];

		if (rq->vhost && rq->qid == 0 &&
		    unlikely(__atomic_load_n(&rq->port->vhost.announce, __ATOMIC_RELAXED) != 0))
			got += announce(pmd, dp, rq, &now);
		/* A queue that just gave frames is likely to have more: the
		 * peek is for idle ones. */
		if (rq->vhost && !full && !rq->busy &&
		    vqs_vring_peek_idle(&rq->peek, rq->port, 2 * rq->qid + 1))
			continue;
		if (rq->direct) {
			n = vqs_direct_rx(rq->port, rq->qid, pmd->id, pmd->sw->pool,
					  dp->max_frame_len, pkts, VQS_DIRECT_BURST, &rq->held);
			n_held += rq->held;
		} else {
			n = vqs_port_rx(rq->port, rq->qid, pmd->id, dp->max_frame_len, pmd->sw->pool,
					pkts, VQS_BURST);
		}
		rq->busy = n > 0;
		if (n > 0) {
			if (now == 0)
				now = rte_rdtsc();
			for (k = 0; k < n; k += VQS_BURST) /* what switch.c takes */
				vqs_switch_burst(dp, pmd, rq->slot, pkts + k,
						 RTE_MIN(n - k, VQS_BURST), now);
			got += n;
			(*batches)++;
		}
	}
	if (got > 0)
		vqs_switch_flush(dp, pmd);
	for (i = 0; n_held > 0 && i < dp->pmds[pmd->id].n_rxq; i++) {
		struct vqs_dp_rxq *rq = &dp->pmds[pmd->id].rxq[i];

		if (rq->held) {
			vqs_direct_complete(rq->port, rq->qid);
			rq->held = false;
			n_held--;
		}
	}
	return got;
}

/* fd, the PMD's own duplicate of a queue's eventfd (or -1), into w and
 * the epoll set. */
static bool
epoll_add_dup(struct vqs_pmd *pmd, struct vqs_pmd_wake_src *w, int fd, bool drain)
{
	w->fd = fd;
	return fd >= 0 && epoll_add(pmd, fd, drain);
}

/*
 * Guest kicks and RX interrupts on for every queue this PMD polls in dp,
 * each with a duplicate of its eventfd in the PMD's epoll set, recorded in
 * wake_src. Returns false if some queue cannot wake the PMD (an ethdev
 * without RX interrupts, a vring whose eventfd is being replaced): then it
 * may only nap.
 */
static bool
pmd_wake_on(struct vqs_pmd *pmd, const struct vqs_dp *dp)
{
	bool wakeable = true;
	uint16_t i;

	pmd->n_wake_src = 0;
	for (i = 0; dp != NULL && i < dp->pmds[pmd->id].n_rxq; i++) {
		const struct vqs_dp_rxq *rq = &dp->pmds[pmd->id].rxq[i];
		struct vqs_port *p = dp->ports[rq->slot].port;
		struct vqs_pmd_wake_src *w = &pmd->wake_src[pmd->n_wake_src];
		struct vqs_vhost_state *vh = &p->vhost;
		uint16_t q = 2 * rq->qid + 1;
		int rc;

		*w = (struct vqs_pmd_wake_src){ rq->slot, rq->qid, p->uid, -1, -1 };
		if (!vqs_port_type_is_vhost(p->conf.type)) {
			int fd = p->eth.rxq_intr_fd[rq->qid];

			/* Some drivers (net_tap) have no enable/disable: their
			 * queue fd is readable whenever frames wait. */
			rc = fd < 0 ? -ENOTSUP : rte_eth_dev_rx_intr_enable(p->eth.port_id, rq->qid);
			pmd->n_wake_src++;
			if (fd < 0 || (rc != 0 && rc != -ENOTSUP) ||
			    !epoll_add_dup(pmd, w, fcntl(fd, F_DUPFD_CLOEXEC, 0), false))
				wakeable = false;
			continue;
		}
		if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
		    !__atomic_load_n(&vh->vring_enabled[q], __ATOMIC_ACQUIRE))
			continue; /* nothing to poll there; a new vring wakes us */
		w->vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
		pmd->n_wake_src++;
		/* Armed with the control thread kept out: it would otherwise
		 * see kicks on and turn them off under a sleeper. */
		if (!rte_spinlock_trylock(&vh->kick_lock)) {
			wakeable = false;
			continue;
		}
		rc = vqs_vhost_kicks(p, w->vid, q, true);
		if (rc == 0) {
			__atomic_store_n(&vh->kicks_off[q], 0, __ATOMIC_RELAXED);
			__atomic_store_n(&vh->kicks_armed[q], 1, __ATOMIC_RELAXED);
		}
		rte_spinlock_unlock(&vh->kick_lock);
		if (rc != 0) {
			wakeable = false;
			continue;
		}
		if (rq->direct && !vqs_direct_kicks_on(p, rq->qid))
			wakeable = false;
		if (!epoll_add_dup(pmd, w, vqs_vhost_vring_fd_dup(p, q, true), true))
			wakeable = false;
	}
	return wakeable;
}

/*
 * After the sleep, RCU-online again, with dp the snapshot now published:
 * every eventfd duplicate leaves the epoll set and is closed, and kicks and
 * interrupts go off again on the queues they were turned on for, if their
 * port is still there. A vring that this PMD no longer polls is handed to
 * the control thread, which turns kicks off on every ready vring that has
 * them on.
 */
static void
pmd_wake_off(struct vqs_pmd *pmd, const struct vqs_dp *dp)
{
	uint16_t i, j;

	for (i = 0; i < pmd->n_wake_src; i++) {
		const struct vqs_pmd_wake_src *w = &pmd->wake_src[i];
		struct vqs_port *p = dp != NULL ? dp->ports[w->slot].port : NULL;
		struct vqs_vhost_state *vh;
		uint16_t q = 2 * w->qid + 1;
		bool ours = false;

		if (w->fd >= 0) {
			epoll_ctl(pmd->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
			close(w->fd);
		}
		if (p == NULL || p->uid != w->uid)
			continue; /* deleted while we slept */
		if (!vqs_port_type_is_vhost(p->conf.type)) {
			if (p->eth.rxq_intr_fd[w->qid] >= 0)
				rte_eth_dev_rx_intr_disable(p->eth.port_id, w->qid);
			continue;
		}
		vh = &p->vhost;
		__atomic_store_n(&vh->kicks_armed[q], 0, __ATOMIC_RELAXED);
		if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&vh->vid, __ATOMIC_RELAXED) != w->vid)
			continue; /* a new device: its set-up turns kicks off */
		for (j = 0; j < dp->pmds[pmd->id].n_rxq && !ours; j++)
			ours = dp->pmds[pmd->id].rxq[j].slot == w->slot &&
			       dp->pmds[pmd->id].rxq[j].qid == w->qid;
		if (ours && vqs_vhost_kicks(p, w->vid, q, false) == 0) {
			__atomic_store_n(&vh->kicks_off[q], 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_store_n(&vh->notify_setup_pending, 1, __ATOMIC_RELEASE);
	}
	pmd->n_wake_src = 0;
}

/*
 * Interrupt-assisted idle. Turn guest kicks on, then look at every queue
 * once more: a guest that added descriptors before it could see that we
 * want kicks did not kick, and only this second look finds them (the
 * classic lost wake-up). The full fence orders our "kick me" stores (used
 * flags or avail_event) before the avail index loads of the second look;
 * the guest's side is the barrier between its avail index store and its
 * read of our flags (Linux virtqueue_kick_prepare). Then sleep on our own
 * duplicates of the kick eventfds and on the control thread's wake
 * eventfd, RCU-offline so that no grace period waits for a sleeper, and
 * turn kicks off again after. Returns the frames the second look moved
 * (0 if it slept).
 */
static uint32_t
pmd_sleep(struct vqs_pmd *pmd, uint16_t *batches)
{
	struct vqs_switch *sw = pmd->sw;
	struct epoll_event ev[16];
	const struct vqs_dp *dp = __atomic_load_n(&sw->dp, __ATOMIC_ACQUIRE);
	uint32_t got;
	bool wakeable;
	int n, i;

	wakeable = pmd_wake_on(pmd, dp);
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	got = pmd_pass(pmd, dp, batches, true);
	if (got == 0) {
		vqs_count(&pmd->stats.sleeps, 1);
		rte_rcu_qsbr_thread_offline(sw->qsv, pmd->id);
		/* Queues that cannot wake us are polled every millisecond. */
		n = epoll_wait(pmd->epoll_fd, ev, RTE_DIM(ev), wakeable ? 100 : 1);
		for (i = 0; i < n; i++)
			if (ev[i].data.u64 & EV_DRAIN) /* our own eventfds only */
				eventfd_drain((int)(uint32_t)ev[i].data.u64);
		rte_rcu_qsbr_thread_online(sw->qsv, pmd->id);
		dp = __atomic_load_n(&sw->dp, __ATOMIC_ACQUIRE);
	}
	pmd_wake_off(pmd, dp);
	return got;
}

/*
 * The loop never blocks (unless sleeping is on and it has been idle) and
 * takes no lock the control thread holds. It loads the datapath snapshot
 * once per pass and reports an RCU quiescent state after the pass: between
 * passes it holds no snapshot, vid, FDB position or port pointer from
 * before.
 */
static int
pmd_main(void *arg)
{
	struct vqs_pmd *pmd = arg;
	struct vqs_switch *sw = pmd->sw;
	struct vqs_pmd_stats *st = &pmd->stats;
	uint64_t t0 = rte_rdtsc(), t1, last_work = t0, sleep_after;
	uint32_t got, every;
	uint16_t batches;

	rte_rcu_qsbr_thread_register(sw->qsv, pmd->id);
	rte_rcu_qsbr_thread_online(sw->qsv, pmd->id);
	VQS_LOG(INFO, "pmd %u on lcore %u running", pmd->id, pmd->lcore);
	while (!__atomic_load_n(&sw->stop, __ATOMIC_RELAXED)) {
		batches = 0;
		/* Every full_poll_passes passes, every queue goes through its
		 * driver whatever a peek would say: a safety net, and the way
		 * the library gets to run its own per-poll work (the RARP it
		 * sends after a live migration). */
		every = __atomic_load_n(&sw->full_poll_passes, __ATOMIC_RELAXED);
		got = pmd_pass(pmd, __atomic_load_n(&sw->dp, __ATOMIC_ACQUIRE), &batches,
			       every != 0 && (++pmd->passes & (every - 1)) == 0);
		rte_rcu_qsbr_quiescent(sw->qsv, pmd->id);
		/* One TSC read a pass: the pass counts as busy if it moved
		 * anything, idle otherwise. */
		t1 = rte_rdtsc();
		if (got > 0) {
			vqs_count(&st->busy_cycles, t1 - t0);
		} else {
			vqs_count(&st->idle_cycles, t1 - t0);
			sleep_after = __atomic_load_n(&sw->pmd_sleep_tsc, __ATOMIC_RELAXED);
			if (sleep_after != 0 && t1 - last_work > sleep_after) {
				got = pmd_sleep(pmd, &batches);
				t1 = rte_rdtsc(); /* the sleep is neither busy nor idle */
			}
		}
		if (got > 0) {
			vqs_count(&st->rx_packets, got);
			vqs_count(&st->rx_batches, batches);
			last_work = t1;
		}
		t0 = t1;
	}
	rte_rcu_qsbr_thread_offline(sw->qsv, pmd->id);
	rte_rcu_qsbr_thread_unregister(sw->qsv, pmd->id);
	return 0;
}

int
vqs_pmds_launch(struct vqs_switch *sw)
{
	uint16_t i;
	int rc;

	for (i = 0; i < sw->n_pmds; i++) {
		rc = rte_eal_remote_launch(pmd_main, sw->pmds[i], sw->pmds[i]->lcore);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void
vqs_pmds_wake(struct vqs_switch *sw)
{
	uint64_t one = 1;
	uint16_t i;

	for (i = 0; i < sw->n_pmds; i++)
		if (write(sw->pmds[i]->wake_fd, &one, sizeof(one)) < 0)
			VQS_LOG(DEBUG, "pmd %u: wake: %s", i, strerror(errno));
}

void
vqs_pmds_stop(struct vqs_switch *sw)
{
	__atomic_store_n(&sw->stop, true, __ATOMIC_RELAXED);
	vqs_pmds_wake(sw);
	rte_eal_mp_wait_lcore();
}
