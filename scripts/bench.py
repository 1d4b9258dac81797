#!/usr/bin/env python3
"""VM-to-VM throughput of vqswitch against a baseline, measured in the same
run with the same generator.

Generator: dpdk-testpmd with two virtio-user ports (one per "VM") in mac
forwarding mode, forwarding lcore 0; 'start tx_first' puts a fixed number
of frames in flight and each port sends whatever it receives out of the
other, addressed to the other, so frames cross the switch both ways.
Switch under test, PMD on lcore 1:
  baseline  dpdk-testpmd with two net_vhost ports, io forwarding (no
            lookup, no learning);
  vqswitch  two vhost-user ports, learning bridge (every frame learns its
            source and looks up its destination).
Throughput is the generator's received frames per second, both ports.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "functional"))
from vqtest import Cleanup, Switch, TestPmd  # noqa: E402

BURSTS = int(os.environ.get("VQS_BENCH_BURSTS", "16"))
VM1, VM2 = "02:00:00:00:01:01", "02:00:00:00:02:01"


def measure(kind, size, seconds, warmup):
    c = Cleanup()
    try:
        if kind == "baseline":
            d = tempfile.mkdtemp(prefix="vqs-bench-")
            c.add(lambda: os.system("rm -rf " + d))
            socks = [os.path.join(d, "vm%d.sock" % i) for i in (1, 2)]
            sw = TestPmd(c, "bsw", ["net_vhost%d,iface=%s,queues=1" % (i, s) for i, s in enumerate(socks)],
                         fwd="io", lcores="0,1", main_lcore=0, extra=["--nb-cores=1"])
            sw.cmd("start")
        else:
            sw = Switch(c, "bench", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n"
                                    "add-port br0 vm2 type=vhostuser queues=1\n", mem=256)
            socks = [sw.sock("vm1"), sw.sock("vm2")]
        gen = TestPmd(c, "bgen", [(socks[0], VM1), (socks[1], VM2)], fwd="mac", lcores="0,1",
                      main_lcore=1, vdev_opts=",queue_size=1024",
                      extra=["--eth-peer=0,%s" % VM2, "--eth-peer=1,%s" % VM1, "--nb-cores=1",
                             "--rxd=1024", "--txd=1024"])
        gen.cmd("set txpkts %d" % size)
        gen.cmd("start tx_first %d" % BURSTS)
        time.sleep(warmup)
        s0, t0 = gen.port_stats(), time.time()
        time.sleep(seconds)
        s1, t1 = gen.port_stats(), time.time()
        frames = sum(s1[p]["rx"] - s0[p]["rx"] for p in s1)
        gen.quit()
        return frames / (t1 - t0) / 1e6
    finally:
        c.run()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5, help="measuring time per run")
    ap.add_argument("--warmup", type=float, default=2, help="seconds before measuring")
    ap.add_argument("--sizes", default="60,1514", help="frame sizes without FCS")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs per size and switch, interleaved; runs on this 2-core machine vary "
                         "by up to 1.5x, so the best and the median are both printed")
    a = ap.parse_args()
    print("%-8s %-9s %10s %10s   %s" % ("frame", "switch", "best Mpps", "median", "runs"))
    for size in (int(x) for x in a.sizes.split(",")):
        runs = {"baseline": [], "vqswitch": []}
        for _ in range(a.rounds):
            for kind in runs:
                runs[kind].append(measure(kind, size, a.seconds, a.warmup))
        for kind, r in runs.items():
            print("%-8s %-9s %10.3f %10.3f   %s" % ("%d B" % (size + 4), kind, max(r), statistics.median(r),
                                                  " ".join("%.2f" % x for x in r)))
        print("%-8s ratio     %9.2fx %9.2fx   (vqswitch / baseline)" % (
            "%d B" % (size + 4), max(runs["vqswitch"]) / max(runs["baseline"]),
            statistics.median(runs["vqswitch"]) / statistics.median(runs["baseline"])), flush=True)


if __name__ == "__main__":
    main()
