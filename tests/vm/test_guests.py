#!/usr/bin/env python3
"""Real Linux guests (QEMU under TCG) switched by vqswitch: ping, TCP and
UDP iperf3, jumbo frames with and without mergeable RX buffers, packed
rings, no EVENT_IDX, two queue pairs, a guest rebooting under traffic, and
a guest reaching a host in a network namespace through a NIC port, and
one reaching a Linux VXLAN endpoint through a tunnel port."""
import os
import re
import subprocess
import sys
import time

from guest import Guest
from test_tunnel import Netns, linux_vtep, no_offloads, veth_into
from vqtest import Switch, Veth, check, log, main, run

IP1, IP2 = "10.99.0.1", "10.99.0.2"
MAC1, MAC2 = "52:54:00:99:00:01", "52:54:00:99:00:02"


def pair(c, name, queues=1, args=(), offloads=None, **kw):
    """A switch with two vhost-user ports and a guest on each, booted at
    once; offloads: True or False for the ports' offloads= (default: the
    switch's, on; docs/offloads.md)."""
    opts = "queues=%d%s" % (queues, {None: "", True: " offloads=on", False: " offloads=off"}[offloads])
    sw = Switch(c, name, "add-br br0\nadd-port br0 vm1 type=vhostuser %s\n"
                         "add-port br0 vm2 type=vhostuser %s\n" % (opts, opts),
                args=list(args))
    g1 = Guest(c, name + "1", sw.sock("vm1"), IP1 + "/24", MAC1, wait=False, **kw)
    g2 = Guest(c, name + "2", sw.sock("vm2"), IP2 + "/24", MAC2, wait=False, **kw)
    g1.wait_ready()
    g2.wait_ready()
    return sw, g1, g2


def ping(g, ip, count=3, size=56):
    out = g.check("ping -c %d -W 3 -s %d %s" % (count, size, ip), timeout=30 + 3 * count)
    check("%d packets received" % count in out, "%s: ping %s:\n%s" % (g.name, ip, out))


def iperf(client, server_ip, args="", seconds=3):
    out = client.check("iperf3 -c %s -t %d %s" % (server_ip, seconds, args), timeout=60 + seconds)
    m = re.findall(r"([\d.]+) ([KMG]?)bits/sec.*receiver", out)
    check(m, "%s: no iperf3 result:\n%s" % (client.name, out))
    rate = float(m[-1][0]) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m[-1][1]]
    check(rate > 0, "%s: iperf3 %s moved nothing" % (client.name, args))
    return rate


def serve(g):
    g.check("iperf3 -s -D")
    time.sleep(0.5)


def no_watchdog_kicks(sw):
    """Healthy guests never need the lost-interrupt watchdog."""
    kicks = [sw.port(p)["watchdog_kicks"] for p in ("vm1", "vm2")]
    check(kicks == [0, 0], "watchdog kicks on healthy traffic: %s" % kicks)


def scenario(what):
    log("-- %s" % what)


def ping_and_tcp(sw, g1, g2, seconds=2):
    scenario("ping, TCP both ways")
    ping(g1, IP2)
    log("TCP g1->g2 %.1f Mbit/s, g2->g1 %.1f Mbit/s" %
        (iperf(g1, IP2, seconds=seconds) / 1e6, iperf(g1, IP2, "-R", seconds=seconds) / 1e6))
    no_watchdog_kicks(sw)


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


def udp_flood_then_ping(sw, g1, g2):
    """UDP at full offered load, then a ping: a TX ring that stopped being
    signalled would leave the sender blocked and the ping lost."""
    scenario("UDP flood, then ping")
    out = g1.check("iperf3 -c %s -u -b 0 -t 2" % IP2, timeout=60)
    check("receiver" in out, "UDP run:\n%s" % out)
    ping(g1, IP2)
    ping(g2, IP1)
    no_watchdog_kicks(sw)


def jumbo(sw, g1, g2):
    """9000-byte MTU: ping of 9000 bytes and TCP."""
    ping(g1, IP2, size=8972)
    iperf(g1, IP2, seconds=2)
    st = sw.port("vm1")
    check(st["drop_bad_frame"] == 0 and st["rx_bytes"] > 0, "vm1 %s" % st)


def cpu_share(sw, seconds=2.0):
    t0, c0 = time.time(), sw.pmd_cpu_seconds()
    time.sleep(seconds)
    return (sw.pmd_cpu_seconds() - c0) / (time.time() - t0)


