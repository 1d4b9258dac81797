/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The message guard. Messages that re-map guest memory or re-shape a ring while the device
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
 * destroy_device, which follows at once. The wait is bounded while a
 * reader is inside a library call that takes the device's vq locks
 * (lib_inside): blocked on a lock this message holds (a PMD in
 * rte_vhost_enqueue_burst, the control thread turning kicks off), it only
 * gets on after the message, and touches the rings then, before the post
 * hook could stop it. Without such a thread every reader is waited for;
 * with one, the wait ends for all (the RCU check is global). So when a
 * reader could not be waited for, a message
 * that would leave a ring unusable is refused (the guest must
 * reconnect): a new memory table (it could fail after the old one is
 * gone), a new size for a mapped ring, a packed position past the ring.
 * The bound is short: a PMD spinning on that lock forwards nothing
 * meanwhile.
 *
 * Postcopy live migration is never offered (no VHOST_USER_PROTOCOL_F_
 * PAGEFAULT), but librte_vhost 22.11 obeys POSTCOPY_LISTEN anyway: the
 * next memory table is registered with a userfaultfd, after the library
 * blocked the vhost-events thread waiting for the frontend's
 * acknowledgement. A PMD touching a page the guest never wrote would then
 * wait for a fault nobody serves, for good. So every memory table after a
 * LISTEN (until POSTCOPY_END) is refused, on every connection, from the
 * first message on (the hooks are registered when the connection comes).
 * The switch also cannot open a userfaultfd at all (syscall_filter.c), so
 * POSTCOPY_ADVISE fails in the library.
 *
 * A message that pauses the port or replaces an eventfd and then fails
 * must end the connection, as it does without REPLY_ACK: the port stays
 * paused (or its fd_gen odd) otherwise, and a guest whose QEMU only logs
 * the failed ack loses its network silently. So the pre hook takes
 * NEED_REPLY off such a message and the post hook, which runs only when
 * the message succeeded, puts it back for the library's ack: a failure
 * then closes the connection, and destroy_device follows at once.
 *
 * librte_vhost reads a message's header and then its payload with
 * blocking reads on its one vhost-events thread: a frontend that sends a
 * header and never the payload would stop every guest's control messages.
 * Each connection gets a receive and a send timeout (MSG_TIMEOUT_MS); a
 * read or write that times out fails, and the library closes that
 * connection only.
 */
#define _GNU_SOURCE /* dup3 */
#define VQS_LOG_MODULE VQS_LOG_VHOST

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "announce.h"
#include "guest_fault.h"
#include "internal.h"
#include "ratelimit.h"
#include "vqs_direct.h"
#include "vqs_switch.h"

#define VHOST_USER_SET_FEATURES 2
#define VHOST_USER_SET_MEM_TABLE 5
#define VHOST_USER_SET_LOG_BASE 6
#define VHOST_USER_SET_VRING_NUM 8
#define VHOST_USER_SET_VRING_ADDR 9
#define VHOST_USER_SET_VRING_BASE 10
#define VHOST_USER_SEND_RARP 19
#define VHOST_USER_POSTCOPY_LISTEN 29
#define VHOST_USER_POSTCOPY_END 30
#define VHOST_USER_NEED_REPLY (1u << 3)
#define VHOST_MAX_REGIONS 8
#define MAX_REGION_END (1ULL << 47) /* no larger mapping can succeed */
#define PAUSE_WAIT_US 2000

struct msg_region {
	uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
};

/* The hooks get librte_vhost 22.11's message context (struct
 * vhu_msg_context in its vhost_user.h, which says that external handlers
 * rely on it): the message, VhostUserMsg of VHU_MSG_SIZE bytes, then the
 * descriptors that came with it. */
#define VHU_MSG_SIZE 644
struct msg_fds {
	int fds[VHOST_MAX_REGIONS];
	int fd_num;
} __attribute__((packed));

static struct msg_fds *
fds_of(void *msg)
{
	return (struct msg_fds *)((char *)msg + VHU_MSG_SIZE);
}

