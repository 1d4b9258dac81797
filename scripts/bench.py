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
            source and looks up its destination), librte_vhost's datapath
            (--datapath=library, the fallback);
  direct    the same on the switch's default datapath (--datapath=direct):
            the guests' vrings processed by the switch, a frame copied
            once (into the receiver);
  before    with --before BUILD: direct (or, with --before-datapath
            library, the library datapath), run from another build
            directory (e.g. one made from a worktree of the commit before a
            change), to measure what a change costs in the same rounds;
  ovs       OVS-DPDK, when Debian's openvswitch-switch-dpdk is installed
            (scripts/bench_ovs.py): two dpdkvhostuser ports, NORMAL flow.
Throughput is the generator's received frames per second, both ports.
Frames longer than 1514 bytes (jumbo, e.g. --sizes 8996 for 9000 on the
wire) are sent as chains of 2 KiB mbufs and received through mergeable
RX buffers: the generator gets --max-pkt-len and --enable-scatter.

Many guests (--guests): the same two busy guests on vqswitch (its default,
direct, datapath) while N - 2
more are connected and idle (virtio-user ports of further testpmd
processes that never forward, up to IDLE_PER_PROC each: Debian's DPDK
allows 32 ethdev ports per process). An idle guest costs the PMD a poll
of its TX vring every pass; the ratio to N = 2 shows what that costs.
Cycles per frame are the PMD's (busy + idle cycles) / frames received,
from pmd/stats-show over the measuring time.

Tunnels (--tunnel): what a VXLAN port costs per PMD core. The generator's
two ports send (txonly) to an address on the other side of the switch,
one way, and the switch's own frame rate is measured (the PMD's received
frames per second, and its busy cycles per frame: one generator sending
one way does not keep the PMD busy, so the cycles are the figure to
compare):
  vm-nic     to a dpdk port (net_null, which drops what it is given);
  vm-tunnel  the same port as the underlay (ip=) of a vxlan port, the
             destination learned behind its remote: every frame
             encapsulated (outer Ethernet, IPv4 with its checksum, UDP
             with the flow hash, VXLAN) before it is sent;
next to vqswitch's plain VM-to-VM figure (the mac-forwarding loop above)
at the same size, in the same run.

