/* SPDX-License-Identifier: BSD-3-Clause
 * ethdev ports: any device EAL probed, or one hot-plugged from devargs.
 */
#ifndef VQS_ETH_PORT_H
#define VQS_ETH_PORT_H

#include <stdbool.h>

#include "port.h"

/* Finds (or probes) the device, configures one TX queue per PMD where it
 * has enough, conf.queues RX queues, and starts it. */
int vqs_eth_port_start(struct vqs_port *p, uint16_t n_pmds,
		       struct rte_mempool *pool, char *err, size_t len);
/* release: close a device EAL probed too (at exit). */
void vqs_eth_port_stop(struct vqs_port *p, bool release);

/* Fast path: returns frames the device accepted; frees none. */
int vqs_eth_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	       uint16_t n);

#endif
