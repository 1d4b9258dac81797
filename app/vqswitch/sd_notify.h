/* SPDX-License-Identifier: BSD-3-Clause
 * Readiness and status for a service manager (systemd's Type=notify):
 * the sd_notify datagram protocol, without libsystemd.
 */
#ifndef VQS_SD_NOTIFY_H
#define VQS_SD_NOTIFY_H

/*
 * Sends state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
 * to the socket named by $NOTIFY_SOCKET (a path, or '@' for the abstract
 * namespace). Nothing when the variable is unset: not under a service
 * manager. Returns 0, or -errno if the message could not be sent.
 */
int vqs_sd_notify(const char *state);

#endif
