/* SPDX-License-Identifier: BSD-3-Clause
 * Test guest: connection set-up, buffers, transmit and receive.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "attack.h"
#include "guest.h"
#include "guest_log.h"

#define ETHERTYPE_TEST 0x88B5
#define TX_MID 12     /* frame bytes buf_rewrite may change: 12..17 */
#define TX_MID_LEN 6
#define RX_GAP 64     /* between the pieces of an RX chain */

static int
fail(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s%s%s", what, errno ? ": " : "", errno ? strerror(errno) : "");
	return -1;
}

/* A set-up message failed: with REPLY_ACK, maybe the backend said so. */
static int
fail_msg(struct guest *g, char *err, size_t len, const char *what)
{
	if (g->conn.reply_ack && g->conn.ack > 0) {
		snprintf(err, len, "%s: the switch acked %lld", what, (long long)g->conn.ack);
		return -1;
	}
	return fail(err, len, what);
}

static uint64_t
wanted_features(const struct guest_conf *c)
{
	uint64_t f = 1ULL << VHU_F_PROTOCOL_FEATURES;

	if (!c->legacy)
		f |= 1ULL << VIRTIO_F_VERSION_1;

	if (c->mrg_rxbuf)
		f |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (c->event_idx)
		f |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (c->packed)
		f |= 1ULL << VIRTIO_F_RING_PACKED;
	if (c->indirect)
		f |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (c->qp > 1)
		f |= 1ULL << VIRTIO_NET_F_MQ;
	return f | c->features;
}

static int
negotiate(struct guest *g, char *err, size_t len)
{
	uint64_t want = wanted_features(&g->conf), proto = 0, nq;

	if (vhu_get_u64(&g->conn, VHU_GET_FEATURES, &g->offered) != 0)
		return fail(err, len, "GET_FEATURES got no answer");
	if ((want & g->offered) != want && !g->conf.insist) {
		snprintf(err, len, "switch does not offer features 0x%llx",
			 (unsigned long long)(want & ~g->offered));
		return -1;
	}
	g->features = want;
	if (vhu_get_u64(&g->conn, VHU_GET_PROTOCOL_FEATURES, &proto) != 0)
		return fail(err, len, "GET_PROTOCOL_FEATURES got no answer");
	if (g->conf.need_reply && !(proto >> VHU_PROTOCOL_F_REPLY_ACK & 1)) {
		snprintf(err, len, "switch does not offer REPLY_ACK");
		return -1;
	}
	proto &= 1ULL << VHU_PROTOCOL_F_MQ | 1ULL << VHU_PROTOCOL_F_LOG_SHMFD |
		 (uint64_t)g->conf.need_reply << VHU_PROTOCOL_F_REPLY_ACK;
	if (vhu_set_u64(&g->conn, VHU_SET_PROTOCOL_FEATURES, proto) != 0)
		return fail(err, len, "SET_PROTOCOL_FEATURES");
	/* From here on, as QEMU does once it is negotiated. */
	g->conn.reply_ack = g->conf.need_reply;
	if (g->conf.qp > 1) {
		if (!proto || vhu_get_u64(&g->conn, VHU_GET_QUEUE_NUM, &nq) != 0 || nq < g->conf.qp) {
			snprintf(err, len, "switch does not offer %u queue pairs", g->conf.qp);
			return -1;
		}
	}
	if (vhu_send(&g->conn, VHU_SET_OWNER, NULL, 0, NULL, 0) != 0 ||
	    vhu_set_u64(&g->conn, VHU_SET_FEATURES, g->features) != 0)
		return fail_msg(g, err, len, "SET_OWNER/SET_FEATURES");
	g->hdr_len = g->conf.legacy && !g->conf.mrg_rxbuf ? sizeof(struct virtio_net_hdr) :
			sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return 0;
}

/*
 * The postcopy dance of QEMU's incoming migration, which no backend of
 * ours offers (VHOST_USER_PROTOCOL_F_PAGEFAULT): ADVISE makes the backend
 * open a userfaultfd, LISTEN makes the next memory table register with
 * it, after the backend's reply and our acknowledgement. Nobody serves
 * the faults: a backend that went along would block on the first page of
 * guest memory it touches that we never did.
 */
