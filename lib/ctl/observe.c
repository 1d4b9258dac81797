/* SPDX-License-Identifier: BSD-3-Clause
 * What an operator reads at run time: port counters, both sides of each
 * vring, every counter for Prometheus, and the log levels.
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "cmd.h"
#include "log.h"
#include "vqs_observe.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/* Ports named by argv[1], or all of them; calls fn for each, with top. */
static int
each_port(struct vqs_ctl_ctx *x, int argc, char **argv, uint32_t top,
	  void (*fn)(struct vqs_ctl_ctx *x, uint32_t top, struct vqs_port *p))
{
	struct vqs_port *p;
	uint16_t i;

	if (argc == 2) {
		p = vqs_switch_port(x->sw, argv[1]);
		if (p == NULL)
			return vqs_err_set(&x->r->err, -ENOENT, "no port named '%s'", argv[1]);
		fn(x, top, p);
		return 0;
	}
	for (i = 0; i < x->conf->n_ports; i++) {
		p = vqs_switch_port(x->sw, x->conf->ports[i].name);
		if (p != NULL)
			fn(x, top, p);
	}
	return 0;
}

static void
port_stats_one(struct vqs_ctl_ctx *x, uint32_t top, struct vqs_port *p)
{
	struct vqs_fields f;

	vqs_stats_port(p, x->sw->n_pmds, &f);
	vqs_answer_fields(x->ans, vqs_answer_obj(x->ans, top, p->conf.name), &f);
}

static void
port_stats_clear_one(struct vqs_ctl_ctx *x, uint32_t top, struct vqs_port *p)
{
	vqs_port_stats_clear(p, x->sw->n_pmds);
}

static int
cmd_port_stats(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	return each_port(x, argc, argv, vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL), port_stats_one);
}

static int
cmd_port_stats_clear(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	return each_port(x, argc, argv, VQS_ANSWER_TOP, port_stats_clear_one);
}

/* vring/show PORT: no vrings when no guest is connected. */
static int
cmd_vring_show(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_vring_info vi[2 * VQS_VHOST_MAX_QP];
	struct vqs_fields f;
	struct vqs_port *p = vqs_ctl_find_vhost_port(x, argv[1]);
	uint32_t top, vrings;
	unsigned int i, n;

	if (p == NULL)
		return -ENOENT;
	/* Online: destroy_device waits for us before the device goes. */
	rte_rcu_qsbr_thread_online(x->sw->qsv, x->sw->ctl_thread_id);
	n = vqs_vhost_vring_info(p, vi, RTE_DIM(vi));
	rte_rcu_qsbr_thread_offline(x->sw->qsv, x->sw->ctl_thread_id);
	top = vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL);
	vqs_answer_str(x->ans, top, "port", p->conf.name);
	vqs_answer_bool(x->ans, top, "guest_connected", n > 0);
	vrings = vqs_answer_list(x->ans, top, "vrings", "vring");
	for (i = 0; i < n; i++) {
		vqs_stats_vring(&vi[i], &f);
		vqs_answer_fields(x->ans, vqs_answer_obj(x->ans, vrings, NULL), &f);
	}
	return 0;
}

/* metrics: Prometheus' own text format, the one query not rendered from
 * the answer tree; with --format json, that text as the string "metrics". */
static int
cmd_metrics(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_buf text = { 0 };

	if (!x->r->json) {
		vqs_metrics_render(x->sw, &x->r->out);
		return 0;
	}
	vqs_metrics_render(x->sw, &text);
	vqs_answer_str(x->ans, vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL), "metrics", vqs_buf_str(&text));
	vqs_buf_free(&text);
	return 0;
}

struct vlog_list {
	struct vqs_answer *ans;
	uint32_t obj;
};

/* One log type and its level, a field of the answer's object. */
static void
vlog_list_one(void *arg, const char *name, const char *level)
{
	struct vlog_list *l = arg;

	vqs_answer_str(l->ans, l->obj, name, level);
}

static int
cmd_vlog_list(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vlog_list l = { x->ans, vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL) };

	vqs_log_list(vlog_list_one, &l);
	return 0;
}

/* vlog/set PATTERN:LEVEL: at run time only, not saved (as OVS's vlog/set;
 * EAL's --log-level sets it from the start). */
static int
cmd_vlog_set(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	return vqs_log_set(argv[1], &x->r->err);
}

static const struct vqs_ctl_cmd commands[] = {
	{ "port/stats", "[PORT]", "port counters", 0, 1, VQS_CMD_QUERY, cmd_port_stats },
	{ "port/stats-clear", "[PORT]", "start port counters again", 0, 1, VQS_CMD_ACTION,
	  cmd_port_stats_clear },
	{ "vring/show", "PORT", "both sides of each vring of a connected guest", 1, 1, VQS_CMD_QUERY,
	  cmd_vring_show },
	{ "metrics", "", "every counter in Prometheus' text format", 0, 0, VQS_CMD_QUERY, cmd_metrics },
	{ "vlog/list", "", "log types and their levels", 0, 0, VQS_CMD_QUERY, cmd_vlog_list },
	{ "vlog/set", "PATTERN:LEVEL", "e.g. vqswitch.vhost:debug, vqswitch*:warning (not saved)",
	  1, 1, VQS_CMD_ACTION, cmd_vlog_set },
};

void
vqs_ctl_observe_register(void)
{
	vqs_ctl_register("Counters, vrings, logs", commands, RTE_DIM(commands));
}
