/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration parser: good lines build the right ports, every bad
 * line is refused with a message that says what is wrong.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

int vqs_logtype;

static int
apply(struct vqs_config *c, const char *text, char *err, size_t len)
{
	char line[512];

	snprintf(line, sizeof(line), "%s", text);
	return vqs_config_apply_line(c, line, 1, "/run/vq", err, len);
}

static void
bad(struct vqs_config *c, const char *text, const char *expect)
{
	char err[256] = "";
	uint16_t before = c->n_ports;

	CHECK(apply(c, text, err, sizeof(err)) != 0);
	CHECK_EQ(c->n_ports, before); /* nothing half-applied */
	if (strstr(err, expect) == NULL) {
		unit_failures++;
		fprintf(stderr, "'%s': error '%s' does not mention '%s'\n", text,
			err, expect);
	}
}

static void
test_lines(void)
{
	struct vqs_config c;
	char err[256];

	vqs_config_init(&c);
	bad(&c, "add-port br0 vm1 type=vhostuser", "no bridge");
	CHECK_EQ(apply(&c, "add-br br0 mac-aging=120 mac-table-size=1000", err, sizeof(err)), 0);
	CHECK_EQ(c.mac_aging, 120);
	CHECK_EQ(c.mac_table_size, 1000);
	CHECK_EQ(apply(&c, "  # only a comment", err, sizeof(err)), 0);
	CHECK_EQ(apply(&c, "", err, sizeof(err)), 0);
	CHECK_EQ(apply(&c, "add-port br0 vm1 type=vhostuser  # first VM", err, sizeof(err)), 0);
	CHECK_EQ(c.n_ports, 1);
	CHECK(strcmp(c.ports[0].path, "/run/vq/vm1.sock") == 0);
	CHECK_EQ(c.ports[0].type, VQS_PORT_VHOST);
	CHECK_EQ(c.ports[0].queues, VQS_VHOST_MAX_QP);
	CHECK_EQ(apply(&c, "add-port br0 vm2 type=vhostuser path=/tmp/x.sock queues=2", err, sizeof(err)), 0);
	CHECK(strcmp(c.ports[1].path, "/tmp/x.sock") == 0);
	CHECK_EQ(c.ports[1].queues, 2);
	CHECK_EQ(apply(&c, "add-port br0 up type=dpdk devargs=net_tap0,iface=vq0 mtu=9000", err, sizeof(err)), 0);
	CHECK_EQ(c.ports[2].type, VQS_PORT_ETH);
	CHECK(strcmp(c.ports[2].devargs, "net_tap0,iface=vq0") == 0);
	CHECK_EQ(c.ports[2].queues, 1);
	CHECK_EQ(c.ports[2].mtu, 9000);

	bad(&c, "add-br br1", "only one bridge");
	bad(&c, "frobnicate br0", "unknown command");
	bad(&c, "add-port br9 vm3 type=vhostuser", "no bridge named 'br9'");
	bad(&c, "add-port br0", "usage");
	bad(&c, "add-port br0 vm3", "type= is required");
	bad(&c, "add-port br0 vm3 type=tunnel", "expected vhostuser or dpdk");
	bad(&c, "add-port br0 vm1 type=vhostuser", "port vm1 exists");
	bad(&c, "add-port br0 vm3 type=vhostuser path=/tmp/x.sock", "is used by port vm2");
	bad(&c, "add-port br0 vm3 type=vhostuser path=relative.sock", "absolute path");
	bad(&c, "add-port br0 vm3 type=vhostuser queues=0", "from 1 to");
	bad(&c, "add-port br0 vm3 type=vhostuser queues=99", "from 1 to");
	bad(&c, "add-port br0 vm3 type=vhostuser queues=2x", "whole number");
	bad(&c, "add-port br0 vm3 type=vhostuser queues=-1", "whole number");
	bad(&c, "add-port br0 vm3 type=vhostuser color=blue", "unknown option 'color'");
	bad(&c, "add-port br0 vm3 type=vhostuser type=dpdk", "given twice");
	bad(&c, "add-port br0 vm3 type=vhostuser devargs=x", "for type=dpdk");
	bad(&c, "add-port br0 vm3 type=dpdk", "needs devargs");
	bad(&c, "add-port br0 vm3 type=dpdk devargs=net_tap0,iface=other", "is used by port up");
	bad(&c, "add-port br0 vm3 type=dpdk devargs=net_tap1 path=/tmp/y", "for type=vhostuser");
	bad(&c, "add-port br0 bad/name type=vhostuser", "bad port name");
	bad(&c, "add-port br0 a_name_that_is_far_too_long_for_a_port type=vhostuser", "bad port name");
	bad(&c, "add-port br0 vm3 type=vhostuser junk", "expected key=value");
	CHECK_EQ(c.n_ports, 3);
}

static void
test_file(void)
{
	char path[] = "/tmp/vqs_cfg_XXXXXX", err[512];
	struct vqs_config c;
	FILE *f;
	int fd = mkstemp(path);

	f = fdopen(fd, "w");
	fprintf(f, "add-br br0\n# ports\nadd-port br0 vm1 type=vhostuser\n"
		   "add-port br0 vm2 type=nope\n");
	fclose(f);
	CHECK(vqs_config_load(&c, path, "/run/vq", err, sizeof(err)) != 0);
	CHECK(strstr(err, ":4: ") != NULL); /* names the line */

	f = fopen(path, "w");
	fprintf(f, "# nothing but a comment\n");
	fclose(f);
	CHECK(vqs_config_load(&c, path, "/run/vq", err, sizeof(err)) != 0);
	CHECK(strstr(err, "no bridge") != NULL);
	unlink(path);

	CHECK(vqs_config_load(&c, "/nonexistent/vq.conf", "/run/vq", err, sizeof(err)) != 0);
	CHECK(strstr(err, "No such file") != NULL);
}

int
main(void)
{
	test_lines();
	test_file();
	return unit_report("test_config");
}
