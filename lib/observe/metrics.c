/* SPDX-License-Identifier: BSD-3-Clause
 * The switch's counters in Prometheus' text exposition format (version
 * 0.0.4), for `vqctl metrics` and node_exporter's textfile collector.
 * Names follow Prometheus' conventions: a vqswitch_ prefix, _total on
 * counters, base units (bytes, seconds); one family at a time, its HELP
 * and TYPE first, then every sample of it.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "metrics.h"
#include "vqs_evpn.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/* A label value, escaped as the format wants (backslash, quote, newline). */
static void
label_value(struct vqs_buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			vqs_buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			vqs_buf_printf(b, "\\n");
		else
			vqs_buf_printf(b, "%c", *v);
	}
}

static void
family(struct vqs_buf *b, const char *name, const char *type, const char *help)
{
	vqs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
port_labels(struct vqs_buf *b, const char *name, const struct vqs_port *p)
{
	vqs_buf_printf(b, "%s{bridge=\"", name);
	label_value(b, p->conf.bridge);
	vqs_buf_printf(b, "\",port=\"");
	label_value(b, p->conf.name);
	vqs_buf_printf(b, "\",type=\"%s\"", vqs_port_type_name(p->conf.type));
}

/* What one port family reads from a port's counters. */
enum port_value {
	PV_RX_PACKETS, PV_RX_BYTES, PV_TX_PACKETS, PV_TX_BYTES, PV_FDB_FULL, PV_RX_MISSED,
	PV_WATCHDOG_KICKS, PV_RX_STALLS, PV_RINGS_REFUSED, PV_MEMORY_FAULTS, PV_CONN_REFUSED, PV_CONN_WAITED, PV_UP,
	PV_SW_CSUM, PV_SW_GSO, PV_OL_KEPT, PV_ANNOUNCED,
};

static const struct {
	const char *name, *type, *help;
	enum port_value v;
	bool vhost_only;
} port_families[] = {
	{ "vqswitch_port_up", "gauge", "1 if the guest is connected or the device started", PV_UP, false },
	{ "vqswitch_port_rx_packets_total", "counter", "Frames received on the port, dropped ones too",
	  PV_RX_PACKETS, false },
	{ "vqswitch_port_rx_bytes_total", "counter", "Bytes received on the port", PV_RX_BYTES, false },
	{ "vqswitch_port_tx_packets_total", "counter", "Frames sent out of the port", PV_TX_PACKETS, false },
	{ "vqswitch_port_tx_bytes_total", "counter", "Bytes sent out of the port", PV_TX_BYTES, false },
	{ "vqswitch_port_fdb_full_total", "counter",
	  "Frames whose source could not be learned: the bridge's MAC table was full", PV_FDB_FULL, false },
	{ "vqswitch_port_rx_missed_total", "counter",
	  "Frames the device dropped before a PMD read them (dpdk ports)", PV_RX_MISSED, false },
	{ "vqswitch_port_watchdog_kicks_total", "counter",
	  "Interrupts the lost-interrupt watchdog raised towards the guest", PV_WATCHDOG_KICKS, true },
	{ "vqswitch_port_rx_stalls_total", "counter",
	  "Times the guest's TX ring stopped with descriptors the switch cannot take", PV_RX_STALLS, true },
	{ "vqswitch_port_rings_refused_total", "counter",
	  "Set-ups of a vring refused: its rings or positions do not fit guest memory", PV_RINGS_REFUSED,
	  true },
	{ "vqswitch_port_memory_faults_total", "counter",
	  "Connections ended because their frontend shrank the guest memory it gave", PV_MEMORY_FAULTS,
	  true },
	{ "vqswitch_port_connections_refused_total", "counter",
	  "vhost-user connections refused (a third frontend on the socket)", PV_CONN_REFUSED, true },
	{ "vqswitch_port_connections_waited_total", "counter",
	  "vhost-user connections that had to wait for the first one to close", PV_CONN_WAITED, true },
	{ "vqswitch_port_sw_csum_total", "counter",
	  "Frames to the port whose partial checksum the switch completed (docs/offloads.md)",
	  PV_SW_CSUM, false },
	{ "vqswitch_port_sw_gso_total", "counter",
	  "GSO frames to the port the switch cut into segments", PV_SW_GSO, false },
	{ "vqswitch_port_offloads_kept_total", "counter",
	  "Connections that kept offloads the port does not offer", PV_OL_KEPT, true },
	{ "vqswitch_port_announcements_total", "counter",
	  "RARPs sent for the guest after a live migration (SEND_RARP)", PV_ANNOUNCED, true },
};

static uint64_t
port_value(const struct vqs_port *p, const struct vqs_port_stats *st, enum port_value v)
{
	const struct vqs_vhost_state *vh = &p->vhost;

	switch (v) {
	case PV_RX_PACKETS: return st->rx_packets;
	case PV_RX_BYTES: return st->rx_bytes;
	case PV_TX_PACKETS: return st->tx_packets;
	case PV_TX_BYTES: return st->tx_bytes;
	case PV_FDB_FULL: return st->fdb_full;
	case PV_RX_MISSED: return vqs_port_rx_missed(p);
	case PV_WATCHDOG_KICKS: return __atomic_load_n(&vh->watchdog_kicks, __ATOMIC_RELAXED);
	case PV_RX_STALLS: return __atomic_load_n(&vh->rx_stalls, __ATOMIC_RELAXED);
	case PV_RINGS_REFUSED: return __atomic_load_n(&vh->rings_refused, __ATOMIC_RELAXED);
	case PV_MEMORY_FAULTS: return __atomic_load_n(&vh->memory_faults, __ATOMIC_RELAXED);
	case PV_CONN_REFUSED: return __atomic_load_n(&vh->conn_refused, __ATOMIC_RELAXED);
	case PV_CONN_WAITED: return __atomic_load_n(&vh->conn_extra, __ATOMIC_RELAXED);
	case PV_UP: return vqs_port_is_up(p);
	case PV_SW_CSUM: return st->sw_csum;
	case PV_SW_GSO: return st->sw_gso;
	case PV_OL_KEPT: return __atomic_load_n(&vh->ol_kept, __ATOMIC_RELAXED);
	case PV_ANNOUNCED: return __atomic_load_n(&vh->announced, __ATOMIC_RELAXED);
	}
	return 0;
}

static void
ports(const struct vqs_switch *sw, struct vqs_buf *b)
{
	struct vqs_port_stats *st = calloc(VQS_MAX_PORTS, sizeof(*st));
	unsigned int f, s, r;

	if (st == NULL)
		return;
	for (s = 0; s < VQS_MAX_PORTS; s++)
		if (sw->ports[s] != NULL)
			vqs_port_stats_sum(sw->ports[s], sw->n_pmds, &st[s]);
	for (f = 0; f < RTE_DIM(port_families); f++) {
		family(b, port_families[f].name, port_families[f].type, port_families[f].help);
		for (s = 0; s < VQS_MAX_PORTS; s++) {
			const struct vqs_port *p = sw->ports[s];

			if (p == NULL || (port_families[f].vhost_only && !vqs_port_type_is_vhost(p->conf.type)))
				continue;
			port_labels(b, port_families[f].name, p);
			vqs_buf_printf(b, "} %" PRIu64 "\n", port_value(p, &st[s], port_families[f].v));
		}
	}
	family(b, "vqswitch_port_drops_total", "counter",
	       "Frames dropped, by reason (docs/telemetry.md lists them)");
	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = sw->ports[s];

		for (r = 0; p != NULL && r < VQS_DROP_MAX; r++) {
			port_labels(b, "vqswitch_port_drops_total", p);
			vqs_buf_printf(b, ",reason=\"%s\"} %" PRIu64 "\n", vqs_drop_names[r],
				       st[s].drops[r]);
		}
	}
	free(st);
}

