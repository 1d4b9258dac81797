#!/usr/bin/env python3
"""Learning-bridge behaviour through the real vqswitch, with three net_pcap
ports on veth pairs that the test drives with raw sockets: which frames
reach which port, aging, a full table, and the counters."""
import sys
import time

from vqtest import Switch, TapPeer, Veth, check, frame, main, tagged_payload

A, B, C = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:0c:01"
BCAST = "ff:ff:ff:ff:ff:ff"


def three_ports(c, name, br_opts="", mtu=1500):
    veths = [Veth(c, "vq%s%d" % (name[:4], i), mtu) for i in range(3)]
    cfg = "add-br br0 %s\n" % br_opts + "".join(
        "add-port br0 p%d type=dpdk devargs=%s\n" % (i, v.devargs(i)) for i, v in enumerate(veths))
    return Switch(c, name, cfg), veths


def expect(veths, counts, what):
    """Each port's peer receives exactly counts[i] of our frames."""
    got = [len(v.collect(0.4)) for v in veths]
    check(got == counts, "%s: ports received %s, expected %s" % (what, got, counts))


def test_learning(c):
    sw, (va, vb, vc) = three_ports(c, "learn")

    va.send(frame(BCAST, A))
    expect((va, vb, vc), [0, 1, 1], "broadcast from p0")
    va.send(frame("01:00:5e:00:00:fb", A))
    expect((va, vb, vc), [0, 1, 1], "multicast from p0")
    va.send(frame("02:00:00:00:ff:ff", A))
    expect((va, vb, vc), [0, 1, 1], "unknown unicast from p0")
    # p0 has learned A: the reply goes to p0 only.
    vb.send(frame(A, B))
    expect((va, vb, vc), [1, 0, 0], "unicast to learned A")
    va.send(frame(B, A))
    expect((va, vb, vc), [0, 1, 0], "unicast to learned B")
    # A moves to p2: frames for A follow it.
    vc.send(frame(BCAST, A))
    expect((va, vb, vc), [1, 1, 0], "broadcast from A on p2")
    vb.send(frame(A, B))
    expect((va, vb, vc), [0, 0, 1], "unicast to A after the move")
    # A frame for an address behind its own ingress port goes nowhere.
    vc.send(frame(A, C))
    expect((va, vb, vc), [0, 0, 0], "unicast back to the ingress port")
    # Invalid sources are dropped and never learned.
    vb.send(frame(BCAST, "01:00:00:00:00:01"))
    vb.send(frame(A, "00:00:00:00:00:00"))
    expect((va, vb, vc), [0, 0, 0], "invalid source MACs")

    fdb = sw.telemetry("/vqswitch/fdb,br0")
    check(fdb["count"] == 3, "fdb count %s, expected 3: %s" % (fdb["count"], fdb))
    entries = {e.split()[0].lower(): e.split()[2] for e in fdb["entries"]}
    check(entries == {A: "p2", B: "p1", C: "p2"}, "fdb entries %s" % entries)

    # Counters: what each port received from the wire and sent to it.
    want = {
        "p0": dict(rx_packets=4, tx_packets=2, drop_no_dest=0, drop_bad_frame=0),
        "p1": dict(rx_packets=4, tx_packets=5, drop_no_dest=0, drop_bad_frame=2),
        "p2": dict(rx_packets=2, tx_packets=4, drop_no_dest=1, drop_bad_frame=0),
    }
    for p, w in want.items():
        st = sw.port(p)
        for k, v in w.items():
            check(st[k] == v, "port %s %s = %s, expected %s (%s)" % (p, k, st[k], v, st))
        check(st["rx_bytes"] == 60 * st["rx_packets"], "port %s rx_bytes %s" % (p, st))
        check(st["tx_bytes"] == 60 * st["tx_packets"], "port %s tx_bytes %s" % (p, st))

    check(sw.telemetry("/vqswitch/ports") == ["p0", "p1", "p2"], "port list")
    check(sw.telemetry("/vqswitch/port,nosuch") is None, "unknown port must get an error reply")
    check(sw.telemetry("/vqswitch/port") is None, "missing parameter must get an error reply")
    check(sw.stop() == 0, "vqswitch exit code")


