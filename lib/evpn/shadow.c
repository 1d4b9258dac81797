/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include <rte_common.h>

#include "shadow.h"
#include "vqs.h"
#include "vqs_evpn.h"

/* Every shadow device's alias: this, the port's name, " of ", and the
 * owner (the switch's control socket: one switch per socket). */
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

/* 1: name is a device this switch made (for any of its ports), 0: no
 * such device, -EEXIST: someone else's (an operator's, another
 * switch's); -errno. */
static int
ours(struct vqs_nl *nl, const char *name, const char *owner, int *ifindex)
{
	char alias[256], tail[160];
	size_t n, t;
	int rc;

	*ifindex = (int)if_nametoindex(name);
	if (*ifindex == 0)
		return 0;
	rc = vqs_nl_link_alias(nl, *ifindex, alias, sizeof(alias));
	if (rc == -ENODEV)
		return 0;
	if (rc != 0)
		return rc;
	snprintf(tail, sizeof(tail), " of %s", owner);
	n = strlen(alias);
	t = strlen(tail);
	return strncmp(alias, ALIAS_MARK, strlen(ALIAS_MARK)) == 0 && n > t &&
	       strcmp(alias + n - t, tail) == 0 ? 1 : -EEXIST;
}

static void
remove_one(struct vqs_nl *nl, const char *name, const char *owner)
{
	int ifindex;

	if (ours(nl, name, owner, &ifindex) == 1)
		vqs_nl_link_del(nl, ifindex);
}

void
vqs_shadow_remove(struct vqs_nl *nl, struct vqs_shadow *s, const char *owner)
{
	/* The ports first: the kernel drops their FDB entries with them,
	 * and FRR withdraws the MACs. A veth end takes its peer along. */
	remove_one(nl, s->lp, owner);
	remove_one(nl, s->peer, owner);
	remove_one(nl, s->vx, owner);
	remove_one(nl, s->br, owner);
	s->br_if = s->vx_if = s->lp_if = 0;
}

/* The device just made under name: its index, marked as ours; or 0 and
 * the device removed again (made but not marked, it would be someone
 * else's to the next start). */
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

/* No IPv6 on a shadow device: nothing there may configure the host's
 * stack (router advertisements). A kernel without IPv6 has no file. */
static int
no_ipv6(const char *dev)
{
	char path[96];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (write(fd, "1", 1) != 1)
		rc = -errno;
	close(fd);
	return rc;
}

int
vqs_shadow_make(struct vqs_nl *nl, struct vqs_shadow *s, const char *port, const char *owner,
		uint32_t vni, uint32_t local_ip, struct vqs_err *e)
{
	const char *names[] = { s->br, s->vx, s->lp, s->peer };
	int rc, ifindex, peer_if = 0;
	char alias[256];
	unsigned int i;

	for (i = 0; i < RTE_DIM(names); i++) {
		rc = ours(nl, names[i], owner, &ifindex);
		if (rc == -EEXIST)
			return vqs_err_set(e, rc, "device %s exists and this vqswitch did not make it: "
					   "not touched (another --evpn-prefix?)", names[i]);
		if (rc < 0)
			return vqs_err_set(e, rc, "device %s: %s", names[i], strerror(-rc));
	}
	/* Ours, from an earlier run: made anew, so that each is as asked now. */
	vqs_shadow_remove(nl, s, owner);
	snprintf(alias, sizeof(alias), "%s%s of %s", ALIAS_MARK, port, owner);
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
	for (i = 0; rc == 0 && i < RTE_DIM(names); i++)
		rc = no_ipv6(names[i]);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->br_if, 0);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->vx_if, s->br_if);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, s->lp_if, s->br_if);
	/* The vxlan device listens on its UDP port of every address: what
	 * anyone sends there must reach nothing. Neither port learns, and
	 * isolated ports forward nothing to each other; the bridge and the
	 * veth's peer have no address and answer no ARP. */
	if (rc == 0)
		rc = vqs_nl_brport_quiet(nl, s->vx_if);
	if (rc == 0)
		rc = vqs_nl_brport_quiet(nl, s->lp_if);
	if (rc == 0)
		rc = vqs_nl_link_set(nl, peer_if, 0);
	if (rc != 0) {
		vqs_shadow_remove(nl, s, owner);
		return vqs_err_set(e, rc, "cannot make the EVPN devices %s, %s, %s: %s", s->br, s->vx,
				   s->lp, strerror(-rc));
	}
	return 0;
}

bool
vqs_shadow_intact(const struct vqs_shadow *s)
{
	return s->br_if != 0 && (int)if_nametoindex(s->br) == s->br_if &&
	       (int)if_nametoindex(s->vx) == s->vx_if && (int)if_nametoindex(s->lp) == s->lp_if;
}
