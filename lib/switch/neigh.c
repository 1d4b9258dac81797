/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "neigh.h"

#define NEIGH_KNOWN (1ull << 48)

uint64_t
vqs_neigh_pack(const struct rte_ether_addr *a)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v |= (uint64_t)a->addr_bytes[i] << (8 * i);
	return v | NEIGH_KNOWN;
}

void
vqs_neigh_unpack(uint64_t v, struct rte_ether_addr *a)
{
	unsigned int i;

	for (i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		a->addr_bytes[i] = (uint8_t)(v >> (8 * i));
}

void
vqs_neigh_sync_begin(struct vqs_neigh_table *t)
{
	unsigned int i;

	for (i = 0; i < VQS_NEIGH_MAX; i++)
		t->e[i].wanted = false;
}

int
vqs_neigh_want(struct vqs_neigh_table *t, uint16_t slot, uint32_t ip)
{
	int i, free_i = -1;

	for (i = 0; i < VQS_NEIGH_MAX; i++) {
		struct vqs_neigh *n = &t->e[i];

		if (n->ip == ip && n->slot == slot) {
			n->wanted = true;
			return i;
		}
		if (n->ip == 0 && free_i < 0)
			free_i = i;
	}
	if (free_i < 0)
		return -1;
	/* Free: no snapshot names it, no PMD reads it. */
	memset(&t->e[free_i], 0, sizeof(t->e[free_i]));
	t->e[free_i].ip = ip;
	t->e[free_i].slot = slot;
	t->e[free_i].wanted = true;
	return free_i;
}

void
vqs_neigh_sync_end(struct vqs_neigh_table *t)
{
	unsigned int i;

	for (i = 0; i < VQS_NEIGH_MAX; i++)
		if (!t->e[i].wanted)
			t->e[i].ip = 0;
}

bool
vqs_neigh_get(struct vqs_neigh *n, uint64_t now, uint64_t hz, struct rte_ether_addr *mac,
	      bool *refresh)
{
	uint64_t v = __atomic_load_n(&n->mac, __ATOMIC_RELAXED);
	uint64_t age = now - __atomic_load_n(&n->seen_tsc, __ATOMIC_RELAXED);

	*refresh = true;
	if (!(v & NEIGH_KNOWN) || age > VQS_NEIGH_AGE_S * hz)
		return false;
	*refresh = age > VQS_NEIGH_REFRESH_S * hz;
	vqs_neigh_unpack(v, mac);
	return true;
}

bool
vqs_neigh_learn(struct vqs_neigh_table *t, uint16_t slot, uint32_t ip,
		const struct rte_ether_addr *mac, uint64_t now)
{
	unsigned int i;

	if (!rte_is_valid_assigned_ether_addr(mac))
		return false;
	for (i = 0; i < VQS_NEIGH_MAX; i++) {
		struct vqs_neigh *n = &t->e[i];

		/* ip and slot change only while no snapshot names the entry,
		 * and this PMD's snapshot names every entry it can match. */
		if (__atomic_load_n(&n->ip, __ATOMIC_RELAXED) == ip && n->slot == slot) {
			__atomic_store_n(&n->seen_tsc, now, __ATOMIC_RELAXED);
			__atomic_store_n(&n->mac, vqs_neigh_pack(mac), __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

bool
vqs_neigh_may_ask(struct vqs_neigh *n, uint64_t now, uint64_t hz)
{
	uint64_t last = __atomic_load_n(&n->asked_tsc, __ATOMIC_RELAXED);

	if (last != 0 && now - last < VQS_NEIGH_RETRY_MS * hz / 1000)
		return false;
	if (!__atomic_compare_exchange_n(&n->asked_tsc, &last, now, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return false; /* another PMD asks */
	__atomic_fetch_add(&n->requests, 1, __ATOMIC_RELAXED);
	return true;
}

unsigned int
vqs_neigh_flush(struct vqs_neigh_table *t)
{
	unsigned int i, n = 0;

	for (i = 0; i < VQS_NEIGH_MAX; i++)
		if (__atomic_exchange_n(&t->e[i].mac, 0, __ATOMIC_RELAXED) != 0)
			n++;
	return n;
}
