/* SPDX-License-Identifier: BSD-3-Clause
 * vhost-user ports through librte_vhost: socket set-up, the device
 * lifecycle callbacks, and the data path.
 *
 * lib/vhost: this header is the folder's public contract, with peek.h,
 * the PMD's look at a guest TX vring, which it includes. Inside, as DPDK
 * splits socket.c / vhost_user.c / virtio_net.c: port.c (sockets,
 * connections, device callbacks), lookup.c (the port of a vid), guard.c
 * (vhost-user messages checked, and the port paused, before the library
 * acts), notify.c (eventfds outside the library's use), vring.c (what
 * operators read of a vring), datapath.c (frames through librte_vhost,
 * --datapath=library), peek.c, announce.c (the RARP after a live
 * migration), guest_fault.c (guest memory its frontend truncates) and
 * watchdog.c (interrupts a guest evidently missed); internal.h is what
 * they share. The folder uses the switch's port record and services
 * (vqs_switch.h) and the direct datapath's rings (vqs_direct.h), whose
 * state it sets up and hands back with each device.
 *
 * Threads (docs/architecture.md, "vhost lifecycle"):
 *  - librte_vhost runs the device callbacks and the message hooks on its
 *    vhost-events thread (a client port's connection: the thread that
 *    connects). They find their port by socket path under the switch's
 *    lock; the port stays valid after it is dropped, as it is freed only
 *    after rte_vhost_driver_unregister() returned, which waits for every
 *    callback on its socket.
 *  - vring_state_changed runs with every vq lock of the device held: it
 *    records and returns. Waiting for a PMD there could deadlock with a
 *    PMD spinning on one of those locks in rte_vhost_enqueue_burst.
 *  - new_device publishes the vid, then sets the port's 'ready' (release);
 *    a reader that sees ready (acquire) sees the vid. destroy_device
 *    clears ready and waits for an RCU grace period. Every PMD is an RCU
 *    reader, and so is the control thread or a telemetry client while it
 *    touches a vid: "RCU-online" below. After the grace period no thread
 *    is inside an API call on the vid, and the library may free it.
 *  - PMDs call vqs_vhost_rx and _tx, the peek (peek.h) and
 *    vqs_announce_take. vqs_vhost_kicks and vqs_vhost_vring_fd_dup (a
 *    PMD before it sleeps, the direct datapath for a call eventfd, the
 *    control thread) and the readouts (vqs_vhost_vring_info,
 *    vqs_vhost_vrings_count) run on any thread, RCU-online where they
 *    say so. The control thread calls the rest.
 *  - Lock order: a device's vq locks (librte_vhost's), then the switch's
 *    lock: vring_state_changed looks its port up under the switch's lock
 *    with every vq lock held, so nothing calls into librte_vhost with the
 *    switch's lock held. A port's kick_lock, only ever try-locked (a PMD
 *    arming kicks before it sleeps, the control thread turning them
 *    off), before the vq lock rte_vhost_enable_guest_notification takes.
 */
#ifndef VQS_VHOST_PORT_H
#define VQS_VHOST_PORT_H

#include <stdbool.h>
#include <sys/types.h>

#include "peek.h"
#include "port.h"

struct rte_mbuf;
struct rte_mempool;
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

/* PMD: the RARP frame of an announcement requested on p, taken (NULL if
 * none is, the device has not started yet, or no mbuf is left: then the
 * request stays). The request comes with SEND_RARP after a live
 * migration (announce.c). */
struct rte_mbuf *vqs_announce_take(struct vqs_port *p, struct rte_mempool *pool);

/* Guest memory that its frontend truncates under the switch (see
 * guest_fault.c): installs the SIGBUS handler (once, at start-up, before
 * any guest). */
int vqs_guest_fault_install(void);

/* The lost-interrupt watchdog: re-raises a guest interrupt on a vring
 * where the guest is waiting for one it evidently never got. Control
 * thread, once per watchdog period. */
void vqs_watchdog_check(struct vqs_switch *sw);

#endif
