/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "config.h"

#define MAX_WORDS 16

void
vqs_config_init(struct vqs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mac_aging = VQS_DEFAULT_MAC_AGING;
	c->mac_table_size = VQS_DEFAULT_MAC_TABLE_SIZE;
}

static bool
valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= VQS_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return false;
	return true;
}

static int
parse_u32(const char *key, const char *v, uint32_t min, uint32_t max,
	  uint32_t *out, char *err, size_t len)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isdigit((unsigned char)*v) ||
	    x < min || x > max) {
		snprintf(err, len, "%s=%s: expected a whole number from %u to %u",
			 key, v, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)x;
	return 0;
}

/* Splits "key=value" words; each key at most once. */
struct kv {
	const char *key;
	const char *val;
};

static int
split_options(char **words, int n, struct kv *kv, char *err, size_t len)
{
	int i, j;

	for (i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');

		if (eq == NULL || eq == words[i]) {
			snprintf(err, len, "'%s': expected key=value", words[i]);
			return -EINVAL;
		}
		*eq = '\0';
		kv[i].key = words[i];
		kv[i].val = eq + 1;
		for (j = 0; j < i; j++)
			if (strcmp(kv[j].key, kv[i].key) == 0) {
				snprintf(err, len, "'%s' given twice", kv[i].key);
				return -EINVAL;
			}
	}
	return 0;
}

static int
cmd_add_br(struct vqs_config *c, char **w, int n, char *err, size_t len)
{
	struct kv kv[MAX_WORDS];
	int i, rc;

	if (n < 2) {
		snprintf(err, len, "usage: add-br BRIDGE [mac-aging=S] [mac-table-size=N]");
		return -EINVAL;
	}
	if (!valid_name(w[1])) {
		snprintf(err, len, "bad bridge name '%s'", w[1]);
		return -EINVAL;
	}
	if (c->bridge[0] != '\0') {
		snprintf(err, len, "bridge %s exists; only one bridge is supported",
			 c->bridge);
		return -EEXIST;
	}
	rc = split_options(w + 2, n - 2, kv, err, len);
	for (i = 0; rc == 0 && i < n - 2; i++) {
		if (strcmp(kv[i].key, "mac-aging") == 0)
			rc = parse_u32(kv[i].key, kv[i].val, 0, 86400 * 365,
				       &c->mac_aging, err, len);
		else if (strcmp(kv[i].key, "mac-table-size") == 0)
			rc = parse_u32(kv[i].key, kv[i].val, 1,
				       VQS_MAX_MAC_TABLE_SIZE, &c->mac_table_size,
				       err, len);
		else {
			snprintf(err, len, "add-br: unknown option '%s'", kv[i].key);
			rc = -EINVAL;
		}
	}
	if (rc == 0)
		strlcpy(c->bridge, w[1], sizeof(c->bridge));
	return rc;
}

