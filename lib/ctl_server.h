/* SPDX-License-Identifier: BSD-3-Clause
 * The control socket: a Unix stream socket on which vqctl (or any client)
 * sends one JSON request a line and reads one JSON reply a line.
 *
 *   request: {"argv": ["add-port", "br0", "vm1", "type=vhostuser"], "format": "text"}
 *   reply:   {"ok": true, "output": "..."}  or  {"ok": false, "error": "..."}
 *
 * "format" is "text" (default) or "json"; with "json", output is itself a
 * JSON document, as a string.
 */
#ifndef VQS_CTL_SERVER_H
#define VQS_CTL_SERVER_H

#include <sys/types.h>

#include "conf.h"

#define VQS_CTL_MAX_REQUEST 4096 /* bytes in one request line */
#define VQS_CTL_MAX_CLIENTS 16

struct vqs_switch;
struct vqs_ctl_server;

struct vqs_ctl_server *vqs_ctl_server_open(const char *path, gid_t gid,
					   struct vqs_err *e);
/* Waits up to timeout_ms for requests and answers them. Control thread. */
void vqs_ctl_server_poll(struct vqs_ctl_server *s, struct vqs_switch *sw,
			 int timeout_ms);
void vqs_ctl_server_close(struct vqs_ctl_server *s);

#endif
