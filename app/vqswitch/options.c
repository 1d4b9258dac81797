/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "options.h"
#include "vqs_evpn.h"

void
vqs_options_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [--config FILE] [options]\n"
	       "\n"
	       "A poll-mode L2 switch between vhost-user VMs and DPDK ports.\n"
	       "Every EAL worker lcore becomes a PMD thread; the main lcore does\n"
	       "control work only. EAL options: see '%s -h' before '--'.\n"
	       "\n"
	       "Options:\n"
	       "  --config FILE        vqctl commands to apply at start (add-br, add-port,\n"
	       "                       set, del-port, del-br), one a line; used when there\n"
	       "                       is no state file\n"
	       "  --state FILE         where every change is recorded, and what the next\n"
	       "                       start restores (default %s)\n"
	       "  --no-state           record nothing, restore nothing\n"
	       "  --ctl-socket PATH    control socket for vqctl\n"
	       "                       (default SOCKET_DIR/%s)\n"
	       "  --socket-dir DIR     where vhost-user server sockets and the control\n"
	       "                       socket go (default %s; created 0755 if\n"
	       "                       missing, an existing one is used as it is)\n"
	       "  --socket-group NAME  group allowed to connect to the vhost-user\n"
	       "                       sockets, e.g. the one QEMU runs as (default: root)\n"
	       "  --ctl-group NAME     group allowed to use the control socket, i.e. to\n"
	       "                       change the configuration (default: root only)\n"
	       "  --enable-debug-commands  accept vqctl's debug/* commands (fault\n"
	       "                       injection for tests)\n"
	       "  --mbufs N            packet buffers in the pool (default %u)\n"
	       "  --pmd-sleep[=MS]     PMDs idle for MS ms (default 100) sleep until a\n"
	       "                       guest kicks (vqctl set pmd sleep=on|off|MS)\n"
	       "  --watchdog-interval MS  period of the lost-interrupt watchdog\n"
	       "                       (default 100; 0: off)\n"
	       "  --max-frame-len N    longest frame switched, from the destination MAC\n"
	       "                       to the payload's end (default %u, at most %u)\n"
	       "  --datapath direct|library  who processes guests' vrings: the switch\n"
	       "                       itself, a VM-to-VM frame copied once from the\n"
	       "                       sender's buffer into the receiver's (split and\n"
	       "                       packed rings; default), or librte_vhost (each\n"
	       "                       frame copied twice; offers dirty-page logging;\n"
	       "                       for trusted guests only)\n"
	       "  --evpn-prefix P      names of EVPN ports' kernel devices: P<VNI>b,\n"
	       "                       P<VNI>v, P<VNI>d, P<VNI>p (default %s; docs/evpn.md)\n"
	       "  --stats-interval N   log port counters and PMD load every N seconds\n"
	       "                       (default 0: never)\n"
	       "  --version            print the version and exit\n"
	       "  --help               print this help and exit\n",
	       prog, prog, VQS_DEFAULT_STATE, VQS_CTL_SOCKET_NAME,
	       VQS_DEFAULT_SOCKET_DIR, VQS_DEFAULT_MBUFS, VQS_MAX_FRAME_LEN, VQS_MAX_FRAME_LIMIT,
	       VQS_EVPN_PREFIX);
}

static int
parse_group(const char *opt, const char *name, gid_t *gid)
{
	struct group *g = getgrnam(name);

	if (g == NULL) {
		fprintf(stderr, "vqswitch: %s: no group named '%s'\n", opt, name);
		return -EINVAL;
	}
	*gid = g->gr_gid;
	return 0;
}

