#!/usr/bin/env python3
"""Checksum and segmentation offloads (docs/offloads.md), with test guests
that hand the switch 60 KB TCP frames and partial checksums as Linux does:
a guest that took the offloads gets the frame and its header as sent, a
guest that did not gets TCP segments with every checksum right, a flood
gives each what it takes, VLAN tags move the offsets with them, every
malformed header is a counted drop, and the offloads are offered where
the configuration says, and kept for a frontend that reconnects using
them."""
import os
import select
import struct
import subprocess
import sys
import time

from offload_frames import (DATA_VALID, F_CSUM, F_GUEST_CSUM, F_GUEST_ECN, F_GUEST_TSO4, F_HOST_ECN,
                            F_HOST_TSO4,
                            GSO_ECN, GSO_TCPV4, GSO_TCPV6, GSO_UDP, HDR, NEEDS_CSUM, OFFLOADS, UDP,
                            Frame, check_segment, check_segments, fold, payload, read_dump, sum16,
                            vnet_hdr)
from vqguest import VQGUEST, Guest
from vqtest import PACKET_OUTGOING, Switch, TapPeer, check, mac_bytes, main, wait_for

A, B, N = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:0c:01"
UNKNOWN = "02:00:00:00:99:99"
MSS = 1448
DIRECT = os.environ.get("VQS_DATAPATH", "direct") == "direct"


def setup(c, name, a_opts="", b_opts="", n_opts="", packed=0):
    """Ports a and b with offloads (b by the switch's default), n
    without; a guest on each that asks for what its port offers, learned,
    with RX buffers posted."""
    sw = Switch(c, name, "add-br br0\n"
                         "add-port br0 a type=vhostuser offloads=on %s\n"
                         "add-port br0 b type=vhostuser %s\n"
                         "add-port br0 n type=vhostuser offloads=off %s\n" % (a_opts, b_opts, n_opts),
                args=["--watchdog-interval", "0"])
    a = Guest(c, sw.sock("a"), A, features=OFFLOADS, event_idx=1, packed=packed)
    b = Guest(c, sw.sock("b"), B, features=OFFLOADS, event_idx=1, packed=packed)
    n = Guest(c, sw.sock("n"), N, event_idx=1, packed=packed)
    for port in ("a", "b", "n"):  # the switch's side of the set-up done too
        sw.wait_port_state(port, "up")
        sw.wait_kicks_off(port, 2)
    for g in (a, b, n):
        g.rxpost(200, "4096")
    for g in (a, b, n):
        g.tx("ff:ff:ff:ff:ff:ff")
    # Each guest takes the others' broadcasts (those of its VLAN) out of
    # the way: as many as the switch sent its port, once the switch has
    # had all three (and twice in a row, the counters read apart).
    # Waited for, not slept on: a late one, on a loaded machine, was
    # counted by the test's first receiver.
    got, settled = [0, 0, 0], [0]

    def drained():
        for i, g in enumerate((a, b, n)):
            used = g.rx()["used"]
            if used:
                g.rxpost(used, "4096")
                got[i] += used
        ports = [sw.port(p) for p in ("a", "b", "n")]
        done = all(p["rx_packets"] >= 1 for p in ports) and \
            all(got[i] >= p["tx_packets"] for i, p in enumerate(ports))
        settled[0] = settled[0] + 1 if done else 0
        return settled[0] >= 2

    check(wait_for(drained, 10, 0.05), "the set-up's broadcasts, received by a, b, n: %s" % got)
    return sw, a, b, n


class Receiver:
    """What a test guest receives, dumped to a file and read back."""

    def __init__(self, sw, g, name):
        self.g, self.path, self.seen = g, os.path.join(sw.dir, "rx-%s" % name), 0

    def take(self, n, what, timeout=5):
        """The next n frames (header fields, bytes); fails on fewer or more."""
        def enough():
            r = self.g.call("rx vq=0 dump=%s" % self.path)
            check(r["bad_used"] == 0, "%s: receiver saw %s" % (what, r))
            if r["used"]:
                self.g.rxpost(r["used"], "4096")
            return len(read_dump(self.path)) - self.seen >= n

        wait_for(enough, timeout, 0.01)
        # And then no more: the switch passes a frame on within the PMD's
        # pass; a late extra one would also make the next take fail.
        time.sleep(0.05)
        enough()
        got = read_dump(self.path)[self.seen:]
        self.seen += len(got)
        check(len(got) == n, "%s: %d frames arrived, expected %d" % (what, len(got), n))
        return got


