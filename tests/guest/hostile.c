/* SPDX-License-Identifier: BSD-3-Clause
 * Bad descriptors and bad vhost-user messages, each one case by name.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

#define NEXT VRING_DESC_F_NEXT
#define WRITE VRING_DESC_F_WRITE
#define INDIRECT VRING_DESC_F_INDIRECT

const char *const hostile_desc_kinds[] = {
	"addr_oob", "addr_wrap", "len_zero", "len_past", "loop", "chain_long", "next_oob",
	"indirect_nested", "indirect_len", "indirect_oob", "indirect_loop", "indirect_huge",
	"hdr_short", "avail_jump", "head_oob", "head_twice", "untouched", "rx_readonly", "rx_oob", "rx_tiny", "rx_zero",
	NULL};

const char *const hostile_msg_kinds[] = {
	"unknown_request", "size_too_big", "size_too_small", "size_zero", "fds_missing",
	"fds_extra", "fds_on_get", "mem_nregions", "mem_zero_size", "mem_huge", "mem_no_cover", "mem_eventfd",
	"vring_index", "vring_num_odd", "vring_num_zero", "vring_addr", "vring_base_big",
	"kick_nofd", "call_index", "call_pipe", "features_change", "reset_owner", "log_base", "garbage",
	"truncated_header", "truncated_payload", NULL};

void
hostile_raw(struct guest *g, uint16_t i, const struct raw_desc *d, int n,
	    const uint16_t *head_idx, int heads, uint16_t avail_bump)
{
	struct virtq *q = &g->vq[i].q;
	int k;

	if (q->packed) {
		uint16_t slot = q->next_avail, head = slot, head_flags = 0;
		bool wrap = q->avail_wrap;

		for (k = 0; k < n && k < q->size; k++) {
			struct vring_packed_desc pd = {.addr = d[k].addr, .len = d[k].len,
						       .id = d[k].next, .flags = d[k].flags};
			uint16_t f = packed_put(q, &slot, &wrap, &pd, k == 0);

			if (k == 0)
				head_flags = f;
		}
		q->next_avail = slot;
		q->avail_wrap = wrap;
		q->added += (uint16_t)n;
		if (n > 0)
			__atomic_store_n(&q->pdesc[head].flags, head_flags, __ATOMIC_RELEASE);
	} else {
		for (k = 0; k < n && k < q->size; k++) {
			q->desc[k].addr = d[k].addr;
			q->desc[k].len = d[k].len;
			q->desc[k].flags = d[k].flags;
			q->desc[k].next = d[k].next;
		}
		for (k = 0; k < heads; k++) {
			q->avail->ring[q->avail_idx & (q->size - 1)] = head_idx[k];
			q->avail_idx++;
			q->added++;
		}
		q->avail_idx += avail_bump;
		q->added += avail_bump;
	}
	q->poisoned = true; /* our bookkeeping no longer matches the ring */
	guest_kick(g, i, true);
}

/* A valid 60-byte test frame after a zeroed header, for the cases whose
 * fault is elsewhere; and two indirect tables. */
struct scratch {
	uint64_t data, t1, t2;
	struct vring_desc *d1, *d2;
	struct vring_packed_desc *p1, *p2;
};

static int
scratch_init(struct guest *g, struct scratch *s)
{
	struct tx_frame f = {.dst = {2, 0, 0, 0, 0, 0x99}, .src = {2, 0, 0, 0, 0, 0x98}, .len = 60};
	uint8_t *p;

	s->data = gmem_alloc(&g->mem, 4096, 64);
	s->t1 = gmem_alloc(&g->mem, 16 * 4, 16);
	s->t2 = gmem_alloc(&g->mem, 16 * 4, 16);
	p = gmem_ptr(&g->mem, s->data, 4096);
	if (p == NULL || s->t1 == 0 || s->t2 == 0)
		return -1;
	guest_frame_fill(p + g->hdr_len, &f);
	s->d1 = gmem_ptr(&g->mem, s->t1, 64);
	s->d2 = gmem_ptr(&g->mem, s->t2, 64);
	s->p1 = (void *)s->d1;
	s->p2 = (void *)s->d2;
	return 0;
}

