/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: a stateful fuzzer of a running vqswitch (started by
 * scripts/fuzz.sh, normally the ASan+UBSan build, in its own process).
 *
 * Each input is a program of interleaved steps for two guests of ours on
 * the switch's ports "fuzz" and "peer": connect with any layout, frames
 * both ways, RX buffers, the malicious guest kernel's chaos threads and
 * raw ring writes, the malicious QEMU's messages on the running device,
 * bad descriptors and messages, raw messages. Two innocent guests on the
 * ports "inno1" and "inno2", connected once, are driven by this process
 * too. After every input (abort() on a failure, so that libFuzzer keeps
 * the input as a crash):
 *  - the switch is alive and answers a new frontend;
 *  - the innocent pair exchanges frames both ways, every one intact, its
 *    TX buffers given back unchanged, an interrupt each way, within a
 *    second; the switch never closed their connections;
 *  - on the rings of our two guests that they did not corrupt themselves
 *    (raw descriptor or index writes, bad descriptor cases, a device
 *    state changed under the ring by SET_VRING_NUM/BASE, a moved ring,
 *    raw or bad messages: those rings are not checked until the guest
 *    connects again): no used entry for a buffer not made available or
 *    longer than the chain's writable bytes, no TX buffer written by the
 *    switch, every frame received intact (unless a sender corrupted its
 *    own rings); every published TX buffer completed, and an interrupt
 *    the guest asked for made, once its used entry is there; a frame
 *    from one to the other arrives (the port was not left paused);
 *  - a frontend stalled in the middle of a message is disconnected.
 * Guests that connect with offloads (op 24) hand the switch frames with
 * virtio-net headers, right or with one field wrong (op 25). Op 26 turns
 * dirty-page logging on, replaces the log, turns it off, or gives a log
 * the switch must refuse, as a migrating (or hostile) QEMU would.
 * The input format is described in tests/guest/corpus/README.md, and
 * written by tests/guest/corpus/seeds.py.
 *
 * Environment: VQS_FUZZ_DIR, the switch's socket directory; VQS_FUZZ_PID,
 * the switch's process id; VQS_DATAPATH (library: see library_datapath);
 * VQS_FUZZ_VQCTL, a vqctl command line for the failure report;
 * VQS_FUZZ_VERBOSE, VQS_FUZZ_RECONNECT_GAP_MS (docs/testing.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "attack.h"
#include "guest.h"
#include "guest_log.h"
#include "hostile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 64
#define STEP_BUDGET_MS 250  /* no step starts later than this into an input */
#define STEP_NAP_US 20      /* after every step: the PMD runs meanwhile */
#define MAX_CHAOS 2         /* chaos threads at once (two CPUs in CI) */
#define STALL_BYTE 0x5a     /* the only argument that makes `stall` stall */
#define STALL_WAIT_MS 3500  /* the switch's message timeout: 100 ms (2 s before) */
#define CALL_WAIT_MS 300    /* the switch runs with a 1 s watchdog */
#define TX_WAIT_MS 500
#define INNO_WAIT_MS 1000
#define PMD_PASSES 3        /* a wait past its deadline: passes every PMD makes before it fails */
#define PMD_STUCK_MS 20000  /* a PMD that does not make them in this long is stuck */
#define PMD_LOOK_MS 10      /* the PMDs' counters read at most this often */
#define MAX_PMDS 32
#define INNO_FRAMES 4
#define INNO_TAG 0x1e1e
#define FUZZ_TAG 0xf00f
#define PROBE_TAG 0x9be5
#define PROBE_LEN 60

/* --- what the input asks for --- */

enum op {
	OP_CONNECT, OP_DISCONNECT, OP_TX, OP_RXPOST, OP_RX, OP_TXDONE, OP_CHAOS, OP_KICK,
	OP_INTR, OP_FLAGS, OP_RAW_DESC, OP_HOSTILE_DESC, OP_HOSTILE_MSG, OP_RAW_MSG,
	OP_VRING_NUM, OP_VRING_BASE, OP_VRING_MOVE, OP_MEM, OP_MSG_FAIL, OP_STALL, OP_SLEEP,
	OP_CALL_SWAP, OP_FORGE_USED, OP_POKE, OP_CONNECT_OL, OP_TX_OL, OP_LOG, NOPS
};

struct input {
	const uint8_t *p;
	size_t left;
};

/* n bytes, big-endian; 0 for what is missing */
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

static uint8_t
byte(struct input *in)
{
	return (uint8_t)take(in, 1);
}

/* --- our guests --- */

enum { FUZZ, PEER, NGUESTS };

struct fvq {
	bool corrupt;    /* the guest wrote the ring behind its own back: no checks */
	bool loose;      /* desc_flip, tiny RX buffers: only used ids and lengths checked */
	bool unsteady;   /* chaos that may make the switch stop the ring */
	bool small_rx;   /* RX buffers posted that cannot hold a short frame */
	bool armed;      /* interrupts asked for the driver's way, nothing pending then */
	bool due;        /* a used entry was seen since */
	uint64_t calls_armed;
};

struct fg {
	const char *name;
	uint64_t closed_at; /* when we last closed a connection to its socket */
	uint8_t mac[6];
	char path[108];
	struct guest g;
	bool up;       /* connected (set-up done) */
	bool dirty;    /* raw or bad messages: the device may be anything */
	bool remapped; /* memory table shrunk or split: rings may be refused */
	bool stalled;  /* a message header without its payload */
	bool acked_fail; /* a NEED_REPLY message failed (the switch should close) */
	uint32_t seq;
	struct fvq vq[2 * GUEST_MAX_QP];
};

struct inno {
	const char *name;
	uint8_t mac[6];
	char path[108];
	struct guest g;
	uint32_t skip;            /* continuation buffers of a merged frame to skip */
	uint32_t expect_lo, got;  /* sequence numbers awaited from the partner */
	uint32_t late_lo, late;   /* those of the last exchange given up on (may still come, once) */
	uint64_t frames;
};

static struct fg fg[NGUESTS] = {
	{.name = "fuzz", .mac = {2, 0, 0, 0, 0x0f, 1}},
	{.name = "peer", .mac = {2, 0, 0, 0, 0x0f, 2}},
};
static struct inno inno[2] = {
	{.name = "inno1", .mac = {2, 0, 0, 0, 1, 1}},
	{.name = "inno2", .mac = {2, 0, 0, 0, 2, 1}},
};
static const uint32_t inno_len[INNO_FRAMES] = {60, 1514, 333, 64};
static uint32_t inno_seq;
static bool inno_settled; /* frames of set-up rounds that failed may still come */
static const char *sock_dir;
static pid_t switch_pid;
static bool frames_untrusted; /* a sender corrupted its TX rings: frames may be anything */
static int chaos_running;
static uint64_t inputs;
static bool verbose; /* VQS_FUZZ_VERBOSE: each input's time on stderr */
/* VQS_FUZZ_RECONNECT_GAP_MS: a guest connects again only this long after
 * it (or the liveness check) closed its last connection to the socket.
 * 0 (the default): at once, as a restarting QEMU may. */
static uint64_t reconnect_gap_us;
/* VQS_DATAPATH=library: librte_vhost reads what the switch checked again
 * (an avail index), so a guest racing its own avail index may get used
 * entries for stale buffers of its own, a call's worth, before the switch
 * stops the ring (lib/vhost/datapath.c): after avail_back, avail_ahead
 * or desc_flip on such a vring its used entries are not checked. The
 * switch must still live and serve everyone else. */
static bool library_datapath;

/* Coverage of the switch's answers (libFuzzer's extra counters): the
 * switch runs in another process, so what it said is the only signal. */
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t answers[1 << 12];

static void
saw(unsigned int what, uint64_t value)
{
	answers[(what * 0x9e3779b1u + (uint32_t)value * 0x85ebca6bu) >> 20] += 1;
}

/* The switch exited (a zombie until fuzz.sh reaps it) or is gone. */
static bool
switch_dead(void)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	if (kill(switch_pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)switch_pid);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* Both sides of every vring, for the failure report: ours here, the
 * switch's through vqctl (VQS_FUZZ_VQCTL, set by fuzz.sh). */
static void
dump_state(void)
{
	const char *vqctl = getenv("VQS_FUZZ_VQCTL");
	static const char *const ports[] = {"fuzz", "peer", "inno1", "inno2"};
	char cmd[512];
	int k;
	uint16_t i;

	for (k = 0; k < NGUESTS + 2; k++) {
		struct guest *g = k < NGUESTS ? &fg[k].g : &inno[k - NGUESTS].g;

		if (k < NGUESTS && !fg[k].up)
			continue;
		for (i = 0; i < g->nr_vq; i++) {
			struct virtq *q = &g->vq[i].q;

			if (q->packed)
				fprintf(stderr, "fuzz_stateful: %s vq %u (packed, %u): next_avail %u next_used %u wrap %d/%d num_free %u pending %u calls %llu kicks %llu\n",
					ports[k], i, q->size, q->next_avail, q->next_used, q->avail_wrap,
					q->used_wrap, q->num_free, virtq_used_pending(q),
					(unsigned long long)g->vq[i].calls, (unsigned long long)g->vq[i].kicks);
			else
				fprintf(stderr, "fuzz_stateful: %s vq %u (split, %u): avail_idx %u last_used %u used_idx %u avail_event %u num_free %u calls %llu kicks %llu\n",
					ports[k], i, q->size, q->avail_idx, q->last_used,
					__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE), *q->avail_event,
					q->num_free, (unsigned long long)g->vq[i].calls,
					(unsigned long long)g->vq[i].kicks);
		}
	}
	if (vqctl == NULL || switch_dead())
		return;
	fflush(stderr);
	for (k = 0; k < 4; k++) {
		snprintf(cmd, sizeof(cmd), "timeout 5 %s vring/show %s >&2", vqctl, ports[k]);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_stateful: (%s failed)\n", cmd);
	}
	snprintf(cmd, sizeof(cmd),
		 "timeout 5 %s port/stats >&2; timeout 5 %s pmd/stats-show >&2; timeout 5 %s metrics | grep '^vqswitch_mbufs' >&2",
		 vqctl, vqctl, vqctl);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_stateful: (%s failed)\n", cmd);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nfuzz_stateful: FAILURE after %llu inputs: ", (unsigned long long)inputs);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	dump_state();
	fprintf(stderr, "fuzz_stateful: FAILURE (above)\n");
	abort();
}

