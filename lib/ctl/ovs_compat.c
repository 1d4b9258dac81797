/* SPDX-License-Identifier: BSD-3-Clause
 * ovs-vsctl's syntax on top of vqctl's, so that OVS-DPDK set-up scripts
 * run with vqctl in place of ovs-vsctl (docs/vqctl.md, "From OVS").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ovs_compat.h"

bool
vqs_ovs_is_chain(int argc, char **argv)
{
	static const char *const ovs_keys[] = { "datapath_type=", "options:", "other_config:",
						"mtu_request=" };
	unsigned int k;
	int i;

	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0)
			return true; /* "--" between commands, or --may-exist/--if-exists */
		for (k = 0; i >= 3 && k < sizeof(ovs_keys) / sizeof(ovs_keys[0]); k++)
			if (strncmp(argv[i], ovs_keys[k], strlen(ovs_keys[k])) == 0)
				return true;
	}
	return argc >= 3 && strcmp(argv[0], "set") == 0 &&
	       (strcasecmp(argv[1], "interface") == 0 || strcmp(argv[1], "Port") == 0 ||
		strcmp(argv[1], "Bridge") == 0);
}

/* A copy of s in the chain's own storage. */
static char *
keep(struct vqs_chain *ch, const char *s, struct vqs_err *e)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (ch->used + n > sizeof(ch->words)) {
		vqs_err_set(e, -E2BIG, "command chain too long");
		return NULL;
	}
	p = memcpy(ch->words + ch->used, s, n);
	ch->used += n;
	return p;
}

static int
push(struct vqs_chain_cmd *c, char *w, struct vqs_err *e)
{
	if (w == NULL)
		return -E2BIG;
	if (c->argc == VQS_CHAIN_ARGS)
		return vqs_err_set(e, -E2BIG, "%s: too many words", c->argv[0]);
	c->argv[c->argc++] = w;
	return 0;
}

/*
 * One "key=value" of ovs-vsctl's Interface or Port tables as vqctl's
 * key=value, appended to c; vhost: whether the port is a vhost-user one
 * (n_rxq is then its queue pairs). What vqctl has no use for is refused
 * with its name.
 */
static int
push_setting(struct vqs_chain *ch, struct vqs_chain_cmd *c, const char *kv, bool vhost,
	     struct vqs_err *e)
{
	static const struct {
		const char *ovs, *ours;
	} keys[] = {
		{ "options:vhost-server-path=", "path=" },
		{ "options:dpdk-devargs=", "devargs=" },
		{ "mtu_request=", "mtu=" },
		{ "other_config:pmd-rxq-affinity=", "pmd-rxq-affinity=" },
		{ "tag=", "tag=" },
		{ "trunks=", "trunks=" },
		{ "options:key=", "vni=" }, /* type=vxlan */
		{ "options:remote_ip=", "remote_ip=" },
		{ "options:local_ip=", "local_ip=" },
		{ "options:dst_port=", "dst_port=" },
		{ "options:ttl=", "ttl=" },
		{ "options:tos=", "tos=" },
		{ "options:evpn=", "evpn=" },
	};
	char word[512];
	unsigned int i;

	if (strncmp(kv, "type=", 5) == 0)
		return 0; /* taken by the caller */
	if (strncmp(kv, "options:n_rxq=", 14) == 0) {
		snprintf(word, sizeof(word), "%s=%s", vhost ? "queues" : "n_rxq", kv + 14);
		return push(c, keep(ch, word, e), e);
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t n = strlen(keys[i].ovs);

		if (strncmp(kv, keys[i].ovs, n) == 0) {
			if (snprintf(word, sizeof(word), "%s%s", keys[i].ours, kv + n) >= (int)sizeof(word))
				return vqs_err_set(e, -EINVAL, "value too long: %s", kv);
			return push(c, keep(ch, word, e), e);
		}
	}
	return vqs_err_set(e, -EINVAL, "not supported: '%s' (docs/vqctl.md, \"From OVS\", lists what "
			   "vqctl takes of ovs-vsctl)", kv);
}

/* ovs-vsctl's interface types as ours. */
static const char *
our_type(const char *t)
{
	if (strcmp(t, "dpdkvhostuser") == 0)
		return "vhostuser";
	if (strcmp(t, "dpdkvhostuserclient") == 0)
		return "vhostuserclient";
	return t; /* dpdk, and our own names */
}

/* The settings of "add-port B P k=v..." itself, or of a "set Interface|Port
 * P k=v..." right after it (argv[0] says which), joined to the add-port. */
static int
merge_into_add_port(struct vqs_chain *ch, struct vqs_chain_cmd *add, int argc, char **argv,
		    struct vqs_err *e)
{
	const char *type = NULL;
	char word[64];
	bool vhost;
	int i, rc;