static int
postcopy_listen(struct guest *g)
{
	struct vhu_msg reply;

	if (g->conf.postcopy == 1 &&
	    (vhu_send(&g->conn, VHU_POSTCOPY_ADVISE, NULL, 0, NULL, 0) != 0 ||
	     vhu_recv_reply(&g->conn, VHU_POSTCOPY_ADVISE, &reply, 2000) != 0)) /* its fd is dropped */
		return -1;
	return vhu_send(&g->conn, VHU_POSTCOPY_LISTEN, NULL, 0, NULL, 0);
}

int
guest_send_mem_table(struct guest *g, const struct vhu_mem_table *mem)
{
	struct vhu_mem_table whole = {
		.nregions = 1,
		.regions[0] = {GMEM_BASE, g->mem.size, (uint64_t)(uintptr_t)g->mem.va, 0}};
	int fds[VHU_MAX_REGIONS], rc;
	bool reply_ack = g->conn.reply_ack;
	struct vhu_msg reply;
	uint32_t k;

	if (mem == NULL)
		mem = &whole;
	if (mem->nregions > VHU_MAX_REGIONS)
		return -1;
	for (k = 0; k < mem->nregions; k++)
		fds[k] = g->mem.fd;
	if (g->conf.postcopy == 0)
		return vhu_send(&g->conn, VHU_SET_MEM_TABLE, mem, VHU_MEM_TABLE_SIZE(mem->nregions), fds,
				(int)mem->nregions);
	/* Postcopy: the backend answers with its addresses (a reply of its
	 * own, no ack then) and waits for our acknowledgement. */
	g->conn.reply_ack = false;
	rc = vhu_send(&g->conn, VHU_SET_MEM_TABLE, mem, VHU_MEM_TABLE_SIZE(mem->nregions), fds,
		      (int)mem->nregions);
	if (rc == 0)
		rc = vhu_recv_reply(&g->conn, VHU_SET_MEM_TABLE, &reply, 2000);
	if (rc == 0)
		rc = vhu_send(&g->conn, VHU_SET_MEM_TABLE, NULL, 0, NULL, 0);
	g->conn.reply_ack = reply_ack;
	return rc;
}

void
guest_vring_addr(const struct guest *g, uint16_t i, struct vhu_vring_addr *a)
{
	const struct virtq *q = &g->vq[i].q;

	*a = (struct vhu_vring_addr){.index = i};
	a->desc_user_addr = gmem_uaddr(&g->mem, q->desc_gpa);
	a->avail_user_addr = gmem_uaddr(&g->mem, q->driver_gpa);
	a->used_user_addr = gmem_uaddr(&g->mem, q->device_gpa);
}

/* The value of SET_VRING_BASE at set-up. */
static uint32_t
vring_base(const struct guest *g)
{
	if (g->conf.base_set)
		return g->conf.base;
	return g->conf.packed ? 1u << 15 : 0; /* packed: the wrap counters start at 1 */
}

