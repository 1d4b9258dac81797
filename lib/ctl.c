/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Every command is validated against the model (conf.c) before anything
 * changes; then the running switch is changed, and only if that worked is
 * the model updated, the datapath snapshot republished and the state
 * file rewritten. A failed command leaves everything as it was.
 */
#define VQS_LOG_MODULE VQS_LOG_CTL

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_malloc.h>

#include "commands.h"
#include "ctl.h"
#include "eth_port.h"
#include "metrics.h"
#include "ovs_compat.h"
#include "pmd.h"
#include "stats.h"
#include "switch.h"
#include "vhost_port.h"

static char state_file[VQS_PATH_MAX * 2];

struct ctx {
	struct vqs_switch *sw;   /* NULL: a dry run on 'conf' only */
	struct vqs_conf *conf;
	struct vqs_ctl_reply *r;
	const char *socket_dir;
	bool restoring;          /* loading a file: a port that fails stays */
};

#define FDB_SHOW_LIMIT     10000  /* entries fdb/show lists unless asked */
#define FDB_SHOW_LIMIT_MAX 100000 /* ... and at most: the control thread's
				   * other work waits while it formats */

typedef int (*cmd_fn)(struct ctx *x, int argc, char **argv);

/* ---- configured ports that could not start ---- */

static struct vqs_port_error *
port_error(struct vqs_switch *sw, const char *name)
{
	uint16_t i;

	for (i = 0; i < sw->n_port_errors; i++)
		if (strcmp(sw->port_errors[i].name, name) == 0)
			return &sw->port_errors[i];
	return NULL;
}

static void
port_error_set(struct vqs_switch *sw, const char *name, const char *msg)
{
	struct vqs_port_error *pe = port_error(sw, name);

	if (pe == NULL) {
		pe = &sw->port_errors[sw->n_port_errors++];
		strlcpy(pe->name, name, sizeof(pe->name));
	} else if (strcmp(pe->error, msg) == 0) {
		return;
	}
	strlcpy(pe->error, msg, sizeof(pe->error));
	VQS_LOG(ERR, "port %s: %s; it stays configured and is retried", name, msg);
}

static void
port_error_clear(struct vqs_switch *sw, const char *name)
{
	struct vqs_port_error *pe = port_error(sw, name);

	if (pe != NULL)
		*pe = sw->port_errors[--sw->n_port_errors];
}

/* ---- changes to the running switch ---- */

static struct vqs_bridge *
bridge_create(struct vqs_switch *sw, const struct vqs_br_conf *bc, struct vqs_err *e)
{
	static unsigned int seq;
	struct vqs_bridge *b = calloc(1, sizeof(*b));
	char name[32];

	if (b == NULL)
		return NULL;
	snprintf(name, sizeof(name), "vqs_fdb_%u", seq++);
	b->fdb = vqs_fdb_create(name, bc->mac_table_size, sw->qsv);
	if (b->fdb == NULL) {
		free(b);
		vqs_err_set(e, -ENOMEM, "cannot create a MAC table of %u entries",
			    bc->mac_table_size);
		return NULL;
	}
	strlcpy(b->name, bc->name, sizeof(b->name));
	b->mac_aging_tsc = (uint64_t)bc->mac_aging * rte_get_tsc_hz();
	return b;
}

/* Out of the table, then a grace period: a telemetry client that found
 * the port under the lock went RCU-online before it let the lock go. */
static void
port_free(struct vqs_switch *sw, struct vqs_port *p)
{
	pthread_mutex_lock(&sw->lock);
	sw->ports[p->slot] = NULL;
	pthread_mutex_unlock(&sw->lock);
	rte_rcu_qsbr_synchronize(sw->qsv, RTE_QSBR_THRID_INVALID);
	rte_free(p);
}

/* Creates and starts the device, and gives its RX queues to PMDs. The port
 * is in the table (so librte_vhost's callbacks find it) but in no
 * datapath snapshot until the caller publishes one. */
