/* SPDX-License-Identifier: BSD-3-Clause
 * A port's eventfds outside the library's own use of them: forced calls
 * (the watchdog's), calls counted per vring, and calls dropped on purpose
 * (debug/drop-calls). The library closes a vring's eventfd only around a
 * SET_VRING_KICK/CALL message (fd_gen odd, guard.c) or when the
 * device goes (destroy_device's grace period).
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <stddef.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

#include <rte_rcu_qsbr.h>

#include "internal.h"
#include "vqs_direct.h"
#include "vqs_switch.h"

int
vqs_vhost_vring_fd_dup(struct vqs_port *p, uint16_t q, bool kick)
{
	struct vqs_vhost_state *vh = &p->vhost;
	struct rte_vhost_vring vr;
	uint32_t gen = __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST);
	int lib_fd, fd;

	if ((gen & 1) || !__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    rte_vhost_get_vhost_vring(__atomic_load_n(&vh->vid, __ATOMIC_RELAXED), q, &vr) != 0)
		return -1;
	lib_fd = kick ? vr.kickfd : vr.callfd;
	if (lib_fd < 0)
		return -1;
	fd = fcntl(lib_fd, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0 && __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST) != gen) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int
vqs_vhost_force_call(struct vqs_port *p, uint16_t q)
{
	int guest = __atomic_load_n(&p->vhost.guest_callfd[q], __ATOMIC_RELAXED);
	int fd, rc;

	if (guest >= 0) /* past the decoy of debug/drop-calls */
		return eventfd_write(guest, 1) == 0 ? 0 : -errno;
	fd = vqs_vhost_vring_fd_dup(p, q, false);
	if (fd < 0)
		return -EAGAIN;
	rc = eventfd_write(fd, 1);
	close(fd);
	return rc == 0 ? 0 : -errno;
}

/*
 * librte_vhost writes the guest's kick suppression word without marking
 * it in the dirty log: split without EVENT_IDX the used ring's flags;
 * with it, avail_event after the used ring when kicks go on; packed, the
 * device event area (a packed ring's log address is that area: QEMU
 * gives its used_phys). Marked here, after the write.
 */
int
vqs_vhost_kicks(struct vqs_port *p, int vid, uint16_t q, bool on)
{
	struct rte_vhost_vring vr;
	uint64_t f;
	int rc;

	vqs_lib_enter(&p->vhost);
	rc = rte_vhost_enable_guest_notification(vid, q, on);
	vqs_lib_exit(&p->vhost);

	if (rc != 0 || rte_vhost_get_negotiated_features(vid, &f) != 0 || !((f >> VHOST_F_LOG_ALL) & 1))
		return rc;
	vqs_ring_log_enter(&p->vhost);
	if ((f >> VIRTIO_F_RING_PACKED) & 1)
		rte_vhost_log_used_vring(vid, q, 0, sizeof(struct vring_packed_desc_event));
	else if (!((f >> VIRTIO_RING_F_EVENT_IDX) & 1))
		rte_vhost_log_used_vring(vid, q, offsetof(struct vring_used, flags), sizeof(uint16_t));
	else if (on && rte_vhost_get_vhost_vring(vid, q, &vr) == 0)
		rte_vhost_log_used_vring(vid, q, offsetof(struct vring_used, ring) +
					 vr.size * sizeof(struct vring_used_elem), sizeof(uint16_t));
	vqs_ring_log_exit(&p->vhost);
	return rc;
}

/*
 * Fault injection (tests), made deterministic: the library's call eventfd
 * number of each vring is pointed at a decoy eventfd (dup2), so the calls
 * it raises reach no guest, and a PMD reads them off the decoy and counts
 * them (drop_call). Reading the guest's own eventfd instead would race
 * with the hypervisor's reader, which wins whenever the PMD is not
 * running. The guest's eventfd is kept in guest_callfd for the watchdog's
 * forced calls, and put back when the count is out (vqs_vhost_ctl_poll);
 * it is dropped when the guest replaces it or goes. Debug only: the
 * generation check narrows but does not close the window in which a
 * SET_VRING_CALL could close the number just before dup2.
 */
