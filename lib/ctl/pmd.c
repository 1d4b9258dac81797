/* SPDX-License-Identifier: BSD-3-Clause
 * PMD thread commands: which PMD polls which queue, and their load; also
 * under the names ovs-appctl gives them (dpif-netdev/pmd-*).
 */
#include <string.h>

#include <rte_common.h>

#include "cmd.h"
#include "vqs_observe.h"
#include "vqs_switch.h"

static int
cmd_pmd_rxq_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t pmds = vqs_answer_list(x->ans, VQS_ANSWER_TOP, NULL, "pmd"), pmd, rxqs, row;
	uint16_t i, s, q;

	for (i = 0; i < x->sw->n_pmds; i++) {
		pmd = vqs_answer_obj(x->ans, pmds, NULL);
		vqs_answer_uint(x->ans, pmd, "pmd", i);
		vqs_answer_uint(x->ans, pmd, "lcore", x->sw->pmds[i]->lcore);
		rxqs = vqs_answer_table(x->ans, pmd, "rxqs");
		for (s = 0; s < VQS_MAX_PORTS; s++) {
			const struct vqs_port *p = x->sw->ports[s];
			const struct vqs_port_conf *pc;

			if (p == NULL || p->deleting)
				continue;
			pc = vqs_conf_port(x->conf, p->conf.name);
			for (q = 0; q < p->n_rxq; q++) {
				if (p->rxq_pmd[q] != i)
					continue;
				row = vqs_answer_obj(x->ans, rxqs, NULL);
				vqs_answer_str(x->ans, row, "port", p->conf.name);
				vqs_answer_uint(x->ans, row, "queue", q);
				vqs_answer_bool(x->ans, row, "pinned", pc != NULL && pc->affinity[q] >= 0);
			}
		}
	}
	return 0;
}

static int
cmd_pmd_stats_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t top = vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL);
	struct vqs_fields f;
	char key[16];
	uint16_t i;

	for (i = 0; i < x->sw->n_pmds; i++) {
		vqs_stats_pmd(x->sw->pmds[i], vqs_pmd_rxq_count(x->sw, i), &f);
		snprintf(key, sizeof(key), "pmd%u", i);
		vqs_answer_fields(x->ans, vqs_answer_obj(x->ans, top, key), &f);
	}
	return 0;
}

static int
cmd_pmd_stats_clear(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint16_t i;

	for (i = 0; i < x->sw->n_pmds; i++)
		vqs_pmd_stats_clear(x->sw->pmds[i]);
	return 0;
}

static const struct vqs_ctl_cmd commands[] = {
	{ "pmd/rxq-show", "", "which PMD polls which RX queue", 0, 0, VQS_CMD_QUERY, cmd_pmd_rxq_show },
	{ "pmd/stats-show", "", "PMD load: cycles, packets, batches, sleeps", 0, 0, VQS_CMD_QUERY,
	  cmd_pmd_stats_show },
	{ "pmd/stats-clear", "", "start the PMD counters again", 0, 0, VQS_CMD_ACTION,
	  cmd_pmd_stats_clear },
	{ "dpif-netdev/pmd-rxq-show", "", "pmd/rxq-show under OVS's name", 0, 0, VQS_CMD_QUERY,
	  cmd_pmd_rxq_show },
	{ "dpif-netdev/pmd-stats-show", "", "pmd/stats-show under OVS's name", 0, 0, VQS_CMD_QUERY,
	  cmd_pmd_stats_show },
	{ "dpif-netdev/pmd-stats-clear", "", "pmd/stats-clear under OVS's name", 0, 0, VQS_CMD_ACTION,
	  cmd_pmd_stats_clear },
};

void
vqs_ctl_pmd_register(void)
{
	vqs_ctl_register("PMD threads", commands, RTE_DIM(commands));
}