static struct vqs_port *
port_create(struct vqs_switch *sw, const struct vqs_port_conf *pc, struct vqs_err *e)
{
	static uint64_t uids;
	struct vqs_port *p;
	uint16_t slot, q;
	int rc;

	/* Before the device exists: a port retried every few seconds for a
	 * missing lcore must not make and remove its socket each time. */
	for (q = 0; q < VQS_VHOST_MAX_QP; q++)
		if (pc->affinity[q] >= 0 && vqs_pmd_of_lcore(sw, (unsigned int)pc->affinity[q]) < 0) {
			vqs_err_set(e, -EINVAL, "pmd-rxq-affinity: lcore %d is not a PMD lcore",
				    pc->affinity[q]);
			return NULL;
		}
	for (slot = 0; slot < VQS_MAX_PORTS && sw->ports[slot] != NULL; slot++)
		;
	if (slot == VQS_MAX_PORTS) {
		vqs_err_set(e, -ENOSPC, "too many ports");
		return NULL;
	}
	p = rte_zmalloc("port", sizeof(*p), RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		vqs_err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	p->conf = *pc;
	p->slot = slot;
	p->uid = ++uids;
	p->deleting = true; /* not in a snapshot until started */
	pthread_mutex_lock(&sw->lock);
	sw->ports[slot] = p;
	pthread_mutex_unlock(&sw->lock);
	if (vqs_port_type_is_vhost(pc->type))
		rc = vqs_vhost_port_start(p, sw->socket_gid, e->msg, sizeof(e->msg));
	else
		rc = vqs_eth_port_start(p, sw->n_pmds, sw->pool, e->msg, sizeof(e->msg));
	if (rc != 0) {
		/* A vhost start undoes itself; an ethdev we probed is removed. */
		if (!vqs_port_type_is_vhost(pc->type))
			vqs_eth_port_stop(p, false);
		port_free(sw, p);
		return NULL;
	}
	rc = vqs_pmds_assign_port(sw, p, pc, e);
	if (rc != 0) {
		if (vqs_port_type_is_vhost(pc->type))
			vqs_vhost_port_stop(p);
		else
			vqs_eth_port_stop(p, false);
		port_free(sw, p);
		return NULL;
	}
	p->deleting = false;
	return p;
}

/* A port that no published snapshot has seen: the device, then the memory. */
static void
port_undo(struct vqs_switch *sw, struct vqs_port *p)
{
	if (vqs_port_type_is_vhost(p->conf.type))
		vqs_vhost_port_stop(p);
	else
		vqs_eth_port_stop(p, false);
	port_free(sw, p);
}

/* Out of the datapath first (grace period), then the device, then the
 * MAC entries that name the slot, then the memory. If no snapshot without
 * the port can be published, the port stays as it was. */
static int
port_delete(struct vqs_switch *sw, struct vqs_port *p, bool release)
{
	struct vqs_bridge *b = vqs_switch_bridge(sw, p->conf.bridge);

	p->deleting = true;
	if (vqs_dp_publish(sw) != 0) {
		p->deleting = false;
		return -ENOMEM;
	}
	if (vqs_port_type_is_vhost(p->conf.type))
		vqs_vhost_port_stop(p);
	else
		vqs_eth_port_stop(p, release);
	if (b != NULL)
		vqs_fdb_flush_port(b->fdb, p->slot);
	port_free(sw, p);
	return 0;
}

static void
bridge_insert(struct vqs_switch *sw, int i, struct vqs_bridge *b)
{
	pthread_mutex_lock(&sw->lock);
	memmove(&sw->bridges[i + 1], &sw->bridges[i],
		(size_t)(sw->n_bridges - i) * sizeof(sw->bridges[0]));
	sw->bridges[i] = b;
	sw->n_bridges++;
	pthread_mutex_unlock(&sw->lock);
}

static void
bridge_remove(struct vqs_switch *sw, int i)
{
	pthread_mutex_lock(&sw->lock);
	memmove(&sw->bridges[i], &sw->bridges[i + 1],
		(size_t)(sw->n_bridges - i - 1) * sizeof(sw->bridges[0]));
	sw->n_bridges--;
	pthread_mutex_unlock(&sw->lock);
}

static int
bridge_delete(struct vqs_switch *sw, const char *name)
{
	int i = vqs_switch_bridge_index(sw, name);
	struct vqs_bridge *b;

	if (i < 0)
		return 0;
	b = sw->bridges[i];
	bridge_remove(sw, i);
	/* Waits until no PMD uses the table; if it cannot, the PMDs keep
	 * using it and it stays. */
	if (vqs_dp_publish(sw) != 0) {
		bridge_insert(sw, i, b);
		return -ENOMEM;
	}
	vqs_fdb_free(b->fdb);
	free(b);
	return 0;
}

static int
publish_failed(struct ctx *x)
{
	return vqs_err_set(&x->r->err, -ENOMEM,
			   "out of memory for the new datapath: nothing changed");
}

/* ---- commands ---- */

static int
need_args(struct ctx *x, int argc, int n, const char *usage)
{
	if (argc < n)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: %s", usage);
	return 0;
}

static int
cmd_add_br(struct ctx *x, int argc, char **argv)
{
	struct vqs_br_conf bc;
	struct vqs_bridge *b;
	int rc;

	rc = vqs_conf_parse_add_br(x->conf, argc, argv, &bc, &x->r->err);
	if (rc != 0)
		return rc;
	if (x->sw != NULL) {
		b = bridge_create(x->sw, &bc, &x->r->err);
		if (b == NULL)
			return -ENOMEM;
		bridge_insert(x->sw, x->sw->n_bridges, b);
		if (vqs_dp_publish(x->sw) != 0) {
			bridge_remove(x->sw, x->sw->n_bridges - 1);
			vqs_fdb_free(b->fdb);
			free(b);
			return publish_failed(x);
		}
	}
	vqs_conf_add_bridge(x->conf, &bc);
	return 0;
}

static struct vqs_br_conf *
find_bridge(struct ctx *x, const char *name)
{
	struct vqs_br_conf *b = vqs_conf_bridge(x->conf, name);

	if (b == NULL)
		vqs_err_set(&x->r->err, -ENOENT, "no bridge named '%s'", name);
	return b;
}

static struct vqs_port_conf *
find_port(struct ctx *x, const char *name)
{
	struct vqs_port_conf *p = vqs_conf_port(x->conf, name);

	if (p == NULL)
		vqs_err_set(&x->r->err, -ENOENT, "no port named '%s'", name);
	return p;
}

static struct vqs_port *
find_vhost_port(struct ctx *x, const char *name)
{
	struct vqs_port *p = vqs_switch_port(x->sw, name);

	if (p == NULL || !vqs_port_type_is_vhost(p->conf.type)) {
		vqs_err_set(&x->r->err, -ENOENT, "no vhost-user port named '%s'", name);
		return NULL;
	}
	return p;
}

static int
delete_port(struct ctx *x, const char *name)
{
	struct vqs_port *p;

	if (x->sw != NULL) {
		p = vqs_switch_port(x->sw, name);
		if (p != NULL && port_delete(x->sw, p, false) != 0)
			return publish_failed(x);
		port_error_clear(x->sw, name);
	}
	vqs_conf_del_port(x->conf, name);
	return 0;
}

/* Ports go one by one: if one cannot, the ones before it are gone (and
 * the model says so), the rest and the bridge stay. */
static int
cmd_del_br(struct ctx *x, int argc, char **argv)
{
	int i, rc = need_args(x, argc, 2, "del-br BRIDGE");

	if (rc != 0 || find_bridge(x, argv[1]) == NULL)
		return rc != 0 ? rc : -ENOENT;
	for (i = x->conf->n_ports - 1; i >= 0; i--)
		if (strcmp(x->conf->ports[i].bridge, argv[1]) == 0 &&
		    (rc = delete_port(x, x->conf->ports[i].name)) != 0)
			return rc;
	if (x->sw != NULL && bridge_delete(x->sw, argv[1]) != 0)
		return publish_failed(x);
	vqs_conf_del_bridge(x->conf, argv[1]);
	return 0;
}

static int
cmd_add_port(struct ctx *x, int argc, char **argv)
{
	struct vqs_port_conf pc;
	struct vqs_port *p;
	int rc;

	rc = vqs_conf_parse_add_port(x->conf, argc, argv, x->socket_dir, &pc, &x->r->err);
	if (rc != 0)
		return rc;
	if (x->sw != NULL && (p = port_create(x->sw, &pc, &x->r->err)) == NULL) {
		char msg[sizeof(x->r->err.msg)];

		if (x->restoring) {
			/* Configured, not running: the others still come up. */
			port_error_set(x->sw, pc.name, x->r->err.msg);
			vqs_conf_add_port(x->conf, &pc);
			return 0;
		}
		strlcpy(msg, x->r->err.msg, sizeof(msg));
		return vqs_err_set(&x->r->err, -EINVAL, "port %s: %s", pc.name, msg);
	}
	if (x->sw != NULL && vqs_dp_publish(x->sw) != 0) {
		port_undo(x->sw, p);
		return publish_failed(x);
	}
	vqs_conf_add_port(x->conf, &pc);
	return 0;
}

/* del-port [BRIDGE] PORT */
static int
cmd_del_port(struct ctx *x, int argc, char **argv)
{
	const char *name = argv[argc - 1];
	struct vqs_port_conf *pc;
	int rc = need_args(x, argc, 2, "del-port [BRIDGE] PORT");

	if (rc != 0)
		return rc;
	if (argc > 3)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: del-port [BRIDGE] PORT");
	pc = find_port(x, name);
	if (pc == NULL)
		return -ENOENT;
	if (argc == 3 && strcmp(pc->bridge, argv[1]) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "port %s is not on bridge %s",
				   name, argv[1]);
	return delete_port(x, name);
}

static int
set_port(struct ctx *x, int argc, char **argv)
{
	struct vqs_port_conf *pc = find_port(x, argv[2]), np, old;
	struct vqs_port *p;
	struct vqs_err ignored;
	bool vlan_changed, moved;
	int rc;

	if (pc == NULL)
		return -ENOENT;
	np = *pc;
	rc = vqs_conf_parse_port_options(x->conf, argc - 3, argv + 3, &np, &x->r->err);
	/* A port that could not start takes its new settings when it does. */
	p = rc == 0 && x->sw != NULL ? vqs_switch_port(x->sw, np.name) : NULL;
	if (p == NULL) {
		if (rc == 0)
			*pc = np;
		return rc;
	}
	moved = memcmp(np.affinity, pc->affinity, sizeof(np.affinity)) != 0;
	if (moved) {
		rc = vqs_pmds_assign_port(x->sw, p, &np, &x->r->err);
		if (rc != 0) {
			vqs_pmds_assign_port(x->sw, p, pc, &ignored);
			return rc;
		}
	}
	vlan_changed = !vqs_vlan_equal(&np.vlan, &pc->vlan);
	old = *pc;
	*pc = np;
	if (vqs_dp_publish(x->sw) != 0) {
		*pc = old;
		if (moved)
			vqs_pmds_assign_port(x->sw, p, pc, &ignored);
		return publish_failed(x);
	}
	/* Entries learned in the port's old VLANs would send frames where
	 * the port no longer listens. */
	if (vlan_changed)
		vqs_fdb_flush_port(vqs_switch_bridge(x->sw, np.bridge)->fdb, p->slot);
	return 0;
}

static int
set_bridge(struct ctx *x, int argc, char **argv)
{
	struct vqs_br_conf *bc = find_bridge(x, argv[2]), nb;
	struct vqs_bridge *b, *nbr;
	struct vqs_fdb *old;
	int rc;

	if (bc == NULL)
		return -ENOENT;
	nb = *bc;
	rc = vqs_conf_parse_set_bridge(x->conf, argc - 3, argv + 3, &nb, &x->r->err);
	if (rc != 0 || x->sw == NULL) {
		if (rc == 0)
			*bc = nb;
		return rc;
	}
	b = vqs_switch_bridge(x->sw, nb.name);
	if (nb.mac_table_size != bc->mac_table_size) {
		/* A new, empty table of the new size: learning refills it. */
		nbr = bridge_create(x->sw, &nb, &x->r->err);
		if (nbr == NULL)
			return -ENOMEM;
		old = b->fdb;
		pthread_mutex_lock(&x->sw->lock); /* telemetry may be walking it */
		b->fdb = nbr->fdb;
		pthread_mutex_unlock(&x->sw->lock);
		if (vqs_dp_publish(x->sw) != 0) {
			pthread_mutex_lock(&x->sw->lock);
			b->fdb = old;
			pthread_mutex_unlock(&x->sw->lock);
			/* a telemetry client may have found it meanwhile */
			rte_rcu_qsbr_synchronize(x->sw->qsv, RTE_QSBR_THRID_INVALID);
			vqs_fdb_free(nbr->fdb);
			free(nbr);
			return publish_failed(x);
		}
		free(nbr);
		vqs_fdb_free(old);
	}
	b->mac_aging_tsc = (uint64_t)nb.mac_aging * rte_get_tsc_hz();
	*bc = nb;
	return 0;
}

/* set pmd sleep=on|off|MS: PMDs idle that long sleep until kicked. */
static int
set_pmd(struct ctx *x, int argc, char **argv)
{
	uint32_t ms = x->conf->pmd_sleep_ms;
	int rc = vqs_conf_parse_set_pmd(argc - 2, argv + 2, &ms, &x->r->err);

	if (rc != 0)
		return rc;
	x->conf->pmd_sleep_ms = ms;
	if (x->sw != NULL)
		__atomic_store_n(&x->sw->pmd_sleep_tsc, (uint64_t)ms * rte_get_tsc_hz() / 1000,
				 __ATOMIC_RELAXED);
	return 0;
}

/* set port PORT key=value... | set bridge BRIDGE key=value... | set pmd ... */
static int
cmd_set(struct ctx *x, int argc, char **argv)
{
	int rc;

	if (argc >= 3 && strcmp(argv[1], "pmd") == 0)
		return set_pmd(x, argc, argv);
	rc = need_args(x, argc, 4, "set port PORT key=value... | set bridge BRIDGE key=value... | set pmd sleep=on|off|MS");
	if (rc != 0)
		return rc;
	if (strcmp(argv[1], "port") == 0)
		return set_port(x, argc, argv);
	if (strcmp(argv[1], "bridge") == 0)
		return set_bridge(x, argc, argv);
	return vqs_err_set(&x->r->err, -EINVAL, "set: expected 'port' or 'bridge', not '%s'",
			   argv[1]);
}

/* ---- queries ---- */

static void
out_list_begin(struct ctx *x)
{
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "[");
}

