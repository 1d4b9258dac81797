#!/usr/bin/env python3
"""The notification contract, asserted call by call with the test guest
(vqguest): which used-ring updates raise a guest interrupt and which must
not, on split and packed rings, with and without EVENT_IDX. Interrupts
are counted exactly (eventfd counters). The watchdog is off here except
where it is the subject (test_watchdog_*)."""
import os
import sys
import time

from vqguest import Guest
from vqtest import Switch, TestFailure, check, main, wait_for

M1, M2 = "02:00:00:00:01:01", "02:00:00:00:02:01"
QUIET_MS = 150  # long enough for a PMD pass and librte_vhost's eventfd write


def pair(c, name, watchdog=0, args=(), **conf):
    """A switch with ports vm1 and vm2, a test guest on each; the switch
    has turned guest kicks off on all four vrings."""
    sw = Switch(c, name, "add-br br0\nadd-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n",
                args=["--watchdog-interval", str(watchdog)] + list(args))
    g1 = Guest(c, sw.sock("vm1"), M1, **conf)
    g2 = Guest(c, sw.sock("vm2"), M2, **conf)
    for port in ("vm1", "vm2"):
        sw.wait_port_state(port, "up")
        sw.wait_kicks_off(port, 2)
    return sw, g1, g2


def wait_pending(g, vq, n, timeout=5):
    """Until vring vq of g holds n used entries it has not consumed."""
    if not wait_for(lambda: g.state(vq)["pending"] == n, timeout, 0.005):
        raise TestFailure("vring %d: %d used entries pending, expected %d" % (vq, g.state(vq)["pending"], n))


def calls_after(g, vq, before, expect):
    """The calls on vq since `before`, once they had time to come; checked
    against expect."""
    if expect:
        g.wait_call(vq, QUIET_MS)  # the one due, if it is slow to come
    time.sleep(QUIET_MS / 1000.0)  # and then any that should not come
    now = g.calls(vq)
    check(now - before == expect, "vring %d: %d calls, expected %d" % (vq, now - before, expect))
    return now


def event_idx_steps(g1, g2):
    """Frames one at a time (one burst each). The receiver asks for an
    interrupt at used entry 9 (RX), the sender at entry 4 (TX): each gets
    exactly one call when the device's used index passes that entry, and
    none otherwise, although nobody consumes anything. Except the first
    used entry of a new vring: librte_vhost, like Linux's vhost, signals
    it unconditionally (it has no record yet of what it signalled)."""
    check(g2.rxpost(64) == 64, "receiver posted its buffers")
    g2.call("used_event vq=0 idx=9")
    g1.call("used_event vq=1 idx=4")
    rx_calls, tx_calls = g2.calls(0), g1.calls(1)
    for k in range(1, 17):
        g1.tx(M2, seq=k)
        wait_pending(g2, 0, k)
        wait_pending(g1, 1, k)
        rx_calls = calls_after(g2, 0, rx_calls, 1 if k in (1, 10) else 0)
        tx_calls = calls_after(g1, 1, tx_calls, 1 if k in (1, 5) else 0)
    # Asking for the next entry once more, with nothing new used: no call.
    g2.call("used_event vq=0 idx=16")
    calls_after(g2, 0, rx_calls, 0)
    # A batch of 8 crosses entry 16 once: one call, not eight.
    g1.tx(M2, n=8, seq=100)
    wait_pending(g2, 0, 24)
    calls_after(g2, 0, rx_calls, 1)
    r = g2.rx()
    check(r["frames"] == 24 and r["bad"] == 0, "receiver got %s" % r)


def flag_steps(g1, g2):
    """Without EVENT_IDX: NO_INTERRUPT (packed: DISABLE) means no call; once
    cleared, one call per completed batch, not per frame; TX completions
    are signalled the same way. (The library datapath hands librte_vhost
    one frame per call into mergeable buffers, lib/vhost/datapath.c, and
    the library decides per call: there, one call per frame, none while
    NO_INTERRUPT is set.)"""
    check(g2.rxpost(128) == 128, "receiver posted its buffers")
    g2.call("intr vq=0 on=0")
    g1.call("intr vq=1 on=0")
    rx_calls, tx_calls = g2.calls(0), g1.calls(1)
    g1.tx(M2, n=32)
    wait_pending(g2, 0, 32)
    rx_calls = calls_after(g2, 0, rx_calls, 0)
    tx_calls = calls_after(g1, 1, tx_calls, 0)
    check(g2.rx()["frames"] == 32 and g1.txdone() == 32, "the first batch arrived")
    # Interrupts on: a batch of 32 frames makes one call on each side.
    check(g2.call("intr vq=0 on=1")["pending"] == 0, "nothing pending")
    check(g1.call("intr vq=1 on=1")["pending"] == 0, "nothing pending")
    g1.tx(M2, n=32, seq=32)
    wait_pending(g2, 0, 32)
    per_frame = os.environ.get("VQS_DATAPATH") == "library" and g2.conf.get("mrg", 1)
    rx_calls = calls_after(g2, 0, rx_calls, 32 if per_frame else 1)
    tx_calls = calls_after(g1, 1, tx_calls, 1)
    # Three frames sent one by one: three batches, three calls.
    for k in range(3):
        g1.tx(M2, seq=64 + k)
        wait_pending(g2, 0, 33 + k)
        rx_calls = calls_after(g2, 0, rx_calls, 1)
    r = g2.rx()
    check(r["frames"] == 35 and r["bad"] == 0, "receiver got %s" % r)