def pmd_sleep(sw, g1, g2):
    """Interrupt-assisted idle: an idle PMD sleeps on the guests' kicks. Its
    CPU use drops; single frames after long idles and bursts separated by
    gaps all arrive, each without waiting for a timeout."""
    scenario("PMD sleeping on kicks")
    polling = cpu_share(sw)
    sw.vqctl("set", "pmd", "sleep=on")
    time.sleep(0.5)
    sleeping = cpu_share(sw)
    log("PMD CPU use while idle: %.0f%% polling, %.0f%% with sleep on" % (100 * polling, 100 * sleeping))
    check(polling > 0.8, "a polling PMD uses its core: %.2f" % polling)
    check(sleeping < 0.3, "a sleeping PMD does not: %.2f" % sleeping)
    for gap in (0.3, 1.5):  # single packets after idles longer than 100 ms
        time.sleep(gap)
        ping(g1, IP2, count=1)
        ping(g2, IP1, count=1)
    # Pings 0.3 s apart: the PMD is asleep before each. Had a kick been
    # missed, the frame would wait for the 100 ms timeout.
    out = g1.check("ping -c 10 -i 0.3 -W 3 %s" % IP2, timeout=60)
    check("10 packets received" in out, "all ten pings: %s" % out)
    avg = float(re.search(r"min/avg/max = [\d.]+/([\d.]+)/", out).group(1))
    check(avg < 50, "average round trip %.1f ms: a wake-up waited for a timeout" % avg)
    iperf(g1, IP2, seconds=2)
    st = sw.vqctl("pmd/stats-show", fmt="json")["pmd0"]
    check(st["sleeps"] > 10, "the PMD slept: %s" % st)
    check("set pmd sleep=100" in open(sw.state).read(), "recorded in the state file")
    sw.vqctl("set", "pmd", "sleep=off")


def lost_interrupts_recovered(sw, g1, g2):
    """With the watchdog (100 ms), a guest that loses its interrupts (every
    one the datapath raises towards it swallowed by debug/drop-calls, as if
    lost on the way) still answers every ping, each well within a second."""
    scenario("guest 1 loses its interrupts; the watchdog recovers them")
    kicks = sw.port("vm1")["watchdog_kicks"]
    sw.vqctl("debug/drop-calls", "vm1", "1000000")
    out = g2.check("ping -c 5 -W 3 %s" % IP1, timeout=60)
    check("5 packets received" in out, "pings through a guest losing interrupts:\n%s" % out)
    worst = float(re.search(r"min/avg/max = [\d.]+/[\d.]+/([\d.]+)", out).group(1))
    p = sw.port("vm1")
    log("worst round trip %.0f ms, %d watchdog kicks, %d calls swallowed" %
        (worst, p["watchdog_kicks"] - kicks, 1000000 - p["debug_drop_calls_pending"]))
    check(worst < 1000, "recovered within a second: worst %.0f ms" % worst)
    check(p["watchdog_kicks"] > kicks and p["debug_drop_calls_pending"] < 1000000,
          "calls were lost and re-raised: %s" % p)
    check(sw.port("vm2")["watchdog_kicks"] == 0, "no kicks for the healthy guest")
    sw.wait_log("guest waits for an interrupt it did not get", 5)
    sw.vqctl("debug/drop-calls", "vm1", "0")


def reboot_under_traffic(sw, g1, g2):
    """Guest 1 goes away and boots again while guest 2 keeps pinging it."""
    scenario("guest 1 reboots while guest 2 pings it")
    before = sw.port("vm1")
    ping(g2, IP1)
    g2.proc.stdin.write(("ping -i 0.2 %s > /tmp/ping.log 2>&1 &\n" % IP1).encode())
    g2.proc.stdin.flush()
    time.sleep(1)
    g1.kill()
    sw.wait_port_state("vm1", "down")
    time.sleep(1)
    g1.boot()
    sw.wait_port_state("vm1", "up")
    ping(g1, IP2)
    out = g2.check("sleep 2; kill %1; tail -3 /tmp/ping.log")
    check(sw.alive(), "vqswitch died")
    p = sw.port("vm1")
    check(p["connects"] == before["connects"] + 1 and p["disconnects"] == before["disconnects"] + 1,
          "vm1 reconnected: %s then %s" % (before, p))
    log("guest 2's ping after the reboot: %s" % out.strip().splitlines()[-2:])


WATCHDOG = ("--watchdog-interval", "100", "--enable-debug-commands")


