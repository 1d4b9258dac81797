/* SPDX-License-Identifier: BSD-3-Clause
 * vqswitch: vqswitch [EAL options] -- --config FILE [options]
 *
 * The main lcore sets everything up, launches one PMD per worker lcore and
 * then does control work only: guest-notification set-up for new vrings,
 * FDB aging, and the orderly shutdown on SIGINT/SIGTERM.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "config.h"
#include "eth_port.h"
#include "fdb.h"
#include "options.h"
#include "pmd.h"
#include "switch.h"
#include "telemetry.h"
#include "vhost_port.h"

int vqs_logtype;

#define CTL_PERIOD_US 10000 /* control loop tick */
#define AGE_PERIOD_S  1

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

/* Splits argv at the first "--": EAL gets what is before it. */
static int
split_args(int argc, char **argv, int *app_argc, char ***app_argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*app_argc = argc - i;
			*app_argv = argv + i;
			(*app_argv)[0] = argv[0];
			return i;
		}
	}
	*app_argc = 1;
	*app_argv = argv;
	return argc;
}

static int
make_socket_dir(const struct vqs_options *o)
{
	if (mkdir(o->socket_dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "vqswitch: cannot create %s: %s\n", o->socket_dir,
			strerror(errno));
		return -errno;
	}
	if (chown(o->socket_dir, 0, o->socket_gid) != 0 ||
	    chmod(o->socket_dir, 0750) != 0) {
		fprintf(stderr, "vqswitch: cannot set owner and mode of %s: %s\n",
			o->socket_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

static void
print_stats(const struct vqs_switch *sw)
{
	struct vqs_port_stats st;
	unsigned int r;
	uint16_t i;

	for (i = 0; i < sw->n_ports; i++) {
		vqs_switch_port_stats(sw, i, &st);
		printf("port %s: rx %" PRIu64 " pkts %" PRIu64 " bytes, tx %" PRIu64
		       " pkts %" PRIu64 " bytes", sw->ports[i]->conf.name,
		       st.rx_packets, st.rx_bytes, st.tx_packets, st.tx_bytes);
		for (r = 0; r < VQS_DROP_MAX; r++)
			printf(", %s %" PRIu64, vqs_drop_names[r], st.drops[r]);
		printf(", fdb_full %" PRIu64 "\n", st.fdb_full);
	}
	fflush(stdout);
}

/* An ethdev that EAL probed (PCI, --vdev) is a port only if the config
 * names it; say so, rather than leave a NIC silently unused. */
static void
warn_unused_ethdevs(const struct vqs_switch *sw)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid, i;

	RTE_ETH_FOREACH_DEV(pid) {
		for (i = 0; i < sw->n_ports; i++)
			if (sw->ports[i]->conf.type == VQS_PORT_ETH &&
			    sw->ports[i]->eth.port_id == pid)
				break;
		if (i == sw->n_ports && rte_eth_dev_get_name_by_port(pid, name) == 0)
			VQS_LOG(WARNING, "ethdev %s is not a switch port (add-port BRIDGE NAME type=dpdk devargs=%s)",
				name, name);
	}
}

static int
start_ports(struct vqs_switch *sw, const struct vqs_config *cfg,
	    const struct vqs_options *o)
{
	char err[256];
	uint16_t i;
	int rc;

	for (i = 0; i < cfg->n_ports; i++) {
		struct vqs_port *p = rte_zmalloc("port", sizeof(*p), RTE_CACHE_LINE_SIZE);

		if (p == NULL)
			return -ENOMEM;
		p->conf = cfg->ports[i];
		p->idx = i;
		sw->ports[sw->n_ports++] = p;
		if (p->conf.type == VQS_PORT_VHOST)
			rc = vqs_vhost_port_start(p, o->socket_gid, err, sizeof(err));
		else
			rc = vqs_eth_port_start(p, sw->n_pmds, sw->pool, err, sizeof(err));
		if (rc != 0) {
			VQS_LOG(ERR, "%s:%u: port %s: %s", o->config, p->conf.line,
				p->conf.name, err);
			sw->n_ports--;
			rte_free(p);
			return rc;
		}
	}
	warn_unused_ethdevs(sw);
	return 0;
}

static void
stop_ports(struct vqs_switch *sw)
{
	uint16_t i;

	/* vhost first: unregistering runs destroy_device, whose RCU wait
	 * needs every PMD offline already (the PMDs have stopped). */
	for (i = 0; i < sw->n_ports; i++) {
		if (sw->ports[i]->conf.type == VQS_PORT_VHOST)
			vqs_vhost_port_stop(sw->ports[i]);
		else
			vqs_eth_port_stop(sw->ports[i]);
	}
}

static int
setup(struct vqs_switch *sw, const struct vqs_config *cfg,
      const struct vqs_options *o)
{
	size_t sz;
	int rc;

	rc = vqs_pmds_create(sw);
	if (rc != 0) {
		VQS_LOG(ERR, "no worker lcore for a PMD: give EAL at least two lcores (-l 0,1)");
		return rc;
	}
	/* RCU readers: PMDs 0..n-1 and the control thread. */
	sw->ctl_thread_id = sw->n_pmds;
	sz = rte_rcu_qsbr_get_memsize(sw->n_pmds + 1);
	sw->qsv = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (sw->qsv == NULL || rte_rcu_qsbr_init(sw->qsv, sw->n_pmds + 1) != 0)
		return -ENOMEM;
	rte_rcu_qsbr_thread_register(sw->qsv, sw->ctl_thread_id);
	sw->pool = rte_pktmbuf_pool_create("vqs_mbufs", o->mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (sw->pool == NULL) {
		VQS_LOG(ERR, "cannot create a pool of %u mbufs: %s (give EAL more memory with -m)",
			o->mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	sw->fdb = vqs_fdb_create("vqs_fdb", cfg->mac_table_size, sw->qsv);
	if (sw->fdb == NULL) {
		VQS_LOG(ERR, "cannot create a forwarding database of %u entries",
			cfg->mac_table_size);
		return -ENOMEM;
	}
	vqs_vhost_init(sw);
	rc = make_socket_dir(o);
	if (rc != 0)
		return rc;
	rc = start_ports(sw, cfg, o);
	if (rc != 0)
		return rc;
	rc = vqs_telemetry_init(sw);
	if (rc != 0)
		return rc;
	rc = vqs_pmds_assign(sw);
	if (rc != 0) {
		VQS_LOG(ERR, "too many RX queues for the PMDs");
		return rc;
	}
	return vqs_pmds_launch(sw);
}

static void
control_loop(struct vqs_switch *sw)
{
	uint64_t hz = rte_get_tsc_hz(), next_age = rte_get_tsc_cycles() + hz;
	unsigned int aged;

	while (quit_signal == 0) {
		vqs_vhost_ctl_poll(sw);
		if (sw->mac_aging_tsc != 0 && rte_get_tsc_cycles() >= next_age) {
			aged = vqs_fdb_age(sw->fdb, rte_get_tsc_cycles(),
					   sw->mac_aging_tsc);
			if (aged > 0)
				VQS_LOG(DEBUG, "aged out %u MAC entries", aged);
			next_age = rte_get_tsc_cycles() + AGE_PERIOD_S * hz;
		}
		usleep(CTL_PERIOD_US);
	}
	VQS_LOG(INFO, "signal %d: shutting down", (int)quit_signal);
}

int
main(int argc, char **argv)
{
	static struct vqs_switch sw;
	static struct vqs_config cfg;
	struct vqs_options opts;
	char err[512];
	int app_argc, eal_argc, rc;
	char **app_argv;

	/* Check our own options and the config before EAL takes hugepages. */
	eal_argc = split_args(argc, argv, &app_argc, &app_argv);
	rc = vqs_options_parse(&opts, app_argc, app_argv);
	if (rc != 0)
		return rc > 0 ? EXIT_SUCCESS : 2;
	if (vqs_config_load(&cfg, opts.config, opts.socket_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "vqswitch: %s\n", err);
		return 2;
	}

	vqs_logtype = rte_log_register_type_and_pick_level("vqswitch", RTE_LOG_INFO);
	if (vqs_logtype < 0)
		vqs_logtype = RTE_LOGTYPE_USER1;
	rc = rte_eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "vqswitch: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Sockets are created 0660 at once, then chowned: no window in which
	 * others could connect. */
	umask(0117);

	strlcpy(sw.bridge, cfg.bridge, sizeof(sw.bridge));
	sw.mac_aging_tsc = (uint64_t)cfg.mac_aging * rte_get_tsc_hz();
	sw.start_tsc = rte_get_tsc_cycles();
	rc = setup(&sw, &cfg, &opts);
	if (rc == 0) {
		VQS_LOG(INFO, "bridge %s: %u ports, %u PMDs, ready", sw.bridge,
			sw.n_ports, sw.n_pmds);
		control_loop(&sw);
	}
	vqs_pmds_stop(&sw);
	stop_ports(&sw);
	print_stats(&sw);
	vqs_fdb_free(sw.fdb);
	rte_eal_cleanup();
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
