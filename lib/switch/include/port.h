/* SPDX-License-Identifier: BSD-3-Clause
 * A switch port at run time: a vhost-user socket or an ethdev, its device
 * state and its counters.
 */
#ifndef VQS_PORT_H
#define VQS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include "vqs.h"
#include "vqs_model.h"

struct vqs_direct_qp;

struct vqs_pmd;

/* Why a frame was dropped. Ingress reasons count on the port it came
 * from, egress reasons on the port it was going to. */
enum vqs_drop {
	VQS_DROP_BAD_FRAME,     /* ingress: runt, oversize, invalid source MAC */
	VQS_DROP_NO_DEST,       /* ingress: nowhere to send it but back */
	VQS_DROP_VLAN_FILTERED, /* ingress: VLAN not allowed on the port */
	VQS_DROP_TX_FULL,       /* egress: ring full after every retry */
	VQS_DROP_TX_DOWN,       /* egress: guest not connected or vring disabled */
	VQS_DROP_NO_MBUF,       /* egress: no buffer for a VLAN-tagged copy */
	VQS_DROP_BAD_DESC,      /* ingress (direct datapath): a guest TX chain that
				 * breaks the rules, given back unread */
	VQS_DROP_BAD_OFFLOAD,   /* ingress (direct datapath): a virtio-net header
				 * whose offloads the frame or the guest's features
				 * do not bear out (offload.h) */
	/* Underlay ports (an ip=), ingress: IPv4 for the port's address. */
	VQS_DROP_VXLAN_MALFORMED,  /* cut short, bad lengths, a fragment */
	VQS_DROP_VXLAN_BAD_FLAGS,  /* the VXLAN header's I flag not set */
	VQS_DROP_VXLAN_UNKNOWN_VNI, /* no vxlan port has that VNI and UDP port */
	VQS_DROP_VXLAN_UNKNOWN_REMOTE, /* from an address not in remote_ip */
	VQS_DROP_NOT_VXLAN,        /* for the address, but not VXLAN */
	/* Tunnel ports, egress. */
	VQS_DROP_TNL_NO_ROUTE,     /* no underlay port up with local_ip, or a
				    * remote outside its subnet without gateway */
	VQS_DROP_TNL_UNRESOLVED,   /* the next hop's MAC not known (yet) */
	VQS_DROP_TNL_TOO_BIG,      /* encapsulated, longer than the underlay MTU */
	VQS_DROP_MAX
};

extern const char *const vqs_drop_names[VQS_DROP_MAX];

/* One per PMD per port, written by that PMD only; see vqs_count(). */
struct vqs_port_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t drops[VQS_DROP_MAX];
	uint64_t fdb_full; /* source addresses not learned: table full */
	/* Egress: frames whose offloads the port cannot take, done in
	 * software (offload_sw.h): checksums completed, GSO frames cut
	 * into segments (each segment then counts as a frame sent). */
	uint64_t sw_csum;
	uint64_t sw_gso;
} __rte_cache_aligned;

/*
 * vhost state is written by librte_vhost's callbacks (vhost-events thread)
 * and read by the PMDs and the control thread: every field is accessed
 * atomically. 'ready' gates every use of 'vid'; see vhost/port.c for the
 * handshake that makes destroy_device safe.
 */
