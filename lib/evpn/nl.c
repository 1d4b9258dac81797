/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <bsd/string.h>
#include <libmnl/libmnl.h>

#include "nl.h"

/* Room for a dump's batch of messages (the kernel fills up to a page or
 * two per read) and for any request we send. */
#define NL_BUF 32768

struct vqs_nl {
	struct mnl_socket *req; /* requests and dumps, answered in turn */
	struct mnl_socket *ev;  /* RTNLGRP_NEIGH events, read without waiting */
	unsigned int seq;
	char buf[NL_BUF];
};

struct vqs_nl *
vqs_nl_open(void)
{
	/* A kernel that does not answer within a second is taken as failed:
	 * the control thread serves operators too. */
	struct timeval tv = { .tv_sec = 1 };
	struct vqs_nl *nl = calloc(1, sizeof(*nl));
	int one = 1;
	int err;

	if (nl == NULL)
		return NULL;
	nl->req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	nl->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nl->req == NULL || nl->ev == NULL ||
	    mnl_socket_bind(nl->req, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_bind(nl->ev, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(nl->req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    mnl_socket_setsockopt(nl->req, NETLINK_GET_STRICT_CHK, &one, sizeof(one)) < 0) {
		err = errno;
		vqs_nl_close(nl);
		errno = err;
		return NULL;
	}
	nl->seq = (unsigned int)time(NULL);
	return nl;
}

void
vqs_nl_close(struct vqs_nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->req != NULL)
		mnl_socket_close(nl->req);
	if (nl->ev != NULL)
		mnl_socket_close(nl->ev);
	free(nl);
}

int
vqs_nl_event_fd(const struct vqs_nl *nl)
{
	return mnl_socket_get_fd(nl->ev);
}

static struct nlmsghdr *
msg_start(struct vqs_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* What a request's answers are for. */
struct answer {
	int (*fn)(const struct vqs_nl_fdb *e, void *arg); /* dumps of FDB entries */
	void *arg;
	char *alias;     /* a link's IFLA_IFALIAS */
	size_t alias_len;
	bool interrupted;
	int stopped; /* fn's non-zero */
};

static int fdb_parse(const struct nlmsghdr *m, struct vqs_nl_fdb *e);
static void alias_parse(const struct nlmsghdr *m, char *alias, size_t len);

static int
answer_cb(const struct nlmsghdr *m, void *data)
{
	struct answer *a = data;
	struct vqs_nl_fdb e;

	if (m->nlmsg_flags & NLM_F_DUMP_INTR)
		a->interrupted = true;
	if (a->alias != NULL && m->nlmsg_type == RTM_NEWLINK)
		alias_parse(m, a->alias, a->alias_len);
	if (a->fn == NULL || a->stopped != 0 || m->nlmsg_type != RTM_NEWNEIGH ||
	    fdb_parse(m, &e) != 0)
		return MNL_CB_OK;
	a->stopped = a->fn(&e, a->arg);
	return MNL_CB_OK;
}

/* Sends h and runs the answers through a until the kernel's ACK, error
 * or the dump's end. -errno; -EINTR for a dump the kernel says changed
 * while it was read; fn's error for a dump it stopped (the rest of the
 * dump is read and dropped). Answers with another sequence number are
 * those of an earlier request that timed out: skipped. */
static int
request(struct vqs_nl *nl, struct nlmsghdr *h, struct answer *a)
{
	unsigned int seq = h->nlmsg_seq;
	struct answer none = { 0 };
	const struct nlmsghdr *m;
	int len, rc = 1;
	ssize_t n;

	if (a == NULL)
		a = &none;
	if (mnl_socket_sendto(nl->req, h, h->nlmsg_len) < 0)
		return -errno;
	while (rc > 0) {
		n = mnl_socket_recvfrom(nl->req, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)n;
		for (m = (const void *)nl->buf; rc > 0 && mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_type == NLMSG_DONE) {
				/* A dump's error comes in its DONE. */
				rc = mnl_nlmsg_get_payload_len(m) >= sizeof(int) ?
				     *(const int *)mnl_nlmsg_get_payload(m) : 0;
				if (rc > 0)
					rc = 0;
			} else if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(m);

				rc = mnl_nlmsg_get_payload_len(m) < sizeof(*err) ? -EBADMSG : err->error;
			} else {
				answer_cb(m, a);
			}
		}
	}
	if (rc < 0)
		return rc;
	if (a->stopped != 0)
		return a->stopped < 0 ? a->stopped : -ECANCELED;
	return a->interrupted ? -EINTR : 0;
}

