/* SPDX-License-Identifier: BSD-3-Clause
 * The test guest as a migrating QEMU sees its device: dirty-page logging
 * on (VHOST_F_LOG_ALL, a log shared with SET_LOG_BASE, the vrings' log
 * addresses), the log replaced, logging off; and the check QEMU relies
 * on: every page the switch wrote is marked in the log.
 */
#ifndef VQG_GUEST_LOG_H
#define VQG_GUEST_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest;

#define VHU_F_LOG_ALL 26
#define VHU_PROTOCOL_F_LOG_SHMFD 1
#define VHU_VRING_F_LOG 0
#define GUEST_LOG_PAGE 4096 /* VHOST_LOG_PAGE */

/* Logging on: LOG_ALL in SET_FEATURES, a fresh log (SET_LOG_BASE; its
 * file mapped from offset, which only a hostile frontend makes other
 * than 0), every vring's log address (SET_VRING_ADDR). 0 or -1. */
int guest_log_start(struct guest *g, uint64_t offset, bool sealed, char *err, size_t len);
/* A fresh log in place of the one in use (QEMU resizing it). 0 or -1. */
int guest_log_new_base(struct guest *g, char *err, size_t len);
/* Logging off: SET_FEATURES without LOG_ALL, the vrings without a log
 * address; the log is kept for checks. 0 or -1. */
int guest_log_stop(struct guest *g, char *err, size_t len);
/* The log cleared and guest memory copied: what changes from here on is
 * compared by guest_log_check. */
int guest_log_snapshot(struct guest *g, char *err, size_t len);
/* Pages changed since the snapshot that the log does not mark: with all,
 * any page of guest memory (a guest that wrote nothing itself since);
 * else the pages of the areas only the device writes (split used rings;
 * packed descriptor rings, once the guest's TX chains are all back).
 * Writes "changed= logged= missing= first_missing=" into out; returns
 * the number missing, or -1. */
long guest_log_check(struct guest *g, bool all, char *out, size_t len);
/* Frees the log and the snapshot (guest_disconnect). */
void guest_log_free(struct guest *g);

#endif
