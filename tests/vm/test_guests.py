#!/usr/bin/env python3
"""Real Linux guests (QEMU under TCG) switched by vqswitch: ping, TCP and
UDP iperf3, jumbo frames with and without mergeable RX buffers, packed
rings, no EVENT_IDX, two queue pairs, a guest rebooting under traffic, and
a guest reaching a host in a network namespace through a NIC port, and
one reaching a Linux VXLAN endpoint through a tunnel port.

A boot costs seconds under TCG, so the cases share their boots: each
group boots its guests once, every guest with one NIC per device variant
(its own ports, bridge and subnet: a Net), and runs its cases one after
another on them, each reported as a line of TAP (vqtest.main_tap):

- guests: two guests with Linux's defaults (one_pair), without EVENT_IDX
  (no_event_idx) and, on the direct datapath, with packed rings
  (packed_ring) and big RX buffers instead of mergeable ones
  (jumbo_no_mergeable), on a switch with the lost-interrupt watchdog;
- guests_net (direct datapath only): on a switch without the watchdog,
  two guests with two vCPUs, each with a NIC of two queue pairs
  (two_queue_pairs) and one whose interrupts are lost
  (watchdog_off_guest_stalls); the first has two more NICs, towards a
  host in a namespace through a NIC port and towards a Linux VXLAN
  endpoint.

    test_guests.py GROUP [CASE...]"""
import os
import re
import subprocess
import sys
import time

from guest import Guest, Nic
from test_tunnel import Netns, linux_vtep, no_offloads, veth_into
from vqtest import Switch, Veth, check, log, main_tap, run

DIRECT = os.environ.get("VQS_DATAPATH", "direct") == "direct"


class Net:
    """One device variant: a NIC in each guest of the pair (or in the
    first only: single), on vhost-user ports of bridge brN of their own,
    subnet 10.99.N.0/24 (the guests .1 and .2). name: the NIC's name in
    the guests; port_opts: the ports' options; mtu, netdev, device: the
    NIC's (see guest.Nic)."""

    def __init__(self, n, name, port_opts="", mtu=None, netdev="", device="", single=False):
        self.n, self.name, self.port_opts = n, name, port_opts
        self.mtu, self.netdev, self.device = mtu, netdev, device
        self.bridge = "br%d" % n
        self.ports = (name + "1",) if single else (name + "1", name + "2")
        self.ips = ("10.99.%d.1" % n, "10.99.%d.2" % n)
        self.macs = ("52:54:00:99:%02x:01" % n, "52:54:00:99:%02x:02" % n)

    def config(self):
        return "add-br %s\n" % self.bridge + "".join(
            "add-port %s %s type=vhostuser %s\n" % (self.bridge, p, self.port_opts) for p in self.ports)

    def nic(self, sw, i):
        return Nic(sw.sock(self.ports[i]), self.macs[i], self.ips[i] + "/24", name=self.name,
                   mtu=self.mtu, netdev=self.netdev, device=self.device)


def boot_pair(c, sw, name, nets, smp=1):
    """Two guests with a NIC on each of nets (the first guest only on a
    single net), booted at once."""
    guests = [Guest(c, "%s%d" % (name, i + 1), nics=[n.nic(sw, i) for n in nets if i < len(n.ports)],
                    smp=smp, wait=False) for i in (0, 1)]
    for g in guests:
        g.wait_ready()
    return guests


class Env:
    """What a group's cases share: the switch, the two guests, the nets
    by name, and more a set-up adds."""

    def __init__(self, sw, g1, g2, nets):
        self.sw, self.g1, self.g2 = sw, g1, g2
        self.nets = {n.name: n for n in nets}


def iperf(client, server_ip, args="", seconds=3):
    out = client.check("iperf3 -c %s -t %d %s" % (server_ip, seconds, args), timeout=60 + seconds)
    m = re.findall(r"([\d.]+) ([KMG]?)bits/sec.*receiver", out)
    check(m, "%s: no iperf3 result:\n%s" % (client.name, out))
    rate = float(m[-1][0]) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m[-1][1]]
    check(rate > 0, "%s: iperf3 %s moved nothing" % (client.name, args))
    return rate