def test_jumbo(c):
    sw, (va, vb, vc) = three_ports(c, "jumbo", mtu=9000)
    vb.send(frame(A, B))  # learn B
    expect((va, vb, vc), [1, 0, 1], "flood of the learning frame")
    big = frame(B, A, tagged_payload(1, 1, 9000))
    check(len(big) == 9014, "frame size")
    va.send(big)
    got = vb.collect(1.0)
    check(len(got) == 1 and got[0] == big, "9014-byte frame not intact at p1")
    check(not vc.collect(0.3), "learned jumbo frame leaked to p2")
    flood = frame(BCAST, A, tagged_payload(1, 2, 9000))
    va.send(flood)
    gb, gc = vb.collect(1.0), vc.collect(1.0)
    check(gb == [flood] and gc == [flood], "flooded jumbo frame not intact on both ports")
    st = sw.port("p0")
    check(st["rx_bytes"] == 2 * 9014 and st["drop_bad_frame"] == 0, "p0 counters %s" % st)
    check(sw.stop() == 0, "vqswitch exit code")


def test_aging(c):
    sw, (va, vb, vc) = three_ports(c, "aging", "mac-aging=3")
    vb.send(frame(A, B))
    expect((va, vb, vc), [1, 0, 1], "first frame floods")
    check(sw.telemetry("/vqswitch/fdb,br0")["count"] == 1, "B learned")
    va.send(frame(B, A))
    expect((va, vb, vc), [0, 1, 0], "B known")
    check(sw.telemetry("/vqswitch/fdb,br0")["count"] == 2, "A learned, B still there")
    time.sleep(4.5)  # B: last seen > 3 s + one aging pass (every second) ago
    check(sw.telemetry("/vqswitch/fdb,br0")["count"] == 0, "entries aged out")  # A too
    vc.send(frame(B, C))
    expect((va, vb, vc), [1, 1, 0], "B forgotten: flooded again")
    check(sw.stop() == 0, "vqswitch exit code")


def test_full_table(c):
    sw, (va, vb, vc) = three_ports(c, "full", "mac-table-size=4")
    for i in range(6):
        va.send(frame(BCAST, "02:00:00:00:01:%02x" % i))
    expect((va, vb, vc), [0, 6, 6], "frames still forwarded when the table is full")
    fdb = sw.telemetry("/vqswitch/fdb,br0")
    check(fdb["count"] == 4 and fdb["capacity"] == 4, "table holds 4: %s" % fdb)
    check(sw.port("p0")["fdb_full"] == 2, "two sources not learned: %s" % sw.port("p0"))
    # An unlearned source is flooded to, a learned one is not.
    vb.send(frame("02:00:00:00:01:05", B))
    expect((va, vb, vc), [1, 0, 1], "to an unlearned address")
    vb.send(frame("02:00:00:00:01:00", B))
    expect((va, vb, vc), [1, 0, 0], "to a learned address")
    check(sw.stop() == 0, "vqswitch exit code")


def test_pmd_sleep_nic(c):
    """Interrupt-assisted idle on NIC ports (net_tap has RX interrupts): an
    idle PMD sleeps without using its core; frames after idles of up to
    2 s and bursts separated by gaps all arrive, and promptly."""
    sw = Switch(c, "sleepnic", "add-br br0\n"
                               "add-port br0 a type=dpdk devargs=net_tap7,iface=vqsla\n"
                               "add-port br0 b type=dpdk devargs=net_tap8,iface=vqslb\n",
                args=["--pmd-sleep=50"])
    check("RX interrupts on" in sw.log_text(), "net_tap RX interrupts")
    pa, pb = TapPeer(c, "vqsla"), TapPeer(c, "vqslb")
    time.sleep(0.5)
    t0, c0 = time.time(), sw.pmd_cpu_seconds()
    time.sleep(2)
    share = (sw.pmd_cpu_seconds() - c0) / (time.time() - t0)
    check(share < 0.1, "an idle sleeping PMD uses %.0f%% of its core" % (100 * share))
    for gap in (0.3, 1.0, 2.0):
        time.sleep(gap)
        pa.sock.send(frame(BCAST, A))
        delay = pb.first_frame(1.0)
        check(delay is not None and delay < 0.05, "after %.1f s idle: delay %s" % (gap, delay))
    sent = got = 0
    for burst in range(5):
        for _ in range(20):
            pa.sock.send(frame(BCAST, A))
            sent += 1
        got += pb.count(0.3)  # the PMD falls asleep in each gap
    check(got == sent, "bursts after gaps: %d of %d frames arrived" % (got, sent))
    check(sw.vqctl("pmd/stats-show", fmt="json")["pmd0"]["sleeps"] > 5, "the PMD slept")
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_learning, test_jumbo, test_aging, test_full_table, test_pmd_sleep_nic]))