static uint64_t
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
}

static void
nap_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000};

	nanosleep(&ts, NULL);
}

/* --- waits for the switch's PMDs --- */

/* Each PMD's work counter (busy_cycles + idle_cycles + sleeps from
 * pmd/stats-show, as fuzz.sh reads it: every pass moves busy or idle
 * cycles, every sleep moves sleeps); how many PMDs, -1 if unknown. */
static int
pmd_work(uint64_t *work, int max)
{
	const char *vqctl = getenv("VQS_FUZZ_VQCTL");
	unsigned long long v;
	char cmd[512], line[256];
	int n = -1;
	FILE *p;

	if (vqctl == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "timeout 5 %s pmd/stats-show 2>/dev/null", vqctl);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strncmp(line, "pmd", 3) == 0) {
			if (++n == max)
				break;
			work[n] = 0;
		} else if (n >= 0 && (sscanf(line, " busy_cycles: %llu", &v) == 1 ||
				      sscanf(line, " idle_cycles: %llu", &v) == 1 ||
				      sscanf(line, " sleeps: %llu", &v) == 1)) {
			work[n] += v;
		}
	}
	if (pclose(p) != 0 || n < 0 || n == max)
		return -1;
	return n + 1;
}

/*
 * A wait for work of the switch's PMDs (frames taken, used entries and
 * interrupts given), which ends in failure at its deadline only if the
 * PMDs ran. On a loaded machine the CPU a PMD is pinned to may not run it
 * for a second or more: on CI's machine (a VM of two CPUs) under CI's
 * load (two streams of tests beside two busy loops) a thread pinned to
 * the PMD's CPU waited up to 1.7 s to run, the PMD itself 0.86 s in the
 * middle of a pass, and a TX check failed at 500 ms for frames the
 * switch took right after. So once past
 * the deadline the wait reads the PMDs' counters (vqctl pmd/stats-show,
 * VQS_FUZZ_VQCTL) until each has made PMD_PASSES passes: the second of
 * them began after the deadline and looked at every queue its PMD polls,
 * so what is still not done then, the switch did not do while it ran. A
 * PMD that makes none for PMD_STUCK_MS is stuck: the wait ends. Without
 * VQS_FUZZ_VQCTL the deadline alone decides. wait_over() is called
 * before each look at what is waited for, and fails the wait only if
 * that look still finds it not done.
 */
struct sw_wait {
	uint64_t end, stuck_end, next_look;
	int n; /* PMDs; 0 before the first read past the deadline, -1 cannot read */
	int passes; /* the fewest passes a PMD made past the deadline, at least */
	uint64_t work[MAX_PMDS];
	int moved[MAX_PMDS];
	char why[96];
};

static void
wait_start(struct sw_wait *w, int ms)
{
	memset(w, 0, sizeof(*w));
	w->end = now_us() + (uint64_t)ms * 1000;
}

static bool
wait_over(struct sw_wait *w)
{
	uint64_t now = now_us(), work[MAX_PMDS];
	int n, k;

	if (now <= w->end)
		return false;
	if (w->n < 0)
		return true;
	if (w->stuck_end == 0)
		w->stuck_end = now + PMD_STUCK_MS * 1000ULL;
	if (now < w->next_look)
		return false;
	if (getenv("VQS_FUZZ_VQCTL") == NULL || switch_dead()) {
		w->n = -1;
		return true;
	}
	/* A read that fails (the control thread is on a CPU that does
	 * not run either) is tried again, up to the same bound. */
	n = pmd_work(work, MAX_PMDS);
	w->next_look = now_us() + PMD_LOOK_MS * 1000;
	if (n > 0 && w->n == 0) {
		w->n = n;
		memcpy(w->work, work, sizeof(work[0]) * (size_t)n);
	} else if (n > 0 && n == w->n) {
		for (w->passes = PMD_PASSES, k = 0; k < n; k++) {
			w->moved[k] += work[k] != w->work[k];
			w->work[k] = work[k];
			if (w->moved[k] < w->passes)
				w->passes = w->moved[k];
		}
	}
	if (w->passes >= PMD_PASSES) {
		snprintf(w->why, sizeof(w->why), " (and %d passes of every PMD after that)", PMD_PASSES);
		return true;
	}
	if (now_us() > w->stuck_end) {
		snprintf(w->why, sizeof(w->why), " (and in the %d ms after that, a PMD made %d passes%s: stuck?)",
			 PMD_STUCK_MS, w->passes, w->n > 0 ? "" : ", or vqctl never answered");
		return true;
	}
	return false;
}

/* The switch closed the connection (whatever is still to be read). */
static bool
conn_closed(const struct vhu_conn *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};

	return c->fd < 0 || (poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)));
}

static bool
wait_closed(const struct vhu_conn *c, int ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000;

	while (!conn_closed(c)) {
		if (now_us() > end)
			return false;
		nap_us(1000);
	}
	return true;
}

static int
running_chaos(struct fg *f)
{
	int n = 0;
	uint16_t i;

	for (i = 0; i < 2 * GUEST_MAX_QP; i++)
		n += f->g.vq[i].chaos != NULL;
	return n;
}

static void
fg_disconnect(struct fg *f)
{
	chaos_running -= running_chaos(f);
	if (f->up) {
		guest_disconnect(&f->g);
		f->closed_at = now_us();
	}
	f->up = false;
}

static void
fg_reset(struct fg *f)
{
	f->dirty = f->remapped = f->stalled = f->acked_fail = false;
	memset(f->vq, 0, sizeof(f->vq));
}

static struct fg *
other(struct fg *f)
{
	return f == &fg[FUZZ] ? &fg[PEER] : &fg[FUZZ];
}

/* A vring of f from a byte (its low 3 bits), -1 if there is none. */
static int
pick_vq(struct fg *f, uint8_t b)
{
	return f->up && (b & 7) < f->g.nr_vq ? b & 7 : -1;
}

/* The RX (even) or TX (odd) vring of queue pair b % qp. */
static int
pick_pair(struct fg *f, uint8_t b, bool tx)
{
	return f->up ? 2 * (b % f->g.conf.qp) + tx : -1;
}

static void
corrupt(struct fg *f, int vq)
{
	f->vq[vq].corrupt = true;
	if (vq % 2 == 1)
		frames_untrusted = true;
}

static void
corrupt_all(struct fg *f)
{
	int vq;

	for (vq = 0; vq < f->g.nr_vq; vq++)
		corrupt(f, vq);
}

/* A word of f's memory written behind the switch's back: the vring whose
 * ring areas hold it is corrupt. A word in none of them may be in any
 * buffer (a TX buffer the guest rewrote itself, an RX buffer's frame),
 * and one in an RX vring's descriptors may point the switch's writes at
 * any buffer: then every vring of f is. */
static void
corrupt_at(struct fg *f, uint64_t gpa)
{
	uint64_t size, align;
	int vq, k;

	for (vq = 0; vq < f->g.nr_vq; vq++)
		for (k = 0; k < 3; k++) {
			size = virtq_area(&f->g.vq[vq].q, k, &align);
			if (gpa >= virtq_area_gpa(&f->g.vq[vq].q, k) &&
			    gpa - virtq_area_gpa(&f->g.vq[vq].q, k) < size) {
				if (vq % 2 == 1 || k != 0) {
					corrupt(f, vq);
					return;
				}
			}
		}
	corrupt_all(f);
}

