/* SPDX-License-Identifier: BSD-3-Clause
 * Control commands: the vqctl verbs, run on the control thread against the
 * running switch, and the config and state files made of them.
 *
 * lib/ctl: this header is the folder's public contract, with server.h
 * (the control socket and its protocol), which it includes. Inside:
 * ctl.c (the command registry and dispatcher, ovs-vsctl chains, the log
 * line of every change, the config and state files), cmd.h (what a
 * module needs to register its commands), the modules' commands
 * (config.c: bridges, ports, show; fdb.c; tnl.c; pmd.c; observe.c:
 * counters, vrings, logs; debug.c: fault injection), answer.c (a query's
 * answer, rendered as JSON or as text), ovs_compat.c (ovs-vsctl's
 * syntax) and server.c (the socket). The control plane is the top of
 * lib/: it drives the model, the switch, the vhost ports and the
 * observers through their public headers, and none of them calls it
 * (it never touches the direct datapath, which the switch and the vhost
 * ports drive).
 *
 * Threads. Commands run on the control thread (the main lcore), one at a
 * time, each to its end before the next request is read; they may block
 * (an RCU grace period, a device's start, a state file's fsync; a reply
 * waits at most VQS_CTL_SEND_MS for a slow reader). A command changes
 * the switch as vqs_switch.h says (the tables under sw->lock, never held
 * while it waits) and is RCU-online only while it touches a vhost device.
 * vqs_ctl_init, vqs_ctl_print_commands, vqs_ctl_split and
 * vqs_ctl_check_file touch no switch and may run on any thread (vqctl
 * prints the commands; main.c checks a config file before EAL starts).
 */
#ifndef VQS_CTL_H
#define VQS_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "server.h"
#include "vqs_model.h"

struct vqs_switch;

struct vqs_ctl_reply {
	bool json;           /* the caller wants JSON, not text */
	struct vqs_buf out;  /* the answer, in that format (answer.h): a JSON
			      * value, or text; empty when there is none */
	struct vqs_err err;  /* on failure: one line */
	char warning[320];   /* on success, something the caller must know */
	bool unsaved;        /* applied, but the state file could not be written */
};

/* Registers every module's commands (cmd.h); once, any thread. The
 * functions below do it themselves when needed. */
void vqs_ctl_init(void);
/* Every command, by section, as vqctl --help shows them. */
void vqs_ctl_print_commands(FILE *f);

/*
 * One command; argv[0] is the verb. Returns 0 or a negative errno, with
 * r->err set. A command that changes the configuration is recorded in
 * the state file (vqs_ctl_set_state_file) before it returns; if that
 * fails, the change stays in effect and the reply says "applied, but not
 * saved" (r->unsaved), 'show' says so too, and saving is retried.
 * who: the peer, for the log line every change gets.
 */
int vqs_ctl_exec(struct vqs_switch *sw, int argc, char **argv, const char *who,
		 struct vqs_ctl_reply *r);

/* Control thread, about once a second: starts configured ports that could
 * not start (they keep their error until then) and retries a state save
 * that failed. */
void vqs_ctl_retry(struct vqs_switch *sw);

/* A file of commands (config or state). Every line is checked against a
 * copy of the model first; only if all are good are they applied. Errors
 * name the file and line. A port whose device cannot start (a NIC that is
 * gone, an lcore no longer given) does not stop the others: it stays
 * configured, shows its error and is retried (vqs_ctl_retry). */
int vqs_ctl_load_file(struct vqs_switch *sw, const char *path, struct vqs_err *e);

/* The same check alone, on an empty model, touching nothing (before EAL
 * starts). */
int vqs_ctl_check_file(const char *path, const char *socket_dir, struct vqs_err *e);

/* Where changes are recorded (NULL: nowhere), and an immediate save. */
void vqs_ctl_set_state_file(const char *path);
int vqs_ctl_save_state(struct vqs_switch *sw, struct vqs_err *e);

/* Undoes every port and bridge, at exit (no state is written). */
void vqs_ctl_teardown(struct vqs_switch *sw);

/* Splits a line into words, in place: blanks separate words, "..." quotes
 * (with \" and \\ inside) and '...' quotes keep blanks and '#', and
 * an unquoted '#' at the start of a word begins a comment. Returns the
 * count, -E2BIG past max words, -EINVAL for a quote left open. */
int vqs_ctl_split(char *line, char **argv, int max);

#endif
