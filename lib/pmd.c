/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "pmd.h"
#include "switch.h"

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
		sw->pmds[sw->n_pmds++] = pmd;
	}
	return sw->n_pmds == 0 ? -ENODEV : 0;
}

void
vqs_pmds_free(struct vqs_switch *sw)
{
	uint16_t i;

	for (i = 0; i < sw->n_pmds; i++)
		rte_free(sw->pmds[i]);
	sw->n_pmds = 0;
}

void
vqs_pmd_stats_read(const struct vqs_pmd *pmd, struct vqs_pmd_stats *out)
{
	out->busy_cycles = vqs_read(&pmd->stats.busy_cycles) - vqs_read(&pmd->base.busy_cycles);
	out->idle_cycles = vqs_read(&pmd->stats.idle_cycles) - vqs_read(&pmd->base.idle_cycles);
	out->rx_packets = vqs_read(&pmd->stats.rx_packets) - vqs_read(&pmd->base.rx_packets);
	out->rx_batches = vqs_read(&pmd->stats.rx_batches) - vqs_read(&pmd->base.rx_batches);
}

/* The PMD keeps counting; clearing moves the baseline, so no counter is
 * ever written by two threads. */
void
vqs_pmd_stats_clear(struct vqs_pmd *pmd)
{
	__atomic_store_n(&pmd->base.busy_cycles, vqs_read(&pmd->stats.busy_cycles), __ATOMIC_RELAXED);
	__atomic_store_n(&pmd->base.idle_cycles, vqs_read(&pmd->stats.idle_cycles), __ATOMIC_RELAXED);
	__atomic_store_n(&pmd->base.rx_packets, vqs_read(&pmd->stats.rx_packets), __ATOMIC_RELAXED);
	__atomic_store_n(&pmd->base.rx_batches, vqs_read(&pmd->stats.rx_batches), __ATOMIC_RELAXED);
}

unsigned int
vqs_pmd_rxq_count(const struct vqs_switch *sw, uint16_t pmd)
{
	unsigned int n = 0;
	uint16_t s, q;

	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = sw->ports[s];

		for (q = 0; p != NULL && !p->deleting && q < p->n_rxq; q++)
			n += p->rxq_pmd[q] == pmd;
	}
	return n;
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
	unsigned int load[VQS_MAX_PMDS] = { 0 };
	uint16_t s, q, i, best;
	int pmd;

	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *o = sw->ports[s];

		for (q = 0; o != NULL && o != p && q < o->n_rxq; q++)
			load[o->rxq_pmd[q]]++;
	}
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

/*
 * The loop never blocks and takes no lock the control thread holds. It
 * loads the datapath snapshot once per pass and reports an RCU quiescent
 * state after the pass: between passes it holds no snapshot, vid, FDB
 * position or port pointer from before.
 */
static int
pmd_main(void *arg)
{
	struct vqs_pmd *pmd = arg;
	struct vqs_switch *sw = pmd->sw;
	struct vqs_pmd_stats *st = &pmd->stats;
	struct rte_mbuf *pkts[VQS_BURST];
	uint64_t t0 = rte_rdtsc(), t1;
	const struct vqs_dp *dp;
	uint16_t i, n, batches;
	uint32_t got;

	rte_rcu_qsbr_thread_register(sw->qsv, pmd->id);
	rte_rcu_qsbr_thread_online(sw->qsv, pmd->id);
	VQS_LOG(INFO, "pmd %u on lcore %u running", pmd->id, pmd->lcore);
	while (!__atomic_load_n(&sw->stop, __ATOMIC_RELAXED)) {
		dp = __atomic_load_n(&sw->dp, __ATOMIC_ACQUIRE);
		got = batches = 0;
		for (i = 0; dp != NULL && i < dp->pmds[pmd->id].n_rxq; i++) {
			const struct vqs_dp_rxq *rq = &dp->pmds[pmd->id].rxq[i];

			n = vqs_port_rx(dp->ports[rq->slot].port, rq->qid, sw->pool,
					pkts, VQS_BURST);
			if (n > 0) {
				vqs_switch_burst(dp, pmd, rq->slot, pkts, n);
				got += n;
				batches++;
			}
		}
		rte_rcu_qsbr_quiescent(sw->qsv, pmd->id);
		/* One TSC read a pass: the pass counts as busy if it moved
		 * anything, idle otherwise. */
		t1 = rte_rdtsc();
		if (got > 0) {
			vqs_count(&st->busy_cycles, t1 - t0);
			vqs_count(&st->rx_packets, got);
			vqs_count(&st->rx_batches, batches);
		} else {
			vqs_count(&st->idle_cycles, t1 - t0);
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
vqs_pmds_stop(struct vqs_switch *sw)
{
	__atomic_store_n(&sw->stop, true, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
}
