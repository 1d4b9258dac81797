/* SPDX-License-Identifier: BSD-3-Clause
 * One EVPN port's shadow devices in the kernel (vqs_evpn.h): a bridge, a
 * vxlan device in it, and a veth pair with one end in it (the local
 * MACs' port; a veth rather than a dummy device, which not every kernel
 * has built). Each gets an alias that says the switch made it, so that
 * the switch removes or remakes only its own, never an operator's device
 * of the same name.
 */
#ifndef VQS_EVPN_SHADOW_H
#define VQS_EVPN_SHADOW_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "nl.h"

struct vqs_shadow {
	char br[IFNAMSIZ], vx[IFNAMSIZ], lp[IFNAMSIZ], peer[IFNAMSIZ];
	int br_if, vx_if, lp_if; /* lp: the veth end in the bridge */
};

/* The names of VNI's shadow. */
void vqs_shadow_names(struct vqs_shadow *s, const char *prefix, uint32_t vni);
/* Made anew (this switch's left from an earlier run removed first; owner
 * names the switch), all up. On failure nothing of it is left. */
int vqs_shadow_make(struct vqs_nl *nl, struct vqs_shadow *s, const char *port, const char *owner,
		    uint32_t vni, uint32_t local_ip, struct vqs_err *e);
/* Removed, each device only if it is still this switch's. */
void vqs_shadow_remove(struct vqs_nl *nl, struct vqs_shadow *s, const char *owner);
/* Every device still there under its name and index. */
bool vqs_shadow_intact(const struct vqs_shadow *s);

#endif
