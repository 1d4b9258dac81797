/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration model: bridges and ports as the operator asked for
 * them. It is what commands change (after validation), what the state file
 * records, and what the switch is built from. No DPDK state lives here.
 *
 * lib/model: this header is the folder's public contract. conf.c holds
 * the model and checks commands against it, conf_tnl.c the tunnel
 * settings (its helpers, conf_tnl.h, are conf.c's alone), value.c the
 * numbers and addresses both read. The model uses base and nothing
 * else: no other folder, no DPDK.
 *
 * Threads. Nothing here locks or keeps state: each function works on the
 * struct vqs_conf (or the port or bridge) it is handed. The running
 * switch's model (struct vqs_switch's conf) belongs to the control
 * thread, which reads and changes it one command at a time: a command is
 * parsed and validated first (vqs_conf_parse_*, which change nothing),
 * then applied (vqs_conf_add_*, _del_*, _set_*); a file is run against a
 * copy before anything is applied (vqs_ctl_load_file). No other thread
 * reads it: a port keeps a copy of its settings (struct vqs_port's conf,
 * read by other threads under the switch's lock), and each datapath
 * snapshot copies what the PMDs need (VLANs, tunnel settings).
 */
#ifndef VQS_CONF_H
#define VQS_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <arpa/inet.h>

#include "err.h"
#include "vqs.h"

#define VQS_DEFAULT_MAC_AGING      300
#define VQS_DEFAULT_MAC_TABLE_SIZE 8192
#define VQS_MAX_MAC_TABLE_SIZE     (1u << 20)
/* The longest trunk list text: every other VLAN, "0,2,4,...,4094". */
#define VQS_TRUNKS_TEXT_MAX        12288

enum vqs_port_type {
	VQS_PORT_VHOST,        /* vhostuser: we are the socket server */
	VQS_PORT_VHOST_CLIENT, /* vhostuserclient: we connect, and reconnect */
	VQS_PORT_ETH,          /* dpdk: any ethdev, PCI NIC or vdev */
	VQS_PORT_VXLAN,        /* vxlan: a tunnel over a dpdk port's address */
};

/* remote_ip= lists at most VQS_VXLAN_MAX_STATIC addresses; BGP EVPN adds
 * remotes up to VQS_VXLAN_MAX_REMOTES in all (the MAC table keeps a
 * remote's index + 1 in 8 bits: fdb.h). */
#define VQS_VXLAN_MAX_STATIC  16
#define VQS_VXLAN_MAX_REMOTES 64
#define VQS_VXLAN_UDP_PORT    4789 /* IANA */
#define VQS_VXLAN_VNI_MAX     0xffffffu
#define VQS_TOS_INHERIT       (-1)

/* A dpdk port's IPv4 address, as OVS puts one on a physical bridge: the
 * underlay of the tunnels whose local_ip it is. Addresses in network
 * byte order; ip 0: none. */
struct vqs_underlay_conf {
	uint32_t ip;
	uint8_t prefix;
	uint32_t gateway; /* next hop for remotes outside the subnet; 0: none */
};

/* A VXLAN tunnel port (RFC 7348). */
struct vqs_vxlan_conf {
	uint32_t vni;
	uint32_t local_ip;
	/* remote_ip=, then (in the switch's copy of a running port only) the
	 * remotes BGP EVPN installed, where a 0 is a free place (evpn.h). */
	uint16_t n_remotes;
	uint32_t remote[VQS_VXLAN_MAX_REMOTES];
	bool evpn;         /* evpn=on: remotes and MACs from BGP EVPN (docs/evpn.md) */
	uint16_t dst_port; /* UDP, host order */
	uint8_t ttl;
	int16_t tos;       /* VQS_TOS_INHERIT: the inner IPv4 header's */
};

/* Access port: tag != 0. Trunk port: tag == 0, carrying the VLANs in
 * trunks (all of them when trunks_set is false). Untagged frames on a
 * trunk belong to VLAN 0. */
struct vqs_vlan_conf {
	uint16_t tag;
	bool trunks_set;
	uint64_t trunks[(VQS_VLAN_MAX + 1) / 64];
};

struct vqs_br_conf {
	char name[VQS_NAME_MAX];
	uint32_t mac_aging;      /* seconds; 0 never ages */
	uint32_t mac_table_size;
};

struct vqs_port_conf {
	char name[VQS_NAME_MAX];
	char bridge[VQS_NAME_MAX];
	enum vqs_port_type type;
	char path[VQS_PATH_MAX];  /* vhost: socket path */
	char devargs[256];        /* eth: device name and driver arguments */
	uint16_t queues;          /* vhost: queue pairs polled; eth: RX queues */
	uint16_t mtu;             /* eth: 0 keeps the device's MTU */
	uint8_t offloads;         /* vhost: checksum and TSO offered (offload.h):
				   * VQS_OFFLOADS_*, by default the switch's */
	bool offloads_kept;       /* vhost: a frontend that still uses offloads
				   * the port no longer offers may keep them;
				   * set whenever the port offers them */
	struct vqs_vlan_conf vlan;
	int16_t affinity[VQS_VHOST_MAX_QP]; /* lcore per RX queue; -1: any */
	struct vqs_underlay_conf ul; /* dpdk ports */
	struct vqs_vxlan_conf vx;    /* vxlan ports */
};

/* A port's offloads= */
enum { VQS_OFFLOADS_DEFAULT, VQS_OFFLOADS_ON, VQS_OFFLOADS_OFF };

struct vqs_conf {
	uint32_t pmd_sleep_ms; /* idle this long, then sleep until kicked; 0 never */
	bool offloads_off;     /* set switch offloads=off: vhost ports' default
				* (on: a model all zero is the default one) */
	uint16_t n_bridges;
	struct vqs_br_conf bridges[VQS_MAX_BRIDGES];
	uint16_t n_ports;
	struct vqs_port_conf ports[VQS_MAX_PORTS];
};

const char *vqs_port_type_name(enum vqs_port_type t);
static inline bool
vqs_port_type_is_vhost(enum vqs_port_type t)
{
	return t == VQS_PORT_VHOST || t == VQS_PORT_VHOST_CLIENT;
}

/* "192.0.2.1" into *ip (network order); false if it is not one. */
bool vqs_parse_ipv4(const char *s, uint32_t *ip);
/* An address in network order as text. */
const char *vqs_ipv4_str(uint32_t ip, char *buf, size_t len);
/* Whether a and b share the first prefix bits. */
static inline bool
vqs_ipv4_same_subnet(uint32_t a, uint32_t b, uint8_t prefix)
{
	uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);

	return ((ntohl(a) ^ ntohl(b)) & mask) == 0;
}

