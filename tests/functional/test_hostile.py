#!/usr/bin/env python3
"""A hostile guest (the test guest in its bad modes) on port "bad", while
frames flow between two NIC ports and are flooded to every port, and a
healthy test guest on port "good" sends and receives between the cases. Every
bad descriptor case on split and packed rings, every bad vhost-user
message, runt and oversized frames, one after the other with a reconnect
between them. The switch never dies, the NIC traffic loses nothing, the
bad port's error counters rise, the healthy guest loses nothing either
way, no mbuf leaks, and a well-behaved guest then uses the bad port
normally. Run against the ASan build too
(scripts/test.sh)."""
import sys
import time

from test_notify import wait_pending
from vqguest import Guest
from vqtest import Switch, Traffic, Veth, check, check_arrived, log, main, wait_for

A, B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
BAD, GOOD = "02:00:00:00:0c:01", "02:00:00:00:0d:01"
FLOOD = "02:00:00:00:ff:ff"  # never learned: reaches the bad port too


def setup(c, name):
    va, vb = Veth(c, name + "0"), Veth(c, name + "1")
    sw = Switch(c, name, "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n"
                         "add-port br0 b type=dpdk devargs=%s\nadd-port br0 bad type=vhostuser\n"
                         "add-port br0 good type=vhostuser\n"
                % (va.devargs(0), vb.devargs(1)), args=["--watchdog-interval", "50"])
    return sw, va, vb


class Healthy:
    """The good guest: between two bad cases it takes what it received
    (checked byte for byte), gives the buffers back, and sends 4 frames
    to a, which the traffic's receiver files under tag 4."""
    TAG = 4

    def __init__(self, c, sw, traffic):
        # 4096 buffers: room for a burst the bad guest makes the switch
        # flood (avail_jump hands it hundreds of stale entries at once),
        # and for the a<->b traffic flooded to it while a slow step (a
        # reconnect under ASan on a loaded machine) keeps it from
        # giving buffers back for seconds
        self.g = Guest(c, sw.sock("good"), GOOD, event_idx=1, size=4096)
        sw.wait_port_state("good", "up")
        self.g.rxpost(4096)
        self.g.call("intr vq=0 on=1")
        # frames flooded before it had buffers were dropped: from here on
        self.drops_before = sw.port("good")["drop_tx_full"]
        self.sent = self.received = self.foreign = self.bad = 0
        traffic.received[self.TAG] = set()

    def step(self, send=True):
        r = self.g.rx()
        self.received += r["frames"]
        self.foreign += r["foreign"]  # what the bad guest sent, flooded
        self.bad += r["bad"] + r["bad_used"]
        if r["used"]:
            self.g.rxpost(r["used"])
        self.g.txdone()
        if send:
            self.sent += self.g.tx(A, n=4, tag=self.TAG, seq=self.sent)


def attach(c, sw, g=None, **conf):
    """The bad guest, connected again (or the first time) and up."""
    if g is None:
        g = Guest(c, sw.sock("bad"), BAD, indirect=1, event_idx=1, **conf)
    else:
        g.connect(**conf)
    sw.wait_port_state("bad", "up")
    return g


def bad_descriptors(c, sw, g, packed, healthy):
    kinds = g.call("kinds")["desc"].split(",")
    done = 0
    for kind in kinds:
        g = attach(c, sw, g, packed=packed)
        vq = 0 if kind.startswith("rx_") else 1
        if vq == 0:
            g.call("intr vq=0 on=1")
        r = g.call("hostile vq=%d kind=%s" % (vq, kind), ok=False)
        if isinstance(r, str):  # a case that has no meaning for this layout
            check("no descriptor case" in r, "%s: %s" % (kind, r))
        else:
            done += 1
            time.sleep(0.15)  # the flood reaches the RX cases; stalls get seen
        check(sw.alive(), "vqswitch died on %s (%s)" % (kind, "packed" if packed else "split"))
        g.disconnect()
        healthy.step()
    return g, done