static void
out_list_item(struct ctx *x, const char *s, bool first)
{
	if (x->r->json) {
		vqs_buf_printf(&x->r->out, first ? "" : ",");
		vqs_buf_json_str(&x->r->out, s);
	} else {
		vqs_buf_printf(&x->r->out, "%s\n", s);
	}
}

static void
out_list_end(struct ctx *x)
{
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "]");
}

static int
cmd_list_br(struct ctx *x, int argc, char **argv)
{
	uint16_t i;

	out_list_begin(x);
	for (i = 0; i < x->conf->n_bridges; i++)
		out_list_item(x, x->conf->bridges[i].name, i == 0);
	out_list_end(x);
	return 0;
}

static int
cmd_list_ports(struct ctx *x, int argc, char **argv)
{
	bool first = true;
	uint16_t i;
	int rc = need_args(x, argc, 2, "list-ports BRIDGE");

	if (rc != 0 || find_bridge(x, argv[1]) == NULL)
		return rc != 0 ? rc : -ENOENT;
	out_list_begin(x);
	for (i = 0; i < x->conf->n_ports; i++) {
		if (strcmp(x->conf->ports[i].bridge, argv[1]) != 0)
			continue;
		out_list_item(x, x->conf->ports[i].name, first);
		first = false;
	}
	out_list_end(x);
	return 0;
}

static void
show_port(struct ctx *x, const struct vqs_port_conf *pc, bool first)
{
	const struct vqs_port *p = vqs_switch_port(x->sw, pc->name);
	const struct vqs_port_error *pe = port_error(x->sw, pc->name);
	const char *state = pe != NULL ? "error" : p != NULL && vqs_port_is_up(p) ? "up" : "down";
	const char *where = vqs_port_type_is_vhost(pc->type) ? pc->path : pc->devargs;
	char trunks[VQS_TRUNKS_TEXT_MAX], aff[128];
	struct vqs_buf *o = &x->r->out;

	vqs_vlan_format_trunks(&pc->vlan, trunks);
	vqs_conf_format_affinity(pc, aff, sizeof(aff));
	if (!x->r->json) {
		vqs_buf_printf(o, "    port %s: %s %s, %s%s%s", pc->name,
			       vqs_port_type_name(pc->type), where, state,
			       pe != NULL ? ": " : "", pe != NULL ? pe->error : "");
		if (pc->vlan.tag != 0)
			vqs_buf_printf(o, ", tag %u", pc->vlan.tag);
		if (pc->vlan.trunks_set)
			vqs_buf_printf(o, ", trunks %s", trunks);
		if (aff[0] != '\0')
			vqs_buf_printf(o, ", pmd-rxq-affinity %s", aff);
		vqs_buf_printf(o, "\n");
		return;
	}
	vqs_buf_printf(o, "%s{\"name\":", first ? "" : ",");
	vqs_buf_json_str(o, pc->name);
	vqs_buf_printf(o, ",\"type\":\"%s\",\"state\":\"%s\",\"%s\":",
		       vqs_port_type_name(pc->type), state,
		       vqs_port_type_is_vhost(pc->type) ? "path" : "devargs");
	vqs_buf_json_str(o, where);
	vqs_buf_printf(o, ",\"queues\":%u,\"tag\":%u,\"trunks\":\"%s\",\"pmd_rxq_affinity\":\"%s\"",
		       pc->queues, pc->vlan.tag, trunks, aff);
	if (pe != NULL) {
		vqs_buf_printf(o, ",\"error\":");
		vqs_buf_json_str(o, pe->error);
	}
	vqs_buf_printf(o, "}");
}

static int
cmd_show(struct ctx *x, int argc, char **argv)
{
	struct vqs_buf *o = &x->r->out;
	uint16_t i, j;
	bool first;

	if (x->r->json) {
		vqs_buf_printf(o, "{");
		if (x->sw->unsaved[0] != '\0') {
			vqs_buf_printf(o, "\"unsaved\":");
			vqs_buf_json_str(o, x->sw->unsaved);
			vqs_buf_printf(o, ",");
		}
		vqs_buf_printf(o, "\"bridges\":[");
	} else if (x->sw->unsaved[0] != '\0') {
		vqs_buf_printf(o, "NOT SAVED: a restart would not restore this configuration: %s\n",
			       x->sw->unsaved);
	}
	for (i = 0; i < x->conf->n_bridges; i++) {
		const struct vqs_br_conf *bc = &x->conf->bridges[i];
		uint32_t macs = vqs_fdb_count(vqs_switch_bridge(x->sw, bc->name)->fdb);

		if (x->r->json) {
			vqs_buf_printf(o, "%s{\"name\":", i ? "," : "");
			vqs_buf_json_str(o, bc->name);
			vqs_buf_printf(o, ",\"mac_aging\":%u,\"mac_table_size\":%u,\"macs\":%u,\"ports\":[",
				       bc->mac_aging, bc->mac_table_size, macs);
		} else {
			vqs_buf_printf(o, "bridge %s: mac-aging %u s, mac-table-size %u, %u MACs\n",
				       bc->name, bc->mac_aging, bc->mac_table_size, macs);
		}
		for (first = true, j = 0; j < x->conf->n_ports; j++) {
			if (strcmp(x->conf->ports[j].bridge, bc->name) != 0)
				continue;
			show_port(x, &x->conf->ports[j], first);
			first = false;
		}
		if (x->r->json)
			vqs_buf_printf(o, "]}");
	}
	if (x->r->json)
		vqs_buf_printf(o, "]}");
	return 0;
}