int
vqs_nl_events(struct vqs_nl *nl, void (*fn)(const struct vqs_nl_fdb *e, bool gone, void *arg),
	      void *arg)
{
	const struct nlmsghdr *m;
	struct vqs_nl_fdb e;
	int count = 0, len;
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(nl->ev, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return count;
			if (errno == ENOBUFS) {
				/* Events were lost: the caller dumps again, and
				 * what is queued now is older than that dump. */
				while (mnl_socket_recvfrom(nl->ev, nl->buf, sizeof(nl->buf)) > 0)
					;
				return -ENOBUFS;
			}
			return -errno;
		}
		len = (int)n;
		for (m = (const void *)nl->buf; mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
			if ((m->nlmsg_type != RTM_NEWNEIGH && m->nlmsg_type != RTM_DELNEIGH) ||
			    fdb_parse(m, &e) != 0)
				continue;
			fn(&e, m->nlmsg_type == RTM_DELNEIGH, arg);
			count++;
		}
	}
}

/* ---- links ---- */

static int
link_attr_cb(const struct nlattr *at, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(at, IFLA_MAX) > 0)
		tb[mnl_attr_get_type(at)] = at;
	return MNL_CB_OK;
}

static void
alias_parse(const struct nlmsghdr *m, char *alias, size_t len)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };

	if (mnl_attr_parse(m, sizeof(struct ifinfomsg), link_attr_cb, tb) == MNL_CB_OK &&
	    tb[IFLA_IFALIAS] != NULL && mnl_attr_validate(tb[IFLA_IFALIAS], MNL_TYPE_STRING) == 0)
		strlcpy(alias, mnl_attr_get_str(tb[IFLA_IFALIAS]), len);
}

int
vqs_nl_link_alias(struct vqs_nl *nl, int ifindex, char *alias, size_t len)
{
	struct nlmsghdr *h = msg_start(nl, RTM_GETLINK, NLM_F_ACK); /* the link, then the ACK */
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	struct answer a = { .alias = alias, .alias_len = len };

	alias[0] = '\0';
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return request(nl, h, &a);
}

/* RTM_NEWLINK of a new device of kind, named name; returns the message
 * so that the caller can add IFLA_INFO_DATA, and the nest. (The kernel
 * takes an alias only for a device that exists: vqs_nl_link_set.) */
static struct nlmsghdr *
link_new(struct vqs_nl *nl, const char *name, const char *kind, struct nlattr **linkinfo)
{
	struct nlmsghdr *h = msg_start(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	*linkinfo = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, kind);
	return h;
}

int
vqs_nl_bridge_add(struct vqs_nl *nl, const char *name)
{
	struct nlattr *li;
	struct nlmsghdr *h = link_new(nl, name, "bridge", &li);

	mnl_attr_nest_end(h, li);
	return request(nl, h, NULL);
}

int
vqs_nl_veth_add(struct vqs_nl *nl, const char *name, const char *peer)
{
	struct nlattr *li, *data, *pi;
	struct nlmsghdr *h = link_new(nl, name, "veth", &li);
	struct ifinfomsg *ifi;

	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	pi = mnl_attr_nest_start(h, VETH_INFO_PEER);
	ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, peer);
	mnl_attr_nest_end(h, pi);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	return request(nl, h, NULL);
}

int
vqs_nl_vxlan_add(struct vqs_nl *nl, const char *name, uint32_t vni, uint32_t local_ip,
		 uint16_t udp_port)
{
	struct nlattr *li, *data;
	struct nlmsghdr *h = link_new(nl, name, "vxlan", &li);

	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	mnl_attr_put_u32(h, IFLA_VXLAN_ID, vni);
	mnl_attr_put(h, IFLA_VXLAN_LOCAL, sizeof(local_ip), &local_ip);
	mnl_attr_put_u16(h, IFLA_VXLAN_PORT, htons(udp_port));
	mnl_attr_put_u8(h, IFLA_VXLAN_LEARNING, 0);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	return request(nl, h, NULL);
}