def serve(g):
    """An iperf3 server in the guest, on all its addresses."""
    g.check("iperf3 -s -D")
    time.sleep(0.5)


def no_watchdog_kicks(sw, net):
    """Healthy guests never need the lost-interrupt watchdog."""
    kicks = [sw.port(p)["watchdog_kicks"] for p in net.ports]
    check(kicks == [0] * len(kicks), "watchdog kicks on healthy traffic: %s" % kicks)


def scenario(what):
    log("-- %s" % what)


def ping_and_tcp(sw, g1, g2, net, seconds=2):
    scenario("ping, TCP both ways")
    ip1, ip2 = net.ips
    g1.ping(ip2)
    log("TCP g1->g2 %.1f Mbit/s, g2->g1 %.1f Mbit/s" %
        (iperf(g1, ip2, seconds=seconds) / 1e6, iperf(g1, ip2, "-R", seconds=seconds) / 1e6))
    no_watchdog_kicks(sw, net)


def offloads_used(sw, ports, sw_gso=None):
    """Guests that took the offloads handed the switch GSO frames (frames
    longer than the 1500-byte MTU on average) and no header was refused;
    sw_gso: the port that had to segment them in software."""
    for name in ports:
        p = sw.port(name)
        check(p["offloads_from_guest"] == "csum,tso4,tso6", "%s negotiated offloads: %s" % (name, p))
        check(p["drop_bad_offload"] == 0, "%s: headers refused: %s" % (name, p))
        check(p["rx_bytes"] > 3000 * p["rx_packets"],
              "%s sent GSO frames: %d bytes in %d frames" % (name, p["rx_bytes"], p["rx_packets"]))
    if sw_gso is not None:
        p = sw.port(sw_gso)
        check(p["sw_gso"] > 0, "%s: GSO frames segmented for it: %s" % (sw_gso, p))
        log("%s: %d GSO frames segmented, %d checksums completed in software" %
            (sw_gso, p["sw_gso"], p["sw_csum"]))


def udp_flood_then_ping(sw, g1, g2, net):
    """UDP at full offered load, then a ping: a TX ring that stopped being
    signalled would leave the sender blocked and the ping lost."""
    scenario("UDP flood, then ping")
    ip1, ip2 = net.ips
    out = g1.check("iperf3 -c %s -u -b 0 -t 2" % ip2, timeout=60)
    check("receiver" in out, "UDP run:\n%s" % out)
    g1.ping(ip2)
    g2.ping(ip1)
    no_watchdog_kicks(sw, net)


def jumbo(sw, g1, g2, net):
    """9000-byte MTU: ping of 9000 bytes and TCP."""
    g1.ping(net.ips[1], size=8972)
    iperf(g1, net.ips[1], seconds=2)
    st = sw.port(net.ports[0])
    check(st["drop_bad_frame"] == 0 and st["rx_bytes"] > 0, "%s %s" % (net.ports[0], st))


def runnable_share(sw, seconds=2.0):
    """The share of the time the PMD thread wanted a CPU (polling: all of
    it, though on a busy machine it gets less) and the share it got."""
    t0, r0, c0 = time.time(), sw.pmd_runnable_seconds(), sw.pmd_cpu_seconds()
    time.sleep(seconds)
    dt = time.time() - t0
    return (sw.pmd_runnable_seconds() - r0) / dt, (sw.pmd_cpu_seconds() - c0) / dt


