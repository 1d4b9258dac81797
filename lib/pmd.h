/* SPDX-License-Identifier: BSD-3-Clause
 * PMD lcores: each busy-polls the RX queues assigned to it.
 */
#ifndef VQS_PMD_H
#define VQS_PMD_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "port.h"
#include "vqs.h"

struct vqs_switch;

#define VQS_PMD_MAX_RXQ 1024

struct vqs_rxq {
	struct vqs_port *port;
	uint16_t qid;
};

/* Frames of one burst bound for one port. */
struct vqs_out {
	uint16_t n;
	struct rte_mbuf *pkts[VQS_BURST];
};

struct vqs_pmd {
	struct vqs_switch *sw;
	unsigned int lcore;
	uint16_t id; /* also its RCU thread id and its TX queue */
	uint16_t n_rxq;
	struct vqs_rxq rxq[VQS_PMD_MAX_RXQ];
	/* Per-burst scratch: which ports got frames, and the frames. */
	uint16_t n_touched;
	uint16_t touched[VQS_MAX_PORTS];
	struct vqs_out out[VQS_MAX_PORTS];
	struct vqs_port_stats stats[VQS_MAX_PORTS];
};

/* One PMD per worker lcore; RX queues of every port dealt round-robin. */
int vqs_pmds_create(struct vqs_switch *sw);
void vqs_pmds_free(struct vqs_switch *sw);
int vqs_pmds_assign(struct vqs_switch *sw);
/* Launches every PMD; vqs_pmds_stop() sets the stop flag and joins them. */
int vqs_pmds_launch(struct vqs_switch *sw);
void vqs_pmds_stop(struct vqs_switch *sw);

#endif