int
vqs_nl_link_alias_set(struct vqs_nl *nl, int ifindex, const char *alias)
{
	struct nlmsghdr *h = msg_start(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(h, IFLA_IFALIAS, alias);
	return request(nl, h, NULL);
}

int
vqs_nl_link_set(struct vqs_nl *nl, int ifindex, int master)
{
	struct nlmsghdr *h = msg_start(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	/* NOARP: the shadow has no address, and answers for none. */
	ifi->ifi_flags = IFF_UP | IFF_NOARP;
	ifi->ifi_change = IFF_UP | IFF_NOARP;
	if (master != 0)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	return request(nl, h, NULL);
}

int
vqs_nl_brport_quiet(struct vqs_nl *nl, int ifindex)
{
	struct nlmsghdr *h = msg_start(nl, RTM_SETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	struct nlattr *pi;

	ifi->ifi_family = AF_BRIDGE;
	ifi->ifi_index = ifindex;
	pi = mnl_attr_nest_start(h, IFLA_PROTINFO);
	mnl_attr_put_u8(h, IFLA_BRPORT_LEARNING, 0);
	mnl_attr_put_u8(h, IFLA_BRPORT_ISOLATED, 1);
	mnl_attr_nest_end(h, pi);
	return request(nl, h, NULL);
}

int
vqs_nl_link_del(struct vqs_nl *nl, int ifindex)
{
	struct nlmsghdr *h = msg_start(nl, RTM_DELLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return request(nl, h, NULL);
}

/* ---- bridge FDB ---- */

static int
neigh_attr_cb(const struct nlattr *at, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(at, NDA_MAX) > 0)
		tb[mnl_attr_get_type(at)] = at;
	return MNL_CB_OK;
}

/* 0 for a bridge FDB entry (AF_BRIDGE, with a MAC address). */
static int
fdb_parse(const struct nlmsghdr *m, struct vqs_nl_fdb *e)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	const struct ndmsg *nd;

	if (mnl_nlmsg_get_payload_len(m) < sizeof(*nd))
		return -EINVAL;
	nd = mnl_nlmsg_get_payload(m);
	if (nd->ndm_family != AF_BRIDGE ||
	    mnl_attr_parse(m, sizeof(*nd), neigh_attr_cb, tb) != MNL_CB_OK ||
	    tb[NDA_LLADDR] == NULL || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != RTE_ETHER_ADDR_LEN)
		return -EINVAL;
	memset(e, 0, sizeof(*e));
	e->ifindex = nd->ndm_ifindex;
	e->flags = nd->ndm_flags;
	e->state = nd->ndm_state;
	memcpy(&e->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), RTE_ETHER_ADDR_LEN);
	if (tb[NDA_DST] != NULL && mnl_attr_get_payload_len(tb[NDA_DST]) == sizeof(uint32_t))
		memcpy(&e->dst, mnl_attr_get_payload(tb[NDA_DST]), sizeof(uint32_t));
	if (tb[NDA_MASTER] != NULL && mnl_attr_validate(tb[NDA_MASTER], MNL_TYPE_U32) == 0)
		e->master = (int)mnl_attr_get_u32(tb[NDA_MASTER]);
	if (tb[NDA_VLAN] != NULL && mnl_attr_validate(tb[NDA_VLAN], MNL_TYPE_U16) == 0)
		e->vlan = mnl_attr_get_u16(tb[NDA_VLAN]);
	return 0;
}

static struct nlmsghdr *
fdb_msg(struct vqs_nl *nl, uint16_t type, uint16_t flags, int ifindex,
	const struct rte_ether_addr *mac, uint16_t state)
{
	struct nlmsghdr *h = msg_start(nl, type, flags | NLM_F_ACK);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));

	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = ifindex;
	nd->ndm_flags = NTF_MASTER;
	nd->ndm_state = state;
	mnl_attr_put(h, NDA_LLADDR, RTE_ETHER_ADDR_LEN, mac);
	return h;
}

int
vqs_nl_fdb_add(struct vqs_nl *nl, int ifindex, const struct rte_ether_addr *mac, uint16_t state)
{
	return request(nl, fdb_msg(nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex, mac,
				   state), NULL);
}

int
vqs_nl_fdb_del(struct vqs_nl *nl, int ifindex, const struct rte_ether_addr *mac)
{
	return request(nl, fdb_msg(nl, RTM_DELNEIGH, 0, ifindex, mac, 0), NULL);
}

int
vqs_nl_fdb_dump(struct vqs_nl *nl, int master, int (*fn)(const struct vqs_nl_fdb *e, void *arg),
		void *arg)
{
	struct nlmsghdr *h = msg_start(nl, RTM_GETNEIGH, NLM_F_DUMP);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof(*nd));
	struct answer a = { .fn = fn, .arg = arg };

	nd->ndm_family = AF_BRIDGE;
	/* Only the bridge's ports (and the vxlan device's own table): the
	 * kernel filters with strict checking on (vqs_nl_open). */
	mnl_attr_put_u32(h, NDA_MASTER, (uint32_t)master);
	return request(nl, h, &a);
}