Dirty-page logging (--dirty-log): what a guest being live-migrated costs,
with test guests instead (testpmd's virtio-user cannot log):
scripts/bench_log.py, logging off and on in alternating rounds.
"""
import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "functional"))
from vqtest import Cleanup, Switch, TestPmd  # noqa: E402

import bench_ovs  # noqa: E402

BURSTS = int(os.environ.get("VQS_BENCH_BURSTS", "16"))
JUMBO_PKT_LEN = 9600  # testpmd's --max-pkt-len for frames over 1514 bytes
SEG = 2048  # data room of testpmd's default mbufs
VM1, VM2 = "02:00:00:00:01:01", "02:00:00:00:02:01"
IDLE_PER_PROC = 30


def idle_guests(c, sw, n):
    """n idle guests on ports idle0.. of sw, in testpmd processes without
    hugepages that start their ports (so the guests connect) and never
    forward."""
    for first in range(0, n, IDLE_PER_PROC):
        ports = [(sw.sock("idle%d" % i), "02:00:00:01:%02x:%02x" % (i >> 8, i & 0xff))
                 for i in range(first, min(n, first + IDLE_PER_PROC))]
        TestPmd(c, "bidle%d" % first, ports, vdev_opts=",queue_size=256",
                eal=("--no-huge", "-m", "512"), extra=["--rxd=256", "--txd=256"])


def pmd_cycles(sw):
    """(cycles, frames) of the switch's PMDs since the last pmd/stats-clear."""
    st = sw.vqctl("pmd/stats-show", fmt="json")
    return (sum(p["busy_cycles"] + p["idle_cycles"] for p in st.values()),
            sum(p["rx_packets"] for p in st.values()))


def measure(kind, size, seconds, warmup, guests=2, before=None, before_datapath="direct"):
    """(Mpps, PMD cycles per frame or None). before: the build directory
    of kind 'before', run on before_datapath."""
    c = Cleanup()
    jumbo = JUMBO_PKT_LEN if size > 1514 else None
    try:
        if kind == "baseline":
            d = tempfile.mkdtemp(prefix="vqs-bench-")
            c.add(lambda: os.system("rm -rf " + d))
            socks = [os.path.join(d, "vm%d.sock" % i) for i in (1, 2)]
            sw = TestPmd(c, "bsw", ["net_vhost%d,iface=%s,queues=1" % (i, s) for i, s in enumerate(socks)],
                         fwd="io", lcores="0,1", main_lcore=0,
                         extra=["--nb-cores=1"] + (["--max-pkt-len=%d" % jumbo] if jumbo else []))
            sw.cmd("start")
        elif kind == "ovs":
            socks = bench_ovs.start(c, "bovs", ["vm1", "vm2"])
        else:
            conf = "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n" \
                   "add-port br0 vm2 type=vhostuser queues=1\n"
            conf += "".join("add-port br0 idle%d type=vhostuser queues=1\n" % i for i in range(guests - 2))
            sw = Switch(c, "bench", conf, mem=256,
                        args=["--datapath=" + ("library" if kind == "vqswitch" else
                                               before_datapath if kind == "before" else "direct")],
                        binary=os.path.join(before, "app", "vqswitch", "vqswitch") if kind == "before" else None)
            socks = [sw.sock("vm1"), sw.sock("vm2")]
            idle_guests(c, sw, guests - 2)
        gen = TestPmd(c, "bgen", [(socks[0], VM1), (socks[1], VM2)], fwd="mac", lcores="0,1",
                      main_lcore=1, vdev_opts=",queue_size=1024",
                      extra=["--eth-peer=0,%s" % VM2, "--eth-peer=1,%s" % VM1, "--nb-cores=1",
                             "--rxd=1024", "--txd=1024"], max_pkt_len=jumbo)
        gen.cmd("set txpkts %s" % ",".join(str(min(SEG, size - off)) for off in range(0, size, SEG)))
        gen.cmd("start tx_first %d" % BURSTS)
        time.sleep(warmup)
        if kind in ("vqswitch", "direct", "before"):
            sw.vqctl("pmd/stats-clear")
        s0, t0 = gen.port_stats(), time.time()
        time.sleep(seconds)
        s1, t1 = gen.port_stats(), time.time()
        cpf = None
        if kind in ("vqswitch", "direct", "before"):
            cycles, got = pmd_cycles(sw)
            cpf = cycles / got if got else None
        frames = sum(s1[p]["rx"] - s0[p]["rx"] for p in s1)
        gen.quit()
        return frames / (t1 - t0) / 1e6, cpf
    finally:
        c.run()


TNL_DST, TNL_REMOTE_MAC = "02:00:00:00:0f:01", "02:00:00:00:20:01"


def measure_oneway(kind, size, seconds, warmup):
    """(Mpps, PMD cycles per frame): the switch's own rate, one way, from
    two txonly guests to a net_null port, plainly or through a tunnel."""
    c = Cleanup()
    try:
        conf = "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n" \
               "add-port br0 vm2 type=vhostuser queues=1\nadd-br brphy\n"
        if kind == "vm-tunnel":
            conf += "add-port brphy up0 type=dpdk devargs=net_null0,no-rx=1 mtu=9000 ip=192.0.2.10/24\n" \
                    "add-port br0 vx type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.20\n"
        else:
            conf += "add-port br0 up0 type=dpdk devargs=net_null0,no-rx=1 mtu=9000\n"
        # The datapath the VM-to-VM "vqswitch" runs it is compared with use.
        sw = Switch(c, "bone", conf, mem=256, args=["--datapath=library"])
        sw.vqctl("fdb/add", "br0", TNL_DST, "vx" if kind == "vm-tunnel" else "up0")
        if kind == "vm-tunnel":  # net_null answers no ARP
            sw.vqctl("tnl/neigh-set", "up0", "192.0.2.20", TNL_REMOTE_MAC)
        gen = TestPmd(c, "bgen", [(sw.sock("vm1"), VM1), (sw.sock("vm2"), VM2)], fwd="txonly",
                      lcores="0,1", main_lcore=1, vdev_opts=",queue_size=1024",
                      extra=["--eth-peer=0,%s" % TNL_DST, "--eth-peer=1,%s" % TNL_DST, "--nb-cores=1",
                             "--rxd=1024", "--txd=1024"])
        gen.cmd("set txpkts %d" % size)
        gen.cmd("start")
        time.sleep(warmup)
        sent0 = sw.port("up0")["tx_packets"]  # before: telemetry's first call is slow
        sw.vqctl("pmd/stats-clear")
        t0 = time.time()
        time.sleep(seconds)
        st = sw.vqctl("pmd/stats-show", fmt="json")
        t1 = time.time()
        # Busy cycles only: one generator sending one way does not keep the
        # PMD busy, and idle passes are not the tunnel's cost.
        cycles = sum(p["busy_cycles"] for p in st.values())
        got = sum(p["rx_packets"] for p in st.values())
        sent = sw.port("up0")["tx_packets"] - sent0
        gen.quit()
        # Every frame must have left (encapsulated): a drop costs less.
        if not got or sent < 0.99 * got:
            raise SystemExit("%s: %d frames switched, only %d sent on up0: %s" %
                             (kind, got, sent, sw.port("vx" if kind == "vm-tunnel" else "up0")))
        return got / (t1 - t0) / 1e6, cycles / got
    finally:
        c.run()


def paired(a, b):
    """Ratios of runs made next to each other (round by round) and their
    median: this machine's speed drifts between runs, less within a round."""
    ratios = [x[0] / y[0] for x, y in zip(a, b)]
    return "%s, median %.2fx" % (" ".join("%.2f" % r for r in ratios), statistics.median(ratios))


def cpf_text(r):
    return "%.0f" % statistics.median(x[1] for x in r) if all(x[1] for x in r) else "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5, help="measuring time per run")
    ap.add_argument("--warmup", type=float, default=2, help="seconds before measuring")
    ap.add_argument("--sizes", default="60,1514,8996", help="frame sizes without FCS")
    ap.add_argument("--rounds", type=int, default=3,
                    help="runs per size and switch, interleaved; runs on this 2-core machine vary "
                         "by up to 1.5x, so the best, the median and the ratios of runs made in the "
                         "same round are printed")
    ap.add_argument("--guests", default="2,16,32,64",
                    help="connected guests for the many-guest case at the first size (two busy, "
                         "the rest idle); empty: skip it")
    ap.add_argument("--out", default="build/bench",
                    help="directory for results.json and results.csv (and the plots bench.sh draws)")
    ap.add_argument("--no-ovs", action="store_true", help="leave OVS-DPDK out even if it is installed")
    ap.add_argument("--direct", action="store_true",
                    help="also vqswitch --datapath=direct at each frame size")
    ap.add_argument("--before", metavar="BUILD",
                    help="also the direct datapath of the vqswitch built in BUILD (e.g. the commit "
                         "before a change), in the same rounds; implies --direct")
    ap.add_argument("--before-datapath", choices=("direct", "library"), default="direct",
                    help="the datapath --before's build runs, compared with this build's")
    ap.add_argument("--tunnel", action="store_true",
                    help="also one-way VM to NIC and VM to VXLAN tunnel at each frame size")
    ap.add_argument("--dirty-log", action="store_true",
                    help="only what dirty-page logging (a guest being live-migrated) costs: test "
                         "guests, 60 and 1514 bytes, logging off and on in alternating rounds "
                         "(scripts/bench_log.py)")
    a = ap.parse_args()
    if a.dirty_log:
        import bench_log
        results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": a.seconds,
                   "rounds": a.rounds, "dirty_log": {}}
        for size, m in bench_log.run([60, 1514], max(1, int(a.seconds)), a.rounds,
                                     out=lambda s: print(s, flush=True)).items():
            results["dirty_log"][size] = {"off": {"mpps": m[False][0], "cycles_per_frame": m[False][1]},
                                          "on": {"mpps": m[True][0], "cycles_per_frame": m[True][1]}}
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "dirty_log.json"), "w") as fh:
            json.dump(results, fh, indent=1)
        return 0
    sizes = [int(x) for x in a.sizes.split(",") if x]
    a.direct = a.direct or (a.before is not None and a.before_datapath == "direct")
    a.ovs = not a.no_ovs and bench_ovs.available()
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seconds": a.seconds, "rounds": a.rounds,
               "frame_sizes": {}, "guests": {}}
    if a.ovs:
        results["ovs_version"] = bench_ovs.version()
    else:
        print("OVS-DPDK: %s" % ("left out (--no-ovs)" if a.no_ovs else
                                 "not installed (apt-get install openvswitch-switch-dpdk to compare)"))
    try:
        run_all(a, sizes, results)
    finally:
        save(a.out, results)


