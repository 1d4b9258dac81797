/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Which port a librte_vhost callback or message hook is about: the library
 * names a connection by its vid, the switch a port by its socket path.
 * Apart from the lifecycle (port.c) so that the message guard
 * (guard.c) finds its port without calling into the file that
 * registers its hooks: the two called each other.
 */
#include <pthread.h>
#include <string.h>

#include <rte_vhost.h>

#include "internal.h"
#include "vqs_switch.h"

struct vqs_switch *vqs_vhost_sw;

void
vqs_vhost_init(struct vqs_switch *sw)
{
	vqs_vhost_sw = sw;
}

/*
 * The port stays valid after the lock is dropped: a port is freed only
 * after rte_vhost_driver_unregister() returned, and that waits for every
 * callback running on the port's socket.
 */
struct vqs_port *
vqs_vhost_port_of_socket(int vid)
{
	char path[VQS_PATH_MAX];
	struct vqs_port *found = NULL;
	uint16_t i;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) < 0)
		return NULL;
	pthread_mutex_lock(&vqs_vhost_sw->lock);
	for (i = 0; i < VQS_MAX_PORTS && found == NULL; i++) {
		struct vqs_port *p = vqs_vhost_sw->ports[i];

		if (p != NULL && vqs_port_type_is_vhost(p->conf.type) &&
		    strcmp(p->conf.path, path) == 0)
			found = p;
	}
	pthread_mutex_unlock(&vqs_vhost_sw->lock);
	return found;
}

struct vqs_port *
vqs_vhost_port_of_vid(int vid)
{
	struct vqs_port *p = vqs_vhost_port_of_socket(vid);

	return p != NULL && __atomic_load_n(&p->vhost.conn_vid, __ATOMIC_RELAXED) == vid ? p : NULL;
}
