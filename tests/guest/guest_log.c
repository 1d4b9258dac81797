/* SPDX-License-Identifier: BSD-3-Clause
 * Dirty-page logging as a migrating QEMU drives it (guest_log.h). The log
 * is one bit per 4 KiB page of guest-physical memory, from address 0 to
 * the end of ours (GMEM_BASE + size), in a memfd shared with the switch.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest.h"
#include "guest_log.h"

struct guest_log {
	int fd;
	uint8_t *bits;
	uint64_t size;
	uint8_t *snap; /* guest memory at the last snapshot */
};

static int
fail(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s", what);
	return -1;
}

static void
log_unmap(struct guest_log *l)
{
	if (l->bits != NULL)
		munmap(l->bits, l->size);
	if (l->fd >= 0)
		close(l->fd);
	l->bits = NULL;
	l->fd = -1;
}

/* A fresh log handed to the switch; its reply read (the library always
 * answers SET_LOG_BASE, with an empty payload). Sealed as QEMU seals its
 * log (a file that can neither grow nor shrink), unless told not to. */
static int
log_base(struct guest *g, uint64_t offset, bool sealed, char *err, size_t len)
{
	struct guest_log *l = g->log;
	uint64_t payload[2];
	struct vhu_msg reply;

	log_unmap(l);
	l->size = (GMEM_BASE + g->mem.size) / GUEST_LOG_PAGE / 8;
	l->fd = memfd_create("vqguest-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (l->fd < 0 || ftruncate(l->fd, (off_t)(l->size + offset)) != 0 ||
	    (sealed && fcntl(l->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0))
		return fail(err, len, "log memfd");
	l->bits = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, (off_t)offset);
	if (l->bits == MAP_FAILED) {
		l->bits = NULL;
		return fail(err, len, "log mmap");
	}
	payload[0] = l->size;
	payload[1] = offset; /* QEMU's is always 0 */
	if (vhu_send(&g->conn, VHU_SET_LOG_BASE, payload, sizeof(payload), &l->fd, 1) != 0 ||
	    vhu_recv_reply(&g->conn, VHU_SET_LOG_BASE, &reply, 2000) != 0)
		return fail(err, len, "SET_LOG_BASE: no reply");
	return 0;
}

/* Every vring's addresses again, with or without the log address (the
 * device area, as QEMU gives a ring's used_phys). */
static int
vrings_log(struct guest *g, bool on, char *err, size_t len)
{
	struct vhu_vring_addr a;
	uint16_t i;

	for (i = 0; i < g->nr_vq; i++) {
		guest_vring_addr(g, i, &a);
		if (on) {
			a.flags = 1u << VHU_VRING_F_LOG;
			a.log_guest_addr = g->vq[i].q.device_gpa;
		}
		if (vhu_send(&g->conn, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) != 0)
			return fail(err, len, "SET_VRING_ADDR");
	}
	return 0;
}

int
guest_log_start(struct guest *g, uint64_t offset, bool sealed, char *err, size_t len)
{
	if (!(g->offered >> VHU_F_LOG_ALL & 1))
		return fail(err, len, "the switch does not offer VHOST_F_LOG_ALL");
	if (g->log == NULL) {
		g->log = calloc(1, sizeof(*g->log));
		if (g->log == NULL)
			return fail(err, len, "out of memory");
		g->log->fd = -1;
	}
	g->features |= 1ULL << VHU_F_LOG_ALL;
	if (vhu_set_u64(&g->conn, VHU_SET_FEATURES, g->features) != 0)
		return fail(err, len, "SET_FEATURES with LOG_ALL");
	if (log_base(g, offset, sealed, err, len) != 0)
		return -1;
	return vrings_log(g, true, err, len);
}

int
guest_log_new_base(struct guest *g, char *err, size_t len)
{
	if (g->log == NULL)
		return fail(err, len, "logging is not on");
	return log_base(g, 0, true, err, len);
}

int
guest_log_stop(struct guest *g, char *err, size_t len)
{
	g->features &= ~(1ULL << VHU_F_LOG_ALL);
	if (vhu_set_u64(&g->conn, VHU_SET_FEATURES, g->features) != 0)
		return fail(err, len, "SET_FEATURES without LOG_ALL");
	return vrings_log(g, false, err, len);
}

int
guest_log_snapshot(struct guest *g, char *err, size_t len)
{
	struct guest_log *l = g->log;

	if (l == NULL || l->bits == NULL)
		return fail(err, len, "logging is not on");
	if (l->snap == NULL && (l->snap = malloc(g->mem.size)) == NULL)
		return fail(err, len, "out of memory");
	memset(l->bits, 0, l->size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	memcpy(l->snap, g->mem.va, g->mem.size);
	return 0;
}

static bool
logged(const struct guest_log *l, uint64_t gpa)
{
	uint64_t page = gpa / GUEST_LOG_PAGE;

	return page / 8 < l->size && (__atomic_load_n(&l->bits[page / 8], __ATOMIC_RELAXED) >> (page % 8) & 1);
}

/* Whether [off, off + n) of guest memory holds device-only areas. */
static bool
device_area(const struct guest *g, uint64_t off, uint64_t n, uint64_t *from, uint64_t *to)
{
	uint16_t i;

	for (i = 0; i < g->nr_vq; i++) {
		const struct virtq *q = &g->vq[i].q;
		uint64_t start = q->packed ? q->desc_gpa : q->device_gpa;
		uint64_t size = q->packed ? 16ULL * q->size : 4 + 8ULL * q->size + 2;

		start -= GMEM_BASE;
		if (start < off + n && start + size > off) {
			*from = start > off ? start : off;
			*to = start + size < off + n ? start + size : off + n;
			return true;
		}
	}
	return false;
}

long
guest_log_check(struct guest *g, bool all, char *out, size_t len)
{
	struct guest_log *l = g->log;
	uint64_t off, changed = 0, marked = 0, missing = 0, first = 0, from, to;

	if (l == NULL || l->snap == NULL) {
		snprintf(out, len, "no snapshot");
		return -1;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (off = 0; off < g->mem.size; off += GUEST_LOG_PAGE) {
		uint64_t n = g->mem.size - off < GUEST_LOG_PAGE ? g->mem.size - off : GUEST_LOG_PAGE;
		bool c;

		if (all)
			c = memcmp(l->snap + off, g->mem.va + off, n) != 0;
		else
			c = device_area(g, off, n, &from, &to) &&
			    memcmp(l->snap + from, g->mem.va + from, to - from) != 0;
		if (!c)
			continue;
		changed++;
		if (logged(l, GMEM_BASE + off)) {
			marked++;
		} else if (missing++ == 0) {
			first = GMEM_BASE + off;
		}
	}
	snprintf(out, len, "changed=%llu logged=%llu missing=%llu first_missing=0x%llx",
		 (unsigned long long)changed, (unsigned long long)marked,
		 (unsigned long long)missing, (unsigned long long)first);
	return (long)missing;
}

void
guest_log_free(struct guest *g)
{
	if (g->log == NULL)
		return;
	log_unmap(g->log);
	free(g->log->snap);
	free(g->log);
	g->log = NULL;
}
