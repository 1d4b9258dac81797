/* SPDX-License-Identifier: BSD-3-Clause
 * The lost-interrupt watchdog: re-raises a guest interrupt on a vring
 * where the guest is waiting for one it evidently never got.
 */
#ifndef VQS_WATCHDOG_H
#define VQS_WATCHDOG_H

struct vqs_switch;

/* Control thread, once per watchdog period. */
void vqs_watchdog_check(struct vqs_switch *sw);

#endif
