/* SPDX-License-Identifier: BSD-3-Clause
 * Guest memory that its frontend truncates under the switch: see
 * guest_fault.c. What the device callbacks and the control thread call;
 * the handler's installation, at start-up, is in vqs_vhost.h.
 */
#ifndef VQS_GUEST_FAULT_H
#define VQS_GUEST_FAULT_H

#include <stdbool.h>

/* vhost-events thread: device vid's memory (and dirty log) as the library
 * has it mapped now; called whenever that may have changed. */
void vqs_guest_fault_watch(int vid);
/* vhost-events thread: vid's mappings are no longer guest memory. */
void vqs_guest_fault_forget(int vid);
/* Whether an access to vid's memory faulted since the last call (which
 * clears it). */
bool vqs_guest_fault_take(int vid);

#endif
