/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "commands.h"

#define BP "Bridges and ports"
#define MP "MAC tables and PMDs"
#define CV "Counters, vrings, logs"
#define DBG "Fault injection (only with vqswitch --enable-debug-commands)"

const struct vqs_command_doc vqs_command_docs[] = {
	{ BP, "add-br", "BRIDGE [mac-aging=S] [mac-table-size=N]", "a bridge with its own MAC table" },
	{ BP, "del-br", "BRIDGE", "a bridge and its ports" },
	{ BP, "add-port", "BRIDGE PORT type=vhostuser|vhostuserclient|dpdk [path=SOCKET] [queues=N] "
	  "[devargs=DEVARGS] [n_rxq=N] [mtu=N] [tag=VLAN] [trunks=LIST] [pmd-rxq-affinity=Q:LCORE,...]",
	  "a port: vhost-user server (path inside the socket directory) or client (path required), "
	  "or a DPDK device" },
	{ BP, "del-port", "[BRIDGE] PORT", "a port" },
	{ BP, "set", "port PORT tag=|trunks=|pmd-rxq-affinity= | bridge BRIDGE mac-aging=|mac-table-size= "
	  "| pmd sleep=on|off|MS", "change a port, a bridge or PMD sleep ('=' alone clears)" },
	{ BP, "list-br", "", "the bridges" },
	{ BP, "list-ports", "BRIDGE", "a bridge's ports" },
	{ BP, "show", "", "the configuration and each port's state" },
	{ MP, "fdb/show", "BRIDGE [offset=N] [limit=N]", "the MAC table (10000 entries unless limit=)" },
	{ MP, "fdb/flush", "BRIDGE", "forget every learned and static entry" },
	{ MP, "fdb/add", "BRIDGE MAC PORT [VLAN] | BRIDGE PORT VLAN MAC", "a static entry (OVS's order too)" },
	{ MP, "fdb/del", "BRIDGE VLAN MAC", "remove one entry" },
	{ MP, "pmd/rxq-show", "", "which PMD polls which RX queue" },
	{ MP, "pmd/stats-show", "", "PMD load: cycles, packets, batches, sleeps" },
	{ MP, "pmd/stats-clear", "", "start the PMD counters again" },
	{ MP, "dpif-netdev/pmd-rxq-show", "", "pmd/rxq-show under OVS's name" },
	{ MP, "dpif-netdev/pmd-stats-show", "", "pmd/stats-show under OVS's name" },
	{ MP, "dpif-netdev/pmd-stats-clear", "", "pmd/stats-clear under OVS's name" },
	{ CV, "port/stats", "[PORT]", "port counters" },
	{ CV, "port/stats-clear", "[PORT]", "start port counters again" },
	{ CV, "vring/show", "PORT", "both sides of each vring of a connected guest" },
	{ CV, "metrics", "", "every counter in Prometheus' text format" },
	{ CV, "vlog/list", "", "log types and their levels" },
	{ CV, "vlog/set", "PATTERN:LEVEL", "e.g. vqswitch.vhost:debug, vqswitch*:warning (not saved)" },
	{ CV, "list-commands", "", "every command with its arguments" },
	{ CV, "help", "COMMAND", "one command's arguments and what it does" },
	{ DBG, "debug/drop-calls", "PORT N", "swallow the next N guest interrupts" },
	{ DBG, "debug/fail-publish", "N", "fail the next N datapath snapshots" },
	{ DBG, "debug/full-poll", "N", "poll every queue every N passes whatever the peek says (0: never)" },
};

const unsigned int vqs_n_command_docs = sizeof(vqs_command_docs) / sizeof(vqs_command_docs[0]);

const struct vqs_command_doc *
vqs_command_doc(const char *verb)
{
	unsigned int i;

	for (i = 0; i < vqs_n_command_docs; i++)
		if (strcmp(vqs_command_docs[i].verb, verb) == 0)
			return &vqs_command_docs[i];
	return NULL;
}

void
vqs_commands_print(FILE *f)
{
	const char *section = NULL;
	unsigned int i;

	for (i = 0; i < vqs_n_command_docs; i++) {
		const struct vqs_command_doc *d = &vqs_command_docs[i];

		if (section == NULL || strcmp(section, d->section) != 0)
			fprintf(f, "%s:\n", section = d->section);
		fprintf(f, "  %s%s%s\n      %s\n", d->verb, d->args[0] ? " " : "", d->args, d->help);
	}
}
