/* SPDX-License-Identifier: BSD-3-Clause
 * The log's capture (vqs_log_capture_*): what the calling thread logs
 * between the two calls comes back as its first line, so that an error
 * can quote a driver's own reason; other threads' lines and lines after
 * the capture are not in it; every line still reaches the log.
 */
#include <pthread.h>
#include <string.h>

#include <rte_log.h>

#include "log.h"
#include "unit.h"

static int logtype;

static void *
other_thread(void *arg)
{
	rte_log(RTE_LOG_ERR, logtype, "from another thread\n");
	return arg;
}

int
main(void)
{
	char buf[64], small[8];
	const char *line;
	pthread_t t;

	vqs_log_init();
	logtype = rte_log_register_type_and_pick_level("vqswitch.unittest", RTE_LOG_DEBUG);
	CHECK(logtype >= 0);

	vqs_log_capture_start(buf, sizeof(buf));
	rte_log(RTE_LOG_ERR, logtype, "drv_configure(): queues %d must equal %d\n", 2, 1);
	CHECK_EQ(pthread_create(&t, NULL, other_thread, NULL), 0);
	CHECK_EQ(pthread_join(t, NULL), 0);
	rte_log(RTE_LOG_ERR, logtype, "Port0 dev_configure = -1\n");
	line = vqs_log_capture_end();
	CHECK(strcmp(line, "drv_configure(): queues 2 must equal 1") == 0);

	rte_log(RTE_LOG_ERR, logtype, "after the capture\n");
	CHECK(strcmp(line, "drv_configure(): queues 2 must equal 1") == 0);

	/* Nothing logged: empty; no capture going on: empty. */
	vqs_log_capture_start(buf, sizeof(buf));
	CHECK(strcmp(vqs_log_capture_end(), "") == 0);
	CHECK(strcmp(vqs_log_capture_end(), "") == 0);

	/* A line longer than the buffer: cut, terminated. */
	vqs_log_capture_start(small, sizeof(small));
	rte_log(RTE_LOG_ERR, logtype, "a line longer than eight bytes\n");
	CHECK(strcmp(vqs_log_capture_end(), "a line ") == 0);

	printf("%d checks, %d failed\n", unit_checks, unit_failures);
	return unit_failures != 0;
}