struct msg_head {
	uint32_t request, flags, size;
	union {
		uint64_t u64;
		struct {
			uint32_t index, num;
		} state;
		struct {
			uint32_t nregions, padding;
			struct msg_region regions[VHOST_MAX_REGIONS];
		} mem;
		struct {
			uint64_t mmap_size, mmap_offset;
		} log;
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

/* A power of 2 from 2 to 32768. One slot is refused too: librte_vhost
 * 22.11 dequeues a frame more than asked for when it injects a RARP into
 * a call for one frame (virtio_dev_tx_packed's loop runs once for 0). */
static bool
vring_num_ok(uint32_t n)
{
	return n >= 2 && n <= 32768 && (n & (n - 1)) == 0;
}

/* A packed ring needs VERSION_1 (virtio 1.1, 2.7): its header is always
 * the 12-byte one. librte_vhost takes packed without it, with a 10-byte
 * header: refused, so that no ring's header length is in doubt. */
static bool
features_ok(uint64_t f)
{
	return !((f >> VIRTIO_F_RING_PACKED) & 1) || ((f >> VIRTIO_F_VERSION_1) & 1);
}

/* TSO needs the checksum offload (virtio 1.2, 5.1.3.1: HOST_TSO4/6
 * require CSUM, GUEST_TSO4/6 GUEST_CSUM). librte_vhost takes TSO alone,
 * and then parses a guest's GSO headers that the switch, which goes by
 * CSUM (offload.h), would not check: refused. */
static bool
offloads_ok(uint64_t f)
{
	const uint64_t host_tso = (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6),
		       guest_tso = (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6);

	return (!(f & host_tso) || ((f >> VIRTIO_NET_F_CSUM) & 1)) &&
	       (!(f & guest_tso) || ((f >> VIRTIO_NET_F_GUEST_CSUM) & 1));
}

/* Whether a SET_VRING_NUM or SET_VRING_BASE leaves its vring, if the
 * library has it mapped, one a reader already inside the library can go
 * on with: the same size (the library reallocates its shadow rings at a
 * new one, and the reader may hold more frames than that: lib_burst),
 * packed positions inside the ring. Runs with every vq lock held
 * (nothing called here takes one). */
static bool
ring_msg_safe(int vid, const struct msg_head *m)
{
	struct rte_vhost_vring vr;
	uint64_t features;

	if (m->state.index > UINT16_MAX ||
	    rte_vhost_get_vhost_vring(vid, (uint16_t)m->state.index, &vr) != 0 || vr.desc == NULL)
		return true; /* not mapped: nobody reads it */
	if (m->request == VHOST_USER_SET_VRING_NUM)
		return m->state.num == vr.size;
	if (rte_vhost_get_negotiated_features(vid, &features) != 0)
		return false;
	return !((features >> VIRTIO_F_RING_PACKED) & 1) || (m->state.num & VQS_PACKED_IDX) < vr.size;
}

/*
 * A dirty log the library would map wrongly: it maps mmap_size bytes from
 * mmap_offset of the file and then adds mmap_offset to the mapping's
 * address again (22.11's vhost_user_set_log_base), so with any offset
 * but 0 the marks of the pages near guest memory's end land past the
 * mapping, in whatever the switch has there. QEMU always sends 0 (the log
 * is a file of its own). Refused by the library's first check of the
 * values, which also closes the descriptor.
 */
static bool
log_base_ok(const struct msg_head *m)
{
	return m->size == sizeof(m->log) && m->log.mmap_offset == 0;
}

static void
poison_log_base(struct msg_head *m)
{
	m->log.mmap_offset = UINT64_MAX; /* "log offset and log size overflow" */
	if (m->log.mmap_size == 0)
		m->log.mmap_size = 1;
}

/* A feature the switch never offers: the library refuses a SET_FEATURES
 * that asks for it before it changes anything. */
#define UNOFFERED_FEATURE (1ULL << VIRTIO_NET_F_GSO)

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
	/* Bounded where it must be: a PMD spinning in rte_vhost_enqueue_burst
	 * on a vq lock that this very message holds never gets quiescent
	 * until we return, so past the bound the wait ends while a thread is
	 * inside such a call on this device. The RCU check is global: the
	 * wait then ends for every reader, one in the middle of a burst of
	 * the direct datapath too (it returns false; the caller decides). Without such
	 * a thread every reader gets quiescent (a descheduled one later),
	 * and is waited for. */
	token = rte_rcu_qsbr_start(vqs_vhost_sw->qsv);
	deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000000 * PAUSE_WAIT_US;
	while ((done = rte_rcu_qsbr_check(vqs_vhost_sw->qsv, token, false)) == 0 &&
	       (rte_get_timer_cycles() < deadline || __atomic_load_n(&vh->lib_inside, __ATOMIC_SEQ_CST) == 0))
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

/* Per vid, vhost-events thread only (and new_connection before the
 * connection's first message): a POSTCOPY_LISTEN is in force; the message
 * in hand had NEED_REPLY, taken off until it succeeded. */
static bool postcopy_listening[RTE_MAX_VHOST_DEVICE];
static bool reply_held[RTE_MAX_VHOST_DEVICE];

/* Messages that pause the port or replace an eventfd. */
static bool
must_succeed(uint32_t request)
{
	switch (request) {
	case VHOST_USER_SET_MEM_TABLE:
	case VHOST_USER_SET_LOG_BASE:
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_ADDR:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
		return true;
	default:
		return false;
	}
}

/* false: the message is a memory table that must be refused */
static bool
postcopy_guard(int vid, struct msg_head *m)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return true;
	if (m->request == VHOST_USER_POSTCOPY_LISTEN)
		postcopy_listening[vid] = true;
	else if (m->request == VHOST_USER_POSTCOPY_END)
		postcopy_listening[vid] = false;
	else if (m->request == VHOST_USER_SET_MEM_TABLE && postcopy_listening[vid]) {
		VQS_LOG_RL(&rl, WARNING, "vhost-user connection %d: memory table after POSTCOPY_LISTEN (postcopy is not offered): refused",
			   vid);
		return false;
	}
	return true;
}

/* A SET_VRING_NUM or SET_VRING_BASE that would leave its ring unusable
 * while a PMD waits inside librte_vhost for the vq lock this message
 * holds: that PMD would go on with the new size or position as soon as
 * the message is done, before the post hook could stop it. Failed: the
 * connection ends (NEED_REPLY is off), and destroy_device waits for the
 * PMD, which then found the ring as it was. */
static enum rte_vhost_msg_result
refuse_with_reader_inside(struct vqs_port *p, const struct msg_head *m)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;

