/* SPDX-License-Identifier: BSD-3-Clause
 * Fault injection for the tests, only with vqswitch --enable-debug-commands.
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

#include "cmd.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

/* debug/drop-calls PORT N: swallows the next N guest interrupts
 * librte_vhost raises on the port (a lost-interrupt test; the watchdog's
 * own calls are not swallowed). */
static int
cmd_debug_drop_calls(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_port *p = vqs_ctl_find_vhost_port(x, argv[1]);
	uint32_t n;
	int rc;

	if (p == NULL)
		return -ENOENT;
	rc = vqs_conf_parse_u32("N", argv[2], 0, 1000000, &n, &x->r->err);
	if (rc != 0)
		return rc;
	/* Online: destroy_device waits for us before the device goes. */
	rte_rcu_qsbr_thread_online(x->sw->qsv, x->sw->ctl_thread_id);
	vqs_vhost_drop_calls(p, n);
	rte_rcu_qsbr_thread_offline(x->sw->qsv, x->sw->ctl_thread_id);
	return 0;
}

/* debug/delay-enqueue PORT US: on the library datapath, the PMDs wait US
 * microseconds between their checks and each rte_vhost_enqueue_burst to
 * the port: a message that takes the vq locks meanwhile finds a PMD about
 * to wait for them (tests of the message guard, lib/vhost/guard.c). */
static int
cmd_debug_delay_enqueue(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	struct vqs_port *p = vqs_ctl_find_vhost_port(x, argv[1]);
	uint32_t us;
	int rc;

	if (p == NULL)
		return -ENOENT;
	rc = vqs_conf_parse_u32("US", argv[2], 0, 100000, &us, &x->r->err);
	if (rc == 0)
		__atomic_store_n(&p->vhost.enqueue_delay_us, us, __ATOMIC_RELAXED);
	return rc;
}

/* debug/fail-publish N: the next N datapath snapshots fail as if memory
 * had run out. */
static int
cmd_debug_fail_publish(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	return vqs_conf_parse_u32("N", argv[1], 0, 1000, &x->sw->debug_fail_publish, &x->r->err);
}

/* debug/full-poll N: the PMDs poll every queue without peeking every N
 * passes (a power of two), or never (0): tests of the peek itself. */
static int
cmd_debug_full_poll(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t n;
	int rc = vqs_conf_parse_u32("N", argv[1], 0, 1u << 20, &n, &x->r->err);

	if (rc != 0)
		return rc;
	if (n & (n - 1))
		return vqs_err_set(&x->r->err, -EINVAL, "N: 0 or a power of two");
	__atomic_store_n(&x->sw->full_poll_passes, n, __ATOMIC_RELAXED);
	return 0;
}

static const struct vqs_ctl_cmd commands[] = {
	{ "debug/drop-calls", "PORT N", "swallow the next N guest interrupts", 2, 2, VQS_CMD_DEBUG,
	  cmd_debug_drop_calls },
	{ "debug/delay-enqueue", "PORT US",
	  "library datapath: wait US microseconds before each enqueue to the port", 2, 2,
	  VQS_CMD_DEBUG, cmd_debug_delay_enqueue },
	{ "debug/fail-publish", "N", "fail the next N datapath snapshots", 1, 1, VQS_CMD_DEBUG,
	  cmd_debug_fail_publish },
	{ "debug/full-poll", "N", "poll every queue every N passes whatever the peek says (0: never)",
	  1, 1, VQS_CMD_DEBUG, cmd_debug_full_poll },
};

void
vqs_ctl_debug_register(void)
{
	vqs_ctl_register("Fault injection (only with vqswitch --enable-debug-commands)", commands,
			 RTE_DIM(commands));
}
