/* SPDX-License-Identifier: BSD-3-Clause
 * System calls the switch never needs, and that a guest could make it use
 * against itself, made to fail (a seccomp filter).
 */
#ifndef VQS_SYSCALL_FILTER_H
#define VQS_SYSCALL_FILTER_H

#include <stddef.h>

/* Installs the filter for the calling thread and every thread it starts
 * later (call it before rte_eal_init). 0, or -1 with err set: the switch
 * runs without it (the message guard still refuses postcopy). */
int vqs_syscall_filter_install(char *err, size_t len);

#endif
