/* SPDX-License-Identifier: BSD-3-Clause
 * The EVPN ports and their sync with the kernel's FDB (vqs_evpn.h).
 *
 * Each port keeps the kernel's view of its shadow, MAC by MAC: where the
 * shadow bridge has the MAC (FRR's remote entry on the vxlan port, our
 * static one on the local port) and the VTEP of the vxlan device's own
 * entry; and the type-3 VTEPs. A dump of the shadow bridge fills it when
 * the port starts (and again if the kernel dropped events); the kernel's
 * events keep it current. A sync compares, never replays:
 * - import, when the view changed: FRR's MACs and VTEPs against the MAC
 *   table's EVPN entries and the tunnel's remotes;
 * - export, every 250 ms (local MACs are not kernel events): the MAC
 *   table's local MACs against our entries, at most OPS_PER_SYNC writes.
 * So a lost event (a dump), a full table or an FRR restart is mended by a
 * later sync, and nothing is quadratic in the kernel's table.
 */
#define VQS_LOG_MODULE VQS_LOG_EVPN
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_jhash.h>

#include "nl.h"
#include "ratelimit.h"
#include "shadow.h"
#include "vqs.h"
#include "vqs_evpn.h"
#include "vqs_switch.h"

#define SYNC_PERIOD_MS  250  /* exports: local MACs are not kernel events */
#define IMPORT_DELAY_MS 50   /* FRR's changes within this go into one import */
#define IMPORT_GAP_MS   200  /* and imports at most this often */
#define DUMP_GAP_MS     1000 /* a dump (events lost) at most this often */
#define CHECK_PERIOD_MS 5000 /* shadow devices still there? */
#define OPS_PER_SYNC    256  /* kernel FDB writes per port and sync */
/* A remote VTEP gone from the kernel is kept this long, with its MACs:
 * FRR removes everything it installed when it stops, and puts it back
 * when it starts again (a restart must not cut traffic). A MAC withdrawn
 * while its VTEP stays goes at once. */
#define VTEP_HOLD_S     60
/* What the switch writes for a local MAC: a static entry, which zebra
 * advertises and moves when a remote host has the MAC newer
 * (docs/evpn.md: not sticky, not permanent, not dynamic). */
#define EXPORT_STATE    NUD_NOARP

/* Where the shadow bridge has a MAC: on the vxlan port (FRR's, learned
 * from outside, or another entry) or on the local port (our static one,
 * or another: the veth's own address). */
enum where { W_NONE, W_REMOTE, W_VX_OTHER, W_LOCAL, W_LP_OTHER };

/* The kernel's view of one MAC, as a hash table's data. */
#define VIEW(dst, w)    ((void *)(uintptr_t)((uint64_t)(dst) | (uint64_t)(w) << 32))
#define VIEW_DST(v)     ((uint32_t)(uintptr_t)(v))
#define VIEW_WHERE(v)   ((enum where)((uint64_t)(uintptr_t)(v) >> 32))

/* A MAC and the VTEP it is behind (0: local). */
struct mac_vtep {
	struct rte_ether_addr mac;
	uint32_t vtep;
};

struct list {
	struct mac_vtep *v;
	uint32_t n, cap;
};

/* A remote VTEP, and when the kernel last had it. */
struct held_vtep {
	uint32_t ip;
	uint64_t seen_tsc;
};

struct evpn_port {
	char name[VQS_NAME_MAX];
	struct vqs_port *port;  /* the running port of that name */
	struct vqs_port *prev;  /* the port it replaces, until that one goes */
	uint32_t vni, local_ip;
	uint16_t vlan;
	char bridge[VQS_NAME_MAX];
	struct vqs_shadow sh;
	struct rte_hash *view;  /* MAC -> VIEW(dst, where) */
	uint32_t view_room;     /* entries not ours at most */
	uint32_t t3[VQS_VXLAN_MAX_REMOTES]; /* type-3 VTEPs */
	uint32_t n_t3;
	bool need_dump, need_import;
	uint64_t import_at, last_import, last_dump;
	struct list installed;  /* imported MACs in the MAC table */
	struct list prev_installed; /* the replaced port's, while it is there */
	struct held_vtep vteps[VQS_VXLAN_MAX_REMOTES]; /* remote VTEPs from EVPN */
	uint32_t n_vteps;
	bool need_publish;      /* remotes changed, no snapshot has them yet */
	uint32_t skipped;       /* remote MACs the last import left out */
	uint64_t pending_flush; /* bits: remote indexes to flush after it */
	struct list local;      /* the last export's local MACs */
	/* Counters; read by any thread under ev_lock. */
	uint32_t exported, imported;
	uint64_t syncs, exported_adds, exported_dels, imported_adds, imported_dels, errors;
	uint64_t last_sync_tsc;
	char last_error[128];
};

_Static_assert(VQS_VXLAN_MAX_REMOTES <= 64, "pending_flush is a 64-bit mask");

