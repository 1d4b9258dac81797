/* SPDX-License-Identifier: BSD-3-Clause
 * vqguest: the test guest driven line by line on stdin. Each command
 * answers one line, "ok key=value..." or "err why". See docs/testing.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "attack.h"
#include "guest.h"
#include "guest_log.h"
#include "hostile.h"

#define MAX_ARGS 16

struct args {
	int n;
	char *key[MAX_ARGS], *val[MAX_ARGS];
};

static const char *
arg(const struct args *a, const char *key, const char *dflt)
{
	int k;

	for (k = 0; k < a->n; k++)
		if (strcmp(a->key[k], key) == 0)
			return a->val[k];
	return dflt;
}

static long
num(const struct args *a, const char *key, long dflt)
{
	const char *v = arg(a, key, NULL);

	return v ? strtol(v, NULL, 0) : dflt;
}

/* key's value, a number in lo..hi, into *out; -1 with err set if it is
 * missing or not such a number. */
static int
num_in(const struct args *a, const char *key, long lo, long hi, long *out, char *err, size_t len)
{
	const char *v = arg(a, key, NULL);
	char *end;

	if (v == NULL) {
		snprintf(err, len, "%s=N missing", key);
		return -1;
	}
	errno = 0;
	*out = strtol(v, &end, 0);
	if (errno != 0 || end == v || *end != '\0' || *out < lo || *out > hi) {
		snprintf(err, len, "%s must be %ld..%ld", key, lo, hi);
		return -1;
	}
	errno = 0;
	return 0;
}

/* "a,b,c" into at most max numbers; how many. */
static int
num_list(const char *s, uint32_t *out, int max)
{
	int n = 0;

	while (s != NULL && *s != '\0' && n < max) {
		char *end;

		out[n++] = (uint32_t)strtoul(s, &end, 0);
		s = *end == ',' ? end + 1 : NULL;
	}
	return n;
}

static int
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	int k;

	if (s == NULL || sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (k = 0; k < 6; k++)
		mac[k] = (uint8_t)b[k];
	return 0;
}

static bool connected;

/* Appends prefix and the NULL-terminated names, comma-separated, to out
 * (used bytes so far); the new length. */
static size_t
append_names(char *out, size_t len, size_t used, const char *prefix, const char *const *names)
{
	const char *sep = prefix;

	for (; *names != NULL && used < len; names++, sep = ",")
		used += (size_t)snprintf(out + used, len - used, "%s%s", sep, *names);
	return used;
}

static int
vq_arg(struct guest *g, const struct args *a, char *err, size_t len)
{
	long i = num(a, "vq", -1);

	if (!connected) {
		snprintf(err, len, "not connected");
		return -1;
	}
	if (i < 0 || i >= g->nr_vq) {
		snprintf(err, len, "vq must be 0..%d", g->nr_vq - 1);
		return -1;
	}
	return (int)i;
}

static int
cmd_connect(struct guest *g, struct guest_conf *c, const struct args *a, char *out, size_t len)
{
	const char *path = arg(a, "path", NULL);

	if (connected) {
		snprintf(out, len, "already connected");
		return -1;
	}
	if (arg(a, "base", NULL) != NULL) { /* -1: back to the default */
		long base;

		if (num_in(a, "base", -1, 0xffffffffL, &base, out, len) != 0)
			return -1;
		c->base_set = base >= 0;
		c->base = (uint32_t)base;
	}
	if (path != NULL)
		snprintf(c->path, sizeof(c->path), "%s", path);
	c->packed = num(a, "packed", c->packed);
	c->event_idx = num(a, "event_idx", c->event_idx);
	c->mrg_rxbuf = num(a, "mrg", c->mrg_rxbuf);
	c->indirect = num(a, "indirect", c->indirect);
	c->no_used_hint = !num(a, "used_hint", !c->no_used_hint);
	c->postcopy = (int)num(a, "postcopy", c->postcopy);
	c->qp = (uint16_t)num(a, "qp", c->qp);
	c->size = (uint16_t)num(a, "size", c->size);
	c->mem_size = (uint64_t)num(a, "mem", (long)(c->mem_size >> 20)) << 20;
	c->rings_at_end = num(a, "rings_at_end", c->rings_at_end);
	c->need_reply = num(a, "need_reply", c->need_reply);
	c->legacy = num(a, "legacy", c->legacy);
	c->features = (uint64_t)num(a, "features", (long)c->features);
	c->insist = num(a, "insist", c->insist);
	if (guest_connect(g, c, out, len) != 0) {
		guest_disconnect(g);
		return -1;
	}
	connected = true;
	snprintf(out, len, "features=0x%llx offered=0x%llx",
		 (unsigned long long)g->features, (unsigned long long)g->offered);
	return 0;
}

