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
 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>
#include <rte_vhost.h>

#include "paths.h"
#include "ratelimit.h"
#include "switch.h"
#include "vhost_port.h"

static struct vqs_switch *vh_sw;

/* Offloads make the guest hand us GSO frames and partial checksums that
 * an ethdev or a guest without them could not take: off, like OVS's
 * default (userspace-tso-enable=false). */
#define VQS_VHOST_OFFLOAD_FEATURES \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

void
vqs_vhost_init(struct vqs_switch *sw)
{
	vh_sw = sw;
}

/*
 * The port stays valid after the lock is dropped: a port is freed only
 * after rte_vhost_driver_unregister() returned, and that waits for every
 * callback running on the port's socket.
 */
static struct vqs_port *
port_of_socket(int vid)
{
	char path[VQS_PATH_MAX];
	struct vqs_port *found = NULL;
	uint16_t i;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return NULL;
	pthread_mutex_lock(&vh_sw->lock);
	for (i = 0; i < VQS_MAX_PORTS && found == NULL; i++) {
		struct vqs_port *p = vh_sw->ports[i];

		if (p != NULL && vqs_port_type_is_vhost(p->conf.type) &&
		    strcmp(p->conf.path, path) == 0)
			found = p;
	}
	pthread_mutex_unlock(&vh_sw->lock);
	return found;
}

/* The port whose one connection vid is; NULL for any other vid (a refused
 * second frontend on the same socket changes nothing). */
static struct vqs_port *
port_of_vid(int vid)
{
	struct vqs_port *p = port_of_socket(vid);

	return p != NULL && __atomic_load_n(&p->vhost.conn_vid, __ATOMIC_RELAXED) == vid ? p : NULL;
}

/*
 * A server socket accepts any number of frontends, and librte_vhost gives
 * each its own device; a second one (a guest's QEMU started twice, or
 * anything else that can reach the socket) must not overwrite the port's
 * device, nor take the port down when either leaves. So a port serves one
 * connection (conn_vid); every callback for another vid changes nothing.
 * One more may wait (wait_vid): a frontend that reconnects at once can be
 * accepted before the library has read the end of its old connection, and
 * it takes over when that one is closed. Beyond that, connections are
 * refused (the library closes them). Both are counted. These two run on
 * the vhost-events thread (server) or on the thread that connects (client
 * mode), with no vq lock held; conn_vid changes only here.
 */
