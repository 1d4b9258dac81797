/* SPDX-License-Identifier: BSD-3-Clause
 * One DPDK log type per module, so that an operator can turn one module's
 * lines up or down at run time (vqctl vlog/set vqswitch.vhost:debug), as
 * OVS's vlog/set does. A source file names its module before it includes
 * vqs.h: #define VQS_LOG_MODULE VQS_LOG_VHOST.
 */
#ifndef VQS_LOG_H
#define VQS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vqs_err;

enum vqs_log_module {
	VQS_LOG_MAIN,      /* vqswitch: start, stop, configuration files */
	VQS_LOG_CTL,       /* vqswitch.ctl: commands and who sent them */
	VQS_LOG_VHOST,     /* vqswitch.vhost: guests, vhost-user messages */
	VQS_LOG_ETH,       /* vqswitch.eth: DPDK ports */
	VQS_LOG_PMD,       /* vqswitch.pmd: poll-mode threads */
	VQS_LOG_WATCHDOG,  /* vqswitch.watchdog: lost interrupts, stalls */
	VQS_LOG_TELEMETRY, /* vqswitch.telemetry */
	VQS_LOG_EVPN,      /* vqswitch.evpn: the kernel's FDB and FRR */
	VQS_LOG_MODULES,
};

extern int vqs_logtypes[VQS_LOG_MODULES];
extern const char *const vqs_log_names[VQS_LOG_MODULES];

/* Before rte_eal_init(): registers the log types (INFO, unless EAL's
 * --log-level says otherwise) and sends every line to standard output
 * only. EAL's default also copies each line to syslog, which under
 * systemd put every line in the journal twice. */
void vqs_log_init(void);

/* vlog/set: "PATTERN:LEVEL" (a glob over log type names, e.g.
 * "vqswitch.*:debug"; LEVEL emerg..debug, or a number 1-8). */
int vqs_log_set(const char *spec, struct vqs_err *e);
/* vlog/list: fn(arg, name, level) for every log type, in the order
 * rte_log_dump() lists them (the caller renders them: log.c knows nothing
 * of answers, which belong to the control plane). */
void vqs_log_list(void (*fn)(void *arg, const char *name, const char *level), void *arg);

/* What the calling thread logs between the two calls (a driver's reason
 * for refusing a setting, say), kept in buf as well as logged; _end
 * returns its first line ("" if nothing was logged). */
void vqs_log_capture_start(char *buf, size_t size);
const char *vqs_log_capture_end(void);

#endif
