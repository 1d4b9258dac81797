/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A vring needs a re-raised interrupt when, at two checks one period
 * apart, (1) the guest asked to be interrupted at used_event (EVENT_IDX),
 * (2) the published used index has gone past it, so librte_vhost should
 * have interrupted it, and (3) nothing moved: not the guest's avail index,
 * not the used index, not used_event. A guest that got its interrupt
 * would have consumed the entries and moved used_event up to the used
 * index. The re-raise therefore always finds used entries the guest has
 * not consumed: it is never one of the spurious interrupts after which
 * Linux disables the IRQ. Except one value: Linux turns EVENT_IDX
 * interrupts off by writing used_event = 0 (its "hack" in
 * virtqueue_disable_cb_split) and leaves it there while it consumes, and
 * a TX ring that never asked for interrupts has 0 there too. Used entries
 * past 0 then say nothing about what is consumed, so used_event 0 (and a
 * NO_INTERRUPT flag) means "not waiting". A guest that really waits at 0
 * is one at a 65536-entry wrap or one that has not consumed anything
 * yet, and librte_vhost signals the first used entry of a vring anyway.
 * Packed rings are checked the same way when the switch processes them
 * itself (--datapath=direct: a packed ring keeps no indexes in guest
 * memory, so only the switch knows its used position): the guest waits
 * at the slot in its event structure's off_wrap (flags DESC, EVENT_IDX),
 * and disables interrupts with flags DISABLE, not a special value.
 *
 * Without EVENT_IDX the guest wants an interrupt for every used entry
 * while NO_INTERRUPT is clear, but nothing the protocol defines says what
 * it has consumed. Linux says it all the same: whenever it enables
 * interrupts it writes the used entry it consumed up to into used_event,
 * EVENT_IDX or not (virtqueue_enable_cb_prepare_split), and 0 is not its
 * "off" there (the flag is). So split rings of the direct datapath are
 * checked as above with that hint, once the watchdog has seen it move: a
 * driver that never writes it leaves 0 (or whatever the memory held)
 * there for good, and is never checked, for a re-raise could find
 * nothing used. Packed rings without EVENT_IDX have no such word and are
 * not checked; nor are rings without EVENT_IDX of the library's datapath
 * (librte_vhost maps their avail ring without used_event: the direct
 * datapath reads it only when the memory table holds it).
 *
 * The same pass counts stalls: a guest TX ring (odd id) with frames made
 * available that the switch took none of for a whole period: some waited
 * at the last check already, and the position did not move since. librte_vhost
 * stops at a descriptor it cannot map (outside guest memory, looping,
 * too long) and never consumes it, so a broken or hostile guest shows up
 * here and nowhere else; running out of mbufs does too. Once a stall.
 */
#define VQS_LOG_MODULE VQS_LOG_WATCHDOG

#include <rte_cycles.h>

#include "ratelimit.h"
#include "vqs_switch.h"
#include "vqs_vhost.h"

#define LOG_EVERY_S 60

/* Used entries published past the one the guest waits at (0: none, or it
 * is not waiting; more than the ring's size: it waits at a later one). */
static uint16_t
unconsumed(const struct vqs_vring_info *v, bool hint_live)
{
	uint16_t ev = v->used_event, at = v->used_idx;

	if (!v->enabled || v->no_interrupt)
		return 0;
	if (!v->packed && v->event_idx)
		return v->used_event != 0 ? (uint16_t)(at - ev) : 0;
	if (!v->packed && v->used_hint)
		return hint_live ? (uint16_t)(at - ev) : 0;
	if (!v->packed || !v->event_idx || !v->direct || !v->event_desc)
		return 0;
	/* Slots from ev to at: the same lap, or ev in the lap before. */
	return ((ev ^ at) & 0x8000) ? (uint16_t)(v->size - (ev & 0x7fff) + (at & 0x7fff)) :
				      (uint16_t)((at & 0x7fff) - (ev & 0x7fff));
}

/* Unconsumed entries the guest should have had an interrupt for, or 0. */
static uint16_t
owed_entries(const struct vqs_vring_info *v, bool hint_live)
{
	uint16_t ahead = unconsumed(v, hint_live);

	return ahead <= v->size ? ahead : 0;
}