static int
port_option(struct vqs_port_conf *pc, const struct kv *o, bool *has_type,
	    char *err, size_t len)
{
	uint32_t v;
	int rc;

	if (strcmp(o->key, "type") == 0) {
		if (strcmp(o->val, "vhostuser") == 0)
			pc->type = VQS_PORT_VHOST;
		else if (strcmp(o->val, "dpdk") == 0)
			pc->type = VQS_PORT_ETH;
		else {
			snprintf(err, len, "type=%s: expected vhostuser or dpdk", o->val);
			return -EINVAL;
		}
		*has_type = true;
		return 0;
	}
	if (strcmp(o->key, "path") == 0) {
		if (o->val[0] != '/' ||
		    strlcpy(pc->path, o->val, sizeof(pc->path)) >= sizeof(pc->path)) {
			snprintf(err, len, "path=%s: expected an absolute path shorter than %d bytes",
				 o->val, VQS_PATH_MAX);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(o->key, "devargs") == 0) {
		if (o->val[0] == '\0' ||
		    strlcpy(pc->devargs, o->val, sizeof(pc->devargs)) >=
			    sizeof(pc->devargs)) {
			snprintf(err, len, "devargs: expected a device name and arguments");
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(o->key, "queues") == 0 || strcmp(o->key, "n_rxq") == 0) {
		rc = parse_u32(o->key, o->val, 1, VQS_VHOST_MAX_QP, &v, err, len);
		pc->queues = (uint16_t)v;
		return rc;
	}
	if (strcmp(o->key, "mtu") == 0) {
		rc = parse_u32(o->key, o->val, 68, 9000, &v, err, len);
		pc->mtu = (uint16_t)v;
		return rc;
	}
	snprintf(err, len, "add-port: unknown option '%s'", o->key);
	return -EINVAL;
}

/* Options that make no sense for the port's type are errors, not ignored. */
static int
port_check(const struct vqs_config *c, struct vqs_port_conf *pc,
	   const char *socket_dir, char *err, size_t len)
{
	uint16_t i;

	if (pc->type == VQS_PORT_VHOST) {
		if (pc->devargs[0] != '\0' || pc->mtu != 0) {
			snprintf(err, len, "devargs and mtu are for type=dpdk ports");
			return -EINVAL;
		}
		if (pc->path[0] == '\0' &&
		    (size_t)snprintf(pc->path, sizeof(pc->path), "%s/%s.sock",
				     socket_dir, pc->name) >= sizeof(pc->path)) {
			snprintf(err, len, "socket path for %s is too long", pc->name);
			return -EINVAL;
		}
		if (pc->queues == 0)
			pc->queues = VQS_VHOST_MAX_QP;
	} else {
		if (pc->devargs[0] == '\0') {
			snprintf(err, len, "type=dpdk needs devargs=");
			return -EINVAL;
		}
		if (pc->path[0] != '\0') {
			snprintf(err, len, "path is for type=vhostuser ports");
			return -EINVAL;
		}
		if (pc->queues == 0)
			pc->queues = 1;
	}
	for (i = 0; i < c->n_ports; i++) {
		const struct vqs_port_conf *o = &c->ports[i];

		if (strcmp(o->name, pc->name) == 0) {
			snprintf(err, len, "port %s exists (line %u)", pc->name, o->line);
			return -EEXIST;
		}
		if (pc->type == VQS_PORT_VHOST && o->type == VQS_PORT_VHOST &&
		    strcmp(o->path, pc->path) == 0) {
			snprintf(err, len, "socket %s is used by port %s", pc->path,
				 o->name);
			return -EEXIST;
		}
		if (pc->type == VQS_PORT_ETH && o->type == VQS_PORT_ETH &&
		    strcspn(o->devargs, ",") == strcspn(pc->devargs, ",") &&
		    strncmp(o->devargs, pc->devargs, strcspn(pc->devargs, ",")) == 0) {
			snprintf(err, len, "device of %s is used by port %s",
				 pc->name, o->name);
			return -EEXIST;
		}
	}
	return 0;
}

static int
cmd_add_port(struct vqs_config *c, char **w, int n, unsigned int line_no,
	     const char *socket_dir, char *err, size_t len)
{
	struct vqs_port_conf pc;
	struct kv kv[MAX_WORDS];
	bool has_type = false;
	int i, rc;

	if (n < 3) {
		snprintf(err, len, "usage: add-port BRIDGE PORT type=vhostuser|dpdk [options]");
		return -EINVAL;
	}
	if (c->bridge[0] == '\0' || strcmp(w[1], c->bridge) != 0) {
		snprintf(err, len, "no bridge named '%s'", w[1]);
		return -ENOENT;
	}
	if (!valid_name(w[2])) {
		snprintf(err, len, "bad port name '%s' (letters, digits, '_.-', at most %d)",
			 w[2], VQS_NAME_MAX - 1);
		return -EINVAL;
	}
	if (c->n_ports == VQS_MAX_PORTS) {
		snprintf(err, len, "too many ports (at most %d)", VQS_MAX_PORTS);
		return -ENOSPC;
	}
	memset(&pc, 0, sizeof(pc));
	strlcpy(pc.name, w[2], sizeof(pc.name));
	pc.line = line_no;
	rc = split_options(w + 3, n - 3, kv, err, len);
	for (i = 0; rc == 0 && i < n - 3; i++)
		rc = port_option(&pc, &kv[i], &has_type, err, len);
	if (rc != 0)
		return rc;
	if (!has_type) {
		snprintf(err, len, "add-port %s: type= is required", pc.name);
		return -EINVAL;
	}
	rc = port_check(c, &pc, socket_dir, err, len);
	if (rc == 0)
		c->ports[c->n_ports++] = pc;
	return rc;
}

int
vqs_config_apply_line(struct vqs_config *c, char *line, unsigned int line_no,
		      const char *socket_dir, char *err, size_t len)
{
	char *words[MAX_WORDS + 1], *save = NULL, *tok, *hash;
	int n = 0;

	hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == MAX_WORDS) {
			snprintf(err, len, "too many words (at most %d)", MAX_WORDS);
			return -EINVAL;
		}
		words[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (strcmp(words[0], "add-br") == 0)
		return cmd_add_br(c, words, n, err, len);
	if (strcmp(words[0], "add-port") == 0)
		return cmd_add_port(c, words, n, line_no, socket_dir, err, len);
	snprintf(err, len, "unknown command '%s' (expected add-br or add-port)",
		 words[0]);
	return -EINVAL;
}

int
vqs_config_load(struct vqs_config *c, const char *file, const char *socket_dir,
		char *err, size_t len)
{
	char line[1024], msg[512];
	unsigned int line_no = 0;
	FILE *f;
	int rc = 0;

	vqs_config_init(c);
	f = fopen(file, "r");
	if (f == NULL) {
		snprintf(err, len, "%s: %s", file, strerror(errno));
		return -errno;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		line_no++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(msg, sizeof(msg), "line longer than %zu bytes",
				 sizeof(line) - 2);
			rc = -EINVAL;
			break;
		}
		rc = vqs_config_apply_line(c, line, line_no, socket_dir, msg,
					   sizeof(msg));
	}
	fclose(f);
	if (rc != 0) {
		snprintf(err, len, "%s:%u: %s", file, line_no, msg);
		return rc;
	}
	if (c->bridge[0] == '\0') {
		snprintf(err, len, "%s: no bridge (add-br) configured", file);
		return -EINVAL;
	}
	return 0;
}
