/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE /* accept4, struct ucred */
#define VQS_LOG_MODULE VQS_LOG_CTL

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
#include "json.h"
#include "paths.h"
#include "ratelimit.h"
#include "server.h"
#include "vqs_ctl.h"
#include "vqs_switch.h"

struct client {
	int fd;
	uint64_t since_ms;  /* connected, or last replied to */
	char who[64];       /* "uid U gid G pid P", for the log */
	size_t len;
	char in[VQS_CTL_MAX_REQUEST + 1];
};

struct vqs_ctl_server {
	int fd;
	gid_t gid;
	char path[VQS_PATH_MAX];
	struct client clients[VQS_CTL_MAX_CLIENTS];
};

struct vqs_ctl_server *
vqs_ctl_server_open(const char *path, gid_t gid, struct vqs_err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vqs_ctl_server *s;
	mode_t old_mask;
	int i, rc;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path)) {
		vqs_err_set(e, -ENAMETOOLONG, "control socket path too long: %s", path);
		return NULL;
	}
	if (vqs_socket_clear_stale(path, e->msg, sizeof(e->msg)) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		vqs_err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->gid = gid;
	strlcpy(s->path, path, sizeof(s->path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	/* Created with its final mode: no moment in which others may connect.
	 * The umask is the process's; nothing else creates files meanwhile
	 * (vhost-user sockets are bound on this thread too). */
	old_mask = umask(gid != 0 ? 0117 : 0177);
	rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0)
		goto fail;
	if (vqs_socket_chown(path, gid, e->msg, sizeof(e->msg)) != 0 || listen(s->fd, 16) != 0) {
		close(s->fd);
		unlink(path);
		free(s);
		return NULL;
	}
	return s;
fail:
	vqs_err_set(e, -errno, "control socket %s: %s", path, strerror(errno));
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return NULL;
}

static void
client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Replies go out whole within VQS_CTL_SEND_MS or the client is dropped:
 * a client that does not read must not stall the control thread. */
static void
client_send(struct client *c, const char *s, size_t len)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
	uint64_t deadline = vqs_now_ms() + VQS_CTL_SEND_MS, now;
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
		now = vqs_now_ms();
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
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
reply_ok(struct client *c, const struct vqs_ctl_reply *r)
{
	struct vqs_buf b = { 0 };

	/* With "format": "json" the answer is a JSON value of its own (none
	 * when the command has nothing to say); text is a string. */
	vqs_buf_printf(&b, "{\"ok\":true");
	if (!r->json) {
		vqs_buf_printf(&b, ",\"output\":");
		vqs_buf_json_str(&b, vqs_buf_str(&r->out));
	} else if (r->out.len > 0) {
		vqs_buf_printf(&b, ",\"output\":%s", vqs_buf_str(&r->out));
	}
	if (r->warning[0] != '\0') {
		vqs_buf_printf(&b, ",\"warning\":");
		vqs_buf_json_str(&b, r->warning);
	}
	if (r->unsaved)
		vqs_buf_printf(&b, ",\"unsaved\":true");
	vqs_buf_printf(&b, "}\n");
	if (b.oom)
		reply_error(c, "reply too large");
	else
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
		if (vqs_ctl_exec(sw, argv->n, words, c->who, &r) != 0)
			reply_error(c, r.err.msg);
		else
			reply_ok(c, &r);
	}
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
		c->since_ms = vqs_now_ms();
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

/* Root, or a peer whose group or supplementary groups (as the process
 * had them when it connected: SO_PEERGROUPS) include gid. */
static bool
peer_allowed(int fd, const struct ucred *cr, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	unsigned int i;

	if (cr->uid == 0)
		return true;
	if (gid == 0)
		return false;
	if (cr->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* A slot for a new client: a free one, else the one idle the longest. */
static struct client *
client_slot(struct vqs_ctl_server *s)
{
	struct client *oldest = &s->clients[0];
	int i;

	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++) {
		if (s->clients[i].fd < 0)
			return &s->clients[i];
		if (s->clients[i].since_ms < oldest->since_ms)
			oldest = &s->clients[i];
	}
	reply_error(oldest, "closed: too many control clients, this one waited longest");
	if (oldest->fd >= 0)
		client_close(oldest);
	return oldest;
}

static void
client_accept(struct vqs_ctl_server *s)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct client *c, tmp = { .fd = -1 };
	int fd;

	fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || !peer_allowed(fd, &cr, s->gid)) {
		VQS_LOG_RL(&rl, WARNING, "control socket: refused uid %u gid %u pid %d: not root or in the control group",
			   (unsigned int)cr.uid, (unsigned int)cr.gid, (int)cr.pid);
		tmp.fd = fd;
		reply_error(&tmp, "permission denied: only root and the control group may use this socket");
		if (tmp.fd >= 0)
			close(fd);
		return;
	}
	c = client_slot(s);
	c->fd = fd;
	c->len = 0;
	c->since_ms = vqs_now_ms();
	snprintf(c->who, sizeof(c->who), "uid %u gid %u pid %d", (unsigned int)cr.uid,
		 (unsigned int)cr.gid, (int)cr.pid);
}

void
vqs_ctl_server_poll(struct vqs_ctl_server *s, struct vqs_switch *sw, int timeout_ms)
{
	struct pollfd pfd[VQS_CTL_MAX_CLIENTS + 1];
	int map[VQS_CTL_MAX_CLIENTS + 1];
	uint64_t now;
	int n = 0, i;

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
	if (poll(pfd, (nfds_t)n, timeout_ms) > 0) {
		for (i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				client_read(&s->clients[map[i]], sw);
		if (pfd[0].revents & POLLIN)
			client_accept(s);
	}
	now = vqs_now_ms();
	for (i = 0; i < VQS_CTL_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && now - s->clients[i].since_ms > VQS_CTL_CLIENT_IDLE_MS)
			client_close(&s->clients[i]);
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