def test_one_pair(c):
    """Two guests with Linux's defaults (split rings, EVENT_IDX, mergeable
    RX buffers) and offloads booted once, through one scenario after
    another: ping and TCP (the guests hand each other 64 KB segments and
    partial checksums), a UDP flood, a 9000-byte MTU, the PMD sleeping on
    kicks, lost interrupts recovered by the watchdog, a reboot under
    traffic. (Guests without offloads: the other cases.)"""
    sw, g1, g2 = pair(c, "gone", args=WATCHDOG, offloads=True)
    serve(g2)
    ping_and_tcp(sw, g1, g2)
    offloads_used(sw, ("vm1", "vm2"))
    udp_flood_then_ping(sw, g1, g2)
    scenario("MTU 9000, mergeable RX buffers")
    for g in (g1, g2):
        g.check("ip link set eth0 mtu 9000")
    jumbo(sw, g1, g2)
    for g in (g1, g2):
        g.check("ip link set eth0 mtu 1500")
    pmd_sleep(sw, g1, g2)
    lost_interrupts_recovered(sw, g1, g2)
    reboot_under_traffic(sw, g1, g2)
    check(sw.stop() == 0, "exit code")


def test_jumbo_no_mergeable(c):
    # Without mergeable buffers the guest needs big ones: host_mtu tells it.
    sw, g1, g2 = pair(c, "gjnm", mtu=9000, device=",mrg_rxbuf=off,host_mtu=9000")
    serve(g2)
    jumbo(sw, g1, g2)
    check(sw.stop() == 0, "exit code")


def test_packed_ring(c):
    sw, g1, g2 = pair(c, "gpkd", device=",packed=on")
    serve(g2)
    ping_and_tcp(sw, g1, g2)
    check(sw.stop() == 0, "exit code")


def test_no_event_idx(c):
    """Without EVENT_IDX, and without offloads (the one pair of guests
    that sends plain frames): healthy guests need no watchdog, where the
    direct datapath's watchdog reads Linux's used_event hint, and there
    (only there: the library's watchdog cannot check such rings) it
    recovers lost interrupts through that hint."""
    sw, g1, g2 = pair(c, "gnei", args=WATCHDOG, device=",event_idx=off", offloads=False)
    serve(g2)
    ping_and_tcp(sw, g1, g2)
    if os.environ.get("VQS_DATAPATH") == "direct":
        lost_interrupts_recovered(sw, g1, g2)
    check(sw.stop() == 0, "exit code")


def test_two_queue_pairs(c):
    # Linux uses min(queue pairs, CPUs) queue pairs: two vCPUs.
    sw, g1, g2 = pair(c, "gmq", queues=2, netdev=",queues=2", device=",mq=on", smp=2)
    sw.wait_kicks_off("vm1", 4)
    ping(g1, IP2)
    serve(g2)
    iperf(g1, IP2, "-P 4", seconds=2)
    check(sw.port("vm1")["vrings_enabled"] == 4, "both queue pairs enabled")
    check(sw.stop() == 0, "exit code")


def test_netns_host_through_nic_port(c):
    """A guest reaches a host in a network namespace, through a net_pcap
    port on a veth whose other end is in the namespace."""
    ns = "vqs_guest_host"
    v = Veth(c, "vqgh0")
    run(["ip", "netns", "del", ns], check_rc=False)
    run(["ip", "netns", "add", ns])
    c.add(lambda: run(["ip", "netns", "del", ns], check_rc=False))
    run(["ip", "link", "set", v.peer, "netns", ns])
    run(["ip", "-n", ns, "addr", "add", "10.99.0.100/24", "dev", v.peer])
    run(["ip", "-n", ns, "link", "set", v.peer, "up"])
    # Frames no longer than the MTU, checksummed, from the host's kernel
    # (a packet socket would see its segmentation batches); what the
    # switch sends into the namespace the kernel checks in full.
    run("ethtool -K %s tso off gso off gro off tx off" % v.name)
    run("ip netns exec %s ethtool -K %s tso off gso off gro off tx off" % (ns, v.peer))
    sw = Switch(c, "gns", "add-br br0\nadd-port br0 vm1 type=vhostuser offloads=on\n"
                          "add-port br0 up type=dpdk devargs=%s\n" % v.devargs(0))
    g1 = Guest(c, "gns1", sw.sock("vm1"), IP1 + "/24", MAC1)
    ping(g1, "10.99.0.100")
    r = subprocess.run(["ip", "netns", "exec", ns, "busybox", "ping", "-c", "3", "-W", "3", IP1],
                       capture_output=True, text=True)
    check(r.returncode == 0, "host -> guest ping: %s %s" % (r.stdout, r.stderr))
    # TCP both ways, the guest handing the switch GSO frames that the NIC
    # port gets as segments: the host's kernel finds every checksum right.
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "iperf3", "-s"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        log("TCP guest->host %.1f Mbit/s, host->guest %.1f Mbit/s" %
            (iperf(g1, "10.99.0.100", seconds=2) / 1e6, iperf(g1, "10.99.0.100", "-R", seconds=2) / 1e6))
    finally:
        srv.kill()
        srv.wait()
    ping(g1, "10.99.0.100")
    errors = run(["ip", "netns", "exec", ns, "nstat", "-az", "TcpInCsumErrors", "UdpInCsumErrors",
                  "IpExtInCsumErrors"]).stdout
    check(all(int(l.split()[1]) == 0 for l in errors.splitlines()[1:] if l.strip()),
          "checksum errors in the host's kernel:\n%s" % errors)
    offloads_used(sw, ("vm1",), sw_gso="up")
    check(sw.stop() == 0, "exit code")