static int
setup_vring(struct guest *g, uint16_t i, char *err, size_t len)
{
	struct guest_vq *v = &g->vq[i];
	struct vhu_vring_addr a;
	uint64_t call = i;

	if (virtq_init(&v->q, &g->mem, g->conf.size, g->conf.packed, g->conf.event_idx,
		       g->conf.rings_at_end) != 0)
		return fail(err, len, "vring does not fit in guest memory");
	v->q.used_hint = !g->conf.no_used_hint;
	if (g->conf.base_set)
		virtq_set_base(&v->q, g->conf.base);
	v->buf = calloc(g->conf.size, sizeof(*v->buf));
	v->buf_cap = calloc(g->conf.size, sizeof(*v->buf_cap));
	v->buf_len = calloc(g->conf.size, sizeof(*v->buf_len));
	v->tx_sum = calloc(g->conf.size, sizeof(*v->tx_sum));
	v->rx.data = malloc(GUEST_MAX_FRAME);
	v->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	v->callfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (v->buf == NULL || v->buf_cap == NULL || v->buf_len == NULL || v->tx_sum == NULL ||
	    v->rx.data == NULL || v->kickfd < 0 || v->callfd < 0)
		return fail(err, len, "out of memory or eventfds");
	guest_vring_addr(g, i, &a);
	if (vhu_set_state(&g->conn, VHU_SET_VRING_NUM, i, g->conf.size) != 0 ||
	    vhu_send(&g->conn, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0) != 0 ||
	    vhu_set_state(&g->conn, VHU_SET_VRING_BASE, i, vring_base(g)) != 0 ||
	    vhu_send(&g->conn, VHU_SET_VRING_CALL, &call, sizeof(call), &v->callfd, 1) != 0 ||
	    vhu_send(&g->conn, VHU_SET_VRING_KICK, &call, sizeof(call), &v->kickfd, 1) != 0 ||
	    vhu_set_state(&g->conn, VHU_SET_VRING_ENABLE, i, 1) != 0)
		return fail_msg(g, err, len, "vring set-up messages");
	return 0;
}

int
guest_connect(struct guest *g, const struct guest_conf *c, char *err, size_t len)
{
	uint16_t i;
	int rc;

	memset(g, 0, sizeof(*g));
	g->conf = *c;
	g->mem.fd = -1;
	for (i = 0; i < 2 * GUEST_MAX_QP; i++)
		g->vq[i].kickfd = g->vq[i].callfd = g->vq[i].old_callfd = -1;
	if (c->qp < 1 || c->qp > GUEST_MAX_QP) {
		snprintf(err, len, "qp must be 1..%d", GUEST_MAX_QP);
		return -1;
	}
	errno = 0;
	if (gmem_init(&g->mem, c->mem_size) != 0)
		return fail(err, len, "guest memory");
	rc = vhu_connect(&g->conn, c->path);
	if (rc != 0) {
		snprintf(err, len, "connect %s: %s", c->path, strerror(-rc));
		return -1;
	}
	if (negotiate(g, err, len) != 0)
		return -1;
	if (c->postcopy != 0 && postcopy_listen(g) != 0)
		return fail(err, len, "POSTCOPY_ADVISE/LISTEN");
	if (guest_send_mem_table(g, NULL) != 0)
		return fail_msg(g, err, len, "SET_MEM_TABLE");
	g->nr_vq = 2 * c->qp;
	for (i = 0; i < g->nr_vq; i++)
		if (setup_vring(g, i, err, len) != 0)
			return -1;
	return 0;
}

void
guest_disconnect(struct guest *g)
{
	uint16_t i;

	chaos_stop_all(g); /* before the memory it writes goes */
	vhu_close(&g->conn);
	guest_log_free(g);
	for (i = 0; i < 2 * GUEST_MAX_QP; i++) {
		struct guest_vq *v = &g->vq[i];

		if (v->kickfd >= 0)
			close(v->kickfd);
		if (v->callfd >= 0)
			close(v->callfd);
		if (v->old_callfd >= 0)
			close(v->old_callfd);
		v->kickfd = v->callfd = v->old_callfd = -1;
		virtq_fini(&v->q);
		free(v->buf);
		free(v->buf_cap);
		free(v->buf_len);
		free(v->rx.data);
		free(v->tx_sum);
		free(v->rx_chain);
		free(v->gather);
		v->buf = NULL;
		v->buf_cap = v->buf_len = NULL;
		v->rx.data = v->gather = NULL;
		v->tx_sum = NULL;
		v->rx_chain = NULL;
		v->gather_cap = 0;
	}
	gmem_fini(&g->mem);
	g->nr_vq = 0;
}

int
guest_next_id(struct guest *g, uint16_t i)
{
	struct virtq *q = &g->vq[i].q;

	if (q->num_free == 0 || q->poisoned)
		return -1;
	if (q->packed)
		return q->n_free_ids ? q->free_ids[q->n_free_ids - 1] : -1;
	return q->free_head;
}