struct vqs_vhost_state {
	int conn_vid;   /* the one connection the port serves, -1: none */
	int wait_vid;   /* the next one, ignored until conn_vid goes; -1: none */
	/* What the library said of wait_vid's device while it waited: it
	 * takes effect when wait_vid takes over (vhost/port.c). */
	uint8_t wait_started;
	uint8_t wait_enabled[2 * VQS_VHOST_MAX_QP];
	uint64_t conn_refused; /* connections beyond those two, refused */
	uint64_t conn_extra;   /* connections that had to wait (a second frontend) */
	/* Bumped (before 'ready' is set again) whenever a vring's pointers
	 * may have changed: see vhost/include/peek.h. Next to 'ready': an idle vring
	 * costs a PMD this one cache line of the port. */
	uint32_t ring_gen;
	uint32_t base_gen; /* bumped by new_device: the rings' positions are new */
	int vid;
	uint8_t ready;
	/* A RARP to send for the guest (SEND_RARP after a live migration):
	 * its MAC address and a pending bit (vhost/announce.c); announced: sent. */
	uint64_t announce;
	uint64_t announced;
	/* Dirty log marks in progress (PMDs, control thread), and a new log
	 * being installed, during which none may start (direct/ring_log.c). */
	uint32_t log_writers;
	uint8_t log_swap;
	/* Threads inside (or about to enter) a librte_vhost call that takes
	 * this device's vq locks, which a message being handled holds: only
	 * such a thread can be blocked by the message (vhost/guard.c). */
	uint32_t lib_inside;
	uint8_t vring_enabled[2 * VQS_VHOST_MAX_QP];
	uint8_t kicks_off[2 * VQS_VHOST_MAX_QP]; /* guest kicks disabled */
	/* Kicks turned on by a PMD about to sleep on them: the control thread
	 * leaves them on. Armed under kick_lock, which the control thread
	 * holds from its look at kicks_armed to turning kicks off. */
	uint8_t kicks_armed[2 * VQS_VHOST_MAX_QP];
	rte_spinlock_t kick_lock;
	uint8_t notify_setup_pending;
	uint8_t paused; /* ready cleared while a ring-changing message is handled */
	uint64_t connects;
	uint64_t disconnects;
	/* Odd while librte_vhost handles a SET_VRING_CALL or SET_VRING_KICK
	 * (which close the old eventfd): see vqs_vhost_vring_fd_dup(). */
	uint32_t fd_gen;
	uint32_t drop_calls;       /* fault injection: calls still to swallow */
	uint32_t enqueue_delay_us; /* fault injection: debug/delay-enqueue */
	/* Interrupts librte_vhost raised per vring, counted by its
	 * guest_notified callback (PMDs, relaxed adds); zeroed per device. */
	uint64_t guest_notifications[2 * VQS_VHOST_MAX_QP];
	int guest_callfd[2 * VQS_VHOST_MAX_QP]; /* ... the guest's call eventfd
				    * while a decoy has its number; -1 */
	/* --datapath=library: which vrings the library may be handed (their
	 * rings and positions checked whenever they may have changed,
	 * vqs_vhost_lib_check); where each split vring's avail index is
	 * (NULL: packed) with the ring's size, for the check before each
	 * call; and how many frames one call may take (lib_burst). Set on
	 * the vhost-events thread before 'ready' or the vring's 'enabled'
	 * is set again. */
	uint8_t lib_ring_ok[2 * VQS_VHOST_MAX_QP];
	/* The offloads the connected guest negotiated (VQS_OL_*): what it
	 * may send (host) and what it takes (guest). Set by new_device
	 * before 'ready'; 0 on the library's datapath, which has none. */
	uint8_t ol_host, ol_guest;
	uint8_t ol_keep;      /* conf offloads-kept: the fallback is allowed */
	uint8_t ol_fallback;  /* the socket offers offloads for a frontend that
			       * kept them (vhost/guard.c, offload_fallback) */
	uint64_t ol_kept;     /* connections that kept offloads not offered */
	const uint16_t *lib_avail[2 * VQS_VHOST_MAX_QP];
	uint16_t lib_size[2 * VQS_VHOST_MAX_QP];
	uint16_t lib_burst[2 * VQS_VHOST_MAX_QP];
	/* A packed vring's descriptor ring (guest-physical) while the guest
	 * migrates: marked after each call (len 0: not). */
	uint64_t lib_log_gpa[2 * VQS_VHOST_MAX_QP];
	uint32_t lib_log_len[2 * VQS_VHOST_MAX_QP];
	/* --datapath=direct: the guest vrings the switch processes itself,
	 * per queue pair (vqs_direct.h); NULL with the library's datapath. */
	struct vqs_direct_qp *direct;
	uint64_t watchdog_kicks;   /* control thread */
	uint64_t rx_stalls;        /* control thread: guest TX rings that stopped */
	uint64_t rings_refused;    /* set-ups of a vring whose rings or positions
				    * do not fit guest memory or the ring */
	uint64_t memory_faults;    /* control thread: connections ended because
				    * their frontend shrank guest memory */
	uint64_t watchdog_logged;  /* TSC of the last watchdog log line */
	struct {                   /* watchdog: what the last check saw */
		uint16_t avail, used, used_event, last_avail;
		uint16_t inflight; /* guest TX: frames waiting */
		bool valid;
		bool stalled;
		bool hint_live;    /* used_hint: seen to move */
	} wd[2 * VQS_VHOST_MAX_QP];
};

