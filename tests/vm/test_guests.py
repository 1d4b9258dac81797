#!/usr/bin/env python3
"""Real Linux guests (QEMU under TCG) switched by vqswitch: ping, TCP and
UDP iperf3, jumbo frames with and without mergeable RX buffers, packed
rings, no EVENT_IDX, two queue pairs, a guest rebooting under traffic, and
a guest reaching a host in a network namespace through a NIC port, and
one reaching a Linux VXLAN endpoint through a tunnel port."""
import re
import subprocess
import sys
import time

from guest import Guest
from test_tunnel import Netns, linux_vtep, no_offloads, veth_into
from vqtest import Switch, Veth, check, log, main, run

IP1, IP2 = "10.99.0.1", "10.99.0.2"
MAC1, MAC2 = "52:54:00:99:00:01", "52:54:00:99:00:02"


def pair(c, name, queues=1, **kw):
    sw = Switch(c, name, "add-br br0\nadd-port br0 vm1 type=vhostuser queues=%d\n"
                         "add-port br0 vm2 type=vhostuser queues=%d\n" % (queues, queues))
    g1 = Guest(c, name + "1", sw.sock("vm1"), IP1 + "/24", MAC1, **kw)
    g2 = Guest(c, name + "2", sw.sock("vm2"), IP2 + "/24", MAC2, **kw)
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


def test_ping_and_tcp(c):
    sw, g1, g2 = pair(c, "gtcp")
    ping(g1, IP2)
    serve(g2)
    log("TCP g1->g2 %.1f Mbit/s, g2->g1 %.1f Mbit/s" %
        (iperf(g1, IP2) / 1e6, iperf(g1, IP2, "-R") / 1e6))
    no_watchdog_kicks(sw)
    check(sw.stop() == 0, "exit code")


def test_udp_flood_then_ping(c):
    """UDP at full offered load, then a ping: a TX ring that stopped being
    signalled would leave the sender blocked and the ping lost."""
    sw, g1, g2 = pair(c, "gudp")
    serve(g2)
    out = g1.check("iperf3 -c %s -u -b 0 -t 3" % IP2, timeout=60)
    check("receiver" in out, "UDP run:\n%s" % out)
    ping(g1, IP2)
    ping(g2, IP1)
    no_watchdog_kicks(sw)
    check(sw.stop() == 0, "exit code")


def jumbo(c, name, device=""):
    sw, g1, g2 = pair(c, name, mtu=9000, device=device)
    ping(g1, IP2, size=8972)
    serve(g2)
    iperf(g1, IP2, seconds=2)
    st = sw.port("vm1")
    check(st["drop_bad_frame"] == 0 and st["rx_bytes"] > 0, "vm1 %s" % st)
    check(sw.stop() == 0, "exit code")


def test_jumbo_mergeable(c):
    jumbo(c, "gjmb")


def test_jumbo_no_mergeable(c):
    # Without mergeable buffers the guest needs big ones: host_mtu tells it.
    jumbo(c, "gjnm", device=",mrg_rxbuf=off,host_mtu=9000")


def ping_and_tcp_with(c, name, device):
    sw, g1, g2 = pair(c, name, device=device)
    ping(g1, IP2)
    serve(g2)
    iperf(g1, IP2, seconds=2)
    # Healthy guests: without EVENT_IDX too, where the direct datapath's
    # watchdog reads Linux's used_event hint.
    no_watchdog_kicks(sw)
    check(sw.stop() == 0, "exit code")


def test_packed_ring(c):
    ping_and_tcp_with(c, "gpkd", ",packed=on")


def test_no_event_idx(c):
    ping_and_tcp_with(c, "gnei", ",event_idx=off")


def test_two_queue_pairs(c):
    # Linux uses min(queue pairs, CPUs) queue pairs: two vCPUs.
    sw, g1, g2 = pair(c, "gmq", queues=2, netdev=",queues=2", device=",mq=on", smp=2)
    sw.wait_kicks_off("vm1", 4)
    ping(g1, IP2)
    serve(g2)
    iperf(g1, IP2, "-P 4", seconds=2)
    check(sw.port("vm1")["vrings_enabled"] == 4, "both queue pairs enabled")
    check(sw.stop() == 0, "exit code")


