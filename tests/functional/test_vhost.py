#!/usr/bin/env python3
"""vhost-user ports with real peers: dpdk-testpmd virtio-user "guests" on
the switch's sockets, plus net_pcap ports on veth pairs driven by the test.
"""
import sys
import time

from vqguest import Guest
from vqtest import Switch, TestPmd, Traffic, Veth, check, check_arrived, frame, log, main, tagged_payload

VM1, VM2 = "02:00:00:00:01:01", "02:00:00:00:02:01"
BCAST = "ff:ff:ff:ff:ff:ff"
A, B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"


def blast_vm1_to_vm2(c, sw, name):
    """A receiver guest on vm2 (rxonly) and a sender guest on vm1 with two
    queue pairs (txonly, to VM2's MAC, which is never learned since VM2
    never sends). The sender transmits at full rate for 1.5 s; once the
    switch has drained its rings the receiver stops. Returns (frames the
    sender sent, frames the receiver received)."""
    rx = TestPmd(c, name + "rx", [(sw.sock("vm2"), VM2)], fwd="rxonly")
    tx = TestPmd(c, name + "tx", [(sw.sock("vm1"), VM1)], fwd="txonly", queues=2,
                 extra=["--eth-peer=0,%s" % VM2])
    # Poll mode: guest kicks off on every vring, the second queue pair too.
    sw.wait_kicks_off("vm1", 4)
    sw.wait_kicks_off("vm2", 2)
    rx.cmd("start")
    tx.cmd("start")
    time.sleep(1.5)
    tx.cmd("stop")
    time.sleep(1.0)  # the switch drains the sender's rings
    rx.cmd("stop")
    sent, got = tx.port_stats()[0]["tx"], rx.port_stats()[0]["rx"]
    tx.quit()
    rx.quit()
    check(sent > 1000, "the sender sent %d frames" % sent)
    return sent, got


def check_flooded(sw, port, sent):
    p = sw.port(port)
    check(p["tx_packets"] + p["drop_tx_full"] == sent,
          "%s: tx %d + full %d != %d sent" % (port, p["tx_packets"], p["drop_tx_full"], sent))
    return p


def test_counters_vm_to_vm(c):
    """Every frame the sender guest sent on its two queue pairs is received
    by the switch, and every frame the switch put on the receiver's ring is
    received by the receiver."""
    sw = Switch(c, "cnt", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=2\n"
                          "add-port br0 vm2 type=vhostuser queues=1\n")
    sent, got = blast_vm1_to_vm2(c, sw, "cnt")
    p1 = sw.port("vm1")
    p2 = check_flooded(sw, "vm2", sent)
    log("sender tx %d, switch vm1 rx %d, vm2 tx %d (+%d full), receiver rx %d" %
        (sent, p1["rx_packets"], p2["tx_packets"], p2["drop_tx_full"], got))
    check(p1["rx_packets"] == sent, "switch received %d of %d sent" % (p1["rx_packets"], sent))
    check(got == p2["tx_packets"], "receiver got %d of the %d the switch enqueued" % (got, p2["tx_packets"]))
    check(p1["drop_bad_frame"] == 0 and p1["drop_no_dest"] == 0, "vm1 drops %s" % p1)
    check("guest has" not in sw.log_text(), "queue pairs polled")
    check(sw.stop() == 0, "vqswitch exit code")


def test_two_pmds(c):
    """Two PMD lcores (three lcores on the two CPUs): the sender's two queue
    pairs are polled by different PMDs, which learn and flood at once; the
    NIC port has one TX queue, shared by both PMDs under its lock."""
    va = Veth(c, "vqpm0")
    sw = Switch(c, "pmds", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=2\n"
                           "add-port br0 vm2 type=vhostuser queues=1\n"
                           "add-port br0 a type=dpdk devargs=%s\n" % va.devargs(0),
                lcores="0@0,1@1,2@1")
    check(sw.telemetry("/vqswitch/info")["pmds"] == 2, "two PMDs")
    sent, got = blast_vm1_to_vm2(c, sw, "pm")
    p1 = sw.port("vm1")
    # VM2 never sends, so every frame is flooded to vm2 and to the NIC port.
    p2, pa = check_flooded(sw, "vm2", sent), check_flooded(sw, "a", sent)
    log("sender tx %d; vm1 rx %d; vm2 tx %d full %d; a tx %d full %d; receiver rx %d" %
        (sent, p1["rx_packets"], p2["tx_packets"], p2["drop_tx_full"], pa["tx_packets"], pa["drop_tx_full"], got))
    check(p1["rx_packets"] == sent, "switch received %d of %d" % (p1["rx_packets"], sent))
    check(got == p2["tx_packets"], "receiver got %d of %d" % (got, p2["tx_packets"]))
    check(sw.stop() == 0, "vqswitch exit code")


