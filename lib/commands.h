/* SPDX-License-Identifier: BSD-3-Clause
 * Every control command's usage, written once: vqctl --help is printed
 * from it, the switch answers list-commands and help COMMAND from it, and
 * the switch refuses to start if one of its commands has no entry here
 * (vqs_ctl_check_registry). Shared by vqswitch and vqctl.
 */
#ifndef VQS_COMMANDS_H
#define VQS_COMMANDS_H

#include <stdio.h>

struct vqs_command_doc {
	const char *section; /* heading in vqctl --help */
	const char *verb;
	const char *args;    /* "" when it takes none */
	const char *help;    /* one line */
};

extern const struct vqs_command_doc vqs_command_docs[];
extern const unsigned int vqs_n_command_docs;

/* NULL if verb has no entry. */
const struct vqs_command_doc *vqs_command_doc(const char *verb);
/* Every command, by section, as vqctl --help shows them. */
void vqs_commands_print(FILE *f);

#endif
