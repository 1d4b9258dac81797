/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include <rte_common.h>

#include "shadow.h"
#include "vqs.h"
#include "vqs_evpn.h"

/* Every shadow device's alias starts so; the port's name follows. */
#define ALIAS_MARK "vqswitch evpn shadow of port "

void
vqs_shadow_names(struct vqs_shadow *s, const char *prefix, uint32_t vni)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->br, sizeof(s->br), "%s%ub", prefix, vni);
	snprintf(s->vx, sizeof(s->vx), "%s%uv", prefix, vni);
	snprintf(s->lp, sizeof(s->lp), "%s%ud", prefix, vni);
	snprintf(s->peer, sizeof(s->peer), "%s%up", prefix, vni);
}

/* 1: name is a device the switch made, 0: no such device, -EEXIST: a
 * device the switch did not make; -errno. */
static int
ours(struct vqs_nl *nl, const char *name, int *ifindex)
{
	char alias[128];
	int rc;

	*ifindex = (int)if_nametoindex(name);
	if (*ifindex == 0)
		return 0;
	rc = vqs_nl_link_alias(nl, *ifindex, alias, sizeof(alias));
	if (rc == -ENODEV)
		return 0;
	if (rc != 0)
		return rc;
	return strncmp(alias, ALIAS_MARK, strlen(ALIAS_MARK)) == 0 ? 1 : -EEXIST;
}

static void
remove_one(struct vqs_nl *nl, const char *name)
{
	int ifindex;

	if (ours(nl, name, &ifindex) == 1)
		vqs_nl_link_del(nl, ifindex);
}

void
vqs_shadow_remove(struct vqs_nl *nl, struct vqs_shadow *s)
{
	/* The ports first: the kernel drops their FDB entries with them,
	 * and FRR withdraws the MACs. A veth end takes its peer along. */
	remove_one(nl, s->lp);
	remove_one(nl, s->peer);
	remove_one(nl, s->vx);
	remove_one(nl, s->br);
	s->br_if = s->vx_if = s->lp_if = 0;
}

/* The device just made under name: its index, marked as ours; or 0 and
 * the device removed again (made but not marked, it would be an
 * operator's to the next start). */
static int
mark(struct vqs_nl *nl, const char *name, const char *alias, int *rc)
{
	int ifindex = (int)if_nametoindex(name);

	if (ifindex == 0) {
		*rc = -ENODEV;
		return 0;
	}
	*rc = vqs_nl_link_alias_set(nl, ifindex, alias);
	if (*rc != 0) {
		vqs_nl_link_del(nl, ifindex);
		return 0;
	}
	return ifindex;
}

int
vqs_shadow_make(struct vqs_nl *nl, struct vqs_shadow *s, const char *port, uint32_t vni,
		uint32_t local_ip, struct vqs_err *e)
{
	const char *names[] = { s->br, s->vx, s->lp, s->peer };
	int rc, ifindex, peer_if = 0;
	char alias[128];
	unsigned int i;

	for (i = 0; i < RTE_DIM(names); i++) {
		rc = ours(nl, names[i], &ifindex);
		if (rc == -EEXIST)
			return vqs_err_set(e, rc, "device %s exists and vqswitch did not make it: "
					   "not touched (another --evpn-prefix?)", names[i]);
		if (rc < 0)
			return vqs_err_set(e, rc, "device %s: %s", names[i], strerror(-rc));
	}
	/* Ours, from an earlier run: made anew, so that each is as asked now. */
	vqs_shadow_remove(nl, s);
	snprintf(alias, sizeof(alias), "%s%s", ALIAS_MARK, port);
	rc = vqs_nl_bridge_add(nl, s->br);
	if (rc == 0)
		s->br_if = mark(nl, s->br, alias, &rc);
	if (rc == 0)
		rc = vqs_nl_vxlan_add(nl, s->vx, vni, local_ip, VQS_EVPN_SHADOW_PORT);
	if (rc == 0)
		s->vx_if = mark(nl, s->vx, alias, &rc);
	if (rc == 0)
		rc = vqs_nl_veth_add(nl, s->lp, s->peer);
	if (rc == 0)
		s->lp_if = mark(nl, s->lp, alias, &rc);
	if (rc == 0)
		peer_if = mark(nl, s->peer, alias, &rc);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->br_if, 0);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->vx_if, s->br_if);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->lp_if, s->br_if);
	/* Only the switch's entries on it: the peer's own frames (IPv6
	 * neighbour discovery) would be learned and advertised. */
	if (rc == 0)
		rc = vqs_nl_brport_no_learning(nl, s->lp_if);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, peer_if, 0);
	if (rc != 0) {
		vqs_shadow_remove(nl, s);
		return vqs_err_set(e, rc, "cannot make the EVPN devices %s, %s, %s: %s", s->br, s->vx,
				   s->lp, strerror(-rc));
	}
	return 0;
}