/* --- checks on our guests' rings --- */

/* Whether f's connection is still one to check: up, not closed. */
static bool
live(struct fg *f)
{
	return f->up && !f->dirty && !f->stalled && !conn_closed(&f->g.conn);
}

static bool
checked(const struct fg *f, int vq)
{
	return f->up && !f->dirty && !f->vq[vq].corrupt;
}

/* Consumes vring vq's used RX entries; fails on what the switch must
 * never do to a ring the guest did not corrupt. */
static void
fg_rx(struct fg *f, int vq, const char *when)
{
	struct guest_vq *v = &f->g.vq[vq];
	struct fvq *s = &f->vq[vq];
	struct rx_report r;
	uint32_t len;
	int id, n = 0;

	if (!checked(f, vq)) {
		guest_rx_collect(&f->g, (uint16_t)vq, &r, NULL);
		return;
	}
	if (s->loose) {
		/* What the chain said when the switch read it may not be what
		 * it says now: where the header is, what a frame is. Still,
		 * only buffers in flight, never past what they hold. */
		while ((id = virtq_get_used(&v->q, &len)) != -1) {
			if (id < 0)
				fail("%s vq %d (%s): a used entry for a buffer the guest never made available",
				     f->name, vq, when);
			if (len > v->buf_len[id])
				fail("%s vq %d (%s): used length %u for buffer %d of %u bytes", f->name, vq,
				     when, len, id, v->buf_len[id]);
			n++;
		}
		v->rx.want = 0;
		saw(1, n > 0);
	} else {
		guest_rx_collect(&f->g, (uint16_t)vq, &r, NULL);
		if (r.bad_used)
			fail("%s vq %d (%s): %u used entries of buffers not made available or past their length: %s",
			     f->name, vq, when, r.bad_used, r.detail);
		if (r.bad && !frames_untrusted)
			fail("%s vq %d (%s): %u of %u frames received corrupt: %s", f->name, vq, when,
			     r.bad, r.frames, r.detail);
		n = (int)r.used;
		saw(2, r.frames > 0 ? 1 + (r.frames > 8) : 0);
		saw(3, r.foreign > 0);
	}
	if (n > 0 && s->armed)
		s->due = true;
}

static unsigned int
fg_txdone(struct fg *f, int vq, const char *when)
{
	struct guest_vq *v = &f->g.vq[vq];
	unsigned int n = 0;
	uint32_t len;
	int id;

	if (!checked(f, vq))
		return guest_tx_reclaim(&f->g, (uint16_t)vq);
	for (;;) {
		n += guest_tx_reclaim(&f->g, (uint16_t)vq);
		id = virtq_get_used(&v->q, &len);
		if (id == -1)
			break;
		if (id < 0)
			fail("%s vq %d (%s): a used TX entry for a buffer the guest never made available",
			     f->name, vq, when);
		n++; /* came in between: not checked, counted */
	}
	if (v->tx_modified)
		fail("%s vq %d (%s): the switch wrote into %llu of the guest's TX buffers (of %llu checked)",
		     f->name, vq, when, (unsigned long long)v->tx_modified,
		     (unsigned long long)v->tx_checked);
	if (n > 0 && f->vq[vq].armed)
		f->vq[vq].due = true;
	saw(4, n > 0);
	return n;
}

/* A call the guest asked for (interrupts on, nothing pending) once a
 * used entry came after that: checked before the guest changes what it
 * asked for, and at the end. */
static void
settle(struct fg *f, int vq)
{
	struct fvq *s = &f->vq[vq];
	struct virtq *q = &f->g.vq[vq].q;
	struct sw_wait w;
	bool over;

	if (!s->armed || !checked(f, vq))
		return;
	s->armed = false;
	if (!s->due && virtq_used_pending(q) == 0)
		return;
	wait_start(&w, CALL_WAIT_MS);
	for (;;) {
		over = wait_over(&w);
		if (guest_calls(&f->g, (uint16_t)vq) > s->calls_armed)
			break;
		if (!live(f))
			return;
		if (over)
			fail("%s vq %d: interrupts on at used entry %u (%s), a used entry came after it, no call within %d ms%s (calls %llu)",
			     f->name, vq, q->packed ? q->next_used : q->last_used,
			     q->packed ? "packed" : f->g.conf.event_idx ? "used_event" : "flags",
			     CALL_WAIT_MS, w.why, (unsigned long long)s->calls_armed);
		nap_us(200);
	}
	saw(15, 1);
}

/*
 * vqswitch does not wake a sleeping PMD when a guest connects or a vring
 * is set up again (only a kick on a vring the PMD armed before it slept,
 * or its 100 ms timeout, does): a new guest's first frames wait up to
 * 100 ms with --pmd-sleep. So that the PMD serves our guests while the
 * program runs (and the checks do not wait for that timeout every
 * input), an innocent guest kicks after every step that sets rings up.
 */
static void
wake_pmd(void)
{
	guest_kick(&inno[0].g, 1, true);
}

/* --- the steps --- */

/* Checksum and TSO offloads, both ways (docs/offloads.md). */
#define OFFLOAD_FEATURES \
	((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	 (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) | \
	 (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6))

static void
op_connect(struct fg *f, struct input *in, bool offloads)
{
	static const uint16_t sizes[16] = {256, 64, 16, 1024, 128, 32, 8, 512,
					   4, 2, 2048, 4096, 32768, 256, 64, 256};
	static const uint16_t mem_mb[4] = {16, 4, 2, 1};
	uint8_t a = byte(in), b = byte(in);
	struct guest_conf c = {0};
	char err[256];
	uint16_t i;

	snprintf(c.path, sizeof(c.path), "%s", f->path);
	c.packed = a & 1;
	c.event_idx = a >> 1 & 1;
	c.mrg_rxbuf = a >> 2 & 1;
	c.indirect = a >> 3 & 1;
	c.rings_at_end = a >> 4 & 1;
	c.need_reply = a >> 5 & 1;
	c.qp = a >> 6 & 1 ? 2 : 1;
	c.base_set = a >> 7;
	c.size = sizes[b & 15];
	c.mem_size = (uint64_t)mem_mb[b >> 4 & 3] << 20;
	c.no_used_hint = b >> 6 & 1;
	c.postcopy = b >> 7;
	c.features = offloads ? OFFLOAD_FEATURES : 0;
	if (c.base_set)
		c.base = (uint32_t)take(in, 2);
	fg_disconnect(f);
	fg_reset(f);
	if (now_us() < f->closed_at + reconnect_gap_us)
		nap_us((long)(f->closed_at + reconnect_gap_us - now_us()));
	if (guest_connect(&f->g, &c, err, sizeof(err)) != 0) {
		guest_disconnect(&f->g);
		saw(5, 0);
		return;
	}
	saw(5, 1 + c.packed);
	f->up = true;
	wake_pmd();
	for (i = 0; i < f->g.nr_vq; i++)
		if (f->g.vq[i].q.poisoned) /* a packed base past the ring */
			corrupt(f, i);
}

static void
op_tx(struct fg *f, struct input *in)
{
	static const uint8_t unknown[6] = {2, 0, 0, 0, 0x0f, 0x99}, mcast[6] = {1, 0, 0x5e, 0, 0, 1};
	uint8_t a = byte(in), n = byte(in) % 64 + 1, nsegs;
	struct tx_frame fr = {.tag = FUZZ_TAG};
	int vq = pick_pair(f, a, true), k, sent = 0;

	fr.len = (uint32_t)take(in, 2);
	nsegs = byte(in) % 9;
	for (k = 0; k < nsegs; k++)
		fr.segs[k] = (uint32_t)take(in, 2);
	fr.nsegs = nsegs;
	switch (a >> 3 & 3) {
	case 1:
		fr.vlan = 10;
		break;
	case 2:
		fr.vlan = 20;
		break;
	case 3:
		fr.vlan = (uint16_t)(take(in, 2) & 0xfff);
		break;
	}
	if (vq < 0)
		return;
	memcpy(fr.src, f->mac, 6);
	switch (a >> 1 & 3) {
	case 0:
		memcpy(fr.dst, other(f)->mac, 6);
		break;
	case 1:
		memset(fr.dst, 0xff, 6);
		break;
	case 2:
		memcpy(fr.dst, unknown, 6);
		break;
	default:
		memcpy(fr.dst, mcast, 6);
		break;
	}
	fr.indirect = (a >> 5 & 1) && (f->g.features >> VIRTIO_RING_F_INDIRECT_DESC & 1);
	chaos_hold(&f->g, (uint16_t)vq);
	for (k = 0; k < n; k++, sent++) {
		fr.seq = f->seq++;
		if (guest_tx_add(&f->g, (uint16_t)vq, &fr) < 0)
			break;
	}
	switch (a >> 6) {
	case 2:
		virtq_publish(&f->g.vq[vq].q);
		break;
	case 3:
		break; /* the next tx or the end publishes them */
	default:
		guest_kick(&f->g, (uint16_t)vq, false);
		break;
	}
	chaos_release(&f->g, (uint16_t)vq);
	saw(6, sent == 0 ? 0 : sent < n ? 1 : 2);
}

/*
 * A TCP or UDP frame over IPv4 or IPv6 (a VLAN tag maybe) at p, with a
 * payload of len bytes, its L4 checksum partial (the pseudo-header's sum,
 * as a guest with CSUM leaves it); how long it is. *l4 and *hdrs: where
 * its L4 header and its payload begin. p has room for len + 82 bytes.
 */
static uint32_t
ip_frame(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], bool v6, bool udp, bool vlan,
	 uint32_t len, uint16_t *l4, uint16_t *hdrs)
{
	uint32_t off = 12, l4len = (udp ? 8 : 20) + len, sum = 0, k;
	uint8_t proto = udp ? 17 : 6;

	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	if (vlan) {
		memcpy(p + off, "\x81\x00\x00\x0a", 4);
		off += 4;
	}
	p[off] = v6 ? 0x86 : 0x08;
	p[off + 1] = v6 ? 0xdd : 0x00;
	off += 2;
	if (v6) {
		memset(p + off, 0, 40);
		p[off] = 0x60;
		p[off + 4] = (uint8_t)(l4len >> 8);
		p[off + 5] = (uint8_t)l4len;
		p[off + 6] = proto;
		p[off + 7] = 64;
		p[off + 8] = p[off + 24] = 0xfd;
		p[off + 23] = 1;
		p[off + 39] = 2;
		for (k = 8; k < 40; k += 2)
			sum += (uint32_t)(p[off + k] << 8 | p[off + k + 1]);
		off += 40;
	} else {
		static const uint8_t ip[20] = {0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 0, 0, 0,
					       10, 0, 0, 1, 10, 0, 0, 2};
		uint32_t h = 0;

		memcpy(p + off, ip, 20);
		p[off + 2] = (uint8_t)((20 + l4len) >> 8);
		p[off + 3] = (uint8_t)(20 + l4len);
		p[off + 9] = proto;
		for (k = 0; k < 20; k += 2)
			h += (uint32_t)(p[off + k] << 8 | p[off + k + 1]);
		h = (h & 0xffff) + (h >> 16);
		h = (h & 0xffff) + (h >> 16);
		p[off + 10] = (uint8_t)(~h >> 8);
		p[off + 11] = (uint8_t)~h;
		for (k = 12; k < 20; k += 2)
			sum += (uint32_t)(p[off + k] << 8 | p[off + k + 1]);
		off += 20;
	}
	*l4 = (uint16_t)off;
	memset(p + off, 0, udp ? 8 : 20);
	p[off] = 0x9c; /* ports 40000 -> 5201 */
	p[off + 1] = 0x40;
	p[off + 2] = 0x14;
	p[off + 3] = 0x51;
	if (udp) {
		p[off + 4] = (uint8_t)(l4len >> 8);
		p[off + 5] = (uint8_t)l4len;
	} else {
		p[off + 12] = 0x50;
		p[off + 13] = 0x18;
	}
	sum += proto + l4len;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	p[off + (udp ? 6 : 16)] = (uint8_t)(sum >> 8);
	p[off + (udp ? 7 : 17)] = (uint8_t)sum;
	off += udp ? 8 : 20;
	*hdrs = (uint16_t)off;
	for (k = 0; k < len; k++)
		p[off + k] = (uint8_t)(k * 7);
	return off + len;
}

