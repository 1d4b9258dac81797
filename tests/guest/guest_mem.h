/* SPDX-License-Identifier: BSD-3-Clause
 * The test guest's "physical" memory: one memfd shared with the switch,
 * handed over in SET_MEM_TABLE. Guest addresses start at GMEM_BASE (not 0,
 * so that a backend mixing up guest and host addresses fails loudly).
 * Allocation only grows; a guest lives for one connection.
 */
#ifndef VQG_GUEST_MEM_H
#define VQG_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GMEM_BASE 0x40000000ULL

struct gmem {
	int fd;
	uint8_t *va;
	uint64_t size;
	uint64_t next; /* offset of the next free byte */
	uint64_t top;  /* offset of the lowest byte taken from the end */
};

int gmem_init(struct gmem *m, uint64_t size);
void gmem_fini(struct gmem *m);
/* A zeroed block in guest memory; its guest address, or 0 when full. */
uint64_t gmem_alloc(struct gmem *m, uint64_t size, uint64_t align);
/* The same, taken from the end of the memory down (rings a test wants
 * next to the end): its last byte as close to the end as align allows. */
uint64_t gmem_alloc_top(struct gmem *m, uint64_t size, uint64_t align);
/* Host pointer for a guest address inside the memory (NULL if outside). */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);
/* The address the switch must use for rings (our own virtual address). */
uint64_t gmem_uaddr(const struct gmem *m, uint64_t gpa);

#endif