static int
cmd_tx(struct guest *g, int i, const struct args *a, char *out, size_t len)
{
	struct tx_frame f = {.len = (uint32_t)num(a, "len", 60), .tag = (uint16_t)num(a, "tag", 0),
			     .vlan = (uint16_t)num(a, "vlan", 0),
			     .seq = (uint32_t)num(a, "seq", 0), .indirect = num(a, "indirect", 0)};
	long n = num(a, "n", 1), k;

	if (parse_mac(arg(a, "dst", NULL), f.dst) != 0 || parse_mac(arg(a, "src", NULL), f.src) != 0) {
		snprintf(out, len, "tx needs dst=MAC src=MAC");
		return -1;
	}
	f.nsegs = num_list(arg(a, "segs", NULL), f.segs, VIRTQ_MAX_SEGS);
	for (k = 0; k < n; k++, f.seq++)
		if (guest_tx_add(g, (uint16_t)i, &f) < 0)
			break;
	/* the whole batch behind one index update and one kick decision;
	 * publish=0: neither, the next tx publishes this batch with its own */
	if (!num(a, "publish", 1))
		;
	else if (num(a, "kick", 1))
		guest_kick(g, (uint16_t)i, false);
	else
		virtq_publish(&g->vq[i].q);
	snprintf(out, len, "sent=%ld", k);
	return 0;
}

/* txraw file=PATH: the file's bytes as one TX buffer, virtio-net header
 * and all (segs= and indirect= as for tx), published and kicked. */
/* The file=PATH argument's bytes (at most GUEST_MAX_FRAME + 64) into buf;
 * how many, or -1 with out set. */
