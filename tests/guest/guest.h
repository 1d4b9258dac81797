/* SPDX-License-Identifier: BSD-3-Clause
 * The test guest: a virtio-net device driver that owns its memory and
 * rings and talks vhost-user to the switch, one explicit step at a time.
 */
#ifndef VQG_GUEST_H
#define VQG_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

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
	/* SET_VRING_BASE's value for every vring if base_set, else 0 (split)
	 * or 1 << 15 (packed: wrap counter 1); the rings start there */
	bool base_set;
	uint32_t base;
	bool rings_at_end; /* every vring's rings at the end of guest memory */
	bool need_reply;   /* REPLY_ACK: NEED_REPLY on every message without a reply */
	bool legacy;       /* no VERSION_1: a 10-byte header without MRG_RXBUF */
	uint64_t features; /* more features to ask for (offloads, say) */
	bool insist;       /* ask for them even if not offered (a QEMU that
			    * reconnects with what its guest uses) */
};

/* What a TX frame held when it was queued, checked when it is reclaimed:
 * a hash of it but for frame bytes 12..17 (after the virtio-net header:
 * the EtherType or VLAN tag), and those bytes. */
struct tx_sum {
	uint64_t hash;
	uint8_t mid[6];
	bool rewritten; /* attack.c's buf_rewrite changed mid meanwhile */
};

/* An RX buffer given as a chain of pieces (rxpost segs=). */
struct rx_chain {
	uint8_t n; /* 0: one piece, the whole block */
	uint32_t len[VIRTQ_MAX_SEGS];
};

/* A received frame that is still coming in (mergeable RX: more buffers). */
struct rx_partial {
	uint8_t *data;
	uint32_t len;
	uint16_t want, got; /* buffers: announced in num_buffers, seen */
	uint8_t hdr[12];    /* its virtio-net header */
};

struct guest_vq {
	struct virtq q;
	int kickfd, callfd;
	int old_callfd;     /* the one before call_swap, still read: a call the
			     * device made before it saw the swap lands there */
	uint64_t calls, kicks, kicks_suppressed;
	uint64_t *buf;      /* per buffer id: its data block in guest memory */
	uint32_t *buf_cap;
	uint32_t *buf_len;  /* per buffer id: bytes given to the device */
	struct rx_partial rx;
	struct tx_sum *tx_sum;     /* per buffer id */
	uint64_t tx_checked, tx_modified;
	struct rx_chain *rx_chain; /* per buffer id, once a chain was posted */
	uint8_t *gather;           /* an RX chain's bytes, put together */
	uint32_t gather_cap;
	struct chaos *chaos;       /* attack.c: a thread disturbing the ring, or NULL */
};

struct guest {
	struct guest_conf conf;
	struct vhu_conn conn;
	struct gmem mem;
	uint64_t offered, features;
	uint16_t nr_vq;
	uint32_t hdr_len; /* virtio-net header: 12 with VERSION_1 or MRG_RXBUF */
	bool unchecked;   /* a benchmark's sender: TX buffers not hashed */
	struct guest_log *log; /* dirty-page logging (guest_log.c), or NULL */
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
/* Stops any chaos thread (attack.c) first. */
void guest_disconnect(struct guest *g);
/* SET_MEM_TABLE: mem's regions, all in our memfd, or (mem NULL) the
 * whole guest memory as one region, as at set-up. 0 or -1. */
int guest_send_mem_table(struct guest *g, const struct vhu_mem_table *mem);
/* SET_VRING_ADDR's payload for vring i where its rings are now. */
void guest_vring_addr(const struct guest *g, uint16_t i, struct vhu_vring_addr *a);

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
/* A new call eventfd for vq i (SET_VRING_CALL), as QEMU does when it
 * masks or unmasks a vector; calls on the old one up to then counted.
 * 0 or -1. */
int guest_call_swap(struct guest *g, uint16_t i);

/* Posts n receive buffers of lens[k % nlens] bytes; how many it posted. */
int guest_rx_post(struct guest *g, uint16_t i, int n, const uint32_t *lens, int nlens);
/* Posts n receive buffers, each a chain of nsegs pieces of these sizes. */
int guest_rx_post_chain(struct guest *g, uint16_t i, int n, const uint32_t *segs, int nsegs);
/* Consumes every used RX entry, rebuilding and checking frames; each
 * frame, its virtio-net header first, is also appended to dump (if not
 * NULL) after its length (4 bytes, little endian). */
void guest_rx_collect(struct guest *g, uint16_t i, struct rx_report *r, FILE *dump);

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
/* Queues the buffer of len bytes at p as it is (virtio-net header
 * included), in segs (nsegs of them; 0: one descriptor) like
 * guest_tx_add; the buffer id or -1. */
int guest_tx_raw(struct guest *g, uint16_t i, const uint8_t *p, uint32_t len,
		 const uint32_t *segs, int nsegs, bool indirect);
/* Reclaims the used TX entries, checking that each frame is still what
 * was queued (tx_checked, tx_modified); how many. */
unsigned int guest_tx_reclaim(struct guest *g, uint16_t i);

/* Fills frame bytes [0, len) with the test pattern (frame.py's). */
void guest_frame_fill(uint8_t *p, const struct tx_frame *f);

#endif
