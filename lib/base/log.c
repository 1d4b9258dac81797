/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_log.h>

#include "buf.h"
#include "err.h"
#include "log.h"

int vqs_logtypes[VQS_LOG_MODULES];

const char *const vqs_log_names[VQS_LOG_MODULES] = {
	[VQS_LOG_MAIN] = "vqswitch",
	[VQS_LOG_CTL] = "vqswitch.ctl",
	[VQS_LOG_VHOST] = "vqswitch.vhost",
	[VQS_LOG_ETH] = "vqswitch.eth",
	[VQS_LOG_PMD] = "vqswitch.pmd",
	[VQS_LOG_WATCHDOG] = "vqswitch.watchdog",
	[VQS_LOG_TELEMETRY] = "vqswitch.telemetry",
	[VQS_LOG_EVPN] = "vqswitch.evpn",
};

static const char *const level_names[] = {
	[RTE_LOG_EMERG] = "emerg", [RTE_LOG_ALERT] = "alert", [RTE_LOG_CRIT] = "crit",
	[RTE_LOG_ERR] = "err", [RTE_LOG_WARNING] = "warning", [RTE_LOG_NOTICE] = "notice",
	[RTE_LOG_INFO] = "info", [RTE_LOG_DEBUG] = "debug",
};

/* The log's stream: standard output, and the calling thread's capture
 * buffer while it has one (vqs_log_capture_start). rte_log flushes after
 * each message. */
static __thread char *capture_buf;
static __thread size_t capture_size, capture_used;

static ssize_t
log_write(void *cookie, const char *data, size_t n)
{
	size_t room;

	if (capture_buf != NULL && capture_used + 1 < capture_size) {
		room = RTE_MIN(n, capture_size - capture_used - 1);
		memcpy(capture_buf + capture_used, data, room);
		capture_used += room;
		capture_buf[capture_used] = '\0';
	}
	n = fwrite(data, 1, n, stdout);
	fflush(stdout);
	return (ssize_t)n;
}

void
vqs_log_capture_start(char *buf, size_t size)
{
	capture_buf = buf;
	capture_size = size;
	capture_used = 0;
	if (size > 0)
		buf[0] = '\0';
}

const char *
vqs_log_capture_end(void)
{
	char *line = capture_buf, *end;

	capture_buf = NULL;
	if (line == NULL)
		return "";
	end = strchr(line, '\n');
	if (end != NULL)
		*end = '\0';
	return line;
}

void
vqs_log_init(void)
{
	static const cookie_io_functions_t io = { .write = log_write };
	FILE *f;
	unsigned int m;

	for (m = 0; m < VQS_LOG_MODULES; m++) {
		vqs_logtypes[m] = rte_log_register_type_and_pick_level(vqs_log_names[m], RTE_LOG_INFO);
		if (vqs_logtypes[m] < 0)
			vqs_logtypes[m] = RTE_LOGTYPE_USER1;
	}
	f = fopencookie(NULL, "w", io);
	if (f != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	rte_openlog_stream(f != NULL ? f : stdout);
}

static int
parse_level(const char *s)
{
	unsigned int l;
	char *end;

	for (l = RTE_LOG_EMERG; l <= RTE_LOG_DEBUG; l++)
		if (strcasecmp(s, level_names[l]) == 0)
			return (int)l;
	if (strcasecmp(s, "warn") == 0)
		return RTE_LOG_WARNING;
	l = (unsigned int)strtoul(s, &end, 10);
	return s[0] >= '0' && s[0] <= '9' && *end == '\0' && l >= RTE_LOG_EMERG &&
	       l <= RTE_LOG_DEBUG ? (int)l : -1;
}

/* Each log type as "NAME LEVEL" lines, from rte_log_dump()'s
 * "id N: NAME, level is LEVEL" (the library has no other way to list
 * names). The caller frees. */
static char *
log_types(void)
{
	char *text = NULL, *out, *line, *save;
	size_t len = 0, used = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	rte_log_dump(f);
	fclose(f);
	out = calloc(1, len + 1);
	for (line = strtok_r(text, "\n", &save); out != NULL && line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[128], level[32];

		if (sscanf(line, "id %*u: %127[^,], level is %31s", name, level) == 2)
			used += (size_t)snprintf(out + used, len + 1 - used, "%s %s\n", name, level);
	}
	free(text);
	return out;
}

int
vqs_log_set(const char *spec, struct vqs_err *e)
{
	char pattern[128], *types, *line, *save;
	const char *colon = strrchr(spec, ':');
	int level, matched = 0;

	if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof(pattern))
		return vqs_err_set(e, -EINVAL, "expected PATTERN:LEVEL, e.g. vqswitch.vhost:debug");
	level = parse_level(colon + 1);
	if (level < 0)
		return vqs_err_set(e, -EINVAL, "level '%s': expected emerg, alert, crit, err, warning, "
				   "notice, info or debug", colon + 1);
	memcpy(pattern, spec, (size_t)(colon - spec));
	pattern[colon - spec] = '\0';
	/* rte_log_set_level_pattern() says nothing of whether a type matched
	 * (and keeps the pattern for types registered later): a pattern that
	 * matches none is most likely a typo. */
	types = log_types();
	for (line = types != NULL ? strtok_r(types, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		*strchr(line, ' ') = '\0';
		matched += fnmatch(pattern, line, 0) == 0;
	}
	free(types);
	if (matched == 0)
		return vqs_err_set(e, -ENOENT, "no log type matches '%s' (vlog/list names them)", pattern);
	if (rte_log_set_level_pattern(pattern, (uint32_t)level) != 0)
		return vqs_err_set(e, -EINVAL, "pattern '%s' refused", pattern);
	return 0;
}

void
vqs_log_list(void (*fn)(void *arg, const char *name, const char *level), void *arg)
{
	char *types = log_types(), *line, *save;

	for (line = types != NULL ? strtok_r(types, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *level = strchr(line, ' ');

		*level++ = '\0';
		fn(arg, line, level);
	}
	free(types);
}
