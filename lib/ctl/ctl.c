/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The command registry and dispatcher, ovs-vsctl chains, the log line of
 * every change, and the config and state files made of commands. The
 * commands themselves are in the ctl_*.c modules that register them.
 */
#define VQS_LOG_MODULE VQS_LOG_CTL

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_common.h>

#include "cmd.h"
#include "ovs_compat.h"
#include "vqs_switch.h"

static char state_file[VQS_PATH_MAX * 2];

/* ---- the registry ---- */

#define MAX_SECTIONS 8

static struct {
	const char *title;
	const struct vqs_ctl_cmd *cmds;
	unsigned int n;
} sections[MAX_SECTIONS];
static unsigned int n_sections;
static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void register_all(void);

void
vqs_ctl_register(const char *section, const struct vqs_ctl_cmd *cmds, unsigned int n)
{
	RTE_VERIFY(n_sections < MAX_SECTIONS);
	sections[n_sections].title = section;
	sections[n_sections].cmds = cmds;
	sections[n_sections].n = n;
	n_sections++;
}


void
vqs_ctl_init(void)
{
	pthread_once(&registered, register_all);
}

/* NULL (and e set) if there is no such command; debug commands exist only
 * when enabled. */
static const struct vqs_ctl_cmd *
find_command(const char *verb, bool debug, struct vqs_err *e)
{
	unsigned int s, i;

	vqs_ctl_init();
	for (s = 0; s < n_sections; s++)
		for (i = 0; i < sections[s].n; i++)
			if (strcmp(sections[s].cmds[i].verb, verb) == 0 &&
			    (sections[s].cmds[i].kind != VQS_CMD_DEBUG || debug))
				return &sections[s].cmds[i];
	vqs_err_set(e, -EINVAL, "unknown command '%s' (vqctl list-commands names them)", verb);
	return NULL;
}

void
vqs_ctl_print_commands(FILE *f)
{
	unsigned int s, i;

	vqs_ctl_init();
	for (s = 0; s < n_sections; s++) {
		fprintf(f, "%s:\n", sections[s].title);
		for (i = 0; i < sections[s].n; i++) {
			const struct vqs_ctl_cmd *c = &sections[s].cmds[i];

			fprintf(f, "  %s%s%s\n      %s\n", c->verb, c->args[0] ? " " : "", c->args,
				c->help);
		}
	}
}

/* Every command this switch takes (debug ones only when enabled) with
 * its arguments. */
static int
cmd_list_commands(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	uint32_t top = vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL);
	unsigned int s, i;

	for (s = 0; s < n_sections; s++)
		for (i = 0; i < sections[s].n; i++)
			if (sections[s].cmds[i].kind != VQS_CMD_DEBUG || x->sw->debug_commands)
				vqs_answer_str(x->ans, top, sections[s].cmds[i].verb,
					    sections[s].cmds[i].args);
	return 0;
}

static int
cmd_help(struct vqs_ctl_ctx *x, int argc, char **argv)
{
	const struct vqs_ctl_cmd *c = find_command(argv[1], x->sw->debug_commands, &x->r->err);
	uint32_t top;

	if (c == NULL)
		return vqs_err_set(&x->r->err, -ENOENT, "no command '%s' (list-commands names them)",
				   argv[1]);
	top = vqs_answer_obj(x->ans, VQS_ANSWER_TOP, NULL);
	vqs_answer_str(x->ans, top, "command", c->verb);
	vqs_answer_str(x->ans, top, "args", c->args);
	vqs_answer_str(x->ans, top, "help", c->help);
	return 0;
}

static const struct vqs_ctl_cmd own_commands[] = {
	{ "list-commands", "", "every command with its arguments", 0, 0, VQS_CMD_QUERY,
	  cmd_list_commands },
	{ "help", "COMMAND", "one command's arguments and what it does", 1, 1, VQS_CMD_QUERY, cmd_help },
};

/*
 * The one place the registry names its modules, in the order of vqctl
 * --help. A deliberate cycle, the registration interface's: each module
 * calls the registry (cmd.h: vqs_ctl_register, the look-ups) and the
 * registry knows nothing of a module but its register function, called
 * here once. Modules registering themselves (constructors) would leave
 * the order to the linker, and a static library drops the objects that
 * nothing references.
 */
