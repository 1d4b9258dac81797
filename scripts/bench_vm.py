#!/usr/bin/env python3
"""VM-to-VM TCP throughput between two real Linux guests, offloads on
against off, measured in one run: iperf3 (one stream and four) from
guest 1 to guest 2. The guests are tests/vm's (Debian's kernel, QEMU
under TCG, one vCPU each), so the figures are those of emulated CPUs:
what offloads save a guest (segmenting and checksumming 64 KB segments)
is most of what such a guest spends on TCP, which is the point.

Switches (PMD on lcore 1, main lcore 0):
  direct+ol   vqswitch, its default datapath, ports with offloads=on (the
              default);
  direct      the same with offloads=off;
  library+ol  vqswitch --datapath=library, offloads=on;
  library     the same with offloads=off;
  ovs+tso     OVS-DPDK with other_config:userspace-tso-enable=true, when
              Debian's openvswitch-switch-dpdk is installed
              (scripts/bench_ovs.py), two dpdkvhostuser ports, NORMAL flow.
Each round boots the guests afresh on each switch in turn; the median of
the rounds is printed, with the ratios the offloads issue asks for.
Usage: scripts/bench_vm.py [--seconds 10] [--rounds 2] [--streams 1,4]
"""
import argparse
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "functional"))
sys.path.insert(0, os.path.join(ROOT, "tests", "vm"))
sys.path.insert(0, HERE)
import bench_ovs  # noqa: E402
from guest import Guest  # noqa: E402
from vqtest import Cleanup, Switch, TestFailure  # noqa: E402

IP1, IP2 = "10.99.0.1", "10.99.0.2"
MAC1, MAC2 = "52:54:00:99:00:01", "52:54:00:99:00:02"
SWITCHES = [("direct+ol", "direct", True), ("direct", "direct", False),
            ("library+ol", "library", True), ("library", "library", False), ("ovs+tso", None, True)]


def iperf(g, streams, seconds):
    """Gbit/s that iperf3's receiver counted."""
    out = g.check("iperf3 -c %s -t %d -P %d" % (IP2, seconds, streams), timeout=120 + seconds)
    m = re.findall(r"([\d.]+) ([KMG]?)bits/sec.*receiver", out)
    if not m:
        raise RuntimeError("no iperf3 result:\n%s" % out[-2000:])
    return float(m[-1][0]) * {"": 1e-9, "K": 1e-6, "M": 1e-3, "G": 1}[m[-1][1]]


def measure(name, datapath, offloads, streams, seconds):
    """{streams: Gbit/s} through one switch, guests booted for it."""
    c = Cleanup()
    try:
        if datapath is None:
            socks = bench_ovs.start(c, "bvmovs", ["vm1", "vm2"], tso=offloads, client=True)
        else:
            opt = " offloads=on" if offloads else " offloads=off"
            sw = Switch(c, "bvm", "add-br br0\nadd-port br0 vm1 type=vhostuser%s\n"
                                  "add-port br0 vm2 type=vhostuser%s\n" % (opt, opt),
                        args=["--datapath=" + datapath])
            socks = [sw.sock("vm1"), sw.sock("vm2")]
        server = datapath is None  # OVS: its client ports connect to QEMU
        g1 = Guest(c, name + "1", socks[0], IP1 + "/24", MAC1, wait=False, server=server)
        g2 = Guest(c, name + "2", socks[1], IP2 + "/24", MAC2, wait=False, server=server)
        g1.wait_ready()
        g2.wait_ready()
        g2.check("iperf3 -s -D")
        time.sleep(0.5)
        g1.check("ping -c 2 -W 3 %s" % IP2, timeout=30)
        try:
            iperf(g1, 1, 2)  # warm-up: ARP, TCP windows
            out = {n: iperf(g1, n, seconds) for n in streams}
        except (TestFailure, RuntimeError) as e:
            log = os.path.join(os.path.dirname(socks[0]), "vswitchd.log" if datapath is None else
                               "vqswitch.log")
            with open(log) as f:
                tail = "".join(f.readlines()[-15:])
            print("%s: TCP failed: %s\n%s" % (name, str(e)[-500:], tail), flush=True)
            return {n: 0.0 for n in streams}
        if datapath is not None:
            p = sw.port("vm1")
            out["frame"] = p["rx_bytes"] / max(1, p["rx_packets"])
        return out
    finally:
        c.run()


def ratio(a, b):
    return "%.2fx" % (a / b) if b > 0 else "- (no figure: a run failed)"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="each iperf3 run")
    ap.add_argument("--rounds", type=int, default=2, help="boots of every switch's guests")
    ap.add_argument("--streams", default="1,4", help="iperf3 -P values")
    ap.add_argument("--no-ovs", action="store_true", help="leave OVS-DPDK out even if installed")
    ap.add_argument("--only", help="these switches alone (comma-separated names)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_vm.py needs root (hugepages, DPDK, QEMU)")
        return 1
    streams = [int(x) for x in a.streams.split(",")]
    switches = [s for s in SWITCHES if s[1] is not None or (not a.no_ovs and bench_ovs.available())]
    if a.only:
        switches = [s for s in switches if s[0] in a.only.split(",")]
    if len(switches) < len(SWITCHES):
        print("OVS-DPDK: not installed (apt-get install openvswitch-switch-dpdk), left out")
    runs = {s[0]: {n: [] for n in streams} for s in switches}
    frames = {}
    for r in range(a.rounds):
        for name, datapath, offloads in switches:
            res = measure(name, datapath, offloads, streams, a.seconds)
            for n in streams:
                runs[name][n].append(res[n])
            frames[name] = res.get("frame")
            print("round %d %-10s %s" % (r + 1, name, "  ".join("%d stream%s %.2f Gbit/s" % (
                n, "s" if n > 1 else "", res[n]) for n in streams)), flush=True)
    med = {s: {n: statistics.median(v) for n, v in runs[s].items()} for s in runs}
    for name, _, _ in SWITCHES:  # left out: no figure
        med.setdefault(name, {n: 0.0 for n in streams})
    print("\nVM-to-VM TCP, Gbit/s (median of %d rounds, %d s each)" % (a.rounds, a.seconds))
    print("%-10s %s   bytes/frame from vm1" % ("switch", "  ".join("%9s" % ("-P %d" % n) for n in streams)))
    for s in med:
        fr = frames.get(s)
        print("%-10s %s   %s" % (s, "  ".join("%9.2f" % med[s][n] for n in streams),
                                 "%.0f" % fr if fr else "-"))
    print()
    for n in streams:
        on, off = med["direct+ol"][n], med["direct"][n]
        print("-P %d: offloads on / off (direct): %s (the issue's gate: >= 3x: %s)" %
              (n, ratio(on, off), "met" if on >= 3 * off else "NOT met"))
        print("-P %d: offloads on / off (library): %s" % (n, ratio(med["library+ol"][n], med["library"][n])))
        print("-P %d: direct / library, offloads on: %s, off: %s" %
              (n, ratio(on, med["library+ol"][n]), ratio(off, med["library"][n])))
        if "ovs+tso" in med:
            print("-P %d: vqswitch with offloads / OVS-DPDK with TSO: %s" % (n, ratio(on, med["ovs+tso"][n])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
