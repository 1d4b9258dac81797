/* SPDX-License-Identifier: BSD-3-Clause
 * The frontend's side of the vhost-user protocol: message layout and a
 * connection that sends requests (with file descriptors) and reads
 * replies. Only what a virtio-net frontend sends; see QEMU's
 * docs/interop/vhost-user.rst for the protocol.
 */
#ifndef VQG_VHOST_USER_H
#define VQG_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_SEND_RARP = 19,
	VHU_POSTCOPY_ADVISE = 28,
	VHU_POSTCOPY_LISTEN = 29,
	VHU_REQUEST_MAX = 41, /* past the last request 22.11 knows */
};

#define VHU_VERSION 0x1
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHU_PROTOCOL_F_MQ 0
#define VHU_PROTOCOL_F_REPLY_ACK 3
#define VHU_MAX_REGIONS 8
#define VHU_MAX_FDS 8
#define VHU_F_PROTOCOL_FEATURES 30

struct vhu_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/* SET_MEM_TABLE's payload; its size is 8 + 32 per region sent. */
struct vhu_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_region regions[VHU_MAX_REGIONS];
};
#define VHU_MEM_TABLE_SIZE(n) (8 + 32 * (n))

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* of the payload */
	union {
		uint64_t u64;
		struct vhu_mem_table mem; /* the largest a frontend sends */
		uint8_t raw[256];
	} payload;
} __attribute__((packed));

#define VHU_HDR_SIZE 12

struct vhu_conn {
	int fd;
	/* REPLY_ACK negotiated and wanted: every request without a reply of
	 * its own goes with NEED_REPLY and vhu_send waits for the ack */
	bool reply_ack;
	int64_t ack; /* the last ack's value (0: success), -1: none */
};

/* Connects to a backend's socket; 0 or -errno. */
int vhu_connect(struct vhu_conn *c, const char *path);
void vhu_close(struct vhu_conn *c);
/* Sends header and `size` payload bytes with `nfds` descriptors; 0 or -1.
 * With reply_ack, and a request that has no reply of its own, it then
 * reads the ack (up to 1 s) into c->ack: -1 also when it is missing or
 * says the request failed. */
int vhu_send(struct vhu_conn *c, uint32_t request, const void *payload, uint32_t size,
	     const int *fds, int nfds);
/* Sends any bytes as they are (hostile tests); 0 or -1. */
int vhu_send_bytes(struct vhu_conn *c, const void *data, size_t len, const int *fds, int nfds);
/* Requests the backend answers anyway (GET_*...): no NEED_REPLY for them. */
bool vhu_has_reply(uint32_t request);
/* Reads one reply to `request` into msg, waiting up to timeout_ms; 0 or -1. */
int vhu_recv_reply(struct vhu_conn *c, uint32_t request, struct vhu_msg *msg, int timeout_ms);
/* A request that expects a u64 back (GET_FEATURES...); 0 or -1. */
int vhu_get_u64(struct vhu_conn *c, uint32_t request, uint64_t *out);
int vhu_set_u64(struct vhu_conn *c, uint32_t request, uint64_t value);
int vhu_set_state(struct vhu_conn *c, uint32_t request, uint32_t index, uint32_t num);
/* The peer closed the connection (a read returns end of file). */
bool vhu_peer_closed(struct vhu_conn *c, int timeout_ms);

#endif