static void
check_stall(struct vqs_port *p, const struct vqs_vring_info *v, typeof(p->vhost.wd[0]) *w)
{
	static struct vqs_ratelimit rl = VQS_RATELIMIT_INIT; /* a guest can stall at will */
	/* Frames waited at the last check too (w->avail past w->last_avail;
	 * packed: a position the guest's flags moved past), and none was
	 * taken since: frames made available just before this check are
	 * not a stall, whatever the ring held a period ago. */
	bool stalled = w->valid && (v->id & 1) && (!v->packed || v->direct) && v->enabled &&
		       v->inflight != 0 && w->inflight != 0 &&
		       w->last_avail == v->last_avail_idx;

	if (stalled && !w->stalled) {
		__atomic_fetch_add(&p->vhost.rx_stalls, 1, __ATOMIC_RELAXED);
		VQS_LOG_RL(&rl, WARNING, "port %s: vring %u: the guest's frames are not moving (%u waiting at entry %u): descriptors the switch cannot use, or no mbufs",
			   p->conf.name, v->id, v->inflight, v->last_avail_idx);
	}
	w->stalled = stalled;
}

/* The interrupt the guest evidently missed, raised again. Counted before
 * the call: a guest woken by it may read the count at once (a test does);
 * taken back if no call could be made. */
static void
raise_call(struct vqs_port *p, const struct vqs_vring_info *v, uint16_t owed)
{
	struct vqs_vhost_state *vh = &p->vhost;
	uint64_t now;

	__atomic_fetch_add(&vh->watchdog_kicks, 1, __ATOMIC_SEQ_CST);
	if (vqs_vhost_force_call(p, v->id) != 0) {
		__atomic_fetch_sub(&vh->watchdog_kicks, 1, __ATOMIC_RELAXED);
		return;
	}
	now = rte_get_tsc_cycles();
	if (vh->watchdog_logged == 0 || now - vh->watchdog_logged > LOG_EVERY_S * rte_get_tsc_hz()) {
		vh->watchdog_logged = now;
		VQS_LOG(WARNING, "port %s: vring %u: guest waits for an interrupt it did not get (%u used entries unconsumed); raised it again",
			p->conf.name, v->id, owed);
	}
}

static void
check_port(struct vqs_switch *sw, struct vqs_port *p)
{
	struct vqs_vring_info vi[2 * VQS_VHOST_MAX_QP];
	struct vqs_vhost_state *vh = &p->vhost;
	unsigned int i, n;

	/* Online: destroy_device waits for us before the device goes. */
	rte_rcu_qsbr_thread_online(sw->qsv, sw->ctl_thread_id);
	n = vqs_vhost_vring_info(p, vi, RTE_DIM(vi));
	for (i = 0; i < n; i++) {
		const struct vqs_vring_info *v = &vi[i];
		typeof(vh->wd[0]) *w = &vh->wd[v->id];
		bool stuck = w->valid && w->avail == v->avail_idx && w->used == v->used_idx &&
			     w->used_event == v->used_event;
		uint16_t owed;

		w->hint_live |= v->used_hint && w->valid && w->used_event != v->used_event;
		owed = owed_entries(v, w->hint_live);
		if (stuck && owed != 0)
			raise_call(p, v, owed);
		check_stall(p, v, w);
		w->avail = v->avail_idx;
		w->inflight = v->inflight;
		w->last_avail = v->last_avail_idx;
		w->used = v->used_idx;
		w->used_event = v->used_event;
		w->valid = true;
	}
	rte_rcu_qsbr_thread_offline(sw->qsv, sw->ctl_thread_id);
}

void
vqs_watchdog_check(struct vqs_switch *sw)
{
	uint16_t s;

	for (s = 0; s < VQS_MAX_PORTS; s++) {
		struct vqs_port *p = sw->ports[s];

		if (p != NULL && !p->deleting && vqs_port_type_is_vhost(p->conf.type) &&
		    __atomic_load_n(&p->vhost.ready, __ATOMIC_ACQUIRE))
			check_port(sw, p);
	}
}
