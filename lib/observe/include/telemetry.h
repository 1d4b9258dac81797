/* SPDX-License-Identifier: BSD-3-Clause
 * vqswitch's commands on the DPDK telemetry socket.
 */
#ifndef VQS_TELEMETRY_H
#define VQS_TELEMETRY_H

struct vqs_switch;

int vqs_telemetry_init(struct vqs_switch *sw);

#endif
