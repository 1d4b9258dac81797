/* SPDX-License-Identifier: BSD-3-Clause
 * The switch: bridges, ports, PMDs, and the learning bridge that moves one
 * received burst to its destinations.
 *
 * lib/switch: this header is the folder's public contract, with the
 * headers beside it that it includes: port.h (a port at run time, its
 * device state and counters, and the dispatch to its type), pmd.h (the
 * PMD threads and their loop), dp.h (the datapath snapshot the PMDs
 * read), fdb.h (a bridge's MAC table), tunnel.h and neigh.h (VXLAN ports
 * and their next hops), eth_port.h (ethdev ports) and offload.h (the
 * offloads a guest's frame asks for). Inside: switch.c (the learning
 * bridge and VLANs for one burst), frame.h (what the bridge does with a
 * frame) and offload_sw.c (offloads done in software).
 *
 * The switch uses base and the model, and the two kinds of guest port it
 * dispatches to: lib/vhost (vqs_vhost.h) and lib/direct (vqs_direct.h).
 * Those use the port record, the mbuf pool, the RCU variable and
 * vqs_pmds_wake from here: the three folders are the datapath, each
 * reached through its public header alone, and none calls the control
 * plane (lib/ctl, lib/observe), which drives them through these headers.
 *
 * Threads (docs/architecture.md):
 *  - The control thread alone changes the switch: bridges, ports, the
 *    PMDs' RX queues. Other threads that read ports or bridges (telemetry
 *    clients, librte_vhost's callbacks) take sw->lock, which the control
 *    thread holds only while it changes the tables, never while it waits.
 *  - PMDs read only the published datapath snapshot (sw->dp, dp.h):
 *    immutable, published with one atomic store; the control thread then
 *    waits for an RCU grace period (sw->qsv) before it frees the old one,
 *    or a port, an FDB position or a vhost device the old one named. A
 *    PMD reports a quiescent state after every pass and holds nothing of
 *    one pass into the next.
 *  - RCU readers: each PMD (its id), the control thread while it touches
 *    a vhost device (ctl_thread_id), telemetry clients (tel_thread_id,
 *    one client at a time under tel_lock).
 *  - A PMD never takes sw->lock and never blocks (but idle, with
 *    --pmd-sleep, on its own eventfds, RCU-offline). Locks it can meet:
 *    a vhost virtqueue lock inside rte_vhost_enqueue_burst (vqs_vhost.h),
 *    the rte_hash writer lock while it adds an address (the control
 *    thread holds it for one delete at a time), a shared ethdev TX
 *    queue's spinlock and a guest RX vring's (other PMDs, one burst).
 *  - Lock order, outermost first: tel_lock, then sw->lock; librte_vhost's
 *    vq locks come before sw->lock (vqs_vhost.h). Spinlocks are innermost,
 *    held for one burst or one call.
 *  - Counters are per PMD, each written by its PMD alone (vqs_count,
 *    vqs.h); any thread sums them, the control thread clears them by
 *    moving a baseline.
 */
#ifndef VQS_SWITCH_H
#define VQS_SWITCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "dp.h"
#include "eth_port.h"
#include "fdb.h"
#include "neigh.h"
#include "offload.h"
#include "pmd.h"
#include "port.h"
#include "tunnel.h"
#include "vqs.h"
#include "vqs_model.h"

struct vqs_pmd;

struct vqs_bridge {
	char name[VQS_NAME_MAX];
	struct vqs_fdb *fdb;
	uint64_t mac_aging_tsc;
};

/*
 * Owned by the control thread, which alone changes it. Other threads that
 * read ports or bridges (telemetry clients, librte_vhost's callbacks) take
 * 'lock'; the control thread holds it only while it changes the tables,
 * never while it waits. PMDs read only the published dp.
 */
struct vqs_switch {
	struct vqs_conf *conf;       /* the model: what the operator asked for */
	pthread_mutex_t lock;
	struct vqs_bridge *bridges[VQS_MAX_BRIDGES];
	uint16_t n_bridges;
	struct vqs_port *ports[VQS_MAX_PORTS]; /* by slot; NULL: free */
	struct vqs_dp *dp;           /* published, atomic pointer */
	struct vqs_neigh_table *neigh; /* tunnels' next hops (neigh.h) */
	struct vqs_pmd *pmds[VQS_MAX_PMDS];
	uint16_t n_pmds;
	unsigned int ctl_thread_id;  /* RCU id of the control thread */
	unsigned int tel_thread_id;  /* RCU id shared by telemetry clients */
	pthread_mutex_t tel_lock;    /* one telemetry client at a time uses it */
	struct rte_rcu_qsbr *qsv;    /* readers: PMDs, control, telemetry */
	struct rte_mempool *pool;
	uint32_t max_frame_len;      /* set before the PMDs start */
	char socket_dir[VQS_PATH_MAX];
	gid_t socket_gid;
	uint64_t start_tsc;
	uint64_t pmd_sleep_tsc;      /* atomic: idle this long, then sleep; 0 never */
	/* atomic: every this many passes (a power of two) a PMD polls every
	 * queue without peeking first; 0 never (debug/full-poll, for tests
	 * of the peek itself). VQS_FULL_POLL_PASSES unless changed. */
	uint32_t full_poll_passes;
	bool stop;                   /* atomic: PMDs leave their loop */
	/* Control thread only. */
	char unsaved[256];           /* why the last state save failed; "" saved */
	uint16_t n_port_errors;      /* configured ports that could not start */
	struct vqs_port_error {
		char name[VQS_NAME_MAX];
		char error[256];
	} port_errors[VQS_MAX_PORTS];
	bool debug_commands;         /* --enable-debug-commands */
	bool direct;                 /* --datapath=direct (vqs_direct.h) */
	uint32_t debug_fail_publish; /* debug/fail-publish: snapshots still to fail */
};

/* Learns and looks up one burst received on the port in 'slot' (now: the
 * pass's TSC, for the MAC table's ages) and queues its frames on the
 * PMD's output; vqs_switch_flush() sends them, once per pass. */
void vqs_switch_burst(const struct vqs_dp *dp, struct vqs_pmd *pmd,
		      uint16_t slot, struct rte_mbuf **pkts, uint16_t n, uint64_t now);
void vqs_switch_flush(const struct vqs_dp *dp, struct vqs_pmd *pmd);

/* Control thread, or with sw->lock held. */
struct vqs_port *vqs_switch_port(const struct vqs_switch *sw, const char *name);
struct vqs_bridge *vqs_switch_bridge(const struct vqs_switch *sw, const char *name);
int vqs_switch_bridge_index(const struct vqs_switch *sw, const char *name);

#endif
