/* SPDX-License-Identifier: BSD-3-Clause
 * vqswitch [EAL options] -- [--config FILE] [options]
 *
 * The main lcore sets up, launches one PMD per worker lcore and then does
 * control work only: vqctl requests on the control socket, guest
 * notification set-up for new vrings, MAC aging, retries of ports that
 * could not start, and the orderly shutdown on SIGINT/SIGTERM/SIGHUP.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
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

#include "options.h"
#include "paths.h"
#include "sd_notify.h"
#include "syscall_filter.h"
#include "vqs_ctl.h"
#include "vqs_evpn.h"
#include "vqs_observe.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"


#define CTL_PERIOD_MS 10 /* control loop tick */
#define AGE_PERIOD_S  1
#define RETRY_PERIOD_S 2 /* ports that could not start, a failed state save */

static volatile sig_atomic_t quit_signal;

static void
on_signal(int sig)
{
	quit_signal = sig;
}

/* Splits argv at the first "--": EAL gets what is before it. A lone
 * --version or --help is ours, as an operator would type it. */
static int
split_args(int argc, char **argv, int *app_argc, char ***app_argv)
{
	int i;

	if (argc == 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "--help") == 0)) {
		*app_argc = argc;
		*app_argv = argv;
		return 1;
	}

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

/* An ethdev that EAL probed (PCI, --vdev) is a port only if a command
 * names it; say so, rather than leave a NIC silently unused. */
static void
warn_unused_ethdevs(const struct vqs_switch *sw)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t pid, s;

	RTE_ETH_FOREACH_DEV(pid) {
		for (s = 0; s < VQS_MAX_PORTS; s++)
			if (sw->ports[s] != NULL && sw->ports[s]->conf.type == VQS_PORT_ETH &&
			    sw->ports[s]->eth.port_id == pid)
				break;
		if (s == VQS_MAX_PORTS && rte_eth_dev_get_name_by_port(pid, name) == 0)
			VQS_LOG(WARNING, "ethdev %s is not a switch port (add-port BRIDGE NAME type=dpdk devargs=%s)",
				name, name);
	}
}

static void
print_stats(const struct vqs_switch *sw)
{
	struct vqs_port_stats st;
	unsigned int r;
	uint16_t s;

	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = sw->ports[s];

		if (p == NULL)
			continue;
		vqs_port_stats_sum(p, sw->n_pmds, &st);
		printf("port %s: rx %" PRIu64 " pkts %" PRIu64 " bytes, tx %" PRIu64
		       " pkts %" PRIu64 " bytes", p->conf.name, st.rx_packets,
		       st.rx_bytes, st.tx_packets, st.tx_bytes);
		for (r = 0; r < VQS_DROP_MAX; r++)
			printf(", %s %" PRIu64, vqs_drop_names[r], st.drops[r]);
		printf(", fdb_full %" PRIu64 "\n", st.fdb_full);
	}
	fflush(stdout);
}

/* What to start from: the state file if there is one, else the config
 * file, else nothing. */
static const char *
startup_file(const struct vqs_options *o)
{
	struct stat st;

	if (o->state != NULL && stat(o->state, &st) == 0)
		return o->state;
	return o->config;
}