static int
new_connection(int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p = port_of_socket(vid);
	struct vqs_vhost_state *vh;

	if (p == NULL)
		return -1;
	vh = &p->vhost;
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) < 0) {
		__atomic_store_n(&vh->conn_vid, vid, __ATOMIC_RELAXED);
		return 0;
	}
	if (__atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED) < 0) {
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

/* After destroy_device, if the device ran. */
static void
destroy_connection(int vid)
{
	struct vqs_port *p = port_of_socket(vid);
	struct vqs_vhost_state *vh;

	if (p == NULL)
		return;
	vh = &p->vhost;
	if (__atomic_load_n(&vh->conn_vid, __ATOMIC_RELAXED) == vid) {
		__atomic_store_n(&vh->conn_vid, __atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
		__atomic_store_n(&vh->wait_vid, -1, __ATOMIC_RELAXED);
	} else if (__atomic_load_n(&vh->wait_vid, __ATOMIC_RELAXED) == vid) {
		__atomic_store_n(&vh->wait_vid, -1, __ATOMIC_RELAXED);
	}
}

static const struct rte_vhost_user_extern_ops msg_hooks;
static void decoy_remove(struct vqs_port *p, uint16_t q, bool restore);

static int
new_device(int vid)
{
	struct vqs_port *p = port_of_vid(vid);
	struct vqs_vhost_state *vh;
	uint64_t features = 0;
	uint16_t nr;

	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;

	if (p == NULL)
		return -1;
	vh = &p->vhost;
	nr = rte_vhost_get_vring_num(vid);
	rte_vhost_get_negotiated_features(vid, &features);
	if (nr > 2 * p->conf.queues)
		VQS_LOG_RL(&rl, WARNING, "port %s: guest has %u queue pairs, only %u are polled",
			   p->conf.name, nr / 2, p->conf.queues);
	__atomic_store_n(&vh->vid, vid, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->fd_gen, 0, __ATOMIC_RELAXED);
	if (rte_vhost_extern_callback_register(vid, &msg_hooks, NULL) != 0)
		__atomic_store_n(&vh->fd_gen, 1, __ATOMIC_RELAXED); /* no eventfd use */
	memset(vh->wd, 0, sizeof(vh->wd));
	memset(vh->guest_notifications, 0, sizeof(vh->guest_notifications));
	__atomic_store_n(&vh->notify_setup_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->paused, 0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&vh->ring_gen, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->ready, 1, __ATOMIC_RELEASE); /* after vid, ring_gen */
	__atomic_fetch_add(&vh->connects, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, INFO, "port %s: guest connected (vid %d, %u vrings, features 0x%" PRIx64 ")",
		   p->conf.name, vid, nr, features);
	return 0;
}

static void
destroy_device(int vid)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p = port_of_vid(vid);
	struct vqs_vhost_state *vh;
	unsigned int q;

	if (p == NULL)
		return;
	vh = &p->vhost;
	__atomic_store_n(&vh->paused, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->ready, 0, __ATOMIC_RELEASE);
	/* Wait out every reader that may have seen ready == 1. */
	rte_rcu_qsbr_synchronize(vh_sw->qsv, RTE_QSBR_THRID_INVALID);
	for (q = 0; q < RTE_DIM(vh->vring_enabled); q++) {
		__atomic_store_n(&vh->vring_enabled[q], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&vh->kicks_off[q], 0, __ATOMIC_RELAXED);
		decoy_remove(p, q, false);
	}
	__atomic_fetch_add(&vh->disconnects, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, INFO, "port %s: guest disconnected (vid %d)", p->conf.name, vid);
}

/* All vq locks of the device are held: record and return, nothing more. */
static int
vring_state_changed(int vid, uint16_t queue_id, int enable)
{
	struct vqs_port *p = port_of_vid(vid);

	if (p == NULL || queue_id >= 2 * p->conf.queues)
		return 0;
	__atomic_fetch_add(&p->vhost.ring_gen, 1, __ATOMIC_RELAXED);
	/* Release: a PMD that sees the vring enabled sees the new ring_gen. */
	__atomic_store_n(&p->vhost.vring_enabled[queue_id], enable ? 1 : 0,
			 __ATOMIC_RELEASE);
	if (enable)
		__atomic_store_n(&p->vhost.notify_setup_pending, 1,
				 __ATOMIC_RELEASE);
	return 0;
}

/*
 * Messages that re-map guest memory or re-shape a ring while the device
 * runs. librte_vhost 22.11 handles them with every vq lock held, but some
 * fail half way and leave the rings pointing at unmapped memory (a
 * SET_MEM_TABLE whose region cannot be mapped frees the old ones first)
 * or at a bad size (SET_VRING_NUM stores the size before checking it).
 * The connection then closes, but a PMD polling in between would crash
 * the switch. So: values the library would only refuse too late are
 * refused here, by making the message fail the library's first check
 * (which also closes its descriptors); and for the others the port is
 * paused ('ready' cleared, readers waited for) until the post hook says
 * the message succeeded. A failed one leaves the port paused until
 * destroy_device, which follows at once. The wait is bounded: a reader
 * blocked inside the library on a vq lock this message holds (a PMD in
 * rte_vhost_enqueue_burst, the control thread turning kicks off) only
 * gets on after it, and touches the rings then. That is safe if the
 * message succeeds; a new memory table could fail after the old one is
 * gone, so it is refused then (the guest must reconnect). The bound is
 * short: a PMD spinning on that lock forwards nothing meanwhile, and
 * PMDs pass a quiescent state every few microseconds otherwise.
 */
#define VHOST_USER_SET_FEATURES 2
#define VHOST_USER_SET_MEM_TABLE 5
#define VHOST_USER_SET_VRING_NUM 8
#define VHOST_USER_SET_VRING_ADDR 9
#define VHOST_USER_SET_VRING_BASE 10
#define VHOST_MAX_REGIONS 8
#define MAX_REGION_END (1ULL << 47) /* no larger mapping can succeed */
#define PAUSE_WAIT_US 2000

struct msg_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};

struct msg_head {
	uint32_t request, flags, size;
	union {
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t nregions, padding;
			struct msg_region regions[VHOST_MAX_REGIONS];
		} mem;
	};
} __attribute__((packed));

static bool
region_ok(const struct msg_region *r)
{
	return r->memory_size != 0 && r->memory_size <= MAX_REGION_END &&
	       r->mmap_offset <= MAX_REGION_END - r->memory_size &&
	       r->guest_phys_addr <= UINT64_MAX - r->memory_size &&
	       r->userspace_addr <= UINT64_MAX - r->memory_size;
}

/* false, with *bad set, for a table the library would find it cannot
 * map only after freeing the old one: no region, or region *bad. More
 * regions than allowed pass: the library refuses that before anything. */