struct fdb_show {
	struct ctx *x;
	bool first;
	uint32_t skip;   /* entries still to pass over (offset=) */
	uint32_t left;   /* entries still to show (limit=) */
	uint32_t shown;
	bool more;       /* an entry was left out at the end */
};

static int
fdb_show_one(const struct vqs_fdb_entry_info *e, void *arg)
{
	struct fdb_show *fs = arg;
	struct ctx *x = fs->x;
	const struct vqs_port *p = x->sw->ports[e->port];
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint64_t age = e->age_tsc / rte_get_tsc_hz();

	if (fs->skip > 0) {
		fs->skip--;
		return 0;
	}
	if (fs->left == 0) {
		fs->more = true;
		return 1;
	}
	fs->left--;
	fs->shown++;

	rte_ether_format_addr(mac, sizeof(mac), &e->mac);
	if (x->r->json) {
		vqs_buf_printf(&x->r->out, "%s{\"port\":", fs->first ? "" : ",");
		vqs_buf_json_str(&x->r->out, p != NULL ? p->conf.name : "?");
		vqs_buf_printf(&x->r->out, ",\"vlan\":%u,\"mac\":\"%s\",\"age\":%" PRIu64
			       ",\"static\":%s}", e->vlan, mac, age,
			       e->is_static ? "true" : "false");
	} else if (e->is_static) {
		vqs_buf_printf(&x->r->out, "%-16s %4u  %s  static\n",
			       p != NULL ? p->conf.name : "?", e->vlan, mac);
	} else {
		vqs_buf_printf(&x->r->out, "%-16s %4u  %s  %4" PRIu64 "\n",
			       p != NULL ? p->conf.name : "?", e->vlan, mac, age);
	}
	fs->first = false;
	return 0;
}

static struct vqs_bridge *
runtime_bridge(struct ctx *x, int argc, char **argv, const char *usage)
{
	if (need_args(x, argc, 2, usage) != 0 || find_bridge(x, argv[1]) == NULL)
		return NULL;
	return vqs_switch_bridge(x->sw, argv[1]);
}

/*
 * fdb/show BRIDGE [offset=N] [limit=N]: a guest can fill a table with a
 * million random sources, and everything else the control thread does
 * waits while it formats them, so a reply lists at most limit entries
 * (default FDB_SHOW_LIMIT) and says when there are more; offset= pages on.
 */
static int
cmd_fdb_show(struct ctx *x, int argc, char **argv)
{
	static const char usage[] = "fdb/show BRIDGE [offset=N] [limit=N]";
	struct vqs_bridge *b = runtime_bridge(x, argc, argv, usage);
	struct fdb_show fs = { x, true, 0, FDB_SHOW_LIMIT, 0, false };
	struct vqs_err *e = &x->r->err;
	uint32_t offset;
	int i, rc = 0;

	if (b == NULL)
		return -EINVAL;
	for (i = 2; rc == 0 && i < argc; i++) {
		if (strncmp(argv[i], "offset=", 7) == 0)
			rc = vqs_conf_parse_u32("offset", argv[i] + 7, 0, UINT32_MAX, &fs.skip, e);
		else if (strncmp(argv[i], "limit=", 6) == 0)
			rc = vqs_conf_parse_u32("limit", argv[i] + 6, 1, FDB_SHOW_LIMIT_MAX, &fs.left, e);
		else
			rc = vqs_err_set(e, -EINVAL, "usage: %s", usage);
	}
	if (rc != 0)
		return rc;
	offset = fs.skip;
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "[");
	else
		vqs_buf_printf(&x->r->out, "%-16s %4s  %-17s  %4s\n", "port", "VLAN", "MAC", "Age");
	vqs_fdb_walk(b->fdb, rte_get_tsc_cycles(), fdb_show_one, &fs);
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "]");
	if (fs.more)
		snprintf(x->r->warning, sizeof(x->r->warning),
			 "truncated: %u entries shown, more follow (fdb/show %s offset=%u)",
			 fs.shown, argv[1], offset + fs.shown);
	return 0;
}

static int
cmd_fdb_flush(struct ctx *x, int argc, char **argv)
{
	struct vqs_bridge *b = runtime_bridge(x, argc, argv, "fdb/flush BRIDGE");
	unsigned int n;

	if (b == NULL)
		return -EINVAL;
	n = vqs_fdb_flush(b->fdb);
	vqs_buf_printf(&x->r->out, x->r->json ? "{\"flushed\":%u}" : "flushed %u entries\n", n);
	return 0;
}

static int
parse_fdb_mac(struct ctx *x, const char *s, struct rte_ether_addr *mac)
{
	if (rte_ether_unformat_addr(s, mac) != 0 || !rte_is_valid_assigned_ether_addr(mac))
		return vqs_err_set(&x->r->err, -EINVAL, "bad MAC address '%s' (a unicast xx:xx:xx:xx:xx:xx)",
				   s);
	return 0;
}

static int
parse_fdb_vlan(struct ctx *x, const char *s, uint16_t *vlan)
{
	uint32_t v;
	int rc = vqs_conf_parse_u32("VLAN", s, 0, VQS_VLAN_MAX, &v, &x->r->err);

	*vlan = (uint16_t)v;
	return rc;
}

/*
 * fdb/add BRIDGE MAC PORT [VLAN], or in OVS's order (ovs-appctl fdb/add
 * BRIDGE PORT VLAN MAC): a third word that is a MAC address says which.
 */
static int
cmd_fdb_add(struct ctx *x, int argc, char **argv)
{
	static const char usage[] = "fdb/add BRIDGE MAC PORT [VLAN] | fdb/add BRIDGE PORT VLAN MAC";
	struct vqs_bridge *b = runtime_bridge(x, argc, argv, usage);
	struct rte_ether_addr mac;
	const char *port, *mac_word;
	struct vqs_port *p;
	uint16_t vlan = 0;
	bool ovs;
	int rc;

	if (b == NULL)
		return -EINVAL;
	if (argc < 4 || argc > 5)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: %s", usage);
	ovs = argc == 5 && rte_ether_unformat_addr(argv[2], &mac) != 0 &&
	      rte_ether_unformat_addr(argv[4], &mac) == 0;
	mac_word = ovs ? argv[4] : argv[2];
	port = ovs ? argv[2] : argv[3];
	rc = parse_fdb_mac(x, mac_word, &mac);
	if (rc == 0 && argc == 5)
		rc = parse_fdb_vlan(x, ovs ? argv[3] : argv[4], &vlan);
	if (rc != 0)
		return rc;
	p = vqs_switch_port(x->sw, port);
	if (p == NULL || strcmp(p->conf.bridge, argv[1]) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "no port '%s' on bridge %s", port, argv[1]);
	if (vqs_fdb_add_static(b->fdb, vlan, &mac, p->slot) != 0)
		return vqs_err_set(&x->r->err, -ENOSPC, "the MAC table of %s is full", argv[1]);
	return 0;
}

