/* SPDX-License-Identifier: BSD-3-Clause
 * What a module needs to give the control socket commands, as OVS's
 * unixctl_command_register: each module registers a table of its commands
 * (verb, usage, one-line help, how many words they take, what kind they
 * are) and ctl.c dispatches, checks the word count, answers list-commands
 * and help COMMAND, and prints vqctl --help from the same tables. A query
 * puts its answer in x->ans (answer.h), never formatted text.
 */
#ifndef VQS_CTL_CMD_H
#define VQS_CTL_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "answer.h"
#include "vqs_ctl.h"
#include "vqs_model.h"

struct vqs_switch;
struct vqs_bridge;
struct vqs_port;

struct vqs_ctl_ctx {
	struct vqs_switch *sw;   /* NULL: a dry run on 'conf' only */
	struct vqs_conf *conf;
	struct vqs_ctl_reply *r; /* r->err, r->warning */
	struct vqs_answer *ans;  /* the answer (answer.h) */
	const char *socket_dir;
	bool restoring;          /* loading a file: a port that fails stays */
};

enum vqs_cmd_kind {
	VQS_CMD_QUERY,   /* reads only */
	VQS_CMD_CONFIG,  /* changes the configuration: saved, allowed in files */
	VQS_CMD_ACTION,  /* changes run-time state only (MAC tables, counters) */
	VQS_CMD_DEBUG,   /* fault injection: only with --enable-debug-commands */
};

#define VQS_CMD_ANY_ARGS UINT8_MAX

struct vqs_ctl_cmd {
	const char *verb;
	const char *args;          /* usage after the verb; "" when none */
	const char *help;          /* one line */
	uint8_t min_args, max_args; /* words after the verb */
	enum vqs_cmd_kind kind;
	int (*fn)(struct vqs_ctl_ctx *x, int argc, char **argv);
};

/* Called once per module, by vqs_ctl_init(), in the order of vqctl --help. */
void vqs_ctl_register(const char *section, const struct vqs_ctl_cmd *cmds, unsigned int n);

void vqs_ctl_config_register(void);  /* config.c: bridges, ports, show */
void vqs_ctl_fdb_register(void);     /* fdb.c: MAC tables */
void vqs_ctl_tnl_register(void);     /* tnl.c: tunnels */
void vqs_ctl_evpn_register(void);    /* evpn.c: BGP EVPN */
void vqs_ctl_pmd_register(void);     /* pmd.c: PMD threads */
void vqs_ctl_observe_register(void); /* observe.c: counters, vrings, logs */
void vqs_ctl_debug_register(void);   /* debug.c: fault injection */

/* Look-ups that set x->r->err when they find nothing. */
struct vqs_br_conf *vqs_ctl_find_bridge(struct vqs_ctl_ctx *x, const char *name);
struct vqs_port_conf *vqs_ctl_find_port(struct vqs_ctl_ctx *x, const char *name);
struct vqs_port *vqs_ctl_find_vhost_port(struct vqs_ctl_ctx *x, const char *name);
/* The running bridge of a configured one. */
struct vqs_bridge *vqs_ctl_find_runtime_bridge(struct vqs_ctl_ctx *x, const char *name);

#endif