static int
parse_number(const char *opt, const char *arg, uint32_t min, uint32_t max,
	     const char *unit, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "vqswitch: %s: expected%s from %u to %u\n", opt, unit, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int
vqs_options_parse(struct vqs_options *o, int argc, char **argv)
{
	enum { OPT_CONFIG = 256, OPT_STATE, OPT_NO_STATE, OPT_CTL_SOCKET,
	       OPT_SOCKET_DIR, OPT_SOCKET_GROUP, OPT_CTL_GROUP, OPT_DEBUG_COMMANDS, OPT_MBUFS, OPT_STATS_INTERVAL, OPT_PMD_SLEEP, OPT_WATCHDOG,
	       OPT_MAX_FRAME, OPT_DATAPATH, OPT_EVPN_PREFIX,
	       OPT_VERSION, OPT_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "no-state", no_argument, NULL, OPT_NO_STATE },
		{ "ctl-socket", required_argument, NULL, OPT_CTL_SOCKET },
		{ "socket-dir", required_argument, NULL, OPT_SOCKET_DIR },
		{ "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
		{ "ctl-group", required_argument, NULL, OPT_CTL_GROUP },
		{ "enable-debug-commands", no_argument, NULL, OPT_DEBUG_COMMANDS },
		{ "mbufs", required_argument, NULL, OPT_MBUFS },
		{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
		{ "pmd-sleep", optional_argument, NULL, OPT_PMD_SLEEP },
		{ "watchdog-interval", required_argument, NULL, OPT_WATCHDOG },
		{ "max-frame-len", required_argument, NULL, OPT_MAX_FRAME },
		{ "datapath", required_argument, NULL, OPT_DATAPATH },
		{ "evpn-prefix", required_argument, NULL, OPT_EVPN_PREFIX },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct vqs_err err;
	const char *prog = argv[0];
	uint32_t v;
	int c;

	memset(o, 0, sizeof(*o));
	strlcpy(o->socket_dir, VQS_DEFAULT_SOCKET_DIR, sizeof(o->socket_dir));
	o->state = VQS_DEFAULT_STATE;
	o->pmd_sleep_ms = -1;
	o->watchdog_ms = 100;
	o->max_frame_len = VQS_MAX_FRAME_LEN;
	o->direct = true;
	o->mbufs = VQS_DEFAULT_MBUFS;
	optind = 1; /* EAL used getopt before us */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_STATE:
			if (optarg[0] == '\0' || strlen(optarg) >= VQS_PATH_MAX) {
				fprintf(stderr, "vqswitch: --state: expected a path shorter than %d bytes\n",
					VQS_PATH_MAX);
				return -EINVAL;
			}
			o->state = optarg;
			break;
		case OPT_NO_STATE:
			o->state = NULL;
			break;
		case OPT_CTL_SOCKET:
			if (optarg[0] != '/' ||
			    strlcpy(o->ctl_socket, optarg, sizeof(o->ctl_socket)) >=
				    sizeof(o->ctl_socket)) {
				fprintf(stderr, "vqswitch: --ctl-socket: expected an absolute path shorter than %d bytes\n",
					VQS_PATH_MAX);
				return -EINVAL;
			}
			break;
		case OPT_SOCKET_DIR:
			if (optarg[0] != '/' ||
			    strlcpy(o->socket_dir, optarg, sizeof(o->socket_dir)) >=
				    sizeof(o->socket_dir) - 40) {
				fprintf(stderr, "vqswitch: --socket-dir: expected an absolute path shorter than %d bytes\n",
					VQS_PATH_MAX - 40);
				return -EINVAL;
			}
			break;
		case OPT_SOCKET_GROUP:
			if (parse_group("--socket-group", optarg, &o->socket_gid) != 0)
				return -EINVAL;
			break;
		case OPT_CTL_GROUP:
			if (parse_group("--ctl-group", optarg, &o->ctl_gid) != 0)
				return -EINVAL;
			break;
		case OPT_DEBUG_COMMANDS:
			o->debug_commands = true;
			break;
		case OPT_MBUFS:
			if (parse_number("--mbufs", optarg, 1024, 1u << 24, " a number", &v) != 0)
				return -EINVAL;
			o->mbufs = v;
			break;
		case OPT_STATS_INTERVAL:
			if (parse_number("--stats-interval", optarg, 0, 86400, " seconds", &v) != 0)
				return -EINVAL;
			o->stats_interval = v;
			break;
		case OPT_WATCHDOG:
			if (parse_number("--watchdog-interval", optarg, 0, 60000, " milliseconds",
					 &v) != 0)
				return -EINVAL;
			o->watchdog_ms = v;
			break;
		case OPT_MAX_FRAME:
			if (parse_number("--max-frame-len", optarg, 1518, VQS_MAX_FRAME_LIMIT,
					 " bytes", &v) != 0)
				return -EINVAL;
			o->max_frame_len = v;
			break;
		case OPT_DATAPATH:
			if (strcmp(optarg, "direct") != 0 && strcmp(optarg, "library") != 0) {
				fprintf(stderr, "vqswitch: --datapath: expected direct or library, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			o->direct = strcmp(optarg, "direct") == 0;
			break;
		case OPT_EVPN_PREFIX:
			if (vqs_evpn_set_prefix(optarg, &err) != 0) {
				fprintf(stderr, "vqswitch: %s\n", err.msg);
				return -EINVAL;
			}
			break;
		case OPT_PMD_SLEEP:
			v = 100;
			if (optarg != NULL &&
			    parse_number("--pmd-sleep", optarg, 0, 60000, " milliseconds", &v) != 0)
				return -EINVAL;
			o->pmd_sleep_ms = (int32_t)v;
			break;
		case OPT_VERSION:
			printf("vqswitch %s\n", VQS_VERSION);
			return 1;
		case OPT_HELP:
			vqs_options_usage(prog);
			return 1;
		case ':':
			fprintf(stderr, "vqswitch: option '%s' needs a value\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "vqswitch: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vqswitch: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -EINVAL;
	}
	/* --socket-dir leaves 40 bytes for a name: this always fits. */
	if (o->ctl_socket[0] == '\0') {
		strlcpy(o->ctl_socket, o->socket_dir, sizeof(o->ctl_socket));
		strlcat(o->ctl_socket, "/" VQS_CTL_SOCKET_NAME, sizeof(o->ctl_socket));
	}
	return 0;
}
