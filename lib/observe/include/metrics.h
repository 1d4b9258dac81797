/* SPDX-License-Identifier: BSD-3-Clause
 * Prometheus text exposition of the switch's counters (vqctl metrics).
 */
#ifndef VQS_METRICS_H
#define VQS_METRICS_H

#include "buf.h"

struct vqs_switch;

/* Control thread: every port, vring, PMD and MAC table, appended to b. */
void vqs_metrics_render(struct vqs_switch *sw, struct vqs_buf *b);

#endif