static struct evpn_port *eports[VQS_MAX_PORTS];
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static char prefix[VQS_EVPN_PREFIX_MAX + 1] = VQS_EVPN_PREFIX;
static char owner[VQS_PATH_MAX] = "vqswitch";
static struct vqs_nl *nl;
static uint64_t next_export, next_check;
static struct vqs_ratelimit err_rl = VQS_RATELIMIT_INIT;

int
vqs_evpn_set_prefix(const char *p, struct vqs_err *e)
{
	size_t i, n = strlen(p);

	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
			break;
	if (n == 0 || n > VQS_EVPN_PREFIX_MAX || i < n || (p[0] >= '0' && p[0] <= '9'))
		return vqs_err_set(e, -EINVAL, "--evpn-prefix=%s: expected 1 to %d of a-z, 0-9 and -, "
				   "not starting with a digit", p, VQS_EVPN_PREFIX_MAX);
	strlcpy(prefix, p, sizeof(prefix));
	return 0;
}

void
vqs_evpn_set_owner(const char *o)
{
	strlcpy(owner, o, sizeof(owner));
}

static uint64_t
ms_tsc(uint64_t ms)
{
	return ms * rte_get_tsc_hz() / 1000;
}

/* ---- lists of (MAC, VTEP), sorted by MAC ---- */

static int
push(struct list *l, const struct rte_ether_addr *mac, uint32_t vtep)
{
	struct mac_vtep *v;

	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;

		v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].mac = *mac;
	l->v[l->n++].vtep = vtep;
	return 0;
}

static int
cmp_mac(const void *a, const void *b)
{
	return memcmp(&((const struct mac_vtep *)a)->mac, &((const struct mac_vtep *)b)->mac,
		      RTE_ETHER_ADDR_LEN);
}

/* Sorted by MAC, one entry per MAC (the first). */
static void
sort_unique(struct list *l)
{
	uint32_t i, k = 0;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_mac);
	for (i = 0; i < l->n; i++)
		if (k == 0 || !rte_is_same_ether_addr(&l->v[i].mac, &l->v[k - 1].mac))
			l->v[k++] = l->v[i];
	l->n = k;
}

static void
list_free(struct list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- ports ---- */

static bool
any_port(void)
{
	unsigned int i;

	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL)
			return true;
	return false;
}

static void
port_error(struct evpn_port *ep, int rc, const char *what)
{
	pthread_mutex_lock(&ev_lock);
	ep->errors++;
	snprintf(ep->last_error, sizeof(ep->last_error), "%s: %s", what, strerror(-rc));
	pthread_mutex_unlock(&ev_lock);
	VQS_LOG_RL(&err_rl, WARNING, "port %s: %s: %s", ep->name, what, strerror(-rc));
}

static struct evpn_port *
find_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL && strcmp(eports[i]->name, name) == 0)
			return eports[i];
	return NULL;
}

static void
eport_free(struct evpn_port *ep)
{
	unsigned int i;

	pthread_mutex_lock(&ev_lock);
	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] == ep)
			eports[i] = NULL;
	pthread_mutex_unlock(&ev_lock);
	rte_hash_free(ep->view);
	list_free(&ep->installed);
	list_free(&ep->prev_installed);
	list_free(&ep->local);
	free(ep);
}

/* The view's capacity: three times what the bridge's MAC table holds;
 * FRR's entries take two thirds at most (view_room), so that the local
 * MACs always have room. */
static struct rte_hash *
view_create(struct evpn_port *ep, uint32_t fdb_capacity)
{
	static unsigned int n;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = 3 * RTE_MAX(fdb_capacity, 1024u),
		.key_len = sizeof(struct rte_ether_addr),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
	};

	snprintf(name, sizeof(name), "evpn%u_%u", ep->vni, n++);
	ep->view_room = 2 * RTE_MAX(fdb_capacity, 1024u);
	return rte_hash_create(&hp);
}

/* The port's VLAN now: the model's (set port tag= changes it there and
 * in the snapshot, not in the port's record). */
static uint16_t
port_vlan(struct vqs_switch *sw, const struct vqs_port *p)
{
	const struct vqs_port_conf *pc = vqs_conf_port(sw->conf, p->conf.name);

	return pc != NULL ? pc->vlan.tag : p->conf.vlan.tag;
}

/* Another EVPN port that this one cannot be beside: the same VNI (its
 * devices' names), or the same bridge and VLAN (one VNI's MACs). */
static const struct evpn_port *
clash(struct vqs_switch *sw, const struct vqs_port *p)
{
	unsigned int i;

	for (i = 0; i < VQS_MAX_PORTS; i++) {
		const struct evpn_port *o = eports[i];

		if (o != NULL && strcmp(o->name, p->conf.name) != 0 &&
		    (o->vni == p->conf.vx.vni ||
		     (o->vlan == port_vlan(sw, p) && strcmp(o->bridge, p->conf.bridge) == 0)))
			return o;
	}
	return NULL;
}

