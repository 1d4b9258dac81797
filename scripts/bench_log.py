#!/usr/bin/env python3
"""What dirty-page logging (a guest being live-migrated) costs the switch:
guest-to-guest frames of 60 and 1514 bytes with logging off and on, in
alternating rounds of one run, on the switch's default datapath.

Guests: two test guests (tests/guest/vqguest). The sender queues one
frame again and again as fast as the switch gives its buffers back
('blast'); the receiver gives every used RX buffer straight back ('sink').
With logging on, both have turned it on as a migrating QEMU does (LOG_ALL,
a log, the vrings' log addresses): the switch marks every page it writes
into the receiver (frames, used entries) and the sender's used ring. The
guests share lcore 0's CPU, the switch's PMD runs on lcore 1.

Figures: Mpps received, and the PMD's busy cycles per frame (pmd/stats-
show: the switch's own cost, which the guests' pace does not hide); the
ratio on/off of each. Run by scripts/bench.py --dirty-log, or alone:
  scripts/bench_log.py [--seconds 4] [--rounds 3] [--sizes 60,1514]
"""
import argparse
import os
import statistics
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "functional"))
from vqguest import Guest, blast_measured  # noqa: E402
from vqtest import Cleanup, Switch  # noqa: E402

A, B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def frame_file(path, size):
    """A 12-byte virtio-net header (nothing asked) and a frame from A to B."""
    eth = mac(B) + mac(A) + struct.pack("!H", 0x88b5)
    with open(path, "wb") as fh:
        fh.write(bytes(12) + eth + bytes(size - len(eth)))


def measure(size, log, seconds):
    """(Mpps, PMD busy cycles per frame) for one round."""
    c = Cleanup()
    try:
        sw = Switch(c, "blog", "add-br br0\nadd-port br0 a type=vhostuser\n"
                               "add-port br0 b type=vhostuser\n",
                    args=["--watchdog-interval", "0"], mem=256)
        # Rings of 4096: the guests share a CPU, each fills or drains
        # its ring in its time slice.
        a = Guest(c, sw.sock("a"), A, event_idx=1, mrg=1, size=4096)
        b = Guest(c, sw.sock("b"), B, event_idx=1, mrg=1, size=4096)
        b.rxpost(4096, "2048")
        b.tx("ff:ff:ff:ff:ff:ff")  # b learned
        a.tx("ff:ff:ff:ff:ff:ff")
        time.sleep(0.3)
        b.call("sink vq=0 ms=100")
        a.txdone()
        if log:
            a.call("log do=on")
            b.call("log do=on")
        path = os.path.join(sw.dir, "frame.bin")
        frame_file(path, size)
        got, busy = blast_measured(sw, a, b, path, seconds)
        frames = got["buffers"]
        return frames / seconds / 1e6, busy / max(1, frames)
    finally:
        c.run()


def run(sizes, seconds, rounds, out=print):
    """Rounds alternating off and on per size; returns {size: {log: (Mpps, cpf)}} medians."""
    res = {}
    for size in sizes:
        runs = {False: [], True: []}
        for r in range(rounds):
            for log in (False, True):
                mpps, cpf = measure(size, log, seconds)
                runs[log].append((mpps, cpf))
                out("round %d %4d bytes logging %-3s %6.3f Mpps %7.0f PMD busy cycles/frame" %
                    (r + 1, size, "on" if log else "off", mpps, cpf))
        res[size] = {log: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
                     for log, v in runs.items()}
    out("\ndirty-page logging, guest to guest (median of %d rounds, %d s each)" % (rounds, seconds))
    for size, m in res.items():
        (off_mpps, off_cpf), (on_mpps, on_cpf) = m[False], m[True]
        out("%4d bytes: off %6.3f Mpps %6.0f cycles/frame; on %6.3f Mpps %6.0f cycles/frame; "
            "on/off: %.2fx Mpps, %.2fx cycles per frame" %
            (size, off_mpps, off_cpf, on_mpps, on_cpf, on_mpps / off_mpps if off_mpps else 0,
             on_cpf / off_cpf if off_cpf else 0))
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds, the median kept")
    ap.add_argument("--sizes", default="60,1514")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_log.py needs root (hugepages, DPDK)")
        return 1
    run([int(s) for s in a.sizes.split(",")], a.seconds, a.rounds,
        out=lambda s: print(s, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
