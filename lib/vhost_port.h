/* SPDX-License-Identifier: BSD-3-Clause
 * vhost-user ports through librte_vhost: socket set-up, the device
 * lifecycle callbacks, and the data path.
 */
#ifndef VQS_VHOST_PORT_H
#define VQS_VHOST_PORT_H

#include <stdbool.h>
#include <sys/types.h>

#include "port.h"

struct vqs_switch;

/* Once, before any vhost port starts: the callbacks find ports here. */
void vqs_vhost_init(struct vqs_switch *sw);

/* Creates the server socket (owner root, group gid, mode 0660). */
int vqs_vhost_port_start(struct vqs_port *p, gid_t gid, char *err, size_t len);
/* Unregisters the socket; returns once destroy_device has run. */
void vqs_vhost_port_stop(struct vqs_port *p);

/* Control thread, periodically: finishes what the callbacks may not do
 * themselves (turning guest kicks off on newly enabled vrings). */
void vqs_vhost_ctl_poll(struct vqs_switch *sw);

/* What the host sees of one vring, for operators. */
struct vqs_vring_info {
	uint16_t id;              /* even: guest RX, odd: guest TX */
	bool enabled;             /* by the guest */
	bool kicks_off;           /* we told the guest not to kick */
	bool packed;              /* packed ring: the index fields are 0, but
				   * for a ring of the direct datapath */
	bool direct;              /* positions are the direct datapath's */
	bool event_idx;           /* EVENT_IDX negotiated */
	bool no_interrupt;        /* guest set VRING_AVAIL_F_NO_INTERRUPT
				   * (packed: its event flags say DISABLE) */
	bool event_desc;          /* packed: its event flags say DESC */
	uint16_t size;
	uint16_t avail_idx;       /* guest's avail->idx (packed: 0) */
	uint16_t used_idx;        /* used->idx, as published (packed: the
				   * next used slot | wrap << 15) */
	uint16_t last_avail_idx;  /* host: next avail entry it will take */
	uint16_t used_event;      /* guest's used_event (EVENT_IDX, or
				   * used_hint; packed: its event off_wrap) */
	bool used_hint;           /* split without EVENT_IDX, direct: used_event
				   * read anyway (Linux writes the entry it
				   * consumed up to whenever it enables
				   * interrupts) */
	uint16_t inflight;        /* made available, not yet taken (packed:
				   * chains) */
	uint64_t guest_notifications; /* calls raised (librte_vhost stats) */
};

/*
 * Fills info for up to max vrings of a connected guest; returns how many,
 * 0 if no guest is connected. It touches the device: the caller must be
 * an online RCU reader (destroy_device and port deletion wait for it).
 * Takes each vq's lock: for people and low-rate polls, not the fast path.
 */
unsigned int vqs_vhost_vring_info(struct vqs_port *p, struct vqs_vring_info *info,
				  unsigned int max);

/*
 * A duplicate of vring q's kick (kick) or call eventfd, owned by the
 * caller, or -1 (no guest, or the library is replacing that eventfd just
 * now). Ours stays the same eventfd even if the library closes its own
 * right after; the generation check proves that what was duplicated was
 * still the library's eventfd and not a number another file took after a
 * close. Caller RCU-online.
 */
int vqs_vhost_vring_fd_dup(struct vqs_port *p, uint16_t q, bool kick);

/*
 * Interrupts the guest on vring q whatever its suppression says (the
 * watchdog's re-raise). Caller RCU-online. Returns 0, or -EAGAIN when the
 * call eventfd is being replaced (try at the next check).
 */
int vqs_vhost_force_call(struct vqs_port *p, uint16_t q);
/* rte_vhost_enable_guest_notification(vid, q, on) for p's device vid;
 * what the library wrote into guest memory for it (which it does not
 * mark) marked in the dirty log while the guest migrates. */
int vqs_vhost_kicks(struct vqs_port *p, int vid, uint16_t q, bool on);

/*
 * Fault injection (debug/drop-calls): swallow the next n interrupts the
 * library raises towards the guest; the watchdog's forced calls still get
 * through. Control thread, RCU-online.
 */
void vqs_vhost_drop_calls(struct vqs_port *p, uint32_t n);

/* Vrings the guest enabled; *kicks_off: on how many kicks are off. */
unsigned int vqs_vhost_vrings_count(const struct vqs_port *p,
				    unsigned int *kicks_off);

/* Fast path: q is the queue pair. tx returns frames sent, or -1 if the
 * guest cannot receive (not connected, vring disabled). Neither frees.
 * rx drops (and counts) frames whose offloads are refused (offload.h);
 * a GSO frame's segments may be max_frame bytes long. */
uint16_t vqs_vhost_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, uint32_t max_frame,
		      struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n);
int vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
		 uint16_t n);

#endif
