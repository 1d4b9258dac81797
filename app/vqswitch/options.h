/* SPDX-License-Identifier: BSD-3-Clause
 * vqswitch's own options, the ones after "--" on the command line.
 */
#ifndef VQS_OPTIONS_H
#define VQS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vqs.h"

/* VQS_RUN_DIR and VQS_STATE_DIR come from meson's directory options. */
#define VQS_DEFAULT_SOCKET_DIR VQS_RUN_DIR
#define VQS_DEFAULT_STATE      VQS_STATE_DIR "/vqswitch.state"
#define VQS_CTL_SOCKET_NAME    "vqswitch.ctl"
#define VQS_DEFAULT_MBUFS      16383

struct vqs_options {
	const char *config;      /* NULL: none */
	const char *state;       /* NULL: --no-state */
	char ctl_socket[VQS_PATH_MAX];
	char socket_dir[VQS_PATH_MAX];
	gid_t socket_gid;        /* group that may use vhost-user sockets (0: root only) */
	gid_t ctl_gid;           /* group that may use the control socket (0: root only) */
	bool debug_commands;     /* --enable-debug-commands */
	uint32_t mbufs;
	int32_t pmd_sleep_ms;    /* --pmd-sleep: -1 not given */
	uint32_t stats_interval; /* seconds between stats log lines; 0: none */
	uint32_t watchdog_ms;    /* lost-interrupt watchdog period; 0: off */
	uint32_t max_frame_len;  /* longest frame switched, Ethernet header on */
	bool direct;             /* --datapath=direct (the default) */
};

/* Returns 0 to run, 1 when --help or --version was answered, <0 on a bad
 * option (the error is printed). */
int vqs_options_parse(struct vqs_options *o, int argc, char **argv);
void vqs_options_usage(const char *prog);

#endif
