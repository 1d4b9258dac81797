/* SPDX-License-Identifier: BSD-3-Clause
 * What a malicious guest kernel and a malicious QEMU do to a running
 * device: vhost-user messages that re-shape its rings and memory while it
 * runs, and threads that keep changing what the device reads in guest
 * memory while the guest goes on using the ring.
 */
#ifndef VQG_ATTACK_H
#define VQG_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

/* Names of the chaos kinds and of the msg_fail kinds, NULL-terminated. */
extern const char *const chaos_kinds[];
extern const char *const msg_fail_kinds[];

/*
 * Malicious QEMU, on the live connection. Each resets g->conn.ack and
 * sends; with REPLY_ACK the ack is in g->conn.ack afterwards (-1: none
 * came, or the message could not be written). 0, or -1 with err set when
 * the arguments make no sense (nothing sent).
 */
/* SET_VRING_NUM or SET_VRING_BASE (request) for vring i. */
void attack_vring_state(struct guest *g, uint32_t request, uint16_t i, uint32_t num);
/* Copies vring i's rings to fresh guest memory (edge: from the end of it
 * down, as rings_at_end), goes on using the copy, then SET_VRING_ADDR. */
int attack_vring_move(struct guest *g, uint16_t i, bool edge, char *err, size_t len);
/* SET_MEM_TABLE: the same table again; the first mb MiB only; the same
 * memory as two regions of the same memfd. */
int attack_mem_remap(struct guest *g);
int attack_mem_shrink(struct guest *g, long mb, char *err, size_t len);
int attack_mem_split(struct guest *g, char *err, size_t len);
/* A SET_VRING_ADDR header announcing its payload, then 8 bytes of it
 * only; the connection stays open. 0, or -1 if it could not be written. */
int attack_stall(struct guest *g);
/* A message the backend must fail though it passes the first checks
 * (index: vring_call's vring, -1 for the default). */
int attack_msg_fail(struct guest *g, const char *kind, long index, char *err, size_t len);

/*
 * Malicious guest kernel: a thread per vring that keeps disturbing what
 * the device finds in guest memory (a hostile value, a pause of a few
 * microseconds at most, the true value again: one round). The guest's
 * bookkeeping stays the truth. The main thread holds the vring
 * (chaos_hold) while it uses it: rounds never overlap its steps, and
 * between rounds guest memory says what the bookkeeping says.
 */
/* arg: the kind's X, or -1 for its default. 0, or -1 with err set. */
int chaos_start(struct guest *g, uint16_t i, const char *kind, long arg, char *err, size_t len);
/* Stops vring i's thread (if any); the rounds it made. */
uint64_t chaos_stop(struct guest *g, uint16_t i);
void chaos_stop_all(struct guest *g);
void chaos_hold(struct guest *g, uint16_t i);
void chaos_release(struct guest *g, uint16_t i);
/* Every vring of g held (hold) or released: for steps that touch them all. */
void chaos_hold_all(struct guest *g, bool hold);

#endif