struct vqs_eth_state {
	uint16_t port_id;
	uint16_t nb_txq;
	bool txq_shared; /* fewer TX queues than PMDs: lock per queue */
	bool started;
	bool ipv4_cksum; /* TX: computes IPv4 header checksums (tunnel.c) */
	uint8_t ol;      /* TX: guests' offloads the device does (VQS_OL_*) */
	uint16_t mtu;    /* the device's: a TSO frame's segments must fit it */
	bool hotplugged; /* probed from devargs by us: removed with the port */
	uint64_t missed_base; /* control thread: the device's imissed at the last clear */
	int rxq_intr_fd[VQS_VHOST_MAX_QP]; /* RX interrupt fd per queue, or -1 */
	rte_spinlock_t txq_lock[VQS_MAX_PMDS];
};

/* Per remote of a tunnel port, per PMD (inner frames). */
struct vqs_tnl_remote_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_flooded; /* of tx_packets, copies of a frame sent to every remote */
};

struct vqs_vxlan_state {
	uint16_t n_static; /* the first remotes, remote_ip='s; the rest EVPN's */
	/* [pmd][remote], written by that PMD only; see vqs_count(). */
	struct vqs_tnl_remote_stats (*remote)[VQS_VXLAN_MAX_REMOTES];
	struct vqs_tnl_remote_stats base[VQS_VXLAN_MAX_REMOTES]; /* at the last clear */
};

struct vqs_port {
	struct vqs_port_conf conf;  /* as created, but for its address (ul), kept
				     * current under sw->lock (VLANs: see the dp) */
	uint16_t slot;              /* index in the switch's port table */
	uint64_t uid;               /* never reused: tells a port from a later one in its slot */
	bool deleting;              /* left out of new datapath snapshots */
	uint16_t n_rxq;             /* RX queue slots the PMDs poll */
	uint16_t rxq_pmd[VQS_VHOST_MAX_QP]; /* which PMD polls each */
	union {
		struct vqs_vhost_state vhost;
		struct vqs_eth_state eth;
		struct vqs_vxlan_state vx;
	};
	struct vqs_port_stats stats[VQS_MAX_PMDS];
	struct vqs_port_stats base; /* control thread: sums at the last clear */
};

/* Fast path. */
bool vqs_port_is_up(const struct vqs_port *p);
uint16_t vqs_port_rx(struct vqs_port *p, uint16_t q, uint16_t pmd_id, uint32_t max_frame,
		     struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n);
/* What the port takes of frames' offloads (VQS_OL_*): the rest is done
 * in software before vqs_port_tx. */
uint8_t vqs_port_offload_caps(const struct vqs_port *p);
/* caps (the port's) for offloaded frame m: less TSO where a device's
 * segments of it would not fit the device's MTU. */
uint8_t vqs_port_offload_caps_for(const struct vqs_port *p, uint8_t caps, const struct rte_mbuf *m);
/* Sends what it can and frees every mbuf (one reference each); counts. */
void vqs_port_tx(struct vqs_port *p, struct vqs_pmd *pmd,
		 struct rte_mbuf **pkts, uint16_t n);

/* Any thread: the sum over the PMDs since the last clear. */
void vqs_port_stats_sum(const struct vqs_port *p, uint16_t n_pmds,
			struct vqs_port_stats *out);
/* Control thread: the PMDs keep counting; clearing moves the baseline
 * (a tunnel port's per-remote counters too). */
void vqs_port_stats_clear(struct vqs_port *p, uint16_t n_pmds);
/* Any thread: a tunnel port's counters of remote r since the last clear;
 * control thread: clear. */
void vqs_tnl_remote_stats(const struct vqs_port *p, uint16_t n_pmds, uint16_t r,
			  struct vqs_tnl_remote_stats *out);
void vqs_tnl_remote_stats_clear(struct vqs_port *p, uint16_t n_pmds);
/* Control thread: remote r's counters from 0 (a place given to another remote). */
void vqs_tnl_remote_stats_rebase(struct vqs_port *p, uint16_t n_pmds, uint16_t r);

/* Frames the device dropped before a PMD read them (ethdev imissed, e.g. a
 * NIC ring or a kernel socket that overflowed while its PMD was not
 * running), since the last clear; 0 for vhost ports, whose guests wait
 * for descriptors instead. Asks the driver: not for the fast path. */
uint64_t vqs_port_rx_missed(const struct vqs_port *p);

#endif