static long
read_file_arg(const struct args *a, const char *verb, uint8_t *buf, size_t cap, char *out, size_t len)
{
	const char *path = arg(a, "file", NULL);
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	size_t n;

	if (f == NULL) {
		snprintf(out, len, "%s needs file=PATH: %s", verb, path ? strerror(errno) : "missing");
		return -1;
	}
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

static uint8_t file_buf[GUEST_MAX_FRAME + 64];

static int
cmd_txraw(struct guest *g, int i, const struct args *a, char *out, size_t len)
{
	uint8_t *buf = file_buf;
	uint32_t segs[VIRTQ_MAX_SEGS];
	long n = read_file_arg(a, "txraw", buf, sizeof(file_buf), out, len);
	int id;

	if (n < 0)
		return -1;
	id = guest_tx_raw(g, (uint16_t)i, buf, (uint32_t)n, segs,
			  num_list(arg(a, "segs", NULL), segs, VIRTQ_MAX_SEGS), num(a, "indirect", 0));
	guest_kick(g, (uint16_t)i, false);
	snprintf(out, len, "sent=%d", id >= 0);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* blast file=PATH ms=T: for T ms, the file's bytes (virtio-net header and
 * frame) queued again as fast as the switch gives buffers back, kicking
 * as the ring asks; a benchmark's sender (scripts/bench_gso.py). */
static int
cmd_blast(struct guest *g, int i, const struct args *a, char *out, size_t len)
{
	uint8_t *buf = file_buf;
	double end = now_s() + (double)num(a, "ms", 1000) / 1000;
	unsigned long long sent = 0;
	long n = read_file_arg(a, "blast", buf, sizeof(file_buf), out, len);

	if (n < 0)
		return -1;
	g->unchecked = true; /* a hash of 64 KB a frame would be the bottleneck */
	while (now_s() < end) {
		bool queued = false;
		uint32_t ulen;

		while (virtq_get_used(&g->vq[i].q, &ulen) >= 0)
			;
		while (guest_tx_raw(g, (uint16_t)i, buf, (uint32_t)n, NULL, 0, false) >= 0) {
			sent++;
			queued = true;
		}
		if (queued)
			guest_kick(g, (uint16_t)i, false);
	}
	g->unchecked = false;
	snprintf(out, len, "sent=%llu", sent);
	return 0;
}

/* sink ms=T [len=L]: for T ms, every used RX buffer given back at once
 * (L bytes, default 4096), its bytes counted, nothing checked; a
 * benchmark's receiver. Answers buffers= bytes= (headers included). */
static int
cmd_sink(struct guest *g, int i, const struct args *a, char *out, size_t len)
{
	struct guest_vq *v = &g->vq[i];
	double end = now_s() + (double)num(a, "ms", 1000) / 1000;
	uint32_t blen = (uint32_t)num(a, "len", 4096), ulen;
	unsigned long long bufs = 0, bytes = 0;
	int id, k;

	while (now_s() < end) {
		k = 0;
		while ((id = virtq_get_used(&v->q, &ulen)) >= 0) {
			bytes += ulen;
			k++;
		}
		if (k > 0) {
			bufs += (unsigned long long)k;
			guest_rx_post(g, (uint16_t)i, k, &blen, 1);
		}
	}
	snprintf(out, len, "buffers=%llu bytes=%llu", bufs, bytes);
	return 0;
}

static int
cmd_state(struct guest *g, int i, char *out, size_t len)
{
	struct guest_vq *v = &g->vq[i];
	struct virtq *q = &v->q;
	size_t used;

	guest_calls(g, (uint16_t)i);
	/* where the rings are (rings_at_end, vring_move) */
	used = (size_t)snprintf(out, len,
				"desc_gpa=0x%llx driver_gpa=0x%llx device_gpa=0x%llx mem_end=0x%llx ",
				(unsigned long long)q->desc_gpa, (unsigned long long)q->driver_gpa,
				(unsigned long long)q->device_gpa,
				(unsigned long long)(GMEM_BASE + g->mem.size));
	out += used;
	len -= used;
	if (q->packed)
		snprintf(out, len,
			 "pending=%u num_free=%u next_avail=%u next_used=%u used_wrap=%d device_flags=%u device_off_wrap=%u kicks=%llu suppressed=%llu calls=%llu",
			 virtq_used_pending(q), q->num_free, q->next_avail, q->next_used, q->used_wrap,
			 q->device_event->flags, q->device_event->off_wrap,
			 (unsigned long long)v->kicks, (unsigned long long)v->kicks_suppressed,
			 (unsigned long long)v->calls);
	else
		snprintf(out, len,
			 "pending=%u num_free=%u avail_idx=%u last_used=%u used_idx=%u used_flags=%u avail_event=%u kicks=%llu suppressed=%llu calls=%llu",
			 virtq_used_pending(q), q->num_free, q->avail_idx, q->last_used,
			 __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE), q->used->flags,
			 *q->avail_event, (unsigned long long)v->kicks,
			 (unsigned long long)v->kicks_suppressed, (unsigned long long)v->calls);
	return 0;
}

/* A malicious QEMU's answer: the switch's ack (-1: none) and whether it
 * then closed the connection. */
static int
answer_ack(struct guest *g, char *out, size_t len)
{
	snprintf(out, len, "ack=%lld closed=%d", (long long)g->conn.ack,
		 g->conn.fd < 0 || vhu_peer_closed(&g->conn, 300));
	return 0;
}

static const char *const qemu_verbs[] = {"mem_remap", "mem_shrink", "mem_split", "msg_fail",
					 "stall", NULL};

static bool
is_qemu_verb(const char *verb)
{
	const char *const *v;

	for (v = qemu_verbs; *v != NULL; v++)
		if (strcmp(verb, *v) == 0)
			return true;
	return false;
}

/* The malicious QEMU's messages on the whole device; 1 if verb is none. */
static int
cmd_qemu(struct guest *g, const char *verb, const struct args *a, char *out, size_t len)
{
	long n = -1;
	int rc;

	if (strcmp(verb, "mem_remap") == 0)
		rc = attack_mem_remap(g);
	else if (strcmp(verb, "mem_shrink") == 0)
		rc = num_in(a, "mb", 1, 1L << 20, &n, out, len) != 0 ? -1 :
			attack_mem_shrink(g, n, out, len);
	else if (strcmp(verb, "mem_split") == 0)
		rc = attack_mem_split(g, out, len);
	else if (strcmp(verb, "msg_fail") == 0)
		rc = arg(a, "index", NULL) && num_in(a, "index", 0, 255, &n, out, len) != 0 ? -1 :
			attack_msg_fail(g, arg(a, "kind", ""), n, out, len);
	else if (strcmp(verb, "stall") != 0)
		return 1;
	else if (attack_stall(g) == 0)
		return 0; /* nothing to wait for: the switch waits for the rest */
	else
		rc = snprintf(out, len, "could not send");
	return rc != 0 ? -1 : answer_ack(g, out, len);
}

