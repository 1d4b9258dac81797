/* SPDX-License-Identifier: BSD-3-Clause
 * Rate limits for log lines that someone outside the operator's control can
 * trigger (a guest's messages and reconnects, a peer on the control
 * socket): at most VQS_RATELIMIT_BURST lines per window per call site; the
 * next line that gets through says how many were left out. As OVS's
 * VLOG_WARN_RL.
 */
#ifndef VQS_RATELIMIT_H
#define VQS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_spinlock.h>

#include "vqs.h"

#define VQS_RATELIMIT_BURST     10
#define VQS_RATELIMIT_WINDOW_MS 5000

struct vqs_ratelimit {
	rte_spinlock_t lock; /* call sites may run on several threads */
	uint64_t start_ms;
	uint32_t n;
	uint32_t suppressed;
};

#define VQS_RATELIMIT_INIT { .lock = RTE_SPINLOCK_INITIALIZER }

/* True if a line may be logged now; *suppressed: lines left out since the
 * last one that was logged, to be reported with it. */
bool vqs_ratelimit_ok(struct vqs_ratelimit *rl, uint32_t *suppressed);

#define VQS_LOG_RL(rl, level, fmt, ...) do { \
	uint32_t vqs_sup_; \
	if (vqs_ratelimit_ok((rl), &vqs_sup_)) { \
		if (vqs_sup_ != 0) \
			VQS_LOG(level, "(%u lines like the next one were left out)", vqs_sup_); \
		VQS_LOG(level, fmt, ##__VA_ARGS__); \
	} \
} while (0)

#endif