def counted_as_received(sw, g1, g2):
    """vring/show's guest_notifications (counted by the switch from
    librte_vhost's guest_notified callback) match the calls each guest
    received, exactly, on both rings that carried the traffic."""
    for port, g, vq in (("vm2", g2, 0), ("vm1", g1, 1)):
        ring = [r for r in sw.vqctl("vring/show", port, fmt="json")["vrings"] if r["vring"] == vq][0]
        check(ring["guest_notifications"] == g.calls(vq),
              "%s vring %d: the switch counted %d calls, the guest received %d" % (
                  port, vq, ring["guest_notifications"], g.calls(vq)))


def test_event_idx_split(c):
    sw, g1, g2 = pair(c, "nevs", event_idx=1)
    event_idx_steps(g1, g2)
    counted_as_received(sw, g1, g2)


def test_event_idx_packed(c):
    sw, g1, g2 = pair(c, "nevp", event_idx=1, packed=1)
    event_idx_steps(g1, g2)
    counted_as_received(sw, g1, g2)


def test_flags_split(c):
    sw, g1, g2 = pair(c, "nfls", event_idx=0)
    flag_steps(g1, g2)
    counted_as_received(sw, g1, g2)


def test_flags_packed(c):
    sw, g1, g2 = pair(c, "nflp", event_idx=0, packed=1)
    flag_steps(g1, g2)
    counted_as_received(sw, g1, g2)


