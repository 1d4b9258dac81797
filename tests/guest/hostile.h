/* SPDX-License-Identifier: BSD-3-Clause
 * What a hostile guest does: descriptors the switch must refuse, and
 * vhost-user messages it must reject, without crashing or leaking.
 */
#ifndef VQG_HOSTILE_H
#define VQG_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

#include "guest.h"

/* Names of the descriptor cases, NULL-terminated; "rx_*" ones go on an
 * RX vring (buffers the switch writes), the others on a TX vring. */
extern const char *const hostile_desc_kinds[];
extern const char *const hostile_msg_kinds[];

/* Publishes one bad descriptor case on vring i and kicks. The ring is
 * poisoned afterwards (no more buffers): reconnect to go on. 0 or -1. */
int hostile_desc(struct guest *g, uint16_t i, const char *kind, char *err, size_t len);
/* Sends one bad message on the connection. 0 or -1 (unknown kind). */
int hostile_msg(struct guest *g, const char *kind, char *err, size_t len);

/* For the fuzzer: raw descriptors from bytes, on vring i. */
struct raw_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next; /* split: next; packed: buffer id */
};
/* Writes n descriptors from the ring's next free position and makes
 * `heads` chains available (split: avail entries from head_idx[]). */
void hostile_raw(struct guest *g, uint16_t i, const struct raw_desc *d, int n,
		 const uint16_t *head_idx, int heads, uint16_t avail_bump);

#endif