def bad_frames(c, sw, g):
    """Valid descriptors, frames the switch must drop: shorter than an
    Ethernet header, longer than 64 KiB, a header split over descriptors
    (legal: must arrive)."""
    g = attach(c, sw, g, packed=0)
    before = sw.port("bad")
    check(g.tx(A, length=10) == 1 and g.tx(A, length=70000) == 1, "bad frames sent")
    check(g.tx(A, length=100, segs="5,7,40") == 1, "split header sent")
    wait_pending(g, 1, 3)
    after = sw.port("bad")
    check(after["drop_bad_frame"] - before["drop_bad_frame"] == 2, "runt and giant dropped: %s" % after)
    check(after["rx_packets"] - before["rx_packets"] == 3, "all three taken: %s" % after)
    g.disconnect()
    return g


def bad_messages(c, sw, g, healthy):
    kinds = g.call("kinds")["msg"].split(",")
    closed = 0
    for kind in kinds:
        g = attach(c, sw, g, packed=0)
        r = g.call("badmsg kind=%s" % kind)
        closed += r["closed"]
        check(sw.alive(), "vqswitch died on message %s" % kind)
        g.disconnect()
        healthy.step()
    log("%d bad messages, %d made the switch close the connection" % (len(kinds), closed))
    check(closed > len(kinds) // 2, "most bad messages end the connection")
    return g


def test_hostile_guest(c):
    sw, va, vb = setup(c, "hst")
    baseline = sw.telemetry("/vqswitch/info")["mbufs_in_use"]
    traffic = Traffic(c, {1: (va, B, A), 2: (vb, A, B), 3: (va, FLOOD, A)}, [va, vb], rate=300)
    g = attach(c, sw)
    g.disconnect()
    healthy = Healthy(c, sw, traffic)
    start = time.time()
    # Each case once, reconnecting in between; the stateful fuzzer
    # (tests/guest/fuzz_stateful.c) repeats and interleaves them.
    g, split = bad_descriptors(c, sw, g, 0, healthy)
    g, packed = bad_descriptors(c, sw, g, 1, healthy)
    g = bad_frames(c, sw, g)
    g = bad_messages(c, sw, g, healthy)
    log("every case: %.1fs" % (time.time() - start))
    # A well-behaved guest on the same port: receives the flood, sends.
    g = attach(c, sw, g, packed=0)
    g.call("intr vq=0 on=1")
    g.rxpost(64)
    time.sleep(0.3)
    traffic.finish()
    healthy.step(send=False)
    r = g.rx()
    check(r["frames"] > 0 and r["bad"] == 0, "the new guest receives the flood: %s" % r)
    va.drain()
    check(g.tx(A, n=10, tag=9) == 10, "the new guest sends")
    wait_pending(g, 1, 10)
    got = va.collect(0.5)
    check(sum(1 for f in got if f[6:12] == bytes.fromhex(BAD.replace(":", ""))) == 10,
          "a receives the new guest's 10 frames")
    g.disconnect()
    # The switch sees the disconnection on its vhost thread, in its time
    # (seconds, under ASan beside a loaded machine).
    wait_for(lambda: sw.port("bad")["connects"] == sw.port("bad")["disconnects"], 10, 0.1)
    p = sw.port("bad")
    in_use = sw.telemetry("/vqswitch/info")["mbufs_in_use"]
    log("%d split, %d packed descriptor cases; bad port: %s; mbufs in use %d (baseline %d); "
        "a<->b sent %d/%d, lost %d/%d" % (split, packed, {k: v for k, v in p.items() if isinstance(v, int)},
                                          in_use, baseline, traffic.sent[1], traffic.sent[2],
                                          traffic.lost(1), traffic.lost(2)))
    check(sw.alive(), "vqswitch died")
    check_arrived(sw, traffic, 1, "a", "a->b")
    check_arrived(sw, traffic, 2, "b", "b->a")
    good = sw.port("good")
    log("healthy guest: sent %d, a got %d of them; received %d (%d from the bad guest), %d bad; "
        "its port %s" % (healthy.sent, len(traffic.received[Healthy.TAG]), healthy.received,
                         healthy.foreign, healthy.bad,
         {k: v for k, v in good.items() if k.startswith(("rx_", "tx_", "drop_"))}))
    check(len(traffic.received[Healthy.TAG]) == healthy.sent, "a got every frame the healthy guest sent")
    check(healthy.received > 0 and healthy.bad == 0, "the healthy guest received the flood intact")
    check(good["drop_tx_full"] == healthy.drops_before and good["drop_tx_down"] == 0,
          "nothing dropped towards it once it had buffers")
    check(p["rx_stalls"] > 0, "stalled rings counted")
    check(p["drop_bad_frame"] >= 2, "bad frames counted")
    check(p["drop_tx_full"] > 0, "frames for unusable RX buffers counted")
    check(p["connects"] == p["disconnects"], "every connection ended: %s" % p)
    check(in_use == baseline, "mbufs in use %d, baseline %d" % (in_use, baseline))
    check(sw.stop() == 0, "exit code")


def receive(g, n, timeout=5):
    """What g receives until it has n frames (the switch may still be
    between taking frames from their sender and handing them over)."""
    got = {"frames": 0, "bad": 0, "used": 0}
    deadline = time.time() + timeout
    while got["frames"] < n and time.time() < deadline:
        r = g.rx()
        for k in got:
            got[k] += r[k]
        if r["used"]:
            g.rxpost(r["used"])
        else:
            time.sleep(0.02)
    return got


def test_postcopy_refused(c):
    """A guest asks for postcopy migration, which the switch never offers,
    then sends its memory table. A backend that went along would guard
    guest memory with a userfaultfd nobody serves, and the first frame in
    a page the guest never touched would block a PMD for good (and with it
    the switch's shutdown). POSTCOPY_ADVISE fails (the switch cannot open
    a userfaultfd), and after a POSTCOPY_LISTEN alone the memory table is
    refused: both close the connection. Two other guests go on exchanging
    frames, the same port then serves a normal guest, and the switch stops
    cleanly."""
    sw = Switch(c, "pcp", "add-br br0\nadd-port br0 bad type=vhostuser\n"
                          "add-port br0 g1 type=vhostuser\nadd-port br0 g2 type=vhostuser\n")
    g1 = Guest(c, sw.sock("g1"), A)
    g2 = Guest(c, sw.sock("g2"), B)
    g2.rxpost(64)
    bad = Guest(c, sw.sock("bad"), BAD)
    bad.disconnect()
    for mode, refused in ((1, "POSTCOPY_ADVISE"), (2, "SET_MEM_TABLE")):
        r = bad.call("connect path=%s postcopy=%d" % (sw.sock("bad"), mode), ok=False)
        log("postcopy guest (%s): %s" % (refused, r))
        if not isinstance(r, str):  # went along: the frame it would block on
            bad.call("hostile vq=1 kind=untouched")
            bad.disconnect()
        check(isinstance(r, str) and refused in r, "%s refused: %s" % (refused, r))
        check(g1.tx(B, n=10, tag=mode) == 10, "g1 sends")
        got = receive(g2, 10)
        check(got["frames"] == 10 and got["bad"] == 0, "g2 gets g1's 10 frames: %s" % got)
        wait_pending(g1, 1, 10)
        g1.txdone()
    bad.connect(postcopy=0)
    sw.wait_port_state("bad", "up")
    bad.rxpost(16)
    check(g1.tx(BAD, n=4, tag=3) == 4, "g1 sends to the port's new guest")
    got = receive(bad, 4)
    check(got["frames"] == 4 and got["bad"] == 0, "the port's new guest receives: %s" % got)
    check(sw.alive(), "vqswitch died")
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_hostile_guest, test_postcopy_refused]))
