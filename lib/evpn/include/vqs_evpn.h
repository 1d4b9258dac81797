/* SPDX-License-Identifier: BSD-3-Clause
 * evpn: BGP EVPN (RFC 7432, RFC 8365) for tunnel ports with evpn=on,
 * through the routing daemon the operator runs (FRR), which reads and
 * writes the kernel's bridge FDB. docs/evpn.md has the design.
 *
 * Per such port the switch keeps a "shadow" in its network namespace,
 * named PREFIX<VNI>b, PREFIX<VNI>v, PREFIX<VNI>d and PREFIX<VNI>p: a
 * Linux bridge, a vxlan device with the port's VNI and local_ip (on an
 * unused UDP port: the switch carries the traffic) and a veth pair, the vxlan
 * device and the veth's d end in the bridge. The MACs of the port's
 * bridge and VLAN that are on ports other than tunnels go into the
 * kernel's FDB on that d end, the "local port" (FRR advertises
 * them, type 2); what FRR installs on the vxlan device comes back: MACs
 * with their VTEP become MAC table entries behind that remote, and VTEPs
 * (type 3, and those of MACs) become the port's remotes beside remote_ip.
 *
 * Threads: everything here runs on the control thread, but
 * vqs_evpn_info, which any thread may call. Nothing here runs on a PMD;
 * the datapath sees the result through the MAC table and the snapshot.
 */
#ifndef VQS_EVPN_H
#define VQS_EVPN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "err.h"

struct vqs_switch;
struct vqs_port;

/* PREFIX<VNI>b fits IFNAMSIZ with any 24-bit VNI. */
#define VQS_EVPN_PREFIX_MAX  6
#define VQS_EVPN_PREFIX      "vqe"
/* The shadow vxlan device's UDP port: not 4789, so that the kernel's
 * socket never takes the switch's traffic; what it does receive reaches
 * nothing (shadow.c, docs/evpn.md). */
#define VQS_EVPN_SHADOW_PORT 47889

/* Before any port: the shadow devices' name prefix (-EINVAL for a bad
 * one), and what names this switch in their alias (its control socket). */
int vqs_evpn_set_prefix(const char *prefix, struct vqs_err *e);
void vqs_evpn_set_owner(const char *owner);

/* A tunnel port with evpn=on has started: its shadow made (anew, when
 * one of this switch's is left from an earlier run), or taken over from
 * the port of the same name it replaces (new settings; not a new vni or
 * local_ip: -EINVAL). Devices of those names that this switch did not
 * make are not touched: an error. */
int vqs_evpn_port_start(struct vqs_switch *sw, struct vqs_port *p, struct vqs_err *e);
/* The port is going (out of the snapshots already): its shadow removed,
 * so FRR withdraws its MACs; unless a port that replaces it has it, or
 * it replaced a port that is still there (it failed), which gets it back. */
void vqs_evpn_port_stop(struct vqs_switch *sw, struct vqs_port *p);

/* Every control loop tick: the kernel's events read; FRR's changes
 * imported (50 ms after the first, 200 ms apart at most); local MACs
 * exported every 250 ms. */
void vqs_evpn_poll(struct vqs_switch *sw);

struct vqs_evpn_info {
	char port[64];
	uint32_t vni;
	uint16_t vlan;
	char bridge_dev[16], vxlan_dev[16], local_dev[16];
	uint32_t exported;        /* local MACs in the kernel's FDB */
	uint32_t imported;        /* remote MACs from the kernel's FDB */
	uint32_t vteps;           /* remote VTEPs (type 3 or of a MAC) */
	uint64_t syncs;
	uint64_t exported_adds, exported_dels, imported_adds, imported_dels;
	uint64_t errors;
	uint64_t last_sync_ms;    /* ago; UINT64_MAX: never */
	char last_error[128];
};

/* Any thread: the i-th EVPN port (0, 1, ...); false past the last. */
bool vqs_evpn_info(unsigned int i, struct vqs_evpn_info *out);
/* Control thread: port's imported MACs (vtep != 0) and remote VTEPs
 * (type 3: mac all-zero), then its exported MACs (vtep 0), to fn.
 * -ENOENT: no EVPN port of that name. */
int vqs_evpn_walk(const char *port,
		  void (*fn)(const struct rte_ether_addr *mac, uint32_t vtep, void *arg),
		  void *arg);

#endif