def save(out, results):
    """results.json as collected, results.csv a row per run."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(out, "results.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["case", "frame_bytes", "guests", "switch", "round", "mpps", "cycles_per_frame"])
        for size, kinds in results["frame_sizes"].items():
            for kind, runs in kinds.items():
                for i, (mpps, cpf) in enumerate(runs):
                    w.writerow(["frame_size", size, 2, kind, i, "%.4f" % mpps, "%.0f" % cpf if cpf else ""])
        for n, runs in results["guests"].items():
            for i, (mpps, cpf) in enumerate(runs):
                w.writerow(["guests", results["guests_frame_bytes"], n, "vqswitch", i, "%.4f" % mpps,
                            "%.0f" % cpf if cpf else ""])
    print("results: %s/results.json, results.csv" % out)


def ratio(size, runs, a, b, what):
    if min(x[0] for x in runs[a] + runs[b]) <= 0:
        # A switch that moved nothing (OVS-DPDK's ports keep its default
        # MTU, so 9000-byte frames never pass): no ratio to print.
        print("%-8s ratio     %10s %10s           (%s: a run moved nothing)" % (
            "%d B" % (size + 4), "-", "-", what), flush=True)
        return
    print("%-8s ratio     %9.2fx %9.2fx           (%s; round by round: %s)" % (
        "%d B" % (size + 4), max(x[0] for x in runs[a]) / max(x[0] for x in runs[b]),
        statistics.median(x[0] for x in runs[a]) / statistics.median(x[0] for x in runs[b]),
        what, paired(runs[a], runs[b])), flush=True)


def run_all(a, sizes, results):
    print("%-8s %-9s %10s %10s %7s   %s" % ("frame", "switch", "best Mpps", "median", "cyc/fr", "runs"))
    for size in sizes:
        runs = {"baseline": [], "vqswitch": []}
        if a.direct:
            runs["direct"] = []
        if a.before:
            runs["before"] = []
        if a.ovs:
            runs["ovs"] = []
        if a.tunnel:
            runs["vm-nic"] = []
            runs["vm-tunnel"] = []
        results["frame_sizes"][size + 4] = runs  # bytes on the wire without preamble: with FCS
        for rnd in range(a.rounds):
            # Every other round in the other order, so that a drift of the
            # machine's speed does not always favour the same side.
            for kind in (list(runs) if rnd % 2 == 0 else list(runs)[::-1]):
                runs[kind].append(measure_oneway(kind, size, a.seconds, a.warmup)
                                  if kind.startswith("vm-") else
                                  measure(kind, size, a.seconds, a.warmup, before=a.before,
                                          before_datapath=a.before_datapath))
        for kind, r in runs.items():
            mpps = [x[0] for x in r]
            print("%-8s %-9s %10.3f %10.3f %7s   %s" % ("%d B" % (size + 4), kind, max(mpps),
                                                       statistics.median(mpps), cpf_text(r),
                                                       " ".join("%.2f" % x for x in mpps)))
        ratio(size, runs, "vqswitch", "baseline", "vqswitch / baseline")
        if a.direct:
            ratio(size, runs, "direct", "vqswitch", "direct / library datapath")
            ratio(size, runs, "direct", "baseline", "direct / baseline")
        if a.before and a.before_datapath == "direct":
            ratio(size, runs, "direct", "before", "direct / direct of --before's build")
        elif a.before:
            ratio(size, runs, "vqswitch", "before", "library / library of --before's build")
        if a.ovs:
            ratio(size, runs, "vqswitch", "ovs", "vqswitch / OVS-DPDK")
        if a.tunnel:
            ratio(size, runs, "vm-tunnel", "vm-nic", "VM to tunnel / VM to NIC, one way")
            ratio(size, runs, "vm-tunnel", "vqswitch", "VM to tunnel / VM to VM")
    guests = [int(x) for x in a.guests.split(",") if x]
    if not guests or not sizes:
        return
    print("\n%-8s %-9s %10s %10s %7s   %s" % ("frame", "guests", "best Mpps", "median", "cyc/fr", "runs"))
    runs = {n: [] for n in guests}
    results["guests"] = runs
    results["guests_frame_bytes"] = sizes[0] + 4
    for rnd in range(a.rounds):
        for n in (guests if rnd % 2 == 0 else guests[::-1]):
            runs[n].append(measure("direct", sizes[0], a.seconds, a.warmup, guests=n))
    first = guests[0]
    for n, r in runs.items():
        mpps = [x[0] for x in r]
        print("%-8s %-9d %10.3f %10.3f %7s   %s   ratio to %d guests: best %.2fx median %.2fx, "
              "round by round %s" % (
                  "%d B" % (sizes[0] + 4), n, max(mpps), statistics.median(mpps), cpf_text(r),
                  " ".join("%.2f" % x for x in mpps), first, max(mpps) / max(x[0] for x in runs[first]),
                  statistics.median(mpps) / statistics.median(x[0] for x in runs[first]),
                  paired(r, runs[first])), flush=True)


if __name__ == "__main__":
    main()