static bool
mem_table_ok(const struct msg_head *m, uint32_t *bad)
{
	uint32_t n = m->mem.nregions;

	if (n > VHOST_MAX_REGIONS)
		return true;
	for (*bad = 0; *bad < n; (*bad)++) {
		struct msg_region r;

		memcpy(&r, &m->mem.regions[*bad], sizeof(r));
		if (!region_ok(&r))
			return false;
	}
	return n > 0;
}

/* Makes a SET_MEM_TABLE fail the library's first check: more regions
 * than allowed. It then also closes the descriptors that came with it. */
static void
poison_mem_table(struct msg_head *m)
{
	m->mem.nregions = VHOST_MAX_REGIONS + 1;
}

static bool
vring_num_ok(uint32_t n)
{
	return n != 0 && n <= 32768 && (n & (n - 1)) == 0;
}

/* false if some reader could not be waited for (see above) */
static bool
pause_port(struct vqs_port *p)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint64_t token, deadline;
	int done;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return true;
	__atomic_store_n(&vh->paused, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&vh->ready, 0, __ATOMIC_SEQ_CST);
	/* Bounded: a PMD spinning in rte_vhost_enqueue_burst on a vq lock
	 * that this very message holds never gets quiescent until we return. */
	token = rte_rcu_qsbr_start(vh_sw->qsv);
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000000 * PAUSE_WAIT_US;
	while ((done = rte_rcu_qsbr_check(vh_sw->qsv, token, false)) == 0 &&
	       rte_get_timer_cycles() < deadline)
		rte_delay_us_sleep(10);
	return done != 0;
}

/*
 * The library closes a vring's kick or call eventfd only while it handles
 * SET_VRING_KICK or SET_VRING_CALL (or when the device goes, which
 * destroy_device's grace period covers). These hooks run around every
 * message, on the vhost-events thread, so fd_gen is odd exactly while such
 * a message is in hand; if the handler fails, no post hook runs and it
 * stays odd, which only stops forced calls and kick wake-ups until the
 * guest reconnects.
 */
#define VHOST_USER_SET_VRING_KICK 12
#define VHOST_USER_SET_VRING_CALL 13

static bool
closes_fd(uint32_t request)
{
	return request == VHOST_USER_SET_VRING_KICK || request == VHOST_USER_SET_VRING_CALL;
}

