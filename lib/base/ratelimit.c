/* SPDX-License-Identifier: BSD-3-Clause */
#include "ratelimit.h"

bool
vqs_ratelimit_ok(struct vqs_ratelimit *rl, uint32_t *suppressed)
{
	uint64_t now = vqs_now_ms();
	bool ok;

	rte_spinlock_lock(&rl->lock);
	if (rl->start_ms == 0 || now - rl->start_ms >= VQS_RATELIMIT_WINDOW_MS) {
		rl->start_ms = now;
		rl->n = 0;
	}
	ok = rl->n < VQS_RATELIMIT_BURST;
	*suppressed = 0;
	if (ok) {
		rl->n++;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	rte_spinlock_unlock(&rl->lock);
	return ok;
}
