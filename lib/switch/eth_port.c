/* SPDX-License-Identifier: BSD-3-Clause */
#define VQS_LOG_MODULE VQS_LOG_ETH

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>

#include "eth_port.h"
#include "offload.h"

#define ETH_RX_DESC 1024
#define ETH_TX_DESC 1024

/* The device name is the devargs up to the first comma. */
static int
eth_find_or_probe(const char *devargs, uint16_t *port_id, bool *probed,
		  char *err, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(devargs, ","), devargs);
	*probed = false;
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0;
	rc = rte_dev_probe(devargs);
	if (rc != 0) {
		snprintf(err, len, "cannot probe device '%s': %s", devargs,
			 strerror(-rc));
		return rc;
	}
	*probed = true;
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		snprintf(err, len, "device '%s' is not an ethdev", name);
		return -ENODEV;
	}
	return 0;
}

/* rte_eth_dev_configure with RX interrupts (an idle PMD can sleep on
 * them: --pmd-sleep), or without them where the device has none. */
static int
configure(uint16_t pid, uint16_t nb_rxq, uint16_t nb_txq, struct rte_eth_conf *conf)
{
	int rc;

	conf->intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(pid, nb_rxq, nb_txq, conf);
	if (rc != 0) {
		conf->intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(pid, nb_rxq, nb_txq, conf);
	}
	return rc;
}

/* What the device does of guests' offloads (docs/offloads.md): TCP and
 * UDP checksums, TCP segmentation of frames in mbuf chains (IPv4 also
 * needs the IPv4 header checksum); *ol says which, the return value the
 * TX offloads to ask for. The rest is done in software (offload_sw.h). */
