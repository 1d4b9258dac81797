/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Lifecycle. librte_vhost calls us from its single vhost-events thread:
 *  - vring_state_changed(vid, q, on) runs with every virtqueue lock of the
 *    device held. It records the state and returns: waiting for a PMD here
 *    could deadlock with a PMD spinning on one of those locks inside
 *    rte_vhost_enqueue_burst(), and so could any API that takes a vq lock.
 *    It can fire before new_device (first queue pair) and is the only
 *    announcement of further queue pairs.
 *  - new_device(vid) publishes vid, then sets 'ready' (release), so a PMD
 *    that sees ready (acquire) sees the vid.
 *  - destroy_device(vid) clears 'ready' and then waits for an RCU grace
 *    period: every PMD, and the control thread while it touches a vid, is
 *    an RCU reader that reports quiescent only between bursts. After the
 *    grace period no thread can be inside an API call on this vid, so the
 *    library may free the device when we return.
 *
 * Notifications. Guest->host kicks are turned off on every vring we use
 * (we poll). rte_vhost_enable_guest_notification() takes the vq lock and
 * fails until the ring is accessible, so it cannot run in the callbacks;
 * the callbacks raise notify_setup_pending and the control thread retries
 * until it succeeds. Host->guest interrupts are raised by the library inside
 * every enqueue/dequeue call that used descriptors: see docs/notifications.md.
 *
 * The other parts of a port: internal.h.
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_rcu_qsbr.h>
#include <rte_vhost.h>

#include "announce.h"
#include "guest_fault.h"
#include "internal.h"
#include "paths.h"
#include "ratelimit.h"
#include "vqs_direct.h"
#include "vqs_switch.h"

/* Offloads never offered: UFO, ECN and the legacy GSO bit (offload.h);
 * checksum and TSO only where the port's offloads= says (offload.h). */
#define VQS_VHOST_OFFLOAD_FEATURES \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO) | \
	 (1ULL << VIRTIO_NET_F_GSO))

/*
 * A server socket accepts any number of frontends, and librte_vhost gives
 * each its own device; a second one (a guest's QEMU started twice, or
 * anything else that can reach the socket) must not overwrite the port's
 * device, nor take the port down when either leaves. So a port serves one
 * connection (conn_vid); every callback for another vid changes nothing.
 * One more may wait (wait_vid): a frontend that reconnects at once can be
 * accepted before the library has read the end of its old connection, and
 * it takes over when that one is closed, with what the library announced
 * of its device meanwhile (started, vrings enabled: each said once, and
 * lost, a guest that reconnected at once had no RX vring). Beyond that, connections are
 * refused (the library closes them). Both are counted. These two run on
 * the vhost-events thread (server) or on the thread that connects (client
 * mode), with no vq lock held; conn_vid changes only here.
 */
static int
new_connection(int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);
	struct vqs_vhost_state *vh;

	if (p == NULL)
		return -1;
	vh = &p->vhost;
	/* Every connection's messages are checked, from the first on. */
	if (vqs_vhost_guard_connection(vid, p->conf.path, p->conf.type == VQS_PORT_VHOST_CLIENT) != 0)
		return -1;
	/* A connection before may have been let keep offloads the port no
	 * longer offers (guard.c, offload_fallback): not this one. */
	if (__atomic_exchange_n(&vh->ol_fallback, 0, __ATOMIC_RELAXED))
		rte_vhost_driver_disable_features(p->conf.path, VQS_OL_FEATURES);
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) < 0) {
		__atomic_store_n(&vh->conn_vid, vid, __ATOMIC_RELAXED);
		return 0;
	}
	if (__atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED) < 0) {
		__atomic_store_n(&vh->wait_started, 0, __ATOMIC_RELAXED);
		memset(vh->wait_enabled, 0, sizeof(vh->wait_enabled));
		__atomic_store_n(&vh->wait_vid, vid, __ATOMIC_RELAXED);
		__atomic_fetch_add(&vh->conn_extra, 1, __ATOMIC_RELAXED);
		VQS_LOG_RL(&rl, WARNING, "port %s: a second vhost-user connection: ignored while the first lasts",
			   p->conf.name);
		return 0;
	}
	__atomic_fetch_add(&vh->conn_refused, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, WARNING, "port %s: a third vhost-user connection: refused", p->conf.name);
	return -1;
}

static void start_device(struct vqs_port *p, int vid);

