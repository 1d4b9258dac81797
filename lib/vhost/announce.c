/* SPDX-License-Identifier: BSD-3-Clause
 *
 * After a live migration the guest runs behind another port, and nothing
 * on the network knows yet: the switch's MAC table, and the switches
 * beyond an uplink, still send its frames to the port it left. A guest
 * whose virtio-net took VIRTIO_NET_F_GUEST_ANNOUNCE sends gratuitous ARPs
 * itself when QEMU tells it to. For the others QEMU sends SEND_RARP with
 * the guest's MAC address to the destination's backend, which is to send
 * a RARP from that address, as OVS and librte_vhost do. librte_vhost
 * sends it only from inside rte_vhost_dequeue_burst, which the direct
 * datapath never calls, and mis-sizes a one-frame dequeue when it does
 * (guard.c): the switch sends it itself. The vhost-events thread
 * records the request in the port's vhost state; the PMD polling the
 * port's queue 0 takes it and switches the frame as if the guest had
 * sent it: the MAC table learns the address on the new port at once, and
 * the broadcast tells every other port and uplink. A request is one
 * frame, whatever the frontend sends: a guest could send that frame
 * itself, so it grants nothing a guest does not have.
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "announce.h"
#include "internal.h"
#include "vqs_switch.h"

#define ANNOUNCE_PENDING (1ULL << 48) /* over the 48 bits of the address */

void
vqs_announce_request(struct vqs_port *p, const uint8_t mac[6])
{
	uint64_t v = ANNOUNCE_PENDING;
	int i;

	for (i = 0; i < 6; i++)
		v |= (uint64_t)mac[i] << (8 * i);
	/* A sleeping PMD sends it at once; a flood of requests wakes the
	 * PMDs once, not once a request. A deliberate cycle between the
	 * folders: the vhost-events thread wakes the PMDs through the
	 * switch's vqs_pmds_wake (as new_device and vring_state_changed
	 * do), and the PMD loop takes the frame back through vqs_vhost.h
	 * (vqs_announce_take); the request lives in the port's vhost state,
	 * and neither side reaches into the other's files. */
	if (!(__atomic_exchange_n(&p->vhost.announce, v, __ATOMIC_ACQ_REL) & ANNOUNCE_PENDING))
		vqs_pmds_wake(vqs_vhost_sw);
}

void
vqs_announce_forget(struct vqs_port *p)
{
	__atomic_store_n(&p->vhost.announce, 0, __ATOMIC_RELAXED);
}

/* RARP, "reverse request" (RFC 903): from and about the address. */
static void
rarp_fill(struct rte_mbuf *m, const struct rte_ether_addr *mac)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	memset(eth, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_RARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REVREQUEST);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_sha);
	rte_ether_addr_copy(mac, &arp->arp_data.arp_tha);
	m->data_len = m->pkt_len = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
}

struct rte_mbuf *
vqs_announce_take(struct vqs_port *p, struct rte_mempool *pool)
{
	uint64_t v = __atomic_load_n(&p->vhost.announce, __ATOMIC_ACQUIRE);
	struct rte_ether_addr mac;
	struct rte_mbuf *m;
	int i;

	/* A request that came before the device started waits for it. */
	if (!(v & ANNOUNCE_PENDING) || !__atomic_load_n(&p->vhost.ready, __ATOMIC_ACQUIRE))
		return NULL;
	m = rte_pktmbuf_alloc(pool);
	if (m == NULL)
		return NULL; /* at the next pass */
	/* Only this PMD takes it; a newer request that came meanwhile
	 * stays for the next pass. */
	if (!__atomic_compare_exchange_n(&p->vhost.announce, &v, 0, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	for (i = 0; i < 6; i++)
		mac.addr_bytes[i] = (uint8_t)(v >> (8 * i));
	rarp_fill(m, &mac);
	__atomic_fetch_add(&p->vhost.announced, 1, __ATOMIC_RELAXED);
	return m;
}