int
vqs_evpn_port_start(struct vqs_switch *sw, struct vqs_port *p, struct vqs_err *e)
{
	const struct vqs_vxlan_conf *vx = &p->conf.vx;
	struct vqs_bridge *b = vqs_switch_bridge(sw, p->conf.bridge);
	const struct evpn_port *o;
	struct evpn_port *ep;
	unsigned int i;
	int rc;

	if (p->conf.type != VQS_PORT_VXLAN || !vx->evpn)
		return 0;
	ep = find_name(p->conf.name);
	if (ep != NULL) {
		/* New settings for the port (restart_port): the one it
		 * replaces goes next, unless this one fails (stop gives the
		 * shadow back). The devices carry the VNI and the address. */
		if (ep->vni != vx->vni || ep->local_ip != vx->local_ip)
			return vqs_err_set(e, -EINVAL, "evpn: the vni and local_ip of an evpn=on port "
					   "change with del-port and add-port");
		ep->prev = ep->port;
		ep->port = p;
		/* Its remotes at once: the first snapshot with the new port
		 * has them; its MAC entries come with the next import. The
		 * old port's list is kept for it, should this one fail. */
		for (i = 0; i < ep->n_vteps; i++)
			vqs_tnl_remote_add(sw, p, ep->vteps[i].ip);
		list_free(&ep->prev_installed);
		ep->prev_installed = ep->installed;
		memset(&ep->installed, 0, sizeof(ep->installed));
		ep->need_import = true;
		ep->import_at = 0;
		return 0;
	}
	if ((o = clash(sw, p)) != NULL)
		return vqs_err_set(e, -EEXIST, "evpn: port %s has vni %u, or bridge %s's VLAN %u",
				   o->name, o->vni, o->bridge, o->vlan);
	if (b == NULL)
		return vqs_err_set(e, -ENOENT, "no bridge %s", p->conf.bridge);
	if (nl == NULL && (nl = vqs_nl_open()) == NULL)
		return vqs_err_set(e, -errno, "evpn: cannot open rtnetlink: %s", strerror(errno));
	ep = calloc(1, sizeof(*ep));
	if (ep == NULL) {
		rc = vqs_err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	strlcpy(ep->name, p->conf.name, sizeof(ep->name));
	strlcpy(ep->bridge, p->conf.bridge, sizeof(ep->bridge));
	ep->port = p;
	ep->vni = vx->vni;
	ep->local_ip = vx->local_ip;
	ep->vlan = port_vlan(sw, p);
	ep->view = view_create(ep, vqs_fdb_capacity(b->fdb));
	if (ep->view == NULL) {
		rc = vqs_err_set(e, -ENOMEM, "evpn: out of memory for the kernel's view");
		goto fail;
	}
	vqs_shadow_names(&ep->sh, prefix, vx->vni);
	rc = vqs_shadow_make(nl, &ep->sh, p->conf.name, owner, vx->vni, vx->local_ip, e);
	if (rc != 0)
		goto fail;
	ep->need_dump = true;
	pthread_mutex_lock(&ev_lock);
	for (i = 0; eports[i] != NULL; i++) /* fewer EVPN ports than ports */
		;
	eports[i] = ep;
	pthread_mutex_unlock(&ev_lock);
	VQS_LOG(INFO, "port %s: vni %u through %s, %s and %s", ep->name, ep->vni,
		ep->sh.br, ep->sh.vx, ep->sh.lp);
	return 0;
fail:
	if (ep != NULL) {
		rte_hash_free(ep->view);
		free(ep);
	}
	if (!any_port()) { /* nobody would read its events */
		vqs_nl_close(nl);
		nl = NULL;
	}
	return rc;
}

void
vqs_evpn_port_stop(struct vqs_switch *sw, struct vqs_port *p)
{
	unsigned int i;

	(void)sw;
	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct evpn_port *ep = eports[i];

		if (ep == NULL)
			continue;
		if (ep->prev == p) { /* replaced: the new port has the shadow */
			ep->prev = NULL;
			list_free(&ep->prev_installed);
			continue;
		}
		if (ep->port != p)
			continue;
		if (ep->prev != NULL) { /* the new port failed: back to the old */
			ep->port = ep->prev;
			ep->prev = NULL;
			list_free(&ep->installed);
			ep->installed = ep->prev_installed;
			memset(&ep->prev_installed, 0, sizeof(ep->prev_installed));
			ep->need_import = true;
			continue;
		}
		vqs_shadow_remove(nl, &ep->sh, owner);
		eport_free(ep);
	}
	if (nl != NULL && !any_port()) { /* nobody reads its events now */
		vqs_nl_close(nl);
		nl = NULL;
	}
}

/* ---- the kernel's view ---- */