uint64_t
guest_buffer(struct guest *g, uint16_t i, int id, uint32_t len)
{
	struct guest_vq *v = &g->vq[i];

	if (v->buf[id] == 0 || v->buf_cap[id] < len) {
		uint32_t cap = len > 0 ? len : 64; /* a buffer of 0 bytes has an address too */

		v->buf[id] = gmem_alloc(&g->mem, cap, 64);
		v->buf_cap[id] = v->buf[id] ? cap : 0;
	}
	return v->buf[id];
}

void
guest_kick(struct guest *g, uint16_t i, bool force)
{
	struct guest_vq *v = &g->vq[i];
	uint64_t one = 1;

	virtq_publish(&v->q);
	if (virtq_kick_needed(&v->q) || force) {
		if (write(v->kickfd, &one, sizeof(one)) == sizeof(one))
			v->kicks++;
	} else {
		v->kicks_suppressed++;
	}
}

uint64_t
guest_calls(struct guest *g, uint16_t i)
{
	struct guest_vq *v = &g->vq[i];
	uint64_t n;

	/* An eventfd adds up every write: the count is exact. */
	if (v->callfd >= 0 && read(v->callfd, &n, sizeof(n)) == sizeof(n))
		v->calls += n;
	if (v->old_callfd >= 0 && read(v->old_callfd, &n, sizeof(n)) == sizeof(n))
		v->calls += n;
	return v->calls;
}

uint64_t
guest_wait_call(struct guest *g, uint16_t i, int ms)
{
	struct pollfd pfd = {.fd = g->vq[i].callfd, .events = POLLIN};

	poll(&pfd, 1, ms);
	return guest_calls(g, i);
}

int
guest_call_swap(struct guest *g, uint16_t i)
{
	struct guest_vq *v = &g->vq[i];
	uint64_t call = i;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), old = v->callfd;

	if (fd < 0)
		return -1;
	if (vhu_send(&g->conn, VHU_SET_VRING_CALL, &call, sizeof(call), &fd, 1) != 0) {
		close(fd);
		return -1;
	}
	/* What reached the old one still counts, also a call the device made
	 * before it handled the message (without REPLY_ACK nothing says
	 * when that is): the old one is read until the next swap. */
	guest_calls(g, i);
	if (v->old_callfd >= 0)
		close(v->old_callfd);
	v->old_callfd = old;
	v->callfd = fd;
	return 0;
}

int
guest_rx_post(struct guest *g, uint16_t i, int n, const uint32_t *lens, int nlens)
{
	struct guest_vq *v = &g->vq[i];
	int k;

	for (k = 0; k < n; k++) {
		int id = guest_next_id(g, i);
		struct vq_seg s;

		if (id < 0)
			break;
		s.len = lens[k % nlens];
		s.gpa = guest_buffer(g, i, id, s.len);
		s.write = true;
		if (s.gpa == 0 || virtq_add(&v->q, &s, 1, false) != id)
			break;
		v->buf_len[id] = s.len;
		if (v->rx_chain != NULL)
			v->rx_chain[id].n = 0;
	}
	guest_kick(g, i, false);
	return k;
}

/* Room a piece of an RX chain takes in its block: 64-byte aligned and a
 * gap after it, so that bytes a device writes past a piece do not land
 * where the next piece's go (the frame would come out wrong). */
static uint64_t
rx_span(uint32_t len)
{
	return ((uint64_t)len + 63) / 64 * 64 + RX_GAP;
}

