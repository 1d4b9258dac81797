/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "buf.h"
#include "ctl.h"
#include "ctl_server.h"
#include "json.h"
#include "switch.h"

struct client {
	int fd;
	size_t len;
	char in[VQS_CTL_MAX_REQUEST + 1];
};

struct vqs_ctl_server {
	int fd;
	char path[VQS_PATH_MAX];
	struct client clients[VQS_CTL_MAX_CLIENTS];
};

struct vqs_ctl_server *
vqs_ctl_server_open(const char *path, gid_t gid, struct vqs_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vqs_ctl_server *s;
	struct stat st;
	int i;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
		vqs_err_set(e, -ENAMETOOLONG, "control socket path too long: %s", path);
		return NULL;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			vqs_err_set(e, -EEXIST, "%s exists and is not a socket", path);
			return NULL;
		}
		unlink(path); /* left by an earlier run */
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		vqs_err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	strlcpy(s->path, path, sizeof(s->path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* The umask (0117) makes the socket 0660 from the start. */
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chown(path, 0, gid) != 0 || chmod(path, 0660) != 0 || listen(s->fd, 16) != 0) {
		vqs_err_set(e, -errno, "control socket %s: %s", path, strerror(errno));
		if (s->fd >= 0)
			close(s->fd);
		unlink(path);
		free(s);
		return NULL;
	}
	return s;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Replies go out whole or the client is dropped: a client that does not
 * read must not stall the control thread for more than the timeout. */
static void
client_send(struct client *c, const char *s, size_t len)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			break;
		if (poll(&pfd, 1, 2000) <= 0)
			break;
	}
	if (len > 0)
		client_close(c);
}

static void
reply_error(struct client *c, const char *msg)
{
	struct vqs_buf b = { 0 };

	vqs_buf_printf(&b, "{\"ok\":false,\"error\":");
	vqs_buf_json_str(&b, msg);
	vqs_buf_printf(&b, "}\n");
	client_send(c, vqs_buf_str(&b), b.len);
	vqs_buf_free(&b);
}

static void
handle_request(struct client *c, struct vqs_switch *sw, const char *line)
{
	struct vqs_ctl_reply r = { .json = false };
	const struct vqs_json_field *argv, *fmt;
	struct vqs_json_obj o;
	struct vqs_err e;
	struct vqs_buf b = { 0 };
	char *words[VQS_JSON_MAX_ARRAY];
	int i;

	if (vqs_json_parse(line, &o, &e) != 0) {
		reply_error(c, e.msg);
		vqs_json_free(&o);
		return;
	}
	argv = vqs_json_get(&o, "argv", VQS_JSON_ARRAY);
	fmt = vqs_json_get(&o, "format", VQS_JSON_STR);
	if (argv == NULL || argv->n == 0) {
		reply_error(c, "request needs \"argv\": a non-empty array of strings");
	} else if (fmt != NULL && strcmp(fmt->str, "json") != 0 && strcmp(fmt->str, "text") != 0) {
		reply_error(c, "\"format\" is \"text\" or \"json\"");
	} else {
		for (i = 0; i < argv->n; i++)
			words[i] = argv->arr[i];
		r.json = fmt != NULL && strcmp(fmt->str, "json") == 0;
		if (vqs_ctl_exec(sw, argv->n, words, &r) != 0) {
			reply_error(c, r.err.msg);
		} else {
			vqs_buf_printf(&b, "{\"ok\":true,\"output\":");
			vqs_buf_json_str(&b, vqs_buf_str(&r.out));
			vqs_buf_printf(&b, "}\n");
			if (b.oom)
				reply_error(c, "reply too large");
			else
				client_send(c, vqs_buf_str(&b), b.len);
		}
	}
	vqs_buf_free(&b);
	vqs_buf_free(&r.out);
	vqs_json_free(&o);
}

static void
client_read(struct client *c, struct vqs_switch *sw)
{
	char *nl;
	ssize_t n;

	n = recv(c->fd, c->in + c->len, VQS_CTL_MAX_REQUEST - c->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c);
		return;
	}
	if (n < 0)
		return;
	c->len += (size_t)n;
	c->in[c->len] = '\0';
	while (c->fd >= 0 && (nl = memchr(c->in, '\n', c->len)) != NULL) {
		size_t used = (size_t)(nl - c->in) + 1;

		*nl = '\0';
		if (strlen(c->in) != used - 1)
			reply_error(c, "request contains a NUL byte");
		else
			handle_request(c, sw, c->in);
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + used, c->len - used);
		c->len -= used;
		c->in[c->len] = '\0';
	}
	if (c->len == VQS_CTL_MAX_REQUEST) {
		char msg[64];

		snprintf(msg, sizeof(msg), "request larger than %d bytes", VQS_CTL_MAX_REQUEST);
		reply_error(c, msg);
		if (c->fd >= 0)
			client_close(c);
	}
}

void
vqs_ctl_server_poll(struct vqs_ctl_server *s, struct vqs_switch *sw, int timeout_ms)
{
	struct pollfd pfd[VQS_CTL_MAX_CLIENTS + 1];
	int map[VQS_CTL_MAX_CLIENTS + 1];
	int n = 0, i, fd;

	pfd[n].fd = s->fd;
	pfd[n].events = POLLIN;
	map[n++] = -1;
	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0)
			continue;
		pfd[n].fd = s->clients[i].fd;
		pfd[n].events = POLLIN;
		map[n++] = i;
	}
	if (poll(pfd, (nfds_t)n, timeout_ms) <= 0)
		return;
	for (i = 1; i < n; i++)
		if (pfd[i].revents != 0)
			client_read(&s->clients[map[i]], sw);
	if (pfd[0].revents & POLLIN) {
		fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < VQS_CTL_MAX_CLIENTS && s->clients[i].fd >= 0; i++)
			;
		if (i == VQS_CTL_MAX_CLIENTS) {
			struct client busy = { .fd = fd };

			reply_error(&busy, "too many control clients");
			if (busy.fd >= 0)
				close(fd);
			return;
		}
		s->clients[i].fd = fd;
		s->clients[i].len = 0;
	}
}

void
vqs_ctl_server_close(struct vqs_ctl_server *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			close(s->clients[i].fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}
