/* SPDX-License-Identifier: BSD-3-Clause
 * Bridges and ports: the commands that change the configuration, the
 * queries of it, and the running switch's side of each change (creating,
 * starting and deleting bridges and ports, and ports that could not start).
 *
 * Every command is validated against the model (conf.c) before anything
 * changes; then the running switch is changed, and only if that worked is
 * the model updated and the datapath snapshot republished. A failed
 * command leaves everything as it was.
 */
#define VQS_LOG_MODULE VQS_LOG_CTL

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_malloc.h>

#include "cmd.h"
#include "vqs_evpn.h"
#include "vqs_model.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

#define SET_ARGS "port PORT KEY=VALUE... (add-port's) | bridge BRIDGE mac-aging=|mac-table-size= " \
	"| pmd sleep=on|off|MS | switch offloads=on|off"

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

/* The device (or a tunnel port's counters); release: close a device EAL
 * probed too. */
/* release: the switch exits (a hot-plugged ethdev is released). */
static void
port_device_stop(struct vqs_switch *sw, struct vqs_port *p, bool release)
{
	if (vqs_port_type_is_vhost(p->conf.type)) {
		vqs_vhost_port_stop(p);
	} else if (p->conf.type == VQS_PORT_VXLAN) {
		vqs_evpn_port_stop(sw, p);
		vqs_tnl_port_stop(p);
	} else
		vqs_eth_port_stop(p, release);
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
	if (vqs_port_type_is_vhost(pc->type)) {
		rc = vqs_vhost_port_start(p, sw->socket_gid, e->msg, sizeof(e->msg));
	} else if (pc->type == VQS_PORT_VXLAN) {
		rc = vqs_tnl_port_start(p, sw->n_pmds);
		if (rc != 0) {
			vqs_err_set(e, rc, "out of memory");
		} else if ((rc = vqs_evpn_port_start(sw, p, e)) != 0) {
			vqs_tnl_port_stop(p);
		}
	} else {
		rc = vqs_eth_port_start(p, sw->n_pmds, sw->pool, e->msg, sizeof(e->msg));
	}
	if (rc != 0) {
		/* A vhost start undoes itself; an ethdev we probed is removed. */
		if (pc->type == VQS_PORT_ETH)
			vqs_eth_port_stop(p, false);
		port_free(sw, p);
		return NULL;
	}
	rc = vqs_pmds_assign_port(sw, p, pc, e);
	if (rc != 0) {
		port_device_stop(sw, p, false);
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
	port_device_stop(sw, p, false);
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
	port_device_stop(sw, p, release);
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
publish_failed(struct vqs_ctl_ctx *x)
{
	return vqs_err_set(&x->r->err, -ENOMEM,
			   "out of memory for the new datapath: nothing changed");
}

/* ---- commands ---- */


static int
cmd_add_br(struct vqs_ctl_ctx *x, int argc, char **argv)
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




static int
delete_port(struct vqs_ctl_ctx *x, const char *name)
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
cmd_del_br(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	int i, rc;

	if (vqs_ctl_find_bridge(x, argv[1]) == NULL)
		return -ENOENT;
	for (i = x->conf->n_ports - 1; i >= 0; i--)
		if (strcmp(x->conf->ports[i].bridge, argv[1]) == 0 &&
		    (rc = delete_port(x, x->conf->ports[i].name)) != 0)
			return rc;
	if (x->sw != NULL && bridge_delete(x->sw, argv[1]) != 0)
		return publish_failed(x);
	vqs_conf_del_bridge(x->conf, argv[1]);
	return 0;
}

/* The device's error in x, said of the port: "port NAME: ERROR" + suffix. */
static int
port_failed(struct vqs_ctl_ctx *x, const char *name, const char *suffix)
{
	char msg[sizeof(x->r->err.msg)];

	strlcpy(msg, x->r->err.msg, sizeof(msg));
	return vqs_err_set(&x->r->err, -EINVAL, "port %s: %s%s", name, msg, suffix);
}

static int
cmd_add_port(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_port_conf pc;
	struct vqs_port *p;
	int rc;

	rc = vqs_conf_parse_add_port(x->conf, argc, argv, x->socket_dir, &pc, &x->r->err);
	if (rc != 0)
		return rc;
	if (x->sw != NULL && (p = port_create(x->sw, &pc, &x->r->err)) == NULL) {
		if (x->restoring) {
			/* Configured, not running: the others still come up. */
			port_error_set(x->sw, pc.name, x->r->err.msg);
			vqs_conf_add_port(x->conf, &pc);
			return 0;
		}
		return port_failed(x, pc.name, "");
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
cmd_del_port(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	const char *name = argv[argc - 1];
	struct vqs_port_conf *pc;

	pc = vqs_ctl_find_port(x, name);
	if (pc == NULL)
		return -ENOENT;
	if (argc == 3 && strcmp(pc->bridge, argv[1]) != 0)
		return vqs_err_set(&x->r->err, -ENOENT, "port %s is not on bridge %s",
				   name, argv[1]);
	return delete_port(x, name);
}

/* Whether two port settings name the same socket or device: the old port
 * must then be gone before the new one can start. */
static bool
same_resource(const struct vqs_port_conf *a, const struct vqs_port_conf *b)
{
	size_t n = strcspn(a->devargs, ",");

	if (vqs_port_type_is_vhost(a->type) && vqs_port_type_is_vhost(b->type))
		return strcmp(a->path, b->path) == 0;
	return a->type == VQS_PORT_ETH && b->type == VQS_PORT_ETH &&
	       strcspn(b->devargs, ",") == n && strncmp(a->devargs, b->devargs, n) == 0;
}

/*
 * New device settings (type, path, devargs, queues, mtu), as OVS
 * reconfigures an interface: the port is made anew under its name, with
 * its VLANs and affinity; its guest reconnects. On another socket or
 * device, make before break: the new port starts first and one snapshot
 * swaps them, so a device that cannot start changes nothing. On the same
 * one, break before make: if the new device cannot start, the old one is
 * made again; if even that fails, the port stays configured as it was,
 * with its error, and is retried (vqs_ctl_retry).
 */
static int
restart_port(struct vqs_ctl_ctx *x, struct vqs_port *p, struct vqs_port_conf *pc,
	     const struct vqs_port_conf *np)
{
	bool swap = !same_resource(pc, np);
	struct vqs_err again;
	struct vqs_port *n;

	if (swap) {
		n = port_create(x->sw, np, &x->r->err);
		if (n == NULL)
			return port_failed(x, np->name, "; nothing changed");
		/* Publishes the snapshot with the new port and without the old. */
		if (port_delete(x->sw, p, false) != 0) {
			port_undo(x->sw, n);
			return publish_failed(x);
		}
		*pc = *np;
		VQS_LOG(INFO, "port %s: restarted with its new settings", np->name);
		return 0;
	}
	if (port_delete(x->sw, p, false) != 0)
		return publish_failed(x);
	n = port_create(x->sw, np, &x->r->err);
	if (n != NULL && vqs_dp_publish(x->sw) == 0) {
		*pc = *np;
		VQS_LOG(INFO, "port %s: restarted with its new settings", np->name);
		return 0;
	}
	if (n != NULL) {
		port_undo(x->sw, n);
		publish_failed(x);
	}
	port_failed(x, np->name, "; it keeps its old settings");
	n = port_create(x->sw, pc, &again);
	if (n != NULL && vqs_dp_publish(x->sw) != 0) {
		port_undo(x->sw, n);
		n = NULL;
		vqs_err_set(&again, -ENOMEM, "out of memory for the datapath");
	}
	if (n == NULL)
		port_error_set(x->sw, pc->name, again.msg);
	return -EINVAL;
}

static int
set_port(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_port_conf *pc = vqs_ctl_find_port(x, argv[2]), np, old;
	struct vqs_port *p;
	struct vqs_err ignored;
	bool vlan_changed, moved, restart;
	int rc;

	if (pc == NULL)
		return -ENOENT;
	np = *pc;
	rc = vqs_conf_parse_port_options(x->conf, argc - 3, argv + 3, x->socket_dir, &np, &restart,
					 &x->r->err);
	/* A port that could not start takes its new settings when it does. */
	p = rc == 0 && x->sw != NULL ? vqs_switch_port(x->sw, np.name) : NULL;
	if (p == NULL) {
		if (rc == 0)
			*pc = np;
		return rc;
	}
	if (restart)
		return restart_port(x, p, pc, &np);
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
	if (vqs_port_type_is_vhost(np.type))
		__atomic_store_n(&p->vhost.ol_keep, np.offloads_kept, __ATOMIC_RELAXED);
	/* The address, for readers of the port (telemetry) under the lock. */
	pthread_mutex_lock(&x->sw->lock);
	p->conf.ul = np.ul;
	pthread_mutex_unlock(&x->sw->lock);
	if (vqs_dp_publish(x->sw) != 0) {
		*pc = old;
		pthread_mutex_lock(&x->sw->lock);
		p->conf.ul = old.ul;
		pthread_mutex_unlock(&x->sw->lock);
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
set_bridge(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_br_conf *bc = vqs_ctl_find_bridge(x, argv[2]), nb;
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
set_pmd(struct vqs_ctl_ctx *x, int argc, char **argv)
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

/*
 * set switch offloads=on|off: the default of every vhost port without an
 * offloads= of its own. Those whose offer changes restart as set port
 * restarts them (their guests reconnect: docs/offloads.md); one that
 * cannot start again keeps its error and is retried, and the rest go on.
 */
static int
set_switch(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	bool on = !x->conf->offloads_off, before = on;
	struct vqs_port_conf *pc, np;
	struct vqs_port *p;
	int rc = vqs_conf_parse_set_switch(argc - 2, argv + 2, &on, &x->r->err), first = 0;
	uint16_t i;

	if (rc != 0 || on == before)
		return rc;
	vqs_conf_set_offloads(x->conf, on);
	for (i = 0; x->sw != NULL && i < x->conf->n_ports; i++) {
		pc = &x->conf->ports[i];
		if (!vqs_port_type_is_vhost(pc->type) || pc->offloads != VQS_OFFLOADS_DEFAULT ||
		    (p = vqs_switch_port(x->sw, pc->name)) == NULL)
			continue;
		np = *pc;
		rc = restart_port(x, p, pc, &np);
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}

/* set port PORT key=value... | set bridge BRIDGE key=value... | set pmd ...
 * | set switch ... */
static int
cmd_set(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "pmd") == 0)
		return set_pmd(x, argc, argv);
	if (argc >= 3 && strcmp(argv[1], "switch") == 0)
		return set_switch(x, argc, argv);
	if (argc < 4)
		return vqs_err_set(&x->r->err, -EINVAL, "usage: set %s", SET_ARGS);
	if (strcmp(argv[1], "port") == 0)
		return set_port(x, argc, argv);
	if (strcmp(argv[1], "bridge") == 0)
		return set_bridge(x, argc, argv);
	return vqs_err_set(&x->r->err, -EINVAL, "set: expected 'port', 'bridge', 'pmd' or 'switch', not '%s'",
			   argv[1]);
}

/* ---- queries ---- */

static int
cmd_list_br(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t l = vqs_answer_list(x->ans, VQS_ANSWER_TOP, NULL, NULL);
	uint16_t i;

	for (i = 0; i < x->conf->n_bridges; i++)
		vqs_answer_str(x->ans, l, NULL, x->conf->bridges[i].name);
	return 0;
}

static int
cmd_list_ports(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t l;
	uint16_t i;

	if (vqs_ctl_find_bridge(x, argv[1]) == NULL)
		return -ENOENT;
	l = vqs_answer_list(x->ans, VQS_ANSWER_TOP, NULL, NULL);
	for (i = 0; i < x->conf->n_ports; i++)
		if (strcmp(x->conf->ports[i].bridge, argv[1]) == 0)
			vqs_answer_str(x->ans, l, NULL, x->conf->ports[i].name);
	return 0;
}

static void
show_vxlan(struct vqs_ctl_ctx *x, uint32_t o, const struct vqs_port_conf *pc)
{
	char a[INET_ADDRSTRLEN], remotes[VQS_VXLAN_MAX_REMOTES * 16 + 1];

	vqs_conf_format_remotes(&pc->vx, remotes, sizeof(remotes));
	vqs_answer_uint(x->ans, o, "vni", pc->vx.vni);
	vqs_answer_str(x->ans, o, "local_ip", vqs_ipv4_str(pc->vx.local_ip, a, sizeof(a)));
	vqs_answer_str(x->ans, o, "remote_ip", remotes);
	vqs_answer_str(x->ans, o, "evpn", pc->vx.evpn ? "on" : "off");
	vqs_answer_uint(x->ans, o, "dst_port", pc->vx.dst_port);
	vqs_answer_uint(x->ans, o, "ttl", pc->vx.ttl);
	if (pc->vx.tos == VQS_TOS_INHERIT)
		vqs_answer_str(x->ans, o, "tos", "inherit");
	else
		vqs_answer_uint(x->ans, o, "tos", (uint64_t)pc->vx.tos);
}

static void
show_port(struct vqs_ctl_ctx *x, uint32_t list, const struct vqs_port_conf *pc)
{
	const struct vqs_port *p = vqs_switch_port(x->sw, pc->name);
	const struct vqs_port_error *pe = port_error(x->sw, pc->name);
	bool vhost = vqs_port_type_is_vhost(pc->type);
	char trunks[VQS_TRUNKS_TEXT_MAX], aff[128];
	uint32_t o = vqs_answer_obj(x->ans, list, NULL);

	vqs_vlan_format_trunks(&pc->vlan, trunks);
	vqs_conf_format_affinity(pc, aff, sizeof(aff));
	vqs_answer_str(x->ans, o, "name", pc->name);
	vqs_answer_str(x->ans, o, "type", vqs_port_type_name(pc->type));
	vqs_answer_str(x->ans, o, "state", pe != NULL ? "error" : p != NULL && vqs_port_is_up(p) ? "up" : "down");
	if (pe != NULL)
		vqs_answer_str(x->ans, o, "error", pe->error);
	if (pc->type == VQS_PORT_VXLAN) {
		show_vxlan(x, o, pc);
	} else {
		vqs_answer_str(x->ans, o, vhost ? "path" : "devargs", vhost ? pc->path : pc->devargs);
		vqs_answer_uint(x->ans, o, "queues", pc->queues);
	}
	if (pc->ul.ip != 0) {
		char a[INET_ADDRSTRLEN + 4];

		vqs_ipv4_str(pc->ul.ip, a, sizeof(a));
		snprintf(a + strlen(a), sizeof(a) - strlen(a), "/%u", pc->ul.prefix);
		vqs_answer_str(x->ans, o, "ip", a);
		vqs_answer_str(x->ans, o, "gateway", pc->ul.gateway == 0 ? "" :
			       vqs_ipv4_str(pc->ul.gateway, a, sizeof(a)));
	}
	vqs_answer_uint(x->ans, o, "tag", pc->vlan.tag);
	vqs_answer_str(x->ans, o, "trunks", trunks);
	vqs_answer_str(x->ans, o, "pmd_rxq_affinity", aff);
}

static int
cmd_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t top = vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL), bridges, b, ports;
	uint16_t i, j;

	if (x->sw->unsaved[0] != '\0')
		vqs_answer_str(x->ans, top, "unsaved", x->sw->unsaved);
	bridges = vqs_answer_list(x->ans, top, "bridges", "bridge");
	for (i = 0; i < x->conf->n_bridges; i++) {
		const struct vqs_br_conf *bc = &x->conf->bridges[i];

		b = vqs_answer_obj(x->ans, bridges, NULL);
		vqs_answer_str(x->ans, b, "name", bc->name);
		vqs_answer_uint(x->ans, b, "mac_aging", bc->mac_aging);
		vqs_answer_uint(x->ans, b, "mac_table_size", bc->mac_table_size);
		vqs_answer_uint(x->ans, b, "macs", vqs_fdb_count(vqs_switch_bridge(x->sw, bc->name)->fdb));
		ports = vqs_answer_list(x->ans, b, "ports", "port");
		for (j = 0; j < x->conf->n_ports; j++)
			if (strcmp(x->conf->ports[j].bridge, bc->name) == 0)
				show_port(x, ports, &x->conf->ports[j]);
	}
	return 0;
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
vqs_ctl_teardown(struct vqs_switch *sw)
{
	uint16_t s;

	for (s = 0; s < VQS_MAX_PORTS; s++)
		if (sw->ports[s] != NULL)
			port_delete(sw, sw->ports[s], true);
	while (sw->n_bridges > 0)
		bridge_delete(sw, sw->bridges[sw->n_bridges - 1]->name);
}

static const struct vqs_ctl_cmd commands[] = {
	{ "add-br", "BRIDGE [mac-aging=S] [mac-table-size=N]", "a bridge with its own MAC table",
	  1, 3, VQS_CMD_CONFIG, cmd_add_br },
	{ "del-br", "BRIDGE", "a bridge and its ports", 1, 1, VQS_CMD_CONFIG, cmd_del_br },
	{ "add-port", "BRIDGE PORT type=vhostuser|vhostuserclient|dpdk [path=SOCKET] [queues=N] "
	  "[devargs=DEVARGS] [n_rxq=N] [mtu=N] [tag=VLAN] [trunks=LIST] [pmd-rxq-affinity=Q:LCORE,...]",
	  "a port: vhost-user server (path inside the socket directory) or client (path required), "
	  "or a DPDK device", 2, VQS_CMD_ANY_ARGS, VQS_CMD_CONFIG, cmd_add_port },
	{ "del-port", "[BRIDGE] PORT", "a port", 1, 2, VQS_CMD_CONFIG, cmd_del_port },
	{ "set", SET_ARGS, "change a port (new device settings restart it), a bridge or PMD sleep ('=' alone clears)",
	  2, VQS_CMD_ANY_ARGS, VQS_CMD_CONFIG, cmd_set },
	{ "list-br", "", "the bridges", 0, 0, VQS_CMD_QUERY, cmd_list_br },
	{ "list-ports", "BRIDGE", "a bridge's ports", 1, 1, VQS_CMD_QUERY, cmd_list_ports },
	{ "show", "", "the configuration and each port's state", 0, 0, VQS_CMD_QUERY, cmd_show },
};

void
vqs_ctl_config_register(void)
{
	vqs_ctl_register("Bridges and ports", commands, RTE_DIM(commands));
}
