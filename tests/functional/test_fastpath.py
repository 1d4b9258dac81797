#!/usr/bin/env python3
"""The PMD's fast paths (docs/architecture.md, "Fast paths") lose nothing:
the peek at a guest's TX vring before librte_vhost is called, its cached
ring pointers across ring changes, the periodic full poll behind it, the
whole-burst decision, and output gathered over a pass. Frames are counted
exactly with test guests; the PMD polls (no kicks) unless said, and
only where its peek says so (no full polls) unless said."""
import sys
import time

from vqguest import Guest
from vqtest import Switch, check, main, wait_for

QUIET_S = 0.2  # a frame still to come would have come by then


def mac(i):
    return "02:00:00:00:%02x:01" % (i + 1)


def switch(c, name, n, args=(), full_poll=False):
    """A bridge with vhost ports vm0..vm<n-1>. Unless full_poll, the PMD
    never polls a queue the peek says is idle (debug/full-poll 0): what
    these tests see is then the peek's doing, not the safety net's."""
    conf = "add-br br0\n" + "".join("add-port br0 vm%d type=vhostuser\n" % i for i in range(n))
    sw = Switch(c, name, conf, args=["--watchdog-interval", "0", "--enable-debug-commands"] + list(args))
    if not full_poll:
        sw.vqctl("debug/full-poll", "0")
    return sw


def receive(g, n, what, timeout=10):
    """Consumes until n frames arrived at g, all intact, and then no more."""
    got = {"frames": 0}

    def more():
        r = g.rx()
        check(r["bad"] == 0 and r["bad_used"] == 0, "%s: receiver saw %s" % (what, r))
        got["frames"] += r["frames"]
        return got["frames"] >= n

    wait_for(more, timeout, 0.01)
    time.sleep(QUIET_S)
    more()
    check(got["frames"] == n, "%s: %d frames arrived, expected %d" % (what, got["frames"], n))


def learn_all(sw, guests):
    """Each guest sends one broadcast frame, so every MAC is learned; every
    other guest receives it."""
    for g in guests:
        g.tx("ff:ff:ff:ff:ff:ff")
        g.txdone()
    for g in guests:
        receive(g, len(guests) - 1, "broadcasts")


