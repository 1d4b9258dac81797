/* SPDX-License-Identifier: BSD-3-Clause
 * vhost-user ports through librte_vhost: socket set-up, the device
 * lifecycle callbacks, and the data path.
 */
#ifndef VQS_VHOST_PORT_H
#define VQS_VHOST_PORT_H

#include <sys/types.h>

#include "port.h"

struct vqs_switch;

/* Once, before any vhost port starts: the callbacks find ports here. */
void vqs_vhost_init(struct vqs_switch *sw);

/* Creates the server socket (owner root, group gid, mode 0660). */
int vqs_vhost_port_start(struct vqs_port *p, gid_t gid, char *err, size_t len);
/* Unregisters the socket; returns once destroy_device has run. */
void vqs_vhost_port_stop(struct vqs_port *p);

/* Control thread, periodically: finishes what the callbacks may not do
 * themselves (turning guest kicks off on newly enabled vrings). */
void vqs_vhost_ctl_poll(struct vqs_switch *sw);

/* Vrings the guest enabled; *kicks_off: on how many kicks are off. */
unsigned int vqs_vhost_vrings_count(const struct vqs_port *p,
				    unsigned int *kicks_off);

/* Fast path: q is the queue pair. tx returns frames sent, or -1 if the
 * guest cannot receive (not connected, vring disabled). Neither frees. */
uint16_t vqs_vhost_rx(struct vqs_port *p, uint16_t q, struct rte_mempool *pool,
		      struct rte_mbuf **pkts, uint16_t n);
int vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
		 uint16_t n);

#endif