static inline bool
vqs_vlan_allowed(const struct vqs_vlan_conf *v, uint16_t vlan)
{
	if (v->tag != 0)
		return vlan == v->tag;
	return !v->trunks_set || (v->trunks[vlan / 64] >> (vlan % 64)) & 1;
}

struct vqs_br_conf *vqs_conf_bridge(struct vqs_conf *c, const char *name);
struct vqs_port_conf *vqs_conf_port(struct vqs_conf *c, const char *name);

/*
 * Command parsing and validation against the model; none of them change
 * it. argv[0] is the command word. socket_dir: where vhost-user server
 * sockets go (path= must name a file directly inside it).
 */
int vqs_conf_parse_add_br(const struct vqs_conf *c, int argc, char **argv,
			  struct vqs_br_conf *out, struct vqs_err *e);
int vqs_conf_parse_set_bridge(const struct vqs_conf *c, int argc, char **argv,
			      struct vqs_br_conf *inout, struct vqs_err *e);
int vqs_conf_parse_add_port(const struct vqs_conf *c, int argc, char **argv,
			    const char *socket_dir, struct vqs_port_conf *out,
			    struct vqs_err *e);
/* "set port": key=value words only, any of add-port's, applied to *inout,
 * a copy of the port. *restart: the device's settings (type, path,
 * devargs, queues/n_rxq, mtu) changed, so the port must be made anew. */
int vqs_conf_parse_port_options(const struct vqs_conf *c, int argc, char **argv,
				const char *socket_dir, struct vqs_port_conf *inout,
				bool *restart, struct vqs_err *e);

/* key=v, a whole number from min to max; the error names the key. */
int vqs_conf_parse_u32(const char *key, const char *v, uint32_t min, uint32_t max,
		       uint32_t *out, struct vqs_err *e);

/* Whether vhost port p offers offloads: its own offloads=, or the switch's. */
static inline bool
vqs_conf_offloads(const struct vqs_conf *c, const struct vqs_port_conf *p)
{
	return p->offloads == VQS_OFFLOADS_DEFAULT ? !c->offloads_off : p->offloads == VQS_OFFLOADS_ON;
}

/* "set switch offloads=on|off". */
int vqs_conf_parse_set_switch(int argc, char **argv, bool *offloads, struct vqs_err *e);

/* "set pmd sleep=on|off|MS" (on: 100 ms). */
int vqs_conf_parse_set_pmd(int argc, char **argv, uint32_t *sleep_ms, struct vqs_err *e);

/* Mutations; the caller has validated. */
/* set switch offloads=: ports that offer offloads by it are marked
 * offloads_kept. */
void vqs_conf_set_offloads(struct vqs_conf *c, bool on);
void vqs_conf_add_bridge(struct vqs_conf *c, const struct vqs_br_conf *b);
void vqs_conf_del_bridge(struct vqs_conf *c, const char *name);
void vqs_conf_add_port(struct vqs_conf *c, const struct vqs_port_conf *p);
void vqs_conf_del_port(struct vqs_conf *c, const char *name);

/* Writes the model as the commands that rebuild it, one a line; a value
 * with a blank, a quote, a backslash or '#' is written in double quotes
 * (vqs_ctl_split reads them). */
int vqs_conf_write(const struct vqs_conf *c, FILE *f);
/* True if both are the same VLAN settings (field by field: no padding). */
bool vqs_vlan_equal(const struct vqs_vlan_conf *a, const struct vqs_vlan_conf *b);
/* True if both models configure the same switch. */
bool vqs_conf_equal(const struct vqs_conf *a, const struct vqs_conf *b);
/* "100,200-210" style list of a port's trunks, or "" when unset; buf holds
 * VQS_TRUNKS_TEXT_MAX bytes. */
void vqs_vlan_format_trunks(const struct vqs_vlan_conf *v, char *buf);
/* "0:2,1:3" style affinity list, or "". */
void vqs_conf_format_affinity(const struct vqs_port_conf *p, char *buf, size_t len);
/* The remote_ip= list as text ("192.0.2.20,192.0.2.30"); conf_tnl.c. */
void vqs_conf_format_remotes(const struct vqs_vxlan_conf *vx, char *buf, size_t len);

#endif