/* Caller RCU-online: the vring readouts touch the devices. */
static void
vrings(const struct vqs_switch *sw, struct vqs_buf *b)
{
	static const char *const names[2] = { "vqswitch_vring_guest_notifications_total",
					       "vqswitch_vring_inflight" };
	struct vqs_vring_info vi[2 * VQS_VHOST_MAX_QP];
	unsigned int k, s, i, n;

	for (k = 0; k < 2; k++) {
		family(b, names[k], k ? "gauge" : "counter",
		       k ? "Descriptors the guest made available that the switch has not taken (split rings)"
			 : "Interrupts raised towards the guest on this vring");
		for (s = 0; s < VQS_MAX_PORTS; s++) {
			struct vqs_port *p = sw->ports[s];

			if (p == NULL || !vqs_port_type_is_vhost(p->conf.type))
				continue;
			n = vqs_vhost_vring_info(p, vi, RTE_DIM(vi));
			for (i = 0; i < n; i++) {
				vqs_buf_printf(b, "%s{port=\"", names[k]);
				label_value(b, p->conf.name);
				vqs_buf_printf(b, "\",vring=\"%u\",direction=\"%s\"} %" PRIu64 "\n", vi[i].id,
					       vi[i].id % 2 ? "guest_tx" : "guest_rx",
					       k ? (uint64_t)vi[i].inflight : vi[i].guest_notifications);
			}
		}
	}
}

