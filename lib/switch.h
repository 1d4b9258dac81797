/* SPDX-License-Identifier: BSD-3-Clause
 * The switch: its ports, PMDs and forwarding database, and the learning
 * bridge that moves one received burst to its destinations.
 */
#ifndef VQS_SWITCH_H
#define VQS_SWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "fdb.h"
#include "port.h"
#include "vqs.h"

struct vqs_pmd;

struct vqs_switch {
	char bridge[VQS_NAME_MAX];
	struct vqs_port *ports[VQS_MAX_PORTS]; /* fixed once PMDs run */
	uint16_t n_ports;
	struct vqs_pmd *pmds[VQS_MAX_PMDS];
	uint16_t n_pmds;
	unsigned int ctl_thread_id;  /* RCU id of the control thread */
	struct rte_rcu_qsbr *qsv;    /* readers: every PMD, the control thread */
	struct vqs_fdb *fdb;
	struct rte_mempool *pool;
	uint64_t mac_aging_tsc;
	uint64_t start_tsc;
	bool stop;                   /* atomic: PMDs leave their loop */
};

/* Learns, looks up and sends one burst received on port 'in'. */
void vqs_switch_burst(struct vqs_switch *sw, struct vqs_pmd *pmd,
		      struct vqs_port *in, struct rte_mbuf **pkts, uint16_t n);

struct vqs_port *vqs_switch_port_by_name(const struct vqs_switch *sw,
					 const char *name);
/* Sums one port's counters over every PMD. */
void vqs_switch_port_stats(const struct vqs_switch *sw, uint16_t port,
			   struct vqs_port_stats *out);

#endif
