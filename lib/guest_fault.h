/* SPDX-License-Identifier: BSD-3-Clause
 * Guest memory that its frontend truncates under the switch: see
 * guest_fault.c.
 */
#ifndef VQS_GUEST_FAULT_H
#define VQS_GUEST_FAULT_H

#include <stdbool.h>

/* Installs the SIGBUS handler (once, at start-up, before any guest). */
int vqs_guest_fault_install(void);
/* vhost-events thread: device vid's memory (and dirty log) as the library
 * has it mapped now; called whenever that may have changed. */
void vqs_guest_fault_watch(int vid);
/* vhost-events thread: vid's mappings are no longer guest memory. */
void vqs_guest_fault_forget(int vid);
/* Whether an access to vid's memory faulted since the last call (which
 * clears it). */
bool vqs_guest_fault_take(int vid);

#endif
