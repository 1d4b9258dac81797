/* SPDX-License-Identifier: BSD-3-Clause
 * ovs-vsctl's command syntax, turned into vqctl's own commands:
 *   [--may-exist|--if-exists] CMD ARGS... [-- [OPTIONS] CMD ARGS...]...
 * "add-port B P -- set Interface P type=dpdkvhostuser options:..." becomes
 * one add-port; "set Interface|Port P ..." of an existing port a "set port";
 * "set bridge B datapath_type=netdev" nothing. The chain is applied as one
 * change by vqs_ctl_exec(): if a command fails, the ports and bridges the
 * chain added are deleted again.
 */
#ifndef VQS_OVS_COMPAT_H
#define VQS_OVS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "vqs.h"

#define VQS_CHAIN_MAX  8                 /* commands in one chain */
#define VQS_CHAIN_ARGS (VQS_MAX_ARGS + 3) /* words of one command */

struct vqs_chain_cmd {
	int argc;
	char *argv[VQS_CHAIN_ARGS];
	bool may_exist; /* add-br/add-port of something there: nothing to do */
	bool if_exists; /* del-br/del-port of something missing: nothing to do */
};

struct vqs_chain {
	unsigned int n;
	struct vqs_chain_cmd cmd[VQS_CHAIN_MAX];
	size_t used;
	char words[4096];
};

/* Whether argv is in ovs-vsctl's syntax (a "--", an option, "set
 * Interface|Port|Bridge") rather than a plain vqctl command. */
bool vqs_ovs_is_chain(int argc, char **argv);
/* Translates argv into ch; an error names what cannot be taken. */
int vqs_ovs_chain(int argc, char **argv, struct vqs_chain *ch, struct vqs_err *e);

#endif
