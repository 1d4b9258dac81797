/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration model: good commands build the right bridges and ports,
 * every bad one is refused with a message that says what is wrong and
 * changes nothing, and the state written back reads the same.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "vqs_ctl.h"
#include "vqs_model.h"


static struct vqs_conf conf;
static bool last_restart; /* the last set-port changed the device */

static int run_words(int argc, char **argv, struct vqs_err *e);

/* Runs one command on the model the way a dry run does. */
static int
run(const char *text, struct vqs_err *e)
{
	char *line = strdup(text), *argv[VQS_MAX_ARGS + 3];
	int argc = vqs_ctl_split(line, argv, VQS_MAX_ARGS + 3), rc;

	CHECK(argc > 0);
	rc = argc > 0 ? run_words(argc, argv, e) : -1;
	free(line);
	return rc;
}

static int
run_words(int argc, char **argv, struct vqs_err *e)
{
	struct vqs_port_conf pc, *p;
	struct vqs_br_conf bc, *b;
	int rc;

	if (strcmp(argv[0], "add-br") == 0) {
		rc = vqs_conf_parse_add_br(&conf, argc, argv, &bc, e);
		if (rc == 0)
			vqs_conf_add_bridge(&conf, &bc);
		return rc;
	}
	if (strcmp(argv[0], "add-port") == 0) {
		rc = vqs_conf_parse_add_port(&conf, argc, argv, "/run/vq", &pc, e);
		if (rc == 0)
			vqs_conf_add_port(&conf, &pc);
		return rc;
	}
	if (strcmp(argv[0], "set") == 0 && argc >= 2 && strcmp(argv[1], "switch") == 0) {
		bool on = !conf.offloads_off;

		rc = vqs_conf_parse_set_switch(argc - 2, argv + 2, &on, e);
		if (rc == 0)
			vqs_conf_set_offloads(&conf, on);
		return rc;
	}
	if (strcmp(argv[0], "set-port") == 0) {
		p = vqs_conf_port(&conf, argv[1]);
		pc = *p;
		rc = vqs_conf_parse_port_options(&conf, argc - 2, argv + 2, "/run/vq", &pc, &last_restart, e);
		if (rc == 0)
			*p = pc;
		return rc;
	}
	b = vqs_conf_bridge(&conf, argv[1]); /* set-br */
	bc = *b;
	rc = vqs_conf_parse_set_bridge(&conf, argc - 2, argv + 2, &bc, e);
	if (rc == 0)
		*b = bc;
	return rc;
}

static void
bad(const char *text, const char *expect)
{
	struct vqs_conf before = conf;
	struct vqs_err e = { "" };

	CHECK(run(text, &e) != 0);
	CHECK(memcmp(&before, &conf, sizeof(conf)) == 0); /* nothing half-applied */
	if (strstr(e.msg, expect) == NULL) {
		unit_failures++;
		fprintf(stderr, "'%s': error '%s' does not mention '%s'\n", text, e.msg, expect);
	}
}

static void
good(const char *text)
{
	struct vqs_err e = { "" };
	int rc = run(text, &e);

	if (rc != 0)
		fprintf(stderr, "'%s': %s\n", text, e.msg);
	CHECK_EQ(rc, 0);
}

/* offloads=, offloads-kept= and the switch's default (docs/offloads.md). */
static void
test_offloads(void)
{
	struct vqs_port_conf *p;

	good("add-port br0 ol1 type=vhostuser offloads=on");
	p = vqs_conf_port(&conf, "ol1");
	CHECK(p->offloads == VQS_OFFLOADS_ON && p->offloads_kept && vqs_conf_offloads(&conf, p));
	good("set-port ol1 offloads=off");
	CHECK(p->offloads == VQS_OFFLOADS_OFF && p->offloads_kept && !vqs_conf_offloads(&conf, p));
	good("set-port ol1 offloads-kept=off");
	CHECK(!p->offloads_kept);
	good("set switch offloads=off");
	good("add-port br0 ol2 type=vhostuser");
	p = vqs_conf_port(&conf, "ol2");
	CHECK(p->offloads == VQS_OFFLOADS_DEFAULT && !p->offloads_kept && !vqs_conf_offloads(&conf, p));
	good("set switch offloads=on");
	CHECK(vqs_conf_offloads(&conf, p) && p->offloads_kept &&
	      !vqs_conf_offloads(&conf, vqs_conf_port(&conf, "ol1")));
	bad("set switch offloads=yes", "expected on or off");
	bad("set switch sleep=1", "unknown switch option 'sleep'");
	bad("set-port ol2 offloads=maybe", "expected on, off or default");
	bad("set-port ol2 offloads-kept=1", "expected on or off");
	bad("add-port br0 ol3 type=dpdk devargs=net_null0 offloads=on", "are for vhostuser");
	bad("add-port br0 ol3 type=dpdk devargs=net_null0 offloads-kept=on", "are for vhostuser");
}

