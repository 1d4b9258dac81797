/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

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

int
vqs_pmds_assign(struct vqs_switch *sw)
{
	unsigned int next = 0;
	uint16_t i, q;

	for (i = 0; i < sw->n_ports; i++) {
		struct vqs_port *p = sw->ports[i];

		for (q = 0; q < p->n_rxq; q++) {
			struct vqs_pmd *pmd = sw->pmds[next++ % sw->n_pmds];

			if (pmd->n_rxq == VQS_PMD_MAX_RXQ)
				return -ENOSPC;
			pmd->rxq[pmd->n_rxq].port = p;
			pmd->rxq[pmd->n_rxq].qid = q;
			pmd->n_rxq++;
			VQS_LOG(DEBUG, "port %s rxq %u -> pmd %u (lcore %u)",
				p->conf.name, q, pmd->id, pmd->lcore);
		}
	}
	return 0;
}

/*
 * The loop never blocks and takes no lock the control thread holds. It
 * reports an RCU quiescent state once per pass over its queues: between
 * passes it holds no vid, FDB position or port pointer from before.
 */
static int
pmd_main(void *arg)
{
	struct vqs_pmd *pmd = arg;
	struct vqs_switch *sw = pmd->sw;
	struct rte_mbuf *pkts[VQS_BURST];
	uint16_t i, n;

	rte_rcu_qsbr_thread_register(sw->qsv, pmd->id);
	rte_rcu_qsbr_thread_online(sw->qsv, pmd->id);
	VQS_LOG(INFO, "pmd %u on lcore %u polls %u queues", pmd->id, pmd->lcore,
		pmd->n_rxq);
	while (!__atomic_load_n(&sw->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < pmd->n_rxq; i++) {
			struct vqs_rxq *rq = &pmd->rxq[i];

			n = vqs_port_rx(rq->port, rq->qid, sw->pool, pkts,
					VQS_BURST);
			if (n > 0)
				vqs_switch_burst(sw, pmd, rq->port, pkts, n);
		}
		rte_rcu_qsbr_quiescent(sw->qsv, pmd->id);
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