	__atomic_fetch_add(&p->vhost.rings_refused, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, WARNING, "port %s: vring %u: %s %u while a PMD was inside librte_vhost on it: refused, the guest must reconnect",
		   p->conf.name, m->state.index,
		   m->request == VHOST_USER_SET_VRING_NUM ? "new size" : "position past the ring",
		   m->state.num);
	return RTE_VHOST_MSG_RESULT_ERR;
}

/* Closes the descriptors that came with a message the library never
 * sees (a message the hook answers itself). */
static void
close_fds(void *msg)
{
	struct msg_fds *f = fds_of(msg);
	int i, n = f->fd_num;

	for (i = 0; i < n && i < VHOST_MAX_REGIONS; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	f->fd_num = 0;
}

/*
 * The log's file can never be shorter than the mapping: sealed against
 * shrinking, as QEMU's is (a memfd with F_SEAL_GROW | F_SEAL_SHRINK |
 * F_SEAL_SEAL), and long enough now. Otherwise the frontend could
 * truncate it under the switch, and a mark would fault: guest_fault.c
 * repairs faults in guest memory a page at a time, which a log on
 * hugetlbfs has no such page of. No descriptor, or more than one: the
 * library refuses it.
 */
static bool
log_fd_ok(void *msg, const struct msg_head *m)
{
	const struct msg_fds *f = fds_of(msg);
	struct stat st;
	int seals;

	if (f->fd_num != 1)
		return true;
	seals = fcntl(f->fds[0], F_GET_SEALS);
	return seals >= 0 && (seals & F_SEAL_SHRINK) && fstat(f->fds[0], &st) == 0 &&
	       (uint64_t)st.st_size >= m->log.mmap_size;
}

/*
 * Values the library would only refuse too late, or not at all, refused
 * on every connection, the port's or one waiting for the port (which
 * takes over with what it set up): the message is made to fail the
 * library's first check, which closes its descriptors too, and, with
 * its NEED_REPLY taken off, ends the connection. false if refused.
 */
static bool
values_ok(int vid, const struct vqs_port *p, void *msg)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct msg_head *m = msg;
	char who[48], why[96];
	uint32_t bad;

	switch (m->request) {
	case VHOST_USER_SET_MEM_TABLE:
		if (mem_table_ok(m, &bad))
			return true;
		snprintf(why, sizeof(why), "a memory table with a bad region %u", bad);
		poison_mem_table(m);
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (vring_num_ok(m->state.num))
			return true;
		snprintf(why, sizeof(why), "a vring of %u entries", m->state.num);
		m->state.num = 32769; /* refused before it is stored */
		break;
	case VHOST_USER_SET_FEATURES:
		if (features_ok(m->u64) && offloads_ok(m->u64))
			return true;
		snprintf(why, sizeof(why), "%s", features_ok(m->u64) ? "TSO without checksum offload" :
									"packed rings without VERSION_1");
		m->u64 |= UNOFFERED_FEATURE;
		break;
	case VHOST_USER_SET_LOG_BASE:
		if (!log_base_ok(m))
			snprintf(why, sizeof(why), "a dirty log at offset %" PRIu64 " (size %u)",
				 m->size >= sizeof(m->log) ? m->log.mmap_offset : 0, m->size);
		else if (!log_fd_ok(msg, m))
			snprintf(why, sizeof(why), "a dirty log in a file not sealed against shrinking, or shorter than the log");
		else
			return true;
		poison_log_base(m);
		break;
	default:
		return true;
	}
	m->flags &= ~VHOST_USER_NEED_REPLY;
	if (p != NULL)
		snprintf(who, sizeof(who), "port %s", p->conf.name);
	else
		snprintf(who, sizeof(who), "vhost-user connection %d", vid);
	VQS_LOG_RL(&rl, WARNING, "%s: guest sent %s: refused", who, why);
	return false;
}

