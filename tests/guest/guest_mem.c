/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest_mem.h"

int
gmem_init(struct gmem *m, uint64_t size)
{
	m->fd = memfd_create("vqguest", MFD_CLOEXEC);
	if (m->fd < 0)
		return -1;
	/* Pages are only allocated when touched, by us or by the switch. */
	if (ftruncate(m->fd, (off_t)size) != 0) {
		close(m->fd);
		return -1;
	}
	m->va = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->va == MAP_FAILED) {
		close(m->fd);
		return -1;
	}
	m->size = size;
	m->next = 0;
	m->top = size;
	return 0;
}

void
gmem_fini(struct gmem *m)
{
	if (m->va != NULL && m->va != MAP_FAILED)
		munmap(m->va, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->va = NULL;
	m->fd = -1;
}

uint64_t
gmem_alloc(struct gmem *m, uint64_t size, uint64_t align)
{
	uint64_t off = (m->next + align - 1) & ~(align - 1);

	if (size > m->top || off > m->top - size)
		return 0;
	m->next = off + size;
	memset(m->va + off, 0, size);
	return GMEM_BASE + off;
}

uint64_t
gmem_alloc_top(struct gmem *m, uint64_t size, uint64_t align)
{
	uint64_t off;

	if (size > m->top)
		return 0;
	off = (m->top - size) & ~(align - 1);
	if (off < m->next)
		return 0;
	m->top = off;
	memset(m->va + off, 0, size);
	return GMEM_BASE + off;
}

void *
gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < GMEM_BASE || gpa - GMEM_BASE > m->size || len > m->size - (gpa - GMEM_BASE))
		return NULL;
	return m->va + (gpa - GMEM_BASE);
}

uint64_t
gmem_uaddr(const struct gmem *m, uint64_t gpa)
{
	return (uint64_t)(uintptr_t)m->va + (gpa - GMEM_BASE);
}