int
guest_rx_post_chain(struct guest *g, uint16_t i, int n, const uint32_t *segs, int nsegs)
{
	struct guest_vq *v = &g->vq[i];
	struct vq_seg s[VIRTQ_MAX_SEGS];
	uint64_t block = 0, total = 0, off;
	int k, j;

	if (nsegs < 1 || nsegs > VIRTQ_MAX_SEGS)
		return 0;
	for (j = 0; j < nsegs; j++) {
		block += rx_span(segs[j]);
		total += segs[j];
	}
	if (block > g->mem.size)
		return 0;
	if (v->rx_chain == NULL && (v->rx_chain = calloc(g->conf.size, sizeof(*v->rx_chain))) == NULL)
		return 0;
	for (k = 0; k < n; k++) {
		int id = guest_next_id(g, i);
		uint64_t gpa;

		if (id < 0 || (gpa = guest_buffer(g, i, id, (uint32_t)block)) == 0)
			break;
		for (j = 0, off = 0; j < nsegs; off += rx_span(segs[j]), j++)
			s[j] = (struct vq_seg){.gpa = gpa + off, .len = segs[j], .write = true};
		if (virtq_add(&v->q, s, nsegs, false) != id)
			break;
		v->buf_len[id] = (uint32_t)total;
		v->rx_chain[id].n = (uint8_t)nsegs;
		memcpy(v->rx_chain[id].len, segs, nsegs * sizeof(*segs));
	}
	guest_kick(g, i, false);
	return k;
}

void
guest_frame_fill(uint8_t *p, const struct tx_frame *f)
{
	uint8_t hdr[23];
	uint32_t k, body = 0;

	memcpy(hdr, f->dst, 6);
	memcpy(hdr + 6, f->src, 6);
	hdr[12] = ETHERTYPE_TEST >> 8;
	hdr[13] = ETHERTYPE_TEST & 0xff;
	memcpy(hdr + 14, "VQS", 3);
	hdr[17] = f->tag >> 8;
	hdr[18] = f->tag & 0xff;
	hdr[19] = f->seq >> 24;
	hdr[20] = f->seq >> 16;
	hdr[21] = f->seq >> 8;
	hdr[22] = f->seq;
	for (k = 0; k < f->len; k++) {
		if (k < sizeof(hdr))
			p[k] = hdr[k];
		else
			p[k] = (uint8_t)(body++ * 7 + f->seq);
	}
}

static bool
is_test_frame(const uint8_t *p, uint32_t len)
{
	return len >= 23 && p[12] == (ETHERTYPE_TEST >> 8) && p[13] == (ETHERTYPE_TEST & 0xff) &&
	       memcmp(p + 14, "VQS", 3) == 0;
}

/* Does a received test frame carry the pattern it was sent with? */
static bool
frame_intact(const uint8_t *p, uint32_t len)
{
	uint32_t seq, k;

	seq = (uint32_t)p[19] << 24 | (uint32_t)p[20] << 16 | (uint32_t)p[21] << 8 | p[22];
	for (k = 23; k < len; k++)
		if (p[k] != (uint8_t)((k - 23) * 7 + seq))
			return false;
	return true;
}

/* FNV-1a over a queued TX buffer but for the skip bytes from mid. */
static uint64_t
tx_hash(const uint8_t *p, uint32_t len, uint32_t mid, uint32_t skip)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t k;

	for (k = 0; k < len; k++)
		if (k < mid || k >= mid + skip)
			h = (h ^ p[k]) * 0x100000001b3ULL;
	return h;
}

/* Frame bytes 12..17 of a buffer of len bytes: where, and how many. */
static uint32_t
tx_mid(const struct guest *g, uint32_t len, uint32_t *mid)
{
	*mid = g->hdr_len + TX_MID;
	return len <= *mid ? 0 : len - *mid < TX_MID_LEN ? len - *mid : TX_MID_LEN;
}

static void
tx_remember(struct guest *g, struct guest_vq *v, int id, const uint8_t *p, uint32_t len)
{
	struct tx_sum *s = &v->tx_sum[id];
	uint32_t mid, n = tx_mid(g, len, &mid);

	if (g->unchecked)
		return;
	s->hash = tx_hash(p, len, mid, n);
	memcpy(s->mid, p + mid, n);
	s->rewritten = false;
}

/* A reclaimed TX buffer: still what we queued? buf_rewrite's bytes only
 * if it did not touch them. */
