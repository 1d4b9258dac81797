/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration file: one command a line, in vqctl's words.
 *
 *   add-br br0 [mac-aging=300] [mac-table-size=8192]
 *   add-port br0 vm1 type=vhostuser [path=/var/run/vqswitch/vm1.sock] [queues=8]
 *   add-port br0 uplink type=dpdk devargs=net_tap0,iface=vq0 [n_rxq=1] [mtu=1500]
 *
 * '#' starts a comment. The whole file is checked before anything is
 * applied; an error names the file and line.
 */
#ifndef VQS_CONFIG_H
#define VQS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "port.h"
#include "vqs.h"

#define VQS_DEFAULT_MAC_AGING      300
#define VQS_DEFAULT_MAC_TABLE_SIZE 8192
#define VQS_MAX_MAC_TABLE_SIZE     (1u << 20)

struct vqs_config {
	char bridge[VQS_NAME_MAX]; /* empty until add-br */
	uint32_t mac_aging;        /* seconds; 0 never ages */
	uint32_t mac_table_size;
	uint16_t n_ports;
	struct vqs_port_conf ports[VQS_MAX_PORTS];
};

/* socket_dir: where vhost-user sockets without path= are created. */
int vqs_config_load(struct vqs_config *c, const char *file,
		    const char *socket_dir, char *err, size_t len);
/* One line (modified in place); line_no is for the port's record. */
int vqs_config_apply_line(struct vqs_config *c, char *line, unsigned int line_no,
			  const char *socket_dir, char *err, size_t len);
void vqs_config_init(struct vqs_config *c);

#endif
