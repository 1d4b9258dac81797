/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>

#include "stats.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

static void
add_u64(struct vqs_fields *o, const char *key, uint64_t v)
{
	struct vqs_field *f = &o->f[o->n++];

	snprintf(f->key, sizeof(f->key), "%s", key);
	f->is_str = false;
	f->is_text = false;
	f->u = v;
}

/* A ratio with two decimals, kept as text: telemetry in DPDK 22.11 has no
 * floating-point values. The JSON rendering writes it unquoted, a number. */
static void
add_ratio(struct vqs_fields *o, const char *key, uint64_t num, uint64_t den)
{
	struct vqs_field *f = &o->f[o->n++];
	uint64_t x = den != 0 ? num * 100 / den : 0;

	snprintf(f->key, sizeof(f->key), "%s", key);
	f->is_str = true;
	f->is_text = false;
	snprintf(f->s, sizeof(f->s), "%" PRIu64 ".%02" PRIu64, x / 100, x % 100);
}

/* Offloads (VQS_OL_*) as "csum,tso4,tso6", or "none". */
static void
add_offloads(struct vqs_fields *o, const char *key, uint8_t ol)
{
	struct vqs_field *f = &o->f[o->n++];

	snprintf(f->key, sizeof(f->key), "%s", key);
	f->is_str = true;
	f->is_text = true;
	snprintf(f->s, sizeof(f->s), "%s%s%s%s", ol == 0 ? "none" : "",
		 ol & VQS_OL_CSUM ? "csum" : "", ol & VQS_OL_TSO4 ? ",tso4" : "",
		 ol & VQS_OL_TSO6 ? ",tso6" : "");
}

void
vqs_stats_port(const struct vqs_port *p, uint16_t n_pmds, struct vqs_fields *o)
{
	struct vqs_port_stats st;
	char key[32];
	unsigned int r;

	vqs_port_stats_sum(p, n_pmds, &st);
	o->n = 0;
	add_u64(o, "rx_packets", st.rx_packets);
	add_u64(o, "rx_bytes", st.rx_bytes);
	add_u64(o, "tx_packets", st.tx_packets);
	add_u64(o, "tx_bytes", st.tx_bytes);
	for (r = 0; r < VQS_DROP_MAX; r++) {
		snprintf(key, sizeof(key), "drop_%s", vqs_drop_names[r]);
		add_u64(o, key, st.drops[r]);
	}
	add_u64(o, "fdb_full", st.fdb_full);
	add_u64(o, "rx_missed", vqs_port_rx_missed(p));
	add_u64(o, "watchdog_kicks", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.watchdog_kicks, __ATOMIC_RELAXED) : 0);
	add_u64(o, "rx_stalls", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.rx_stalls, __ATOMIC_RELAXED) : 0);
	add_u64(o, "rings_refused", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.rings_refused, __ATOMIC_RELAXED) : 0);
	add_u64(o, "memory_faults", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.memory_faults, __ATOMIC_RELAXED) : 0);
	add_u64(o, "connections_refused", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.conn_refused, __ATOMIC_RELAXED) : 0);
	add_u64(o, "connections_waited", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.conn_extra, __ATOMIC_RELAXED) : 0);
	add_u64(o, "sw_csum", st.sw_csum);
	add_u64(o, "sw_gso", st.sw_gso);
	add_offloads(o, "offloads_from_guest", vqs_port_type_is_vhost(p->conf.type) ?
		     __atomic_load_n(&p->vhost.ol_host, __ATOMIC_RELAXED) : 0);
	add_offloads(o, "offloads_taken", vqs_port_offload_caps(p));
	add_u64(o, "offloads_kept", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.ol_kept, __ATOMIC_RELAXED) : 0);
	add_u64(o, "announcements", vqs_port_type_is_vhost(p->conf.type) ?
		__atomic_load_n(&p->vhost.announced, __ATOMIC_RELAXED) : 0);
}

void
vqs_stats_pmd(const struct vqs_pmd *pmd, unsigned int n_rxq, struct vqs_fields *o)
{
	struct vqs_pmd_stats st;

	vqs_pmd_stats_read(pmd, &st);
	o->n = 0;
	add_u64(o, "lcore", pmd->lcore);
	add_u64(o, "rxqs", n_rxq);
	add_u64(o, "busy_cycles", st.busy_cycles);
	add_u64(o, "idle_cycles", st.idle_cycles);
	add_ratio(o, "busy_pct", st.busy_cycles * 100, st.busy_cycles + st.idle_cycles);
	add_u64(o, "rx_packets", st.rx_packets);
	add_u64(o, "rx_batches", st.rx_batches);
	add_ratio(o, "avg_batch", st.rx_packets, st.rx_batches);
	add_u64(o, "cycles_per_packet", st.rx_packets ? st.busy_cycles / st.rx_packets : 0);
	add_u64(o, "sleeps", st.sleeps);
	add_u64(o, "tsc_hz", rte_get_tsc_hz());
}

void
vqs_stats_vring(const struct vqs_vring_info *vi, struct vqs_fields *o)
{
	o->n = 0;
	add_u64(o, "vring", vi->id);
	add_u64(o, "enabled", vi->enabled);
	add_u64(o, "kicks_off", vi->kicks_off);
	add_u64(o, "packed", vi->packed);
	add_u64(o, "size", vi->size);
	add_u64(o, "avail_idx", vi->avail_idx);
	add_u64(o, "last_avail_idx", vi->last_avail_idx);
	add_u64(o, "used_idx", vi->used_idx);
	add_u64(o, "inflight", vi->inflight);
	add_u64(o, "event_idx", vi->event_idx);
	add_u64(o, "used_event", vi->used_event);
	add_u64(o, "no_interrupt", vi->no_interrupt);
	add_u64(o, "guest_notifications", vi->guest_notifications);
}