static struct evpn_port *
find_ifindex(int ifindex)
{
	unsigned int i;

	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL && (eports[i]->sh.vx_if == ifindex || eports[i]->sh.lp_if == ifindex))
			return eports[i];
	return NULL;
}

static void
t3_change(struct evpn_port *ep, uint32_t dst, bool gone)
{
	uint32_t i;

	for (i = 0; i < ep->n_t3 && ep->t3[i] != dst; i++)
		;
	if (gone && i < ep->n_t3)
		ep->t3[i] = ep->t3[--ep->n_t3];
	else if (!gone && i == ep->n_t3 && ep->n_t3 < RTE_DIM(ep->t3))
		ep->t3[ep->n_t3++] = dst;
}

/* One entry of the shadow added, changed or gone (an event or a dump). */
static void
view_change(struct evpn_port *ep, const struct vqs_nl_fdb *f, bool gone)
{
	uint32_t dst = 0;
	enum where w = W_NONE, was;
	bool known = false;
	void *v;

	if (f->vlan != 0 || (f->ifindex != ep->sh.vx_if && f->ifindex != ep->sh.lp_if))
		return;
	if (f->master == 0 && f->ifindex == ep->sh.vx_if && f->dst != 0 &&
	    rte_is_zero_ether_addr(&f->mac)) {
		t3_change(ep, f->dst, gone);
		ep->need_import = true;
		return;
	}
	if (!rte_is_unicast_ether_addr(&f->mac) || rte_is_zero_ether_addr(&f->mac))
		return;
	if (rte_hash_lookup_data(ep->view, &f->mac, &v) >= 0) {
		dst = VIEW_DST(v);
		w = VIEW_WHERE(v);
		known = true;
	}
	was = w;
	if (f->master == 0) { /* the vxlan device's own entry: the VTEP */
		/* Kernels before 6.13 follow each one with a notice without
		 * its VTEP (rtnl_fdb_add's own): not a change. */
		if (f->ifindex != ep->sh.vx_if || f->dst == 0 || (gone && f->dst != dst))
			return;
		dst = gone ? 0 : f->dst;
	} else if (gone) { /* the bridge's entry, if still on that port */
		if (f->ifindex == ep->sh.vx_if ? was == W_REMOTE || was == W_VX_OTHER
					       : was == W_LOCAL || was == W_LP_OTHER)
			w = W_NONE;
	} else if (f->ifindex == ep->sh.vx_if) { /* the entry moves with the MAC */
		/* FRR's: learned from outside, or sticky (a MAC that must
		 * not move, which zebra installs without EXT_LEARNED). */
		w = (f->flags & (NTF_EXT_LEARNED | NTF_STICKY)) ? W_REMOTE : W_VX_OTHER;
	} else {
		w = (f->state & EXPORT_STATE) && !(f->state & NUD_PERMANENT) ? W_LOCAL : W_LP_OTHER;
	}
	if (dst == 0 && w == W_NONE) {
		rte_hash_del_key(ep->view, &f->mac);
	} else if (!known && w != W_LOCAL && (uint32_t)rte_hash_count(ep->view) >= ep->view_room) {
		/* A new MAC not ours: the last third is for local MACs. */
		port_error(ep, -ENOSPC, "the kernel's view is full");
	} else if (rte_hash_add_key_data(ep->view, &f->mac, VIEW(dst, w)) < 0) {
		port_error(ep, -ENOSPC, "the kernel's view is full");
	}
	if (f->ifindex == ep->sh.vx_if || was == W_REMOTE)
		ep->need_import = true;
}

static void
event_cb(const struct vqs_nl_fdb *f, bool gone, void *arg)
{
	struct evpn_port *ep = find_ifindex(f->ifindex);

	(void)arg;
	if (ep != NULL)
		view_change(ep, f, gone);
}

static int
dump_cb(const struct vqs_nl_fdb *f, void *arg)
{
	view_change(arg, f, false);
	return 0;
}

/* The view anew from a dump of the shadow bridge. The events that come
 * during it are read after it, and win. */
static void
dump(struct evpn_port *ep, uint64_t now)
{
	int rc;

	ep->last_dump = now;
	rte_hash_reset(ep->view);
	ep->n_t3 = 0;
	rc = vqs_nl_fdb_dump(nl, ep->sh.br_if, dump_cb, ep);
	if (rc != 0) {
		port_error(ep, rc, "reading the kernel's FDB");
		return;
	}
	ep->need_dump = false;
	ep->need_import = true;
}

/* ---- import ---- */

/* The remote VTEPs to have: the kernel's, and those it lost less than
 * VTEP_HOLD_S ago; ep->vteps becomes that. */
