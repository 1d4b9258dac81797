/* SPDX-License-Identifier: BSD-3-Clause
 * evpn/show [PORT]: each evpn=on tunnel port's kernel devices, what it
 * exports to and imports from the kernel's FDB (which FRR reads and
 * writes), its counters, its last sync and its last error.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>

#include "cmd.h"
#include "vqs_evpn.h"

/* Each list stops there: a page of vqctl's answer, not the table. */
#define LIST_MAX 10000

struct lists {
	struct vqs_answer *ans;
	uint32_t macs, vteps, local;
	uint32_t n_macs, n_vteps, n_local;
};

static void
list_row(const struct rte_ether_addr *mac, uint32_t vtep, void *arg)
{
	struct lists *l = arg;
	char m[RTE_ETHER_ADDR_FMT_SIZE], ip[INET_ADDRSTRLEN];
	uint32_t o;

	rte_ether_format_addr(m, sizeof(m), mac);
	vqs_ipv4_str(vtep, ip, sizeof(ip));
	if (vtep == 0) {
		if (l->n_local++ < LIST_MAX)
			vqs_answer_str(l->ans, l->local, NULL, m);
	} else if (rte_is_zero_ether_addr(mac)) {
		if (l->n_vteps++ < LIST_MAX)
			vqs_answer_str(l->ans, l->vteps, NULL, ip);
	} else if (l->n_macs++ < LIST_MAX) {
		o = vqs_answer_obj(l->ans, l->macs, NULL);
		vqs_answer_str(l->ans, o, "mac", m);
		vqs_answer_str(l->ans, o, "vtep", ip);
	}
}

static void
show_port(struct vqs_ctl_ctx *x, uint32_t list, const struct vqs_evpn_info *in)
{
	uint32_t o = vqs_answer_obj(x->ans, list, NULL);
	struct lists l = { .ans = x->ans };

	vqs_answer_str(x->ans, o, "port", in->port);
	vqs_answer_uint(x->ans, o, "vni", in->vni);
	vqs_answer_uint(x->ans, o, "vlan", in->vlan);
	vqs_answer_str(x->ans, o, "bridge_device", in->bridge_dev);
	vqs_answer_str(x->ans, o, "vxlan_device", in->vxlan_dev);
	vqs_answer_str(x->ans, o, "local_device", in->local_dev);
	vqs_answer_uint(x->ans, o, "local_macs_exported", in->exported);
	vqs_answer_uint(x->ans, o, "remote_macs_imported", in->imported);
	vqs_answer_uint(x->ans, o, "remote_vteps", in->vteps);
	vqs_answer_uint(x->ans, o, "syncs", in->syncs);
	vqs_answer_uint(x->ans, o, "exported_adds", in->exported_adds);
	vqs_answer_uint(x->ans, o, "exported_dels", in->exported_dels);
	vqs_answer_uint(x->ans, o, "imported_adds", in->imported_adds);
	vqs_answer_uint(x->ans, o, "imported_dels", in->imported_dels);
	vqs_answer_uint(x->ans, o, "errors", in->errors);
	if (in->last_sync_ms == UINT64_MAX)
		vqs_answer_str(x->ans, o, "last_sync_ms_ago", "never");
	else
		vqs_answer_uint(x->ans, o, "last_sync_ms_ago", in->last_sync_ms);
	vqs_answer_str(x->ans, o, "last_error", in->last_error);
	l.vteps = vqs_answer_list(x->ans, o, "vteps", "vtep");
	l.macs = vqs_answer_list(x->ans, o, "remote_macs", "mac");
	l.local = vqs_answer_list(x->ans, o, "local_macs", "mac");
	vqs_evpn_walk(in->port, list_row, &l);
	if (l.n_macs > LIST_MAX || l.n_local > LIST_MAX)
		vqs_answer_str(x->ans, o, "lists", "truncated to 10000 entries each");
}

static int
cmd_evpn_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t list = vqs_answer_list(x->ans, VQS_ANSWER_TOP, NULL, "evpn");
	struct vqs_evpn_info in;
	unsigned int i;
	bool found = false;

	for (i = 0; vqs_evpn_info(i, &in); i++) {
		if (argc == 2 && strcmp(in.port, argv[1]) != 0)
			continue;
		show_port(x, list, &in);
		found = true;
	}
	if (argc == 2 && !found)
		return vqs_err_set(&x->r->err, -ENOENT, "no evpn=on tunnel port named '%s'", argv[1]);
	return 0;
}

static const struct vqs_ctl_cmd commands[] = {
	{ "evpn/show", "[PORT]", "BGP EVPN: each evpn=on port's kernel devices, MACs exported "
	  "and imported, remote VTEPs, counters, last sync and error", 0, 1, VQS_CMD_QUERY,
	  cmd_evpn_show },
};

void
vqs_ctl_evpn_register(void)
{
	vqs_ctl_register("BGP EVPN", commands, RTE_DIM(commands));
}