def send(sw, g, data, segs=None, indirect=0):
    """One TX buffer holding data (virtio-net header and frame) from g."""
    path = os.path.join(sw.dir, "tx.bin")
    with open(path, "wb") as f:
        f.write(data)
    g.txdone()  # the buffers of the frames before
    line = "txraw vq=1 file=%s indirect=%d" % (path, indirect)
    if segs:
        line += " segs=%s" % segs
    check(g.call(line)["sent"] == 1, "the guest queued the frame")


def passed_through(got, f, gso_size, what):
    """One frame as sent, its header's offloads intact. (librte_vhost
    writes the pseudo-header's sum without the length into a GSO frame's
    checksum field, as Intel NICs want it: on its datapath that field is
    the one difference.)"""
    (h, data), = got
    sent = f.bytes
    if gso_size and not DIRECT:
        sent = f.with_partial(0)
    check(data == sent, "%s: the frame changed (%d bytes, sent %d)" % (what, len(data), len(sent)))
    check(h["flags"] == NEEDS_CSUM and h["csum_start"] == f.csum_start and
          h["csum_offset"] == f.csum_offset, "%s: checksum fields %s" % (what, h))
    gso = (GSO_TCPV6 if f.v6 else GSO_TCPV4) if gso_size else 0
    check(h["gso_type"] == gso and h["gso_size"] == gso_size, "%s: GSO fields %s" % (what, h))


# A 60000-byte TCP payload in one descriptor; the header alone then 2000
# bytes at a time (Linux's scatter-gather); through an indirect table.
LAYOUTS = [{}, {"segs": "12,2000,2000,2000"}, {"segs": "12,30000", "indirect": 1}]