/* On SET_FEATURES: offloads the guest's frontend asks for that the port
 * no longer offers (turned off, or offered before a restart) are offered
 * again for this connection, so that the message is not refused: QEMU
 * would reconnect and ask again without end. new_connection
 * (port.c) takes them away again for the next connection. */
static void
offload_fallback(struct vqs_port *p, uint64_t want)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	uint64_t offered = 0, missing;

	if (rte_vhost_driver_get_features(p->conf.path, &offered) != 0)
		return;
	missing = want & ~offered & VQS_OL_FEATURES;
	if (missing == 0)
		return;
	/* Only where they were offered (offloads-kept): the operator's off
	 * holds for every other frontend, which is refused them. */
	if (!__atomic_load_n(&p->vhost.ol_keep, __ATOMIC_RELAXED)) {
		VQS_LOG_RL(&rl, WARNING, "port %s: a frontend asks for offloads 0x%" PRIx64 " the port never offered: refused",
			   p->conf.name, missing);
		return;
	}
	if (rte_vhost_driver_enable_features(p->conf.path, missing) != 0)
		return;
	__atomic_store_n(&p->vhost.ol_fallback, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->vhost.ol_kept, 1, __ATOMIC_RELAXED);
	VQS_LOG_RL(&rl, WARNING, "port %s: the guest's frontend still uses offloads 0x%" PRIx64 " that the port does not offer (offloads=off, or changed by a restart): kept for this connection, as a frontend refused them would reconnect without end; they go when the guest's driver negotiates afresh",
		   p->conf.name, missing);
}