static void
tx_check(struct guest *g, struct guest_vq *v, int id)
{
	const struct tx_sum *s = &v->tx_sum[id];
	uint32_t len = v->buf_len[id], mid, n = tx_mid(g, len, &mid);
	const uint8_t *p = gmem_ptr(&g->mem, v->buf[id], len);

	if (p == NULL)
		return;
	v->tx_checked++;
	if (tx_hash(p, len, mid, n) != s->hash || (!s->rewritten && memcmp(p + mid, s->mid, n) != 0))
		v->tx_modified++;
}

/* Buffer id's total bytes at gpa (filled) queued as n descriptors of
 * the sizes in sizes, the last one taking what they leave. */
static int
tx_queue(struct guest *g, uint16_t i, int id, uint64_t gpa, uint32_t total, const uint32_t *sizes,
	 int n, bool indirect)
{
	struct guest_vq *v = &g->vq[i];
	struct vq_seg segs[VIRTQ_MAX_SEGS];
	uint32_t off = 0;
	int k;

	for (k = 0; k < n; k++) {
		uint32_t l = (k + 1 < n) ? sizes[k] : total - off;

		if (l > total - off)
			return -1;
		segs[k] = (struct vq_seg){.gpa = gpa + off, .len = l, .write = false};
		off += l;
	}
	v->buf_len[id] = total;
	tx_remember(g, v, id, gmem_ptr(&g->mem, gpa, total), total);
	return virtq_add(&v->q, segs, n, indirect);
}

int
guest_tx_add(struct guest *g, uint16_t i, const struct tx_frame *f)
{
	uint32_t total = g->hdr_len + f->len + (f->vlan ? 4 : 0);
	uint64_t gpa;
	uint8_t *p;
	int id = guest_next_id(g, i), n = f->nsegs ? f->nsegs : 1;

	if (id < 0 || f->len > GUEST_MAX_FRAME || (f->vlan && f->len < 14))
		return -1;
	gpa = guest_buffer(g, i, id, total);
	p = gmem_ptr(&g->mem, gpa, total);
	if (gpa == 0 || p == NULL)
		return -1;
	memset(p, 0, g->hdr_len); /* no offloads asked for */
	guest_frame_fill(p + g->hdr_len, f);
	if (f->vlan) { /* the tag goes in after the MACs */
		uint8_t *e = p + g->hdr_len;

		memmove(e + 16, e + 12, f->len - 12);
		e[12] = 0x81;
		e[13] = 0x00;
		e[14] = (uint8_t)(f->vlan >> 8);
		e[15] = (uint8_t)f->vlan;
	}
	return tx_queue(g, i, id, gpa, total, f->segs, n, f->indirect);
}

int
guest_tx_raw(struct guest *g, uint16_t i, const uint8_t *buf, uint32_t len, const uint32_t *segs,
	     int nsegs, bool indirect)
{
	int id = guest_next_id(g, i);
	uint64_t gpa;
	uint8_t *p;

	if (id < 0 || len == 0)
		return -1;
	gpa = guest_buffer(g, i, id, len);
	p = gmem_ptr(&g->mem, gpa, len);
	if (gpa == 0 || p == NULL)
		return -1;
	memcpy(p, buf, len);
	return tx_queue(g, i, id, gpa, len, segs, nsegs ? nsegs : 1, indirect);
}

unsigned int
guest_tx_reclaim(struct guest *g, uint16_t i)
{
	struct guest_vq *v = &g->vq[i];
	uint32_t len;
	unsigned int n = 0;
	int id;

	while ((id = virtq_get_used(&v->q, &len)) >= 0) {
		tx_check(g, v, id);
		n++;
	}
	return n;
}

static void
note(struct rx_report *r, const char *fmt, unsigned int a, unsigned int b)
{
	size_t used = strlen(r->detail);

	if (used + 24 < sizeof(r->detail))
		snprintf(r->detail + used, sizeof(r->detail) - used, fmt, a, b);
}

/* The len bytes the device wrote into RX buffer id, in one piece: the
 * block itself, or a chain's pieces put together (NULL: out of memory). */