def pmd_sleep(sw, g1, g2, net):
    """Interrupt-assisted idle: an idle PMD sleeps on the guests' kicks. Its
    CPU use drops; single frames after long idles and bursts separated by
    gaps all arrive, each without waiting for a timeout."""
    scenario("PMD sleeping on kicks")
    ip1, ip2 = net.ips
    polling, polling_cpu = runnable_share(sw)
    sw.vqctl("set", "pmd", "sleep=on")
    time.sleep(0.5)
    sleeping, sleeping_cpu = runnable_share(sw)
    log("PMD while idle: runnable %.0f%% of the time polling, %.0f%% with sleep on "
        "(CPU used %.0f%% and %.0f%%)" % (100 * polling, 100 * sleeping, 100 * polling_cpu, 100 * sleeping_cpu))
    check(polling > 0.8, "a polling PMD wants its core all the time: runnable %.2f" % polling)
    check(sleeping < 0.3, "a sleeping PMD does not: runnable %.2f" % sleeping)
    for gap in (0.3, 1.5):  # single packets after idles longer than 100 ms
        time.sleep(gap)
        g1.ping(ip2, count=1)
        g2.ping(ip1, count=1)
    # Pings 0.3 s apart: the PMD is asleep before each. Had a kick been
    # missed, the frame would wait for the 100 ms timeout.
    # Eleven sent, the first ten answered: busybox gives up on the last
    # echo of a series a second after sending it (see Guest.ping).
    out = g1.check("ping -c 11 -i 0.3 -W 3 %s" % ip2, timeout=60)
    rtts = {int(m.group(1)): float(m.group(2)) for m in re.finditer(r"seq=(\d+) ttl=\d+ time=([\d.]+) ms", out)}
    check(all(i in rtts for i in range(10)), "all ten pings: %s" % out)
    avg = sum(rtts[i] for i in range(10)) / 10
    check(avg < 50, "average round trip %.1f ms: a wake-up waited for a timeout" % avg)
    iperf(g1, ip2, seconds=2)
    st = sw.vqctl("pmd/stats-show", fmt="json")["pmd0"]
    check(st["sleeps"] > 10, "the PMD slept: %s" % st)
    check("set pmd sleep=100" in open(sw.state).read(), "recorded in the state file")
    sw.vqctl("set", "pmd", "sleep=off")


def lost_interrupts_recovered(sw, g1, g2, net):
    """With the watchdog (100 ms), a guest that loses its interrupts (every
    one the datapath raises towards it swallowed by debug/drop-calls, as if
    lost on the way) still answers every ping, each well within a second."""
    scenario("guest 1 loses its interrupts; the watchdog recovers them")
    p1, p2 = net.ports
    kicks = sw.port(p1)["watchdog_kicks"]
    sw.vqctl("debug/drop-calls", p1, "1000000")
    out = g2.check("ping -c 5 -W 3 %s" % net.ips[0], timeout=60)
    check("5 packets received" in out, "pings through a guest losing interrupts:\n%s" % out)
    worst = float(re.search(r"min/avg/max = [\d.]+/[\d.]+/([\d.]+)", out).group(1))
    p = sw.port(p1)
    log("worst round trip %.0f ms, %d watchdog kicks, %d calls swallowed" %
        (worst, p["watchdog_kicks"] - kicks, 1000000 - p["debug_drop_calls_pending"]))
    check(worst < 1000, "recovered within a second: worst %.0f ms" % worst)
    check(p["watchdog_kicks"] > kicks and p["debug_drop_calls_pending"] < 1000000,
          "calls were lost and re-raised: %s" % p)
    check(sw.port(p2)["watchdog_kicks"] == 0, "no kicks for the healthy guest")
    sw.wait_log("guest waits for an interrupt it did not get", 5)
    sw.vqctl("debug/drop-calls", p1, "0")


