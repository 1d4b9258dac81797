/* SPDX-License-Identifier: BSD-3-Clause
 *
 * userfaultfd(2) fails with EPERM. librte_vhost opens one when a guest
 * sends POSTCOPY_ADVISE, hands it to the guest and keeps it (one more for
 * each repeated ADVISE: they leak); guest memory registered with it would
 * make any thread that touches a page the guest never wrote wait until the
 * guest serves the fault. The switch does not offer postcopy migration, so
 * it needs none: ADVISE then fails inside the library, which closes the
 * connection. Everything else is allowed; on another architecture than
 * the one built for, the filter allows all (a 32-bit call table would
 * give the number another meaning).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "syscall_filter.h"

#if defined(__x86_64__)
#define ARCH_NR AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NR AUDIT_ARCH_AARCH64
#endif

int
vqs_syscall_filter_install(char *err, size_t len)
{
#if defined(ARCH_NR) && defined(__NR_userfaultfd)
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_NR, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_userfaultfd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	/* Needed without CAP_SYS_ADMIN; the switch never executes anything
	 * that would gain privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		snprintf(err, len, "cannot install the system call filter: %s", strerror(errno));
		return -1;
	}
	return 0;
#else
	snprintf(err, len, "no system call filter for this architecture");
	return -1;
#endif
}
