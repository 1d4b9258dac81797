/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: each input is a little program for the test guest -
 * vhost-user messages (valid, raw or known-bad), descriptor tables and
 * frames - played against a running vqswitch. The switch runs in its own
 * process (started by scripts/fuzz.sh, normally the ASan build), so the
 * fuzzer's coverage is of this driver only; what it checks is that after
 * every input the switch is still alive and still accepts connections.
 *
 * Environment: VQS_FUZZ_SOCKET, the port's vhost-user socket;
 * VQS_FUZZ_PID, the switch's process id.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest.h"
#include "hostile.h"

static const char *sock_path;
static pid_t switch_pid;
static struct guest g;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sock_path = getenv("VQS_FUZZ_SOCKET");
	switch_pid = (pid_t)atoi(getenv("VQS_FUZZ_PID") ? getenv("VQS_FUZZ_PID") : "0");
	if (sock_path == NULL || switch_pid <= 0) {
		fprintf(stderr, "set VQS_FUZZ_SOCKET and VQS_FUZZ_PID (scripts/fuzz.sh does)\n");
		exit(2);
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t
take(struct input *in, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0 && in->left > 0) {
		v = v << 8 | *in->p++;
		in->left--;
	}
	return v;
}

static void
nap_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	nanosleep(&ts, NULL);
}

/* A message with any request, header size and payload, maybe with fds. */
static void
raw_message(struct input *in)
{
	uint8_t buf[VHU_HDR_SIZE + 256];
	uint32_t hdr[3];
	size_t plen = take(in, 1);
	int fds[3] = {g.mem.fd, g.vq[0].callfd, g.vq[1].kickfd}, nfds = (int)take(in, 1) % 4;

	hdr[0] = (uint32_t)take(in, 1) % (VHU_REQUEST_MAX + 2);
	hdr[1] = VHU_VERSION;
	hdr[2] = (uint32_t)take(in, 2);
	if (take(in, 1) & 1)
		hdr[2] = (uint32_t)plen; /* mostly honest sizes */
	if (plen > in->left)
		plen = in->left;
	memcpy(buf, hdr, VHU_HDR_SIZE);
	memcpy(buf + VHU_HDR_SIZE, in->p, plen);
	in->p += plen;
	in->left -= plen;
	while (nfds > 0 && fds[nfds - 1] < 0)
		nfds--;
	vhu_send_bytes(&g.conn, buf, VHU_HDR_SIZE + plen, fds, nfds);
}

/* Descriptors from the input; addresses mostly inside guest memory. */
static void
raw_descriptors(struct input *in)
{
	struct raw_desc d[8];
	uint16_t heads[4];
	uint16_t vq = (uint16_t)(take(in, 1) % g.nr_vq);
	int n = (int)take(in, 1) % 8 + 1, nh = (int)take(in, 1) % 4 + 1, k;

	for (k = 0; k < n; k++) {
		uint64_t a = take(in, 4);

		d[k].addr = (a & 1) ? a << 16 : GMEM_BASE + a % g.mem.size;
		d[k].len = (uint32_t)take(in, 3);
		d[k].flags = (uint16_t)take(in, 1);
		d[k].next = (uint16_t)take(in, 1);
	}
	for (k = 0; k < nh; k++)
		heads[k] = (uint16_t)take(in, 1);
	hostile_raw(&g, vq, d, n, heads, nh, (uint16_t)(take(in, 1) % 3 == 0 ? take(in, 2) : 0));
}

static void
frame(struct input *in)
{
	struct tx_frame f = {.dst = {2, 0, 0, 0, 0, 2}, .src = {2, 0, 0, 0, 0, 1}};
	uint16_t vq = (uint16_t)(2 * (take(in, 1) % (g.nr_vq / 2)) + 1);

	f.len = (uint32_t)take(in, 3) % (GUEST_MAX_FRAME - 64);
	f.nsegs = (int)take(in, 1) % 4;
	for (int k = 0; k < f.nsegs; k++)
		f.segs[k] = (uint32_t)take(in, 2);
	f.indirect = take(in, 1) & 1 && (g.features >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
	if (guest_tx_add(&g, vq, &f) >= 0)
		guest_kick(&g, vq, false);
}

static void
play(struct input *in)
{
	char err[256];
	int steps = 0;

	while (in->left > 0 && steps++ < 32) {
		uint32_t lens[1];
		const char *const *k;
		int n;

		switch (take(in, 1) % 8) {
		case 0:
			raw_message(in);
			break;
		case 1:
			raw_descriptors(in);
			break;
		case 2:
			frame(in);
			break;
		case 3:
			lens[0] = (uint32_t)take(in, 2);
			guest_rx_post(&g, 0, (int)take(in, 1) % 64, lens, 1);
			break;
		case 4:
			n = (int)take(in, 1);
			for (k = hostile_desc_kinds; *k != NULL; k++)
				if (n-- == 0)
					hostile_desc(&g, strncmp(*k, "rx_", 3) == 0 ? 0 : 1, *k, err,
						     sizeof(err));
			break;
		case 5:
			n = (int)take(in, 1);
			for (k = hostile_msg_kinds; *k != NULL; k++)
				if (n-- == 0)
					hostile_msg(&g, *k, err, sizeof(err));
			if (g.conn.fd < 0)
				return;
			break;
		case 6:
			nap_us(200); /* let the PMD get to it */
			break;
		default:
			guest_tx_reclaim(&g, 1);
			break;
		}
	}
}

/* The switch is alive and its socket takes a connection. */
static void
check_switch(void)
{
	struct vhu_conn c;
	int tries;

	for (tries = 0; tries < 200; tries++) {
		if (kill(switch_pid, 0) != 0)
			break;
		if (vhu_connect(&c, sock_path) == 0) {
			vhu_close(&c);
			return;
		}
		nap_us(10000);
	}
	fprintf(stderr, "vqswitch (pid %d) died or stopped accepting on %s\n", (int)switch_pid,
		sock_path);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct guest_conf c = {.qp = 1, .size = 64, .mem_size = 16 << 20};
	uint8_t mode = (uint8_t)take(&in, 1);
	char err[256];

	snprintf(c.path, sizeof(c.path), "%s", sock_path);
	c.packed = mode & 1;
	c.event_idx = mode & 2;
	c.mrg_rxbuf = mode & 4;
	c.indirect = mode & 8;
	if (guest_connect(&g, &c, err, sizeof(err)) == 0) {
		play(&in);
		nap_us(500);
	}
	guest_disconnect(&g);
	check_switch();
	return 0;
}