def tx_completions(g1):
    """A guest that only transmits fills its TX ring, asks for an interrupt
    and waits for it; a missing call would leave it blocked for ever (the
    "UDP sender hangs" class). Every round must get its call, whichever way
    it asks: at the next used entry, or (Linux's enable_cb_delayed) only
    after three quarters of the ring. The receiver posts nothing: its
    port drops what is flooded to it."""
    size = 256
    for rnd in range(8):
        sent = g1.tx(M2, n=size, seq=rnd * size)
        check(sent == size, "round %d: %d of %d descriptors free" % (rnd, sent, size))
        before = g1.calls(1)
        delay = "" if rnd % 2 == 0 else " delay=%d" % (size * 3 // 4)
        pending = g1.call("intr vq=1 on=1" + delay)["pending"]
        if not pending:
            after = g1.wait_call(1, 3000)
            check(after > before, "round %d: no call for the sender's freed descriptors" % rnd)
            check(after - before <= size // 32, "round %d: %d calls for one ring" % (rnd, after - before))
        wait_pending(g1, 1, size)
        check(g1.txdone() == size, "round %d: all descriptors came back" % rnd)
        g1.call("intr vq=1 on=0")


def test_tx_completions_split(c):
    sw, g1, _ = pair(c, "ntxs", event_idx=1)
    tx_completions(g1)
    check(sw.port("vm1")["rx_packets"] == 8 * 256, "the switch received every frame")


def test_tx_completions_packed(c):
    sw, g1, _ = pair(c, "ntxp", event_idx=1, packed=1)
    tx_completions(g1)
    check(sw.port("vm1")["rx_packets"] == 8 * 256, "the switch received every frame")


def consume_round(g1, g2, n, seq):
    """n frames to the receiver, which takes them on its interrupt and asks
    for the next one (a healthy guest)."""
    g1.tx(M2, n=n, seq=seq)
    check(g2.wait_call(0, 3000) > 0, "the receiver was interrupted")
    wait_pending(g2, 0, n)
    r = g2.rx()
    check(r["frames"] == n and r["bad"] == 0, "receiver got %s" % r)
    check(g2.call("intr vq=0 on=1")["pending"] == 0, "nothing left")
    g2.rxpost(n)
    g1.txdone()
    g2.calls(0)


def warmed_up(c, name, watchdog, n, packed=0, event_idx=1, **conf):
    """pair() (with EVENT_IDX unless told); the receiver has buffers,
    interrupts on, and has taken n frames on its interrupt already.
    Without EVENT_IDX it took them one at a time, across several watchdog
    periods: the watchdog reads used_event there only once it has seen the
    guest move it (watchdog.c)."""
    sw, g1, g2 = pair(c, name, watchdog=watchdog, event_idx=event_idx, packed=packed, **conf)
    g2.rxpost(64)
    g2.call("intr vq=0 on=1")
    if event_idx:
        consume_round(g1, g2, n, 0)
    else:
        for k in range(n):
            consume_round(g1, g2, 1, k)
            time.sleep(3 * watchdog / 1000.0)
    return sw, g1, g2


def consume_then_quiet(sw, g2, n):
    """The receiver finally takes its n frames and asks again: from then
    on neither librte_vhost nor the watchdog calls it."""
    r = g2.rx()
    check(r["frames"] == n and r["bad"] == 0, "receiver got %s" % r)
    g2.call("intr vq=0 on=1")
    # One request through the control loop: a watchdog check that read the
    # ring before the guest consumed (and may still call on what it saw,
    # if the loop was descheduled in between) has finished once the reply
    # comes, for the watchdog runs in that same loop.
    sw.vqctl("list-br")
    settled = g2.calls(0)
    kicks = sw.port("vm2")["watchdog_kicks"]
    time.sleep(0.5)
    check(g2.calls(0) == settled, "no call once everything is consumed")
    check(sw.port("vm2")["watchdog_kicks"] == kicks, "watchdog quiet once consumed")


def interrupts_off(g, vq, packed, event_idx=1):
    """Interrupts off as Linux turns them off: with EVENT_IDX, split rings
    get used_event = 0 (virtqueue_disable_cb_split), packed rings the
    DISABLE flag; without, NO_INTERRUPT."""
    g.call("intr vq=%d on=0" % vq if packed or not event_idx else "used_event vq=%d idx=0" % vq)


def reenable_with_pending(c, packed, event_idx=1):
    """Entries used while the guest had interrupts off, then the guest turns
    them back on without looking for pending work (a driver racing with
    the device, or one that simply forgot). The switch has no new used
    entry to decide on and stays silent; the watchdog sees the used index
    past used_event with nothing moving and raises the interrupt, once a
    period and only until the guest consumes."""
    sw, g1, g2 = warmed_up(c, "nren", 100, 5, packed, event_idx)
    interrupts_off(g2, 0, packed, event_idx)
    before = g2.calls(0)
    g1.tx(M2, n=5, seq=5)
    wait_pending(g2, 0, 5)
    time.sleep(0.05)
    check(g2.calls(0) == before, "no call while the guest had them off")
    if event_idx:
        # Back on at the last entry consumed (5; packed: slot 5, each
        # frame took one single-descriptor buffer): 5 entries are waiting.
        g2.call("used_event vq=0 idx=5")
    else:
        # The flag cleared; used_event still says 5, where the guest's
        # last enable left it: consumed up to there.
        g2.call("flags vq=0 value=0")
    got = g2.wait_call(0, 1000)
    check(got > before, "the watchdog raised the missing interrupt")
    check(sw.port("vm2")["watchdog_kicks"] >= 1, "counted as a watchdog kick")
    # Not consumed yet: raised again a period later.
    check(g2.wait_call(0, 1000) > got, "raised again while entries wait")
    consume_then_quiet(sw, g2, 5)


def test_reenable_with_pending(c):
    reenable_with_pending(c, packed=0)


def test_reenable_with_pending_packed(c):
    """Packed rings: only the direct datapath knows their used position."""
    reenable_with_pending(c, packed=1)


def test_reenable_with_pending_flags(c):
    """The same without EVENT_IDX (direct datapath): the guest turns
    interrupts off with NO_INTERRUPT and clears the flag without looking.
    Nothing in the protocol says what it consumed, but Linux writes
    used_event at every enable all the same; the watchdog reads that."""
    reenable_with_pending(c, packed=0, event_idx=0)


def test_watchdog_quiet_without_hint(c):
    """A driver without EVENT_IDX that never writes used_event (Linux does;
    others need not): the watchdog cannot tell what it consumed and leaves
    it alone, even with entries it has consumed and interrupts on. Raising
    there would be the spurious interrupt Linux disables IRQs over."""
    sw, g1, g2 = warmed_up(c, "nwdh", 50, 4, event_idx=0, used_hint=0)
    for k in range(1, 8):
        consume_round(g1, g2, k, 100 * k)
    time.sleep(0.5)
    for port in ("vm1", "vm2"):
        check(sw.port(port)["watchdog_kicks"] == 0, "%s: watchdog kicks %s" % (port, sw.port(port)))


def watchdog_quiet(c, packed, event_idx=1):
    """Guests that consume on every interrupt never see a watchdog kick;
    nor does one that turned interrupts off the Linux way after consuming
    everything: an interrupt there would find no used buffer, and Linux
    disables an IRQ that keeps doing that."""
    sw, g1, g2 = warmed_up(c, "nwdq", 50, 1 if event_idx else 4, packed, event_idx)
    for k in range(1, 20):
        consume_round(g1, g2, 1 + k % 8, 100 * k)
    interrupts_off(g2, 0, packed, event_idx)
    interrupts_off(g1, 1, packed, event_idx)
    time.sleep(0.5)
    for port in ("vm1", "vm2"):
        check(sw.port(port)["watchdog_kicks"] == 0, "%s: watchdog kicks %s" % (port, sw.port(port)))


def test_watchdog_quiet_on_healthy_guests(c):
    watchdog_quiet(c, packed=0)


def test_watchdog_quiet_on_healthy_guests_packed(c):
    watchdog_quiet(c, packed=1)


def test_watchdog_quiet_on_healthy_guests_flags(c):
    """Without EVENT_IDX, where the watchdog reads Linux's used_event hint
    (direct datapath): consumed is consumed."""
    watchdog_quiet(c, packed=0, event_idx=0)


def watchdog_after_one_call(c, packed):
    """A guest gets its interrupt and then does not consume (it lost it, in
    effect): the watchdog raises it again within a period, and again while
    the entries wait; once consumed, no more."""
    sw, g1, g2 = warmed_up(c, "nwd1", 100, 3, packed)
    g2.call("intr vq=0 on=1")
    before = g2.calls(0)
    g1.tx(M2, n=4, seq=10)
    wait_pending(g2, 0, 4)
    time.sleep(0.03)  # well within a watchdog period
    first = g2.calls(0)
    check(first == before + 1, "one call from librte_vhost: %d" % (first - before))
    again = g2.wait_call(0, 1000)
    check(again > first, "the watchdog raised it again")
    time.sleep(0.5)
    check(g2.calls(0) >= again + 2, "and again, each period, while 4 entries wait")
    consume_then_quiet(sw, g2, 4)


def test_watchdog_after_one_call(c):
    watchdog_after_one_call(c, packed=0)


def test_watchdog_after_one_call_packed(c):
    """Packed rings: only the direct datapath knows their used position."""
    watchdog_after_one_call(c, packed=1)


def test_two_queue_pairs(c):
    """A guest with two queue pairs: each pair's rings are set up, polled
    and signalled on their own."""
    sw = Switch(c, "nmq", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=2\n"
                          "add-port br0 vm2 type=vhostuser queues=2\n", args=["--watchdog-interval", "0"])
    g1 = Guest(c, sw.sock("vm1"), M1, qp=2)
    g2 = Guest(c, sw.sock("vm2"), M2, qp=2)
    for port in ("vm1", "vm2"):
        sw.wait_port_state(port, "up")
        sw.wait_kicks_off(port, 4)
    g2.rxpost(32, vq=0)
    g2.rxpost(32, vq=2)
    for vq in (0, 2):
        g2.call("intr vq=%d on=1" % vq)
    g1.tx(M2, n=8, vq=1)
    g1.tx(M2, n=8, vq=3, seq=8)
    wait_for(lambda: g2.state(0)["pending"] + g2.state(2)["pending"] >= 16, 5, 0.01)
    got = g2.rx(0)["frames"] + g2.rx(2)["frames"]
    check(got == 16, "16 frames over the two RX queues: %d" % got)
    check(g1.calls(1) >= 1 and g1.calls(3) >= 1, "TX completions signalled on both pairs")
    check(sw.port("vm1")["rx_packets"] == 16, "the switch took both pairs' frames")


if __name__ == "__main__":
    sys.exit(main([test_event_idx_split, test_event_idx_packed, test_flags_split, test_flags_packed,
                   test_tx_completions_split, test_tx_completions_packed, test_reenable_with_pending,
                   test_reenable_with_pending_packed, test_watchdog_quiet_on_healthy_guests_packed,
                   test_watchdog_after_one_call_packed, test_reenable_with_pending_flags,
                   test_watchdog_quiet_on_healthy_guests_flags, test_watchdog_quiet_without_hint,
                   test_watchdog_quiet_on_healthy_guests, test_watchdog_after_one_call, test_two_queue_pairs]))
