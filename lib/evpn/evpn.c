/* SPDX-License-Identifier: BSD-3-Clause
 * The EVPN ports and their sync with the kernel's FDB (vqs_evpn.h).
 *
 * A sync is a comparison, not a replay of events: one dump of the
 * kernel's bridge FDB gives, per port, the MACs on its local port (what
 * is exported) and the entries FRR installed on its vxlan device (what
 * is imported); a walk of the bridge's MAC table gives the local MACs.
 * The differences are written: local MACs to the kernel, imported ones
 * to the MAC table and the tunnel's remotes. Events only make the next
 * sync come sooner, so a lost event, a dump the kernel interrupted, a
 * full table or an FRR restart is mended by a later sync.
 */
#define VQS_LOG_MODULE VQS_LOG_EVPN
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/neighbour.h>

#include <bsd/string.h>
#include <rte_cycles.h>

#include "nl.h"
#include "ratelimit.h"
#include "shadow.h"
#include "vqs.h"
#include "vqs_evpn.h"
#include "vqs_switch.h"

#define SYNC_PERIOD_MS  250 /* without events: local MACs are not events */
/* A remote VTEP gone from the kernel is kept this long, with its MACs:
 * FRR removes everything it installed when it stops, and puts it back
 * when it starts again (a restart must not cut traffic). A MAC withdrawn
 * while its VTEP stays goes at once. */
#define VTEP_HOLD_S     60
#define EVENT_DELAY_MS  50  /* events within this go into one sync */
#define OPS_PER_SYNC    256 /* kernel FDB writes per port and sync */
/* What the switch writes for a local MAC: a static entry (zebra
 * advertises it; docs/evpn.md on why static and not dynamic). */
#define EXPORT_STATE    NUD_NOARP

/* A remote VTEP, and when the kernel last had it. */
struct held_vtep {
	uint32_t ip;
	uint64_t seen_tsc;
};

/* A MAC and the VTEP it is behind (0: local, or all-zero MAC: type 3). */
struct mac_vtep {
	struct rte_ether_addr mac;
	uint32_t vtep;
};

struct list {
	struct mac_vtep *v;
	uint32_t n, cap;
};

struct evpn_port {
	char name[VQS_NAME_MAX];
	struct vqs_port *port; /* the running port of that name */
	uint32_t vni;
	uint16_t vlan;
	struct vqs_shadow sh;
	struct list installed; /* imported MACs in the MAC table */
	struct held_vtep vteps[VQS_VXLAN_MAX_REMOTES]; /* remote VTEPs from EVPN */
	uint32_t n_vteps;
	/* One sync's views: the vxlan device's own entries (MAC or all-zero,
	 * VTEP), the MACs the bridge has on it as learned from outside (FRR's),
	 * the local port's entries and the local MACs. */
	struct list kern_dst, kern_ext, kern_exp, local;
	bool need_publish;     /* remotes changed, no snapshot has them yet */
	uint64_t pending_flush; /* bits: remote indexes to flush after it */
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
static struct vqs_nl *nl;
static uint64_t next_sync;
static bool dirty;
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

/* ---- lists of (MAC, VTEP), sorted by MAC then VTEP ---- */

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
cmp_mac_vtep(const void *a, const void *b)
{
	const struct mac_vtep *x = a, *y = b;
	int c = memcmp(&x->mac, &y->mac, sizeof(x->mac));

	return c != 0 ? c : (x->vtep > y->vtep) - (x->vtep < y->vtep);
}

/* Sorted, one entry per MAC (its lowest VTEP: a MAC FRR installs has one). */
static void
sort_unique(struct list *l)
{
	uint32_t i, k = 0;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp_mac_vtep);
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
	list_free(&ep->installed);
	list_free(&ep->kern_dst);
	list_free(&ep->kern_ext);
	list_free(&ep->kern_exp);
	list_free(&ep->local);
	free(ep);
}