static void
pmds(const struct vqs_switch *sw, struct vqs_buf *b)
{
	static const struct {
		const char *name, *help;
		size_t off; /* in struct vqs_pmd_stats */
	} fam[] = {
		{ "vqswitch_pmd_busy_cycles_total", "TSC cycles of passes that received frames",
		  offsetof(struct vqs_pmd_stats, busy_cycles) },
		{ "vqswitch_pmd_idle_cycles_total", "TSC cycles of passes that received nothing",
		  offsetof(struct vqs_pmd_stats, idle_cycles) },
		{ "vqswitch_pmd_rx_packets_total", "Frames the PMD received",
		  offsetof(struct vqs_pmd_stats, rx_packets) },
		{ "vqswitch_pmd_rx_batches_total", "Non-empty RX bursts",
		  offsetof(struct vqs_pmd_stats, rx_batches) },
		{ "vqswitch_pmd_sleeps_total", "Times the PMD slept waiting for a kick",
		  offsetof(struct vqs_pmd_stats, sleeps) },
	};
	struct vqs_pmd_stats st[VQS_MAX_PMDS];
	unsigned int f, i;

	/* One snapshot per PMD, so that a scrape's families agree. */
	for (i = 0; i < sw->n_pmds; i++)
		vqs_pmd_stats_read(sw->pmds[i], &st[i]);
	for (f = 0; f < RTE_DIM(fam); f++) {
		family(b, fam[f].name, "counter", fam[f].help);
		for (i = 0; i < sw->n_pmds; i++)
			vqs_buf_printf(b, "%s{pmd=\"%u\",lcore=\"%u\"} %" PRIu64 "\n", fam[f].name, i,
				       sw->pmds[i]->lcore,
				       *(const uint64_t *)((const char *)&st[i] + fam[f].off));
	}
	family(b, "vqswitch_pmd_rx_queues", "gauge", "RX queues the PMD polls");
	for (i = 0; i < sw->n_pmds; i++)
		vqs_buf_printf(b, "vqswitch_pmd_rx_queues{pmd=\"%u\",lcore=\"%u\"} %u\n", i,
			       sw->pmds[i]->lcore, vqs_pmd_rxq_count(sw, (uint16_t)i));
	family(b, "vqswitch_tsc_hz", "gauge", "TSC ticks per second (cycles to seconds)");
	vqs_buf_printf(b, "vqswitch_tsc_hz %" PRIu64 "\n", rte_get_tsc_hz());
}

