/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Callbacks run on the telemetry library's per-client threads, concurrently
 * with the PMDs, the control thread and each other. They hold the switch's
 * lock while they look at ports and bridges (so none is freed under them)
 * and read counters with relaxed loads.
 */
#define VQS_LOG_MODULE VQS_LOG_TELEMETRY

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "stats.h"
#include "telemetry.h"
#include "vqs_model.h"
#include "vqs_evpn.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/* The telemetry library gives callbacks no context pointer. */
static struct vqs_switch *tel_sw;

#define FDB_MAX_LISTED 500 /* the array limit is 512 */

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t s, n = 0;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", VQS_VERSION);
	rte_tel_data_add_dict_u64(d, "uptime_s",
		(rte_get_tsc_cycles() - tel_sw->start_tsc) / rte_get_tsc_hz());
	pthread_mutex_lock(&tel_sw->lock);
	for (s = 0; s < VQS_MAX_PORTS; s++)
		n += tel_sw->ports[s] != NULL;
	rte_tel_data_add_dict_u64(d, "bridges", tel_sw->n_bridges);
	pthread_mutex_unlock(&tel_sw->lock);
	rte_tel_data_add_dict_u64(d, "ports", n);
	rte_tel_data_add_dict_u64(d, "pmds", tel_sw->n_pmds);
	rte_tel_data_add_dict_u64(d, "mbufs", tel_sw->pool->size);
	rte_tel_data_add_dict_u64(d, "mbufs_in_use", rte_mempool_in_use_count(tel_sw->pool));
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t s;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	pthread_mutex_lock(&tel_sw->lock);
	for (s = 0; s < VQS_MAX_PORTS; s++)
		if (tel_sw->ports[s] != NULL && !tel_sw->ports[s]->deleting)
			rte_tel_data_add_array_string(d, tel_sw->ports[s]->conf.name);
	pthread_mutex_unlock(&tel_sw->lock);
	return 0;
}

static void
add_fields(struct rte_tel_data *d, const struct vqs_fields *f)
{
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		if (f->f[i].is_str)
			rte_tel_data_add_dict_string(d, f->f[i].key, f->f[i].s);
		else
			rte_tel_data_add_dict_u64(d, f->f[i].key, f->f[i].u);
	}
}

/* Adds fields as a dict named key inside d. */
static void
add_fields_container(struct rte_tel_data *d, const char *key, const struct vqs_fields *f)
{
	struct rte_tel_data *c = rte_tel_data_alloc();

	if (c == NULL)
		return;
	rte_tel_data_start_dict(c);
	add_fields(c, f);
	rte_tel_data_add_dict_container(d, key, c, 0);
}

/* A tunnel port's remotes: "remote0": {"ip": ..., counters}, ... */
static void
remote_dicts(const struct vqs_port *p, struct rte_tel_data *d)
{
	struct vqs_tnl_remote_stats st;
	char key[16], a[INET_ADDRSTRLEN];
	struct rte_tel_data *c;
	uint16_t r;

	for (r = 0; r < p->conf.vx.n_remotes; r++) {
		if (p->conf.vx.remote[r] == 0) /* a free place: tunnel.h */
			continue;
		c = rte_tel_data_alloc();
		if (c == NULL)
			return;
		vqs_tnl_remote_stats(p, tel_sw->n_pmds, r, &st);
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "ip", vqs_ipv4_str(p->conf.vx.remote[r], a, sizeof(a)));
		rte_tel_data_add_dict_u64(c, "rx_packets", st.rx_packets);
		rte_tel_data_add_dict_u64(c, "rx_bytes", st.rx_bytes);
		rte_tel_data_add_dict_u64(c, "tx_packets", st.tx_packets);
		rte_tel_data_add_dict_u64(c, "tx_bytes", st.tx_bytes);
		rte_tel_data_add_dict_u64(c, "tx_flooded", st.tx_flooded);
		snprintf(key, sizeof(key), "remote%u", r);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
}