int
vqs_evpn_port_start(struct vqs_switch *sw, struct vqs_port *p, struct vqs_err *e)
{
	const struct vqs_vxlan_conf *vx = &p->conf.vx;
	struct evpn_port *ep;
	unsigned int i;
	int rc;

	(void)sw;
	if (p->conf.type != VQS_PORT_VXLAN || !vx->evpn)
		return 0;
	ep = find_name(p->conf.name);
	if (ep != NULL && ep->vni == vx->vni && ep->vlan == p->conf.vlan.tag) {
		/* The port it replaces goes next: its shadow goes on; the
		 * new port's MAC table entries and remotes are made afresh. */
		ep->port = p;
		ep->installed.n = ep->n_vteps = 0;
		ep->need_publish = false;
		ep->pending_flush = 0;
		dirty = true;
		return 0;
	}
	if (ep != NULL) { /* another VNI: the old port loses its shadow now */
		vqs_shadow_remove(nl, &ep->sh);
		eport_free(ep);
	}
	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL && eports[i]->vni == vx->vni)
			return vqs_err_set(e, -EEXIST, "evpn: port %s has vni %u's EVPN devices",
					   eports[i]->name, vx->vni);
	if (nl == NULL && (nl = vqs_nl_open()) == NULL)
		return vqs_err_set(e, -errno, "evpn: cannot open rtnetlink: %s", strerror(errno));
	ep = calloc(1, sizeof(*ep));
	if (ep == NULL)
		return vqs_err_set(e, -ENOMEM, "out of memory");
	strlcpy(ep->name, p->conf.name, sizeof(ep->name));
	ep->port = p;
	ep->vni = vx->vni;
	ep->vlan = p->conf.vlan.tag;
	vqs_shadow_names(&ep->sh, prefix, vx->vni);
	rc = vqs_shadow_make(nl, &ep->sh, p->conf.name, vx->vni, vx->local_ip, e);
	if (rc != 0) {
		free(ep);
		return rc;
	}
	pthread_mutex_lock(&ev_lock);
	for (i = 0; eports[i] != NULL; i++) /* fewer EVPN ports than ports */
		;
	eports[i] = ep;
	pthread_mutex_unlock(&ev_lock);
	dirty = true;
	VQS_LOG(INFO, "port %s: vni %u through %s, %s and %s", ep->name, ep->vni,
		ep->sh.br, ep->sh.vx, ep->sh.lp);
	return 0;
}

void
vqs_evpn_port_stop(struct vqs_switch *sw, struct vqs_port *p, bool keep)
{
	unsigned int i;

	(void)sw;
	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct evpn_port *ep = eports[i];

		if (ep == NULL || ep->port != p)
			continue;
		if (!keep)
			vqs_shadow_remove(nl, &ep->sh);
		eport_free(ep);
	}
	if (nl != NULL && !any_port()) { /* nobody reads its events now */
		vqs_nl_close(nl);
		nl = NULL;
	}
}

/* ---- sync ---- */

static int
dump_cb(const struct vqs_nl_fdb *f, void *arg)
{
	unsigned int i;

	(void)arg;
	if (f->vlan != 0 || !rte_is_unicast_ether_addr(&f->mac))
		return 0;
	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct evpn_port *ep = eports[i];

		if (ep == NULL)
			continue;
		/* FRR's: the vxlan device's own entries, with their VTEP, and
		 * the bridge's, learned from outside. A MAC that FRR had as
		 * remote and now has as local keeps the former (zebra leaves
		 * it) but not the latter. */
		if (f->ifindex == ep->sh.vx_if && f->dst != 0 && f->master == 0)
			return push(&ep->kern_dst, &f->mac, f->dst) == 0 ? 0 : -ENOMEM;
		if (f->ifindex == ep->sh.vx_if && f->master != 0 && (f->flags & NTF_EXT_LEARNED))
			return push(&ep->kern_ext, &f->mac, 0) == 0 ? 0 : -ENOMEM;
		/* Ours: the bridge's static entries of the local port (not
		 * its own address, permanent: the bridge's "local" entry).
		 * The kernel names the bridge of a bridge's entry in
		 * NDA_MASTER; NTF_MASTER is for requests. */
		if (f->ifindex == ep->sh.lp_if && f->master != 0 &&
		    (f->state & EXPORT_STATE) && !(f->state & NUD_PERMANENT) &&
		    !rte_is_zero_ether_addr(&f->mac))
			return push(&ep->kern_exp, &f->mac, 0) == 0 ? 0 : -ENOMEM;
	}
	return 0;
}

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
	    strcmp(q->conf.bridge, w->ep->port->conf.bridge) != 0)
		return 0;
	w->rc = push(&w->ep->local, &e->mac, 0);
	return w->rc;
}