def test_vxlan_to_linux_vtep(c):
    """A guest (MTU 1450, offloads) behind a vxlan port reaches a Linux
    vxlan device in a namespace over an underlay bridge: ping both ways,
    TCP and UDP both ways, its GSO frames segmented before they are
    encapsulated."""
    ul, vt = Netns(c, "vqs_guest_ul"), Netns(c, "vqs_guest_vtep")
    ul.sh("ip link add name ulbr type bridge && ip link set ulbr up")
    veth_into(c, "vqgvu0", None, ul, peer="s")
    veth_into(c, "e", vt, ul, peer="v")
    ul.sh("ip link set s master ulbr && ip link set s up && ip link set v master ulbr && ip link set v up")
    no_offloads(ul, "s", "v")
    no_offloads(None, "vqgvu0")
    linux_vtep(vt, "e", "192.0.2.20", ["192.0.2.10"], "10.99.0.100")
    sw = Switch(c, "gvx", "add-br br0\nadd-br brphy\nadd-port br0 vm1 type=vhostuser offloads=on\n"
                          "add-port brphy up0 type=dpdk devargs=net_pcap0,iface=vqgvu0 ip=192.0.2.10/24\n"
                          "add-port br0 vx type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.20\n")
    g1 = Guest(c, "gvx1", sw.sock("vm1"), IP1 + "/24", MAC1, mtu=1450)
    ping(g1, "10.99.0.100", count=5)
    r = vt.sh("ping -c 3 -W 3 %s" % IP1, check_rc=False)
    check(r.returncode == 0, "VTEP -> guest ping: %s" % r.stdout)
    srv = vt.popen(["iperf3", "-s"])
    try:
        time.sleep(0.5)
        log("TCP guest->VTEP %.1f Mbit/s, VTEP->guest %.1f Mbit/s, UDP %.1f and %.1f Mbit/s" %
            (iperf(g1, "10.99.0.100") / 1e6, iperf(g1, "10.99.0.100", "-R") / 1e6,
             iperf(g1, "10.99.0.100", "-u -b 10M") / 1e6, iperf(g1, "10.99.0.100", "-u -b 10M -R") / 1e6))
    finally:
        srv.kill()
        srv.wait()
    ping(g1, "10.99.0.100")
    offloads_used(sw, ("vm1",), sw_gso="vx")
    t = sw.vqctl("tnl/show", "vx", fmt="json")[0]["remotes"][0]
    check(t["rx_packets"] > 100 and t["tx_packets"] > 100, "tunnel counters: %s" % t)
    check(sw.stop() == 0, "exit code")


def test_watchdog_off_guest_stalls(c):
    """Without the watchdog, a guest that loses its interrupts stalls, and
    stays stalled for as long as they are lost. (Once they no longer are,
    an unrelated interrupt can revive it: under TCG the NIC has one INTx
    line for all its queues. That is luck, not recovery, and is not
    asserted.)"""
    sw, g1, g2 = pair(c, "gwdoff", args=("--watchdog-interval", "0", "--enable-debug-commands"))
    ping(g2, IP1)
    sw.vqctl("debug/drop-calls", "vm1", "1000000")
    for attempt in range(2):
        rc, out = g2.run("ping -c 3 -W 2 %s" % IP1, timeout=60)
        check(rc != 0 and "0 packets received" in out,
              "attempt %d: the guest should be stalled:\n%s" % (attempt, out))
        time.sleep(2)
    check(sw.port("vm1")["watchdog_kicks"] == 0, "no watchdog")
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_one_pair, test_jumbo_no_mergeable, test_packed_ring, test_no_event_idx,
                   test_two_queue_pairs, test_netns_host_through_nic_port, test_vxlan_to_linux_vtep,
                   test_watchdog_off_guest_stalls]))
