/* SPDX-License-Identifier: BSD-3-Clause
 * Frames in and out of a guest through librte_vhost's own ring code
 * (rte_vhost_dequeue_burst / rte_vhost_enqueue_burst), which also decides
 * and raises the guest's interrupts: docs/notifications.md.
 */
#include <rte_vhost.h>

#include "switch.h"
#include "vhost_internal.h"

uint16_t
vqs_vhost_rx(struct vqs_port *p, uint16_t q, struct rte_mempool *pool,
	     struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * q + 1; /* guest TX */

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE))
		return 0;
	/* The library notifies the guest of the freed TX descriptors. */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	n = rte_vhost_dequeue_burst(__atomic_load_n(&vh->vid, __ATOMIC_RELAXED),
				    vq, pool, pkts, n);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && n > 0)
		vqs_vhost_drop_call(p, vq);
	return n;
}

int
vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	     uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * (pmd_id % p->conf.queues); /* guest RX */
	uint16_t sent = 0, k;
	unsigned int retries = 0;
	int vid;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return -1;
	if (!__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE)) {
		vq = 0;
		if (!__atomic_load_n(&vh->vring_enabled[0], __ATOMIC_ACQUIRE))
			return -1;
	}
	vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	/*
	 * Each call that fills descriptors publishes the used ring and lets
	 * the library decide whether to interrupt the guest. Retry while the
	 * guest keeps freeing buffers, like OVS's tx-retries.
	 */
	RTE_PER_LCORE(vqs_notify_counter) = &vh->guest_notifications[vq];
	do {
		k = rte_vhost_enqueue_burst(vid, vq, pkts + sent, n - sent);
		sent += k;
	} while (sent < n && k > 0 && retries++ < VQS_TX_RETRIES);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && sent > 0)
		vqs_vhost_drop_call(p, vq);
	return sent;
}