/* Sets entry k of an indirect table in the ring's own format. */
static void
table_set(struct scratch *s, bool packed, int t, int k, uint64_t addr, uint32_t len,
	  uint16_t flags, uint16_t next)
{
	if (packed) {
		struct vring_packed_desc *p = t == 1 ? s->p1 : s->p2;

		p[k] = (struct vring_packed_desc){.addr = addr, .len = len, .flags = flags & ~NEXT};
	} else {
		struct vring_desc *d = t == 1 ? s->d1 : s->d2;

		d[k] = (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
	}
}

int
hostile_desc(struct guest *g, uint16_t i, const char *kind, char *err, size_t len)
{
	struct raw_desc d[4] = {{0}};
	uint16_t head = 0, bump = 0, size = g->conf.size, hl = (uint16_t)g->hdr_len;
	uint64_t end = GMEM_BASE + g->mem.size;
	bool packed = g->conf.packed, rx = strncmp(kind, "rx_", 3) == 0;
	struct scratch s;
	int n = 1, heads = 1, k;
	static struct raw_desc ring[32768];

	if (i >= g->nr_vq || (i % 2 == 0) != rx) {
		snprintf(err, len, "%s goes on %s vring", kind, rx ? "an RX (even)" : "a TX (odd)");
		return -1;
	}
	if (scratch_init(g, &s) != 0) {
		snprintf(err, len, "guest memory full");
		return -1;
	}
	d[0] = (struct raw_desc){s.data, hl + 60u, 0, 0};
	if (strcmp(kind, "untouched") == 0) {
		/* Legal: a frame in the last page of guest memory, which
		 * nobody wrote (zeros). Only a backend that let a userfaultfd
		 * guard that memory (postcopy) would block on it. */
		d[0].addr = end - 4096;
	} else if (strcmp(kind, "addr_oob") == 0) {
		d[0].addr = end + 0x100000;
	} else if (strcmp(kind, "addr_wrap") == 0) {
		d[0].addr = ~0ULL - 0xfff;
		d[0].len = 0x2000;
	} else if (strcmp(kind, "len_zero") == 0) {
		d[0].len = 0;
	} else if (strcmp(kind, "len_past") == 0) {
		d[0].addr = end - 64;
		d[0].len = 4096;
	} else if (strcmp(kind, "loop") == 0 && !packed) {
		d[0] = (struct raw_desc){s.data, hl, NEXT, 1};
		d[1] = (struct raw_desc){s.data + hl, 60, NEXT, 0};
		n = 2;
	} else if (strcmp(kind, "chain_long") == 0) {
		/* every descriptor chained to the next, around the ring */
		for (k = 0; k < size; k++)
			ring[k] = (struct raw_desc){s.data, 8, NEXT, (uint16_t)((k + 1) % size)};
		hostile_raw(g, i, ring, size, &head, 1, 0);
		return 0;
	} else if (strcmp(kind, "next_oob") == 0 && !packed) {
		d[0] = (struct raw_desc){s.data, hl, NEXT, (uint16_t)(size + 5)};
	} else if (strcmp(kind, "indirect_nested") == 0) {
		table_set(&s, packed, 1, 0, s.t2, 32, INDIRECT, 0);
		table_set(&s, packed, 2, 0, s.data, hl, NEXT, 1);
		table_set(&s, packed, 2, 1, s.data + hl, 60, 0, 0);
		d[0] = (struct raw_desc){s.t1, 16, INDIRECT, 0};
	} else if (strcmp(kind, "indirect_len") == 0) {
		table_set(&s, packed, 1, 0, s.data, hl + 60u, 0, 0);
		d[0] = (struct raw_desc){s.t1, 7, INDIRECT, 0};
	} else if (strcmp(kind, "indirect_oob") == 0) {
		d[0] = (struct raw_desc){end + 4096, 64, INDIRECT, 0};
	} else if (strcmp(kind, "indirect_loop") == 0 && !packed) {
		table_set(&s, packed, 1, 0, s.data, hl, NEXT, 1);
		table_set(&s, packed, 1, 1, s.data + hl, 60, NEXT, 0);
		d[0] = (struct raw_desc){s.t1, 32, INDIRECT, 0};
	} else if (strcmp(kind, "indirect_huge") == 0) {
		table_set(&s, packed, 1, 0, s.data, hl + 60u, 0, 0);
		d[0] = (struct raw_desc){s.t1, 16u << 20, INDIRECT, 0};
	} else if (strcmp(kind, "hdr_short") == 0) {
		d[0].len = 6;
	} else if (strcmp(kind, "avail_jump") == 0 && !packed) {
		bump = (uint16_t)(size + 7);
	} else if (strcmp(kind, "head_twice") == 0 && !packed) {
		/* one chain in two avail entries: taken while in flight */
		static const uint16_t twice[2] = { 0, 0 };

		hostile_raw(g, i, d, 1, twice, 2, 0);
		return 0;
	} else if (strcmp(kind, "head_oob") == 0) {
		if (packed)
			d[0].next = (uint16_t)(size + 3); /* buffer id */
		else
			head = (uint16_t)(size + 3);
	} else if (strcmp(kind, "rx_readonly") == 0) {
		d[0] = (struct raw_desc){s.data, 2048, 0, 0};
	} else if (strcmp(kind, "rx_oob") == 0) {
		d[0] = (struct raw_desc){end + 0x100000, 2048, WRITE, 0};
	} else if (strcmp(kind, "rx_tiny") == 0) {
		d[0] = (struct raw_desc){s.data, 4, WRITE, 0};
	} else if (strcmp(kind, "rx_zero") == 0) {
		d[0] = (struct raw_desc){s.data, 0, WRITE, 0};
	} else {
		snprintf(err, len, "no descriptor case '%s' for %s rings", kind,
			 packed ? "packed" : "split");
		return -1;
	}
	hostile_raw(g, i, d, n, &head, heads, bump);
	return 0;
}

/* A message with its header as given: size may lie about the payload. */
static int
send_hdr(struct guest *g, uint32_t req, uint32_t size, const void *payload, uint32_t plen,
	 const int *fds, int nfds)
{
	uint8_t buf[VHU_HDR_SIZE + sizeof(((struct vhu_msg *)0)->payload)];
	uint32_t hdr[3] = {req, VHU_VERSION, size};

	if (plen > sizeof(buf) - VHU_HDR_SIZE)
		return -1;
	memcpy(buf, hdr, VHU_HDR_SIZE);
	if (plen)
		memcpy(buf + VHU_HDR_SIZE, payload, plen);
	return vhu_send_bytes(&g->conn, buf, VHU_HDR_SIZE + plen, fds, nfds);
}

/*
 * The TX vring's call "eventfd" is a pipe whose buffer is full and whose
 * write end blocks, then a frame is sent: a switch that wrote the call
 * to it would block (a PMD, for as long as we keep the read end).
 */
static int
call_pipe(struct guest *g)
{
	struct tx_frame f = {.dst = {2, 0, 0, 0, 0, 0x99}, .src = {2, 0, 0, 0, 0, 0x98}, .len = 60};
	static int p[2] = {-1, -1}; /* kept open until the next case */
	uint64_t idx = 1;
	char junk[4096] = {0};
	int fl;

	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	if (pipe(p) != 0)
		return -1;
	fl = fcntl(p[1], F_GETFL);
	fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, fl);
	if (vhu_send(&g->conn, VHU_SET_VRING_CALL, &idx, sizeof(idx), &p[1], 1) != 0)
		return -1;
	if (guest_tx_add(g, 1, &f) < 0)
		return -1;
	guest_kick(g, 1, true);
	return 0;
}

