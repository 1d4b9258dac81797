/* SPDX-License-Identifier: BSD-3-Clause
 * Checksum and segmentation offloads (docs/offloads.md): what a guest's
 * virtio-net header asked of a frame it sent, checked once against the
 * frame's own headers and kept with the frame in the switch's memory (an
 * mbuf dynamic field), and what each destination is told or has done for
 * it in software (offload_sw.c).
 */
#ifndef VQS_OFFLOAD_H
#define VQS_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_net.h>

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

/* What a port can take (a guest's GUEST_* features) or may send (HOST_*
 * and CSUM). */
#define VQS_OL_CSUM 0x1u /* a partial checksum: NEEDS_CSUM */
#define VQS_OL_TSO4 0x2u /* TCP over IPv4, segmented by the receiver */
#define VQS_OL_TSO6 0x4u /* TCP over IPv6 */
#define VQS_OL_CSUM_ANY 0x8u /* a partial checksum that is not at a TCP or
			      * UDP header (tunnels, other protocols):
			      * virtio's csum_start/csum_offset say it, an
			      * mbuf's offload flags cannot */
#define VQS_OL_ALL  (VQS_OL_CSUM | VQS_OL_TSO4 | VQS_OL_TSO6 | VQS_OL_CSUM_ANY)

/* The virtio-net features behind each, and what a vhost port offers when
 * its offloads are on (ECN and UFO are never offered). */
#define VQS_OL_HOST_FEATURES \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO6))
#define VQS_OL_GUEST_FEATURES \
	((1ULL << VIRTIO_NET_F_GUEST_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO6))
#define VQS_OL_FEATURES (VQS_OL_HOST_FEATURES | VQS_OL_GUEST_FEATURES)

/* The offloads negotiated features give: what the guest may send (host
 * features) and what it takes (guest features). */
static inline uint8_t
vqs_offload_host(uint64_t f)
{
	if (!((f >> VIRTIO_NET_F_CSUM) & 1))
		return 0; /* TSO without CSUM is not allowed (virtio 1.2, 5.1.3.1) */
	return (uint8_t)(VQS_OL_CSUM | (((f >> VIRTIO_NET_F_HOST_TSO4) & 1) ? VQS_OL_TSO4 : 0) |
			 (((f >> VIRTIO_NET_F_HOST_TSO6) & 1) ? VQS_OL_TSO6 : 0));
}

static inline uint8_t
vqs_offload_guest(uint64_t f)
{
	if (!((f >> VIRTIO_NET_F_GUEST_CSUM) & 1))
		return 0;
	return (uint8_t)(VQS_OL_CSUM | VQS_OL_CSUM_ANY |
			 (((f >> VIRTIO_NET_F_GUEST_TSO4) & 1) ? VQS_OL_TSO4 : 0) |
			 (((f >> VIRTIO_NET_F_GUEST_TSO6) & 1) ? VQS_OL_TSO6 : 0));
}

/* A GSO frame's segments the switch makes in software at most: a 64 KB
 * frame down to an MSS of 512 bytes. Bounds what one frame costs. */
#define VQS_GSO_MAX_SEGS 128
/* The longest GSO frame: an IPv6 payload of 64 KB behind two VLAN tags. */
#define VQS_GSO_MAX_FRAME (65535u + 40 + 14 + 8)
/* A frame with offloads has its headers (up to a TCP header of 60 bytes
 * behind IPv4 of 60 and two VLAN tags: 142 bytes) in the switch's own
 * memory: the direct datapath copies this much of it out of guest
 * memory (three cache lines). */
#define VQS_OL_HEAD 192u

/*
 * What the frame asks for, checked (vqs_offload_take): positions from the
 * frame's first byte as the switch holds it now (a VLAN tag the switch
 * takes off or puts in moves them: vqs_offload_shift). Everything up to
 * csum_start + l4_len of a GSO frame lies in its first mbuf.
 */
struct vqs_offload {
	uint16_t csum_start;  /* where the checksum's sum starts */
	uint16_t csum_offset; /* where from there the checksum goes */
	uint16_t gso_size;    /* payload bytes per segment; 0: not GSO */
	uint8_t gso_type;     /* VIRTIO_NET_HDR_GSO_TCPV4 or _TCPV6; NONE */
	uint8_t l3_off;       /* the IP header; 0 if the frame is not IP */
	uint8_t l4_proto;     /* IPPROTO_TCP or _UDP at csum_start; 0: other */
	uint8_t l4_len;       /* TCP: its header's length */
	uint8_t ip_ver;       /* 4 or 6 with l3_off; 0 */
};

extern int vqs_offload_field;   /* the dynamic field's offset */
extern uint64_t vqs_offload_flag; /* in ol_flags: the field is set */

/* Once, after EAL init and before any frame: registers the field. 0 or
 * -errno. */
