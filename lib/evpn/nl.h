/* SPDX-License-Identifier: BSD-3-Clause
 * The kernel's rtnetlink, as much of it as the EVPN shadow needs (libmnl):
 * links (a bridge, a vxlan device, a veth pair; their alias, master and
 * up state) and bridge FDB entries (add, delete, dump, and the events of
 * the neighbour group). Control thread only. Requests wait for the
 * kernel's answer; events are read without waiting.
 */
#ifndef VQS_EVPN_NL_H
#define VQS_EVPN_NL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

struct vqs_nl;

/* One bridge FDB entry as the kernel reports it. */
struct vqs_nl_fdb {
	int ifindex;
	struct rte_ether_addr mac;
	uint8_t flags;   /* NTF_* */
	uint16_t state;  /* NUD_* */
	uint32_t dst;    /* NDA_DST (IPv4, network order); 0: none */
	int master;      /* NDA_MASTER; 0: none */
	uint16_t vlan;   /* NDA_VLAN; 0: none */
};

/* NULL and errno when netlink cannot be opened. */
struct vqs_nl *vqs_nl_open(void);
void vqs_nl_close(struct vqs_nl *nl);

/* The events socket: readable when the kernel has neighbour events. */
int vqs_nl_event_fd(const struct vqs_nl *nl);
/* Reads the pending events, each bridge FDB entry's to fn (gone: it was
 * removed). How many, -ENOBUFS when some were lost (the caller dumps
 * again), or -errno. */
int vqs_nl_events(struct vqs_nl *nl, void (*fn)(const struct vqs_nl_fdb *e, bool gone, void *arg),
		  void *arg);

/* Links; -errno. A new device gets its alias once it exists. */
int vqs_nl_link_alias(struct vqs_nl *nl, int ifindex, char *alias, size_t len);
int vqs_nl_link_alias_set(struct vqs_nl *nl, int ifindex, const char *alias);
int vqs_nl_bridge_add(struct vqs_nl *nl, const char *name);
/* A veth pair: name and its peer. */
int vqs_nl_veth_add(struct vqs_nl *nl, const char *name, const char *peer);
int vqs_nl_vxlan_add(struct vqs_nl *nl, const char *name, uint32_t vni, uint32_t local_ip,
		     uint16_t udp_port);
/* Into master (0: none), up, without ARP. */
int vqs_nl_link_set(struct vqs_nl *nl, int ifindex, int master);
int vqs_nl_link_del(struct vqs_nl *nl, int ifindex);
/* Bridge port ifindex: no address learned from its frames, and none
 * forwarded to another such (isolated) port. */
int vqs_nl_brport_quiet(struct vqs_nl *nl, int ifindex);

/* A bridge FDB entry of port ifindex (NTF_MASTER: the bridge's table). */
int vqs_nl_fdb_add(struct vqs_nl *nl, int ifindex, const struct rte_ether_addr *mac,
		   uint16_t state);
int vqs_nl_fdb_del(struct vqs_nl *nl, int ifindex, const struct rte_ether_addr *mac);
/* The FDB entries of bridge master's ports, to fn (non-zero stops: its
 * value is returned). -EINTR when the table changed during the dump. */
int vqs_nl_fdb_dump(struct vqs_nl *nl, int master, int (*fn)(const struct vqs_nl_fdb *e, void *arg),
		    void *arg);

#endif
