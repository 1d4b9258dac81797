/* SPDX-License-Identifier: BSD-3-Clause
 * The datapath view: an immutable snapshot of what the PMDs need (ports by
 * slot with their bridge and VLANs, each bridge's ports and MAC table,
 * each PMD's RX queues). The control thread builds a new one on every
 * change, publishes it with one pointer store, waits for an RCU grace
 * period and frees the old one. A PMD loads the pointer once per pass and
 * uses that snapshot until it reports quiescent. Immutable, but for each
 * RX queue's peek cache, which only its PMD touches.
 */
#ifndef VQS_DP_H
#define VQS_DP_H

#include <stdint.h>

#include <rte_ether.h>

#include "fdb.h"
#include "peek.h"
#include "port.h"
#include "vqs.h"
#include "vqs_model.h"

struct vqs_switch;
struct vqs_neigh_table;

/* A dpdk port with an address, started (tunnel.h). */
struct vqs_dp_underlay {
	uint32_t ip;           /* network order; 0: not an underlay */
	uint8_t prefix;
	uint16_t mtu;          /* the device's: IPv4 packets this long at most */
	bool ipv4_cksum;       /* the device computes outer IPv4 checksums */
	struct rte_ether_addr mac;
};

/* A tunnel port (tunnel.h). */
struct vqs_dp_vxlan {
	int16_t ul;            /* the underlay port's slot; -1: none with local_ip */
	int16_t neigh[VQS_VXLAN_MAX_REMOTES]; /* next hop of each remote in
				* dp->neigh; -1: no route */
	struct vqs_vxlan_conf conf;
};

struct vqs_dp_port {
	struct vqs_port *port; /* NULL: free slot */
	uint16_t bridge;       /* index in dp->bridges */
	struct vqs_vlan_conf vlan;
	struct vqs_dp_underlay ul;
	struct vqs_dp_vxlan vx;
};

struct vqs_dp_bridge {
	struct vqs_fdb *fdb;
	uint16_t n_ports;
	uint16_t ports[VQS_MAX_PORTS]; /* slots, for flooding */
};

/* One RX queue a PMD polls: what a pass needs of it, in one place. */
struct vqs_dp_rxq {
	uint16_t slot;
	uint16_t qid;
	bool vhost;
	bool direct;  /* a guest TX vring the switch reads itself (vqs_direct.h) */
	struct vqs_port *port;
	/* The one mutable part of a snapshot: written by the PMD that polls
	 * this queue, and by no other thread. Zero in a new snapshot. */
	bool busy; /* the last poll gave frames */
	bool held; /* direct: locked by this pass, completed at its end */
	struct vqs_vring_peek peek;
};

struct vqs_dp_pmd {
	uint16_t n_rxq;
	struct vqs_dp_rxq *rxq;
};

struct vqs_dp {
	uint32_t max_frame_len; /* longer frames are dropped as bad */
	uint16_t n_slots; /* highest used slot + 1 */
	struct vqs_dp_port ports[VQS_MAX_PORTS];
	uint16_t n_bridges;
	struct vqs_dp_bridge bridges[VQS_MAX_BRIDGES];
	struct vqs_dp_pmd pmds[VQS_MAX_PMDS];
	struct vqs_neigh_table *neigh; /* the switch's */
	uint16_t n_vx;                 /* tunnel ports, for decapsulation */
	uint16_t vx_slots[VQS_MAX_PORTS];
};

/* Control thread: rebuilds from the switch's ports, bridges and model,
 * publishes, waits a grace period, frees the old snapshot. On failure
 * (-ENOMEM) nothing changed: the PMDs keep the old snapshot, and the
 * caller must undo its change and keep alive what that snapshot uses. */
int vqs_dp_publish(struct vqs_switch *sw);
void vqs_dp_free(struct vqs_dp *dp);

#endif
