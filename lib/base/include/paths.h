/* SPDX-License-Identifier: BSD-3-Clause
 * Files root creates for other users: directories, Unix sockets and the
 * instance lock. Everything here refuses to follow a link an untrusted
 * user could have planted, changes the owner or mode only of what it
 * created itself, and never removes a socket that still has a listener.
 */
#ifndef VQS_PATHS_H
#define VQS_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VQS_LOCK_FILE_NAME "vqswitch.lock"

/* Creates dir with owner root:gid and mode if it does not exist; an
 * existing directory is used as it is. Returns 0 or a negative errno with
 * err set. */
int vqs_dir_make(const char *dir, gid_t gid, mode_t mode, char *err, size_t len);

/* Makes way for a server socket at path: nothing there, or a socket that
 * no process listens on any more (removed). -EEXIST for anything that is
 * not a socket, -EADDRINUSE for a socket that accepts connections. */
int vqs_socket_clear_stale(const char *path, char *err, size_t len);

/* Gives the socket we just bound at path to root:gid without following a
 * link; refuses anything that is not a socket. */
int vqs_socket_chown(const char *path, gid_t gid, char *err, size_t len);

/* Lexical normal form of an absolute path: no "//", "/./" or trailing
 * "/"; "/../" is refused. -EINVAL if path is not absolute or has "..". */
int vqs_path_normalize(const char *path, char *out, size_t len);

/* True if path (normal form) names an entry directly inside dir, also
 * after resolving the links of both directories where they exist. */
bool vqs_path_in_dir(const char *path, const char *dir);

/*
 * One instance per socket directory: an exclusive flock() on
 * dir/vqswitch.lock, which holds the owner's pid. Returns the locked fd
 * (kept open for the life of the process; the lock goes with it), or -1
 * with err saying who holds it. The file is never removed: removing a
 * locked file would let two instances lock two different files.
 */
int vqs_instance_lock(const char *dir, char *err, size_t len);

#endif