static enum rte_vhost_msg_result
pre_msg(int vid, void *msg)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct vqs_port *p;
	struct msg_head *m = msg;

	if (!postcopy_guard(vid, m)) {
		poison_mem_table(m);
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	}
	/* librte_vhost would inject its RARP into the next dequeue (see
	 * vring_num_ok), which the direct datapath never calls: the switch
	 * sends it (announce.c), and the library never sees the message. */
	if (m->request == VHOST_USER_SEND_RARP) {
		p = vqs_vhost_port_of_vid(vid);
		if (p != NULL && m->size >= sizeof(m->u64))
			vqs_announce_request(p, (const uint8_t *)&m->u64);
		close_fds(msg); /* the library's check of them is skipped */
		return RTE_VHOST_MSG_RESULT_OK;
	}
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE)
		reply_held[vid] = false;
	p = vqs_vhost_port_of_vid(vid);
	if (!values_ok(vid, p, msg) || p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE) {
		reply_held[vid] = must_succeed(m->request) && (m->flags & VHOST_USER_NEED_REPLY);
		if (reply_held[vid])
			m->flags &= ~VHOST_USER_NEED_REPLY;
	}
	switch (m->request) {
	case VHOST_USER_SET_VRING_CALL:
		/* The library closes the number a decoy may hold: the guest's
		 * eventfd it stood for is no longer the vring's. */
		if ((m->state.index & 0xff) < 2 * VQS_VHOST_MAX_QP)
			vqs_vhost_decoy_remove(p, m->state.index & 0xff, false);
		/* fall through */
	case VHOST_USER_SET_VRING_KICK:
		__atomic_fetch_add(&p->vhost.fd_gen, 1, __ATOMIC_SEQ_CST);
		break;
	case VHOST_USER_SET_MEM_TABLE: /* its values checked above */
		if (!pause_port(p)) {
			VQS_LOG_RL(&rl, WARNING, "port %s: memory table change refused: a thread was inside librte_vhost on this guest's rings; the guest must reconnect",
				   p->conf.name);
			poison_mem_table(m);
		}
		break;
	case VHOST_USER_SET_VRING_NUM:
		if (!pause_port(p) && !ring_msg_safe(vid, m))
			return refuse_with_reader_inside(p, m);
		break;
	case VHOST_USER_SET_FEATURES:
		offload_fallback(p, m->u64);
		/* On the library datapath logging may start even if a reader
		 * could not be waited for: the switch writes guest memory
		 * only inside library calls there, and a thread inside one
		 * is before the vq lock this message holds (the library takes
		 * every vq lock before this hook and frees them after the post
		 * hook) or past its writes: its burst runs after the message,
		 * under the new features, which the library marks by, and the
		 * switch's own marks after it (lib_log_len, vqs_vhost_notify)
		 * follow the post hook's set-up. Refusing there failed
		 * migrations whenever a PMD was descheduled in a burst.
		 * On the direct datapath a bound that ends the wait ends it
		 * for every reader (the RCU check is global), and a direct
		 * burst that read r->log before the message would write
		 * unmarked after it: refused (found by the hostile review). */
		if (!pause_port(p) && p->vhost.direct != NULL && ((m->u64 >> VHOST_F_LOG_ALL) & 1)) {
			VQS_LOG_RL(&rl, WARNING, "port %s: dirty logging refused: a thread was inside librte_vhost on this guest's rings; the guest must reconnect",
				   p->conf.name);
			m->u64 |= UNOFFERED_FEATURE;
		}
		break;
	case VHOST_USER_SET_VRING_BASE:
		if (!pause_port(p) && !ring_msg_safe(vid, m))
			return refuse_with_reader_inside(p, m);
		break;
	case VHOST_USER_SET_VRING_ADDR: /* the library checks the new rings */
		pause_port(p);
		break;
	case VHOST_USER_SET_LOG_BASE:
		/* The library unmaps the old log: no mark may be in progress
		 * on it (direct/ring_log.c; until the post hook, or
		 * destroy_device if the message fails). A PMD inside the
		 * library (its own datapath) waits for the vq locks this
		 * message holds, and finds the new log. */
		pause_port(p);
		vqs_ring_log_swap_begin(&p->vhost);
		break;
	default:
		break;
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static bool
is_eventfd(int fd)
{
	char path[32], target[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

/*
 * A vring's kick or call "eventfd" just installed by the library, made
 * harmless. Anything else (a pipe or socket whose buffer the guest lets
 * fill, a file) would block the thread that writes the call or reads the
 * kick: a PMD, and every guest on it. So it is replaced, under the
 * library's number, by an eventfd of ours (its guest gets no calls then:
 * its own doing); an eventfd is made non-blocking (a guest can fill its
 * counter). Runs with the device's vq locks held, before any PMD or the
 * control thread may use the number again (fd_gen is still odd).
 */
static void
vring_fd_sanitize(int vid, const struct msg_head *m)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	uint64_t u = m->u64;
	struct rte_vhost_vring vr;
	int fd, own, flags;

	if ((u & (1u << 8)) || rte_vhost_get_vhost_vring(vid, u & 0xff, &vr) != 0)
		return; /* no fd came with it */
	fd = m->request == VHOST_USER_SET_VRING_CALL ? vr.callfd : vr.kickfd;
	if (fd < 0)
		return;
	if (is_eventfd(fd)) {
		flags = fcntl(fd, F_GETFL);
		if (flags >= 0 && !(flags & O_NONBLOCK))
			fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		return;
	}
	own = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (own >= 0) {
		dup3(own, fd, O_CLOEXEC);
		close(own);
	}
	VQS_LOG_RL(&rl, WARNING, "vhost-user connection %d: vring %u: the %s descriptor is not an eventfd: replaced",
		   vid, (unsigned int)(u & 0xff), m->request == VHOST_USER_SET_VRING_CALL ? "call" : "kick");
}

static enum rte_vhost_msg_result
post_msg(int vid, void *msg)
{
	struct vqs_port *p = vqs_vhost_port_of_vid(vid);
	bool new_fd = closes_fd(*(const uint32_t *)msg);

	if (new_fd)
		vring_fd_sanitize(vid, msg);
	/* It succeeded: acked. SET_LOG_BASE was answered with its own
	 * reply already, which is its ack. */
	if (vid >= 0 && vid < RTE_MAX_VHOST_DEVICE && reply_held[vid]) {
		reply_held[vid] = false;
		if (((struct msg_head *)msg)->request != VHOST_USER_SET_LOG_BASE)
			((struct msg_head *)msg)->flags |= VHOST_USER_NEED_REPLY;
	}
	if (((struct msg_head *)msg)->request == VHOST_USER_SET_MEM_TABLE ||
	    ((struct msg_head *)msg)->request == VHOST_USER_SET_LOG_BASE)
		vqs_guest_fault_watch(vid); /* what the library mapped now */
	if (p == NULL)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (((struct msg_head *)msg)->request == VHOST_USER_SET_LOG_BASE)
		vqs_ring_log_swap_end(&p->vhost);
	if (new_fd &&
	    __atomic_load_n(&p->vhost.fd_gen, __ATOMIC_RELAXED) & 1)
		__atomic_fetch_add(&p->vhost.fd_gen, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->vhost.paused, __ATOMIC_RELAXED)) {
		/* the rings are consistent again, maybe elsewhere: the PMDs
		 * take their pointers again (peek.h), checked */
		__atomic_store_n(&p->vhost.paused, 0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&p->vhost.ring_gen, 1, __ATOMIC_RELAXED);
		vqs_vhost_lib_check(p, vid);
		__atomic_store_n(&p->vhost.ready, 1, __ATOMIC_RELEASE);
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vqs_vhost_msg_hooks = {
	.pre_msg_handle = pre_msg,
	.post_msg_handle = post_msg,
};

/* QEMU, DPDK's virtio-user and the rust-vmm frontends send a message's
 * header and payload with one sendmsg: the payload is there with the
 * header, and a reader that has to wait for it waits for a frontend that
 * is not sending it. Short, because the wait holds every guest's control
 * messages (a frontend that keeps reconnecting and stalling delays the
 * others' by this much per stall, its data traffic not at all). */
#define MSG_TIMEOUT_MS 100

/* Whether fd is a connected vhost-user socket on path (ours in server
 * mode, the peer's in client mode) whose receive timeout is *want. */
static bool
conn_on_path(int fd, const char *path, bool client, const struct timeval *want)
{
	struct sockaddr_un a;
	socklen_t alen = sizeof(a);
	struct timeval tv;
	socklen_t tlen = sizeof(tv);
	int listening = 0;
	socklen_t llen = sizeof(listening);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0 || listening ||
	    (client ? getpeername(fd, (struct sockaddr *)&a, &alen) :
		      getsockname(fd, (struct sockaddr *)&a, &alen)) != 0 ||
	    a.sun_family != AF_UNIX || alen <= offsetof(struct sockaddr_un, sun_path) ||
	    strncmp(a.sun_path, path, alen - offsetof(struct sockaddr_un, sun_path)) != 0 ||
	    strlen(path) != strnlen(a.sun_path, alen - offsetof(struct sockaddr_un, sun_path)))
		return false;
	return getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tlen) == 0 &&
	       tv.tv_sec == want->tv_sec && tv.tv_usec == want->tv_usec;
}

/* Every connection's send and receive timeout (none before we set it). */
static const struct timeval msg_timeout = { MSG_TIMEOUT_MS / 1000, MSG_TIMEOUT_MS % 1000 * 1000 };
static const struct timeval no_timeout;

/*
 * The library keeps a connection's descriptor to itself: the one just
 * made is the socket on the port's path that has no timeouts yet (every
 * earlier one got them when it came). Set on all such sockets: the only
 * ones are connections of this path.
 */
static int
bound_connection(const char *path, bool client)
{
	struct dirent *e;
	int found = -1, failed = 0, fd;
	DIR *d = opendir("/proc/self/fd");

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == dirfd(d) || !conn_on_path(fd, path, client, &no_timeout))
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &msg_timeout, sizeof(msg_timeout)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &msg_timeout, sizeof(msg_timeout)) != 0)
			failed = 1;
		else if (found < 0)
			found = fd;
	}
	closedir(d);
	return failed ? -1 : found;
}

