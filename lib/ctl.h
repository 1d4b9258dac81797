/* SPDX-License-Identifier: BSD-3-Clause
 * Control commands: the vqctl verbs, run on the control thread against the
 * running switch, and the config and state files made of them.
 */
#ifndef VQS_CTL_H
#define VQS_CTL_H

#include <stdbool.h>

#include "buf.h"
#include "conf.h"

struct vqs_switch;

struct vqs_ctl_reply {
	bool json;           /* the caller wants JSON, not text */
	struct vqs_buf out;  /* the answer, in that format */
	struct vqs_err err;  /* on failure: one line */
};

/* One command; argv[0] is the verb. Returns 0 or a negative errno, with
 * r->err set. A command that changes the configuration is recorded in
 * the state file (vqs_ctl_set_state_file) before it returns. */
int vqs_ctl_exec(struct vqs_switch *sw, int argc, char **argv,
		 struct vqs_ctl_reply *r);

/* A file of commands (config or state). Every line is checked against a
 * copy of the model first; only if all are good are they applied. Errors
 * name the file and line. */
int vqs_ctl_load_file(struct vqs_switch *sw, const char *path, struct vqs_err *e);

/* The same check alone, on an empty model, touching nothing (before EAL
 * starts). */
int vqs_ctl_check_file(const char *path, const char *socket_dir, struct vqs_err *e);

/* Where changes are recorded (NULL: nowhere), and an immediate save. */
void vqs_ctl_set_state_file(const char *path);
int vqs_ctl_save_state(struct vqs_switch *sw, struct vqs_err *e);

/* Undoes every port and bridge, at exit (no state is written). */
void vqs_ctl_teardown(struct vqs_switch *sw);

/* Splits a line into words ('#' starts a comment). Returns the count, or
 * -E2BIG past max words. The words point into line. */
int vqs_ctl_split(char *line, char **argv, int max);

#endif