/* After destroy_device, if the device ran. */
static void
destroy_connection(int vid)
{
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);
	struct vqs_vhost_state *vh;
	int next;
	uint16_t q;

	if (p == NULL) {
		vqs_guest_fault_forget(vid);
		return;
	}
	vh = &p->vhost;
	/* A SET_LOG_BASE that failed on a device that never ran (the
	 * others: destroy_device). */
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) == vid)
		vqs_ring_log_swap_end(vh);
	/* A running device's memory stays watched until destroy_device has
	 * waited out the PMDs (the library calls it after this). */
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) != vid ||
	    !__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		vqs_guest_fault_forget(vid);
	next = __atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED);
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) == vid) {
		__atomic_store_n(&vh->conn_vid, next, __ATOMIC_RELAXED);
		__atomic_store_n(&vh->wait_vid, -1, __ATOMIC_RELAXED);
		/* The old device is gone (destroy_device waited out every
		 * reader): the waiting one's enabled vrings and start now. */
		if (next >= 0) {
			for (q = 0; q < RTE_DIM(vh->vring_enabled); q++)
				__atomic_store_n(&vh->vring_enabled[q], vh->wait_enabled[q],
						 __ATOMIC_RELEASE);
			if (__atomic_load_n(&vh->wait_started, __ATOMIC_RELAXED))
				start_device(p, next);
		}
	} else if (next == vid) {
		__atomic_store_n(&vh->wait_vid, -1, __ATOMIC_RELAXED);
	}
}

static int
new_device(int vid)
{
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);

	if (p == NULL)
		return -1;
	if (__atomic_load_n(&p->vhost.conn_vid, __ATOMIC_RELAXED) == vid) {
		start_device(p, vid);
		return 0;
	}
	if (__atomic_load_n(&p->vhost.wait_vid, __ATOMIC_RELAXED) == vid) {
		/* Running for the library; ours when it takes over. */
		__atomic_store_n(&p->vhost.wait_started, 1, __ATOMIC_RELAXED);
		return 0;
	}
	return -1;
}

/* Device vid (the port's connection) serves the port from now on. */
static void
start_device(struct vqs_port *p, int vid)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint64_t features = 0;
	uint16_t nr;

	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;

	nr = rte_vhost_get_vring_num(vid);
	rte_vhost_get_negotiated_features(vid, &features);
	if (nr > 2 * p->conf.queues)
		VQS_LOG_RL(&rl, WARNING, "port %s: guest has %u queue pairs, only %u are polled",
			   p->conf.name, nr / 2, p->conf.queues);
	__atomic_store_n(&vh->vid, vid, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->fd_gen, 0, __ATOMIC_RELAXED);
	memset(vh->wd, 0, sizeof(vh->wd));
	memset(vh->guest_notifications, 0, sizeof(vh->guest_notifications));
	__atomic_store_n(&vh->notify_setup_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->paused, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->log_swap, 0, __ATOMIC_RELAXED);
	/* The library's datapath says a partial checksum with mbuf offload
	 * flags, which only name TCP and UDP headers (vqs_offload_to_mbuf). */
	__atomic_store_n(&vh->ol_host, vqs_offload_host(features), __ATOMIC_RELAXED);
	__atomic_store_n(&vh->ol_guest, vqs_offload_guest(features) &
			 (vh->direct != NULL ? VQS_OL_ALL : (uint8_t)~VQS_OL_CSUM_ANY), __ATOMIC_RELAXED);
	__atomic_fetch_add(&vh->base_gen, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vh->ring_gen, 1, __ATOMIC_RELAXED);
	vqs_vhost_lib_check(p, vid);
	vqs_guest_fault_watch(vid);
	/* after vid, ring_gen, base_gen, the library's rings checked */
	__atomic_store_n(&vh->ready, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&vh->connects, 1, __ATOMIC_RELAXED);
	vqs_pmds_wake(vqs_vhost_sw); /* a sleeping PMD polls it at once */
	VQS_LOG_RL(&rl, INFO, "port %s: guest connected (vid %d, %u vrings, features 0x%" PRIx64 ")",
		   p->conf.name, vid, nr, features);
}