static void
vteps_update(struct evpn_port *ep, const uint32_t *now_ip, uint32_t n_now, uint64_t now)
{
	uint64_t hold = VTEP_HOLD_S * rte_get_tsc_hz();
	struct held_vtep v[VQS_VXLAN_MAX_REMOTES];
	uint32_t i, k, n = 0;

	for (i = 0; i < n_now && n < RTE_DIM(v); i++) {
		v[n].ip = now_ip[i];
		v[n++].seen_tsc = now;
	}
	for (k = 0; k < ep->n_vteps && n < RTE_DIM(v); k++) {
		for (i = 0; i < n_now && now_ip[i] != ep->vteps[k].ip; i++)
			;
		if (i == n_now && now - ep->vteps[k].seen_tsc < hold)
			v[n++] = ep->vteps[k];
	}
	pthread_mutex_lock(&ev_lock);
	memcpy(ep->vteps, v, n * sizeof(v[0]));
	ep->n_vteps = n;
	pthread_mutex_unlock(&ev_lock);
}

static bool
vtep_wanted(const struct evpn_port *ep, uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < ep->n_vteps; i++)
		if (ep->vteps[i].ip == ip)
			return true;
	return false;
}

/* Publishes the port's new remotes; then, the old snapshot gone, the MAC
 * entries of remotes that went (pending_flush). */
static bool
publish(struct vqs_switch *sw, struct evpn_port *ep, struct vqs_fdb *fdb)
{
	unsigned int r;

	if (!ep->need_publish && ep->pending_flush == 0)
		return true;
	if (vqs_dp_publish(sw) != 0) {
		port_error(ep, -ENOMEM, "publishing the remotes");
		return false;
	}
	ep->need_publish = false;
	for (r = 0; r < VQS_VXLAN_MAX_REMOTES; r++)
		if (ep->pending_flush & (1ull << r))
			vqs_fdb_flush_dest(fdb, VQS_FDB_DEST(ep->port->slot, r + 1));
	ep->pending_flush = 0;
	return true;
}

/* FRR's MACs (each with its VTEP) and VTEPs (type 3, and those of MACs)
 * from the view, in macs and ips. */
static int
kernel_remotes(struct evpn_port *ep, struct list *macs, uint32_t *ips, uint32_t *n_ip)
{
	const void *key;
	uint32_t it = 0, i, k;
	void *v;

	*n_ip = 0;
	for (i = 0; i < ep->n_t3; i++)
		if (ep->t3[i] != ep->local_ip)
			ips[(*n_ip)++] = ep->t3[i];
	while (rte_hash_iterate(ep->view, &key, &v, &it) >= 0) {
		uint32_t dst = VIEW_DST(v);

		/* Both of FRR's entries: the bridge's learned from outside
		 * (zebra leaves the vxlan device's behind when a MAC it had
		 * as remote becomes local), and the VTEP. */
		if (VIEW_WHERE(v) != W_REMOTE || dst == 0 || dst == ep->local_ip)
			continue;
		if (push(macs, key, dst) != 0)
			return -ENOMEM;
		for (k = 0; k < *n_ip && ips[k] != dst; k++)
			;
		if (k == *n_ip && *n_ip < VQS_VXLAN_MAX_REMOTES)
			ips[(*n_ip)++] = dst;
	}
	return 0;
}

/* The MACs of VTEPs held stay with them, unless the kernel has them
 * elsewhere now; macs sorted on return. */
static int
keep_held(struct evpn_port *ep, struct list *macs, const uint32_t *ips, uint32_t n_ip)
{
	struct list held = { 0 };
	uint32_t i, k;
	int rc = 0;

	sort_unique(macs);
	for (i = 0; i < ep->installed.n && rc == 0; i++) {
		const struct mac_vtep *o = &ep->installed.v[i];

		for (k = 0; k < n_ip && ips[k] != o->vtep; k++)
			;
		if (k == n_ip && vtep_wanted(ep, o->vtep) &&
		    bsearch(o, macs->v, macs->n, sizeof(*o), cmp_mac) == NULL)
			rc = push(&held, &o->mac, o->vtep);
	}
	for (i = 0; i < held.n && rc == 0; i++)
		rc = push(macs, &held.v[i].mac, held.v[i].vtep);
	list_free(&held);
	sort_unique(macs);
	return rc;
}

/* mac's entry in the MAC table is a learned one of a port not a tunnel. */
static bool
is_local(struct vqs_switch *sw, const struct evpn_port *ep, struct vqs_fdb *fdb,
	 const struct rte_ether_addr *mac)
{
	int d = vqs_fdb_lookup(fdb, ep->vlan, mac);
	const struct vqs_port *q;

	if (d == VQS_FDB_MISS)
		return false;
	q = sw->ports[VQS_FDB_SLOT((uint16_t)d)];
	return q != NULL && q->conf.type != VQS_PORT_VXLAN;
}

