/* SPDX-License-Identifier: BSD-3-Clause
 * The tunnels' neighbour table: the MAC address of each next hop (a
 * remote VTEP on the underlay subnet, or the gateway) on an underlay port,
 * resolved with ARP.
 *
 * Entries are made by the control thread for the next hops the
 * configuration needs (while it builds a datapath snapshot) and given up
 * only once no snapshot names them. PMDs learn MACs from ARP (any request
 * or reply whose sender is a next hop) and read them when they
 * encapsulate: an address is one 64-bit word, stored and loaded whole, so
 * a reader never sees half of one. An entry not confirmed for
 * VQS_NEIGH_AGE_S is unresolved again (read lazily: no sweeper); from
 * VQS_NEIGH_REFRESH_S on, frames still use it and ask again.
 */
#ifndef VQS_NEIGH_H
#define VQS_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#define VQS_NEIGH_MAX        256
#define VQS_NEIGH_AGE_S      300 /* as the MAC table's default aging */
#define VQS_NEIGH_REFRESH_S  240
#define VQS_NEIGH_RETRY_MS   1000 /* ARP requests for one next hop at most this often */

struct vqs_neigh {
	uint32_t ip;        /* network order; 0: a free entry (control thread) */
	uint16_t slot;      /* the underlay port (control thread) */
	bool wanted;        /* control thread, while a snapshot is built */
	uint64_t mac;       /* atomic: address in the low 48 bits, bit 48 set
			     * when known; 0 unresolved */
	uint64_t seen_tsc;  /* atomic: when last confirmed */
	uint64_t asked_tsc; /* atomic: when last asked for (PMDs race: CAS) */
	uint64_t requests;  /* atomic: ARP requests sent */
};

struct vqs_neigh_table {
	struct vqs_neigh e[VQS_NEIGH_MAX];
};

/* A MAC address as an entry holds it, and back. */
uint64_t vqs_neigh_pack(const struct rte_ether_addr *a);
void vqs_neigh_unpack(uint64_t v, struct rte_ether_addr *a);

/* Control thread, while a snapshot is built: every entry unwanted... */
void vqs_neigh_sync_begin(struct vqs_neigh_table *t);
/* ... but those the snapshot names: the entry for (slot, ip), made if
 * need be; -1 if the table is full. */
int vqs_neigh_want(struct vqs_neigh_table *t, uint16_t slot, uint32_t ip);
/* After the snapshot is published and its grace period is over: the
 * entries it does not name are freed. */
void vqs_neigh_sync_end(struct vqs_neigh_table *t);

/* PMD: the entry's MAC into *mac if it is resolved; *refresh: unresolved
 * or old enough to be asked for again. */
bool vqs_neigh_get(struct vqs_neigh *n, uint64_t now, uint64_t hz, struct rte_ether_addr *mac,
		   bool *refresh);
/* PMD: ARP said ip is at mac on the underlay port slot; false if that
 * is no next hop of the table. */
bool vqs_neigh_learn(struct vqs_neigh_table *t, uint16_t slot, uint32_t ip,
		     const struct rte_ether_addr *mac, uint64_t now);
/* PMD: whether this PMD should send the request now (at most one per
 * VQS_NEIGH_RETRY_MS for an entry, whichever PMD). */
bool vqs_neigh_may_ask(struct vqs_neigh *n, uint64_t now, uint64_t hz);

/* Control thread: every entry unresolved (tnl/neigh-flush); returns how
 * many were resolved. */
unsigned int vqs_neigh_flush(struct vqs_neigh_table *t);

#endif
