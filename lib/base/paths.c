/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bsd/string.h>

#include "paths.h"

int
vqs_dir_make(const char *dir, gid_t gid, mode_t mode, char *err, size_t len)
{
	struct stat st;

	if (mkdir(dir, mode) == 0) {
		/* Our own new directory: lchown cannot be misled here, and the
		 * mode is set again because mkdir applies the umask. */
		if (lchown(dir, 0, gid) != 0 || chmod(dir, mode) != 0) {
			snprintf(err, len, "cannot set owner and mode of %s: %s", dir,
				 strerror(errno));
			return -errno;
		}
		return 0;
	}
	if (errno != EEXIST) {
		snprintf(err, len, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, len, "%s exists and is not a directory", dir);
		return -ENOTDIR;
	}
	return 0;
}

/* 0 if a process accepts connections on the socket at path. */
static int
socket_listening(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Non-blocking: a listener with a full backlog answers EAGAIN, which
	 * is still a listener. */
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN ? 0 : -errno;
	close(fd);
	return rc;
}

int
vqs_socket_clear_stale(const char *path, char *err, size_t len)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	if (socket_listening(path) == 0) {
		snprintf(err, len, "%s is in use: a process accepts connections on it", path);
		return -EADDRINUSE;
	}
	unlink(path); /* left by a run that did not end cleanly */
	return 0;
}

int
vqs_socket_chown(const char *path, gid_t gid, char *err, size_t len)
{
	struct stat st;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "%s is not the socket just created", path);
		return -EEXIST;
	}
	if (lchown(path, 0, gid) != 0) {
		snprintf(err, len, "cannot set the owner of %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int
vqs_path_normalize(const char *path, char *out, size_t len)
{
	size_t o = 0;
	const char *p = path;

	if (path[0] != '/' || len < 2)
		return -EINVAL;
	while (*p != '\0') {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EINVAL;
		if (o + 1 + n >= len)
			return -ENAMETOOLONG;
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* dir, with its links resolved where it exists, else its normal form. */
static void
dir_resolved(const char *dir, char *out)
{
	char tmp[PATH_MAX];

	if (realpath(dir, tmp) == NULL || strlcpy(out, tmp, PATH_MAX) >= PATH_MAX)
		if (vqs_path_normalize(dir, out, PATH_MAX) != 0)
			out[0] = '\0';
}

bool
vqs_path_in_dir(const char *path, const char *dir)
{
	char parent[PATH_MAX], want[PATH_MAX], got[PATH_MAX];
	char *slash;

	if (vqs_path_normalize(path, parent, sizeof(parent)) != 0)
		return false;
	slash = strrchr(parent, '/');
	if (slash[1] == '\0')
		return false; /* "/" itself */
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	dir_resolved(dir, want);
	dir_resolved(parent, got);
	return want[0] != '\0' && strcmp(want, got) == 0;
}

int
vqs_instance_lock(const char *dir, char *err, size_t len)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, VQS_LOCK_FILE_NAME);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, len, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, len,
			 "another vqswitch (pid %s) uses the socket directory %s; stop it or give this one another --socket-dir",
			 pid[0] != '\0' ? pid : "?", dir);
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