static void
decoy_install(struct vqs_port *p, int vid, uint16_t q)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint32_t gen = __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST);
	struct rte_vhost_vring vr;
	int guest, decoy;

	if ((gen & 1) || __atomic_load_n(&vh->guest_callfd[q], __ATOMIC_RELAXED) >= 0 ||
	    rte_vhost_get_vhost_vring(vid, q, &vr) != 0 || vr.callfd < 0)
		return;
	guest = fcntl(vr.callfd, F_DUPFD_CLOEXEC, 0);
	decoy = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (guest >= 0 && decoy >= 0 && __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST) == gen &&
	    dup2(decoy, vr.callfd) >= 0) {
		__atomic_store_n(&vh->guest_callfd[q], guest, __ATOMIC_RELAXED);
		guest = -1;
	}
	if (guest >= 0)
		close(guest);
	if (decoy >= 0)
		close(decoy);
}

/* restore: the device is still the one the decoy was installed on. */
void
vqs_vhost_decoy_remove(struct vqs_port *p, uint16_t q, bool restore)
{
	struct vqs_vhost_state *vh = &p->vhost;
	int guest = __atomic_exchange_n(&vh->guest_callfd[q], -1, __ATOMIC_RELAXED);
	uint32_t gen = __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST);
	struct rte_vhost_vring vr;

	if (guest < 0)
		return;
	if (restore && !(gen & 1) &&
	    rte_vhost_get_vhost_vring(__atomic_load_n(&vh->vid, __ATOMIC_RELAXED), q, &vr) == 0 &&
	    vr.callfd >= 0 && __atomic_load_n(&vh->fd_gen, __ATOMIC_SEQ_CST) == gen)
		dup2(guest, vr.callfd);
	close(guest);
}

void
vqs_vhost_drop_calls(struct vqs_port *p, uint32_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t q;

	__atomic_store_n(&vh->drop_calls, n, __ATOMIC_RELAXED);
	if (n == 0 || !__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return;
	for (q = 0; q < 2 * p->conf.queues; q++)
		decoy_install(p, __atomic_load_n(&vh->vid, __ATOMIC_RELAXED), q);
}

/* Since the last look. */
void
vqs_vhost_drop_call(struct vqs_port *p, uint16_t q)
{
	uint32_t left = __atomic_load_n(&p->vhost.drop_calls, __ATOMIC_RELAXED);
	eventfd_t v;
	int fd;

	if (__atomic_load_n(&p->vhost.guest_callfd[q], __ATOMIC_RELAXED) < 0)
		return; /* no decoy on this vring */
	fd = vqs_vhost_vring_fd_dup(p, q, false);
	if (fd < 0)
		return;
	if (eventfd_read(fd, &v) == 0 && v > 0)
		__atomic_store_n(&p->vhost.drop_calls, left - (uint32_t)RTE_MIN(v, left),
				 __ATOMIC_RELAXED);
	close(fd);
}

/*
 * Which counter the library's guest_notified callback adds to: the vring
 * this thread is about to hand to the library. The callback runs on the
 * thread that called enqueue or dequeue, right after its eventfd write
 * (vhost_vring_call_split/packed), and that is always a PMD, which sets
 * this before each call; other threads never set it. This replaces
 * librte_vhost's NET_STATS counters, which cost every burst a loop over
 * its frames in both directions.
 */
RTE_DEFINE_PER_LCORE(uint64_t *, vqs_notify_counter);

void
vqs_vhost_guest_notified(int vid __rte_unused)
{
	uint64_t *c = RTE_PER_LCORE(vqs_notify_counter);

	if (c != NULL)
		__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

void
vqs_vhost_decoys_restore(struct vqs_switch *sw, struct vqs_port *p)
{
	uint16_t q;

	for (q = 0; q < RTE_DIM(p->vhost.guest_callfd); q++)
		if (__atomic_load_n(&p->vhost.guest_callfd[q], __ATOMIC_RELAXED) >= 0)
			break;
	if (q == RTE_DIM(p->vhost.guest_callfd))
		return;
	rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
	for (q = 0; q < RTE_DIM(p->vhost.guest_callfd); q++)
		vqs_vhost_decoy_remove(p, q, __atomic_load_n(&p->vhost.ready, __ATOMIC_ACQUIRE));
	rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
}