/*
 * A frame with a virtio-net header asking for offloads, right (mode 0)
 * or with one field the input's value (docs/offloads.md lists what each
 * must be). Whatever the header, the switch lives and the innocent pair
 * is untouched; what a receiver gets of it is not checked here (the
 * functional tests check the bytes).
 */
static void
op_tx_offload(struct fg *f, struct input *in)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static uint8_t buf[12 + 82 + 65535];
	uint8_t a = byte(in), mode = byte(in), nsegs;
	uint16_t value = (uint16_t)take(in, 2), l4, hdrs;
	uint32_t len = (uint32_t)take(in, 2), segs[8], total;
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	bool v6 = a >> 3 & 1, udp = a >> 4 & 1;
	int vq = pick_pair(f, a, true), k;
	uint32_t hdr_len;

	nsegs = byte(in) % 9;
	for (k = 0; k < nsegs; k++)
		segs[k] = (uint32_t)take(in, 2);
	if (vq < 0)
		return;
	hdr_len = f->g.hdr_len;
	len = len < 65535u - 82 ? len : 65535u - 82;
	memset(buf, 0, hdr_len);
	total = hdr_len + ip_frame(buf + hdr_len, a >> 1 & 1 ? other(f)->mac : bcast, f->mac, v6, udp,
				   a >> 5 & 1, len, &l4, &hdrs);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = l4;
	h->csum_offset = udp ? 6 : 16;
	if (!udp && value % 2048 > 0 && len > value % 2048) { /* a GSO frame */
		h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h->gso_size = value % 2048;
		h->hdr_len = hdrs;
	}
	switch (mode % 8) {
	case 1: h->flags = (uint8_t)value; break;
	case 2: h->gso_type = (uint8_t)value; break;
	case 3: h->gso_size = value; break;
	case 4: h->csum_start = value; break;
	case 5: h->csum_offset = value; break;
	case 6: h->hdr_len = value; break;
	case 7: h->flags = 0; break;
	}
	chaos_hold(&f->g, (uint16_t)vq);
	k = guest_tx_raw(&f->g, (uint16_t)vq, buf, total, segs, nsegs, a >> 6 & 1);
	guest_kick(&f->g, (uint16_t)vq, false);
	chaos_release(&f->g, (uint16_t)vq);
	saw(16, k >= 0 ? 1 + (mode % 8) : 0);
}

static void
op_rxpost(struct fg *f, struct input *in)
{
	uint8_t a = byte(in), n = byte(in) % 64 + 1, nsegs = (a >> 2 & 7) + 1;
	bool chain = a >> 1 & 1;
	uint32_t lens[8], total = 0;
	int vq = pick_pair(f, a, false), k, posted;

	for (k = 0; k < (chain ? nsegs : 1); k++) {
		lens[k] = (uint32_t)take(in, 2);
		total += lens[k];
	}
	if (vq < 0)
		return;
	if (total < f->g.hdr_len)
		f->vq[vq].loose = true; /* where would the header go */
	if (total < f->g.hdr_len + PROBE_LEN)
		f->vq[vq].small_rx = true;
	chaos_hold(&f->g, (uint16_t)vq);
	posted = chain ? guest_rx_post_chain(&f->g, (uint16_t)vq, n, lens, nsegs) :
			 guest_rx_post(&f->g, (uint16_t)vq, n, lens, 1);
	chaos_release(&f->g, (uint16_t)vq);
	saw(7, posted == 0 ? 0 : posted < n ? 1 : 2);
}

static void
op_chaos(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	int vq = pick_vq(f, a), kind = (a >> 3 & 15) % 5;
	long arg = a >> 7 ? (long)take(in, 2) : -1;
	struct fvq *s;
	char err[256];
	uint16_t size, ahead;

	if (vq < 0)
		return;
	s = &f->vq[vq];
	if (f->g.vq[vq].chaos != NULL) {
		saw(8, chaos_stop(&f->g, (uint16_t)vq) > 0);
		chaos_running--;
		return;
	}
	if (kind == 4)
		settle(f, vq);
	if (chaos_running >= MAX_CHAOS ||
	    chaos_start(&f->g, (uint16_t)vq, chaos_kinds[kind], arg, err, sizeof(err)) != 0)
		return;
	chaos_running++;
	saw(9, (unsigned int)kind);
	size = f->g.conf.size;
	switch (kind) {
	case 0: /* avail_back: truth - X, which is truth + (65536 - X) */
	case 1: /* avail_ahead */
		/* Entries up to `size` ahead are as good as published: the
		 * switch may take what is in them (stale heads). */
		ahead = kind == 0 ? (uint16_t)(0 - (arg >= 0 ? arg : 8)) : (uint16_t)(arg >= 0 ? arg : size + 1);
		if ((ahead != 0 && ahead <= size) || library_datapath)
			corrupt(f, vq);
		s->unsteady = true;
		break;
	case 2: /* desc_flip: what the switch read may have been the flipped value */
		if (library_datapath)
			corrupt(f, vq);
		s->unsteady = true;
		if (vq % 2 == 0)
			s->loose = true;
		else
			frames_untrusted = true;
		break;
	case 4: /* event_random: what a call decision read may have been random */
		s->armed = false;
		break;
	default:
		break;
	}
}