def reflector(c, sw, name, port, mac, max_pkt_len=None, peer=None):
    """A guest that sends back what it receives with the MACs swapped. With
    a peer, 'start tx_first' first sends one burst from its own MAC to the
    peer, so the switch learns where the guest is without a flood."""
    extra = ["--eth-peer=0,%s" % peer] if peer else []
    return TestPmd(c, name, [(sw.sock(port), mac)], fwd="macswap", lcores="0,1", main_lcore=1,
                   max_pkt_len=max_pkt_len, extra=extra)


def test_unicast_and_jumbo_through_guest(c):
    """A frame from a NIC port to a guest that reflects it (testpmd macswap):
    unknown at first (flooded to both guests), learned from the reflection,
    then unicast to that guest only. 9014-byte frames cross the guest's
    mergeable RX buffers and come back intact."""
    va = Veth(c, "vqgu0", 9000)
    sw = Switch(c, "guest", "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n"
                            "add-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n"
                            % va.devargs(0))
    g1 = reflector(c, sw, "g1", "vm1", VM1, max_pkt_len=9600)
    g2 = TestPmd(c, "g2", [(sw.sock("vm2"), VM2)], fwd="rxonly", lcores="0,1", main_lcore=1)
    sw.wait_port_state("vm1", "up")
    sw.wait_port_state("vm2", "up")
    g1.cmd("start")
    g2.cmd("start")
    first = frame(VM1, A, tagged_payload(2, 0, 100))
    va.send(first)
    # Up to 5 s for the first (a loaded machine); a second copy would
    # come with the next ones and fail their count.
    back = va.collect(5.0, count=1)
    check(len(back) == 1, "reflection of the first frame: got %d" % len(back))
    check(back[0][:6] == first[6:12] and back[0][6:12] == first[:6], "MACs swapped")
    n = 50
    for i in range(1, n + 1):
        va.send(frame(VM1, A, tagged_payload(2, i, 100)))
    back = va.collect(1.0)
    check(len(back) == n, "reflections: %d of %d" % (len(back), n))
    big = [frame(VM1, A, tagged_payload(3, i, 9000)) for i in range(5)]
    for f in big:
        va.send(f)
    back = va.collect(2.0)
    check(len(back) == len(big), "jumbo reflections: %d of %d" % (len(back), len(big)))
    for f, r in zip(big, back):
        check(len(r) == 9014 and r[12:] == f[12:], "jumbo frame payload changed through the guest")
    time.sleep(0.3)
    g2.cmd("stop")
    rx2 = g2.port_stats()[0]["rx"]
    check(rx2 == 1, "vm2 received %d frames; only the first (unknown) one was flooded" % rx2)
    p1 = sw.port("vm1")
    check(p1["tx_packets"] == n + 1 + len(big) and p1["rx_packets"] == n + 1 + len(big),
          "vm1 counters %s" % p1)
    check(p1["drop_bad_frame"] == 0, "vm1 drops %s" % p1)
    g1.quit()
    g2.quit()
    check(sw.stop() == 0, "vqswitch exit code")