/* fdb/del BRIDGE VLAN MAC (OVS's order), learned or static. */
static int
cmd_fdb_del(struct ctx *x, int argc, char **argv)
{
	static const char usage[] = "fdb/del BRIDGE VLAN MAC";
	struct vqs_bridge *b = runtime_bridge(x, argc, argv, usage);
	struct rte_ether_addr mac;
	uint16_t vlan;
	int rc;

	if (b == NULL)
		return -EINVAL;
	if (argc != 4)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: %s", usage);
	rc = parse_fdb_vlan(x, argv[2], &vlan);
	if (rc == 0)
		rc = parse_fdb_mac(x, argv[3], &mac);
	if (rc != 0)
		return rc;
	if (vqs_fdb_del(b->fdb, vlan, &mac) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "no entry for %s in VLAN %u on bridge %s",
				   argv[3], vlan, argv[1]);
	return 0;
}

static int
cmd_pmd_rxq_show(struct ctx *x, int argc, char **argv)
{
	struct vqs_buf *o = &x->r->out;
	uint16_t i, s, q;
	bool first;

	if (x->r->json)
		vqs_buf_printf(o, "[");
	for (i = 0; i < x->sw->n_pmds; i++) {
		if (x->r->json)
			vqs_buf_printf(o, "%s{\"pmd\":%u,\"lcore\":%u,\"rxqs\":[", i ? "," : "",
				       i, x->sw->pmds[i]->lcore);
		else
			vqs_buf_printf(o, "pmd %u (lcore %u):\n", i, x->sw->pmds[i]->lcore);
		for (first = true, s = 0; s < VQS_MAX_PORTS; s++) {
			const struct vqs_port *p = x->sw->ports[s];
			const struct vqs_port_conf *pc;

			if (p == NULL || p->deleting)
				continue;
			pc = vqs_conf_port(x->conf, p->conf.name);
			for (q = 0; q < p->n_rxq; q++) {
				bool pinned = pc != NULL && pc->affinity[q] >= 0;

				if (p->rxq_pmd[q] != i)
					continue;
				if (x->r->json) {
					vqs_buf_printf(o, "%s{\"port\":", first ? "" : ",");
					vqs_buf_json_str(o, p->conf.name);
					vqs_buf_printf(o, ",\"queue\":%u,\"pinned\":%s}", q,
						       pinned ? "true" : "false");
				} else {
					vqs_buf_printf(o, "  port %-16s queue %u%s\n", p->conf.name, q,
						       pinned ? " (pinned)" : "");
				}
				first = false;
			}
		}
		if (x->r->json)
			vqs_buf_printf(o, "]}");
	}
	if (x->r->json)
		vqs_buf_printf(o, "]");
	return 0;
}

/* Ports named by argv[1], or all of them; calls fn for each. */
static int
each_port(struct ctx *x, int argc, char **argv,
	  void (*fn)(struct ctx *x, struct vqs_port *p, bool first))
{
	struct vqs_port *p;
	bool first = true;
	uint16_t i;

	if (argc > 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: %s [PORT]", argv[0]);
	if (argc == 2) {
		p = vqs_switch_port(x->sw, argv[1]);
		if (p == NULL)
			return vqs_err_set(&x->r->err, -ENOENT, "no port named '%s'", argv[1]);
		fn(x, p, true);
		return 0;
	}
	for (i = 0; i < x->conf->n_ports; i++) {
		p = vqs_switch_port(x->sw, x->conf->ports[i].name);
		if (p != NULL) {
			fn(x, p, first);
			first = false;
		}
	}
	return 0;
}

static void
port_stats_one(struct ctx *x, struct vqs_port *p, bool first)
{
	struct vqs_fields f;

	vqs_stats_port(p, x->sw->n_pmds, &f);
	if (x->r->json) {
		vqs_buf_printf(&x->r->out, "%s", first ? "{" : ",");
		vqs_buf_json_str(&x->r->out, p->conf.name);
		vqs_buf_printf(&x->r->out, ":");
		vqs_fields_json(&f, &x->r->out);
	} else {
		vqs_buf_printf(&x->r->out, "port %s:\n", p->conf.name);
		vqs_fields_text(&f, &x->r->out, 2);
	}
}

static void
port_stats_clear_one(struct ctx *x, struct vqs_port *p, bool first)
{
	vqs_port_stats_clear(p, x->sw->n_pmds);
}

/* port/stats [PORT] */
static int
cmd_port_stats(struct ctx *x, int argc, char **argv)
{
	int rc = each_port(x, argc, argv, port_stats_one);

	if (rc == 0 && x->r->json)
		vqs_buf_printf(&x->r->out, x->r->out.len ? "}" : "{}");
	return rc;
}

static int
cmd_port_stats_clear(struct ctx *x, int argc, char **argv)
{
	return each_port(x, argc, argv, port_stats_clear_one);
}

static int
cmd_pmd_stats_show(struct ctx *x, int argc, char **argv)
{
	struct vqs_fields f;
	uint16_t i;

	for (i = 0; i < x->sw->n_pmds; i++) {
		vqs_stats_pmd(x->sw->pmds[i], vqs_pmd_rxq_count(x->sw, i), &f);
		if (x->r->json) {
			vqs_buf_printf(&x->r->out, "%s\"pmd%u\":", i ? "," : "{", i);
			vqs_fields_json(&f, &x->r->out);
		} else {
			vqs_buf_printf(&x->r->out, "pmd %u:\n", i);
			vqs_fields_text(&f, &x->r->out, 2);
		}
	}
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "}");
	return 0;
}

static int
cmd_pmd_stats_clear(struct ctx *x, int argc, char **argv)
{
	uint16_t i;

	for (i = 0; i < x->sw->n_pmds; i++)
		vqs_pmd_stats_clear(x->sw->pmds[i]);
	return 0;
}

/* vring/show PORT: nothing but the header when no guest is connected. */
static int
cmd_vring_show(struct ctx *x, int argc, char **argv)
{
	struct vqs_vring_info vi[2 * VQS_VHOST_MAX_QP];
	struct vqs_fields f;
	struct vqs_port *p;
	unsigned int i, n;

	if (argc != 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: vring/show PORT");
	p = find_vhost_port(x, argv[1]);
	if (p == NULL)
		return -ENOENT;
	/* Online: destroy_device waits for us before the device goes. */
	rte_rcu_qsbr_thread_online(x->sw->qsv, x->sw->ctl_thread_id);
	n = vqs_vhost_vring_info(p, vi, RTE_DIM(vi));
	rte_rcu_qsbr_thread_offline(x->sw->qsv, x->sw->ctl_thread_id);
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "[");
	else
		vqs_buf_printf(&x->r->out, "port %s: %s\n", p->conf.name,
			       n ? "guest connected" : "no guest connected");
	for (i = 0; i < n; i++) {
		vqs_stats_vring(&vi[i], &f);
		if (x->r->json) {
			vqs_buf_printf(&x->r->out, i ? "," : "");
			vqs_fields_json(&f, &x->r->out);
		} else {
			vqs_buf_printf(&x->r->out, "  vring %u (%s):\n", vi[i].id,
				       vi[i].id % 2 ? "guest TX" : "guest RX");
			vqs_fields_text(&f, &x->r->out, 4);
		}
	}
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "]");
	return 0;
}

/* debug/drop-calls PORT N: fault injection, swallows the next N guest
 * interrupts librte_vhost raises on the port (a lost-interrupt test; the
 * watchdog's own calls are not swallowed). */
static int
cmd_debug_drop_calls(struct ctx *x, int argc, char **argv)
{
	struct vqs_port *p;
	unsigned long n;
	char *end;

	if (argc != 3)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: debug/drop-calls PORT N");
	p = find_vhost_port(x, argv[1]);
	if (p == NULL)
		return -ENOENT;
	n = strtoul(argv[2], &end, 10);
	if (argv[2][0] < '0' || argv[2][0] > '9' || *end != '\0' || n > 1000000)
		return vqs_err_set(&x->r->err, -EINVAL, "N: expected 0 to 1000000");
	/* Online: destroy_device waits for us before the device goes. */
	rte_rcu_qsbr_thread_online(x->sw->qsv, x->sw->ctl_thread_id);
	vqs_vhost_drop_calls(p, (uint32_t)n);
	rte_rcu_qsbr_thread_offline(x->sw->qsv, x->sw->ctl_thread_id);
	return 0;
}