static void
port_dict(const struct vqs_port *p, struct rte_tel_data *d)
{
	struct vqs_fields f;

	rte_tel_data_add_dict_string(d, "name", p->conf.name);
	rte_tel_data_add_dict_string(d, "bridge", p->conf.bridge);
	rte_tel_data_add_dict_string(d, "type", vqs_port_type_name(p->conf.type));
	rte_tel_data_add_dict_string(d, "state", vqs_port_is_up(p) ? "up" : "down");
	if (vqs_port_type_is_vhost(p->conf.type)) {
		unsigned int kicks_off, enabled = vqs_vhost_vrings_count(p, &kicks_off);

		rte_tel_data_add_dict_string(d, "path", p->conf.path);
		rte_tel_data_add_dict_u64(d, "vrings_enabled", enabled);
		rte_tel_data_add_dict_u64(d, "vrings_kicks_off", kicks_off);
		rte_tel_data_add_dict_u64(d, "connects",
			__atomic_load_n(&p->vhost.connects, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(d, "disconnects",
			__atomic_load_n(&p->vhost.disconnects, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(d, "debug_drop_calls_pending",
			__atomic_load_n(&p->vhost.drop_calls, __ATOMIC_RELAXED));
	} else if (p->conf.type == VQS_PORT_VXLAN) {
		char a[INET_ADDRSTRLEN], remotes[VQS_VXLAN_MAX_REMOTES * 16 + 1];

		vqs_conf_format_remotes(&p->conf.vx, remotes, sizeof(remotes));
		rte_tel_data_add_dict_u64(d, "vni", p->conf.vx.vni);
		rte_tel_data_add_dict_string(d, "local_ip",
					     vqs_ipv4_str(p->conf.vx.local_ip, a, sizeof(a)));
		rte_tel_data_add_dict_string(d, "remote_ip", remotes);
		rte_tel_data_add_dict_string(d, "evpn", p->conf.vx.evpn ? "on" : "off");
		rte_tel_data_add_dict_u64(d, "dst_port", p->conf.vx.dst_port);
		rte_tel_data_add_dict_u64(d, "ttl", p->conf.vx.ttl);
		rte_tel_data_add_dict_int(d, "tos", p->conf.vx.tos);
		remote_dicts(p, d);
	} else {
		const struct vqs_port_conf *pc = &p->conf; /* its address kept current */
		char a[INET_ADDRSTRLEN + 4];

		uint16_t mtu = 0;

		rte_tel_data_add_dict_string(d, "devargs", p->conf.devargs);
		rte_tel_data_add_dict_u64(d, "ethdev", p->eth.port_id);
		if (p->eth.started)
			rte_eth_dev_get_mtu(p->eth.port_id, &mtu);
		rte_tel_data_add_dict_u64(d, "mtu", mtu);
		if (pc->ul.ip != 0) {
			vqs_ipv4_str(pc->ul.ip, a, sizeof(a));
			snprintf(a + strlen(a), sizeof(a) - strlen(a), "/%u", pc->ul.prefix);
			rte_tel_data_add_dict_string(d, "ip", a);
			rte_tel_data_add_dict_string(d, "gateway", pc->ul.gateway == 0 ? "" :
						     vqs_ipv4_str(pc->ul.gateway, a, sizeof(a)));
		}
	}
	vqs_stats_port(p, tel_sw->n_pmds, &f);
	add_fields(d, &f);
}

/* {"pmd0": {...}, "pmd1": {...}} */
static int
tel_pmds(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vqs_fields f;
	char key[16];
	uint16_t i;

	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_sw->lock);
	for (i = 0; i < tel_sw->n_pmds; i++) {
		vqs_stats_pmd(tel_sw->pmds[i], vqs_pmd_rxq_count(tel_sw, i), &f);
		snprintf(key, sizeof(key), "pmd%u", i);
		add_fields_container(d, key, &f);
	}
	pthread_mutex_unlock(&tel_sw->lock);
	return 0;
}

/*
 * Parameter: a vhost port. {"vring0": {...}, ...}; {} with no guest.
 * Reading vrings touches the device: this client goes RCU-online (with the
 * one reader id telemetry shares, hence tel_lock) before it lets the
 * switch lock go, so neither the port nor the device can go away under it.
 */
static int
tel_vrings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vqs_vring_info vi[2 * VQS_VHOST_MAX_QP];
	struct vqs_port *p;
	struct vqs_fields f;
	unsigned int i, n = 0;
	char key[16];
	int rc = -EINVAL;

	if (params == NULL)
		return -EINVAL;
	pthread_mutex_lock(&tel_sw->tel_lock);
	pthread_mutex_lock(&tel_sw->lock);
	p = vqs_switch_port(tel_sw, params);
	if (p != NULL && !p->deleting && vqs_port_type_is_vhost(p->conf.type)) {
		rte_rcu_qsbr_thread_online(tel_sw->qsv, tel_sw->tel_thread_id);
		rc = 0;
	}
	pthread_mutex_unlock(&tel_sw->lock);
	if (rc == 0) {
		n = vqs_vhost_vring_info(p, vi, RTE_DIM(vi));
		rte_rcu_qsbr_thread_offline(tel_sw->qsv, tel_sw->tel_thread_id);
	}
	pthread_mutex_unlock(&tel_sw->tel_lock);
	if (rc != 0)
		return rc;
	rte_tel_data_start_dict(d);
	for (i = 0; i < n; i++) {
		vqs_stats_vring(&vi[i], &f);
		snprintf(key, sizeof(key), "vring%u", vi[i].id);
		add_fields_container(d, key, &f);
	}
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct vqs_port *p;
	int rc = -EINVAL;

	if (params == NULL)
		return -EINVAL;
	pthread_mutex_lock(&tel_sw->lock);
	p = vqs_switch_port(tel_sw, params);
	if (p != NULL && !p->deleting) {
		rte_tel_data_start_dict(d);
		port_dict(p, d);
		rc = 0;
	}
	pthread_mutex_unlock(&tel_sw->lock);
	return rc;
}

/* Ports in one /vqswitch/stats reply: each is under 1 KiB of JSON, a
 * reply at most 16 KiB. */
#define TEL_STATS_PAGE 12

/*
 * Parameter: none, or the index of the first port wanted.
 * {"INDEX": {port dict, as /vqswitch/port}, ..., "next": INDEX}: at most
 * TEL_STATS_PAGE ports, keyed by their index in the list of ports (port
 * names may hold '-' and '.', which telemetry refuses in keys, and 22.11
 * allows dicts only inside dicts); "next" is there when more follow.
 */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint32_t first = 0, idx = 0;
	unsigned int shown = 0;
	struct vqs_err e;
	char key[24];
	uint16_t s;

	if (params != NULL && params[0] != '\0' &&
	    vqs_conf_parse_u32("index", params, 0, UINT32_MAX, &first, &e) != 0)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&tel_sw->lock);
	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = tel_sw->ports[s];
		struct rte_tel_data *c;

		if (p == NULL || p->deleting || idx++ < first)
			continue;
		if (shown == TEL_STATS_PAGE) {
			rte_tel_data_add_dict_u64(d, "next", idx - 1);
			break;
		}
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		port_dict(p, c);
		snprintf(key, sizeof(key), "%u", idx - 1);
		rte_tel_data_add_dict_container(d, key, c, 0);
		shown++;
	}
	pthread_mutex_unlock(&tel_sw->lock);
	return 0;
}