def test_reboot_under_traffic(c):
    """Guest 1 goes away and boots again while guest 2 keeps pinging it."""
    sw, g1, g2 = pair(c, "grbt")
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
    check(p["connects"] == 2 and p["disconnects"] == 1, "vm1 reconnected: %s" % p)
    log("guest 2's ping after the reboot: %s" % out.strip().splitlines()[-2:])
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
    sw = Switch(c, "gns", "add-br br0\nadd-port br0 vm1 type=vhostuser\n"
                          "add-port br0 up type=dpdk devargs=%s\n" % v.devargs(0))
    g1 = Guest(c, "gns1", sw.sock("vm1"), IP1 + "/24", MAC1)
    ping(g1, "10.99.0.100")
    r = subprocess.run(["ip", "netns", "exec", ns, "busybox", "ping", "-c", "3", "-W", "3", IP1],
                       capture_output=True, text=True)
    check(r.returncode == 0, "host -> guest ping: %s %s" % (r.stdout, r.stderr))
    check(sw.stop() == 0, "exit code")


def test_vxlan_to_linux_vtep(c):
    """A guest (MTU 1450) behind a vxlan port reaches a Linux vxlan device
    in a namespace over an underlay bridge: ping both ways, TCP and UDP
    both ways."""
    ul, vt = Netns(c, "vqs_guest_ul"), Netns(c, "vqs_guest_vtep")
    ul.sh("ip link add name ulbr type bridge && ip link set ulbr up")
    veth_into(c, "vqgvu0", None, ul, peer="s")
    veth_into(c, "e", vt, ul, peer="v")
    ul.sh("ip link set s master ulbr && ip link set s up && ip link set v master ulbr && ip link set v up")
    no_offloads(ul, "s", "v")
    no_offloads(None, "vqgvu0")
    linux_vtep(vt, "e", "192.0.2.20", ["192.0.2.10"], "10.99.0.100")
    sw = Switch(c, "gvx", "add-br br0\nadd-br brphy\nadd-port br0 vm1 type=vhostuser\n"
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
    t = sw.vqctl("tnl/show", "vx", fmt="json")[0]["remotes"][0]
    check(t["rx_packets"] > 100 and t["tx_packets"] > 100, "tunnel counters: %s" % t)
    check(sw.stop() == 0, "exit code")


def lose_interrupts(c, name, watchdog_ms, device=""):
    """Two guests; then every interrupt the datapath raises towards guest 1
    is swallowed (debug/drop-calls), as if lost on the way."""
    sw = Switch(c, name, "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n"
                         "add-port br0 vm2 type=vhostuser queues=1\n",
                args=["--watchdog-interval", str(watchdog_ms), "--enable-debug-commands"])
    g1 = Guest(c, name + "1", sw.sock("vm1"), IP1 + "/24", MAC1, device=device)
    g2 = Guest(c, name + "2", sw.sock("vm2"), IP2 + "/24", MAC2, device=device)
    ping(g2, IP1)
    sw.vqctl("debug/drop-calls", "vm1", "1000000")
    return sw, g1, g2


def test_watchdog_recovers_lost_interrupts(c, name="gwdon", device=""):
    """With the watchdog (100 ms), a guest that loses its interrupts still
    answers every ping, each well within a second."""
    sw, g1, g2 = lose_interrupts(c, name, 100, device)
    out = g2.check("ping -c 5 -W 3 %s" % IP1, timeout=60)
    check("5 packets received" in out, "pings through a guest losing interrupts:\n%s" % out)
    worst = float(re.search(r"min/avg/max = [\d.]+/[\d.]+/([\d.]+)", out).group(1))
    p = sw.port("vm1")
    log("worst round trip %.0f ms, %d watchdog kicks, %d calls swallowed" %
        (worst, p["watchdog_kicks"], 1000000 - p["debug_drop_calls_pending"]))
    check(worst < 1000, "recovered within a second: worst %.0f ms" % worst)
    check(p["watchdog_kicks"] > 0 and p["debug_drop_calls_pending"] < 1000000,
          "calls were lost and re-raised: %s" % p)
    check(sw.port("vm2")["watchdog_kicks"] == 0, "no kicks for the healthy guest")
    sw.wait_log("guest waits for an interrupt it did not get", 5)
    check(sw.stop() == 0, "exit code")


def test_watchdog_recovers_lost_interrupts_no_event_idx(c):
    """The same without EVENT_IDX (direct datapath only): the watchdog
    reads the used_event Linux writes whenever it enables interrupts."""
    test_watchdog_recovers_lost_interrupts(c, "gwdne", ",event_idx=off")


def test_watchdog_off_guest_stalls(c):
    """Without the watchdog the same guest stalls, and stays stalled for as
    long as its interrupts are lost. (Once they no longer are, an unrelated
    interrupt can revive it: under TCG the NIC has one INTx line for all
    its queues. That is luck, not recovery, and is not asserted.)"""
    sw, g1, g2 = lose_interrupts(c, "gwdoff", 0)
    for attempt in range(2):
        rc, out = g2.run("ping -c 3 -W 2 %s" % IP1, timeout=60)
        check(rc != 0 and "0 packets received" in out,
              "attempt %d: the guest should be stalled:\n%s" % (attempt, out))
        time.sleep(2)
    check(sw.port("vm1")["watchdog_kicks"] == 0, "no watchdog")
    check(sw.stop() == 0, "exit code")


def cpu_share(sw, seconds=2.0):
    t0, c0 = time.time(), sw.pmd_cpu_seconds()
    time.sleep(seconds)
    return (sw.pmd_cpu_seconds() - c0) / (time.time() - t0)


def test_pmd_sleep(c):
    """Interrupt-assisted idle: an idle PMD sleeps on the guests' kicks. Its
    CPU use drops; single frames after long idles and bursts separated by
    gaps all arrive, each without waiting for a timeout."""
    sw, g1, g2 = pair(c, "gslp")
    ping(g1, IP2)
    polling = cpu_share(sw)
    sw.vqctl("set", "pmd", "sleep=on")
    time.sleep(0.5)
    sleeping = cpu_share(sw)
    log("PMD CPU use while idle: %.0f%% polling, %.0f%% with sleep on" % (100 * polling, 100 * sleeping))
    check(polling > 0.8, "a polling PMD uses its core: %.2f" % polling)
    check(sleeping < 0.3, "a sleeping PMD does not: %.2f" % sleeping)
    for gap in (0.3, 1.5, 3.0):  # single packets after idles longer than 100 ms
        time.sleep(gap)
        ping(g1, IP2, count=1)
        ping(g2, IP1, count=1)
    # Pings 0.3 s apart: the PMD is asleep before each. Had a kick been
    # missed, the frame would wait for the 100 ms timeout.
    out = g1.check("ping -c 10 -i 0.3 -W 3 %s" % IP2, timeout=60)
    check("10 packets received" in out, "all ten pings: %s" % out)
    avg = float(re.search(r"min/avg/max = [\d.]+/([\d.]+)/", out).group(1))
    check(avg < 50, "average round trip %.1f ms: a wake-up waited for a timeout" % avg)
    serve(g2)
    iperf(g1, IP2, seconds=2)
    st = sw.vqctl("pmd/stats-show", fmt="json")["pmd0"]
    check(st["sleeps"] > 10, "the PMD slept: %s" % st)
    check("set pmd sleep=100" in open(sw.state).read(), "recorded in the state file")
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_ping_and_tcp, test_udp_flood_then_ping, test_jumbo_mergeable,
                   test_jumbo_no_mergeable, test_packed_ring, test_no_event_idx,
                   test_two_queue_pairs, test_reboot_under_traffic,
                   test_netns_host_through_nic_port, test_vxlan_to_linux_vtep, test_pmd_sleep,
                   test_watchdog_recovers_lost_interrupts, test_watchdog_off_guest_stalls,
                   test_watchdog_recovers_lost_interrupts_no_event_idx]))
