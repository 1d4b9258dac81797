#!/usr/bin/env python3
"""Live migration as the switch sees it, with the test guest playing the
migrating QEMU: dirty-page logging (VHOST_F_LOG_ALL, SET_LOG_BASE, the
vrings' log addresses) must mark every page the switch writes into guest
memory, a log replaced while frames flow must be the one marked, logging
off must stop the marks; a dirty log the library would map wrongly is
refused without harm; SEND_RARP announces the guest at its port. The real
migration, two QEMUs under traffic: tests/vm/test_migration.py."""
import os
import sys
import time

from vqguest import Guest
from vqtest import Switch, TestFailure, check, main, wait_for

M1, M2, M3 = "02:00:00:00:01:01", "02:00:00:00:02:01", "02:00:00:00:03:01"
CONF = "add-br br0\nadd-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n"


def pair(c, name, **conf):
    sw = Switch(c, name, CONF)
    g1 = Guest(c, sw.sock("vm1"), M1, **conf)
    g2 = Guest(c, sw.sock("vm2"), M2, **conf)
    for port in ("vm1", "vm2"):
        sw.wait_port_state(port, "up")
    return sw, g1, g2


def wait_pending(g, vq, n, timeout=5):
    if not wait_for(lambda: g.state(vq)["pending"] >= n, timeout, 0.005):
        raise TestFailure("vring %d: %d used entries pending, expected %d" %
                          (vq, g.state(vq)["pending"], n))


def logged_rx(sender, receiver, n, length, what):
    """n frames into the receiver, which writes nothing meanwhile: every
    page of its memory that changed is marked in its log."""
    receiver.call("log do=snap")
    sent = sender.tx(M2, n=n, length=length)
    check(sent == n, "%s: %d of %d frames queued" % (what, sent, n))
    wait_pending(receiver, 0, 1)
    time.sleep(0.05)  # every frame of the burst
    r = receiver.call("log do=check all=1", ok=False)
    check(not isinstance(r, str), "%s: pages written but not logged: %s" % (what, r))
    check(r["changed"] > 0, "%s: nothing written into the receiver: %s" % (what, r))
    sender.txdone()
    got = receiver.rx()
    check(got["frames"] == n and got["bad"] == 0, "%s: received %s" % (what, got))
    receiver.rxpost(n)
    return r


def dirty_log(c, name, **conf):
    # need_reply: each message handled before the next step (a message
    # that pauses the port drops frames meanwhile).
    sw, g1, g2 = pair(c, name, need_reply=1, **conf)
    offered = g2.call("features")["offered"]
    check(offered >> 26 & 1, "VHOST_F_LOG_ALL offered: 0x%x" % offered)
    g1.rxpost(64)
    g2.rxpost(64)
    g1.tx(M2)  # the switch learns both
    g2.tx(M1)
    wait_for(lambda: g1.state(0)["pending"] >= 1 and g2.state(0)["pending"] >= 1, 5, 0.005)
    g1.rx()
    g2.rx()
    g1.txdone()
    g2.txdone()
    g1.rxpost(2)
    g2.rxpost(2)
    g2.call("log do=on")
    # RX: short frames (one buffer each), long ones (several with
    # mergeable buffers, one big copy each without).
    logged_rx(g1, g2, 16, 60, "short frames")
    logged_rx(g1, g2, 8, 1500 if not conf.get("mrg", 1) else 6000, "long frames")
    # TX completions: the used ring (packed: the descriptors) marked.
    g2.call("log do=snap")
    sent = g2.tx(M1, n=32)
    check(sent == 32, "32 frames queued")
    if not wait_for(lambda: g2.txdone() >= 0 and g2.state(1)["num_free"] == 256, 5, 0.01):
        raise TestFailure("the TX chains did not come back: %s" % g2.state(1))
    r = g2.call("log do=check", ok=False)
    check(not isinstance(r, str) and r["changed"] > 0, "TX used entries logged: %s" % r)
    g1.rx()
    g1.rxpost(32)
    # A new log while frames flow: the new one is marked.
    # (A frame the switch has for the port while the message pauses it
    # is dropped, as during any message that pauses a port.)
    dropped = lambda: sum(sw.port("vm2")[k] for k in ("drop_tx_down", "drop_tx_full"))
    before = dropped()
    g1.tx(M2, n=8)
    g2.call("log do=base")
    check(wait_for(lambda: g2.state(0)["pending"] + dropped() - before >= 8, 5, 0.01),
          "the frames sent while the log changed: arrived or dropped")
    time.sleep(0.05)
    got = g2.rx()["frames"]
    check(got + dropped() - before == 8, "8 frames: %d arrived" % got)
    g2.rxpost(got)
    g1.txdone()
    logged_rx(g1, g2, 8, 200, "after a new log")
    # Logging off: nothing marked any more, frames still flow.
    g2.call("log do=off")
    g2.call("log do=snap")
    g1.tx(M2, n=8)
    wait_pending(g2, 0, 8)
    time.sleep(0.05)
    r = g2.call("log do=check all=1", ok=False)
    check(isinstance(r, str) and "logged=0 " in r, "logging off: nothing marked: %s" % r)
    check(sw.port("vm2")["drop_bad_desc"] == 0, "no bad descriptors")
    check(sw.stop() == 0, "exit code")