static void
import(struct vqs_switch *sw, struct evpn_port *ep, struct vqs_fdb *fdb, uint64_t now)
{
	uint32_t ips[VQS_VXLAN_MAX_REMOTES], n_ip, i, k, adds = 0, dels = 0, skipped = 0;
	struct vqs_port *p = ep->port;
	struct list macs = { 0 };
	int r, c;

	ep->need_import = false;
	ep->last_import = now;
	/* Places freed by a sync whose snapshot failed are not given again
	 * before their MAC entries are flushed. */
	if (!publish(sw, ep, fdb))
		goto again;
	if (kernel_remotes(ep, &macs, ips, &n_ip) != 0) {
		port_error(ep, -ENOMEM, "remote MACs");
		goto again;
	}
	vteps_update(ep, ips, n_ip, now);
	if (keep_held(ep, &macs, ips, n_ip) != 0) {
		port_error(ep, -ENOMEM, "remote MACs");
		goto again;
	}
	/* Remotes first, so that MAC entries can name them. */
	for (i = 0; i < ep->n_vteps; i++) {
		if (vqs_tnl_remote_index(p, ep->vteps[i].ip) >= 0)
			continue;
		r = vqs_tnl_remote_add(sw, p, ep->vteps[i].ip);
		if (r < 0)
			port_error(ep, r, "adding a remote VTEP");
		else
			ep->need_publish = true;
	}
	if (!publish(sw, ep, fdb))
		goto again;
	/* MACs: installed (sorted) against macs (sorted); installed
	 * becomes what the MAC table has. */
	for (i = 0, k = 0; i < macs.n || k < ep->installed.n;) {
		const struct mac_vtep *m = i < macs.n ? &macs.v[i] : NULL;
		const struct mac_vtep *o = k < ep->installed.n ? &ep->installed.v[k] : NULL;

		c = m == NULL ? 1 : o == NULL ? -1 : memcmp(&m->mac, &o->mac, RTE_ETHER_ADDR_LEN);
		if (c > 0) { /* withdrawn: gone at once */
			if (vqs_fdb_del_evpn(fdb, ep->vlan, &o->mac) == 0)
				dels++;
			k++;
			continue;
		}
		k += c == 0;
		i++;
		/* New, moved to another VTEP, or its entry gone (flushed). */
		if (c == 0 && m->vtep == o->vtep && vqs_fdb_lookup(fdb, ep->vlan, &m->mac) != VQS_FDB_MISS)
			continue;
		r = vqs_tnl_remote_index(p, m->vtep);
		/* No room for its VTEP (counted above), or the MAC table
		 * three quarters full: the rest is for learning, in every
		 * VLAN of the bridge. Not installed (vtep 0: left out). */
		if (r < 0 || (c < 0 && vqs_fdb_count(fdb) >= vqs_fdb_capacity(fdb) / 4 * 3)) {
			/* Not here any more, in any case: an entry of a local
			 * port would be exported again, over FRR's newer one. */
			if (c == 0 ? vqs_fdb_del_evpn(fdb, ep->vlan, &m->mac) == 0 :
				     is_local(sw, ep, fdb, &m->mac) && vqs_fdb_del(fdb, ep->vlan, &m->mac) == 0)
				dels++;
			skipped++;
			((struct mac_vtep *)m)->vtep = 0;
			continue;
		}
		r = vqs_fdb_add_evpn(fdb, ep->vlan, &m->mac, VQS_FDB_DEST(p->slot, r + 1));
		if (r == 0)
			adds++;
		else if (r != -EEXIST) /* an operator's static entry wins */
			port_error(ep, r, "adding a remote MAC");
	}
	for (i = 0, k = 0; i < macs.n; i++)
		if (macs.v[i].vtep != 0)
			macs.v[k++] = macs.v[i];
	macs.n = k;
	if (skipped != 0 && skipped != ep->skipped)
		port_error(ep, -ENOSPC, "remote MACs left out (MAC table three quarters full, "
			   "or no room for their VTEP)");
	ep->skipped = skipped;
	/* Remotes that EVPN no longer has, held no longer. */
	for (r = p->vx.n_static; r < p->conf.vx.n_remotes; r++) {
		uint32_t ip = p->conf.vx.remote[r];

		if (ip != 0 && !vtep_wanted(ep, ip) && vqs_tnl_remote_del(sw, p, ip) == r)
			ep->pending_flush |= 1ull << r;
	}
	publish(sw, ep, fdb);
	list_free(&ep->installed);
	ep->installed = macs;
	pthread_mutex_lock(&ev_lock);
	ep->imported = ep->installed.n;
	ep->imported_adds += adds;
	ep->imported_dels += dels;
	pthread_mutex_unlock(&ev_lock);
	return;
again:
	list_free(&macs);
	ep->need_import = true;
}

/* The port's VLAN changed: its EVPN entries leave the old one (set port
 * flushed them already); the next import puts them in the new. */
