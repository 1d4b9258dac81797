/* SPDX-License-Identifier: BSD-3-Clause
 * Control commands: the vqctl verbs, run on the control thread against the
 * running switch, and the config and state files made of them.
 */
#ifndef VQS_CTL_H
#define VQS_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
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

/* Registers every module's commands (ctl_cmd.h); once, any thread. The
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