def reboot_under_traffic(sw, g1, g2, net):
    """Guest 1 goes away and boots again while guest 2 keeps pinging it
    (guest 1's other NICs go down and come back with it)."""
    scenario("guest 1 reboots while guest 2 pings it")
    p1 = net.ports[0]
    ip1, ip2 = net.ips
    before = sw.port(p1)
    g2.ping(ip1)
    g2.proc.stdin.write(("ping -i 0.2 %s > /tmp/ping.log 2>&1 &\n" % ip1).encode())
    g2.proc.stdin.flush()
    time.sleep(1)
    g1.kill()
    sw.wait_port_state(p1, "down")
    time.sleep(1)
    g1.boot()
    sw.wait_port_state(p1, "up")
    g1.ping(ip2)
    out = g2.check("sleep 2; kill %1; tail -3 /tmp/ping.log")
    check(sw.alive(), "vqswitch died")
    p = sw.port(p1)
    check(p["connects"] == before["connects"] + 1 and p["disconnects"] == before["disconnects"] + 1,
          "%s reconnected: %s then %s" % (p1, before, p))
    log("guest 2's ping after the reboot: %s" % out.strip().splitlines()[-2:])


def stopped(sw):
    """The group's last case ends the switch: it exits cleanly."""
    check(sw.stop() == 0, "exit code")


WATCHDOG = ("--watchdog-interval", "100", "--enable-debug-commands")


def guests(c):
    """Two guests, a NIC in each per variant: Linux's defaults with the
    offloads, no EVENT_IDX without offloads (the one pair that sends plain
    frames) and, on the direct datapath (on the library one these device
    variants exercise librte_vhost's ring code, not ours), packed rings
    and big RX buffers (no mergeable ones; host_mtu tells the guest)."""
    nets = [Net(0, "vm", "offloads=on"), Net(1, "nei", "offloads=off", device=",event_idx=off")]
    if DIRECT:
        nets += [Net(2, "pkd", device=",packed=on"),
                 Net(3, "jnm", mtu=9000, device=",mrg_rxbuf=off,host_mtu=9000")]
    sw = Switch(c, "gvm", "".join(n.config() for n in nets), args=WATCHDOG)
    g1, g2 = boot_pair(c, sw, "gvm", nets)
    serve(g2)
    return Env(sw, g1, g2, nets)


def test_no_event_idx(e):
    """Without EVENT_IDX: healthy guests need no watchdog, where the
    direct datapath's watchdog reads Linux's used_event hint, and there
    (only there: the library's watchdog cannot check such rings) it
    recovers lost interrupts through that hint."""
    net = e.nets["nei"]
    ping_and_tcp(e.sw, e.g1, e.g2, net)
    if DIRECT:
        lost_interrupts_recovered(e.sw, e.g1, e.g2, net)


def test_packed_ring(e):
    ping_and_tcp(e.sw, e.g1, e.g2, e.nets["pkd"])


def test_jumbo_no_mergeable(e):
    jumbo(e.sw, e.g1, e.g2, e.nets["jnm"])


def test_one_pair(e):
    """Linux's defaults (split rings, EVENT_IDX, mergeable RX buffers) and
    offloads, through one scenario after another: ping and TCP (the guests
    hand each other 64 KB segments and partial checksums), a UDP flood, a
    9000-byte MTU, the PMD sleeping on kicks, lost interrupts recovered by
    the watchdog, a reboot under traffic (last: it takes guest 1's other
    NICs down too)."""
    sw, g1, g2, net = e.sw, e.g1, e.g2, e.nets["vm"]
    ping_and_tcp(sw, g1, g2, net)
    offloads_used(sw, net.ports)
    udp_flood_then_ping(sw, g1, g2, net)
    scenario("MTU 9000, mergeable RX buffers")
    for g in (g1, g2):
        g.check("ip link set %s mtu 9000" % net.name)
    jumbo(sw, g1, g2, net)
    for g in (g1, g2):
        g.check("ip link set %s mtu 1500" % net.name)
    pmd_sleep(sw, g1, g2, net)
    lost_interrupts_recovered(sw, g1, g2, net)
    reboot_under_traffic(sw, g1, g2, net)
    stopped(sw)


HOST_IP, VTEP_IP = "10.99.2.100", "10.99.3.100"