/* debug/fail-publish N: fault injection, the next N datapath snapshots
 * fail as if memory had run out. */
static int
cmd_debug_fail_publish(struct ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: debug/fail-publish N");
	return vqs_conf_parse_u32("N", argv[1], 0, 1000, &x->sw->debug_fail_publish,
				  &x->r->err);
}

/* metrics: Prometheus' text format; with --format json, that text as the
 * string "metrics". */
static int
cmd_metrics(struct ctx *x, int argc, char **argv)
{
	struct vqs_buf text = { 0 };

	if (argc != 1)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: metrics");
	vqs_metrics_render(x->sw, x->r->json ? &text : &x->r->out);
	if (x->r->json) {
		vqs_buf_printf(&x->r->out, "{\"metrics\":");
		vqs_buf_json_str(&x->r->out, vqs_buf_str(&text));
		vqs_buf_printf(&x->r->out, "}");
		vqs_buf_free(&text);
	}
	return 0;
}

/* vlog/list: every log type and its level. */
static int
cmd_vlog_list(struct ctx *x, int argc, char **argv)
{
	if (argc != 1)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: vlog/list");
	vqs_log_list(&x->r->out, x->r->json);
	return 0;
}

/* vlog/set PATTERN:LEVEL: at run time only, not saved (as OVS's vlog/set;
 * EAL's --log-level sets it from the start). */
static int
cmd_vlog_set(struct ctx *x, int argc, char **argv)
{
	if (argc != 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: vlog/set PATTERN:LEVEL");
	return vqs_log_set(argv[1], &x->r->err);
}

/* debug/full-poll N: the PMDs poll every queue without peeking every N
 * passes (a power of two), or never (0): tests of the peek itself. */
static int
cmd_debug_full_poll(struct ctx *x, int argc, char **argv)
{
	uint32_t n;
	int rc;

	if (argc != 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: debug/full-poll N");
	rc = vqs_conf_parse_u32("N", argv[1], 0, 1u << 20, &n, &x->r->err);
	if (rc != 0)
		return rc;
	if (n & (n - 1))
		return vqs_err_set(&x->r->err, -EINVAL, "N: 0 or a power of two");
	__atomic_store_n(&x->sw->full_poll_passes, n, __ATOMIC_RELAXED);
	return 0;
}

static int cmd_list_commands(struct ctx *x, int argc, char **argv);
static int cmd_help(struct ctx *x, int argc, char **argv);
static int find_command(const char *verb, bool debug, struct vqs_err *e);

enum cmd_kind {
	CMD_QUERY,   /* reads only */
	CMD_CONFIG,  /* changes the configuration: saved, allowed in files */
	CMD_ACTION,  /* changes run-time state only (MAC tables, counters) */
	CMD_DEBUG,   /* fault injection: only with --enable-debug-commands */
};

static const struct {
	const char *verb;
	cmd_fn fn;
	enum cmd_kind kind;
} commands[] = {
	{ "add-br", cmd_add_br, CMD_CONFIG },
	{ "del-br", cmd_del_br, CMD_CONFIG },
	{ "add-port", cmd_add_port, CMD_CONFIG },
	{ "del-port", cmd_del_port, CMD_CONFIG },
	{ "set", cmd_set, CMD_CONFIG },
	{ "list-br", cmd_list_br, CMD_QUERY },
	{ "list-ports", cmd_list_ports, CMD_QUERY },
	{ "show", cmd_show, CMD_QUERY },
	{ "fdb/show", cmd_fdb_show, CMD_QUERY },
	{ "fdb/flush", cmd_fdb_flush, CMD_ACTION },
	{ "fdb/add", cmd_fdb_add, CMD_ACTION },
	{ "fdb/del", cmd_fdb_del, CMD_ACTION },
	{ "pmd/rxq-show", cmd_pmd_rxq_show, CMD_QUERY },
	{ "pmd/stats-show", cmd_pmd_stats_show, CMD_QUERY },
	{ "pmd/stats-clear", cmd_pmd_stats_clear, CMD_ACTION },
	{ "port/stats", cmd_port_stats, CMD_QUERY },
	{ "port/stats-clear", cmd_port_stats_clear, CMD_ACTION },
	{ "vring/show", cmd_vring_show, CMD_QUERY },
	/* Under the names ovs-appctl gives them, for OVS-DPDK scripts. */
	{ "dpif-netdev/pmd-rxq-show", cmd_pmd_rxq_show, CMD_QUERY },
	{ "dpif-netdev/pmd-stats-show", cmd_pmd_stats_show, CMD_QUERY },
	{ "dpif-netdev/pmd-stats-clear", cmd_pmd_stats_clear, CMD_ACTION },
	{ "metrics", cmd_metrics, CMD_QUERY },
	{ "vlog/list", cmd_vlog_list, CMD_QUERY },
	{ "vlog/set", cmd_vlog_set, CMD_ACTION },
	{ "list-commands", cmd_list_commands, CMD_QUERY },
	{ "help", cmd_help, CMD_QUERY },
	{ "debug/drop-calls", cmd_debug_drop_calls, CMD_DEBUG },
	{ "debug/fail-publish", cmd_debug_fail_publish, CMD_DEBUG },
	{ "debug/full-poll", cmd_debug_full_poll, CMD_DEBUG },
};

/* Every command this switch takes (debug ones only when enabled), with
 * its arguments from the registry (commands.h). */
static int
cmd_list_commands(struct ctx *x, int argc, char **argv)
{
	unsigned int i, n = 0;

	if (argc != 1)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: list-commands");
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "{");
	for (i = 0; i < RTE_DIM(commands); i++) {
		const struct vqs_command_doc *d = vqs_command_doc(commands[i].verb);
		const char *args = d != NULL ? d->args : "(undocumented)";

		if (commands[i].kind == CMD_DEBUG && !x->sw->debug_commands)
			continue;
		if (x->r->json) {
			vqs_buf_printf(&x->r->out, "%s", n++ ? "," : "");
			vqs_buf_json_str(&x->r->out, commands[i].verb);
			vqs_buf_printf(&x->r->out, ":");
			vqs_buf_json_str(&x->r->out, args);
		} else {
			vqs_buf_printf(&x->r->out, "%s%s%s\n", commands[i].verb, args[0] ? " " : "", args);
		}
	}
	if (x->r->json)
		vqs_buf_printf(&x->r->out, "}");
	return 0;
}

static int
cmd_help(struct ctx *x, int argc, char **argv)
{
	const struct vqs_command_doc *d;

	if (argc != 2)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: help COMMAND");
	d = vqs_command_doc(argv[1]);
	if (d == NULL || find_command(argv[1], x->sw->debug_commands, &x->r->err) < 0)
		return vqs_err_set(&x->r->err, -ENOENT, "no command '%s' (list-commands names them)",
				   argv[1]);
	if (x->r->json) {
		vqs_buf_printf(&x->r->out, "{\"command\":");
		vqs_buf_json_str(&x->r->out, d->verb);
		vqs_buf_printf(&x->r->out, ",\"args\":");
		vqs_buf_json_str(&x->r->out, d->args);
		vqs_buf_printf(&x->r->out, ",\"help\":");
		vqs_buf_json_str(&x->r->out, d->help);
		vqs_buf_printf(&x->r->out, "}");
	} else {
		vqs_buf_printf(&x->r->out, "%s%s%s\n  %s\n", d->verb, d->args[0] ? " " : "", d->args, d->help);
	}
	return 0;
}

/* debug: whether the debug commands exist */
static int
find_command(const char *verb, bool debug, struct vqs_err *e)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(commands); i++)
		if (strcmp(commands[i].verb, verb) == 0 &&
		    (commands[i].kind != CMD_DEBUG || debug))
			return (int)i;
	return vqs_err_set(e, -EINVAL,
			   "unknown command '%s' (vqctl --help lists them)",
			   verb);
}