static void
op_intr(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	int vq = pick_vq(f, a), mode = a >> 3 & 3;
	uint16_t x = mode == 2 ? byte(in) : mode == 3 ? (uint16_t)take(in, 2) : 0;
	struct virtq *q;
	struct fvq *s;

	if (vq < 0)
		return;
	q = &f->g.vq[vq].q;
	s = &f->vq[vq];
	settle(f, vq);
	chaos_hold(&f->g, (uint16_t)vq);
	switch (mode) {
	case 0:
		if (!virtq_enable_interrupts(q) && f->g.vq[vq].chaos == NULL) {
			s->armed = true;
			s->due = false;
			s->calls_armed = guest_calls(&f->g, (uint16_t)vq);
		}
		break;
	case 1:
		virtq_disable_interrupts(q);
		break;
	case 2:
		virtq_enable_interrupts_delayed(q, x);
		break;
	default:
		virtq_set_used_event(q, x);
		break;
	}
	chaos_release(&f->g, (uint16_t)vq);
}

static void
op_raw_desc(struct fg *f, struct input *in)
{
	struct raw_desc d[8];
	uint16_t heads[4], bump;
	int vq = pick_vq(f, byte(in)), n = byte(in) % 8 + 1, nh = byte(in) % 4 + 1, k;

	for (k = 0; k < n; k++) {
		uint64_t a = take(in, 4);

		d[k].addr = (a & 1) ? a << 16 : GMEM_BASE + a % (f->up ? f->g.mem.size : 1);
		d[k].len = (uint32_t)take(in, 3);
		d[k].flags = byte(in);
		d[k].next = byte(in);
	}
	for (k = 0; k < nh; k++)
		heads[k] = byte(in);
	bump = byte(in) % 3 == 0 ? (uint16_t)take(in, 2) : 0;
	if (vq < 0)
		return;
	/* RX descriptors anywhere: the switch's writes may land in any
	 * buffer of f's, a TX buffer too. */
	if (vq % 2 == 0)
		corrupt_all(f);
	else
		corrupt(f, vq);
	chaos_hold(&f->g, (uint16_t)vq);
	hostile_raw(&f->g, (uint16_t)vq, d, n, heads, nh, bump);
	chaos_release(&f->g, (uint16_t)vq);
}

static void
op_hostile_desc(struct fg *f, struct input *in)
{
	uint8_t a = byte(in), b = byte(in);
	const char *const *k = hostile_desc_kinds;
	char err[256];
	int n = 0, vq;

	while (k[n] != NULL)
		n++;
	k += a % n;
	vq = pick_pair(f, b, strncmp(*k, "rx_", 3) != 0);
	if (vq < 0)
		return;
	chaos_hold(&f->g, (uint16_t)vq);
	if (hostile_desc(&f->g, (uint16_t)vq, *k, err, sizeof(err)) == 0)
		corrupt(f, vq);
	chaos_release(&f->g, (uint16_t)vq);
}

static void
op_hostile_msg(struct fg *f, struct input *in)
{
	const char *const *k = hostile_msg_kinds;
	uint8_t a = byte(in);
	char err[256];
	int n = 0;

	while (k[n] != NULL)
		n++;
	if (!f->up || f->g.conn.fd < 0)
		return;
	f->dirty = true;
	frames_untrusted = true;
	chaos_hold_all(&f->g, true); /* call_pipe sends a frame on vring 1 */
	hostile_msg(&f->g, k[a % n], err, sizeof(err));
	chaos_hold_all(&f->g, false);
}

/* Any request, payload and descriptors. The header's size may lie, but
 * never so that the switch is left waiting for bytes that do not come
 * (that is `stall`, which costs the switch's message timeout). */
static void
op_raw_msg(struct fg *f, struct input *in)
{
	uint8_t buf[VHU_HDR_SIZE + 256];
	uint32_t hdr[3];
	size_t plen = byte(in);
	int nfds = byte(in) % 4;
	bool honest;

	hdr[0] = byte(in) % (VHU_REQUEST_MAX + 2);
	hdr[1] = byte(in) % 4 == 0 ? VHU_VERSION | VHU_FLAG_NEED_REPLY : VHU_VERSION;
	hdr[2] = (uint32_t)take(in, 2);
	honest = byte(in) & 1;
	if (plen > in->left)
		plen = in->left;
	if (honest || plen == 0 || (hdr[2] < plen && plen - hdr[2] >= VHU_HDR_SIZE))
		hdr[2] = (uint32_t)plen;
	memcpy(buf, hdr, VHU_HDR_SIZE);
	memcpy(buf + VHU_HDR_SIZE, in->p, plen);
	in->p += plen;
	in->left -= plen;
	if (!f->up || f->g.conn.fd < 0)
		return;
	{
		int fds[3] = {f->g.mem.fd, f->g.vq[0].callfd, f->g.vq[1].kickfd};

		while (nfds > 0 && fds[nfds - 1] < 0)
			nfds--;
		f->dirty = true;
		frames_untrusted = true;
		vhu_send_bytes(&f->g.conn, buf, VHU_HDR_SIZE + plen, fds, nfds);
	}
}

static void
op_vring_state(struct fg *f, struct input *in, uint32_t request)
{
	uint8_t a = byte(in);
	int vq = pick_vq(f, a);
	uint16_t size = f->up ? f->g.conf.size : 256;
	uint32_t num;

	if (request == VHU_SET_VRING_BASE) {
		num = (uint32_t)take(in, 4);
	} else {
		switch (a >> 3 & 7) {
		case 0:
			num = 2u * size;
			break;
		case 1:
			num = size / 2u;
			break;
		case 2:
			num = 32768;
			break;
		case 3:
			num = 0;
			break;
		case 4:
			num = 3;
			break;
		case 5:
			num = size;
			break;
		case 6:
			num = (uint32_t)take(in, 2);
			break;
		default:
			num = (uint32_t)take(in, 4);
			break;
		}
	}
	if (vq < 0)
		return;
	/* The device's ring is not the guest's any more; a larger one
	 * reaches past the guest's rings into whatever follows them (its
	 * used entries written there, its descriptors read from there). */
	if (request == VHU_SET_VRING_NUM && num > f->g.vq[vq].q.size)
		corrupt_all(f);
	else
		corrupt(f, vq);
	chaos_hold(&f->g, (uint16_t)vq);
	attack_vring_state(&f->g, request, (uint16_t)vq, num);
	chaos_release(&f->g, (uint16_t)vq);
	saw(10, (uint64_t)(f->g.conn.ack + 1));
}

static void
op_vring_move(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	int vq = pick_vq(f, a);
	char err[256];

	if (vq < 0)
		return;
	/* Entries completed in the old rings meanwhile are lost to the
	 * guest; a device may take them again from the copy, or not. */
	corrupt(f, vq);
	chaos_hold(&f->g, (uint16_t)vq);
	attack_vring_move(&f->g, (uint16_t)vq, a >> 3 & 1, err, sizeof(err));
	chaos_release(&f->g, (uint16_t)vq);
	saw(11, (uint64_t)(f->g.conn.ack + 1));
}

static void
op_mem(struct fg *f, struct input *in)
{
	uint8_t a = byte(in), b = byte(in);
	char err[256];

	if (!f->up)
		return;
	switch (a % 4) {
	case 1:
		f->remapped = true;
		attack_mem_shrink(&f->g, (long)(b % (f->g.mem.size >> 20)) + 1, err, sizeof(err));
		break;
	case 2:
		f->remapped = true;
		attack_mem_split(&f->g, err, sizeof(err));
		break;
	default:
		attack_mem_remap(&f->g);
		break;
	}
	saw(12, (uint64_t)(a % 4) << 8 | (uint64_t)(f->g.conn.ack + 1));
}

static void
op_msg_fail(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	long index = a >> 1 & 1 ? (long)((a >> 2) % 8) : -1;
	char err[256];

	if (!f->up || (index >= 0 && index >= f->g.nr_vq))
		return;
	if (attack_msg_fail(&f->g, msg_fail_kinds[a & 1], index, err, sizeof(err)) == 0 &&
	    f->g.conn.ack > 0)
		f->acked_fail = true;
	saw(13, (uint64_t)(f->g.conn.ack + 1));
}

static void
op_poke(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	int vq = pick_vq(f, a), area = (a >> 3) % 3;
	uint32_t off = (uint32_t)take(in, 3);
	uint16_t val = (uint16_t)take(in, 2), *w;
	struct virtq *q;
	uint64_t gpa;

	if (vq < 0)
		return;
	/* Anywhere from the area on: a ring's own words, or where a device
	 * that believes the ring larger, or elsewhere, would look. */
	q = &f->g.vq[vq].q;
	gpa = virtq_area_gpa(q, area) + (off & ~1u);
	w = gmem_ptr(&f->g.mem, gpa, 2);
	if (w == NULL)
		return;
	corrupt_at(f, gpa);
	chaos_hold(&f->g, (uint16_t)vq);
	__atomic_store_n(w, val, __ATOMIC_RELEASE);
	guest_kick(&f->g, (uint16_t)vq, true);
	chaos_release(&f->g, (uint16_t)vq);
}