/* Per vid: the connection's socket, found when it came (-1: none). Read
 * by the control thread to end a connection (vqs_vhost_guard_close). */
static int conn_fd[RTE_MAX_VHOST_DEVICE];

void
vqs_vhost_guard_close(int vid, const char *path, bool client)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	int fd;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return;
	fd = __atomic_load_n(&conn_fd[vid], __ATOMIC_RELAXED);
	/* The library may have closed it and the number gone to another
	 * socket meanwhile: only one of this path that we bounded. */
	if (fd < 0 || !conn_on_path(fd, path, client, &msg_timeout))
		return;
	/* The library's read then sees the end of the connection. */
	if (shutdown(fd, SHUT_RDWR) != 0)
		VQS_LOG_RL(&rl, WARNING, "vhost-user connection %d: shutdown: %s", vid, strerror(errno));
}

int
vqs_vhost_guard_connection(int vid, const char *path, bool client)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	int fd;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return -1;
	postcopy_listening[vid] = false;
	reply_held[vid] = false;
	vqs_guest_fault_forget(vid);
	fd = bound_connection(path, client);
	__atomic_store_n(&conn_fd[vid], fd, __ATOMIC_RELAXED);
	if (fd < 0) {
		VQS_LOG_RL(&rl, WARNING, "vhost-user connection %d on %s: no timeout could be set: refused",
			   vid, path);
		return -1;
	}
	return rte_vhost_extern_callback_register(vid, &vqs_vhost_msg_hooks, NULL);
}