def guests_net(c):
    """Two guests with two vCPUs (Linux uses min(queue pairs, CPUs) queue
    pairs), on a switch without the watchdog: a NIC of two queue pairs
    each, a plain one each, and in the first a NIC towards a host in a
    namespace (a net_pcap port on a veth whose other end is there) and
    one (MTU 1450) behind a vxlan port towards a Linux VXLAN device in a
    namespace, over an underlay bridge."""
    nets = [Net(0, "wd"), Net(1, "mq", "queues=2", netdev=",queues=2", device=",mq=on"),
            Net(2, "ns", "offloads=on", single=True), Net(3, "vx", "offloads=on", mtu=1450, single=True)]
    # The host: frames no longer than the MTU, checksummed, from its
    # kernel (a packet socket would see its segmentation batches); what
    # the switch sends into the namespace the kernel checks in full.
    ns = "vqs_guest_host"
    v = Veth(c, "vqgh0")
    run(["ip", "netns", "del", ns], check_rc=False)
    run(["ip", "netns", "add", ns])
    c.add(lambda: run(["ip", "netns", "del", ns], check_rc=False))
    run(["ip", "link", "set", v.peer, "netns", ns])
    run(["ip", "-n", ns, "addr", "add", HOST_IP + "/24", "dev", v.peer])
    run(["ip", "-n", ns, "link", "set", v.peer, "up"])
    run("ethtool -K %s tso off gso off gro off tx off" % v.name)
    run("ip netns exec %s ethtool -K %s tso off gso off gro off tx off" % (ns, v.peer))
    # The VTEP, behind an underlay bridge.
    ul, vt = Netns(c, "vqs_guest_ul"), Netns(c, "vqs_guest_vtep")
    ul.sh("ip link add name ulbr type bridge && ip link set ulbr up")
    veth_into(c, "vqgvu0", None, ul, peer="s")
    veth_into(c, "e", vt, ul, peer="v")
    ul.sh("ip link set s master ulbr && ip link set s up && ip link set v master ulbr && ip link set v up")
    no_offloads(ul, "s", "v")
    no_offloads(None, "vqgvu0")
    linux_vtep(vt, "e", "192.0.2.20", ["192.0.2.10"], VTEP_IP)
    sw = Switch(c, "gnet", "".join(n.config() for n in nets) +
                "add-port br2 up type=dpdk devargs=%s\n" % v.devargs(0) +
                "add-br brphy\n"
                "add-port brphy up0 type=dpdk devargs=net_pcap1,iface=vqgvu0 ip=192.0.2.10/24\n"
                "add-port br3 vx type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.20\n",
                args=("--watchdog-interval", "0", "--enable-debug-commands"))
    g1, g2 = boot_pair(c, sw, "gnet", nets, smp=2)
    e = Env(sw, g1, g2, nets)
    e.ns, e.vtep = ns, vt
    return e


def test_two_queue_pairs(e):
    sw, g1, g2, net = e.sw, e.g1, e.g2, e.nets["mq"]
    sw.wait_kicks_off(net.ports[0], 4)
    g1.ping(net.ips[1])
    serve(g2)
    iperf(g1, net.ips[1], "-P 4", seconds=2)
    check(sw.port(net.ports[0])["vrings_enabled"] == 4, "both queue pairs enabled")


