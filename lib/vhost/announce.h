/* SPDX-License-Identifier: BSD-3-Clause
 * A migrated guest announced at its new port (announce.c): the
 * vhost-events thread's half; the PMD's, vqs_announce_take, is in
 * vqs_vhost.h.
 */
#ifndef VQS_ANNOUNCE_H
#define VQS_ANNOUNCE_H

#include <stdint.h>

struct vqs_port;

/* vhost-events thread (SEND_RARP): the port's guest, with this MAC
 * address (the message's 6 bytes), is to be announced by the PMD that
 * polls its queue 0, which is woken. */
void vqs_announce_request(struct vqs_port *p, const uint8_t mac[6]);

/* vhost-events thread (destroy_device): a request not sent yet is
 * dropped with the device it came for. */
void vqs_announce_forget(struct vqs_port *p);

#endif
