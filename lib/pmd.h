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

/* Frames of one burst bound for one port. */
struct vqs_out {
	uint16_t n;
	struct rte_mbuf *pkts[VQS_BURST];
};

struct vqs_pmd {
	struct vqs_switch *sw;
	unsigned int lcore;
	uint16_t id; /* also its RCU thread id and its TX queue */
	/* Per-burst scratch: which port slots got frames, and the frames. */
	uint16_t n_touched;
	uint16_t touched[VQS_MAX_PORTS];
	struct vqs_out out[VQS_MAX_PORTS];
};

/* One PMD per worker lcore. */
int vqs_pmds_create(struct vqs_switch *sw);
void vqs_pmds_free(struct vqs_switch *sw);
/* Control thread: chooses a PMD for each RX queue of a new port (its
 * pmd-rxq-affinity, else the PMD with the fewest queues). Takes effect
 * with the next vqs_dp_publish(). */
int vqs_pmds_assign_port(struct vqs_switch *sw, struct vqs_port *p,
			 const struct vqs_port_conf *pc, struct vqs_err *e);
/* The PMD on an lcore, or -1. */
int vqs_pmd_of_lcore(const struct vqs_switch *sw, unsigned int lcore);
/* Launches every PMD; vqs_pmds_stop() sets the stop flag and joins them. */
int vqs_pmds_launch(struct vqs_switch *sw);
void vqs_pmds_stop(struct vqs_switch *sw);

#endif
