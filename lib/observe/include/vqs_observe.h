/* SPDX-License-Identifier: BSD-3-Clause
 * What operators read of the running switch: the numbers of a port, a PMD
 * or a vring as lists of named fields (stats.h), the DPDK telemetry
 * socket's /vqswitch/ commands (telemetry.h) and the Prometheus text of
 * vqctl metrics (metrics.h).
 *
 * lib/observe: this header is the folder's public contract and includes
 * the three beside it. The folder reads the switch and the vhost ports
 * through their public headers (vqs_switch.h, vqs_vhost.h) and changes
 * nothing of theirs: clearing counters is the control plane's (lib/ctl),
 * which also renders these fields in its answers (vqs_answer_fields).
 *
 * Threads. A collector (stats.h) reads counters with relaxed loads, on
 * any thread that keeps its port or PMD alive meanwhile: the control
 * thread, or a telemetry client holding sw->lock. Telemetry's callbacks
 * run on librte_telemetry's threads, one per client, concurrently with
 * the PMDs, the control thread and each other: they hold sw->lock while
 * they look at ports and bridges, and a client that reads a vring goes
 * RCU-online (the one reader id telemetry clients share, hence tel_lock,
 * taken before sw->lock) before it lets sw->lock go. Metrics are
 * rendered on the control thread, RCU-online while it reads vrings.
 */
#ifndef VQS_OBSERVE_H
#define VQS_OBSERVE_H

#include "metrics.h"
#include "stats.h"
#include "telemetry.h"

#endif