/* Dirty-page logging as a migrating QEMU drives it, on the running
 * device: on, a new log, off; or on with a log the switch must refuse
 * (at an offset, or in a file that may shrink: the connection ends). The
 * rings stay the guest's. */
static void
op_log(struct fg *f, struct input *in)
{
	uint8_t a = byte(in);
	char err[256];

	if (!f->up)
		return;
	switch (a % 5) {
	case 0:
		guest_log_start(&f->g, 0, true, err, sizeof(err));
		break;
	case 1:
		guest_log_new_base(&f->g, err, sizeof(err));
		break;
	case 2:
		guest_log_stop(&f->g, err, sizeof(err));
		break;
	default:
		f->dirty = true;
		frames_untrusted = true;
		if (a % 5 == 3)
			guest_log_start(&f->g, 4096, true, err, sizeof(err));
		else
			guest_log_start(&f->g, 0, false, err, sizeof(err));
		break;
	}
	saw(17, (uint64_t)(a % 5) << 8 | (f->g.conn.fd >= 0));
}

/* One step; false when the program must end (a stall). */
static bool
step(struct input *in)
{
	uint8_t opb = byte(in);
	struct fg *f = &fg[opb >> 7];
	enum op op = (enum op)((opb & 0x7f) % NOPS);
	uint8_t a;
	int vq;

	saw(0, op);
	switch (op) {
	case OP_CONNECT:
	case OP_CONNECT_OL:
		op_connect(f, in, op == OP_CONNECT_OL);
		break;
	case OP_TX_OL:
		op_tx_offload(f, in);
		break;
	case OP_LOG:
		op_log(f, in);
		break;
	case OP_DISCONNECT:
		fg_disconnect(f);
		break;
	case OP_TX:
		op_tx(f, in);
		break;
	case OP_RXPOST:
		op_rxpost(f, in);
		break;
	case OP_RX:
		vq = pick_pair(f, byte(in), false);
		if (vq >= 0) {
			chaos_hold(&f->g, (uint16_t)vq);
			fg_rx(f, vq, "rx");
			chaos_release(&f->g, (uint16_t)vq);
		}
		break;
	case OP_TXDONE:
		vq = pick_pair(f, byte(in), true);
		if (vq >= 0) {
			chaos_hold(&f->g, (uint16_t)vq);
			fg_txdone(f, vq, "txdone");
			chaos_release(&f->g, (uint16_t)vq);
		}
		break;
	case OP_CHAOS:
		op_chaos(f, in);
		break;
	case OP_KICK:
		vq = pick_vq(f, byte(in));
		if (vq >= 0) {
			chaos_hold(&f->g, (uint16_t)vq);
			guest_kick(&f->g, (uint16_t)vq, true);
			chaos_release(&f->g, (uint16_t)vq);
		}
		break;
	case OP_INTR:
		op_intr(f, in);
		break;
	case OP_FLAGS:
		vq = pick_vq(f, byte(in));
		a = byte(in);
		if (vq >= 0) {
			settle(f, vq);
			chaos_hold(&f->g, (uint16_t)vq);
			virtq_set_flags(&f->g.vq[vq].q, (uint16_t)(a << 8 | byte(in)));
			chaos_release(&f->g, (uint16_t)vq);
		} else {
			byte(in);
		}
		break;
	case OP_RAW_DESC:
		op_raw_desc(f, in);
		break;
	case OP_HOSTILE_DESC:
		op_hostile_desc(f, in);
		break;
	case OP_HOSTILE_MSG:
		op_hostile_msg(f, in);
		break;
	case OP_RAW_MSG:
		op_raw_msg(f, in);
		break;
	case OP_VRING_NUM:
		op_vring_state(f, in, VHU_SET_VRING_NUM);
		break;
	case OP_VRING_BASE:
		op_vring_state(f, in, VHU_SET_VRING_BASE);
		break;
	case OP_VRING_MOVE:
		op_vring_move(f, in);
		break;
	case OP_MEM:
		op_mem(f, in);
		break;
	case OP_MSG_FAIL:
		op_msg_fail(f, in);
		break;
	case OP_STALL:
		/* Rarely: it costs the switch's message timeout. */
		if (byte(in) == STALL_BYTE && f->up && f->g.conn.fd >= 0 && attack_stall(&f->g) == 0) {
			f->stalled = true;
			return false;
		}
		break;
	case OP_SLEEP:
		a = byte(in);
		nap_us(a < 192 ? 20 + 5 * a : 1000 + (a - 192) * 200);
		break;
	case OP_CALL_SWAP:
		vq = pick_vq(f, byte(in));
		if (vq >= 0) {
			/* Without REPLY_ACK nothing says when the switch let go
			 * of the old eventfd: a call may land there after we
			 * last read it (QEMU has the same race). */
			if (!f->g.conn.reply_ack)
				f->vq[vq].armed = false;
			saw(14, guest_call_swap(&f->g, (uint16_t)vq) == 0);
		}
		break;
	case OP_FORGE_USED:
		vq = pick_vq(f, byte(in));
		if (vq >= 0 && !f->g.vq[vq].q.packed) {
			corrupt(f, vq);
			chaos_hold(&f->g, (uint16_t)vq);
			__atomic_store_n(&f->g.vq[vq].q.used->idx, f->g.vq[vq].q.avail_idx, __ATOMIC_RELEASE);
			chaos_release(&f->g, (uint16_t)vq);
		}
		break;
	case OP_POKE:
		op_poke(f, in);
		break;
	default:
		break;
	}
	if (op == OP_HOSTILE_MSG || op == OP_RAW_MSG || (op >= OP_VRING_NUM && op <= OP_MSG_FAIL) ||
	    op == OP_CALL_SWAP)
		wake_pmd(); /* the vrings were (maybe) set up again */
	return true;
}

/* --- after the program: what must hold on our guests --- */

/* The TX vrings whose every published buffer must come back. */
static bool
tx_steady(struct fg *f, int vq)
{
	return checked(f, vq) && !f->vq[vq].unsteady && !f->remapped;
}

static void
check_tx_completed(struct fg *f)
{
	uint16_t vq;

	for (vq = 1; vq < f->g.nr_vq; vq += 2) {
		struct virtq *q = &f->g.vq[vq].q;
		struct sw_wait w;
		bool over;

		if (!tx_steady(f, vq))
			continue;
		wait_start(&w, TX_WAIT_MS);
		for (;;) {
			over = wait_over(&w);
			fg_txdone(f, vq, "end");
			if (q->num_free == q->size || !live(f))
				break;
			if (over)
				fail("%s vq %u: %u of %u TX descriptors still with the switch %d ms after the end%s%s",
				     f->name, vq, q->size - q->num_free, q->size, TX_WAIT_MS, w.why,
				     f->acked_fail ? " (a failed NEED_REPLY message before: the port is paused?)" : "");
			nap_us(100);
		}
	}
}

/* Interrupts on, the driver's way; false if used entries keep coming. */
static bool
arm(struct fg *f, int vq, uint64_t *calls)
{
	int k;

	for (k = 0; k < 4; k++) {
		if (!virtq_enable_interrupts(&f->g.vq[vq].q)) {
			*calls = guest_calls(&f->g, (uint16_t)vq);
			return true;
		}
		if (vq % 2 == 0)
			fg_rx(f, vq, "probe");
		else
			fg_txdone(f, vq, "probe");
	}
	return false;
}

/* A frame from a to b: a's TX buffer comes back with a call, the frame
 * reaches b intact with a call. Only where neither did anything after
 * which the switch may rightly stop serving the rings: a port left paused
 * (a failed message answered but the connection kept) fails here. */
