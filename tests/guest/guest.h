/* SPDX-License-Identifier: BSD-3-Clause
 * The test guest: a virtio-net device driver that owns its memory and
 * rings and talks vhost-user to the switch, one explicit step at a time.
 */
#ifndef VQG_GUEST_H
#define VQG_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "vhost_user.h"
#include "virtq.h"

#define GUEST_MAX_QP 4
#define GUEST_MAX_FRAME (128 * 1024)

struct guest_conf {
	char path[108];
	bool packed, event_idx, mrg_rxbuf, indirect;
	/* split without EVENT_IDX: do not write used_event when enabling
	 * interrupts (Linux does; other drivers do not) */
	bool no_used_hint;
	/* hostile: before the memory table, asks for postcopy migration:
	 * 1 with POSTCOPY_ADVISE and _LISTEN, 2 with _LISTEN alone */
	int postcopy;
	uint16_t qp, size;
	uint64_t mem_size;
};

/* A received frame that is still coming in (mergeable RX: more buffers). */
struct rx_partial {
	uint8_t *data;
	uint32_t len;
	uint16_t want, got; /* buffers: announced in num_buffers, seen */
};

struct guest_vq {
	struct virtq q;
	int kickfd, callfd;
	uint64_t calls, kicks, kicks_suppressed;
	uint64_t *buf;      /* per buffer id: its data block in guest memory */
	uint32_t *buf_cap;
	uint32_t *buf_len;  /* per buffer id: bytes given to the device */
	struct rx_partial rx;
};

struct guest {
	struct guest_conf conf;
	struct vhu_conn conn;
	struct gmem mem;
	uint64_t offered, features;
	uint16_t nr_vq;
	uint32_t hdr_len; /* virtio-net header: 12 with VERSION_1 or MRG_RXBUF */
	struct guest_vq vq[2 * GUEST_MAX_QP];
};

/* What rx collected, for the report. */
struct rx_report {
	unsigned int frames, bad, used, bad_used;
	unsigned int foreign; /* of frames: intact, but not test frames */
	uint64_t bytes;
	char detail[1024]; /* "len/buffers" of the first frames, or why bad */
};

/* Connects and sets the device up like QEMU does; 0, or -1 with err set. */
int guest_connect(struct guest *g, const struct guest_conf *c, char *err, size_t len);
void guest_disconnect(struct guest *g);

/* A data block for buffer id of vq i, at least len bytes; 0 if memory is out. */
uint64_t guest_buffer(struct guest *g, uint16_t i, int id, uint32_t len);
/* Buffer id the next virtq_add on vq i will use, or -1 if the ring is full. */
int guest_next_id(struct guest *g, uint16_t i);
/* Publishes and kicks if the device wants it (or always, with force). */
void guest_kick(struct guest *g, uint16_t i, bool force);
/* Reads the call eventfd of vq i and adds what it counted. */
uint64_t guest_calls(struct guest *g, uint16_t i);
/* Waits up to ms for a call on vq i; the calls counted. */
uint64_t guest_wait_call(struct guest *g, uint16_t i, int ms);

/* Posts n receive buffers of lens[k % nlens] bytes; how many it posted. */
int guest_rx_post(struct guest *g, uint16_t i, int n, const uint32_t *lens, int nlens);
/* Consumes every used RX entry, rebuilding and checking frames. */
void guest_rx_collect(struct guest *g, uint16_t i, struct rx_report *r);

struct tx_frame {
	uint8_t dst[6], src[6];
	uint32_t len;       /* Ethernet frame, without the virtio-net header */
	uint16_t tag;
	uint16_t vlan;      /* an 802.1Q tag with this VLAN id after the MACs (0: none) */
	uint32_t seq;
	uint32_t segs[VIRTQ_MAX_SEGS]; /* descriptor sizes, header included */
	int nsegs;          /* 0: one descriptor */
	bool indirect;
};
/* Queues one frame (not published); the buffer id or -1 (ring full). */
int guest_tx_add(struct guest *g, uint16_t i, const struct tx_frame *f);
/* Reclaims the used TX entries; how many. */
unsigned int guest_tx_reclaim(struct guest *g, uint16_t i);

/* Fills frame bytes [0, len) with the test pattern (frame.py's). */
void guest_frame_fill(uint8_t *p, const struct tx_frame *f);

#endif