struct fdb_list {
	struct rte_tel_data *entries;
	unsigned int n;
};

static int
fdb_list_one(const struct vqs_fdb_entry_info *e, void *arg)
{
	struct fdb_list *l = arg;
	const struct vqs_port *p = tel_sw->ports[VQS_FDB_SLOT(e->port)];
	char mac[RTE_ETHER_ADDR_FMT_SIZE], line[96], remote[INET_ADDRSTRLEN];
	size_t len;

	if (l->n == FDB_MAX_LISTED)
		return 1;
	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	/* As vqctl fdb/show prints it: "static" where a learned entry has
	 * its age. */
	if (e->is_static)
		snprintf(line, sizeof(line), "%s %u %s static", mac, e->vlan,
			 p != NULL ? p->conf.name : "?");
	else
		snprintf(line, sizeof(line), "%s %u %s %" PRIu64, mac, e->vlan,
			 p != NULL ? p->conf.name : "?", e->age_tsc / rte_get_tsc_hz());
	/* Behind a tunnel port: the remote VTEP too. */
	len = strlen(line);
	if (vqs_tnl_remote_str(p, e->port, remote, sizeof(remote))[0] != '\0')
		snprintf(line + len, sizeof(line) - len, " %s", remote);
	rte_tel_data_add_array_string(l->entries, line);
	l->n++;
	return 0;
}