static void
probe(struct fg *a, struct fg *b)
{
	struct tx_frame fr = {.tag = PROBE_TAG, .len = PROBE_LEN};
	uint64_t tx_calls, rx_calls[GUEST_MAX_QP], next_send = 0;
	struct sw_wait w;
	uint32_t blen = 2048;
	bool got = false, called = false;
	int k, sends = 0, rx_q = b->up ? b->g.conf.qp : 0;

	if (!live(a) || !live(b) || !tx_steady(a, 1) || b->remapped)
		return;
	for (k = 0; k < rx_q; k++) {
		struct fvq *s = &b->vq[2 * k];

		if (!checked(b, 2 * k) || s->unsteady || s->small_rx || s->loose)
			return;
	}
	for (k = 0; k < rx_q; k++) {
		struct virtq *q = &b->g.vq[2 * k].q;

		fg_rx(b, 2 * k, "probe");
		if (guest_next_id(&b->g, (uint16_t)(2 * k)) >= 0)
			guest_rx_post(&b->g, (uint16_t)(2 * k), 1, &blen, 1);
		/* No buffer at all (its guest memory is full): nothing to probe. */
		if (q->num_free == q->size || !arm(b, 2 * k, &rx_calls[k]))
			return;
	}
	if (guest_next_id(&a->g, 1) < 0 || !arm(a, 1, &tx_calls))
		return;
	/* Broadcast: a's raw descriptors may have sent b's frames back,
	 * and the switch learned b's address on a's port. */
	memset(fr.dst, 0xff, 6);
	memcpy(fr.src, a->mac, 6);
	wait_start(&w, TX_WAIT_MS);
	for (;;) {
		struct rx_report r;
		bool done, over = wait_over(&w);

		/* Again every 5 ms until one arrives: a port that has just
		 * connected may not be up yet (frames to it are dropped). */
		if (!got && now_us() >= next_send && guest_next_id(&a->g, 1) >= 0) {
			fr.seq = a->seq++;
			if (guest_tx_add(&a->g, 1, &fr) < 0)
				return;
			guest_kick(&a->g, 1, true);
			next_send = now_us() + 5000;
			sends++;
		}
		for (k = 0; k < rx_q; k++) {
			guest_rx_collect(&b->g, (uint16_t)(2 * k), &r, NULL);
			if (r.bad_used || (r.bad && !frames_untrusted))
				fail("%s -> %s probe: %s vq %d received %s", a->name, b->name, b->name,
				     2 * k, r.detail);
			if (r.frames > 0) {
				got = true;
				called |= guest_calls(&b->g, (uint16_t)(2 * k)) > rx_calls[k];
			}
		}
		for (k = 0; k < rx_q && got && !called; k++)
			called = guest_calls(&b->g, (uint16_t)(2 * k)) > rx_calls[k];
		fg_txdone(a, 1, "probe");
		done = a->g.vq[1].q.num_free == a->g.vq[1].q.size && guest_calls(&a->g, 1) > tx_calls;
		if ((got && called && done) || !live(a) || !live(b))
			return;
		if (over)
			fail("%s -> %s probe frames (%d sent), %d ms%s: %s (%s call); %s's TX buffers %s, %s%s",
			     a->name, b->name, sends, TX_WAIT_MS, w.why, got ? "received" : "NONE received",
			     called ? "with a" : "NO", a->name,
			     a->g.vq[1].q.num_free == a->g.vq[1].q.size ? "back" : "NOT back",
			     guest_calls(&a->g, 1) > tx_calls ? "with a call" : "NO call",
			     a->acked_fail || b->acked_fail ?
			     " (a failed NEED_REPLY message before: the port is paused?)" : "");
		nap_us(100);
	}
}

static void
finish_guests(void)
{
	int k;

	for (k = 0; k < NGUESTS; k++) {
		struct fg *f = &fg[k];

		if (f->stalled && !wait_closed(&f->g.conn, STALL_WAIT_MS))
			fail("%s stalled in the middle of a message; the switch has not closed the connection %d ms later",
			     f->name, STALL_WAIT_MS);
		if (!f->up)
			continue;
		chaos_running -= running_chaos(f);
		chaos_stop_all(&f->g); /* the rings say the truth again */
	}
	wake_pmd();
	for (k = 0; k < NGUESTS; k++) {
		struct fg *f = &fg[k];
		uint16_t vq;

		if (!f->up)
			continue;
		for (vq = 1; vq < f->g.nr_vq; vq += 2)
			guest_kick(&f->g, vq, true); /* publish=0 frames too */
	}
	for (k = 0; k < NGUESTS; k++) {
		uint16_t vq;

		for (vq = 0; fg[k].up && vq < fg[k].g.nr_vq; vq++)
			settle(&fg[k], vq);
	}
	for (k = 0; k < NGUESTS; k++)
		if (fg[k].up && !fg[k].dirty)
			check_tx_completed(&fg[k]);
	for (k = 0; k < NGUESTS; k++) {
		uint16_t vq;

		for (vq = 0; fg[k].up && vq < fg[k].g.nr_vq; vq += 2)
			fg_rx(&fg[k], vq, "end");
	}
	probe(&fg[FUZZ], &fg[PEER]);
	probe(&fg[PEER], &fg[FUZZ]);
	for (k = 0; k < NGUESTS; k++)
		fg_disconnect(&fg[k]);
}

/* --- the innocent pair --- */

static void
inno_connect(struct inno *x, bool packed, bool event_idx, bool mrg)
{
	struct guest_conf c = {.packed = packed, .event_idx = event_idx, .mrg_rxbuf = mrg, .qp = 1,
			       .size = 256, .mem_size = 16 << 20};
	uint32_t blen = 2048;
	char err[256];
	int tries;

	snprintf(c.path, sizeof(c.path), "%s", x->path);
	for (tries = 0; guest_connect(&x->g, &c, err, sizeof(err)) != 0; tries++) {
		guest_disconnect(&x->g);
		if (tries == 50) {
			fprintf(stderr, "fuzz_stateful: innocent guest %s cannot connect: %s\n", x->name, err);
			exit(2);
		}
		nap_us(100000);
	}
	guest_rx_post(&x->g, 0, 256, &blen, 1);
}

static bool
inno_closed(struct inno *x)
{
	return conn_closed(&x->g.conn);
}

/* A frame from `from` must be one of the awaited ones, whole. */
static void
inno_frame(struct inno *x, const struct inno *from, const uint8_t *p, uint32_t len, uint16_t nb)
{
	uint32_t seq, k;

	if (len < 14 || memcmp(p + 6, from->mac, 6) != 0)
		return; /* a flood from our other guests */
	x->frames++;
	if (len < 23 || p[12] != 0x88 || p[13] != 0xb5 || memcmp(p + 14, "VQS", 3) != 0 ||
	    (p[17] << 8 | p[18]) != INNO_TAG)
		fail("%s received a frame from %s that %s never sent (%u bytes)", x->name, from->name,
		     from->name, len);
	seq = (uint32_t)p[19] << 24 | (uint32_t)p[20] << 16 | (uint32_t)p[21] << 8 | p[22];
	if (!inno_settled && seq - x->expect_lo >= INNO_FRAMES)
		return;
	/* Late from an exchange that was allowed to give up (a loaded
	 * machine): whole, and once. */
	if (seq - x->late_lo < INNO_FRAMES && (x->late >> (seq - x->late_lo) & 1)) {
		if (len != inno_len[seq - x->late_lo] || nb != 1 || memcmp(p, x->mac, 6) != 0)
			fail("%s received late frame %u from %s as %u bytes in %u buffers (sent %u bytes)",
			     x->name, seq, from->name, len, nb, inno_len[seq - x->late_lo]);
		x->late &= ~(1u << (seq - x->late_lo));
		return;
	}
	if (seq - x->expect_lo >= INNO_FRAMES || (x->got >> (seq - x->expect_lo) & 1))
		fail("%s received frame %u from %s again or late (awaited %u..%u)", x->name, seq,
		     from->name, x->expect_lo, x->expect_lo + INNO_FRAMES - 1);
	if (len != inno_len[seq - x->expect_lo] || nb != 1 || memcmp(p, x->mac, 6) != 0)
		fail("%s received frame %u from %s as %u bytes in %u buffers (sent %u bytes)", x->name,
		     seq, from->name, len, nb, inno_len[seq - x->expect_lo]);
	for (k = 23; k < len; k++)
		if (p[k] != (uint8_t)((k - 23) * 7 + seq))
			fail("%s received frame %u from %s corrupt at byte %u", x->name, seq, from->name, k);
	x->got |= 1u << (seq - x->expect_lo);
}

static void
inno_rx(struct inno *x, const struct inno *from)
{
	struct guest_vq *v = &x->g.vq[0];
	bool mrg = x->g.features >> VIRTIO_NET_F_MRG_RXBUF & 1;
	uint32_t len, blen = 2048;
	int id, done = 0;

	while ((id = virtq_get_used(&v->q, &len)) != -1) {
		const uint8_t *p;
		uint16_t nb = 1;

		if (id < 0)
			fail("%s: a used RX entry for a buffer it never made available", x->name);
		if (len > v->buf_len[id])
			fail("%s: used length %u for a %u-byte RX buffer", x->name, len, v->buf_len[id]);
		done++;
		p = gmem_ptr(&x->g.mem, v->buf[id], len);
		if (x->skip > 0) {
			x->skip--;
			continue;
		}
		if (len < x->g.hdr_len || p == NULL)
			fail("%s: used length %u, shorter than the virtio-net header", x->name, len);
		if (mrg)
			nb = ((const struct virtio_net_hdr_mrg_rxbuf *)(const void *)p)->num_buffers;
		if (nb == 0 || nb > v->q.size)
			fail("%s: num_buffers %u", x->name, nb);
		x->skip = nb - 1u;
		inno_frame(x, from, p + x->g.hdr_len, len - x->g.hdr_len, nb);
	}
	if (done > 0)
		guest_rx_post(&x->g, 0, done, &blen, 1);
}