static int
load_configuration(struct vqs_switch *sw, const struct vqs_options *o)
{
	const char *file = startup_file(o);
	char dir[VQS_PATH_MAX];
	struct vqs_err e;
	int rc;

	/* A directory we make is root's alone; one that exists is left as it
	 * is (it may be /var/lib, or the socket directory). */
	if (o->state != NULL) {
		strlcpy(dir, o->state, sizeof(dir));
		if (vqs_dir_make(dirname(dir), 0, 0700, e.msg, sizeof(e.msg)) != 0) {
			VQS_LOG(ERR, "state file: %s", e.msg);
			return -EACCES;
		}
	}
	if (file == NULL) {
		VQS_LOG(INFO, "no configuration: add bridges and ports with vqctl");
		rc = 0;
	} else {
		if (file == o->state)
			VQS_LOG(INFO, "restoring the state recorded in %s%s%s", o->state,
				o->config != NULL ? "; not reading " : "",
				o->config != NULL ? o->config : "");
		rc = vqs_ctl_load_file(sw, file, &e);
	}
	if (rc != 0) {
		VQS_LOG(ERR, "%s", e.msg);
		return rc;
	}
	if (o->pmd_sleep_ms >= 0)
		sw->conf->pmd_sleep_ms = (uint32_t)o->pmd_sleep_ms;
	__atomic_store_n(&sw->pmd_sleep_tsc,
			 (uint64_t)sw->conf->pmd_sleep_ms * rte_get_tsc_hz() / 1000,
			 __ATOMIC_RELAXED);
	vqs_ctl_set_state_file(o->state);
	/* Not fatal: the switch runs, 'show' says the state is not saved, and
	 * the control loop keeps trying. */
	if (vqs_ctl_save_state(sw, &e) != 0) {
		VQS_LOG(ERR, "%s", e.msg);
		strlcpy(sw->unsaved, e.msg, sizeof(sw->unsaved));
	}
	return 0;
}

