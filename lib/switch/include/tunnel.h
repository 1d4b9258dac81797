/* SPDX-License-Identifier: BSD-3-Clause
 * VXLAN tunnel ports (RFC 7348) over an underlay: a dpdk port with an IPv4
 * address (ip=). What the PMDs do with them; the packet walk, the MTU
 * rules and the neighbour table: docs/tunnels.md.
 *
 * Received on an underlay port: ARP for its address is answered (and
 * every ARP sender that is a next hop is learned, neigh.h); IPv4 for its
 * address is decapsulated if it is VXLAN for one of its tunnel ports (the
 * inner frame enters the bridge as received on that port, from the remote
 * it came from), else dropped and counted; anything else is switched as
 * on any port. Sent to a tunnel port: each frame is encapsulated for the
 * remote its destination was learned behind, or for every remote
 * (head-end replication) when it is flooded, and sent on the underlay.
 */
#ifndef VQS_TUNNEL_H
#define VQS_TUNNEL_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "port.h"
#include "vqs_model.h"

struct vqs_dp;
struct vqs_pmd;
struct vqs_port;
struct vqs_switch;

/* Outer headers: Ethernet, IPv4 without options, UDP, VXLAN. */
#define VQS_VXLAN_OVERHEAD 50u

/* A decapsulated frame: the tunnel port it came in on, and from which
 * remote (index + 1). */
struct vqs_tnl_rx {
	struct rte_mbuf *m;
	uint16_t slot;
	uint8_t rmt1;
};

/*
 * PMD: frames received on underlay port slot. Those that are ARP for its
 * address or IPv4 for it are taken out of pkts (answered, learned,
 * decapsulated into dec[], or dropped and counted); the others stay in
 * pkts, in order. Returns how many stay; *n_dec the decapsulated ones.
 */
uint16_t vqs_tnl_rx(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot,
		    struct rte_mbuf **pkts, uint16_t n, struct vqs_tnl_rx *dec, uint16_t *n_dec,
		    uint64_t now);

/* PMD: frames out of tunnel port slot, each to remote rmt1[i] - 1, or to
 * every remote where rmt1[i] is 0. Every mbuf is consumed; counts. */
void vqs_tnl_tx(const struct vqs_dp *dp, struct vqs_pmd *pmd, uint16_t slot,
		struct rte_mbuf **pkts, const uint8_t *rmt1, uint16_t n);

/* Control thread: a tunnel port's counters per remote, or -ENOMEM;
 * freed by stop. */
int vqs_tnl_port_start(struct vqs_port *p, uint16_t n_pmds);
void vqs_tnl_port_stop(struct vqs_port *p);

/*
 * Control thread: the remotes BGP EVPN adds to a tunnel port (evpn.h).
 * They follow remote_ip's in p->conf.vx.remote, each in the first free
 * place, where 0 marks a place freed: a remote keeps its index while it
 * exists, since MAC table entries name it by index. Changed under
 * sw->lock; the caller publishes a snapshot, and after a removal flushes
 * the MAC entries of the remote's index (vqs_fdb_flush_dest).
 * add: the remote's index (existing or new), -ENOSPC, or -EINVAL for 0 or
 * the local address. del: the index it had, -ENOENT, or -EPERM for a
 * remote of remote_ip.
 */
int vqs_tnl_remote_add(struct vqs_switch *sw, struct vqs_port *p, uint32_t ip);
int vqs_tnl_remote_del(struct vqs_switch *sw, struct vqs_port *p, uint32_t ip);
/* Any thread under sw->lock, or the control thread: ip's index or -ENOENT. */
int vqs_tnl_remote_index(const struct vqs_port *p, uint32_t ip);

/* The remote a MAC table entry of port p points at ("" if none). */
const char *vqs_tnl_remote_str(const struct vqs_port *p, uint16_t dest, char *buf, size_t len);

#endif