static const uint8_t *
rx_bytes(struct guest *g, struct guest_vq *v, int id, uint32_t len)
{
	const uint8_t *p = gmem_ptr(&g->mem, v->buf[id], v->buf_cap[id]);
	const struct rx_chain *c = v->rx_chain != NULL ? &v->rx_chain[id] : NULL;
	uint32_t got = 0, take;
	uint64_t off = 0;
	int j;

	if (p == NULL || c == NULL || c->n == 0)
		return p;
	if (v->gather_cap < len) {
		uint8_t *n = realloc(v->gather, len);

		if (n == NULL)
			return NULL;
		v->gather = n;
		v->gather_cap = len;
	}
	for (j = 0; j < c->n && got < len; off += rx_span(c->len[j]), j++) {
		take = c->len[j] < len - got ? c->len[j] : len - got;
		memcpy(v->gather + got, p + off, take);
		got += take;
	}
	return v->gather;
}

/* One used RX buffer: the start of a frame or the next part of one. */
static void
rx_buffer(struct guest *g, struct guest_vq *v, int id, uint32_t len, struct rx_report *r,
	  FILE *dump)
{
	struct rx_partial *x = &v->rx;
	const uint8_t *p;
	uint32_t skip = 0;

	r->used++;
	if (len > v->buf_len[id] || (p = rx_bytes(g, v, id, len)) == NULL) {
		r->bad_used++; /* the device wrote past what it was given */
		note(r, "overlong-used:%u/%u,", len, v->buf_len[id]);
		return;
	}
	if (x->want == 0) { /* first buffer of a frame: the header */
		const struct virtio_net_hdr_mrg_rxbuf *h = (const void *)p;

		if (len < g->hdr_len) {
			r->bad_used++;
			note(r, "short-header:%u/%u,", len, g->hdr_len);
			return;
		}
		x->want = (g->features >> VIRTIO_NET_F_MRG_RXBUF) & 1 ? h->num_buffers : 1;
		x->got = 0;
		x->len = 0;
		memcpy(x->hdr, p, g->hdr_len);
		skip = g->hdr_len;
		if (x->want == 0 || x->want > v->q.size) {
			r->bad_used++; /* no frame takes more buffers than the ring has */
			note(r, "num_buffers:%u/%u,", len, x->want);
			x->want = 0;
			return;
		}
	}
	if (x->len + (len - skip) > GUEST_MAX_FRAME) {
		r->bad++;
		x->want = 0;
		return;
	}
	memcpy(x->data + x->len, p + skip, len - skip);
	x->len += len - skip;
	if (++x->got < x->want)
		return;
	r->frames++;
	r->bytes += x->len;
	if (dump != NULL) {
		uint32_t total = g->hdr_len + x->len;
		uint8_t le[4] = {(uint8_t)total, (uint8_t)(total >> 8), (uint8_t)(total >> 16),
				 (uint8_t)(total >> 24)};

		fwrite(le, 1, sizeof(le), dump);
		fwrite(x->hdr, 1, g->hdr_len, dump);
		fwrite(x->data, 1, x->len, dump);
	}
	if (!is_test_frame(x->data, x->len)) {
		r->foreign++; /* someone else's frame: nothing to check */
	} else if (frame_intact(x->data, x->len)) {
		note(r, "%u/%u,", x->len, x->want);
	} else {
		r->bad++;
		note(r, "corrupt:%u/%u,", x->len, x->want);
	}
	x->want = 0;
}

void
guest_rx_collect(struct guest *g, uint16_t i, struct rx_report *r, FILE *dump)
{
	struct guest_vq *v = &g->vq[i];
	uint32_t len;
	int id;

	memset(r, 0, sizeof(*r));
	while ((id = virtq_get_used(&v->q, &len)) != -1) {
		if (id < 0) {
			r->bad_used++;
			note(r, "unknown-id:%u/%u,", 0, 0);
			break;
		}
		rx_buffer(g, v, id, len, r, dump);
	}
	len = (uint32_t)strlen(r->detail);
	if (len > 0)
		r->detail[len - 1] = '\0';
}