static void
register_all(void)
{
	vqs_ctl_config_register();
	vqs_ctl_fdb_register();
	vqs_ctl_tnl_register();
	vqs_ctl_evpn_register();
	vqs_ctl_pmd_register();
	vqs_ctl_observe_register();
	vqs_ctl_register("Help", own_commands, RTE_DIM(own_commands));
	vqs_ctl_debug_register();
}

/* The word count, against the registry: every command can trust it. */
static int
run_command(struct vqs_ctl_ctx *x, const struct vqs_ctl_cmd *c, int argc, char **argv)
{
	int words = argc - 1;

	if (words < c->min_args || (c->max_args != VQS_CMD_ANY_ARGS && words > c->max_args))
		return vqs_err_set(&x->r->err, -EINVAL, "usage: %s%s%s", c->verb,
				   c->args[0] ? " " : "", c->args);
	return c->fn(x, argc, argv);
}

/* ---- look-ups for the command modules ---- */

struct vqs_br_conf *
vqs_ctl_find_bridge(struct vqs_ctl_ctx *x, const char *name)
{
	struct vqs_br_conf *b = vqs_conf_bridge(x->conf, name);

	if (b == NULL)
		vqs_err_set(&x->r->err, -ENOENT, "no bridge named '%s'", name);
	return b;
}

struct vqs_port_conf *
vqs_ctl_find_port(struct vqs_ctl_ctx *x, const char *name)
{
	struct vqs_port_conf *p = vqs_conf_port(x->conf, name);

	if (p == NULL)
		vqs_err_set(&x->r->err, -ENOENT, "no port named '%s'", name);
	return p;
}

struct vqs_port *
vqs_ctl_find_vhost_port(struct vqs_ctl_ctx *x, const char *name)
{
	struct vqs_port *p = vqs_switch_port(x->sw, name);

	if (p == NULL || !vqs_port_type_is_vhost(p->conf.type)) {
		vqs_err_set(&x->r->err, -ENOENT, "no vhost-user port named '%s'", name);
		return NULL;
	}
	return p;
}

struct vqs_bridge *
vqs_ctl_find_runtime_bridge(struct vqs_ctl_ctx *x, const char *name)
{
	if (vqs_ctl_find_bridge(x, name) == NULL)
		return NULL;
	return vqs_switch_bridge(x->sw, name);
}

/* ---- running a command ---- */

/* A control character in a value could end a line of the state file and
 * start another: no word may hold one. */