static void
destroy_device(int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);
	struct vqs_vhost_state *vh;
	unsigned int q;

	if (p == NULL)
		return;
	vh = &p->vhost;
	if (__atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED) == vid) {
		/* Stopped while it waited (GET_VRING_BASE, RESET_OWNER): it
		 * takes over as a device not started, its rings the library's
		 * to announce again. */
		__atomic_store_n(&vh->wait_started, 0, __ATOMIC_RELAXED);
		memset(vh->wait_enabled, 0, sizeof(vh->wait_enabled));
		return;
	}
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) != vid)
		return;
	__atomic_store_n(&vh->paused, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->ready, 0, __ATOMIC_RELEASE);
	vqs_announce_forget(p);
	/* A SET_LOG_BASE that failed: its marks wait no more (the library
	 * unmaps the log only after this returns). */
	vqs_ring_log_swap_end(vh);
	/* Wait out every reader that may have seen ready == 1. */
	rte_rcu_qsbr_synchronize(vqs_vhost_sw->qsv, RTE_QSBR_THRID_INVALID);
	vqs_guest_fault_forget(vid); /* watched again if it starts again */
	/* Before the library answers GET_VRING_BASE: our positions. */
	vqs_direct_save(p, vid);
	for (q = 0; q < RTE_DIM(vh->vring_enabled); q++) {
		__atomic_store_n(&vh->vring_enabled[q], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&vh->kicks_off[q], 0, __ATOMIC_RELAXED);
		vqs_vhost_decoy_remove(p, q, false);
	}
	__atomic_fetch_add(&vh->disconnects, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, INFO, "port %s: guest disconnected (vid %d)", p->conf.name, vid);
}

/* All vq locks of the device are held: record and return, nothing more. */
static int
vring_state_changed(int vid, uint16_t queue_id, int enable)
{
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);

	if (p == NULL || queue_id >= 2 * p->conf.queues)
		return 0;
	if (__atomic_load_n(&p->vhost.wait_vid, __ATOMIC_RELAXED) == vid) {
		p->vhost.wait_enabled[queue_id] = enable ? 1 : 0;
		return 0;
	}
	if (__atomic_load_n(&p->vhost.conn_vid, __ATOMIC_RELAXED) != vid)
		return 0;
	__atomic_fetch_add(&p->vhost.ring_gen, 1, __ATOMIC_RELAXED);
	/* SET_VRING_KICK translates a ring (again) before it announces it. */
	vqs_vhost_lib_check(p, vid);
	/* Release: a PMD that sees the vring enabled sees the new ring_gen. */
	__atomic_store_n(&p->vhost.vring_enabled[queue_id], enable ? 1 : 0,
			 __ATOMIC_RELEASE);
	if (enable) {
		__atomic_store_n(&p->vhost.notify_setup_pending, 1,
				 __ATOMIC_RELEASE);
		vqs_pmds_wake(vqs_vhost_sw); /* a new vring for a sleeping PMD */
	}
	return 0;
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = new_device,
	.guest_notified = vqs_vhost_guest_notified,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
	.new_connection = new_connection,
	.destroy_connection = destroy_connection,
};

