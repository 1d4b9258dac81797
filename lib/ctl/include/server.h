/* SPDX-License-Identifier: BSD-3-Clause
 * The control socket: a Unix stream socket on which vqctl (or any client)
 * sends one JSON request a line and reads one JSON reply a line.
 *
 *   request: {"argv": ["add-port", "br0", "vm1", "type=vhostuser"], "format": "text"}
 *   reply:   {"ok": true, "output": "..."}  or  {"ok": false, "error": "..."}
 *
 * "format" is "text" (default) or "json"; with "json", output is itself a
 * JSON document, as a string. A successful reply may also carry
 * "warning": "..." (output cut short, or "applied, but not saved: ...",
 * which also sets "unsaved": true).
 *
 * Only root and members of the control group may connect: the socket is
 * root:gid, mode 0600 (gid 0) or 0660, and every peer's credentials are
 * checked again with SO_PEERCRED when it connects.
 */
#ifndef VQS_CTL_SERVER_H
#define VQS_CTL_SERVER_H

#include <sys/types.h>

#include "err.h"

#define VQS_CTL_MAX_REQUEST 4096 /* bytes in one request line */
#define VQS_CTL_MAX_CLIENTS 16
/* A client that has not sent a whole request this long after it connected
 * or after its last reply is closed: idle or slow clients cannot hold the
 * slots. When all slots are taken, a new client takes the slot of the one
 * that has waited longest. */
#define VQS_CTL_CLIENT_IDLE_MS 5000
/* A reply must be read within this time, all of it, or the client is
 * dropped: the control thread does not wait longer for one reader. */
#define VQS_CTL_SEND_MS 2000

struct vqs_switch;
struct vqs_ctl_server;

/* gid: the control group (0: root only). */
struct vqs_ctl_server *vqs_ctl_server_open(const char *path, gid_t gid,
					   struct vqs_err *e);
/* Waits up to timeout_ms for requests and answers them. Control thread. */
void vqs_ctl_server_poll(struct vqs_ctl_server *s, struct vqs_switch *sw,
			 int timeout_ms);
void vqs_ctl_server_close(struct vqs_ctl_server *s);

#endif