static int
cmd_chaos(struct guest *g, int i, const struct args *a, char *out, size_t len)
{
	long x = -1;

	if (!num(a, "on", 1)) {
		snprintf(out, len, "rounds=%llu", (unsigned long long)chaos_stop(g, (uint16_t)i));
		return 0;
	}
	if (arg(a, "arg", NULL) != NULL && num_in(a, "arg", 0, 0xffffffffL, &x, out, len) != 0)
		return -1;
	return chaos_start(g, (uint16_t)i, arg(a, "kind", ""), x, out, len);
}

/* Dirty-page logging as a migrating QEMU drives it (guest_log.h):
 * log do=on|base|off|snap|check [all=1] [offset=N] [sealed=0]. check
 * fails if a page the switch wrote is not marked. */
static int
cmd_log(struct guest *g, const struct args *a, char *out, size_t len)
{
	const char *what = arg(a, "do", "");
	long missing;

	if (strcmp(what, "on") == 0)
		return guest_log_start(g, (uint64_t)num(a, "offset", 0), num(a, "sealed", 1) != 0, out, len);
	if (strcmp(what, "base") == 0)
		return guest_log_new_base(g, out, len);
	if (strcmp(what, "off") == 0)
		return guest_log_stop(g, out, len);
	if (strcmp(what, "snap") == 0)
		return guest_log_snapshot(g, out, len);
	if (strcmp(what, "check") == 0) {
		missing = guest_log_check(g, num(a, "all", 0) != 0, out, len);
		return missing == 0 ? 0 : -1;
	}
	snprintf(out, len, "log do=on|base|off|snap|check");
	return -1;
}

static int run_vq(struct guest *g, int i, const char *verb, const struct args *a, char *out,
		  size_t len);

static int
run(struct guest *g, struct guest_conf *c, const char *verb, const struct args *a, char *out,
    size_t len)
{
	int i = -1, rc;

	out[0] = '\0';
	if (strcmp(verb, "connect") == 0)
		return cmd_connect(g, c, a, out, len);
	if (strcmp(verb, "disconnect") == 0) {
		if (connected)
			guest_disconnect(g);
		connected = false;
		return 0;
	}
	if (strcmp(verb, "sleep") == 0) {
		struct timespec ts = {.tv_sec = num(a, "ms", 0) / 1000,
				      .tv_nsec = num(a, "ms", 0) % 1000 * 1000000};

		nanosleep(&ts, NULL);
		return 0;
	}
	if (strcmp(verb, "kinds") == 0) {
		size_t used = append_names(out, len, 0, "desc=", hostile_desc_kinds);

		used = append_names(out, len, used, " msg=", hostile_msg_kinds);
		used = append_names(out, len, used, " chaos=", chaos_kinds);
		append_names(out, len, used, " fail=", msg_fail_kinds);
		return 0;
	}
	if (!connected && (strcmp(verb, "badmsg") == 0 || is_qemu_verb(verb))) {
		snprintf(out, len, "not connected");
		return -1;
	}
	if (strcmp(verb, "badmsg") == 0) {
		chaos_hold_all(g, true); /* call_pipe sends a frame on vring 1 */
		rc = hostile_msg(g, arg(a, "kind", ""), out, len);
		chaos_hold_all(g, false);
		if (rc != 0 && out[0] != '\0')
			return -1;
		snprintf(out, len, "closed=%d", g->conn.fd < 0 || vhu_peer_closed(&g->conn, 300));
		return 0;
	}
	rc = cmd_qemu(g, verb, a, out, len);
	if (rc != 1)
		return rc;
	if (strcmp(verb, "features") == 0 && connected) {
		snprintf(out, len, "features=0x%llx offered=0x%llx", (unsigned long long)g->features,
			 (unsigned long long)g->offered);
		return 0;
	}
	if (strcmp(verb, "log") == 0 && connected)
		return cmd_log(g, a, out, len);
	if (strcmp(verb, "rarp") == 0 && connected) {
		/* SEND_RARP, as QEMU sends it to the destination's backend
		 * after a migration: the MAC in the payload's first bytes.
		 * fds=N (up to 8): N eventfds sent along, which QEMU never
		 * does: the switch must close them. */
		uint64_t payload = 0;
		int fds[8], n = (int)num(a, "fds", 0), i, rc;

		if (parse_mac(arg(a, "mac", NULL), (uint8_t *)&payload) != 0 || n < 0 || n > 8) {
			snprintf(out, len, "rarp mac=XX:XX:XX:XX:XX:XX [fds=0..8]");
			return -1;
		}
		for (i = 0; i < n; i++)
			fds[i] = eventfd(0, EFD_CLOEXEC);
		rc = vhu_send(&g->conn, VHU_SEND_RARP, &payload, sizeof(payload), fds, n);
		for (i = 0; i < n; i++)
			close(fds[i]);
		return rc == 0 ? 0 : -1;
	}
	if (strcmp(verb, "word") == 0 && connected) {
		/* A 16-bit word of guest memory (written first with set=):
		 * a canary where the device must no longer write. */
		uint16_t *w = gmem_ptr(&g->mem, (uint64_t)num(a, "gpa", 0), sizeof(*w));

		if (w == NULL) {
			snprintf(out, len, "gpa outside guest memory");
			return -1;
		}
		if (arg(a, "set", NULL) != NULL)
			__atomic_store_n(w, (uint16_t)num(a, "set", 0), __ATOMIC_RELAXED);
		snprintf(out, len, "value=%u", __atomic_load_n(w, __ATOMIC_RELAXED));
		return 0;
	}
	i = vq_arg(g, a, out, len);
	if (i < 0)
		return -1;
	if (strcmp(verb, "chaos") == 0) /* not held: stopping waits for the thread */
		return cmd_chaos(g, i, a, out, len);
	chaos_hold(g, (uint16_t)i);
	rc = run_vq(g, i, verb, a, out, len);
	chaos_release(g, (uint16_t)i);
	return rc;
}