static void
vlan_moved(struct evpn_port *ep, struct vqs_fdb *fdb, uint16_t vlan)
{
	uint32_t i;

	for (i = 0; i < ep->installed.n; i++)
		vqs_fdb_del_evpn(fdb, ep->vlan, &ep->installed.v[i].mac);
	ep->installed.n = 0;
	ep->vlan = vlan;
	ep->need_import = true;
}

/* ---- export ---- */

struct local_walk {
	struct vqs_switch *sw;
	struct evpn_port *ep;
	int rc;
};

/* A MAC of the port's bridge and VLAN on a port that is not a tunnel. */
static int
local_cb(const struct vqs_fdb_entry_info *e, void *arg)
{
	struct local_walk *w = arg;
	const struct vqs_port *q;

	if (e->vlan != w->ep->vlan || e->is_evpn || !rte_is_unicast_ether_addr(&e->mac))
		return 0;
	q = w->sw->ports[VQS_FDB_SLOT(e->port)];
	if (q == NULL || q->deleting || q->conf.type == VQS_PORT_VXLAN ||
	    strcmp(q->conf.bridge, w->ep->bridge) != 0)
		return 0;
	w->rc = push(&w->ep->local, &e->mac, 0);
	return w->rc;
}

static enum where
view_where(const struct evpn_port *ep, const struct rte_ether_addr *mac)
{
	void *v;

	return rte_hash_lookup_data(ep->view, mac, &v) >= 0 ? VIEW_WHERE(v) : W_NONE;
}

/* A write the kernel took: in the view at once, before its event. */
static void
view_local(struct evpn_port *ep, const struct rte_ether_addr *mac, bool local)
{
	struct vqs_nl_fdb f = { .ifindex = ep->sh.lp_if, .mac = *mac, .master = ep->sh.br_if,
				.state = EXPORT_STATE };

	view_change(ep, &f, !local);
}

static void
export(struct vqs_switch *sw, struct evpn_port *ep, struct vqs_fdb *fdb, uint64_t now)
{
	struct local_walk w = { sw, ep, 0 };
	uint32_t i, it = 0, ops = 0, adds = 0, dels = 0, n_kernel = 0;
	struct list gone = { 0 };
	struct mac_vtep key;
	const void *k;
	void *v;
	int rc = 0;

	ep->local.n = 0;
	vqs_fdb_walk(fdb, now, local_cb, &w);
	if (w.rc != 0) {
		port_error(ep, w.rc, "local MACs");
		return;
	}
	sort_unique(&ep->local);
	/* Learned here, not in the kernel yet (or FRR's there: replaced). */
	for (i = 0; i < ep->local.n && ops < OPS_PER_SYNC && rc == 0; i++) {
		if (view_where(ep, &ep->local.v[i].mac) == W_LOCAL)
			continue;
		ops++;
		rc = vqs_nl_fdb_add(nl, ep->sh.lp_if, &ep->local.v[i].mac, EXPORT_STATE);
		if (rc == 0) {
			adds++;
			view_local(ep, &ep->local.v[i].mac, true);
		}
	}
	if (rc != 0)
		port_error(ep, rc, "adding a local MAC to the kernel");
	/* Ours in the kernel that are not local any more: aged, moved, or
	 * their port gone. */
	while (rte_hash_iterate(ep->view, &k, &v, &it) >= 0) {
		if (VIEW_WHERE(v) != W_LOCAL)
			continue;
		n_kernel++;
		key.mac = *(const struct rte_ether_addr *)k;
		if (bsearch(&key, ep->local.v, ep->local.n, sizeof(key), cmp_mac) == NULL &&
		    push(&gone, &key.mac, 0) != 0)
			break;
	}
	for (i = 0, rc = 0; i < gone.n && ops < OPS_PER_SYNC && rc == 0; i++) {
		ops++;
		rc = vqs_nl_fdb_del(nl, ep->sh.lp_if, &gone.v[i].mac);
		if (rc == 0 || rc == -ENOENT) {
			rc = 0;
			dels++;
			view_local(ep, &gone.v[i].mac, false);
		}
	}
	if (rc != 0)
		port_error(ep, rc, "removing a local MAC from the kernel");
	list_free(&gone);
	pthread_mutex_lock(&ev_lock);
	ep->exported = n_kernel - dels; /* n_kernel: after the adds */
	ep->exported_adds += adds;
	ep->exported_dels += dels;
	pthread_mutex_unlock(&ev_lock);
}

/* ---- the control loop's tick ---- */

static void
check_shadow(struct evpn_port *ep)
{
	struct vqs_err e;
	int rc;

	if (vqs_shadow_intact(&ep->sh))
		return;
	/* Someone removed a device: made anew, read anew. */
	rc = vqs_shadow_make(nl, &ep->sh, ep->name, owner, ep->vni, ep->local_ip, &e);
	if (rc != 0) {
		port_error(ep, rc, "the EVPN devices are gone and cannot be made again");
		return;
	}
	VQS_LOG(WARNING, "port %s: EVPN devices removed by someone: made again", ep->name);
	ep->need_dump = true;
}

