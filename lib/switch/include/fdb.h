/* SPDX-License-Identifier: BSD-3-Clause
 * Forwarding database of one bridge: (VLAN, MAC address) -> port, learned
 * by the PMDs, aged by the control thread. Ports are switch port slots.
 *
 * Concurrency: any number of PMDs look up and learn at once (rte_hash in
 * lock-free reader/writer mode with multi-writer add); only the control
 * thread deletes, and it frees a deleted slot only after an RCU grace period,
 * so a PMD never writes to a slot that a new address has taken.
 */
#ifndef VQS_FDB_H
#define VQS_FDB_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_rcu_qsbr.h>

#define VQS_FDB_MISS (-1)

/* What an entry points at (its "port"): a port slot, and for a tunnel port
 * the remote (VTEP) the address is behind, as its index + 1 in the bits
 * above the slot (0: not a tunnel). */
#define VQS_FDB_DEST(slot, rmt1) ((uint16_t)((slot) | ((unsigned int)(rmt1) << 8)))
#define VQS_FDB_SLOT(d)          ((uint16_t)((d) & 0xff))
#define VQS_FDB_RMT1(d)          ((uint16_t)((d) >> 8))

struct vqs_fdb;

enum vqs_fdb_learn_result {
	VQS_FDB_KNOWN,   /* already there, same port (age refreshed) */
	VQS_FDB_NEW,     /* a new entry */
	VQS_FDB_MOVED,   /* the address moved to another port */
	VQS_FDB_FULL,    /* the table holds its maximum: not learned */
	VQS_FDB_STATIC,  /* a static entry: learning does not move it */
};

struct vqs_fdb_entry_info {
	struct rte_ether_addr mac;
	uint16_t vlan;
	uint16_t port;
	bool is_static;
	bool is_evpn;     /* from BGP EVPN (vqs_fdb_add_evpn) */
	uint64_t age_tsc; /* cycles since last seen */
};

/* qsv: the RCU variable every thread that calls lookup/learn reports to. */
struct vqs_fdb *vqs_fdb_create(const char *name, uint32_t max_entries,
			       struct rte_rcu_qsbr *qsv);
void vqs_fdb_free(struct vqs_fdb *fdb);

/* Fast path, any PMD (EAL lcores only: see fdb.c). */
int vqs_fdb_lookup(const struct vqs_fdb *fdb, uint16_t vlan,
		   const struct rte_ether_addr *mac);
enum vqs_fdb_learn_result vqs_fdb_learn(struct vqs_fdb *fdb, uint16_t vlan,
		const struct rte_ether_addr *mac, uint16_t port, uint64_t now);

/* Control thread only. A static entry never ages and is not moved by
 * learning; adding one over a learned entry replaces it. */
int vqs_fdb_add_static(struct vqs_fdb *fdb, uint16_t vlan,
		       const struct rte_ether_addr *mac, uint16_t port);
/* These block for an RCU grace period. Static entries are not aged. */
unsigned int vqs_fdb_age(struct vqs_fdb *fdb, uint64_t now, uint64_t max_age);
/* Control thread: one entry, learned or static; -ENOENT if there is none.
 * Returns once no PMD can still use it. */
int vqs_fdb_del(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac);
unsigned int vqs_fdb_flush(struct vqs_fdb *fdb);
/* Every entry of the port in slot, whichever remote. */
unsigned int vqs_fdb_flush_port(struct vqs_fdb *fdb, uint16_t slot);
/* The entries but static ones that point at dest (VQS_FDB_DEST). */
unsigned int vqs_fdb_flush_dest(struct vqs_fdb *fdb, uint16_t dest);

/* Control thread: where BGP EVPN says an address is (a tunnel port's
 * remote). Never aged; learning moves it to a port that is not a tunnel
 * (the VM moved here), not to another remote. -EEXIST over a static
 * entry, -ENOSPC when full. */
int vqs_fdb_add_evpn(struct vqs_fdb *fdb, uint16_t vlan,
		     const struct rte_ether_addr *mac, uint16_t dest);
/* Control thread: the entry if it is still EVPN's; -ENOENT if not. */
int vqs_fdb_del_evpn(struct vqs_fdb *fdb, uint16_t vlan, const struct rte_ether_addr *mac);

/* Any thread; a snapshot that may miss concurrent changes. */
uint32_t vqs_fdb_count(const struct vqs_fdb *fdb);
uint32_t vqs_fdb_capacity(const struct vqs_fdb *fdb);
/* Calls fn for each entry until it returns non-zero. */
void vqs_fdb_walk(const struct vqs_fdb *fdb, uint64_t now,
		  int (*fn)(const struct vqs_fdb_entry_info *e, void *arg),
		  void *arg);

#endif