static void
test_commands(void)
{
	struct vqs_port_conf *p;
	char buf[VQS_TRUNKS_TEXT_MAX];

	bad("add-port br0 vm1 type=vhostuser", "no bridge named 'br0'");
	good("add-br br0 mac-aging=120 mac-table-size=1000");
	CHECK_EQ(conf.bridges[0].mac_aging, 120);
	CHECK_EQ(conf.bridges[0].mac_table_size, 1000);
	good("add-br br1");
	CHECK_EQ(conf.bridges[1].mac_aging, VQS_DEFAULT_MAC_AGING);
	good("add-port br0 vm1 type=vhostuser");
	p = vqs_conf_port(&conf, "vm1");
	CHECK(strcmp(p->path, "/run/vq/vm1.sock") == 0);
	CHECK_EQ(p->queues, VQS_VHOST_MAX_QP);
	CHECK_EQ(p->vlan.tag, 0);
	CHECK(!p->vlan.trunks_set);
	good("add-port br1 vm2 type=vhostuser path=/run/vq//x.sock queues=2 tag=100 pmd-rxq-affinity=1:3");
	p = vqs_conf_port(&conf, "vm2");
	CHECK(strcmp(p->bridge, "br1") == 0);
	CHECK_EQ(p->vlan.tag, 100);
	CHECK_EQ(p->affinity[0], -1);
	CHECK_EQ(p->affinity[1], 3);
	good("add-port br0 up type=dpdk devargs=net_tap0,iface=vq0 mtu=9000 trunks=10,20-22");
	p = vqs_conf_port(&conf, "up");
	CHECK(vqs_vlan_allowed(&p->vlan, 10) && vqs_vlan_allowed(&p->vlan, 21));
	CHECK(!vqs_vlan_allowed(&p->vlan, 0) && !vqs_vlan_allowed(&p->vlan, 23));
	vqs_vlan_format_trunks(&p->vlan, buf);
	CHECK(strcmp(buf, "10,20-22") == 0);
	good("add-port br0 qc type=vhostuserclient path=/tmp/qemu.sock queues=1");
	CHECK_EQ(vqs_conf_port(&conf, "qc")->type, VQS_PORT_VHOST_CLIENT);

	good("set-port vm1 tag=200");
	CHECK_EQ(vqs_conf_port(&conf, "vm1")->vlan.tag, 200);
	good("set-port vm1 tag=");
	CHECK_EQ(vqs_conf_port(&conf, "vm1")->vlan.tag, 0);
	CHECK(!last_restart);
	good("set-port up trunks=");
	CHECK(!vqs_conf_port(&conf, "up")->vlan.trunks_set);
	/* Device settings: the port is made anew. */
	good("set-port vm2 queues=4 pmd-rxq-affinity=3:1");
	CHECK(last_restart);
	CHECK_EQ(vqs_conf_port(&conf, "vm2")->queues, 4);
	CHECK_EQ(vqs_conf_port(&conf, "vm2")->affinity[3], 1);
	good("set-port vm2 n_rxq=4");
	CHECK(!last_restart); /* the same setting by its other name: nothing to do */
	good("set-port qc type=dpdk devargs=net_ring7");
	p = vqs_conf_port(&conf, "qc");
	CHECK(last_restart && p->type == VQS_PORT_ETH && p->path[0] == '\0' && p->queues == 1);
	good("set-port qc type=vhostuser");
	p = vqs_conf_port(&conf, "qc");
	CHECK(strcmp(p->path, "/run/vq/qc.sock") == 0 && p->devargs[0] == '\0' &&
	      p->queues == VQS_VHOST_MAX_QP);
	good("set-br br0 mac-aging=0");
	CHECK_EQ(conf.bridges[0].mac_aging, 0);

	bad("add-br br0", "bridge br0 exists");
	bad("add-br bad/name", "bad bridge name");
	bad("add-br br2 mac-aging=soon", "mac-aging=soon");
	bad("add-br br2 color=blue", "unknown bridge option 'color'");
	bad("add-port br0", "usage");
	bad("add-port br0 vm3", "type= is required");
	bad("add-port br0 vm3 type=tunnel", "expected vhostuser, vhostuserclient, dpdk or vxlan");
	bad("add-port br0 vm1 type=vhostuser", "port vm1 exists");
	CHECK(strcmp(vqs_conf_port(&conf, "vm2")->path, "/run/vq/x.sock") == 0);
	bad("add-port br0 vm3 type=vhostuser path=/run/vq/./x.sock", "is used by port vm2");
	bad("add-port br0 vm3 type=vhostuser path=/tmp/x.sock", "directly inside the socket directory");
	bad("add-port br0 vm3 type=vhostuser path=/run/vq/sub/x.sock", "directly inside");
	bad("add-port br0 vm3 type=vhostuser path=/run/vq/../vq/x.sock", "without '..'");
	bad("add-port br0 vm3 type=vhostuser path=/run/vq", "directly inside");
	bad("add-port br0 vm3 type=vhostuser path=relative.sock", "absolute path");
	bad("add-port br0 vm3 type=vhostuserclient", "needs path=");
	bad("add-port br0 vm3 type=vhostuser queues=0", "from 1 to");
	bad("add-port br0 vm3 type=vhostuser queues=2x", "whole number");
	bad("add-port br0 vm3 type=vhostuser color=blue", "unknown port option 'color'");
	bad("add-port br0 vm3 type=vhostuser type=dpdk", "given twice");
	bad("add-port br0 vm3 type=vhostuser devargs=x", "for type=dpdk");
	bad("add-port br0 vm3 type=dpdk", "needs devargs");
	bad("add-port br0 vm3 type=dpdk devargs=net_tap0,iface=other", "is used by port up");
	bad("add-port br0 vm3 type=dpdk devargs=net_tap1 path=/tmp/y", "for vhost-user ports");
	bad("add-port br0 a_name_that_is_far_too_long_for_a_port type=vhostuser", "bad port name");
	bad("add-port br0 vm3 type=vhostuser junk", "expected key=value");
	bad("add-port br0 vm3 type=vhostuser tag=4096", "from 1 to 4095");
	bad("add-port br0 vm3 type=vhostuser trunks=5-2", "trunks=5-2");
	bad("add-port br0 vm3 type=vhostuser trunks=1,x", "trunks=1,x");
	bad("add-port br0 vm3 type=vhostuser trunks=,", "trunks=,");
	bad("add-port br0 vm3 type=vhostuser trunks=1,,2", "trunks=1,,2");
	bad("add-port br0 vm3 type=vhostuser trunks=1,", "trunks=1,");
	bad("add-port br0 vm3 type=vhostuser trunks=-1", "trunks=-1");
	bad("add-port br0 vm3 type=vhostuser queues=2 pmd-rxq-affinity=2:1", "RX queues 0..1");
	bad("add-port br0 vm3 type=vhostuser pmd-rxq-affinity=0-1", "QUEUE:LCORE");
	bad("set-port vm1 type=dpdk", "needs devargs");
	bad("set-port vm1 path=/run/vq/x.sock", "is used by port vm2");
	bad("set-port vm2 queues=2", "pins queue 3");
	bad("set-port vm1 type=dpdk devargs=net_tap0", "is used by port up");
	bad("set-port vm1 tag=x", "whole number");
	bad("set-br br0 mac-table-size=0", "from 1 to");
}

