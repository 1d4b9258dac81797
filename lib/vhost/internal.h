/* SPDX-License-Identifier: BSD-3-Clause
 * What the parts of a vhost-user port share among themselves (not for the
 * rest of the switch, which uses vqs_vhost.h):
 *   port.c      lifecycle: sockets, connections, device callbacks
 *   lookup.c    the port of a vid, for the callbacks and the guard
 *   guard.c     the message guard: vhost-user messages checked,
 *               and the port paused, before librte_vhost acts
 *   notify.c    eventfds: forced calls, counted and dropped calls
 *   vring.c     what operators read of each vring
 *   datapath.c  frames in and out through librte_vhost
 */
#ifndef VQS_VHOST_INTERNAL_H
#define VQS_VHOST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_per_lcore.h>
#include <rte_vhost.h>

#include "vqs_vhost.h"

/* The switch the callbacks serve (vqs_vhost_init, lookup.c). */
extern struct vqs_switch *vqs_vhost_sw;

/* lookup.c: the port whose socket connection vid came to, whichever
 * connection it is (NULL: none); and the port whose one connection vid
 * is, NULL for any other vid (a refused second frontend on the same
 * socket changes nothing). */
struct vqs_port *vqs_vhost_port_of_socket(int vid);
struct vqs_port *vqs_vhost_port_of_vid(int vid);

/* guard.c: the message hooks on connection vid, before its first
 * message (new_connection), and a bound on how long one message may take
 * to arrive on it; 0 or -1. */
int vqs_vhost_guard_connection(int vid, const char *path, bool client);
/* Control thread: ends connection vid of the port on path (the library's
 * read sees its end, and destroy_device follows). */
void vqs_vhost_guard_close(int vid, const char *path, bool client);

/* datapath.c, --datapath=library: checks every vring of device vid
 * that the port polls, as it is now (rings inside guest memory at their
 * size, packed positions inside the ring), before the PMDs may hand it to
 * the library again. vhost-events thread, wherever ring_gen is bumped. */
void vqs_vhost_lib_check(struct vqs_port *p, int vid);

/* notify.c */
/* Drops vring q's debug/drop-calls decoy; restore: gives the vring's call
 * eventfd number back to the guest's eventfd. */
void vqs_vhost_decoy_remove(struct vqs_port *p, uint16_t q, bool restore);
/* Control thread: every decoy of p removed once debug/drop-calls ran out. */
void vqs_vhost_decoys_restore(struct vqs_switch *sw, struct vqs_port *p);
/* PMD: counts the calls the library raised on vring q's decoy. */
void vqs_vhost_drop_call(struct vqs_port *p, uint16_t q);
/* The device callback that counts guest notifications. */
void vqs_vhost_guest_notified(int vid);
/* The counter vqs_vhost_guest_notified adds to: a PMD sets it to the
 * vring it hands to the library next. */
RTE_DECLARE_PER_LCORE(uint64_t *, vqs_notify_counter);

/* Around every librte_vhost call that takes the device's vq locks
 * (rte_vhost_enqueue_burst, _dequeue_burst, _enable_guest_notification):
 * a message that pauses the port waits without a bound for a thread
 * outside such calls, and only so long for one inside (guard.c).
 * SEQ_CST: the count before the call's look at anything, paired with the
 * guard's ready store before its look at the count. */
static inline void
vqs_lib_enter(struct vqs_vhost_state *vh)
{
	__atomic_fetch_add(&vh->lib_inside, 1, __ATOMIC_SEQ_CST);
}

static inline void
vqs_lib_exit(struct vqs_vhost_state *vh)
{
	__atomic_fetch_sub(&vh->lib_inside, 1, __ATOMIC_RELEASE);
}

#endif