static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p = port_of_vid(vid);
	struct msg_head *m = msg;
	uint32_t bad;

	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	switch (m->request) {
	case VHOST_USER_SET_VRING_CALL:
		/* The library closes the number a decoy may hold: the guest's
		 * eventfd it stood for is no longer the vring's. */
		if ((m->state.index & 0xff) < 2 * VQS_VHOST_MAX_QP)
			decoy_remove(p, m->state.index & 0xff, false);
		/* fall through */
	case VHOST_USER_SET_VRING_KICK:
		__atomic_fetch_add(&p->vhost.fd_gen, 1, __ATOMIC_SEQ_CST);
		break;
	case VHOST_USER_SET_MEM_TABLE:
		if (!mem_table_ok(m, &bad)) {
			VQS_LOG_RL(&rl, WARNING, "port %s: guest sent a memory table with a bad region %u: refused",
				   p->conf.name, bad);
			poison_mem_table(m);
		} else if (!pause_port(p)) {
			VQS_LOG_RL(&rl, WARNING, "port %s: memory table change refused: a thread was inside librte_vhost on this guest's rings; the guest must reconnect",
				   p->conf.name);
			poison_mem_table(m);
		}
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (!vring_num_ok(m->state.num)) {
			VQS_LOG_RL(&rl, WARNING, "port %s: guest asked for a vring of %u entries: refused",
				   p->conf.name, m->state.num);
			m->state.num = 32769; /* refused before it is stored */
			break;
		}
		/* fall through */
	case VHOST_USER_SET_VRING_ADDR:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_SET_FEATURES:
		pause_port(p);
		break;
	default:
		break;
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vqs_port *p = port_of_vid(vid);

	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (closes_fd(*(const uint32_t *)msg) &&
	    __atomic_load_n(&p->vhost.fd_gen, __ATOMIC_RELAXED) & 1)
		__atomic_fetch_add(&p->vhost.fd_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->vhost.paused, __ATOMIC_RELAXED)) {
		/* the rings are consistent again, maybe elsewhere: the PMDs
		 * take their pointers again (vring_peek.h) */
		__atomic_store_n(&p->vhost.paused, 0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->vhost.ring_gen, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&p->vhost.ready, 1, __ATOMIC_RELEASE);
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops msg_hooks = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

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

/* restore: give the vring's number back to the guest's eventfd (the
 * device is still the one the decoy was installed on). */
static void
decoy_remove(struct vqs_port *p, uint16_t q, bool restore)
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

/* PMD: counts what the library raised on the decoy since the last look. */
static void
drop_call(struct vqs_port *p, uint16_t q)
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
static RTE_DEFINE_PER_LCORE(uint64_t *, notify_counter);

static void
guest_notified(int vid __rte_unused)
{
	uint64_t *c = RTE_PER_LCORE(notify_counter);

	if (c != NULL)
		__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = new_device,
	.guest_notified = guest_notified,
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
	/* No RTE_VHOST_USER_NET_STATS_ENABLE: we count frames ourselves, and
	 * guest notifications through guest_notified. */
	if (rte_vhost_driver_register(path, client ? RTE_VHOST_USER_CLIENT : 0) != 0) {
		snprintf(err, len, "cannot register vhost-user socket %s", path);
		return -EINVAL;
	}
	if (rte_vhost_driver_disable_features(path, disable) != 0 ||
	    rte_vhost_driver_callback_register(path, &vhost_ops) != 0 ||
	    rte_vhost_driver_start(path) != 0) {
		rte_vhost_driver_unregister(path);
		snprintf(err, len, "cannot start vhost-user socket %s", path);
		return -EINVAL;
	}
	/* The umask made it 0660 when it was bound; only the group is ours
	 * to set, and never through a link. */
	if (!client && (rc = vqs_socket_chown(path, gid, err, len)) != 0) {
		rte_vhost_driver_unregister(path);
		return rc;
	}
	VQS_LOG(INFO, "port %s: vhost-user %s %s", p->conf.name,
		client ? "client of" : "server socket", path);
	return 0;
}

void
vqs_vhost_port_stop(struct vqs_port *p)
{
	rte_vhost_driver_unregister(p->conf.path);
	if (p->conf.type == VQS_PORT_VHOST)
		unlink(p->conf.path);
}

/* debug/drop-calls ran out: the guest's eventfds get their numbers back. */
static void
decoys_restore(struct vqs_switch *sw, struct vqs_port *p)
{
	uint16_t q;

	for (q = 0; q < RTE_DIM(p->vhost.guest_callfd); q++)
		if (__atomic_load_n(&p->vhost.guest_callfd[q], __ATOMIC_RELAXED) >= 0)
			break;
	if (q == RTE_DIM(p->vhost.guest_callfd))
		return;
	rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
	for (q = 0; q < RTE_DIM(p->vhost.guest_callfd); q++)
		decoy_remove(p, q, __atomic_load_n(&p->vhost.ready, __ATOMIC_ACQUIRE));
	rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
}

void
vqs_vhost_ctl_poll(struct vqs_switch *sw)
{
	uint16_t i, q;

	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct vqs_port *p = sw->ports[i];
		struct vqs_vhost_state *vh;
		bool again = false;
		int vid;

		if (p == NULL || !vqs_port_type_is_vhost(p->conf.type))
			continue;
		vh = &p->vhost;
		if (__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) == 0)
			decoys_restore(sw, p);
		if (!__atomic_exchange_n(&vh->notify_setup_pending, 0,
					 __ATOMIC_ACQ_REL))
			continue;
		/* Online: destroy_device waits for us before the vid goes. */
		rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
		if (__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE)) {
			vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
			for (q = 0; q < 2 * p->conf.queues; q++) {
				if (!__atomic_load_n(&vh->vring_enabled[q],
						     __ATOMIC_ACQUIRE) ||
				    __atomic_load_n(&vh->kicks_off[q],
						    __ATOMIC_RELAXED))
					continue;
				if (rte_vhost_enable_guest_notification(vid, q, 0) == 0)
					__atomic_store_n(&vh->kicks_off[q], 1,
							 __ATOMIC_RELAXED);
				else
					again = true;
			}
		}
		rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
		if (again)
			__atomic_store_n(&vh->notify_setup_pending, 1,
					 __ATOMIC_RELEASE);
	}
}

static void
vring_read(const struct vqs_port *p, int vid, uint64_t features, uint16_t q,
	   struct vqs_vring_info *vi)
{
	struct rte_vhost_vring vr;
	uint16_t last_used;