def test_idle_guests(c):
    """Sixteen guests, half of them on packed rings, all idle but for one
    sender at a time: each sends a batch to the next without kicking, after
    the ring has been seen empty for a while, and every frame arrives;
    then all of them at once. Port counters match frame for frame."""
    n, batch = 16, 24
    sw = switch(c, "fpidle", n)
    guests = [Guest(c, sw.sock("vm%d" % i), mac(i), packed=i % 2, event_idx=(i // 2) % 2, size=256)
              for i in range(n)]
    for i, g in enumerate(guests):
        sw.wait_port_state("vm%d" % i, "up")
        g.rxpost(200)
    learn_all(sw, guests)
    sw.vqctl("port/stats-clear")
    for rnd in range(2):
        for i, g in enumerate(guests):
            time.sleep(0.02)  # idle: the peek has recorded an empty ring
            check(g.tx(mac((i + 1) % n), n=batch, seq=rnd * 1000, kick=0) == batch, "queued")
            receive(guests[(i + 1) % n], batch, "round %d, vm%d to vm%d" % (rnd, i, (i + 1) % n))
            g.txdone()
    for i, g in enumerate(guests):
        g.tx(mac((i + 1) % n), n=batch, seq=5000, kick=0)
    for i, g in enumerate(guests):
        receive(g, batch, "all at once, to vm%d" % i)
    for i in range(n):
        st = sw.port("vm%d" % i)
        check(st["rx_packets"] == 3 * batch and st["tx_packets"] == 3 * batch,
              "vm%d counters: rx %d tx %d, expected %d each" % (i, st["rx_packets"], st["tx_packets"],
                                                               3 * batch))


def test_ring_changes(c):
    """The sender reconnects with another ring layout each time (split,
    packed, other sizes: new memory, new ring addresses); the PMD's cached
    ring pointers must follow, and frames sent after each reconnect
    arrive."""
    sw = switch(c, "fpring", 2)
    rx = Guest(c, sw.sock("vm1"), mac(1))
    rx.rxpost(250)
    layouts = [dict(packed=0, size=256), dict(packed=1, size=128), dict(packed=0, size=1024),
               dict(packed=1, size=512), dict(packed=0, size=64)]
    tx = Guest(c, sw.sock("vm0"), mac(0), **layouts[0])
    for k, layout in enumerate(layouts):
        if k:
            tx.disconnect()
            sw.wait_port_state("vm0", "down")
            tx.connect(**layout)
        sw.wait_port_state("vm0", "up")
        time.sleep(0.05)
        check(tx.tx(mac(1), n=20, seq=100 * k, kick=0) == 20, "queued")
        receive(rx, 20, "after reconnect %d (%s)" % (k, layout))
        rx.rxpost(20)
    check(sw.port("vm0")["rx_packets"] == 20 * len(layouts), "the switch received every frame")


def test_forged_used_index(c):
    """A guest that writes the device's used index up to its own avail
    index hides its entries from the peek; the periodic full poll still
    takes them (and writes the true used index back)."""
    sw = switch(c, "fpforge", 2, full_poll=True)
    g0, g1 = Guest(c, sw.sock("vm0"), mac(0)), Guest(c, sw.sock("vm1"), mac(1))
    for i in range(2):
        sw.wait_port_state("vm%d" % i, "up")
    g1.rxpost(64)
    for rnd in range(3):
        time.sleep(0.02)
        g0.tx(mac(1), n=6, seq=10 * rnd, kick=0, publish=0)
        g0.call("forge_used vq=1")  # before the entries are published,
        g0.tx(mac(1), n=0, kick=0)  # so no peek sees them
        receive(g1, 6, "round %d" % rnd)
    check(sw.port("vm0")["rx_packets"] == 18, "the switch received every frame")


def test_mixed_burst(c):
    """One burst (one avail index update) that is not one flow: unicast to
    two known guests, a broadcast, runts, unicast again. Each frame goes
    where it should and every drop is counted; a burst of one flow to an
    unknown address is flooded whole."""
    sw = switch(c, "fpmix", 3)
    g = [Guest(c, sw.sock("vm%d" % i), mac(i)) for i in range(3)]
    for i, gi in enumerate(g):
        sw.wait_port_state("vm%d" % i, "up")
        gi.rxpost(128)
    learn_all(sw, g)
    sw.vqctl("port/stats-clear")
    g[0].tx(mac(1), n=3, seq=1, kick=0, publish=0)
    g[0].tx(mac(2), n=2, seq=11, kick=0, publish=0)
    g[0].tx("ff:ff:ff:ff:ff:ff", n=1, seq=21, kick=0, publish=0)
    g[0].tx(mac(1), n=2, length=10, seq=31, kick=0, publish=0)
    g[0].tx(mac(1), n=4, seq=41, kick=0)
    receive(g[1], 3 + 1 + 4, "vm1 (unicast and the broadcast)")
    receive(g[2], 2 + 1, "vm2 (unicast and the broadcast)")
    st = sw.port("vm0")
    check(st["rx_packets"] == 12 and st["drop_bad_frame"] == 2, "vm0: %s" % st)
    g[0].txdone()
    g[0].tx("02:00:00:00:99:01", n=16, seq=51, kick=0)
    receive(g[1], 16, "flood to vm1")
    receive(g[2], 16, "flood to vm2")
    check(sw.port("vm0")["drop_no_dest"] == 0, "nothing dropped")


def test_many_to_one(c):
    """Four guests each queue three bursts for one receiver while the PMD
    sleeps (--pmd-sleep): it wakes to 384 frames for one port, more than
    it gathers per destination before sending, and all arrive."""
    sw = switch(c, "fpmany", 5, args=["--pmd-sleep=1"])
    g = [Guest(c, sw.sock("vm%d" % i), mac(i), size=1024 if i == 4 else 256) for i in range(5)]
    for i in range(5):
        sw.wait_port_state("vm%d" % i, "up")
    g[4].rxpost(1000)
    g[4].tx("ff:ff:ff:ff:ff:ff")  # the receiver's address is learned
    g[4].txdone()
    for rnd in range(3):
        time.sleep(0.05)  # the PMD falls asleep
        for i in range(4):
            for k in range(3):
                check(g[i].tx(mac(4), n=32, seq=1000 * i + 100 * rnd + 32 * k, kick=0) == 32, "queued")
        g[0].call("kick vq=1")
        receive(g[4], 4 * 96, "round %d" % rnd, timeout=20)
        for i in range(4):
            g[i].txdone()
        g[4].rxpost(4 * 96)
    st = sw.port("vm4")
    check(st["tx_packets"] == 3 * 4 * 96, "vm4 sent %d to its guest, expected %d" % (st["tx_packets"], 1152))


if __name__ == "__main__":
    sys.exit(main([test_idle_guests, test_ring_changes, test_forged_used_index, test_mixed_burst,
                   test_many_to_one]))