int vqs_offload_init(void);

static inline bool
vqs_offload_has(const struct rte_mbuf *m)
{
	return (m->ol_flags & vqs_offload_flag) != 0;
}

static inline struct vqs_offload *
vqs_offload_of(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, vqs_offload_field, struct vqs_offload *);
}

static inline const struct vqs_offload *
vqs_offload_get(const struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, vqs_offload_field, const struct vqs_offload *);
}

/* What a destination must take for the frame as it is (VQS_OL_*). */
static inline uint8_t
vqs_offload_needs(const struct rte_mbuf *m)
{
	const struct vqs_offload *o;

	if (!vqs_offload_has(m))
		return 0;
	o = vqs_offload_get(m);
	if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV4)
		return VQS_OL_CSUM | VQS_OL_TSO4;
	if (o->gso_type == VIRTIO_NET_HDR_GSO_TCPV6)
		return VQS_OL_CSUM | VQS_OL_TSO6;
	return o->l4_proto != 0 ? VQS_OL_CSUM : VQS_OL_CSUM | VQS_OL_CSUM_ANY;
}

/* Whether the frame is a GSO frame (longer than a frame may be). */
static inline bool
vqs_offload_is_gso(const struct rte_mbuf *m)
{
	return vqs_offload_has(m) && vqs_offload_get(m)->gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

/* Whether a virtio-net header asks for any offload. */
static inline bool
vqs_offload_asked(const struct virtio_net_hdr *h)
{
	return h->flags != 0 || h->gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

/* Why a header was refused (counted as drop_bad_offload, logged). */
enum vqs_ol_error {
	VQS_OL_OK,
	VQS_OL_BAD_FLAGS,    /* DATA_VALID, RSC_INFO or unknown bits from a driver */
	VQS_OL_NOT_OFFERED,  /* a feature the guest did not negotiate, ECN, UFO */
	VQS_OL_BAD_CSUM,     /* csum_start/csum_offset outside the frame or not
			      * at the TCP or UDP header's checksum */
	VQS_OL_BAD_GSO,      /* no NEEDS_CSUM, not TCP of that IP version at
			      * csum_start, a fragment, no payload, gso_size 0,
			      * segments longer than a frame or too many */
};

extern const char *const vqs_ol_error_names[];

/*
 * The virtio-net header h (a copy in switch memory) of frame m, which
 * came from a guest that negotiated 'allowed' (VQS_OL_*): checked against
 * the frame's headers in its first mbuf (the switch's own copy), and
 * recorded in m if it asks for anything. Segments of a GSO frame must be
 * at most max_frame bytes. A frame whose header asks for nothing is left
 * as it is. VQS_OL_OK or why the frame must be dropped.
 */
enum vqs_ol_error vqs_offload_take(struct rte_mbuf *m, const struct virtio_net_hdr *h,
				   uint8_t allowed, uint32_t max_frame);

struct vqs_port;
struct vqs_port_stats;

/* vqs_offload_take on a frame from guest port p, which is dropped if the
 * header is refused: counted in st as received and bad_offload, logged
 * (rate-limited). Whether the frame goes on. */
bool vqs_offload_take_or_drop(const struct vqs_port *p, struct vqs_port_stats *st,
			      struct rte_mbuf *m, const struct virtio_net_hdr *h, uint8_t allowed,
			      uint32_t max_frame);

/* A VLAN tag of 4 bytes taken off (delta -4) or put in (+4) in front of
 * the frame's offloaded headers. */
static inline void
vqs_offload_shift(struct rte_mbuf *m, int delta)
{
	struct vqs_offload *o;

	if (!vqs_offload_has(m))
		return;
	o = vqs_offload_of(m);
	o->csum_start = (uint16_t)(o->csum_start + delta);
	if (o->l3_off != 0)
		o->l3_off = (uint8_t)(o->l3_off + delta);
}

/* The virtio-net header a receiver that takes the frame's offloads gets
 * (num_buffers aside). */
void vqs_offload_hdr(const struct rte_mbuf *m, struct virtio_net_hdr *h);

/* The TX offload flags of the mbuf API (ol_flags, l2_len, l3_len, l4_len,
 * tso_segsz), as librte_vhost takes and gives them (--datapath=library):
 * vqs_offload_to_mbuf sets them from the frame's offloads (which must
 * not need VQS_OL_CSUM_ANY), vqs_offload_flags_clear takes them off
 * again; vqs_offload_from_mbuf makes the virtio-net header they stand
 * for and clears them (false: a flag the switch does not offer). */
void vqs_offload_to_mbuf(struct rte_mbuf *m);
void vqs_offload_flags_clear(struct rte_mbuf *m);
bool vqs_offload_from_mbuf(struct rte_mbuf *m, struct virtio_net_hdr *h);

#endif