static void
fdbs(const struct vqs_switch *sw, struct vqs_buf *b)
{
	unsigned int k, i;

	for (k = 0; k < 2; k++) {
		const char *name = k ? "vqswitch_fdb_capacity" : "vqswitch_fdb_entries";

		family(b, name, "gauge", k ? "Entries the bridge's MAC table may hold"
					   : "Entries in the bridge's MAC table");
		for (i = 0; i < sw->n_bridges; i++) {
			const struct vqs_fdb *fdb = sw->bridges[i]->fdb;

			vqs_buf_printf(b, "%s{bridge=\"", name);
			label_value(b, sw->bridges[i]->name);
			vqs_buf_printf(b, "\"} %u\n", k ? vqs_fdb_capacity(fdb) : vqs_fdb_count(fdb));
		}
	}
}

/* BGP EVPN, per evpn=on tunnel port (vqs_evpn.h). */
static void
evpn(struct vqs_buf *b)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool wide;
	} fams[] = {
#define F(n, t, h, f, w) { n, t, h, offsetof(struct vqs_evpn_info, f), w }
		F("vqswitch_evpn_local_macs", "gauge", "Local MACs in the kernel's FDB, for FRR to advertise", exported, false),
		F("vqswitch_evpn_remote_macs", "gauge", "Remote MACs FRR installed, in the MAC table", imported, false),
		F("vqswitch_evpn_remote_vteps", "gauge", "Remote VTEPs from EVPN (type 3, or of a MAC)", vteps, false),
		F("vqswitch_evpn_syncs_total", "counter", "Syncs with the kernel's FDB", syncs, true),
		F("vqswitch_evpn_exported_total", "counter", "Local MACs written to the kernel's FDB", exported_adds, true),
		F("vqswitch_evpn_withdrawn_total", "counter", "Local MACs removed from the kernel's FDB", exported_dels, true),
		F("vqswitch_evpn_imported_total", "counter", "Remote MACs put in the MAC table", imported_adds, true),
		F("vqswitch_evpn_unimported_total", "counter", "Remote MACs taken out of the MAC table", imported_dels, true),
		F("vqswitch_evpn_errors_total", "counter", "Netlink and MAC table errors", errors, true),
#undef F
	};
	struct vqs_evpn_info in;
	unsigned int f, i;
	uint64_t v;

	for (f = 0; f < RTE_DIM(fams); f++) {
		family(b, fams[f].name, fams[f].type, fams[f].help);
		for (i = 0; vqs_evpn_info(i, &in); i++) {
			const char *at = (const char *)&in + fams[f].off;

			v = fams[f].wide ? *(const uint64_t *)at : *(const uint32_t *)at;
			vqs_buf_printf(b, "%s{port=\"", fams[f].name);
			label_value(b, in.port);
			vqs_buf_printf(b, "\",vni=\"%u\"} %" PRIu64 "\n", in.vni, v);
		}
	}
}

void
vqs_metrics_render(struct vqs_switch *sw, struct vqs_buf *b)
{
	family(b, "vqswitch_info", "gauge", "Always 1; the version in a label");
	vqs_buf_printf(b, "vqswitch_info{version=\"%s\"} 1\n", VQS_VERSION);
	family(b, "vqswitch_uptime_seconds", "gauge", "Seconds since the switch started");
	vqs_buf_printf(b, "vqswitch_uptime_seconds %" PRIu64 "\n",
		       (rte_get_tsc_cycles() - sw->start_tsc) / rte_get_tsc_hz());
	family(b, "vqswitch_mbufs", "gauge", "Packet buffers in the pool");
	vqs_buf_printf(b, "vqswitch_mbufs %u\n", sw->pool->size);
	family(b, "vqswitch_mbufs_in_use", "gauge", "Packet buffers in use");
	vqs_buf_printf(b, "vqswitch_mbufs_in_use %u\n", rte_mempool_in_use_count(sw->pool));
	ports(sw, b);
	rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
	vrings(sw, b);
	rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
	pmds(sw, b);
	fdbs(sw, b);
	evpn(b);
}