static void
sync_export(struct vqs_switch *sw, struct evpn_port *ep, struct vqs_fdb *fdb, uint64_t now)
{
	struct local_walk w = { sw, ep, 0 };
	uint32_t i = 0, k = 0, ops = 0, adds = 0, dels = 0;
	int c, rc;

	ep->local.n = 0;
	vqs_fdb_walk(fdb, now, local_cb, &w);
	if (w.rc != 0) {
		port_error(ep, w.rc, "local MACs");
		return;
	}
	sort_unique(&ep->local);
	sort_unique(&ep->kern_exp);
	while ((i < ep->local.n || k < ep->kern_exp.n) && ops < OPS_PER_SYNC) {
		if (i == ep->local.n)
			c = 1;
		else if (k == ep->kern_exp.n)
			c = -1;
		else
			c = memcmp(&ep->local.v[i].mac, &ep->kern_exp.v[k].mac, RTE_ETHER_ADDR_LEN);
		if (c == 0) {
			i++;
			k++;
			continue;
		}
		if (c < 0) { /* learned here, not in the kernel yet */
			rc = vqs_nl_fdb_add(nl, ep->sh.lp_if, &ep->local.v[i++].mac, EXPORT_STATE);
			ops++;
			if (rc == 0)
				adds++;
			else
				port_error(ep, rc, "adding a local MAC to the kernel");
			continue;
		}
		/* Aged, moved or its port gone. */
		rc = vqs_nl_fdb_del(nl, ep->sh.lp_if, &ep->kern_exp.v[k++].mac);
		ops++;
		if (rc == 0 || rc == -ENOENT)
			dels++;
		else
			port_error(ep, rc, "removing a local MAC from the kernel");
	}
	if (ops == OPS_PER_SYNC)
		dirty = true; /* the rest at the next tick */
	pthread_mutex_lock(&ev_lock);
	ep->exported = ep->kern_exp.n + adds - dels;
	ep->exported_adds += adds;
	ep->exported_dels += dels;
	pthread_mutex_unlock(&ev_lock);
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

static bool
in_list(const struct list *l, const struct rte_ether_addr *mac)
{
	struct mac_vtep key = { .mac = *mac };
	uint32_t lo = 0, hi = l->n, mid;
	int c;

	while (lo < hi) { /* l sorted by MAC */
		mid = (lo + hi) / 2;
		c = memcmp(&l->v[mid].mac, &key.mac, RTE_ETHER_ADDR_LEN);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

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

static void
sync_import(struct vqs_switch *sw, struct evpn_port *ep, struct vqs_fdb *fdb, uint64_t now)
{
	struct vqs_port *p = ep->port;
	uint32_t i, k, n_ip = 0, adds = 0, dels = 0, local_ip = p->conf.vx.local_ip;
	uint32_t ips[VQS_VXLAN_MAX_REMOTES];
	struct list macs = { 0 }, held = { 0 };
	int r, c;

	/* The kernel's view: VTEPs (type 3, all-zero MAC, and those of
	 * MACs) and MACs that FRR installed, each with its VTEP. */
	sort_unique(&ep->kern_ext);
	for (i = 0; i < ep->kern_dst.n; i++) {
		const struct mac_vtep *m = &ep->kern_dst.v[i];
		bool type3 = rte_is_zero_ether_addr(&m->mac);

		if (m->vtep == local_ip || (!type3 && !in_list(&ep->kern_ext, &m->mac)))
			continue;
		for (k = 0; k < n_ip && ips[k] != m->vtep; k++)
			;
		if (k == n_ip && n_ip < RTE_DIM(ips))
			ips[n_ip++] = m->vtep;
		else if (k == n_ip)
			port_error(ep, -ENOSPC, "remote VTEPs");
		if (!type3 && k < n_ip && push(&macs, &m->mac, m->vtep) != 0) {
			port_error(ep, -ENOMEM, "remote MACs");
			goto out;
		}
	}
	vteps_update(ep, ips, n_ip, now);
	/* The MACs of VTEPs held stay with them, unless the kernel has them
	 * elsewhere now. */
	sort_unique(&macs);
	for (i = 0; i < ep->installed.n; i++) {
		const struct mac_vtep *o = &ep->installed.v[i];

		for (k = 0; k < n_ip && ips[k] != o->vtep; k++)
			;
		if (k == n_ip && vtep_wanted(ep, o->vtep) && !in_list(&macs, &o->mac) &&
		    push(&held, &o->mac, o->vtep) != 0) {
			port_error(ep, -ENOMEM, "remote MACs");
			goto out;
		}
	}
	for (i = 0; i < held.n; i++)
		if (push(&macs, &held.v[i].mac, held.v[i].vtep) != 0) {
			port_error(ep, -ENOMEM, "remote MACs");
			goto out;
		}
	sort_unique(&macs);
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
		goto out;
	/* MACs: installed (sorted) against macs (sorted). */
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
		if (c == 0)
			k++;
		i++;
		/* New, moved to another VTEP, or its entry gone (flushed). */
		if (c < 0 || m->vtep != o->vtep || vqs_fdb_lookup(fdb, ep->vlan, &m->mac) == VQS_FDB_MISS) {
			r = vqs_tnl_remote_index(p, m->vtep);
			if (r < 0)
				continue; /* no room for its VTEP: counted above */
			r = vqs_fdb_add_evpn(fdb, ep->vlan, &m->mac, VQS_FDB_DEST(p->slot, r + 1));
			if (r == 0)
				adds++;
			else if (r != -EEXIST) /* an operator's static entry wins */
				port_error(ep, r, "adding a remote MAC");
		}
	}
	/* Remotes that EVPN no longer has, held no longer. */
	for (r = p->vx.n_static; r < p->conf.vx.n_remotes; r++) {
		uint32_t ip = p->conf.vx.remote[r];

		if (ip != 0 && !vtep_wanted(ep, ip) && vqs_tnl_remote_del(sw, p, ip) == r)
			ep->pending_flush |= 1ull << r;
	}
	publish(sw, ep, fdb);
	/* macs becomes what is installed. */
	list_free(&ep->installed);
	ep->installed = macs;
	memset(&macs, 0, sizeof(macs));
	pthread_mutex_lock(&ev_lock);
	ep->imported = ep->installed.n;
	ep->imported_adds += adds;
	ep->imported_dels += dels;
	pthread_mutex_unlock(&ev_lock);
out:
	list_free(&macs);
	list_free(&held);
}

static void
sync_all(struct vqs_switch *sw, uint64_t now)
{
	unsigned int i;
	int rc;

	for (i = 0; i < VQS_MAX_PORTS; i++)
		if (eports[i] != NULL)
			eports[i]->kern_dst.n = eports[i]->kern_ext.n = eports[i]->kern_exp.n = 0;
	rc = vqs_nl_fdb_dump(nl, dump_cb, NULL);
	if (rc == -EINTR) { /* changed while read: again at the next tick */
		dirty = true;
		return;
	}
	for (i = 0; i < VQS_MAX_PORTS; i++) {
		struct evpn_port *ep = eports[i];
		struct vqs_bridge *b;

		if (ep == NULL)
			continue;
		if (rc != 0) {
			port_error(ep, rc, "reading the kernel's FDB");
			continue;
		}
		b = vqs_switch_bridge(sw, ep->port->conf.bridge);
		if (b == NULL)
			continue;
		sync_import(sw, ep, b->fdb, now);
		sync_export(sw, ep, b->fdb, now);
		pthread_mutex_lock(&ev_lock);
		ep->syncs++;
		ep->last_sync_tsc = now;
		pthread_mutex_unlock(&ev_lock);
	}
}

void
vqs_evpn_poll(struct vqs_switch *sw)
{
	uint64_t now = rte_get_tsc_cycles(), ms = rte_get_tsc_hz() / 1000;
	int n;

	if (nl == NULL || !any_port())
		return;
	n = vqs_nl_events(nl);
	if (n != 0 && !dirty) {
		dirty = true;
		/* A burst of events (FRR installing a host's MACs) in one sync. */
		if (next_sync > now + EVENT_DELAY_MS * ms)
			next_sync = now + EVENT_DELAY_MS * ms;
	}
	if (now < next_sync)
		return;
	dirty = false;
	next_sync = now + SYNC_PERIOD_MS * ms;
	sync_all(sw, now);
	if (dirty)
		next_sync = now;
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