/* Quotes keep blanks and '#'; '#' starts a comment only at a word's start. */
static void
test_split(void)
{
	char line[] = "add-port \"a b\" path=\"/x y/#1\\\"q\\\\\" d='e f' g#h  # comment";
	char open_quote[] = "set port \"x";
	char *argv[8];

	CHECK_EQ(vqs_ctl_split(line, argv, 8), 5);
	CHECK(strcmp(argv[1], "a b") == 0);
	CHECK(strcmp(argv[2], "path=/x y/#1\"q\\") == 0);
	CHECK(strcmp(argv[3], "d=e f") == 0);
	CHECK(strcmp(argv[4], "g#h") == 0);
	CHECK_EQ(vqs_ctl_split(open_quote, argv, 8), -EINVAL);
}

/* Underlay addresses and VXLAN ports: defaults, what restarts a port and
 * what does not, and every refusal. */
static void
test_tunnels(void)
{
	struct vqs_port_conf *p;
	uint32_t ip;

	good("set-port up ip=192.0.2.10/24 gateway=192.0.2.1");
	CHECK(!last_restart); /* an address is not the device */
	p = vqs_conf_port(&conf, "up");
	CHECK(vqs_parse_ipv4("192.0.2.10", &ip) && p->ul.ip == ip && p->ul.prefix == 24);
	bad("set-port up gateway=198.51.100.1", "not another address of up's subnet");
	bad("set-port vm1 ip=192.0.2.11/24", "for type=dpdk ports");
	bad("set-port up ip=192.0.2.10", "ADDRESS/PREFIX");
	bad("set-port up ip=192.0.2.10/33", "prefix");
	bad("add-port br0 up2 type=dpdk devargs=net_ring5 ip=192.0.2.10/24", "port up has that address");
	bad("add-port br0 up2 type=dpdk devargs=net_ring5 gateway=192.0.2.1", "gateway= needs ip=");
	good("add-port br0 vx type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.20,198.51.100.7 tag=5");
	p = vqs_conf_port(&conf, "vx");
	CHECK_EQ(p->vx.n_remotes, 2);
	CHECK_EQ(p->vx.dst_port, VQS_VXLAN_UDP_PORT);
	CHECK_EQ(p->vx.ttl, 64);
	CHECK_EQ(p->vx.tos, 0);
	CHECK_EQ(p->queues, 0);
	CHECK_EQ(p->vlan.tag, 5);
	good("set-port vx tos=inherit");
	CHECK(last_restart);
	CHECK_EQ(vqs_conf_port(&conf, "vx")->vx.tos, VQS_TOS_INHERIT);
	good("set-port vx tag=6");
	CHECK(!last_restart);
	bad("add-port br0 vy type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.30", "already has vni 100");
	good("add-port br0 vy type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.30 dst_port=8472 ttl=8");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=192.0.2.10", "needs vni=, local_ip= and remote_ip=");
	bad("add-port br0 vz type=vxlan vni=16777216 local_ip=192.0.2.10 remote_ip=192.0.2.2", "vni");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=0.0.0.0 remote_ip=192.0.2.2", "unicast");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=192.0.2.10 remote_ip=192.0.2.2,,x", "unicast");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=192.0.2.10 remote_ip=192.0.2.10", "local_ip itself");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=192.0.2.10 remote_ip=192.0.2.2 ttl=0", "ttl");
	bad("add-port br0 vz type=vxlan vni=1 local_ip=192.0.2.10 remote_ip=192.0.2.2 devargs=net_ring0",
	    "not for type=vxlan");
	bad("add-port br0 vz type=dpdk devargs=net_ring6 remote_ip=192.0.2.2", "for type=vxlan ports");
	bad("set-port vy remote_ip=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,1.1.1.6,1.1.1.7,1.1.1.8,"
	    "1.1.1.9,1.1.1.10,1.1.1.11,1.1.1.12,1.1.1.13,1.1.1.14,1.1.1.15,1.1.1.16,1.1.1.17", "at most 16");
	/* Another type starts afresh: no VXLAN settings left on a vhost port. */
	good("set-port vy type=vhostuser");
	p = vqs_conf_port(&conf, "vy");
	CHECK(p->vx.n_remotes == 0 && p->vx.local_ip == 0 && p->queues == VQS_VHOST_MAX_QP);
	test_offloads();
}

