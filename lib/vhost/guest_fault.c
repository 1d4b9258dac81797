/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Guest memory is a file its frontend owns (a memfd, a hugetlbfs file),
 * mapped by librte_vhost at SET_MEM_TABLE (and the dirty log at
 * SET_LOG_BASE). A frontend that shrinks the file afterwards makes every
 * access through the switch's mapping past the new end raise SIGBUS, in
 * whichever thread touches it: a PMD reading a ring or copying a frame,
 * the vhost-events thread inside the library. Without a handler the
 * switch dies, every guest with it.
 *
 * The handler looks the address up among the mappings of every device
 * (recorded by the vhost-events thread, the only writer, whenever the
 * library may have mapped or unmapped them: lock-free reads here, as a
 * signal handler must), maps fresh zero pages over the faulting page (the
 * mapping's page size: a hugetlbfs mapping can only be replaced whole
 * pages at a time), marks the device and returns: the access is made
 * again, on zeros. The control thread then ends that connection
 * (vqs_vhost_ctl_poll). Only that guest sees garbage, as from any buffer
 * it corrupted itself. A SIGBUS anywhere else is passed on to the handler
 * that was there before (DPDK's, while it allocates hugepages, installs
 * and removes its own around that), or the default one.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_vhost.h>

#include "guest_fault.h"
#include "vqs_vhost.h"

#define HUGETLBFS_MAGIC 0x958458f6
#define RANGES (8 + 1) /* memory regions (VHOST_MEMORY_MAX_NREGIONS), the log */

struct range {
	uintptr_t start, end; /* end 0: none; end is cleared first, set last */
	uintptr_t page;       /* the mapping's page size */
};

static struct range ranges[RTE_MAX_VHOST_DEVICE][RANGES];
static uint8_t faulted[RTE_MAX_VHOST_DEVICE];
static struct sigaction previous;

static void
pass_on(int sig, siginfo_t *si, void *ctx)
{
	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, si, ctx);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	/* The default action: the access faults again without us. */
	signal(SIGBUS, SIG_DFL);
}

static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uintptr_t a = (uintptr_t)si->si_addr, start, end, page, at;
	int saved = errno, vid, k;

	for (vid = 0; vid < RTE_MAX_VHOST_DEVICE; vid++)
		for (k = 0; k < RANGES; k++) {
			end = __atomic_load_n(&ranges[vid][k].end, __ATOMIC_ACQUIRE);
			start = __atomic_load_n(&ranges[vid][k].start, __ATOMIC_RELAXED);
			page = __atomic_load_n(&ranges[vid][k].page, __ATOMIC_RELAXED);
			if (a < start || a >= end || page == 0)
				continue;
			at = RTE_ALIGN_FLOOR(a, page);
			if (at < start || mmap((void *)at, page, PROT_READ | PROT_WRITE,
					       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				goto other;
			__atomic_store_n(&faulted[vid], 1, __ATOMIC_RELEASE);
			errno = saved;
			return;
		}
other:
	errno = saved;
	pass_on(sig, si, ctx);
}

int
vqs_guest_fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, &previous);
}

static uintptr_t
page_of(int fd)
{
	struct statfs fs;

	if (fd >= 0 && fstatfs(fd, &fs) == 0 && (uint32_t)fs.f_type == HUGETLBFS_MAGIC)
		return (uintptr_t)fs.f_bsize;
	return (uintptr_t)sysconf(_SC_PAGESIZE);
}

static void
set(int vid, int k, uintptr_t start, uintptr_t len, uintptr_t page)
{
	struct range *r = &ranges[vid][k];

	__atomic_store_n(&r->end, 0, __ATOMIC_RELEASE);
	if (len == 0)
		return;
	__atomic_store_n(&r->start, start, __ATOMIC_RELAXED);
	__atomic_store_n(&r->page, page, __ATOMIC_RELAXED);
	__atomic_store_n(&r->end, start + len, __ATOMIC_RELEASE);
}

void
vqs_guest_fault_forget(int vid)
{
	int k;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return;
	for (k = 0; k < RANGES; k++)
		set(vid, k, 0, 0, 0);
}

void
vqs_guest_fault_watch(int vid)
{
	struct rte_vhost_memory *mem = NULL;
	uint64_t log_base = 0, log_size = 0;
	uint32_t i;

	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE)
		return;
	vqs_guest_fault_forget(vid);
	if (rte_vhost_get_mem_table(vid, &mem) == 0) {
		for (i = 0; i < mem->nregions && i < RANGES - 1; i++) {
			const struct rte_vhost_mem_region *m = &mem->regions[i];

			set(vid, (int)i, (uintptr_t)m->mmap_addr, (uintptr_t)m->mmap_size, page_of(m->fd));
		}
		free(mem); /* rte_vhost_get_mem_table's malloc */
	}
	if (rte_vhost_get_log_base(vid, &log_base, &log_size) == 0 && log_base != 0)
		set(vid, RANGES - 1, (uintptr_t)log_base, (uintptr_t)log_size, page_of(-1));
}

bool
vqs_guest_fault_take(int vid)
{
	if (vid < 0 || vid >= RTE_MAX_VHOST_DEVICE ||
	    !__atomic_load_n(&faulted[vid], __ATOMIC_ACQUIRE))
		return false;
	__atomic_store_n(&faulted[vid], 0, __ATOMIC_RELAXED);
	return true;
}
