/* SPDX-License-Identifier: BSD-3-Clause
 * The switch: bridges, ports, PMDs, and the learning bridge that moves one
 * received burst to its destinations.
 */
#ifndef VQS_SWITCH_H
#define VQS_SWITCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "vqs_model.h"
#include "dp.h"
#include "fdb.h"
#include "port.h"
#include "vqs.h"

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