static void
tick_port(struct vqs_switch *sw, struct evpn_port *ep, bool do_export, bool do_check, uint64_t now)
{
	struct vqs_bridge *b = vqs_switch_bridge(sw, ep->bridge);
	uint16_t vlan;

	if (b == NULL)
		return;
	if (do_check) {
		check_shadow(ep);
		/* What no event says: a held VTEP's time is up, MACs left
		 * out may fit now, entries flushed by an operator. */
		ep->need_import = true;
	}
	if (ep->sh.br_if == 0) /* gone and not made again yet */
		return;
	if (ep->need_dump && now - ep->last_dump >= ms_tsc(DUMP_GAP_MS))
		dump(ep, now);
	vlan = port_vlan(sw, ep->port);
	if (vlan != ep->vlan)
		vlan_moved(ep, b->fdb, vlan);
	if (ep->need_import && ep->import_at == 0)
		ep->import_at = now + ms_tsc(IMPORT_DELAY_MS);
	/* Before an export, always: a MAC FRR moved away must leave the MAC
	 * table before the export would write it back as local. */
	if (ep->need_import && !ep->need_dump &&
	    (do_export || (now >= ep->import_at && now - ep->last_import >= ms_tsc(IMPORT_GAP_MS)))) {
		ep->import_at = 0;
		import(sw, ep, b->fdb, now);
	}
	if (!do_export || ep->need_dump)
		return;
	export(sw, ep, b->fdb, now);
	pthread_mutex_lock(&ev_lock);
	ep->syncs++;
	ep->last_sync_tsc = now;
	pthread_mutex_unlock(&ev_lock);
}

void
vqs_evpn_poll(struct vqs_switch *sw)
{
	uint64_t now = rte_get_tsc_cycles();
	bool do_export = now >= next_export, do_check = now >= next_check;
	unsigned int i;

	if (nl == NULL || !any_port())
		return;
	if (vqs_nl_events(nl, event_cb, NULL) == -ENOBUFS)
		for (i = 0; i < VQS_MAX_PORTS; i++)
			if (eports[i] != NULL)
				eports[i]->need_dump = true;
	if (do_export)
		next_export = now + ms_tsc(SYNC_PERIOD_MS);
	if (do_check)
		next_check = now + ms_tsc(CHECK_PERIOD_MS);
	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL)
			tick_port(sw, eports[i], do_export, do_check, now);
}

bool
vqs_evpn_info(unsigned int i, struct vqs_evpn_info *out)
{
	uint64_t now = rte_get_tsc_cycles();
	unsigned int s, k = 0;
	bool found = false;

	pthread_mutex_lock(&ev_lock);
	for (s = 0; s < VQS_MAX_PORTS && !found; s++) {
		const struct evpn_port *ep = eports[s];

		if (ep == NULL || k++ != i)
			continue;
		memset(out, 0, sizeof(*out));
		strlcpy(out->port, ep->name, sizeof(out->port));
		out->vni = ep->vni;
		out->vlan = ep->vlan;
		strlcpy(out->bridge_dev, ep->sh.br, sizeof(out->bridge_dev));
		strlcpy(out->vxlan_dev, ep->sh.vx, sizeof(out->vxlan_dev));
		strlcpy(out->local_dev, ep->sh.lp, sizeof(out->local_dev));
		out->exported = ep->exported;
		out->imported = ep->imported;
		out->vteps = ep->n_vteps;
		out->syncs = ep->syncs;
		out->exported_adds = ep->exported_adds;
		out->exported_dels = ep->exported_dels;
		out->imported_adds = ep->imported_adds;
		out->imported_dels = ep->imported_dels;
		out->errors = ep->errors;
		out->last_sync_ms = ep->syncs == 0 ? UINT64_MAX :
				    (now - ep->last_sync_tsc) * 1000 / rte_get_tsc_hz();
		strlcpy(out->last_error, ep->last_error, sizeof(out->last_error));
		found = true;
	}
	pthread_mutex_unlock(&ev_lock);
	return found;
}

int
vqs_evpn_walk(const char *port, void (*fn)(const struct rte_ether_addr *mac, uint32_t vtep, void *arg),
	      void *arg)
{
	const struct evpn_port *ep = find_name(port);
	struct rte_ether_addr zero = { { 0 } };
	uint32_t i;

	if (ep == NULL)
		return -ENOENT;
	for (i = 0; i < ep->installed.n; i++)
		fn(&ep->installed.v[i].mac, ep->installed.v[i].vtep, arg);
	for (i = 0; i < ep->n_vteps; i++)
		fn(&zero, ep->vteps[i].ip, arg);
	for (i = 0; i < ep->local.n; i++)
		fn(&ep->local.v[i].mac, 0, arg);
	return 0;
}