def test_netns_host_through_nic_port(e):
    """A guest reaches a host in a network namespace, through a net_pcap
    port on a veth whose other end is in the namespace."""
    sw, g1, ns = e.sw, e.g1, e.ns
    g1.ping(HOST_IP)
    r = subprocess.run(["ip", "netns", "exec", ns, "busybox", "ping", "-c", "3", "-W", "3", e.nets["ns"].ips[0]],
                       capture_output=True, text=True)
    check(r.returncode == 0, "host -> guest ping: %s %s" % (r.stdout, r.stderr))
    # TCP both ways, the guest handing the switch GSO frames that the NIC
    # port gets as segments: the host's kernel finds every checksum right.
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "iperf3", "-s"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        log("TCP guest->host %.1f Mbit/s, host->guest %.1f Mbit/s" %
            (iperf(g1, HOST_IP, seconds=2) / 1e6, iperf(g1, HOST_IP, "-R", seconds=2) / 1e6))
    finally:
        srv.kill()
        srv.wait()
    g1.ping(HOST_IP)
    errors = run(["ip", "netns", "exec", ns, "nstat", "-az", "TcpInCsumErrors", "UdpInCsumErrors",
                  "IpExtInCsumErrors"]).stdout
    check(all(int(l.split()[1]) == 0 for l in errors.splitlines()[1:] if l.strip()),
          "checksum errors in the host's kernel:\n%s" % errors)
    offloads_used(sw, e.nets["ns"].ports, sw_gso="up")


def test_vxlan_to_linux_vtep(e):
    """A guest (MTU 1450, offloads) behind a vxlan port reaches a Linux
    vxlan device in a namespace over an underlay bridge: ping both ways,
    TCP and UDP both ways, its GSO frames segmented before they are
    encapsulated."""
    sw, g1, vt = e.sw, e.g1, e.vtep
    g1.ping(VTEP_IP, count=5)
    r = vt.sh("ping -c 3 -w 20 %s" % e.nets["vx"].ips[0], check_rc=False)  # see test_tunnel.ping
    check(r.returncode == 0, "VTEP -> guest ping: %s" % r.stdout)
    srv = vt.popen(["iperf3", "-s"])
    try:
        time.sleep(0.5)
        log("TCP guest->VTEP %.1f Mbit/s, VTEP->guest %.1f Mbit/s, UDP %.1f and %.1f Mbit/s" %
            (iperf(g1, VTEP_IP) / 1e6, iperf(g1, VTEP_IP, "-R") / 1e6,
             iperf(g1, VTEP_IP, "-u -b 10M") / 1e6, iperf(g1, VTEP_IP, "-u -b 10M -R") / 1e6))
    finally:
        srv.kill()
        srv.wait()
    g1.ping(VTEP_IP)
    offloads_used(sw, e.nets["vx"].ports, sw_gso="vx")
    t = sw.vqctl("tnl/show", "vx", fmt="json")[0]["remotes"][0]
    check(t["rx_packets"] > 100 and t["tx_packets"] > 100, "tunnel counters: %s" % t)


def test_watchdog_off_guest_stalls(e):
    """Without the watchdog, a guest that loses its interrupts stalls, and
    stays stalled for as long as they are lost. (Once they no longer are,
    an unrelated interrupt can revive it: under TCG the NIC has one INTx
    line for all its queues. That is luck, not recovery, and is not
    asserted.) Last: guest 1's NIC stays stalled."""
    sw, g1, g2, net = e.sw, e.g1, e.g2, e.nets["wd"]
    g2.ping(net.ips[0])
    sw.vqctl("debug/drop-calls", net.ports[0], "1000000")
    for attempt in range(2):
        rc, out = g2.run("ping -c 3 -W 2 %s" % net.ips[0], timeout=60)
        check(rc != 0 and "0 packets received" in out,
              "attempt %d: the guest should be stalled:\n%s" % (attempt, out))
        time.sleep(2)
    check(sw.port(net.ports[0])["watchdog_kicks"] == 0, "no watchdog")
    stopped(sw)


GROUPS = {
    "guests": (guests, [test_no_event_idx] + ([test_packed_ring, test_jumbo_no_mergeable] if DIRECT else [])
               + [test_one_pair]),
    "guests_net": (guests_net, [test_two_queue_pairs, test_netns_host_through_nic_port,
                                test_vxlan_to_linux_vtep, test_watchdog_off_guest_stalls]),
}

if __name__ == "__main__":
    sys.exit(main_tap(GROUPS))