def test_dirty_log_split(c):
    dirty_log(c, "mlogs", event_idx=1, mrg=1)


def test_dirty_log_packed(c):
    dirty_log(c, "mlogp", event_idx=1, packed=1, mrg=1)


def test_dirty_log_big_buffers(c):
    dirty_log(c, "mlogb", event_idx=0, mrg=0)


def test_bad_log_refused(c):
    """Dirty logs the switch refuses (the connection ends), each from a
    guest on the same port, and after each a new guest there gets frames:
    - at offset 4096: librte_vhost 22.11 maps a log from its offset and
      then adds the offset again, so the marks for the guest's last pages
      would land past the mapping, in the switch's memory (QEMU's offset
      is always 0);
    - in a file not sealed against shrinking (QEMU seals its log): the
      frontend could truncate it under the switch, and a mark would then
      fault.
    - at offset 4096 from a second connection to the port, one that waits
      for the port's guest to go (and would take over with that log).
    Frames flooded to the port meanwhile make no mark."""
    sw, g1, g2 = pair(c, "mlogo", event_idx=1, mrg=1)
    g1.rxpost(64)
    for n, bad in enumerate(("offset=4096", "sealed=0")):
        g2.rxpost(64)
        r = g2.call("log do=on " + bad, ok=False)
        check(isinstance(r, str), "a log with %s accepted: %s" % (bad, r))
        for _ in range(4):  # frames towards it: logged, if it were taken
            g1.tx("ff:ff:ff:ff:ff:ff", n=16)
            time.sleep(0.05)
            g1.txdone()
        check(wait_for(lambda: sw.port("vm2")["state"] != "up", 3, 0.05),
              "the connection that sent a log with %s ended" % bad)
        mac = "52:54:00:aa:00:%02x" % (n + 3)
        g2 = Guest(c, sw.sock("vm2"), mac, event_idx=1, mrg=1)
        sw.wait_port_state("vm2", "up")
        g2.rxpost(8)
        g1.tx(mac, n=4)
        check(wait_for(lambda: g2.state(0)["pending"] >= 4, 5, 0.01), "a new guest on the port gets frames")
    waiting = Guest(c, sw.sock("vm2"), "52:54:00:aa:00:09", event_idx=1, mrg=1)
    r = waiting.call("log do=on offset=4096", ok=False)
    check(isinstance(r, str), "a log at an offset accepted from a connection waiting for the port: %s" % r)
    g2.rxpost(8)
    g1.tx(mac, n=4)
    check(wait_for(lambda: g2.state(0)["pending"] >= 8, 5, 0.01), "the port's guest still gets frames")
    check(sw.stop() == 0, "exit code")


def test_rarp_announce(c):
    """SEND_RARP (QEMU's, after a migration, for a guest without
    GUEST_ANNOUNCE): a RARP from the guest's MAC goes out of every other
    port, and the MAC table has the address on the port at once, also
    where it was learned on another port before (the guest's old one)."""
    sw, g1, g2 = pair(c, "mrarp", event_idx=1, mrg=1)
    g1.rxpost(64)
    g2.rxpost(64)
    moved = "02:00:00:00:0a:01"
    g1.mac = moved
    g1.tx("ff:ff:ff:ff:ff:ff")  # learned on vm1: its old port
    g1.mac = M1
    wait_pending(g2, 0, 1)
    g2.rx()
    fdb = lambda: {e.split()[0].lower(): e.split()[2]
                   for e in sw.telemetry("/vqswitch/fdb,br0")["entries"]}
    check(fdb().get(moved) == "vm1", "learned on vm1: %s" % fdb())
    g2.call("rarp mac=%s" % moved)
    check(wait_for(lambda: fdb().get(moved) == "vm2", 1, 0.01),
          "the MAC table moved the address to vm2 within 1 s: %s" % fdb())
    wait_pending(g1, 0, 1)
    dump = g1.call("rx vq=0")
    check(dump["foreign"] == 1, "vm1 received one frame that is not a test frame (the RARP): %s" % dump)
    check(sw.port("vm2")["announcements"] == 1, "counted: %s" % sw.port("vm2")["announcements"])
    check(g2.state(0)["pending"] == 0, "nothing back to the announced guest")
    # Descriptors sent along with SEND_RARP (QEMU sends none) are closed:
    # a frontend could otherwise exhaust the switch's descriptors.
    nfds = lambda: len(os.listdir("/proc/%d/fd" % sw.proc.pid))
    before = nfds()
    for _ in range(100):
        g2.call("rarp mac=%s fds=8" % moved)
    check(nfds() < before + 16, "descriptors sent with SEND_RARP kept: %d, then %d" % (before, nfds()))
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_dirty_log_split, test_dirty_log_packed, test_dirty_log_big_buffers,
                   test_bad_log_refused, test_rarp_announce]))