static uint64_t
tx_offloads(const struct rte_eth_dev_info *info, uint8_t *ol)
{
	const uint64_t csum = RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	uint64_t capa = info->tx_offload_capa, want = 0;

	*ol = 0;
	if ((capa & csum) != csum)
		return 0;
	want = csum;
	*ol = VQS_OL_CSUM;
	/* A 64 KB frame in 2 KB mbufs (a guest's, copied: port.c) */
	/* net_tap's TSO (22.11) is librte_gso's, in software: it cuts TCP
	 * over IPv4 only (an IPv6 frame went out whole), refuses a segment
	 * whose headers and MSS exceed the MTU with the Ethernet header
	 * counted (a full-size one), or more than 64 of them, and stops the
	 * whole burst there: the switch's own segmentation is better. */
	if ((capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) && (capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
	    info->tx_desc_lim.nb_seg_max >= (VQS_GSO_MAX_FRAME + 2047) / 2048 + 1 &&
	    strcmp(info->driver_name, "net_tap") != 0) {
		want |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		*ol |= VQS_OL_TSO6;
		if (capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM)
			*ol |= VQS_OL_TSO4;
	}
	return want;
}

int
vqs_eth_port_start(struct vqs_port *p, uint16_t n_pmds,
		   struct rte_mempool *pool, char *err, size_t len)
{
	struct vqs_eth_state *eth = &p->eth;
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t pid, nb_rxq, nb_txq, nb_rxd = ETH_RX_DESC, nb_txd = ETH_TX_DESC;
	char why[256];
	const char *reason;
	bool probed;
	int socket, rc;
	uint16_t q;

	memset(eth, 0, sizeof(*eth));
	for (q = 0; q < VQS_VHOST_MAX_QP; q++)
		eth->rxq_intr_fd[q] = -1;
	rc = eth_find_or_probe(p->conf.devargs, &pid, &probed, err, len);
	if (rc != 0)
		return rc;
	eth->port_id = pid;
	eth->hotplugged = probed;
	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		snprintf(err, len, "cannot get info of device %u", pid);
		return rc;
	}
	nb_rxq = RTE_MIN(p->conf.queues, info.max_rx_queues);
	nb_txq = RTE_MIN(n_pmds, info.max_tx_queues);
	if (nb_rxq == 0 || nb_txq == 0) {
		snprintf(err, len, "device %s has no RX or TX queue", p->conf.devargs);
		return -EINVAL;
	}
	if (nb_rxq < p->conf.queues)
		VQS_LOG(WARNING, "port %s: device has only %u RX queues",
			p->conf.name, nb_rxq);
	/* Jumbo frames arrive as mbuf chains where the device can make them. */
	conf.rxmode.offloads = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER;
	/* The IPv4 header checksum of the tunnels' outer headers, where the
	 * device computes it (asked for per mbuf: nothing else changes). */
	conf.txmode.offloads = info.tx_offload_capa &
			       (RTE_ETH_TX_OFFLOAD_MULTI_SEGS | RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	eth->ipv4_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	conf.txmode.offloads |= tx_offloads(&info, &eth->ol);
	/* mtu=: taken at configure time (what a driver without a way to set
	 * it, such as net_pcap or net_ring, keeps: its link's MTU is set
	 * outside), and set below where the driver can (a NIC, a kernel
	 * interface). The tunnels' MTU rule reads it back. */
	if (p->conf.mtu != 0) {
		if (p->conf.mtu > info.max_mtu || (uint32_t)p->conf.mtu + RTE_ETHER_HDR_LEN +
		    RTE_ETHER_CRC_LEN > info.max_rx_pktlen) {
			snprintf(err, len, "cannot set MTU %u: the device takes frames of at most %u bytes",
				 p->conf.mtu, info.max_rx_pktlen);
			return -EINVAL;
		}
		conf.rxmode.mtu = p->conf.mtu;
	}
	vqs_log_capture_start(why, sizeof(why));
	rc = configure(pid, nb_rxq, nb_txq, &conf);
	/* Some drivers take only as many TX queues as RX queues (net_tap:
	 * a kernel queue is both): such a device gets as many, the ones
	 * past the PMDs' unused. */
	if (rc != 0 && nb_txq < nb_rxq && nb_rxq <= info.max_tx_queues &&
	    configure(pid, nb_rxq, nb_rxq, &conf) == 0) {
		VQS_LOG(INFO, "port %s: %s takes only as many TX queues as RX queues: %u of each",
			p->conf.name, info.driver_name, nb_rxq);
		nb_txq = nb_rxq;
		rc = 0;
	}
	reason = vqs_log_capture_end();
	if (rc != 0) {
		/* The driver's own words where it logged any. */
		snprintf(err, len, "cannot configure device (%s, %u RX and %u TX queues): %s",
			 info.driver_name, nb_rxq, nb_txq, reason[0] != '\0' ? reason : strerror(-rc));
		return rc;
	}
	if (p->conf.mtu != 0) {
		rc = rte_eth_dev_set_mtu(pid, p->conf.mtu);
		if (rc == -ENOTSUP) /* nothing to set: configure took it */
			rc = 0;
		if (rc != 0) {
			snprintf(err, len, "cannot set MTU %u: %s", p->conf.mtu,
				 strerror(-rc));
			return rc;
		}
	}
	rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nb_rxd, &nb_txd);
	socket = rte_eth_dev_socket_id(pid);
	for (q = 0; q < nb_rxq; q++) {
		rc = rte_eth_rx_queue_setup(pid, q, nb_rxd, socket, NULL, pool);
		if (rc != 0) {
			snprintf(err, len, "cannot set up RX queue %u: %s", q,
				 strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(pid, q, nb_txd, socket, NULL);
		if (rc != 0) {
			snprintf(err, len, "cannot set up TX queue %u: %s", q,
				 strerror(-rc));
			return rc;
		}
		rte_spinlock_init(&eth->txq_lock[q]);
	}
	/* A bridge port sees every frame, not just its own address. */
	rc = rte_eth_promiscuous_enable(pid);
	if (rc != 0 && rc != -ENOTSUP)
		VQS_LOG(WARNING, "port %s: cannot enable promiscuous mode",
			p->conf.name);
	rc = rte_eth_dev_start(pid);
	if (rc != 0) {
		snprintf(err, len, "cannot start device: %s", strerror(-rc));
		return rc;
	}
	for (q = 0; q < VQS_VHOST_MAX_QP; q++)
		eth->rxq_intr_fd[q] = conf.intr_conf.rxq && q < nb_rxq ?
			rte_eth_dev_rx_intr_ctl_q_get_fd(pid, q) : -1;
	eth->port_id = pid;
	eth->nb_txq = nb_txq;
	eth->txq_shared = nb_txq < n_pmds;
	eth->started = true;
	if (rte_eth_dev_get_mtu(pid, &eth->mtu) != 0)
		eth->mtu = RTE_ETHER_MTU;
	p->n_rxq = nb_rxq;
	VQS_LOG(INFO, "port %s: ethdev %u (%s), %u RX / %u TX queues, RX interrupts %s",
		p->conf.name, pid, info.driver_name, nb_rxq, nb_txq,
		eth->rxq_intr_fd[0] >= 0 ? "on" : "not supported");
	return 0;
}

/* Also undoes a failed start. A device we hot-plugged is closed and
 * removed, so that the same devargs can be added again; one EAL probed is
 * only stopped (it can be added again as it is), unless 'release'. */
void
vqs_eth_port_stop(struct vqs_port *p, bool release)
{
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	uint16_t pid = p->eth.port_id;

	if (!p->eth.started && !p->eth.hotplugged)
		return; /* nothing of ours to undo */
	if (rte_eth_dev_info_get(pid, &info) == 0)
		dev = info.device;
	if (p->eth.started)
		rte_eth_dev_stop(pid);
	p->eth.started = false;
	if (!p->eth.hotplugged && !release)
		return;
	rte_eth_dev_close(pid);
	if (p->eth.hotplugged && dev != NULL)
		rte_dev_remove(dev);
}

int
vqs_eth_tx(struct vqs_port *p, uint16_t pmd_id, struct rte_mbuf **pkts,
	   uint16_t n)
{
	struct vqs_eth_state *eth = &p->eth;
	uint16_t q = pmd_id % eth->nb_txq, sent = 0, k;
	unsigned int retries = 0;

	/* Only when the device has fewer TX queues than there are PMDs; the
	 * lock is held for one burst, never by the control thread. */
	if (eth->txq_shared)
		rte_spinlock_lock(&eth->txq_lock[q]);
	do {
		k = rte_eth_tx_burst(eth->port_id, q, pkts + sent, n - sent);
		sent += k;
	} while (sent < n && k > 0 && retries++ < VQS_TX_RETRIES);
	if (eth->txq_shared)
		rte_spinlock_unlock(&eth->txq_lock[q]);
	return sent;
}