static int
check_words(int argc, char **argv, struct vqs_err *e)
{
	int i;
	const char *c;

	for (i = 0; i < argc; i++)
		for (c = argv[i]; *c != '\0'; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return vqs_err_set(e, -EINVAL,
						   "word %d contains a control character (0x%02x): refused",
						   i + 1, (unsigned char)*c);
	return 0;
}

/* "vqswitch.ctl: uid 0 gid 0 pid 1: add-port br0 vm1 type=vhostuser: ok" */
static void
log_change(const char *who, int argc, char **argv, int rc, const struct vqs_ctl_reply *r)
{
	struct vqs_buf b = { 0 };
	int i;

	for (i = 0; i < argc; i++)
		vqs_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	if (rc != 0)
		VQS_LOG(WARNING, "%s: %s: failed: %s", who, vqs_buf_str(&b), r->err.msg);
	else
		VQS_LOG(INFO, "%s: %s: ok%s%s", who, vqs_buf_str(&b),
			r->warning[0] != '\0' ? "; " : "", r->warning);
	vqs_buf_free(&b);
}

/* Records the model; a failure leaves the change in effect and says so. */
static void
save_after_change(struct vqs_switch *sw, struct vqs_ctl_reply *r)
{
	struct vqs_err e;

	if (state_file[0] == '\0')
		return;
	if (vqs_ctl_save_state(sw, &e) == 0) {
		sw->unsaved[0] = '\0';
		return;
	}
	strlcpy(sw->unsaved, e.msg, sizeof(sw->unsaved));
	r->unsaved = true;
	snprintf(r->warning, sizeof(r->warning), "applied, but not saved: %s", e.msg);
}

/* --may-exist / --if-exists: whether the command has nothing to do. */
static bool
chain_no_op(struct vqs_switch *sw, const struct vqs_chain_cmd *c)
{
	const char *verb = c->argv[0];
	const char *name = c->argc >= 2 ? c->argv[c->argc - 1] : "";

	if (c->may_exist && strcmp(verb, "add-br") == 0 && c->argc >= 2)
		return vqs_conf_bridge(sw->conf, c->argv[1]) != NULL;
	if (c->may_exist && strcmp(verb, "add-port") == 0 && c->argc >= 3)
		return vqs_conf_port(sw->conf, c->argv[2]) != NULL;
	if (c->if_exists && strcmp(verb, "del-br") == 0)
		return vqs_conf_bridge(sw->conf, name) == NULL;
	if (c->if_exists && strcmp(verb, "del-port") == 0)
		return vqs_conf_port(sw->conf, name) == NULL;
	return false;
}

/* Deletes what the first n commands of a failed chain added, newest first. */
static void
chain_undo(struct vqs_switch *sw, const struct vqs_chain *ch, const bool *done, unsigned int n,
	   const char *who)
{
	struct vqs_ctl_reply r;
	char *argv[2];

	while (n-- > 0) {
		const struct vqs_chain_cmd *c = &ch->cmd[n];

		if (!done[n])
			continue;
		memset(&r, 0, sizeof(r));
		if (strcmp(c->argv[0], "add-br") == 0) {
			argv[0] = "del-br";
			argv[1] = c->argv[1];
		} else {
			argv[0] = "del-port";
			argv[1] = c->argv[2];
		}
		vqs_ctl_exec(sw, 2, argv, who, &r);
		vqs_buf_free(&r.out);
	}
}

/* An ovs-vsctl style chain, as one change: see ovs_compat.h. */
static int
exec_chain(struct vqs_switch *sw, int argc, char **argv, const char *who, struct vqs_ctl_reply *r)
{
	static struct vqs_chain ch; /* control thread only */
	bool done[VQS_CHAIN_MAX] = { false };
	unsigned int i;
	int rc;

	rc = vqs_ovs_chain(argc, argv, &ch, &r->err);
	if (rc != 0)
		return rc;
	for (i = 0; i < ch.n; i++) {
		if (chain_no_op(sw, &ch.cmd[i]))
			continue;
		/* Never again a chain: no recursion. */
		if (vqs_ovs_is_chain(ch.cmd[i].argc, ch.cmd[i].argv))
			return vqs_err_set(&r->err, -EINVAL, "'%s' cannot be translated", ch.cmd[i].argv[0]);
		rc = vqs_ctl_exec(sw, ch.cmd[i].argc, ch.cmd[i].argv, who, r);
		if (rc != 0) {
			bool any = false;
			unsigned int k;

			for (k = 0; k < i; k++)
				any |= done[k];
			chain_undo(sw, &ch, done, i, who);
			if (any)
				snprintf(r->err.msg + strlen(r->err.msg),
					 sizeof(r->err.msg) - strlen(r->err.msg),
					 " (the chain's earlier commands were undone)");
			return rc;
		}
		done[i] = true;
	}
	return 0;
}

int
vqs_ctl_exec(struct vqs_switch *sw, int argc, char **argv, const char *who,
	     struct vqs_ctl_reply *r)
{
	struct vqs_answer ans;
	struct vqs_ctl_ctx x = { sw, sw->conf, r, &ans, sw->socket_dir, false };
	const struct vqs_ctl_cmd *c;
	int rc;

	if (argc < 1)
		return vqs_err_set(&r->err, -EINVAL, "empty command");
	rc = check_words(argc, argv, &r->err);
	if (rc != 0)
		return rc;
	if (vqs_ovs_is_chain(argc, argv))
		return exec_chain(sw, argc, argv, who, r);
	c = find_command(argv[0], sw->debug_commands, &r->err);
	if (c == NULL)
		return -EINVAL;
	vqs_answer_init(&ans);
	rc = run_command(&x, c, argc, argv);
	if (rc == 0 && ans.oom)
		rc = vqs_err_set(&r->err, -ENOMEM, "out of memory for the answer");
	else if (rc == 0 && r->json)
		vqs_answer_json(&ans, &r->out);
	else if (rc == 0)
		vqs_answer_text(&ans, &r->out);
	vqs_answer_free(&ans);
	/* Saved even after a failure: a del-br that stopped half way did
	 * change the model. */
	if (c->kind == VQS_CMD_CONFIG)
		save_after_change(sw, r);
	if (c->kind != VQS_CMD_QUERY)
		log_change(who != NULL ? who : "internal", argc, argv, rc, r);
	return rc;
}

int
vqs_ctl_split(char *line, char **argv, int max)
{
	char *rd = line, *wr, sep;
	int n = 0;

	for (;;) {
		while (*rd == ' ' || *rd == '\t' || *rd == '\r' || *rd == '\n')
			rd++;
		if (*rd == '\0' || *rd == '#')
			return n;
		if (n == max)
			return -E2BIG;
		argv[n++] = wr = rd;
		while (*rd != '\0' && strchr(" \t\r\n", *rd) == NULL) {
			char q = *rd;

			if (q != '"' && q != '\'') {
				*wr++ = *rd++;
				continue;
			}
			for (rd++; *rd != q; rd++) {
				if (*rd == '\0')
					return -EINVAL;
				if (q == '"' && *rd == '\\' && (rd[1] == '"' || rd[1] == '\\'))
					rd++;
				*wr++ = *rd;
			}
			rd++;
		}
		sep = *rd;
		*wr = '\0'; /* wr <= rd: at most the separator is overwritten */
		if (sep == '\0')
			return n;
		rd++;
	}
}

struct file_line {
	unsigned int no;
	int argc;
	char *argv[VQS_MAX_ARGS + 3];
	char *text;
};

struct file_lines {
	unsigned int n;
	struct file_line *l;
};

static void
free_lines(struct file_lines *fl)
{
	unsigned int i;

	for (i = 0; i < fl->n; i++)
		free(fl->l[i].text);
	free(fl->l);
}

/* Lines of any length (a trunk list can be long); the words of each. */
static int
read_lines(const char *path, struct file_lines *fl, struct vqs_err *e)
{
	unsigned int cap = 0, no = 0;
	struct file_line *l;
	char *buf = NULL;
	size_t bufsz = 0;
	FILE *f;
	int rc = 0;

	memset(fl, 0, sizeof(*fl));
	f = fopen(path, "r");
	if (f == NULL)
		return vqs_err_set(e, -errno, "%s: %s", path, strerror(errno));
	while (rc == 0 && getline(&buf, &bufsz, f) >= 0) {
		no++;
		if (fl->n == cap) {
			cap = cap ? cap * 2 : 64;
			l = realloc(fl->l, cap * sizeof(*l));
			if (l == NULL) {
				rc = vqs_err_set(e, -ENOMEM, "out of memory");
				break;
			}
			fl->l = l;
		}
		l = &fl->l[fl->n];
		l->no = no;
		l->text = strdup(buf);
		if (l->text == NULL) {
			rc = vqs_err_set(e, -ENOMEM, "out of memory");
			break;
		}
		l->argc = vqs_ctl_split(l->text, l->argv, VQS_MAX_ARGS + 3);
		if (l->argc == -E2BIG)
			rc = vqs_err_set(e, -E2BIG, "%s:%u: too many words", path, no);
		else if (l->argc < 0)
			rc = vqs_err_set(e, -EINVAL, "%s:%u: a quote is not closed", path, no);
		else if (l->argc > 0 && check_words(l->argc, l->argv, &(struct vqs_err){ 0 }) != 0)
			rc = vqs_err_set(e, -EINVAL, "%s:%u: control character in a word", path, no);
		if (l->argc > 0 && rc == 0)
			fl->n++;
		else
			free(l->text);
	}
	free(buf);
	fclose(f);
	return rc;
}

/* Every line against a copy of the model; nothing runs. The resulting
 * model goes to *result if it is not NULL. */
static int
dry_run(const struct vqs_conf *start, const char *socket_dir, const char *path,
	const struct file_lines *fl, struct vqs_conf *result, struct vqs_err *e)
{
	struct vqs_ctl_reply r = { .json = false };
	struct vqs_conf *scratch = malloc(sizeof(*scratch));
	struct vqs_answer ans;
	struct vqs_ctl_ctx x;
	const struct vqs_ctl_cmd *c;
	unsigned int i;
	int rc = 0, crc;

	if (scratch == NULL)
		return vqs_err_set(e, -ENOMEM, "out of memory");
	*scratch = *start;
	vqs_answer_init(&ans);
	x = (struct vqs_ctl_ctx){ NULL, scratch, &r, &ans, socket_dir, false };
	for (i = 0; rc == 0 && i < fl->n; i++) {
		char **argv = fl->l[i].argv;

		c = find_command(argv[0], false, &r.err);
		if (c != NULL && c->kind != VQS_CMD_CONFIG) {
			vqs_err_set(&r.err, -EINVAL, "'%s' is not a configuration command", argv[0]);
			c = NULL;
		}
		crc = c != NULL ? run_command(&x, c, fl->l[i].argc, argv) : -EINVAL;
		if (crc < 0)
			rc = vqs_err_set(e, crc, "%s:%u: %s", path, fl->l[i].no, r.err.msg);
	}
	if (rc == 0 && result != NULL)
		*result = *scratch;
	vqs_answer_free(&ans);
	free(scratch);
	return rc;
}

int
vqs_ctl_check_file(const char *path, const char *socket_dir, struct vqs_err *e)
{
	static const struct vqs_conf empty;
	struct file_lines fl;
	int rc = read_lines(path, &fl, e);

	if (rc == 0)
		rc = dry_run(&empty, socket_dir, path, &fl, NULL, e);
	free_lines(&fl);
	return rc;
}

int
vqs_ctl_load_file(struct vqs_switch *sw, const char *path, struct vqs_err *e)
{
	struct vqs_ctl_reply r = { .json = false };
	struct file_lines fl;
	struct vqs_answer ans;
	struct vqs_ctl_ctx x = { sw, sw->conf, &r, &ans, sw->socket_dir, true };
	unsigned int i;
	int rc, crc;

	vqs_answer_init(&ans);
	rc = read_lines(path, &fl, e);
	if (rc == 0)
		rc = dry_run(sw->conf, sw->socket_dir, path, &fl, NULL, e);
	/* Apply. Only the devices themselves can still fail, and a port that
	 * does stays configured with its error (x.restoring). */
	for (i = 0; rc == 0 && i < fl.n; i++) {
		const struct vqs_ctl_cmd *c = find_command(fl.l[i].argv[0], false, &r.err);

		crc = c != NULL ? run_command(&x, c, fl.l[i].argc, fl.l[i].argv) : -EINVAL;
		if (crc < 0)
			rc = vqs_err_set(e, crc, "%s:%u: %s", path, fl.l[i].no, r.err.msg);
	}
	vqs_answer_free(&ans);
	free_lines(&fl);
	return rc;
}

void
vqs_ctl_set_state_file(const char *path)
{
	strlcpy(state_file, path != NULL ? path : "", sizeof(state_file));
}

/* The file just written, read as the next start will read it, gives the
 * model that is running. */
static bool
reads_back(struct vqs_switch *sw, const char *path)
{
	static const struct vqs_conf empty;
	struct vqs_conf *back = malloc(sizeof(*back));
	struct file_lines fl;
	struct vqs_err e;
	bool same;

	if (back == NULL)
		return false;
	same = read_lines(path, &fl, &e) == 0 &&
	       dry_run(&empty, sw->socket_dir, path, &fl, back, &e) == 0;
	if (same && !vqs_conf_equal(sw->conf, back)) {
		vqs_err_set(&e, -EPROTO, "%s reads back as another configuration", path);
		same = false;
	}
	if (!same)
		VQS_LOG(ERR, "state file check: %s", e.msg);
	free_lines(&fl);
	free(back);
	return same;
}

/* Written to a temporary file, flushed to disk, read back and compared,
 * renamed over the old one: a crash leaves the old state or the new, never
 * half of one, and never one that would start another configuration. */
int
vqs_ctl_save_state(struct vqs_switch *sw, struct vqs_err *e)
{
	char tmp[sizeof(state_file) + 8], dir[sizeof(state_file)];
	FILE *f;
	int fd, rc;

	if (state_file[0] == '\0')
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_file);
	f = fopen(tmp, "w");
	if (f == NULL)
		return vqs_err_set(e, -errno, "cannot write state file %s: %s", tmp,
				   strerror(errno));
	rc = vqs_conf_write(sw->conf, f);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && !reads_back(sw, tmp)) {
		unlink(tmp);
		return vqs_err_set(e, -EPROTO,
				   "state file %s would not read back as the running configuration: not written",
				   state_file);
	}
	if (rc == 0 && rename(tmp, state_file) != 0)
		rc = -errno;
	if (rc != 0) {
		unlink(tmp);
		return vqs_err_set(e, rc, "cannot write state file %s: %s", state_file,
				   strerror(-rc));
	}
	strlcpy(dir, state_file, sizeof(dir));
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}