/* Parameter: bridge. {"count", "capacity", "entries": ["MAC VLAN PORT AGE_S|static"]} */
static int
tel_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fdb_list l = { .entries = NULL, .n = 0 };
	const struct vqs_bridge *b;
	int rc = -EINVAL;

	if (params == NULL)
		return -EINVAL;
	pthread_mutex_lock(&tel_sw->lock);
	b = vqs_switch_bridge(tel_sw, params);
	if (b != NULL && (l.entries = rte_tel_data_alloc()) != NULL) {
		rte_tel_data_start_array(l.entries, RTE_TEL_STRING_VAL);
		vqs_fdb_walk(b->fdb, rte_get_tsc_cycles(), fdb_list_one, &l);
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_u64(d, "count", vqs_fdb_count(b->fdb));
		rte_tel_data_add_dict_u64(d, "capacity", vqs_fdb_capacity(b->fdb));
		rte_tel_data_add_dict_container(d, "entries", l.entries, 0);
		rc = 0;
	}
	pthread_mutex_unlock(&tel_sw->lock);
	return rc;
}

/* BGP EVPN: per evpn=on tunnel port, its devices and counters. */
static int
tel_evpn(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vqs_evpn_info in;
	struct rte_tel_data *c;
	unsigned int i;

	rte_tel_data_start_dict(d);
	for (i = 0; vqs_evpn_info(i, &in); i++) {
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "vni", in.vni);
		rte_tel_data_add_dict_u64(c, "vlan", in.vlan);
		rte_tel_data_add_dict_string(c, "bridge_device", in.bridge_dev);
		rte_tel_data_add_dict_string(c, "vxlan_device", in.vxlan_dev);
		rte_tel_data_add_dict_string(c, "local_device", in.local_dev);
		rte_tel_data_add_dict_u64(c, "local_macs_exported", in.exported);
		rte_tel_data_add_dict_u64(c, "remote_macs_imported", in.imported);
		rte_tel_data_add_dict_u64(c, "remote_vteps", in.vteps);
		rte_tel_data_add_dict_u64(c, "syncs", in.syncs);
		rte_tel_data_add_dict_u64(c, "exported_adds", in.exported_adds);
		rte_tel_data_add_dict_u64(c, "exported_dels", in.exported_dels);
		rte_tel_data_add_dict_u64(c, "imported_adds", in.imported_adds);
		rte_tel_data_add_dict_u64(c, "imported_dels", in.imported_dels);
		rte_tel_data_add_dict_u64(c, "errors", in.errors);
		rte_tel_data_add_dict_string(c, "last_error", in.last_error);
		rte_tel_data_add_dict_container(d, in.port, c, 0);
	}
	return 0;
}

int
vqs_telemetry_init(struct vqs_switch *sw)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{ "/vqswitch/info", tel_info, "vqswitch version, uptime, counts, mbufs in use. No parameters" },
		{ "/vqswitch/ports", tel_ports, "Lists port names. No parameters" },
		{ "/vqswitch/port", tel_port, "Port state and counters. Parameter: port name" },
		{ "/vqswitch/stats", tel_stats, "Every port: state, counters; 12 a reply, then \"next\". Parameter: first port index" },
		{ "/vqswitch/pmds", tel_pmds, "Per PMD: lcore, RX queues, busy/idle cycles, packets, batch, cycles/packet" },
		{ "/vqswitch/vrings", tel_vrings, "Vrings of a vhost port: indexes, suppression, notifications. Parameter: port" },
		{ "/vqswitch/evpn", tel_evpn, "BGP EVPN per evpn=on port: devices, MACs exported and imported, counters. No parameters" },
		{ "/vqswitch/fdb", tel_fdb, "MAC table of a bridge: MAC, VLAN, port, age in s or static. Parameter: bridge" },
	};
	unsigned int i;
	int rc;

	tel_sw = sw;
	for (i = 0; i < RTE_DIM(cmds); i++) {
		rc = rte_telemetry_register_cmd(cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (rc != 0) {
			VQS_LOG(ERR, "cannot register telemetry command %s: %d",
				cmds[i].cmd, rc);
			return rc;
		}
	}
	return 0;
}