def test_reconnect_under_traffic(c):
    """A guest that receives and sends traffic connects, is killed, comes
    back, quits, three times; the switch keeps running and traffic between
    the other ports (NIC to NIC, NIC to guest and back) loses nothing."""
    va, vb = Veth(c, "vqrc0"), Veth(c, "vqrc1")
    sw = Switch(c, "recon", "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n"
                            "add-port br0 b type=dpdk devargs=%s\n"
                            "add-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n"
                            % (va.devargs(0), vb.devargs(1)))
    # Learning without floods that a reflecting guest would send back with
    # a forged source: A and B announce themselves before any guest is up,
    # and each guest first sends a burst from its own MAC (tx_first).
    va.send(frame(BCAST, A))
    vb.send(frame(BCAST, B))
    g2 = reflector(c, sw, "r2", "vm2", VM2, peer=B)
    sw.wait_port_state("vm2", "up")
    g2.cmd("start tx_first")
    time.sleep(0.5)
    AB, B_VM2, A_VM1 = 10, 11, 12
    traffic = Traffic(c, {AB: (va, B, A),
                       B_VM2: (vb, VM2, B)},    # reflected back to B by guest 2
                      [va, vb])
    for cycle in range(3):
        g1 = reflector(c, sw, "r1_%d" % cycle, "vm1", VM1, peer=A)
        sw.wait_port_state("vm1", "up")
        g1.cmd("start tx_first")
        if cycle == 0:
            time.sleep(0.3)
            traffic.add(A_VM1, va, VM1, A)  # to the guest that comes and goes
        time.sleep(1.5)
        check(sw.alive(), "vqswitch died")
        if cycle == 1:
            g1.quit()      # a clean shutdown of the guest's driver
        else:
            g1.kill()      # the guest's process disappears mid-traffic
        sw.wait_port_state("vm1", "down")
        time.sleep(0.5)
    traffic.finish()
    check(sw.alive(), "vqswitch died")
    p = sw.port("vm1")
    log("sent %s, lost %s; vm1 %s" % (traffic.sent, {t: traffic.lost(t) for t in traffic.sent}, p))
    check(p["connects"] == 3 and p["disconnects"] == 3, "vm1 connects/disconnects %s" % p)
    check_arrived(sw, traffic, AB, "a", "A->B")
    # Guest 2 (testpmd) on a loaded machine: frames its RX ring had no room
    # for (the switch counts them), and those it received and could not
    # send back (its counters).
    g2_stats = g2.port_stats()[0]
    check_arrived(sw, traffic, B_VM2, "b", "B->vm2->B",
                  guest=sw.port("vm2")["drop_tx_full"] + max(0, g2_stats["rx"] - g2_stats["tx"]))
    check(len(traffic.received[A_VM1]) > 0, "traffic through the reconnecting guest never flowed")
    check(p["rx_packets"] >= len(traffic.received[A_VM1]), "vm1 reflected the frames A got back")
    check(p["drop_tx_down"] > 0, "frames for vm1 while it was away count as tx_down")
    g2.quit()
    check(sw.stop() == 0, "vqswitch exit code")


def test_vlans_in_guest_memory(c):
    """Guests' frames of 60 to 1514 bytes between access and trunk ports,
    both ways: tagged towards the trunk, untagged towards the access port,
    every byte intact. On the direct datapath a frame of 512 bytes or more
    points into the sender's memory: tagging it takes a copy
    (rte_vlan_insert refuses such an mbuf; they were dropped as no_mbuf),
    and a tagged one is copied before the switch takes the tag off (the
    sender's buffer is not the switch's to write)."""
    va, vt = Veth(c, "vqvga"), Veth(c, "vqvgt")
    sw = Switch(c, "vlang", "add-br br0\n"
                            "add-port br0 vm1 type=vhostuser tag=10\n"
                            "add-port br0 vm2 type=vhostuser trunks=10\n"
                            "add-port br0 a type=dpdk devargs=%s tag=10\n"
                            "add-port br0 t type=dpdk devargs=%s trunks=10\n"
                % (va.devargs(0), vt.devargs(1)))
    g1, g2 = Guest(c, sw.sock("vm1"), VM1), Guest(c, sw.sock("vm2"), VM2)
    for port in ("vm1", "vm2"):
        sw.wait_port_state(port, "up")
    # A behind the access port, B behind the trunk, both in VLAN 10.
    va.send(frame(BCAST, A))
    vt.send(frame(BCAST, B)[:12] + b"\x81\x00\x00\x0a" + frame(BCAST, B)[12:])
    time.sleep(0.3)
    va.drain()
    vt.drain()
    seq = 0
    for size in (60, 511, 512, 1000, 1514):
        g1.tx(B, n=4, length=size, seq=seq)
        got = vt.collect(5.0, count=4)
        want = [frame(B, VM1, tagged_payload(0, seq + k, size - 14)) for k in range(4)]
        check(got == want and vt.vlans == [10] * 4,
              "%d bytes from the access guest: %d of 4 arrived intact at the trunk, VLANs %s" %
              (size, sum(g == w for g, w in zip(got, want)), vt.vlans))
        g2.tx(A, n=4, length=size, seq=seq, vlan=10)
        got = va.collect(5.0, count=4)
        want = [frame(A, VM2, tagged_payload(0, seq + k, size - 14)) for k in range(4)]
        check(got == want and va.vlans == [None] * 4,
              "%d bytes tagged from the trunk guest: %d of 4 arrived intact and untagged" %
              (size, sum(g == w for g, w in zip(got, want))))
        g1.txdone()
        g2.txdone()
        seq += 4
    for port in ("vm1", "vm2", "a", "t"):
        st = sw.port(port)
        check(st["drop_no_mbuf"] == 0 and st["drop_vlan_filtered"] == 0, "%s: %s" % (port, st))
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_counters_vm_to_vm, test_two_pmds, test_unicast_and_jumbo_through_guest,
                   test_reconnect_under_traffic, test_vlans_in_guest_memory]))