/* Everything the commands accept is written so that it reads back: names
 * and paths with blanks, quotes, '#' and backslashes, and the longest trunk
 * list there is. */
static void
test_hostile_round_trip(void)
{
	struct vqs_port_conf *p;
	char cmd[VQS_TRUNKS_TEXT_MAX + 128];
	size_t off;
	unsigned int v;

	good("add-port br0 h1 type=vhostuser \"path=/run/vq/a b#c\\\"d\\\\e'f.sock\"");
	CHECK(strcmp(vqs_conf_port(&conf, "h1")->path, "/run/vq/a b#c\"d\\e'f.sock") == 0);
	good("add-port br0 h2 type=vhostuserclient \"path=/tmp/q emu/#x.sock\" tag=7");
	good("add-port br0 h3 type=dpdk \"devargs=net_pcap9,rx_pcap=/tmp/a b.pcap\"");
	off = (size_t)snprintf(cmd, sizeof(cmd), "set-port h3 trunks=");
	for (v = 0; v <= VQS_VLAN_MAX; v += 2)
		off += (size_t)snprintf(cmd + off, sizeof(cmd) - off, "%s%u", v ? "," : "", v);
	good(cmd);
	p = vqs_conf_port(&conf, "h3");
	CHECK(vqs_vlan_allowed(&p->vlan, 4094) && !vqs_vlan_allowed(&p->vlan, 4093));
}

static void
test_write_and_read_back(void)
{
	char *text = NULL, *line, *save = NULL;
	struct vqs_conf written = conf;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_EQ(vqs_conf_write(&conf, f), 0);
	fclose(f);
	memset(&conf, 0, sizeof(conf));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#')
			good(line);
	CHECK(vqs_conf_equal(&written, &conf));
	CHECK(memcmp(&written, &conf, sizeof(conf)) == 0);
	conf.ports[0].vlan.tag++;
	CHECK(!vqs_conf_equal(&written, &conf));
	free(text);
}

int
main(void)
{
	test_commands();
	test_split();
	test_tunnels();
	test_hostile_round_trip();
	test_write_and_read_back();
	return unit_report("test_conf");
}