static void
inno_txdone(struct inno *x)
{
	struct guest_vq *v = &x->g.vq[1];
	uint32_t len;

	guest_tx_reclaim(&x->g, 1);
	if (virtq_get_used(&v->q, &len) < -1)
		fail("%s: a used TX entry for a buffer it never made available", x->name);
	if (v->tx_modified)
		fail("%s: the switch wrote into %llu of its TX buffers", x->name,
		     (unsigned long long)v->tx_modified);
}

/* Interrupts on (the receiver's RX, the sender's TX); the calls so far. */
static uint64_t
inno_arm(struct inno *x, uint16_t vq, const struct inno *from)
{
	int k;

	for (k = 0; k < 100; k++) {
		if (!virtq_enable_interrupts(&x->g.vq[vq].q))
			return guest_calls(&x->g, vq);
		if (vq == 0)
			inno_rx(x, from);
		else
			inno_txdone(x);
	}
	fail("%s vq %u: used entries keep coming with nothing sent", x->name, vq);
}

/* Frames both ways; false (if !must) when they did not all arrive. */
static bool
inno_exchange(int wait_ms, bool must)
{
	struct inno *a = &inno[0], *b = &inno[1];
	uint64_t rx0[2], tx0[2];
	struct sw_wait w;
	int k, j;

	for (k = 0; k < 2; k++) {
		if (!inno_closed(&inno[k]))
			continue;
		if (switch_dead())
			fail("vqswitch (pid %d) died", (int)switch_pid);
		fail("the switch closed innocent guest %s's connection", inno[k].name);
	}
	inno_rx(a, b);
	inno_rx(b, a);
	inno_txdone(a);
	inno_txdone(b);
	for (k = 0; k < 2; k++) {
		struct inno *x = &inno[k], *y = &inno[1 - k];

		rx0[k] = inno_arm(x, 0, y);
		tx0[k] = inno_arm(x, 1, y);
	}
	for (k = 0; k < 2; k++) {
		struct inno *x = &inno[k], *y = &inno[1 - k];
		struct tx_frame f = {.tag = INNO_TAG};

		memcpy(f.dst, y->mac, 6);
		memcpy(f.src, x->mac, 6);
		y->expect_lo = inno_seq;
		y->got = 0;
		for (j = 0; j < INNO_FRAMES; j++) {
			f.len = inno_len[j];
			f.seq = inno_seq + (uint32_t)j;
			if (guest_tx_add(&x->g, 1, &f) < 0)
				fail("%s: no room in its TX ring (%u free): buffers not given back",
				     x->name, x->g.vq[1].q.num_free);
		}
		guest_kick(&x->g, 1, false);
	}
	inno_seq += INNO_FRAMES;
	wait_start(&w, wait_ms);
	for (;;) {
		/* An exchange allowed to give up does so at its deadline. */
		bool ok = true, over = must ? wait_over(&w) : now_us() > w.end;

		inno_rx(a, b);
		inno_rx(b, a);
		inno_txdone(a);
		inno_txdone(b);
		for (k = 0; k < 2; k++) {
			struct inno *x = &inno[k];

			ok = ok && x->got == (1u << INNO_FRAMES) - 1 && guest_calls(&x->g, 0) > rx0[k] &&
			     x->g.vq[1].q.num_free == x->g.vq[1].q.size && guest_calls(&x->g, 1) > tx0[k];
		}
		if (ok)
			return true;
		if (over)
			break;
		nap_us(50);
	}
	if (switch_dead())
		fail("vqswitch (pid %d) died", (int)switch_pid);
	if (!must) {
		for (k = 0; k < 2; k++) { /* late ones are not failures, twice ones are */
			inno[k].late_lo = inno[k].expect_lo;
			inno[k].late = ~inno[k].got & ((1u << INNO_FRAMES) - 1);
			inno[k].got = (1u << INNO_FRAMES) - 1;
		}
		return false;
	}
	for (k = 0; k < 2; k++) {
		struct inno *x = &inno[k], *y = &inno[1 - k];

		fprintf(stderr, "fuzz_stateful: %s: frames from %s received %#x of %#x, RX calls %s; TX buffers back %u of %u, TX calls %s; connection %s\n",
			x->name, y->name, x->got, (1u << INNO_FRAMES) - 1,
			guest_calls(&x->g, 0) > rx0[k] ? "yes" : "NO",
			x->g.vq[1].q.num_free, x->g.vq[1].q.size,
			guest_calls(&x->g, 1) > tx0[k] ? "yes" : "NO", inno_closed(x) ? "CLOSED" : "open");
	}
	fail("the innocent guests' frames did not all arrive, come back and signal within %d ms%s", wait_ms,
	     w.why);
}

/* --- the switch itself --- */

static void
check_switch(void)
{
	char path[160];
	struct vhu_conn c;
	uint64_t features, deadline;
	bool ok;

	if (switch_dead())
		fail("vqswitch (pid %d) died", (int)switch_pid);
	snprintf(path, sizeof(path), "%s/fuzz.sock", sock_dir);
	/* A port serves one connection and lets one more wait: the probe is
	 * refused (closed at once) while the fuzzer's guest and a connection
	 * the switch has not seen close yet (the last probe's) hold both.
	 * Tried again until the switch has had 2 s to catch up. */
	deadline = now_us() + 2000000;
	for (;;) {
		if (vhu_connect(&c, path) != 0)
			fail("vqswitch does not accept connections on %s", path);
		ok = vhu_get_u64(&c, VHU_GET_FEATURES, &features) == 0;
		vhu_close(&c);
		if (ok)
			break;
		if (switch_dead())
			fail("vqswitch (pid %d) died", (int)switch_pid);
		if (now_us() > deadline)
			fail("vqswitch does not answer GET_FEATURES on %s within 2 s", path);
		nap_us(20000);
	}
	fg[FUZZ].closed_at = now_us();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int k;

	(void)argc;
	(void)argv;
	sock_dir = getenv("VQS_FUZZ_DIR");
	switch_pid = (pid_t)atoi(getenv("VQS_FUZZ_PID") ? getenv("VQS_FUZZ_PID") : "0");
	if (sock_dir == NULL || switch_pid <= 0) {
		fprintf(stderr, "set VQS_FUZZ_DIR and VQS_FUZZ_PID (scripts/fuzz.sh does)\n");
		exit(2);
	}
	verbose = getenv("VQS_FUZZ_VERBOSE") != NULL;
	library_datapath = getenv("VQS_DATAPATH") != NULL && strcmp(getenv("VQS_DATAPATH"), "library") == 0;
	reconnect_gap_us = getenv("VQS_FUZZ_RECONNECT_GAP_MS") ?
			   (uint64_t)atoi(getenv("VQS_FUZZ_RECONNECT_GAP_MS")) * 1000 : 0;
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1000UL); /* naps of tens of microseconds */
	for (k = 0; k < NGUESTS; k++)
		snprintf(fg[k].path, sizeof(fg[k].path), "%s/%s.sock", sock_dir, fg[k].name);
	for (k = 0; k < 2; k++)
		snprintf(inno[k].path, sizeof(inno[k].path), "%s/%s.sock", sock_dir, inno[k].name);
	/* Two layouts: split with EVENT_IDX and mergeable buffers, packed
	 * with neither. */
	inno_connect(&inno[0], false, true, true);
	inno_connect(&inno[1], true, false, false);
	/* The ports come up (frames before that are lost), the addresses
	 * are learned. */
	for (k = 0; !inno_exchange(500, false); k++)
		if (k == 20) {
			fprintf(stderr, "fuzz_stateful: the innocent guests cannot exchange frames\n");
			exit(2);
		}
	inno_settled = true;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	uint64_t t0 = now_us();
	int steps = 0;

	inputs++;
	frames_untrusted = false;
	while (in.left > 0 && steps < MAX_STEPS && now_us() - t0 < STEP_BUDGET_MS * 1000) {
		steps++;
		if (!step(&in))
			break;
		nap_us(STEP_NAP_US);
	}
	if (verbose)
		fprintf(stderr, "fuzz_stateful: input %llu: %zu bytes, %d steps in %llu us, ",
			(unsigned long long)inputs, size, steps, (unsigned long long)(now_us() - t0));
	finish_guests();
	if (verbose)
		fprintf(stderr, "checked at %llu us, ", (unsigned long long)(now_us() - t0));
	/* Frames of the input still in flight (a broadcast storm) may fill
	 * an innocent guest's RX ring just as its frames come: dropped, as a
	 * switch drops for a full ring. Once that has passed, the exchange
	 * must go through, given longer: on a loaded machine (the suite's
	 * three streams beside two busy loops) an ASan switch and the pair's
	 * own threads took over a second. */
	if (!inno_exchange(INNO_WAIT_MS, false))
		inno_exchange(5 * INNO_WAIT_MS, true);
	check_switch();
	if (verbose)
		fprintf(stderr, "done at %llu us\n", (unsigned long long)(now_us() - t0));
	return 0;
}
