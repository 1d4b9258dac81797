/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Callbacks run on the telemetry library's per-client threads, concurrently
 * with the PMDs and each other: they only read immutable port configuration
 * and relaxed counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "fdb.h"
#include "pmd.h"
#include "switch.h"
#include "telemetry.h"
#include "vhost_port.h"

/* The telemetry library gives callbacks no context pointer. */
static struct vqs_switch *tel_sw;

#define FDB_MAX_LISTED 500 /* the array limit is 512 */

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", VQS_VERSION);
	rte_tel_data_add_dict_u64(d, "uptime_s",
		(rte_get_tsc_cycles() - tel_sw->start_tsc) / rte_get_tsc_hz());
	rte_tel_data_add_dict_string(d, "bridge", tel_sw->bridge);
	rte_tel_data_add_dict_u64(d, "ports", tel_sw->n_ports);
	rte_tel_data_add_dict_u64(d, "pmds", tel_sw->n_pmds);
	return 0;
}

static int
tel_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint16_t i;

	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (i = 0; i < tel_sw->n_ports; i++)
		rte_tel_data_add_array_string(d, tel_sw->ports[i]->conf.name);
	return 0;
}

static int
tel_port(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct vqs_port_stats st;
	struct vqs_port *p;
	unsigned int r;
	char key[32];

	if (params == NULL || (p = vqs_switch_port_by_name(tel_sw, params)) == NULL)
		return -EINVAL;
	vqs_switch_port_stats(tel_sw, p->idx, &st);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "name", p->conf.name);
	rte_tel_data_add_dict_string(d, "type", vqs_port_type_name(p->conf.type));
	rte_tel_data_add_dict_string(d, "state", vqs_port_is_up(p) ? "up" : "down");
	if (p->conf.type == VQS_PORT_VHOST) {
		unsigned int kicks_off, enabled = vqs_vhost_vrings_count(p, &kicks_off);

		rte_tel_data_add_dict_string(d, "path", p->conf.path);
		rte_tel_data_add_dict_u64(d, "vrings_enabled", enabled);
		rte_tel_data_add_dict_u64(d, "vrings_kicks_off", kicks_off);
		rte_tel_data_add_dict_u64(d, "connects",
			__atomic_load_n(&p->vhost.connects, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(d, "disconnects",
			__atomic_load_n(&p->vhost.disconnects, __ATOMIC_RELAXED));
	} else {
		rte_tel_data_add_dict_string(d, "devargs", p->conf.devargs);
		rte_tel_data_add_dict_u64(d, "ethdev", p->eth.port_id);
	}
	rte_tel_data_add_dict_u64(d, "rx_packets", st.rx_packets);
	rte_tel_data_add_dict_u64(d, "rx_bytes", st.rx_bytes);
	rte_tel_data_add_dict_u64(d, "tx_packets", st.tx_packets);
	rte_tel_data_add_dict_u64(d, "tx_bytes", st.tx_bytes);
	for (r = 0; r < VQS_DROP_MAX; r++) {
		snprintf(key, sizeof(key), "drop_%s", vqs_drop_names[r]);
		rte_tel_data_add_dict_u64(d, key, st.drops[r]);
	}
	rte_tel_data_add_dict_u64(d, "fdb_full", st.fdb_full);
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
	char mac[RTE_ETHER_ADDR_FMT_SIZE], line[96];

	if (l->n == FDB_MAX_LISTED)
		return 1;
	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	snprintf(line, sizeof(line), "%s %s %" PRIu64, mac,
		 tel_sw->ports[e->port]->conf.name, e->age_tsc / rte_get_tsc_hz());
	rte_tel_data_add_array_string(l->entries, line);
	l->n++;
	return 0;
}

/* {"count", "capacity", "entries": ["MAC PORT AGE_S", ...]} */
static int
tel_fdb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct fdb_list l = { .entries = rte_tel_data_alloc(), .n = 0 };

	if (l.entries == NULL)
		return -ENOMEM;
	rte_tel_data_start_array(l.entries, RTE_TEL_STRING_VAL);
	vqs_fdb_walk(tel_sw->fdb, rte_get_tsc_cycles(), fdb_list_one, &l);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "count", vqs_fdb_count(tel_sw->fdb));
	rte_tel_data_add_dict_u64(d, "capacity", vqs_fdb_capacity(tel_sw->fdb));
	rte_tel_data_add_dict_container(d, "entries", l.entries, 0);
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
		{ "/vqswitch/info", tel_info, "vqswitch version, uptime, bridge. No parameters" },
		{ "/vqswitch/ports", tel_ports, "Lists port names. No parameters" },
		{ "/vqswitch/port", tel_port, "Port state and counters. Parameter: port name" },
		{ "/vqswitch/fdb", tel_fdb, "Forwarding database: MAC, port, age in s. No parameters" },
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