	if (rte_vhost_get_vhost_vring(vid, q, &vr) != 0)
		return;
	vi->size = vr.size;
	vi->packed = (features >> VIRTIO_F_RING_PACKED) & 1;
	vi->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
	vi->guest_notifications = __atomic_load_n(&p->vhost.guest_notifications[q],
						  __ATOMIC_RELAXED);
	if (vi->packed || vr.avail == NULL || vr.used == NULL)
		return;
	/* Guest memory, read as the guest may be writing it: a snapshot. */
	vi->avail_idx = __atomic_load_n(&vr.avail->idx, __ATOMIC_ACQUIRE);
	vi->no_interrupt = __atomic_load_n(&vr.avail->flags, __ATOMIC_RELAXED) &
			   VRING_AVAIL_F_NO_INTERRUPT;
	if (vi->event_idx)
		vi->used_event = __atomic_load_n(&vr.avail->ring[vr.size], __ATOMIC_RELAXED);
	vi->used_idx = __atomic_load_n(&vr.used->idx, __ATOMIC_ACQUIRE);
	if (rte_vhost_get_vring_base(vid, q, &vi->last_avail_idx, &last_used) == 0)
		vi->inflight = (uint16_t)(vi->avail_idx - vi->last_avail_idx);
}

unsigned int
vqs_vhost_vring_info(struct vqs_port *p, struct vqs_vring_info *info, unsigned int max)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint64_t features = 0;
	unsigned int q, n = 0;
	int vid;

	if (__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE)) {
		vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
		rte_vhost_get_negotiated_features(vid, &features);
		for (q = 0; q < rte_vhost_get_vring_num(vid) && q < 2u * p->conf.queues &&
			    n < max; q++, n++) {
			struct vqs_vring_info *vi = &info[n];

			memset(vi, 0, sizeof(*vi));
			vi->id = (uint16_t)q;
			vi->enabled = __atomic_load_n(&vh->vring_enabled[q], __ATOMIC_ACQUIRE);
			vi->kicks_off = __atomic_load_n(&vh->kicks_off[q], __ATOMIC_RELAXED);
			if (vi->enabled)
				vring_read(p, vid, features, (uint16_t)q, vi);
		}
	}
	return n;
}

unsigned int
vqs_vhost_vrings_count(const struct vqs_port *p, unsigned int *kicks_off)
{
	const struct vqs_vhost_state *vh = &p->vhost;
	unsigned int q, enabled = 0;

	*kicks_off = 0;
	for (q = 0; q < 2u * p->conf.queues; q++) {
		enabled += __atomic_load_n(&vh->vring_enabled[q], __ATOMIC_RELAXED);
		*kicks_off += __atomic_load_n(&vh->kicks_off[q], __ATOMIC_RELAXED);
	}
	return enabled;
}

uint16_t
vqs_vhost_rx(struct vqs_port *p, uint16_t q, struct rte_mempool *pool,
	     struct rte_mbuf **pkts, uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * q + 1; /* guest TX */

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE))
		return 0;
	/* The library notifies the guest of the freed TX descriptors. */
	RTE_PER_LCORE(notify_counter) = &vh->guest_notifications[vq];
	n = rte_vhost_dequeue_burst(__atomic_load_n(&vh->vid, __ATOMIC_RELAXED),
				    vq, pool, pkts, n);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && n > 0)
		drop_call(p, vq);
	return n;
}

int
vqs_vhost_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	     uint16_t n)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint16_t vq = 2 * (pmd_id % p->conf.queues); /* guest RX */
	uint16_t sent = 0, k;
	unsigned int retries = 0;
	int vid;

	if (!__atomic_load_n(&vh->ready, __ATOMIC_ACQUIRE))
		return -1;
	if (!__atomic_load_n(&vh->vring_enabled[vq], __ATOMIC_ACQUIRE)) {
		vq = 0;
		if (!__atomic_load_n(&vh->vring_enabled[0], __ATOMIC_ACQUIRE))
			return -1;
	}
	vid = __atomic_load_n(&vh->vid, __ATOMIC_RELAXED);
	/*
	 * Each call that fills descriptors publishes the used ring and lets
	 * the library decide whether to interrupt the guest. Retry while the
	 * guest keeps freeing buffers, like OVS's tx-retries.
	 */
	RTE_PER_LCORE(notify_counter) = &vh->guest_notifications[vq];
	do {
		k = rte_vhost_enqueue_burst(vid, vq, pkts + sent, n - sent);
		sent += k;
	} while (sent < n && k > 0 && retries++ < VQS_TX_RETRIES);
	if (unlikely(__atomic_load_n(&vh->drop_calls, __ATOMIC_RELAXED) != 0) && sent > 0)
		drop_call(p, vq);
	return sent;
}
