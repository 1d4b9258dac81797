/* SPDX-License-Identifier: BSD-3-Clause
 * PMD lcores: each busy-polls the RX queues assigned to it.
 */
#ifndef VQS_PMD_H
#define VQS_PMD_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "port.h"
#include "vqs.h"

struct vqs_switch;

/* Frames of one pass bound for one port (switch.c, out_add). */
struct vqs_out {
	uint16_t n;
	struct rte_mbuf *pkts[VQS_OUT_MAX];
	uint8_t rmt1[VQS_OUT_MAX]; /* tunnel ports: to which remote + 1; 0 all */
};

/* Written by the PMD only (relaxed); see vqs_count(). */
struct vqs_pmd_stats {
	uint64_t busy_cycles;  /* passes that received at least one frame */
	uint64_t idle_cycles;  /* passes that received none */
	uint64_t rx_packets;
	uint64_t rx_batches;   /* non-empty RX bursts */
	uint64_t sleeps;       /* times it slept waiting for a kick */
};

/* A queue a sleeping PMD asked to be woken by: which one, and the eventfd
 * it waits on (its own duplicate). Kept by slot and uid, not by pointer:
 * the port may be gone when the PMD wakes. */
struct vqs_pmd_wake_src {
	uint16_t slot;
	uint16_t qid;
	uint64_t uid;
	int vid;       /* vhost: the device it was; -1 for an ethdev */
	int fd;        /* -1: none (queue cannot wake the PMD) */
};

struct vqs_pmd {
	struct vqs_switch *sw;
	unsigned int lcore;
	uint16_t id; /* also its RCU thread id and its TX queue */
	uint32_t passes; /* counts passes, for the full poll's period */
	int wake_fd;   /* eventfd: the control thread wakes a sleeping PMD */
	int epoll_fd;  /* the PMD's own: wake_fd, and while it sleeps the
			* duplicates in wake_src */
	uint16_t n_wake_src;
	struct vqs_pmd_wake_src wake_src[VQS_MAX_PORTS * VQS_VHOST_MAX_QP];
	struct vqs_pmd_stats stats;
	struct vqs_pmd_stats base; /* control thread: values at the last clear */
	/* Per-pass scratch: which port slots got frames, and the frames. */
	uint16_t n_touched;
	uint16_t touched[VQS_MAX_PORTS];
	struct vqs_out out[VQS_MAX_PORTS];
};

/* One PMD per worker lcore. */
int vqs_pmds_create(struct vqs_switch *sw);
void vqs_pmds_free(struct vqs_switch *sw);
/* Control thread: chooses a PMD for each RX queue of a new port (its
 * pmd-rxq-affinity, else the PMD with the fewest queues). Takes effect
 * with the next vqs_dp_publish(). */
int vqs_pmds_assign_port(struct vqs_switch *sw, struct vqs_port *p,
			 const struct vqs_port_conf *pc, struct vqs_err *e);
/* Any thread: counters since the last clear. Control thread: clear. */
void vqs_pmd_stats_read(const struct vqs_pmd *pmd, struct vqs_pmd_stats *out);
void vqs_pmd_stats_clear(struct vqs_pmd *pmd);

/* RX queues placed on a PMD (control thread, or with sw->lock held). */
unsigned int vqs_pmd_rxq_count(const struct vqs_switch *sw, uint16_t pmd);

/* The PMD on an lcore, or -1. */
int vqs_pmd_of_lcore(const struct vqs_switch *sw, unsigned int lcore);
/* Control thread: after a change a sleeping PMD must see (new snapshot,
 * stop), it is woken. */
void vqs_pmds_wake(struct vqs_switch *sw);

/* Launches every PMD; vqs_pmds_stop() sets the stop flag and joins them. */
int vqs_pmds_launch(struct vqs_switch *sw);
void vqs_pmds_stop(struct vqs_switch *sw);

#endif