def test_gso_to_guests(c, packed=0):
    """GSO TCP over IPv4 and IPv6, and partial UDP and TCP checksums:
    as sent to a guest that took the offloads, segmented and completed
    for one that did not, and both for a flood. Before offloads the
    switch offered none; a frame over 9216 bytes was dropped."""
    sw, a, b, n = setup(c, "olgso", packed=packed)
    rb, rn = Receiver(sw, b, "b"), Receiver(sw, n, "n")
    seq, gso_frames, csum_frames = 1000, 0, 0
    for v6 in (False, True):
        for lay in LAYOUTS:
            what = "%s %s" % ("IPv6" if v6 else "IPv4", lay or "one descriptor")
            f = Frame(B, A, payload(60000, seq), v6=v6, seq=seq)
            send(sw, a, f.hdr(gso_size=MSS) + f.bytes, **lay)
            passed_through(rb.take(1, what), f, MSS, what + " to b")
            f = Frame(N, A, payload(60000, seq + 1), v6=v6, seq=seq)
            send(sw, a, f.hdr(gso_size=MSS) + f.bytes, **lay)
            check_segments(rn.take(-(-60000 // MSS), what), f, MSS, what + " to n")
            gso_frames += 1
            seq += 100000
        for proto, size in ((UDP, 3000), (UDP, 200), (6, 700)):
            what = "%s %d-byte partial checksum" % ("UDP" if proto == UDP else "TCP", size)
            f = Frame(B, A, payload(size), v6=v6, proto=proto)
            send(sw, a, f.hdr() + f.bytes)
            passed_through(rb.take(1, what), f, 0, what + " to b")
            f = Frame(N, A, payload(size), v6=v6, proto=proto)
            send(sw, a, f.hdr() + f.bytes)
            (h, data), = rn.take(1, what)
            check(h["flags"] == 0, "%s: n got header %s" % (what, h))
            check_segment(data, what + " to n")
            csum_frames += 1
    # The longest headers there are: IPv4 and TCP with 40 bytes of options
    # each, 134 bytes (more than the 128 the switch copied out at first).
    f = Frame(N, A, payload(3000), seq=77, ip_opts=b"\x01" * 40, tcp_opts=b"\x01" * 40)
    send(sw, a, f.hdr(gso_size=500) + f.bytes)
    check_segments(rn.take(6, "options"), f, 500, "IPv4 and TCP options to n")
    gso_frames += 1
    # A flood (unknown destination): each receiver gets what it takes.
    f = Frame(UNKNOWN, A, payload(20000), seq=5)
    send(sw, a, f.hdr(gso_size=MSS) + f.bytes)
    passed_through(rb.take(1, "flood"), f, MSS, "flood to b")
    check_segments(rn.take(-(-20000 // MSS), "flood"), f, MSS, "flood to n")
    pn, pb, pa = sw.port("n"), sw.port("b"), sw.port("a")
    check(pn["sw_gso"] == gso_frames + 1 and pn["sw_csum"] == csum_frames,
          "n: %d GSO frames and %d checksums done in software: %s" % (gso_frames + 1, csum_frames, pn))
    check(pb["sw_gso"] == 0 and pb["sw_csum"] == 0, "b took every offload: %s" % pb)
    check(pa["drop_bad_offload"] == 0 and pa["drop_bad_frame"] == 0, "a: nothing dropped: %s" % pa)
    check(pb["offloads_taken"] == "csum,tso4,tso6" and pn["offloads_taken"] == "none" and
          pa["offloads_from_guest"] == "csum,tso4,tso6", "offloads shown: %s %s" % (pb, pn))
    check(sw.stop() == 0, "exit code")


def test_gso_to_guests_packed(c):
    test_gso_to_guests(c, packed=1)


def test_vlan_offloads(c):
    """A tagged GSO frame from a trunk: an access port's guest without
    offloads gets untagged segments, a trunk guest with them the tagged
    frame with its offsets as sent (the tag taken off and put back)."""
    sw, a, b, n = setup(c, "olvlan", n_opts="tag=5")
    rb, rn = Receiver(sw, b, "b"), Receiver(sw, n, "n")
    for v6 in (False, True):
        f = Frame(UNKNOWN, A, payload(30000), v6=v6, vlan=5, seq=77)
        send(sw, a, f.hdr(gso_size=MSS) + f.bytes)
        passed_through(rb.take(1, "tagged to b"), f, MSS, "tagged to b")
        plain = Frame(UNKNOWN, A, payload(30000), v6=v6, seq=77)
        check_segments(rn.take(-(-30000 // MSS), "tagged to n"), plain, MSS, "tagged to an access port")
    check(sw.stop() == 0, "exit code")


def test_odd_checksum_start(c):
    """A partial checksum that is not TCP's or UDP's (a protocol of the
    guest's own), from an odd csum_start, over a 4200-byte frame, to a
    guest without offloads: completed right, whatever the offsets of
    the mbufs it lies in. (DPDK 22.11's rte_raw_cksum_mbuf, which the
    switch used, lost the carries there: 0x4fae for 0x4d97. The
    library's datapath leaves such a checksum to librte_vhost, which
    passes it on unfinished: offloads.md.)"""
    sw, a, b, n = setup(c, "olodd")
    rn = Receiver(sw, n, "n")
    for start, size in ((15, 4200), (33, 3001), (14, 600), (129, 5000)):
        frame = mac_bytes(N) + mac_bytes(A) + struct.pack("!H", 0x88b5) + payload(size - 14, start)
        seed = 0x1234
        frame = frame[:start] + struct.pack("!H", seed) + frame[start + 2:]
        send(sw, a, vnet_hdr(NEEDS_CSUM, 0, 0, 0, start, 0) + frame)
        (h, data), = rn.take(1, "csum_start %d" % start)
        check(fold(sum16(data[start:]) + seed) in (0xffff, 0),
              "csum_start %d, %d bytes: completed wrong: %s" % (start, size, data[start:start + 2].hex()))
        check(data[:start] == frame[:start] and data[start + 2:] == frame[start + 2:],
              "csum_start %d: only the checksum changed" % start)
    check(sw.port("n")["sw_csum"] == 4, "four completed: %s" % sw.port("n"))
    check(sw.stop() == 0, "exit code")


def tap_frames(tap, n, timeout=3):
    """The next n IP frames the switch wrote into the tap interface."""
    out, end = [], time.time() + timeout
    while len(out) < n and select.select([tap.sock], [], [], max(0, end - time.time()))[0]:
        data, addr = tap.sock.recvfrom(65536)
        if addr[2] != PACKET_OUTGOING and data[12:14] in (b"\x08\x00", b"\x86\xdd"):
            out.append(({"flags": 0, "gso_type": 0}, data))
    return out


def test_nic_offloads(c):
    """A dpdk port whose device computes TCP/UDP checksums (net_tap) gets
    a guest's partial checksums with the offload in its mbufs (sw_csum
    stays 0); what comes out of the device is right. net_tap's TSO is
    not used: it cut no IPv6, refused full-size segments (MSS 1460) and
    more than 64, and dropped the rest of the burst with them (the second
    hostile review); the switch cuts GSO frames itself (sw_gso), right
    whatever their MSS. (net_tap does its checksums in software of its
    own; a NIC in hardware.) Before, the switch did all of it itself."""
    tap = "vqolt%d" % (os.getpid() % 100000)
    sw = Switch(c, "olnic", "add-br br0\nadd-port br0 a type=vhostuser offloads=on\n"
                            "add-port br0 up type=dpdk devargs=net_tap0,iface=%s\n" % tap)
    a = Guest(c, sw.sock("a"), A, features=OFFLOADS, event_idx=1)
    a.rxpost(64, "4096")
    ul = TapPeer(c, tap)
    time.sleep(0.5)
    ul.drain()
    up = sw.port("up")
    check(up["offloads_taken"] == "csum", "net_tap's offloads: %s" % up)
    gso = ((False, 20000, 1400), (True, 20000, 1400), (False, 20000, 1460), (False, 60000, 536))
    for v6, size, mss in gso:
        f = Frame(UNKNOWN, A, payload(size), v6=v6, seq=5)
        send(sw, a, f.hdr(gso_size=mss) + f.bytes)
        check_segments(tap_frames(ul, -(-size // mss)), f, mss,
                       "IPv%d GSO, MSS %d, through net_tap" % (6 if v6 else 4, mss))
    for proto in (UDP, 6):
        f = Frame(UNKNOWN, A, payload(1000), proto=proto)
        send(sw, a, f.hdr() + f.bytes)
        got = tap_frames(ul, 1)
        check(len(got) == 1, "a partial checksum through net_tap: %d frames" % len(got))
        check_segment(got[0][1], "a partial %s checksum through net_tap" % ("UDP" if proto == UDP else "TCP"))
    up = sw.port("up")
    check(up["sw_gso"] == len(gso) and up["sw_csum"] == 0 and up["drop_tx_full"] == 0,
          "the device did the checksums, the switch the segments: %s" % up)
    check(sw.stop() == 0, "exit code")


def bad_headers():
    """(what, header and frame) for every way a header can be wrong."""
    t4 = Frame(B, A, payload(20000))
    t6 = Frame(B, A, payload(20000), v6=True)
    u4 = Frame(B, A, payload(500), proto=UDP)
    frag = Frame(B, A, payload(20000))
    frag.bytes = frag.bytes[:20] + b"\x20\x00" + frag.bytes[22:]  # IPv4 MF
    return [
        ("DATA_VALID from a driver", t4.hdr(flags=NEEDS_CSUM | DATA_VALID) + t4.bytes),
        ("an unknown flag", t4.hdr(flags=NEEDS_CSUM | 8) + t4.bytes),
        ("UFO", u4.hdr(gso_type=GSO_UDP, gso_size=100) + u4.bytes),
        ("ECN, not offered", t4.hdr(gso_size=MSS, gso_type=GSO_TCPV4 | GSO_ECN) + t4.bytes),
        ("an unknown GSO type", t4.hdr(gso_size=MSS, gso_type=9) + t4.bytes),
        ("GSO without NEEDS_CSUM", t4.hdr(gso_size=MSS, flags=0) + t4.bytes),
        ("csum_start past the frame (CVE-2024-11614)", t4.hdr(csum_start=0xfff0) + t4.bytes),
        ("csum_offset past the frame", t4.hdr(csum_offset=20000) + t4.bytes),
        ("csum_start in the Ethernet header", t4.hdr(csum_start=4) + t4.bytes),
        ("TCP, the checksum not at its place", t4.hdr(csum_offset=6) + t4.bytes),
        ("gso_size 0", t4.hdr(gso_type=GSO_TCPV4) + t4.bytes),
        ("TCPV4 on IPv6", t6.hdr(gso_size=MSS, gso_type=GSO_TCPV4) + t6.bytes),
        ("TCPV6 on IPv4", t4.hdr(gso_size=MSS, gso_type=GSO_TCPV6) + t4.bytes),
        ("GSO on UDP", u4.hdr(gso_size=100, gso_type=GSO_TCPV4) + u4.bytes),
        ("GSO not at the TCP header", t4.hdr(gso_size=MSS, csum_start=t4.csum_start - 4) + t4.bytes),
        ("too many segments", t4.hdr(gso_size=100) + t4.bytes),
        ("segments longer than a frame", t4.hdr(gso_size=9500) + t4.bytes),
        ("an IPv4 fragment", frag.hdr(gso_size=MSS) + frag.bytes),
        ("GSO without payload", Frame(B, A, b"").hdr(gso_size=MSS) + Frame(B, A, b"").bytes),
        ("a GSO frame that is not IP", vnet_hdr(NEEDS_CSUM, GSO_TCPV4, 0, MSS, 14, 16) +
         bytes.fromhex(B.replace(":", "") + A.replace(":", "")) + b"\x88\xb5" + bytes(20000)),
    ]


def test_bad_offload_headers(c):
    """Each malformed header is dropped and counted (drop_bad_offload,
    and received); nothing reaches a guest; the guest's next good frame
    goes through. A guest without the offloads that sets NEEDS_CSUM is
    not believed (the header is not read). Before: offloads were not
    offered, so there were no headers to check."""
    sw, a, b, n = setup(c, "olbad")
    rb, rn = Receiver(sw, b, "b"), Receiver(sw, n, "n")
    cases = bad_headers()
    for what, data in cases:
        send(sw, a, data)
        check(sw.alive(), "vqswitch died on %s" % what)
    rb.take(0, "bad headers")
    rn.take(0, "bad headers")
    pa = sw.port("a")
    check(pa["drop_bad_offload"] == len(cases), "a: %d bad headers counted: %s" % (len(cases), pa))
    f = Frame(B, A, payload(20000))
    send(sw, a, f.hdr(gso_size=MSS) + f.bytes)
    passed_through(rb.take(1, "a good frame after"), f, MSS, "a good frame after")
    check(sw.stop() == 0, "exit code")


def offered(g):
    return g.call("features")["offered"]


def test_offloads_config(c):
    """offloads=on offers checksum and TSO (never ECN or UFO), and so does
    the switch's default; off none; a change restarts the
    port and the state file keeps it; a frontend that reconnects asking
    for offloads the port no longer offers keeps them for that
    connection (QEMU refused them would reconnect without end: OVS's
    loop); other port types refuse the option."""
    sw = Switch(c, "olconf", "add-br br0\nadd-port br0 a type=vhostuser offloads=on\n"
                             "add-port br0 n type=vhostuser offloads=off\n"
                             "add-port br0 d type=vhostuser\n")
    ga = Guest(c, sw.sock("a"), A)
    gn = Guest(c, sw.sock("n"), N)
    ol = 1 << F_CSUM | 1 << F_GUEST_CSUM | 1 << F_HOST_TSO4
    never = 1 << F_HOST_ECN | 1 << F_GUEST_ECN | 1 << 10 | 1 << 14  # GUEST_UFO, HOST_UFO
    check(offered(ga) & ol == ol, "a offers offloads: 0x%x" % offered(ga))
    check(offered(ga) & never == 0 and offered(gn) & (ol | never) == 0,
          "never ECN or UFO, n none: 0x%x 0x%x" % (offered(ga), offered(gn)))
    rc, _, err = sw.vqctl("set", "port", "a", "offloads=maybe", check_rc=False)
    check(rc != 0 and "expected on, off or default" in err, "a bad value: %s" % err)
    rc, _, err = sw.vqctl("add-port", "br0", "x", "type=dpdk", "devargs=net_null0", "offloads=on",
                          check_rc=False)
    check(rc != 0 and "are for vhostuser" in err, "dpdk port: %s" % err)
    check("offloads=on" in open(sw.state).read(), "the state file keeps offloads=on")
    # Off: the port restarts; a frontend that insists keeps what it had.
    sw.vqctl("set", "port", "a", "offloads=off")
    check("offloads=off offloads-kept=on" in open(sw.state).read(),
          "the state file: off, and kept for frontends that had them")
    sw.wait_port_state("a", "down")
    ga.kill()
    ga = Guest(c, sw.sock("a"), A, features=OFFLOADS, insist=1, event_idx=1)
    sw.wait_port_state("a", "up")
    check(sw.port("a")["offloads_kept"] == 1 and sw.port("a")["offloads_from_guest"] == "csum,tso4,tso6",
          "the insisting frontend kept its offloads: %s" % sw.port("a"))
    sw.wait_log("kept for this connection", 5)
    gn.rxpost(200, "4096")
    rn = Receiver(sw, gn, "n")
    gn.tx("ff:ff:ff:ff:ff:ff")
    ga.rxpost(10)
    f = Frame(N, A, payload(10000))
    send(sw, ga, f.hdr(gso_size=MSS) + f.bytes)
    check_segments(rn.take(-(-10000 // MSS), "from the insisting guest"), f, MSS, "kept offloads")
    # A new connection that does not insist is offered none again.
    ga.kill()
    ga = Guest(c, sw.sock("a"), A)
    check(offered(ga) & ol == 0, "offloads no longer offered: 0x%x" % offered(ga))
    # A port that never offered them refuses a frontend that insists
    # (before, any tenant's frontend got them: off was no boundary), and
    # so does one whose operator said offloads-kept=off.
    sw.vqctl("set", "port", "a", "offloads-kept=off")
    for g, name, mac in ((gn, "n", N), (ga, "a", A)):
        g.kill()
        bad = Guest.__new__(Guest)
        bad.mac, bad.path, bad.conf = mac, sw.sock(name), dict(features=OFFLOADS, insist=1)
        bad.proc = subprocess.Popen([VQGUEST], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    bufsize=1)
        c.add(bad.kill)
        answer = bad.call("connect path=%s features=%d insist=1" % (sw.sock(name), OFFLOADS), ok=False)
        check(not str(answer).startswith("ok") or sw.port(name)["offloads_from_guest"] == "none",
              "port %s: an insisting frontend got offloads never offered: %s %s" % (name, answer, sw.port(name)))
        bad.kill()
    sw.wait_log("never offered: refused", 5)
    check(sw.port("n")["offloads_kept"] == 0, "n kept none: %s" % sw.port("n"))
    # offloads=default on a port whose offloads are on anyway (the
    # switch's default): its offer does not change, its guest stays.
    gd = Guest(c, sw.sock("d"), A)
    sw.wait_port_state("d", "up")
    connects = sw.port("d")["connects"]
    sw.vqctl("set", "port", "d", "offloads=on")
    sw.vqctl("set", "port", "d", "offloads=default")
    check(sw.port("d")["connects"] == connects and sw.port("d")["state"] == "up",
          "no restart for an offer that did not change: %s" % sw.port("d"))
    gd.kill()
    # TSO without checksum offload (virtio 1.2, 5.1.3.1) is refused: the
    # library would parse GSO headers the switch does not check (the
    # second hostile review).
    for feats in (1 << F_HOST_TSO4, 1 << F_GUEST_TSO4):
        bad = Guest.__new__(Guest)
        bad.mac, bad.path, bad.conf = A, sw.sock("d"), {}
        bad.proc = subprocess.Popen([VQGUEST], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    bufsize=1)
        c.add(bad.kill)
        answer = bad.call("connect path=%s features=%d" % (sw.sock("d"), feats), ok=False)
        check(not str(answer).startswith("ok"), "TSO without checksum (0x%x) refused: %s" % (feats, answer))
        bad.kill()
    sw.wait_log("TSO without checksum offload: refused", 5)
    # The switch's default (on) for d, without offloads= of its own; off
    # switch-wide, d restarts without them, a and n are as they were.
    gd = Guest(c, sw.sock("d"), A)
    check(offered(gd) & ol == ol, "d offers them by default: 0x%x" % offered(gd))
    gd.kill()
    sw.vqctl("set", "switch", "offloads=off")
    state = open(sw.state).read()
    check("set switch offloads=off" in state, "state: %s" % state)
    check("d type=vhostuser" in state and "offloads-kept=on" in state.split("d type=vhostuser")[1],
          "d keeps offloads for frontends that had them: %s" % state)
    gd = Guest(c, sw.sock("d"), A)
    ga = Guest(c, sw.sock("a"), A)
    check(offered(gd) & ol == 0 and offered(ga) & ol == 0,
          "d no longer offers them, a (offloads=off) still not: 0x%x 0x%x" % (offered(gd), offered(ga)))
    sw.vqctl("set", "switch", "offloads=on")
    check("set switch offloads" not in open(sw.state).read(), "on, the default, is not written")
    rc, _, err = sw.vqctl("set", "switch", "offloads=maybe", check_rc=False)
    check(rc != 0 and "expected on or off" in err, "a bad value: %s" % err)
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_gso_to_guests, test_gso_to_guests_packed, test_vlan_offloads,
                   test_odd_checksum_start, test_nic_offloads, test_bad_offload_headers,
                   test_offloads_config]))