int
hostile_msg(struct guest *g, const char *kind, char *err, size_t len)
{
	struct vhu_mem_table mem = {.nregions = 1,
		 .regions[0] = {GMEM_BASE, g->mem.size, (uint64_t)(uintptr_t)g->mem.va, 0}};
	struct vhu_vring_addr a = {.desc_user_addr = 0xdead0000, .used_user_addr = 0xdead1000,
				   .avail_user_addr = 0xdead2000};
	int fds[3] = {g->mem.fd, g->vq[0].callfd, g->vq[0].kickfd};
	uint64_t u = 0;
	uint8_t junk[64];
	int k;

	if (strcmp(kind, "unknown_request") == 0)
		return send_hdr(g, 99, 0, NULL, 0, NULL, 0);
	if (strcmp(kind, "size_too_big") == 0)
		return send_hdr(g, VHU_SET_FEATURES, 0x10000, &u, sizeof(u), NULL, 0);
	if (strcmp(kind, "size_too_small") == 0)
		return send_hdr(g, VHU_SET_VRING_NUM, 2, &u, 2, NULL, 0);
	if (strcmp(kind, "size_zero") == 0)
		return send_hdr(g, VHU_SET_FEATURES, 0, NULL, 0, NULL, 0);
	if (strcmp(kind, "fds_missing") == 0)
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), NULL, 0);
	if (strcmp(kind, "fds_extra") == 0) {
		u = g->features;
		return send_hdr(g, VHU_SET_FEATURES, 8, &u, 8, fds, 3);
	}
	if (strcmp(kind, "fds_on_get") == 0)
		return send_hdr(g, VHU_GET_FEATURES, 0, NULL, 0, fds, 1);
	if (strcmp(kind, "mem_nregions") == 0) {
		mem.nregions = 200;
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), fds, 1);
	}
	if (strcmp(kind, "mem_zero_size") == 0) {
		mem.regions[0].memory_size = 0;
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), fds, 1);
	}
	if (strcmp(kind, "mem_huge") == 0) {
		mem.regions[0].memory_size = 1ULL << 50;
		mem.regions[0].mmap_offset = 1ULL << 40;
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), fds, 1);
	}
	if (strcmp(kind, "mem_no_cover") == 0) {
		/* a memory table that no longer holds the running rings */
		mem.regions[0].guest_phys_addr = 0x800000000ULL;
		mem.regions[0].userspace_addr = 0x7f0000000000ULL;
		mem.regions[0].memory_size = 4096;
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), fds, 1);
	}
	if (strcmp(kind, "mem_eventfd") == 0) {
		/* sound numbers, but the memory is an eventfd: mapping fails
		 * after the library has let go of the old table */
		mem.regions[0].guest_phys_addr += 0x100000000ULL;
		return send_hdr(g, VHU_SET_MEM_TABLE, VHU_MEM_TABLE_SIZE(1), &mem, VHU_MEM_TABLE_SIZE(1), &fds[1], 1);
	}
	if (strcmp(kind, "vring_index") == 0)
		return vhu_set_state(&g->conn, VHU_SET_VRING_NUM, 500, 256);
	if (strcmp(kind, "vring_num_odd") == 0)
		return vhu_set_state(&g->conn, VHU_SET_VRING_NUM, 0, 3);
	if (strcmp(kind, "vring_num_zero") == 0)
		return vhu_set_state(&g->conn, VHU_SET_VRING_NUM, 0, 0);
	if (strcmp(kind, "vring_addr") == 0)
		return vhu_send(&g->conn, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	if (strcmp(kind, "vring_base_big") == 0)
		return vhu_set_state(&g->conn, VHU_SET_VRING_BASE, 1, 0xffffffffu);
	if (strcmp(kind, "kick_nofd") == 0) {
		u = 1;
		return vhu_send(&g->conn, VHU_SET_VRING_KICK, &u, sizeof(u), NULL, 0);
	}
	if (strcmp(kind, "call_index") == 0) {
		u = 200;
		return vhu_send(&g->conn, VHU_SET_VRING_CALL, &u, sizeof(u), &fds[1], 1);
	}
	if (strcmp(kind, "call_pipe") == 0)
		return call_pipe(g);
	if (strcmp(kind, "features_change") == 0)
		return vhu_set_u64(&g->conn, VHU_SET_FEATURES, ~0ULL);
	if (strcmp(kind, "reset_owner") == 0)
		return vhu_send(&g->conn, VHU_RESET_OWNER, NULL, 0, NULL, 0);
	if (strcmp(kind, "log_base") == 0) {
		uint64_t log[2] = {1ULL << 40, 0};

		return send_hdr(g, VHU_SET_LOG_BASE, sizeof(log), log, sizeof(log), fds, 1);
	}
	if (strcmp(kind, "garbage") == 0) {
		for (k = 0; k < (int)sizeof(junk); k++)
			junk[k] = (uint8_t)(k * 37 + 11);
		return vhu_send_bytes(&g->conn, junk, sizeof(junk), NULL, 0);
	}
	if (strcmp(kind, "truncated_header") == 0) {
		uint32_t hdr[3] = {VHU_SET_FEATURES, VHU_VERSION, 8};

		k = vhu_send_bytes(&g->conn, hdr, 5, NULL, 0);
		vhu_close(&g->conn);
		return k;
	}
	if (strcmp(kind, "truncated_payload") == 0) {
		k = send_hdr(g, VHU_SET_VRING_ADDR, sizeof(a), &a, 10, NULL, 0);
		vhu_close(&g->conn);
		return k;
	}
	snprintf(err, len, "no message case '%s'", kind);
	return -1;
}