static int
setup(struct vqs_switch *sw, const struct vqs_options *o)
{
	size_t sz;
	int rc;

	sw->max_frame_len = o->max_frame_len;
	rc = vqs_pmds_create(sw);
	if (rc != 0) {
		VQS_LOG(ERR, "no worker lcore for a PMD: give EAL at least two lcores (-l 0,1)");
		return rc;
	}
	/* RCU readers: PMDs 0..n-1, the control thread, telemetry. */
	sw->ctl_thread_id = sw->n_pmds;
	sw->tel_thread_id = sw->n_pmds + 1;
	sz = rte_rcu_qsbr_get_memsize(sw->n_pmds + 2);
	sw->qsv = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (sw->qsv == NULL || rte_rcu_qsbr_init(sw->qsv, sw->n_pmds + 2) != 0)
		return -ENOMEM;
	rte_rcu_qsbr_thread_register(sw->qsv, sw->ctl_thread_id);
	rte_rcu_qsbr_thread_register(sw->qsv, sw->tel_thread_id);
	sw->neigh = rte_zmalloc("neigh", sizeof(*sw->neigh), RTE_CACHE_LINE_SIZE);
	if (sw->neigh == NULL)
		return -ENOMEM;
	sw->pool = rte_pktmbuf_pool_create("vqs_mbufs", o->mbufs, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (sw->pool == NULL) {
		VQS_LOG(ERR, "cannot create a pool of %u mbufs: %s (give EAL more memory with -m)",
			o->mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	vqs_vhost_init(sw);
	rc = vqs_pmds_launch(sw);
	if (rc != 0)
		return rc;
	rc = load_configuration(sw, o);
	if (rc != 0)
		return rc;
	warn_unused_ethdevs(sw);
	return vqs_telemetry_init(sw);
}

/* One line per port (counters since the last clear) and one for the PMDs'
 * load over the last interval, for people who watch logs. */
static void
log_stats(const struct vqs_switch *sw)
{
	static struct vqs_pmd_stats prev[VQS_MAX_PMDS];
	struct vqs_port_stats st;
	struct vqs_pmd_stats ps;
	char line[512];
	uint64_t drops, busy, total;
	size_t off = 0;
	unsigned int r;
	uint16_t s, i;

	for (s = 0; s < VQS_MAX_PORTS; s++) {
		const struct vqs_port *p = sw->ports[s];

		if (p == NULL || p->deleting)
			continue;
		vqs_port_stats_sum(p, sw->n_pmds, &st);
		for (drops = 0, r = 0; r < VQS_DROP_MAX; r++)
			drops += st.drops[r];
		VQS_LOG(INFO, "stats: port %s %s: rx %" PRIu64 " tx %" PRIu64 " drops %" PRIu64,
			p->conf.name, vqs_port_is_up(p) ? "up" : "down", st.rx_packets,
			st.tx_packets, drops);
	}
	for (i = 0; i < sw->n_pmds && off < sizeof(line); i++) {
		vqs_pmd_stats_read(sw->pmds[i], &ps);
		busy = ps.busy_cycles - prev[i].busy_cycles;
		total = busy + ps.idle_cycles - prev[i].idle_cycles;
		off += (size_t)snprintf(line + off, sizeof(line) - off, " pmd%u %" PRIu64 "%%", i,
					total ? busy * 100 / total : 0);
		prev[i] = ps;
	}
	VQS_LOG(INFO, "stats: busy%s", line);
}

static void
control_loop(struct vqs_switch *sw, struct vqs_ctl_server *srv, const struct vqs_options *o)
{
	uint64_t hz = rte_get_tsc_hz(), next_age = rte_get_tsc_cycles() + hz;
	uint64_t next_stats = rte_get_tsc_cycles() + o->stats_interval * hz;
	uint64_t wd_period = o->watchdog_ms * hz / 1000;
	uint64_t next_wd = rte_get_tsc_cycles() + wd_period;
	uint64_t next_retry = rte_get_tsc_cycles() + RETRY_PERIOD_S * hz;
	uint32_t stats_interval = o->stats_interval;
	unsigned int aged;
	uint16_t b;

	while (quit_signal == 0) {
		vqs_ctl_server_poll(srv, sw, CTL_PERIOD_MS);
		vqs_vhost_ctl_poll(sw);
		vqs_evpn_poll(sw);
		if (wd_period != 0 && rte_get_tsc_cycles() >= next_wd) {
			vqs_watchdog_check(sw);
			next_wd = rte_get_tsc_cycles() + wd_period;
		}
		if (stats_interval != 0 && rte_get_tsc_cycles() >= next_stats) {
			log_stats(sw);
			next_stats = rte_get_tsc_cycles() + stats_interval * hz;
		}
		if (rte_get_tsc_cycles() >= next_retry) {
			vqs_ctl_retry(sw);
			next_retry = rte_get_tsc_cycles() + RETRY_PERIOD_S * hz;
		}
		if (rte_get_tsc_cycles() < next_age)
			continue;
		for (b = 0; b < sw->n_bridges; b++) {
			if (sw->bridges[b]->mac_aging_tsc == 0)
				continue;
			aged = vqs_fdb_age(sw->bridges[b]->fdb, rte_get_tsc_cycles(),
					   sw->bridges[b]->mac_aging_tsc);
			if (aged > 0)
				VQS_LOG(DEBUG, "bridge %s: aged out %u MAC entries",
					sw->bridges[b]->name, aged);
		}
		next_age = rte_get_tsc_cycles() + AGE_PERIOD_S * hz;
	}
	VQS_LOG(INFO, "signal %d: shutting down", (int)quit_signal);
}

int
main(int argc, char **argv)
{
	static struct vqs_switch sw;
	static struct vqs_conf conf;
	struct vqs_ctl_server *srv = NULL;
	struct vqs_options opts;
	struct vqs_err e;
	int app_argc, eal_argc, rc;
	char **app_argv;

	/* Our own options are checked before EAL takes hugepages. */
	eal_argc = split_args(argc, argv, &app_argc, &app_argv);
	rc = vqs_options_parse(&opts, app_argc, app_argv);
	if (rc != 0)
		return rc > 0 ? EXIT_SUCCESS : 2;
	/* One switch per control socket: it names the switch's EVPN devices. */
	vqs_evpn_set_owner(opts.ctl_socket);
	if (startup_file(&opts) != NULL &&
	    vqs_ctl_check_file(startup_file(&opts), opts.socket_dir, &e) != 0) {
		fprintf(stderr, "vqswitch: %s\n", e.msg);
		return 2;
	}
	/* One instance per socket directory, settled before EAL takes
	 * hugepages: a second one touches nothing of the first's. The
	 * directory is everybody's to enter (0755): each socket in it carries
	 * its own group and mode. */
	if (vqs_dir_make(opts.socket_dir, 0, 0755, e.msg, sizeof(e.msg)) != 0 ||
	    vqs_instance_lock(opts.socket_dir, e.msg, sizeof(e.msg)) < 0) {
		fprintf(stderr, "vqswitch: %s\n", e.msg);
		return 2;
	}

	vqs_log_init();
	/* Before EAL starts any thread: they all inherit it. */
	if (vqs_syscall_filter_install(e.msg, sizeof(e.msg)) != 0)
		fprintf(stderr, "vqswitch: %s\n", e.msg);
	rc = rte_eal_init(eal_argc, argv);
	if (rc < 0) {
		fprintf(stderr, "vqswitch: EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	/* SIGHUP too: a closed terminal or a service manager's hang-up
	 * shuts down in order (sockets removed, devices closed). */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	/* Guest memory a frontend shrinks under the switch: lib/vhost/guest_fault.c. */
	if (vqs_guest_fault_install() != 0)
		VQS_LOG(WARNING, "no SIGBUS handler for guest memory: %s", strerror(errno));
	/* Before any frame: where a frame's offloads are kept (offload.h). */
	rc = vqs_offload_init();
	if (rc != 0) {
		VQS_LOG(ERR, "cannot register the offload mbuf field: %s", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}
	/* Sockets are created 0660 at once, then chowned: no window in which
	 * others could connect. */
	umask(0117);

	sw.conf = &conf;
	pthread_mutex_init(&sw.lock, NULL);
	pthread_mutex_init(&sw.tel_lock, NULL);
	strlcpy(sw.socket_dir, opts.socket_dir, sizeof(sw.socket_dir));
	sw.socket_gid = opts.socket_gid;
	sw.debug_commands = opts.debug_commands;
	sw.direct = opts.direct;
	if (!sw.direct)
		VQS_LOG(WARNING, "--datapath=library: librte_vhost 22.11 processes the guests' rings, and a guest can still make it write past guest memory: for trusted guests only");
	sw.full_poll_passes = VQS_FULL_POLL_PASSES;
	sw.start_tsc = rte_get_tsc_cycles();
	rc = setup(&sw, &opts);
	if (rc == 0) {
		srv = vqs_ctl_server_open(opts.ctl_socket, opts.ctl_gid, &e);
		if (srv == NULL) {
			VQS_LOG(ERR, "%s", e.msg);
			rc = -EINVAL;
		}
	}
	if (rc == 0) {
		char status[160];

		VQS_LOG(INFO, "%u bridges, %u PMDs, control socket %s: ready",
			sw.n_bridges, sw.n_pmds, opts.ctl_socket);
		/* A service manager (Type=notify) hears of it only now: the
		 * configuration is loaded and its ports are up or retried. */
		snprintf(status, sizeof(status), "READY=1\nSTATUS=%u bridges, %u PMDs\nMAINPID=%ld",
			 sw.n_bridges, sw.n_pmds, (long)getpid());
		if (vqs_sd_notify(status) != 0)
			VQS_LOG(WARNING, "cannot tell the service manager that we are ready (NOTIFY_SOCKET)");
		control_loop(&sw, srv, &opts);
		vqs_sd_notify("STOPPING=1");
	}
	vqs_ctl_server_close(srv);
	vqs_pmds_stop(&sw);
	print_stats(&sw);
	/* The state file keeps what was configured: teardown records nothing. */
	vqs_ctl_set_state_file(NULL);
	if (sw.qsv != NULL)
		vqs_ctl_teardown(&sw);
	vqs_dp_free(sw.dp);
	rte_free(sw.neigh);
	rte_eal_cleanup();
	return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