int
vqs_vhost_port_start(struct vqs_port *p, gid_t gid, char *err, size_t len)
{
	const char *path = p->conf.path;
	bool client = p->conf.type == VQS_PORT_VHOST_CLIENT;
	uint64_t disable = VQS_VHOST_OFFLOAD_FEATURES;
	uint16_t q;
	int rc;

	memset(&p->vhost, 0, sizeof(p->vhost));
	p->vhost.ol_keep = p->conf.offloads_kept;
	p->vhost.vid = -1;
	p->vhost.conn_vid = -1;
	p->vhost.wait_vid = -1;
	for (q = 0; q < RTE_DIM(p->vhost.guest_callfd); q++)
		p->vhost.guest_callfd[q] = -1;
	p->n_rxq = p->conf.queues;
	/* A socket left by a previous run makes bind() fail; one that some
	 * process still listens on is not ours to take. In client mode the
	 * socket is the peer's (QEMU's): the library connects to it and, when
	 * the peer goes away, retries every second until it is back. */
	if (!client) {
		rc = vqs_socket_clear_stale(path, err, len);
		if (rc != 0)
			return rc;
	}
	if (p->conf.queues == 1)
		disable |= 1ULL << VIRTIO_NET_F_MQ;
	if (vqs_conf_offloads(vqs_vhost_sw->conf, &p->conf))
		disable &= ~VQS_OL_FEATURES;
	/* Dirty-page logging (VHOST_F_LOG_ALL) is offered on both
	 * datapaths: the direct one logs its own writes (direct/ring_log.c). */
	if (vqs_vhost_sw->direct && vqs_direct_port_init(p) != 0) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	/* No RTE_VHOST_USER_NET_STATS_ENABLE: we count frames ourselves, and
	 * guest notifications through guest_notified. */
	if (rte_vhost_driver_register(path, client ? RTE_VHOST_USER_CLIENT : 0) != 0) {
		snprintf(err, len, "cannot register vhost-user socket %s", path);
		rc = -EINVAL;
		goto out;
	}
	if (rte_vhost_driver_disable_features(path, disable) != 0 ||
	    rte_vhost_driver_callback_register(path, &vhost_ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		rte_vhost_driver_unregister(path);
		snprintf(err, len, "cannot start vhost-user socket %s", path);
		rc = -EINVAL;
		goto out;
	}
	/* The umask made it 0660 when it was bound; only the group is ours
	 * to set, and never through a link. */
	if (!client && (rc = vqs_socket_chown(path, gid, err, len)) != 0) {
		rte_vhost_driver_unregister(path);
		goto out;
	}
	VQS_LOG(INFO, "port %s: vhost-user %s %s%s", p->conf.name,
		client ? "client of" : "server socket", path,
		p->vhost.direct != NULL ? " (direct datapath)" : "");
	return 0;
out:
	vqs_direct_port_free(p);
	return rc;
}

void
vqs_vhost_port_stop(struct vqs_port *p)
{
	rte_vhost_driver_unregister(p->conf.path);
	if (p->conf.type == VQS_PORT_VHOST)
		unlink(p->conf.path);
	/* After the last callback, out of every snapshot: no PMD reads it. */
	vqs_direct_port_free(p);
}

/* Guest kicks turned off on every enabled vring of the connected guest
 * that has them on, but for those a sleeping PMD armed; true if some must
 * be tried again. Control thread, RCU-online. */
static bool
kicks_off(struct vqs_port *p)
{
	struct vqs_vhost_state *vh = &p->vhost;
	int vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	bool again = false;
	uint16_t q;

	if (!rte_spinlock_trylock(&vh->kick_lock))
		return true; /* a PMD is arming: later */
	for (q = 0; q < 2 * p->conf.queues; q++) {
		if (!__atomic_load_n(&vh->vring_enabled[q], __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&vh->kicks_off[q], __ATOMIC_RELAXED) ||
		    __atomic_load_n(&vh->kicks_armed[q], __ATOMIC_RELAXED))
			continue;
		if (vqs_vhost_kicks(p, vid, q, false) == 0)
			__atomic_store_n(&vh->kicks_off[q], 1, __ATOMIC_RELAXED);
		else
			again = true;
	}
	rte_spinlock_unlock(&vh->kick_lock);
	return again;
}

/* A frontend truncated the guest memory it gave (guest_fault.c): the
 * switch read zeros where the guest's memory was; its connection ends. */
static void
guest_memory_faults(struct vqs_port *p)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	int vid = __atomic_load_n(&p->vhost.conn_vid, __ATOMIC_RELAXED);

	if (vid < 0 || !vqs_guest_fault_take(vid))
		return;
	__atomic_fetch_add(&p->vhost.memory_faults, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, WARNING, "port %s: its frontend shrank the guest memory it gave (SIGBUS on vid %d): connection ended",
		   p->conf.name, vid);
	vqs_vhost_guard_close(vid, p->conf.path, p->conf.type == VQS_PORT_VHOST_CLIENT);
}

void
vqs_vhost_ctl_poll(struct vqs_switch *sw)
{
	uint16_t i;

	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct vqs_port *p = sw->ports[i];
		struct vqs_vhost_state *vh;
		bool again = false;

		if (p == NULL || !vqs_port_type_is_vhost(p->conf.type))
			continue;
		vh = &p->vhost;
		if (__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) == 0)
			vqs_vhost_decoys_restore(sw, p);
		guest_memory_faults(p);
		/* Online: destroy_device waits for us before the vid goes. */
		rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
		if (vh->direct != NULL && __atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
			vqs_direct_flush_calls(p);
		if (!__atomic_exchange_n(&vh->notify_setup_pending, 0, __ATOMIC_ACQ_REL)) {
			rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
			continue;
		}
		/* A device starting (pending raised before ready) or paused:
		 * its set-up waits for it, else it would be lost, and the
		 * guest would kick the switch on every frame for good. */
		again = !__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) || kicks_off(p);
		rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
		if (again)
			__atomic_store_n(&vh->notify_setup_pending, 1,
					 __ATOMIC_RELEASE);
	}
}