/* A control character in a value could end a line of the state file and
 * start another: no word may hold one. */
static int
check_words(int argc, char **argv, struct vqs_err *e)
{
	int i;
	const char *c;

	for (i = 0; i < argc; i++)
		for (c = argv[i]; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return vqs_err_set(e, -EINVAL,
						   "word %d contains a control character (0x%02x): refused",
						   i + 1, (unsigned char)*c);
	return 0;
}

/* "vqswitch.ctl: uid 0 gid 0 pid 1: add-port br0 vm1 type=vhostuser: ok" */
static void
log_change(const char *who, int argc, char **argv, int rc, const struct vqs_ctl_reply *r)
{
	struct vqs_buf b = { 0 };
	int i;

	for (i = 0; i < argc; i++)
		vqs_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	if (rc != 0)
		VQS_LOG(WARNING, "%s: %s: failed: %s", who, vqs_buf_str(&b), r->err.msg);
	else
		VQS_LOG(INFO, "%s: %s: ok%s%s", who, vqs_buf_str(&b),
			r->warning[0] != '\0' ? "; " : "", r->warning);
	vqs_buf_free(&b);
}

/* Records the model; a failure leaves the change in effect and says so. */
static void
save_after_change(struct vqs_switch *sw, struct vqs_ctl_reply *r)
{
	struct vqs_err e;

	if (state_file[0] == '\0')
		return;
	if (vqs_ctl_save_state(sw, &e) == 0) {
		sw->unsaved[0] = '\0';
		return;
	}
	strlcpy(sw->unsaved, e.msg, sizeof(sw->unsaved));
	r->unsaved = true;
	snprintf(r->warning, sizeof(r->warning), "applied, but not saved: %s", e.msg);
}

/* --may-exist / --if-exists: whether the command has nothing to do. */
static bool
chain_no_op(struct vqs_switch *sw, const struct vqs_chain_cmd *c)
{
	const char *verb = c->argv[0];
	const char *name = c->argc >= 2 ? c->argv[c->argc - 1] : "";

	if (c->may_exist && strcmp(verb, "add-br") == 0 && c->argc >= 2)
		return vqs_conf_bridge(sw->conf, c->argv[1]) != NULL;
	if (c->may_exist && strcmp(verb, "add-port") == 0 && c->argc >= 3)
		return vqs_conf_port(sw->conf, c->argv[2]) != NULL;
	if (c->if_exists && strcmp(verb, "del-br") == 0)
		return vqs_conf_bridge(sw->conf, name) == NULL;
	if (c->if_exists && strcmp(verb, "del-port") == 0)
		return vqs_conf_port(sw->conf, name) == NULL;
	return false;
}

/* Deletes what the first n commands of a failed chain added, newest first. */
static void
chain_undo(struct vqs_switch *sw, const struct vqs_chain *ch, const bool *done, unsigned int n,
	   const char *who)
{
	struct vqs_ctl_reply r;
	char *argv[2];

	while (n-- > 0) {
		const struct vqs_chain_cmd *c = &ch->cmd[n];

		if (!done[n])
			continue;
		memset(&r, 0, sizeof(r));
		if (strcmp(c->argv[0], "add-br") == 0) {
			argv[0] = "del-br";
			argv[1] = c->argv[1];
		} else {
			argv[0] = "del-port";
			argv[1] = c->argv[2];
		}
		vqs_ctl_exec(sw, 2, argv, who, &r);
		vqs_buf_free(&r.out);
	}
}

/* An ovs-vsctl style chain, as one change: see ovs_compat.h. */
static int
exec_chain(struct vqs_switch *sw, int argc, char **argv, const char *who, struct vqs_ctl_reply *r)
{
	static struct vqs_chain ch; /* control thread only */
	bool done[VQS_CHAIN_MAX] = { false };
	unsigned int i;
	int rc;

	rc = vqs_ovs_chain(argc, argv, &ch, &r->err);
	if (rc != 0)
		return rc;
	for (i = 0; i < ch.n; i++) {
		if (chain_no_op(sw, &ch.cmd[i]))
			continue;
		/* Never again a chain: no recursion. */
		if (vqs_ovs_is_chain(ch.cmd[i].argc, ch.cmd[i].argv))
			return vqs_err_set(&r->err, -EINVAL, "'%s' cannot be translated", ch.cmd[i].argv[0]);
		rc = vqs_ctl_exec(sw, ch.cmd[i].argc, ch.cmd[i].argv, who, r);
		if (rc != 0) {
			bool any = false;
			unsigned int k;

			for (k = 0; k < i; k++)
				any |= done[k];
			chain_undo(sw, &ch, done, i, who);
			if (any)
				snprintf(r->err.msg + strlen(r->err.msg),
					 sizeof(r->err.msg) - strlen(r->err.msg),
					 " (the chain's earlier commands were undone)");
			return rc;
		}
		done[i] = true;
	}
	return 0;
}

int
vqs_ctl_exec(struct vqs_switch *sw, int argc, char **argv, const char *who,
	     struct vqs_ctl_reply *r)
{
	struct ctx x = { sw, sw->conf, r, sw->socket_dir, false };
	int c, rc;

	if (argc < 1)
		return vqs_err_set(&r->err, -EINVAL, "empty command");
	rc = check_words(argc, argv, &r->err);
	if (rc != 0)
		return rc;
	if (vqs_ovs_is_chain(argc, argv))
		return exec_chain(sw, argc, argv, who, r);
	c = find_command(argv[0], sw->debug_commands, &r->err);
	if (c < 0)
		return c;
	rc = commands[c].fn(&x, argc, argv);
	/* Saved even after a failure: a del-br that stopped half way did
	 * change the model. */
	if (commands[c].kind == CMD_CONFIG)
		save_after_change(sw, r);
	if (commands[c].kind != CMD_QUERY)
		log_change(who != NULL ? who : "internal", argc, argv, rc, r);
	return rc;
}

int
vqs_ctl_split(char *line, char **argv, int max)
{
	char *rd = line, *wr, sep;
	int n = 0;

	for (;;) {
		while (*rd == ' ' || *rd == '\t' || *rd == '\r' || *rd == '\n')
			rd++;
		if (*rd == '\0' || *rd == '#')
			return n;
		if (n == max)
			return -E2BIG;
		argv[n++] = wr = rd;
		while (*rd != '\0' && strchr(" \t\r\n", *rd) == NULL) {
			char q = *rd;

			if (q != '"' && q != '\'') {
				*wr++ = *rd++;
				continue;
			}
			for (rd++; *rd != q; rd++) {
				if (*rd == '\0')
					return -EINVAL;
				if (q == '"' && *rd == '\\' && (rd[1] == '"' || rd[1] == '\\'))
					rd++;
				*wr++ = *rd;
			}
			rd++;
		}
		sep = *rd;
		*wr = '\0'; /* wr <= rd: at most the separator is overwritten */
		if (sep == '\0')
			return n;
		rd++;
	}
}

struct file_line {
	unsigned int no;
	int argc;
	char *argv[VQS_MAX_ARGS + 3];
	char *text;
};

struct file_lines {
	unsigned int n;
	struct file_line *l;
};

static void
free_lines(struct file_lines *fl)
{
	unsigned int i;

	for (i = 0; i < fl->n; i++)
		free(fl->l[i].text);
	free(fl->l);
}

/* Lines of any length (a trunk list can be long); the words of each. */
static int
read_lines(const char *path, struct file_lines *fl, struct vqs_err *e)
{
	unsigned int cap = 0, no = 0;
	struct file_line *l;
	char *buf = NULL;
	size_t bufsz = 0;
	FILE *f;
	int rc = 0;

	memset(fl, 0, sizeof(*fl));
	f = fopen(path, "r");
	if (f == NULL)
		return vqs_err_set(e, -errno, "%s: %s", path, strerror(errno));
	while (rc == 0 && getline(&buf, &bufsz, f) >= 0) {
		no++;
		if (fl->n == cap) {
			cap = cap ? cap * 2 : 64;
			l = realloc(fl->l, cap * sizeof(*l));
			if (l == NULL) {
				rc = vqs_err_set(e, -ENOMEM, "out of memory");
				break;
			}
			fl->l = l;
		}
		l = &fl->l[fl->n];
		l->no = no;
		l->text = strdup(buf);
		if (l->text == NULL) {
			rc = vqs_err_set(e, -ENOMEM, "out of memory");
			break;
		}
		l->argc = vqs_ctl_split(l->text, l->argv, VQS_MAX_ARGS + 3);
		if (l->argc == -E2BIG)
			rc = vqs_err_set(e, -E2BIG, "%s:%u: too many words", path, no);
		else if (l->argc < 0)
			rc = vqs_err_set(e, -EINVAL, "%s:%u: a quote is not closed", path, no);
		else if (l->argc > 0 && check_words(l->argc, l->argv, &(struct vqs_err){ 0 }) != 0)
			rc = vqs_err_set(e, -EINVAL, "%s:%u: control character in a word", path, no);
		if (l->argc > 0 && rc == 0)
			fl->n++;
		else
			free(l->text);
	}
	free(buf);
	fclose(f);
	return rc;
}

/* Every line against a copy of the model; nothing runs. The resulting
 * model goes to *result if it is not NULL. */
static int
dry_run(const struct vqs_conf *start, const char *socket_dir, const char *path,
	const struct file_lines *fl, struct vqs_conf *result, struct vqs_err *e)
{
	struct vqs_ctl_reply r = { .json = false };
	struct vqs_conf *scratch = malloc(sizeof(*scratch));
	struct ctx x;
	unsigned int i;
	int c, rc = 0;

	if (scratch == NULL)
		return vqs_err_set(e, -ENOMEM, "out of memory");
	*scratch = *start;
	x = (struct ctx){ NULL, scratch, &r, socket_dir, false };
	for (i = 0; rc == 0 && i < fl->n; i++) {
		char **argv = fl->l[i].argv;

		c = find_command(argv[0], false, &r.err);
		if (c >= 0 && commands[c].kind != CMD_CONFIG)
			c = vqs_err_set(&r.err, -EINVAL,
					"'%s' is not a configuration command", argv[0]);
		if (c >= 0)
			c = commands[c].fn(&x, fl->l[i].argc, argv);
		if (c < 0)
			rc = vqs_err_set(e, c, "%s:%u: %s", path, fl->l[i].no, r.err.msg);
	}
	if (rc == 0 && result != NULL)
		*result = *scratch;
	vqs_buf_free(&r.out);
	free(scratch);
	return rc;
}

int
vqs_ctl_check_file(const char *path, const char *socket_dir, struct vqs_err *e)
{
	static const struct vqs_conf empty;
	struct file_lines fl;
	int rc = read_lines(path, &fl, e);

	if (rc == 0)
		rc = dry_run(&empty, socket_dir, path, &fl, NULL, e);
	free_lines(&fl);
	return rc;
}

int
vqs_ctl_load_file(struct vqs_switch *sw, const char *path, struct vqs_err *e)
{
	struct vqs_ctl_reply r = { .json = false };
	struct file_lines fl;
	struct ctx x = { sw, sw->conf, &r, sw->socket_dir, true };
	unsigned int i;
	int c, rc;

	rc = read_lines(path, &fl, e);
	if (rc == 0)
		rc = dry_run(sw->conf, sw->socket_dir, path, &fl, NULL, e);
	/* Apply. Only the devices themselves can still fail, and a port that
	 * does stays configured with its error (x.restoring). */
	for (i = 0; rc == 0 && i < fl.n; i++) {
		c = find_command(fl.l[i].argv[0], false, &r.err);
		c = commands[c].fn(&x, fl.l[i].argc, fl.l[i].argv);
		if (c < 0)
			rc = vqs_err_set(e, c, "%s:%u: %s", path, fl.l[i].no, r.err.msg);
	}
	vqs_buf_free(&r.out);
	free_lines(&fl);
	return rc;
}

void
vqs_ctl_retry(struct vqs_switch *sw)
{
	struct vqs_ctl_reply r = { .json = false };
	struct vqs_port_conf *pc;
	struct vqs_port *p;
	uint16_t i;

	for (i = 0; i < sw->n_port_errors; i++) {
		pc = vqs_conf_port(sw->conf, sw->port_errors[i].name);
		if (pc == NULL)
			continue;
		p = port_create(sw, pc, &r.err);
		if (p == NULL) {
			port_error_set(sw, pc->name, r.err.msg);
			continue;
		}
		if (vqs_dp_publish(sw) != 0) {
			port_undo(sw, p);
			continue;
		}
		VQS_LOG(INFO, "port %s: started", pc->name);
		port_error_clear(sw, pc->name);
		i--; /* the last entry moved here */
	}
	if (sw->unsaved[0] != '\0' && vqs_ctl_save_state(sw, &r.err) == 0) {
		VQS_LOG(INFO, "state saved: the earlier failure to save is mended");
		sw->unsaved[0] = '\0';
	}
}

void
vqs_ctl_set_state_file(const char *path)
{
	strlcpy(state_file, path != NULL ? path : "", sizeof(state_file));
}

/* The file just written, read as the next start will read it, gives the
 * model that is running. */
static bool
reads_back(struct vqs_switch *sw, const char *path)
{
	static const struct vqs_conf empty;
	struct vqs_conf *back = malloc(sizeof(*back));
	struct file_lines fl;
	struct vqs_err e;
	bool same;

	if (back == NULL)
		return false;
	same = read_lines(path, &fl, &e) == 0 &&
	       dry_run(&empty, sw->socket_dir, path, &fl, back, &e) == 0;
	if (same && !vqs_conf_equal(sw->conf, back)) {
		vqs_err_set(&e, -EPROTO, "%s reads back as another configuration", path);
		same = false;
	}
	if (!same)
		VQS_LOG(ERR, "state file check: %s", e.msg);
	free_lines(&fl);
	free(back);
	return same;
}

/* Written to a temporary file, flushed to disk, read back and compared,
 * renamed over the old one: a crash leaves the old state or the new, never
 * half of one, and never one that would start another configuration. */
int
vqs_ctl_save_state(struct vqs_switch *sw, struct vqs_err *e)
{
	char tmp[sizeof(state_file) + 8], dir[sizeof(state_file)];
	FILE *f;
	int fd, rc;

	if (state_file[0] == '\0')
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_file);
	f = fopen(tmp, "w");
	if (f == NULL)
		return vqs_err_set(e, -errno, "cannot write state file %s: %s", tmp,
				   strerror(errno));
	rc = vqs_conf_write(sw->conf, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && !reads_back(sw, tmp)) {
		unlink(tmp);
		return vqs_err_set(e, -EPROTO,
				   "state file %s would not read back as the running configuration: not written",
				   state_file);
	}
	if (rc == 0 && rename(tmp, state_file) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return vqs_err_set(e, rc, "cannot write state file %s: %s", state_file,
				   strerror(-rc));
	}
	strlcpy(dir, state_file, sizeof(dir));
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

void
vqs_ctl_teardown(struct vqs_switch *sw)
{
	uint16_t s;

	for (s = 0; s < VQS_MAX_PORTS; s++)
		if (sw->ports[s] != NULL)
			port_delete(sw, sw->ports[s], true);
	while (sw->n_bridges > 0)
		bridge_delete(sw, sw->bridges[sw->n_bridges - 1]->name);
}
