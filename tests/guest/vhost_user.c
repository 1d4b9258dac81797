/* SPDX-License-Identifier: BSD-3-Clause
 * vhost-user messages over a Unix socket, file descriptors as SCM_RIGHTS.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_user.h"

int
vhu_connect(struct vhu_conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	c->fd = -1;
	c->reply_ack = false;
	c->ack = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* A backend that stops reading must not hang a test or the fuzzer. */
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){.tv_sec = 5}, sizeof(struct timeval));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int err = -errno;

		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

void
vhu_close(struct vhu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int
vhu_send_bytes(struct vhu_conn *c, const void *data, size_t len, const int *fds, int nfds)
{
	char control[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
	struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds > VHU_MAX_FDS)
		return -1;
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	while (iov.iov_len > 0) {
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		/* descriptors go with the first byte only */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		iov.iov_base = (char *)iov.iov_base + n;
		iov.iov_len -= n;
	}
	return 0;
}

bool
vhu_has_reply(uint32_t request)
{
	switch (request) {
	case VHU_GET_FEATURES:
	case VHU_SET_LOG_BASE: /* librte_vhost answers it */
	case VHU_GET_VRING_BASE:
	case VHU_GET_PROTOCOL_FEATURES:
	case VHU_GET_QUEUE_NUM:
	case VHU_POSTCOPY_ADVISE:
	case 24: /* GET_CONFIG */
	case 30: /* POSTCOPY_END */
	case 31: /* GET_INFLIGHT_FD */
	case 36: /* GET_MAX_MEM_SLOTS */
	case 40: /* GET_STATUS */
		return true;
	default:
		return false;
	}
}

static int read_ack(struct vhu_conn *c, uint32_t request);

int
vhu_send(struct vhu_conn *c, uint32_t request, const void *payload, uint32_t size,
	 const int *fds, int nfds)
{
	struct vhu_msg msg = {.request = request, .flags = VHU_VERSION, .size = size};
	bool ack = c->reply_ack && !vhu_has_reply(request);

	if (size > sizeof(msg.payload))
		return -1;
	if (size > 0)
		memcpy(&msg.payload, payload, size);
	if (ack)
		msg.flags |= VHU_FLAG_NEED_REPLY;
	if (vhu_send_bytes(c, &msg, VHU_HDR_SIZE + size, fds, nfds) != 0)
		return -1;
	return ack ? read_ack(c, request) : 0;
}

static int
read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

int
vhu_recv_reply(struct vhu_conn *c, uint32_t request, struct vhu_msg *msg, int timeout_ms)
{
	if (read_full(c->fd, msg, VHU_HDR_SIZE, timeout_ms) != 0)
		return -1;
	if (msg->request != request || !(msg->flags & VHU_FLAG_REPLY) ||
	    msg->size > sizeof(msg->payload))
		return -1;
	return read_full(c->fd, &msg->payload, msg->size, timeout_ms);
}

/* The backend's u64 answer to a NEED_REPLY: 0 if it says success. */
static int
read_ack(struct vhu_conn *c, uint32_t request)
{
	struct vhu_msg msg;

	c->ack = -1;
	if (vhu_recv_reply(c, request, &msg, 1000) != 0 || msg.size != sizeof(uint64_t))
		return -1;
	c->ack = (int64_t)msg.payload.u64;
	return c->ack == 0 ? 0 : -1;
}

int
vhu_get_u64(struct vhu_conn *c, uint32_t request, uint64_t *out)
{
	struct vhu_msg msg;

	/* A backend always answers these; 10 s: one that is slow to (its
	 * vhost-events thread waiting out a grace period for a descheduled
	 * PMD, under ASan, on a loaded machine) is not one that does not. */
	if (vhu_send(c, request, NULL, 0, NULL, 0) != 0 ||
	    vhu_recv_reply(c, request, &msg, 10000) != 0 || msg.size != sizeof(uint64_t))
		return -1;
	*out = msg.payload.u64;
	return 0;
}

int
vhu_set_u64(struct vhu_conn *c, uint32_t request, uint64_t value)
{
	return vhu_send(c, request, &value, sizeof(value), NULL, 0);
}

int
vhu_set_state(struct vhu_conn *c, uint32_t request, uint32_t index, uint32_t num)
{
	uint32_t state[2] = {index, num};

	return vhu_send(c, request, state, sizeof(state), NULL, 0);
}

bool
vhu_peer_closed(struct vhu_conn *c, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	char byte;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return false;
	return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}
