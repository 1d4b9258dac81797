/* SPDX-License-Identifier: BSD-3-Clause
 * Limits and logging shared by every vqswitch module.
 *
 * lib/base: the tools every other folder of lib/ uses, and that use none
 * of them (nothing in base/ includes a header from outside base/include/).
 * Every header of base/include/ is public, one a tool, included on its
 * own where it is needed:
 *   vqs.h             limits (each constant with its reason), per-PMD
 *                     counters, the log macro, the monotonic clock
 *   err.h             struct vqs_err: one line of text beside an errno
 *   log.h             a log type per module; vlog/set, vlog/list
 *   ratelimit.h       log lines that a guest or a peer can trigger
 *   buf.h, json.h     growing text; the control protocol's JSON
 *   paths.h           directories, sockets and the instance lock root
 *                     makes for other users
 *   syscall_filter.h  system calls refused to the whole process
 *
 * Threads. The tools keep no state shared between threads, but for:
 *  - the counters below: each has one writer (the PMD that owns it),
 *    relaxed stores; any thread reads them relaxed and never writes them;
 *    clearing moves a baseline (vqs_counters_rebase), on the control
 *    thread.
 *  - the log (log.h): VQS_LOG and VQS_LOG_RL on any thread;
 *    vqs_log_init once, before rte_eal_init; a capture
 *    (vqs_log_capture_start/_end) is the calling thread's own.
 *  - a rate limit (ratelimit.h): any thread, under its own spinlock.
 * A vqs_buf or a parsed JSON object belongs to the thread that made it.
 * syscall_filter.h is for start-up, before rte_eal_init.
 */
#ifndef VQS_H
#define VQS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <rte_log.h>

#include "log.h"

#define VQS_NAME_MAX      32   /* port and bridge names, NUL included */
#define VQS_PATH_MAX      108  /* sun_path of a Unix socket */
#define VQS_MAX_PORTS     256
#define VQS_MAX_BRIDGES   16
#define VQS_VLAN_MAX      4095 /* VLAN ids are 0..4095; 0 means untagged */
#define VQS_MAX_PMDS      64
#define VQS_BURST         32   /* librte_vhost clamps every burst to 32 */
#define VQS_DIRECT_BURST  64   /* frames a pass takes from a guest TX vring it
				* processes itself (at most VQS_OUT_MAX): the
				* ring's index reads, used-ring publish and call
				* decision per 64 frames, not 32 (5% fewer
				* cycles at 64 bytes, measured) */
#define VQS_VHOST_MAX_QP  8    /* queue pairs a vhost port can poll */
#define VQS_OUT_MAX       64   /* frames gathered per destination in a pass
				* before they are sent: two library bursts */
#define VQS_TX_RETRIES    8    /* extra tries while a full ring still drains */
#define VQS_FULL_POLL_PASSES 1024 /* a power of two: passes between polls that
				   * do not trust the peek (vhost/include/peek.h) */
#define VQS_MAX_FRAME_LEN 9216 /* default largest frame switched (9000 MTU + headers) */
#define VQS_MAX_FRAME_LIMIT 65535 /* --max-frame-len at most */
#define VQS_MIN_FRAME_LEN 14   /* an Ethernet header */
#define VQS_MAX_ARGS      16   /* words in one command */

/* A file's lines go to its module's log type (log.h), named in front. */
#ifndef VQS_LOG_MODULE
#define VQS_LOG_MODULE VQS_LOG_MAIN
#endif
#define VQS_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vqs_logtypes[VQS_LOG_MODULE], "%s: " fmt "\n", \
		vqs_log_names[VQS_LOG_MODULE], ##__VA_ARGS__)

/* Milliseconds of the monotonic clock, for deadlines and rate limits on
 * threads that are not EAL lcores (where the TSC helpers need EAL). */
static inline uint64_t
vqs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Relaxed 64-bit counters: one writer (the PMD that owns them), readers on
 * other threads sum them without locks. */
static inline void
vqs_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t
vqs_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * Clearing counters that a PMD owns: the PMD keeps counting and the clear
 * moves a baseline instead, so no counter ever has two writers. Both work
 * on n counters laid out as consecutive uint64_t.
 */
static inline void
vqs_counters_since(const uint64_t *now, const uint64_t *base, uint64_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = now[i] - vqs_read(&base[i]);
}

static inline void
vqs_counters_rebase(const uint64_t *now, uint64_t *base, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		__atomic_store_n(&base[i], now[i], __ATOMIC_RELAXED);
}

#endif