/* The commands on one vring, i (held from any chaos thread). */
static int
run_vq(struct guest *g, int i, const char *verb, const struct args *a, char *out, size_t len)
{
	long n;

	if (strcmp(verb, "rxpost") == 0) {
		uint32_t lens[VIRTQ_MAX_SEGS];
		const char *segs = arg(a, "segs", NULL);
		int nl = num_list(segs ? segs : arg(a, "len", "2048"), lens, VIRTQ_MAX_SEGS);

		/* segs: each buffer a chain of these pieces; len: one piece each */
		snprintf(out, len, "posted=%d",
			 segs ? guest_rx_post_chain(g, (uint16_t)i, (int)num(a, "n", 1), lens, nl)
			      : guest_rx_post(g, (uint16_t)i, (int)num(a, "n", 1), lens, nl));
		return 0;
	}
	if (strcmp(verb, "txcheck") == 0) {
		snprintf(out, len, "modified=%llu checked=%llu",
			 (unsigned long long)g->vq[i].tx_modified,
			 (unsigned long long)g->vq[i].tx_checked);
		return 0;
	}
	if (strcmp(verb, "vring_num") == 0 || strcmp(verb, "vring_base") == 0) {
		if (num_in(a, "num", 0, 0xffffffffL, &n, out, len) != 0)
			return -1;
		attack_vring_state(g, strcmp(verb, "vring_num") == 0 ? VHU_SET_VRING_NUM
								      : VHU_SET_VRING_BASE,
				   (uint16_t)i, (uint32_t)n);
		return answer_ack(g, out, len);
	}
	if (strcmp(verb, "vring_move") == 0) {
		struct virtq *q = &g->vq[i].q;
		size_t used;

		if (attack_vring_move(g, (uint16_t)i, num(a, "edge", 0), out, len) != 0)
			return -1;
		answer_ack(g, out, len);
		used = strlen(out);
		snprintf(out + used, len - used, " desc_gpa=0x%llx driver_gpa=0x%llx device_gpa=0x%llx",
			 (unsigned long long)q->desc_gpa, (unsigned long long)q->driver_gpa,
			 (unsigned long long)q->device_gpa);
		return 0;
	}
	if (strcmp(verb, "rx") == 0) {
		const char *path = arg(a, "dump", NULL);
		FILE *dump = path != NULL ? fopen(path, "ab") : NULL;
		struct rx_report r;

		if (path != NULL && dump == NULL) {
			snprintf(out, len, "cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		guest_rx_collect(g, (uint16_t)i, &r, dump);
		if (dump != NULL)
			fclose(dump);
		snprintf(out, len, "frames=%u foreign=%u bad=%u used=%u bad_used=%u bytes=%llu detail=%s",
			 r.frames, r.foreign, r.bad, r.used, r.bad_used, (unsigned long long)r.bytes,
			 r.detail[0] ? r.detail : "-");
		return 0;
	}
	if (strcmp(verb, "tx") == 0)
		return cmd_tx(g, i, a, out, len);
	if (strcmp(verb, "txraw") == 0)
		return cmd_txraw(g, i, a, out, len);
	if (strcmp(verb, "blast") == 0)
		return cmd_blast(g, i, a, out, len);
	if (strcmp(verb, "sink") == 0)
		return cmd_sink(g, i, a, out, len);
	if (strcmp(verb, "txdone") == 0) {
		snprintf(out, len, "reclaimed=%u", guest_tx_reclaim(g, (uint16_t)i));
		return 0;
	}
	if (strcmp(verb, "calls") == 0) {
		snprintf(out, len, "calls=%llu", (unsigned long long)guest_calls(g, (uint16_t)i));
		return 0;
	}
	if (strcmp(verb, "call_swap") == 0) {
		if (guest_call_swap(g, (uint16_t)i) != 0) {
			snprintf(out, len, "SET_VRING_CALL failed");
			return -1;
		}
		return 0;
	}
	if (strcmp(verb, "waitcall") == 0) {
		snprintf(out, len, "calls=%llu",
			 (unsigned long long)guest_wait_call(g, (uint16_t)i, (int)num(a, "ms", 1000)));
		return 0;
	}
	if (strcmp(verb, "intr") == 0) {
		if (num(a, "on", 1) && arg(a, "delay", NULL) != NULL) {
			snprintf(out, len, "pending=%d",
				 virtq_enable_interrupts_delayed(&g->vq[i].q, (uint16_t)num(a, "delay", 0)));
		} else if (num(a, "on", 1)) {
			snprintf(out, len, "pending=%d", virtq_enable_interrupts(&g->vq[i].q));
		} else {
			virtq_disable_interrupts(&g->vq[i].q);
		}
		return 0;
	}
	if (strcmp(verb, "used_event") == 0) {
		virtq_set_used_event(&g->vq[i].q, (uint16_t)num(a, "idx", 0));
		return 0;
	}
	if (strcmp(verb, "flags") == 0) {
		virtq_set_flags(&g->vq[i].q, (uint16_t)num(a, "value", 0));
		return 0;
	}
	if (strcmp(verb, "kick") == 0) {
		guest_kick(g, (uint16_t)i, true);
		return 0;
	}
	if (strcmp(verb, "forge_used") == 0) {
		/* A guest writing the device's used index of a split ring up to
		 * its own avail index: the switch's peek then sees nothing to
		 * take, and only its periodic full poll finds the entries. */
		if (g->vq[i].q.packed) {
			snprintf(out, len, "forge_used: split rings only");
			return -1;
		}
		__atomic_store_n(&g->vq[i].q.used->idx, g->vq[i].q.avail_idx, __ATOMIC_RELEASE);
		snprintf(out, len, "used_idx=%u", g->vq[i].q.avail_idx);
		return 0;
	}
	if (strcmp(verb, "state") == 0)
		return cmd_state(g, i, out, len);
	if (strcmp(verb, "hostile") == 0)
		return hostile_desc(g, (uint16_t)i, arg(a, "kind", ""), out, len);
	snprintf(out, len, "unknown command '%s'", verb);
	return -1;
}

int
main(void)
{
	struct guest_conf conf = {.mrg_rxbuf = true, .qp = 1, .size = 256, .mem_size = 256 << 20};
	static struct guest g;
	char line[4096], out[2048];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		struct args a = {0};
		char *save = NULL, *verb = strtok_r(line, " \t\n", &save), *tok;

		if (verb == NULL || verb[0] == '#')
			continue;
		if (strcmp(verb, "quit") == 0)
			break;
		while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL && a.n < MAX_ARGS) {
			char *eq = strchr(tok, '=');

			a.key[a.n] = tok;
			a.val[a.n] = eq ? (*eq = '\0', eq + 1) : (char *)"1";
			a.n++;
		}
		errno = 0;
		if (run(&g, &conf, verb, &a, out, sizeof(out)) == 0)
			printf("ok %s\n", out);
		else
			printf("err %s\n", out[0] ? out : "failed");
	}
	if (connected)
		guest_disconnect(&g);
	return 0;
}