	for (i = 1; i < add->argc; i++)
		if (strncmp(add->argv[i], "type=", 5) == 0)
			type = add->argv[i] + 5;
	for (i = 3; i < argc; i++)
		if (strncmp(argv[i], "type=", 5) == 0) {
			if (type != NULL)
				return vqs_err_set(e, -EINVAL, "%s: type given twice", argv[2]);
			type = our_type(argv[i] + 5);
			snprintf(word, sizeof(word), "type=%s", type);
			rc = push(add, keep(ch, word, e), e);
			if (rc != 0)
				return rc;
			type = add->argv[add->argc - 1] + 5;
		}
	vhost = type != NULL && strncmp(type, "vhostuser", 9) == 0;
	for (i = 3; i < argc; i++) {
		/* vqctl's own keys pass (add-port P type=vhostuser queues=2 -- ...) */
		if (strcmp(argv[0], "add-port") == 0 && strchr(argv[i], ':') == NULL &&
		    strncmp(argv[i], "mtu_request=", 12) != 0)
			rc = strncmp(argv[i], "type=", 5) == 0 ? 0 : push(add, keep(ch, argv[i], e), e);
		else
			rc = push_setting(ch, add, argv[i], vhost, e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* A "set" of an existing port or bridge, as vqctl's own "set". */
static int
native_set(struct vqs_chain *ch, struct vqs_chain_cmd *c, int argc, char **argv, struct vqs_err *e)
{
	bool bridge = strcasecmp(argv[1], "bridge") == 0;
	char word[64];
	int i, rc = 0;

	c->argc = 0;
	if (push(c, keep(ch, "set", e), e) != 0 ||
	    push(c, keep(ch, bridge ? "bridge" : "port", e), e) != 0 ||
	    push(c, keep(ch, argv[2], e), e) != 0)
		return -E2BIG;
	for (i = 3; i < argc && rc == 0; i++) {
		if (bridge && strcmp(argv[i], "datapath_type=netdev") == 0)
			continue; /* what vqswitch always is */
		if (bridge) {
			rc = push(c, keep(ch, argv[i], e), e);
		} else if (strncmp(argv[i], "type=", 5) == 0) {
			snprintf(word, sizeof(word), "type=%s", our_type(argv[i] + 5));
			rc = push(c, keep(ch, word, e), e);
		} else {
			/* n_rxq and queues are one setting to vqctl */
			rc = push_setting(ch, c, argv[i], false, e);
		}
	}
	if (rc == 0 && c->argc == 3)
		c->argc = 0; /* nothing left to set: a no-op */
	return rc;
}

/* One command of the chain (argv[0] its verb, options already taken). */
static int
add_command(struct vqs_chain *ch, int argc, char **argv, bool may_exist, bool if_exists,
	    struct vqs_err *e)
{
	struct vqs_chain_cmd *c, *prev = ch->n > 0 ? &ch->cmd[ch->n - 1] : NULL;
	int i, rc;

	if (strcmp(argv[0], "set") == 0 && argc >= 3 &&
	    (strcasecmp(argv[1], "interface") == 0 || strcasecmp(argv[1], "port") == 0) &&
	    prev != NULL && prev->argc >= 3 && strcmp(prev->argv[0], "add-port") == 0 &&
	    strcmp(prev->argv[2], argv[2]) == 0)
		return merge_into_add_port(ch, prev, argc, argv, e);
	if (ch->n == VQS_CHAIN_MAX)
		return vqs_err_set(e, -E2BIG, "more than %d commands in one chain", VQS_CHAIN_MAX);
	c = &ch->cmd[ch->n];
	memset(c, 0, sizeof(*c));
	c->may_exist = may_exist;
	c->if_exists = if_exists;
	if (strcmp(argv[0], "set") == 0 && argc >= 3 &&
	    (strcasecmp(argv[1], "interface") == 0 || strcasecmp(argv[1], "port") == 0 ||
	     strcasecmp(argv[1], "bridge") == 0)) {
		rc = native_set(ch, c, argc, argv, e);
	} else if (strcmp(argv[0], "add-port") == 0 && argc >= 3) {
		/* Its own settings may be written the OVS way too. */
		for (rc = 0, i = 0; i < 3 && rc == 0; i++)
			rc = push(c, keep(ch, argv[i], e), e);
		if (rc == 0)
			rc = merge_into_add_port(ch, c, argc, argv, e);
	} else {
		for (rc = 0, i = 0; i < argc && rc == 0; i++)
			rc = push(c, keep(ch, argv[i], e), e);
	}
	if (rc != 0)
		return rc;
	if (c->argc > 0)
		ch->n++;
	return 0;
}

int
vqs_ovs_chain(int argc, char **argv, struct vqs_chain *ch, struct vqs_err *e)
{
	int start = 0, i, rc;

	memset(ch, 0, sizeof(*ch));
	while (start < argc) {
		bool may_exist = false, if_exists = false;
		int end;

		for (; start < argc && strncmp(argv[start], "--", 2) == 0 && argv[start][2] != '\0'; start++) {
			if (strcmp(argv[start], "--may-exist") == 0)
				may_exist = true;
			else if (strcmp(argv[start], "--if-exists") == 0)
				if_exists = true;
			else
				return vqs_err_set(e, -EINVAL, "unknown option '%s' (vqctl takes --may-exist "
						   "and --if-exists of ovs-vsctl's)", argv[start]);
		}
		for (end = start; end < argc && strcmp(argv[end], "--") != 0; end++)
			;
		if (end == start)
			return vqs_err_set(e, -EINVAL, "an empty command in the chain");
		rc = add_command(ch, end - start, argv + start, may_exist, if_exists, e);
		if (rc != 0)
			return rc;
		start = end + 1;
		if (end < argc && start == argc)
			return vqs_err_set(e, -EINVAL, "a chain ends with '--'");
	}
	/* Only the last command may be one that cannot be taken back. */
	for (i = 0; i + 1 < (int)ch->n; i++)
		if (strcmp(ch->cmd[i].argv[0], "add-br") != 0 &&
		    strcmp(ch->cmd[i].argv[0], "add-port") != 0)
			return vqs_err_set(e, -EINVAL, "'%s' must be the last command of a chain (only "
					   "add-br and add-port can be undone if a later one fails)",
					   ch->cmd[i].argv[0]);
	return 0;
}
