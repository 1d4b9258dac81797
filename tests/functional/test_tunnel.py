#!/usr/bin/env python3
"""VXLAN tunnel ports (docs/tunnels.md).

test_vxlan_packets: the underlay is a veth the test drives with raw
sockets, standing in for the remote VTEPs, so every header can be checked
and every malformed packet counted: ARP answered and learned, head-end
replication, per-remote learning, split horizon, the MTU rule, the drop
reasons.

test_vxlan_linux: the peers are Linux's own vxlan devices, two VTEPs in
network namespaces on an underlay bridge; the guest behind vqswitch is a
virtio-user port of a testpmd that relays to a namespace with a kernel
IP stack: ping and iperf3 TCP and UDP both ways, broadcast (ARP) both
ways, learning per VTEP.

test_two_hosts: two vqswitch processes, each with its own underlay port
into a shared underlay bridge and a guest behind it (virtio-user, relayed
to a namespace): ping, TCP, jumbo within the tunnel MTU, and a restart of
one of them (its neighbours are resolved again without any command).
"""
import json
import os
import select
import socket
import struct
import subprocess
import time

from vqtest import (PACKET_OUTGOING, Switch, TapPeer, TestPmd, Veth, check, frame, log, main, run,
                    wait_for)

VNI = 100
LOCAL, R1, R2 = "192.0.2.10", "192.0.2.20", "192.0.2.30"
R1_MAC, R2_MAC = "02:00:00:00:20:01", "02:00:00:00:30:01"
INNER_A, INNER_B = "02:00:00:00:aa:01", "02:00:00:00:bb:01"
BCAST = "ff:ff:ff:ff:ff:ff"


class Netns:
    """A network namespace, gone with the test."""

    def __init__(self, c, name):
        self.name = name
        run(["ip", "netns", "del", name], check_rc=False)
        run(["ip", "netns", "add", name])
        c.add(lambda: run(["ip", "netns", "del", name], check_rc=False))
        self.sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1; "
                "sysctl -qw net.ipv6.conf.default.disable_ipv6=1; ip link set lo up")

    def sh(self, cmd, check_rc=True, timeout=60):
        r = subprocess.run(["ip", "netns", "exec", self.name, "sh", "-c", cmd], capture_output=True,
                           text=True, timeout=timeout)
        check(not check_rc or r.returncode == 0, "%s in %s: %s%s" % (cmd, self.name, r.stdout, r.stderr))
        return r

    def popen(self, cmd):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)


def veth_into(c, name, ns, peer_ns=None, peer=None, mtu=1500):
    """A veth pair: name in ns (None: here), peer in peer_ns (None: here)."""
    peer = peer or name + "p"
    run(["ip", "link", "del", name], check_rc=False)
    cmd = ["ip", "link", "add", "name", name, "mtu", str(mtu)]
    if ns:
        cmd += ["netns", ns.name]
    cmd += ["type", "veth", "peer", "name", peer, "mtu", str(mtu)]
    if peer_ns:
        cmd += ["netns", peer_ns.name]
    run(cmd)
    if not ns:
        c.add(lambda: run(["ip", "link", "del", name], check_rc=False))
        run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % name], check_rc=False)
        run(["ip", "link", "set", name, "up"])


def no_offloads(ns, *devs):
    """Frames no longer than the MTU on these links: a packet socket (the
    DPDK ports here) would get the kernel's 64 KiB segmentation batches."""
    for d in devs:
        cmd = "ethtool -K %s tso off gso off gro off tx off" % d
        if ns:
            ns.sh(cmd)
        else:
            run(cmd)


def linux_vtep(ns, dev, ip, remotes, inner_ip, vni=VNI, mtu=None):
    """A kernel VXLAN device in ns over dev (with address ip), flooding to
    remotes (head-end replication, as vqswitch does), with inner_ip."""
    ns.sh("ip addr add %s/24 dev %s && ip link set %s up && "
          "ip link add name vx type vxlan id %d local %s dstport 4789 dev %s && "
          "ip addr add %s/24 dev vx && ip link set vx up" % (ip, dev, dev, vni, ip, dev, inner_ip))
    no_offloads(ns, dev, "vx")
    for r in remotes:
        ns.sh("bridge fdb append 00:00:00:00:00:00 dev vx dst %s" % r)
    if mtu:
        ns.sh("ip link set vx mtu %d" % mtu)


def ping(ns, ip, count=5, size=56, what=""):
    """Every echo answered (after the first one that is, which may wait for
    ARP on both sides of the tunnel)."""
    if not wait_for(lambda: ns.sh("ping -c 1 -W 1 -s %d %s" % (size, ip), check_rc=False).returncode == 0, 20, 0.2):
        raise AssertionError("%s: no answer from %s in 20 s" % (what, ip))
    # One echo at a time, each waited for up to 5 s: a series gives up on
    # its last echo two round trips after sending it (-W), or counts
    # echoes still in flight as lost (-w), and round trips on a loaded
    # machine reached seconds. A lost echo is still lost.
    r = ns.sh("for i in $(seq %d); do ping -c 1 -W 5 -s %d %s || exit 1; done" % (count, size, ip),
              check_rc=False, timeout=60 + 6 * count)
    check(r.returncode == 0, "%s: ping %s from %s: %s" % (what, ip, ns.name, r.stdout[-300:]))


def iperf(server, client, ip, args="", what=""):
    """iperf3 from client to server's ip; the bytes the server received."""
    srv = server.popen(["iperf3", "-s", "-1", "-B", ip])
    try:
        time.sleep(0.5)
        r = client.sh("iperf3 -c %s -t 2 -J %s" % (ip, args), check_rc=False, timeout=60)
        check(r.returncode == 0, "%s: iperf3 %s: %s" % (what, args, r.stdout[-500:]))
        res = json.loads(r.stdout)["end"]
        got = res["sum_received"]["bytes"] if "sum_received" in res else res["sum"]["bytes"]
        if "sum_received" not in res:  # UDP: what the server saw lost
            check(res["sum"]["lost_percent"] < 20, "%s: iperf3 %s lost %.1f%%" %
                  (what, args, res["sum"]["lost_percent"]))
        log("%s: iperf3 %s: %d bytes, %.1f Mbit/s" % (what, args, got,
            res.get("sum_received", res.get("sum"))["bits_per_second"] / 1e6))
        check(got > 0, "%s: iperf3 %s moved nothing" % (what, args))
        return res
    finally:
        srv.kill()
        srv.wait()


def mac_b(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip_b(ip):
    return socket.inet_aton(ip)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, payload, proto=17, frag=0x4000, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, frag, ttl, proto, 0,
                    ip_b(src), ip_b(dst))
    return h[:10] + struct.pack("!H", checksum(h)) + h[12:] + payload


def vxlan(src_mac, src_ip, inner, vni=VNI, flags=0x08, dst_ip=LOCAL, dport=4789, frag=0x4000):
    udp = struct.pack("!HHHH", 50000, dport, 8 + 8 + len(inner), 0)
    vx = struct.pack("!B3xI", flags, vni << 8)
    return mac_b(BCAST) + mac_b(src_mac) + b"\x08\x00" + ipv4(src_ip, dst_ip, udp + vx + inner, frag=frag)


def arp(op, sha, spa, tha, tpa, dst=BCAST):
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, mac_b(sha), ip_b(spa), mac_b(tha), ip_b(tpa))
    return (mac_b(dst) + mac_b(sha) + b"\x08\x06" + body).ljust(60, b"\0")


def parse_outer(f):
    """The fields of an encapsulated frame, or None if it is not VXLAN."""
    if len(f) < 50 or f[12:14] != b"\x08\x00" or f[23] != 17:
        return None
    ip = f[14:34]
    udp = f[34:42]
    vx = f[42:50]
    sport, dport, ulen, ucsum = struct.unpack("!HHHH", udp)
    return {"dst_mac": f[0:6], "src_mac": f[6:12], "ver_ihl": ip[0], "tos": ip[1],
            "total": struct.unpack("!H", ip[2:4])[0], "frag": struct.unpack("!H", ip[6:8])[0],
            "ttl": ip[8], "csum_ok": checksum(ip) == 0, "src": socket.inet_ntoa(ip[12:16]),
            "dst": socket.inet_ntoa(ip[16:20]), "sport": sport, "dport": dport, "ulen": ulen,
            "ucsum": ucsum, "flags": vx[0], "vni": struct.unpack("!I", vx[4:8])[0] >> 8,
            "inner": f[50:]}


def underlay_frames(veth, timeout=3.0):
    """Frames the switch sent on the underlay (seen on the peer end): the
    first within timeout (3 s by default: a loaded machine), the next
    each within 0.3 s of the one before."""
    got = []
    while select.select([veth.sock], [], [], timeout)[0]:
        data, addr = veth.recv_frame()
        if addr[2] != PACKET_OUTGOING:
            got.append(data)
        timeout = 0.3
    return got


def drops(sw, port):
    return {k[5:]: v for k, v in sw.port(port).items() if k.startswith("drop_")}


def remotes(sw, port):
    t = sw.vqctl("tnl/show", port, fmt="json")
    return {r["ip"]: r for r in t[0]["remotes"]}


def test_vxlan_packets(c):
    ul, p1 = Veth(c, "vqtnu"), Veth(c, "vqtnp")
    sw = Switch(c, "tnlpk",
                "add-br br0\nadd-br brphy\n"
                "add-port brphy up0 type=dpdk devargs=%s ip=%s/24\n"
                "add-port br0 vx100 type=vxlan vni=%d local_ip=%s remote_ip=%s,%s\n"
                "add-port br0 p1 type=dpdk devargs=%s\n" % (ul.devargs(0), LOCAL, VNI, LOCAL, R1, R2,
                                                             p1.devargs(1)))
    time.sleep(0.5)
    ul.drain()
    p1.drain()

    # ARP for our address is answered, from the underlay port's MAC.
    ul.send(arp(1, R1_MAC, R1, "00:00:00:00:00:00", LOCAL))
    replies = [f for f in underlay_frames(ul) if f[12:14] == b"\x08\x06"]
    check(len(replies) == 1, "one ARP reply, got %d" % len(replies))
    r = replies[0]
    op, sha, spa, tha, tpa = struct.unpack("!6x H 6s4s6s4s", r[14:42])
    check(op == 2 and spa == ip_b(LOCAL) and tha == mac_b(R1_MAC) and tpa == ip_b(R1) and r[0:6] == mac_b(R1_MAC),
          "ARP reply fields: %r" % r[:42].hex())
    up0_mac = sha
    # The request taught the switch R1's MAC (its sender is a next hop).
    neigh = {n["ip"]: n for n in sw.vqctl("tnl/neigh-show", fmt="json")}
    check(neigh[R1]["state"] == "reachable" and neigh[R1]["mac"].lower() == R1_MAC,
          "R1 learned from its request: %s" % neigh)
    check(neigh[R2]["state"] == "unresolved", "R2 not known yet: %s" % neigh)
    check(sw.vqctl("tnl/show", fmt="json")[0]["ip_checksum"] == "software", "net_pcap computes none")

    # Unknown unicast from a local port: head-end replication. R1 gets it;
    # R2 is unresolved: asked for with ARP, the frame counted.
    p1.send(frame("02:00:00:00:ee:01", INNER_A, b"HER1"))
    out = underlay_frames(ul)
    enc = [parse_outer(f) for f in out if parse_outer(f)]
    asks = [f for f in out if f[12:14] == b"\x08\x06"]
    check(len(enc) == 1 and enc[0]["dst"] == R1, "encapsulated for R1 only: %s" % enc)
    check(len(asks) == 1 and asks[0][38:42] == ip_b(R2) and asks[0][0:6] == mac_b(BCAST),
          "one ARP request for R2: %s" % [a.hex() for a in asks])
    check(drops(sw, "vx100")["tnl_unresolved"] == 1, "unresolved counted: %s" % drops(sw, "vx100"))
    e = enc[0]
    inner = frame("02:00:00:00:ee:01", INNER_A, b"HER1")
    check(e["dst_mac"] == mac_b(R1_MAC) and e["src_mac"] == up0_mac, "outer MACs")
    check(e["ver_ihl"] == 0x45 and e["frag"] == 0x4000 and e["ttl"] == 64 and e["csum_ok"] and
          e["src"] == LOCAL and e["total"] == 20 + 8 + 8 + len(inner), "outer IPv4 header: %s" % e)
    check(e["dport"] == 4789 and 49152 <= e["sport"] <= 65535 and e["ulen"] == 16 + len(inner) and
          e["ucsum"] == 0, "outer UDP header: %s" % e)
    check(e["flags"] == 0x08 and e["vni"] == VNI and e["inner"] == inner, "VXLAN header and inner frame")

    # R2 answers the request: both get the next flooded frame.
    up0 = ":".join("%02x" % x for x in up0_mac)
    ul.send(arp(2, R2_MAC, R2, up0, LOCAL, dst=up0))
    time.sleep(0.2)
    p1.send(frame(BCAST, INNER_A, b"HER2"))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    check(sorted((x["dst"], x["dst_mac"]) for x in enc) == [(R1, mac_b(R1_MAC)), (R2, mac_b(R2_MAC))],
          "a broadcast to both remotes: %s" % [(x["dst"], x["dst_mac"].hex()) for x in enc])

    # From R1: decapsulated into the bridge, learned behind R1; a broadcast
    # goes to the local ports only (never back into the tunnel).
    ul.send(vxlan(R1_MAC, R1, frame(BCAST, INNER_B, b"FROMR1")))
    got = p1.collect(1.0, count=1)
    check(len(got) == 1 and got[0] == frame(BCAST, INNER_B, b"FROMR1"), "decapsulated broadcast on p1")
    check([parse_outer(f) for f in underlay_frames(ul, 0.5) if parse_outer(f)] == [],
          "a frame from a remote went back into the tunnel")
    fdb = sw.vqctl("fdb/show", "br0", fmt="json")
    b = [x for x in fdb if x["mac"].lower() == INNER_B]
    check(len(b) == 1 and b[0]["port"] == "vx100" and b[0]["remote"] == R1, "INNER_B behind R1: %s" % b)
    # Known unicast: to R1 alone.
    p1.send(frame(INNER_B, INNER_A, b"TOB"))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    check(len(enc) == 1 and enc[0]["dst"] == R1, "unicast to INNER_B's VTEP only: %s" % enc)
    # The same address now behind R2: it moves.
    ul.send(vxlan(R2_MAC, R2, frame(INNER_A, INNER_B, b"MOVED")))
    check(len(p1.collect(1.0, count=1)) == 1, "frame from R2 delivered")
    b = [x for x in sw.vqctl("fdb/show", "br0", fmt="json") if x["mac"].lower() == INNER_B]
    check(b[0]["remote"] == R2, "INNER_B moved to R2: %s" % b)

    # Per-remote counters.
    rm = remotes(sw, "vx100")
    check(rm[R1]["rx_packets"] == 1 and rm[R2]["rx_packets"] == 1, "rx per remote: %s" % rm)
    check(rm[R1]["tx_packets"] == 3 and rm[R2]["tx_packets"] == 1, "tx per remote: %s" % rm)
    # Of those, the copies of flooded frames (R1's third was to a MAC learned behind it).
    check(rm[R1]["tx_flooded"] == 2 and rm[R2]["tx_flooded"] == 1, "flooded per remote: %s" % rm)
    tel = sw.port("vx100")
    check(tel["vni"] == VNI and tel["remote_ip"] == "%s,%s" % (R1, R2) and
          tel["remote0"] == dict(ip=R1, **{k: rm[R1][k] for k in ("rx_packets", "rx_bytes", "tx_packets",
                                                                  "tx_bytes", "tx_flooded")}) and
          tel["remote1"]["tx_packets"] == 1, "telemetry of the tunnel port: %s" % tel)
    # tos=inherit: the inner IPv4 header's.
    sw.vqctl("set", "port", "vx100", "tos=inherit")
    sw.vqctl("tnl/neigh-set", "up0", R1, R1_MAC)
    sw.vqctl("fdb/add", "br0", INNER_B, "vx100")  # the restart took the learned entries
    time.sleep(0.3)
    ul.drain()
    up = struct.pack("!HHHH", 7, 53, 12, 0) + b"DATA"
    ip = bytearray(ipv4("10.0.0.1", "10.0.0.2", up))
    ip[1] = 0xb8
    p1.send(mac_b(INNER_B) + mac_b(INNER_A) + b"\x08\x00" + bytes(ip))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    check([e["tos"] for e in enc] == [0xb8, 0xb8], "inherited TOS to both remotes: %s" % enc)
    sw.vqctl("set", "port", "vx100", "tos=0")
    sw.vqctl("tnl/neigh-set", "up0", R1, R1_MAC)
    sw.vqctl("tnl/neigh-set", "up0", R2, R2_MAC)
    time.sleep(0.3)
    ul.send(vxlan(R1_MAC, R1, frame(BCAST, INNER_B, b"AGAIN")))  # INNER_B behind R1 again
    check(len(p1.collect(1.0, count=1)) == 1, "frame from R1 delivered")
    ul.drain()

    # The UDP source port follows the inner flow (addresses, protocol, ports):
    # the same for one flow, spread over flows; tos=0 whatever the inner TOS.
    def inner_udp(src_ip, sport, tos=0):
        udp = struct.pack("!HHHH", sport, 53, 8 + 4, 0) + b"DATA"
        ip = bytearray(ipv4(src_ip, "10.0.0.2", udp))
        ip[1] = tos
        return mac_b(INNER_B) + mac_b(INNER_A) + b"\x08\x00" + bytes(ip)

    for i in range(8):
        p1.send(inner_udp("10.0.0.%d" % (i + 1), 1000 + i, tos=0xb8))
        p1.send(inner_udp("10.0.0.%d" % (i + 1), 1000 + i, tos=0xb8))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    ports = [e["sport"] for e in enc]
    check(len(enc) == 16 and all(ports[i] == ports[i + 1] for i in range(0, 16, 2)) and
          len(set(ports)) >= 4 and all(e["tos"] == 0 for e in enc),
          "source ports per flow: %s, TOS %s" % (ports, [e["tos"] for e in enc]))

    # Too big for the underlay's 1500: counted, not sent.
    p1.send(frame(INNER_B, INNER_A, size=1500 - 36 + 1))
    p1.send(frame(INNER_B, INNER_A, size=1500 - 36))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    check(len(enc) == 1 and enc[0]["total"] == 1500, "only the frame that fits: %s" % [x["total"] for x in enc])
    check(drops(sw, "vx100")["tnl_too_big"] == 1, "too big counted")

    # Malformed and foreign packets for our address: dropped, counted by reason.
    before = drops(sw, "up0")
    inner = frame(BCAST, INNER_B)
    bad = {
        "vxlan_bad_flags": [vxlan(R1_MAC, R1, inner, flags=0)],
        "vxlan_unknown_vni": [vxlan(R1_MAC, R1, inner, vni=101)],
        "vxlan_unknown_remote": [vxlan(R1_MAC, "192.0.2.99", inner)],
        "vxlan_malformed": [vxlan(R1_MAC, R1, inner)[:14 + 20 + 8 + 4],   # cut short
                            vxlan(R1_MAC, R1, inner, frag=0x2000)],       # a fragment
        "not_vxlan": [vxlan(R1_MAC, R1, inner, dport=4790),
                      mac_b(BCAST) + mac_b(R1_MAC) + b"\x08\x00" + ipv4(R1, LOCAL, b"\0" * 8, proto=1)],
    }
    for pkts in bad.values():
        for f in pkts:
            ul.send(f)
    time.sleep(0.5)
    after = drops(sw, "up0")
    for why, pkts in bad.items():
        check(after[why] - before[why] == len(pkts), "%s: %d counted, %d sent" % (why, after[why] - before[why], len(pkts)))
    check(p1.collect(0.3) == [], "a bad packet's inner frame was switched")
    # What is not for the switch's address is switched as on any port: a
    # second port on the underlay's bridge sees it.
    ul2 = Veth(c, "vqtnx")
    sw.vqctl("add-port", "brphy", "x2", "type=dpdk", "devargs=" + ul2.devargs(2))
    time.sleep(0.5)
    x2 = sw.port("x2")["tx_packets"]
    ul.send(mac_b(BCAST) + mac_b(R1_MAC) + b"\x08\x00" + ipv4(R1, "192.0.2.77", b"\0" * 26))
    ul.send(arp(1, R1_MAC, R1, "00:00:00:00:00:00", "192.0.2.77"))
    check(wait_for(lambda: sw.port("x2")["tx_packets"] == x2 + 2, 5, 0.1),
          "IPv4 and ARP for another host not switched: x2 sent %d" % (sw.port("x2")["tx_packets"] - x2))

    # The state file keeps the tunnel and the address; a restart comes back
    # with the same configuration.
    with open(sw.state) as f:
        state = f.read()
    check("type=vxlan vni=100 local_ip=192.0.2.10 remote_ip=192.0.2.20,192.0.2.30 dst_port=4789 ttl=64 tos=0"
          in state and "ip=192.0.2.10/24" in state, "state file:\n%s" % state)
    shown = sw.vqctl("show", fmt="json")
    ports = {p["name"]: p for b in shown["bridges"] for p in b["ports"]}
    check(ports["vx100"]["vni"] == VNI and ports["vx100"]["remote_ip"] == "%s,%s" % (R1, R2) and
          ports["up0"]["ip"] == "192.0.2.10/24", "show: %s" % ports)
    # tnl/neigh-flush: resolved again with the next frame.
    sw.vqctl("tnl/neigh-flush")
    check(all(n["state"] == "unresolved" for n in sw.vqctl("tnl/neigh-show", fmt="json")), "flushed")


def test_vxlan_checksum_offload(c):
    """On an underlay that computes IPv4 checksums (net_tap), the outer
    header's is left to it, and comes out right; net_pcap's is computed
    by the switch (test_vxlan_packets)."""
    tap = "vqtnt%d" % (os.getpid() % 100000)
    p1 = Veth(c, "vqtno")
    sw = Switch(c, "tnlck",
                "add-br br0\nadd-br brphy\n"
                "add-port brphy up0 type=dpdk devargs=net_tap0,iface=%s ip=%s/24\n"
                "add-port br0 vx100 type=vxlan vni=%d local_ip=%s remote_ip=%s\n"
                "add-port br0 p1 type=dpdk devargs=%s\n" % (tap, LOCAL, VNI, LOCAL, R1, p1.devargs(1)))
    ul = TapPeer(c, tap)
    time.sleep(0.5)
    check(sw.vqctl("tnl/show", fmt="json")[0]["ip_checksum"] == "offloaded", "net_tap computes checksums")
    # R1 announced until the switch has it: on a loaded machine the tap
    # may not be polled yet when the first reply comes.
    def r1_known():
        ul.send(arp(1, R1_MAC, R1, "00:00:00:00:00:00", LOCAL))
        return any(n["ip"] == R1 and n["state"] == "reachable"
                   for n in sw.vqctl("tnl/neigh-show", fmt="json"))

    check(wait_for(r1_known, 10, 0.2), "R1 resolved: %s" % sw.vqctl("tnl/neigh-show", fmt="json"))
    ul.drain()
    for i in range(4):
        p1.send(frame(BCAST, INNER_A, b"CK%d" % i, size=60 + 100 * i))
    enc = [parse_outer(f) for f in underlay_frames(ul) if parse_outer(f)]
    check(len(enc) == 4 and all(e["csum_ok"] and e["dst"] == R1 for e in enc),
          "outer IPv4 checksums: %s" % [(e["total"], e["csum_ok"]) for e in enc])


def test_vxlan_config_errors(c):
    sw = Switch(c, "tnlcf", "add-br br0\n")
    bad = [
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1", "needs"),
        ("add-port br0 vx type=vxlan vni=16777216 local_ip=192.0.2.1 remote_ip=192.0.2.2", "vni"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.1", "local_ip itself"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=300.1.1.1 remote_ip=192.0.2.2", "local_ip"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=224.0.0.1", "unicast"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.2,192.0.2.2", "twice"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.2 tos=300", "tos"),
        ("add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.2 queues=2", "not for type=vxlan"),
        ("add-port br0 vx type=vhostuser vni=1", "for type=vxlan"),
        ("add-port br0 vx type=vhostuser ip=192.0.2.1/24", "for type=dpdk"),
    ]
    for cmd, what in bad:
        rc, out, err = sw.vqctl(*cmd.split(), check_rc=False)
        check(rc != 0 and what in err, "%s: rc %d, %r" % (cmd, rc, err))
    sw.vqctl(*"add-port br0 vx type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.2 tos=inherit".split())
    rc, out, err = sw.vqctl(*"add-port br0 vy type=vxlan vni=1 local_ip=192.0.2.1 remote_ip=192.0.2.3".split(),
                            check_rc=False)
    check(rc != 0 and "already has vni 1" in err, "a second port with the same VNI: %r" % err)
    # As an OVS script says it.
    sw.vqctl("add-port", "br0", "vx9", "--", "set", "Interface", "vx9", "type=vxlan", "options:key=9",
             "options:remote_ip=192.0.2.9", "options:local_ip=192.0.2.1", "options:dst_port=8472")
    # Nothing already configured is lost; the switch runs on.
    ports = sw.vqctl("show", fmt="json")["bridges"][0]["ports"]
    check([p["name"] for p in ports] == ["vx", "vx9"] and ports[0]["tos"] == "inherit" and
          ports[1]["vni"] == 9 and ports[1]["remote_ip"] == "192.0.2.9" and ports[1]["dst_port"] == 8472,
          "ports: %s" % ports)
    check(sw.alive(), "the switch died")


def test_vxlan_linux(c):
    tag = str(os.getpid() % 100000)
    ul, v1, v2, vm = (Netns(c, "vqt%s%s" % (n, tag)) for n in ("ul", "v1", "v2", "vm"))
    ul.sh("ip link add name ulbr type bridge && ip link set ulbr up")
    # The switch's underlay port and the VTEPs, all on the underlay bridge.
    veth_into(c, "vqlu" + tag, None, ul, peer="s")
    veth_into(c, "e", v1, ul, peer="v1")
    veth_into(c, "e", v2, ul, peer="v2")
    for p in ("s", "v1", "v2"):
        ul.sh("ip link set %s master ulbr && ip link set %s up" % (p, p))
    no_offloads(ul, "s", "v1", "v2")
    no_offloads(None, "vqlu" + tag)
    linux_vtep(v1, "e", R1, [LOCAL, R2], "10.9.0.2")
    linux_vtep(v2, "e", R2, [LOCAL, R1], "10.9.0.3")
    # The guest: a virtio-user port relayed (testpmd io) to a namespace.
    veth_into(c, "vqlg" + tag, None, vm, peer="g", mtu=1450)
    vm.sh("ip addr add 10.9.0.1/24 dev g && ip link set g up")
    no_offloads(vm, "g")
    no_offloads(None, "vqlg" + tag)
    sw = Switch(c, "tnlnx",
                "add-br br0\nadd-br brphy\n"
                "add-port brphy up0 type=dpdk devargs=net_pcap0,iface=vqlu%s ip=%s/24\n"
                "add-port br0 vm1 type=vhostuser queues=1\n"
                "add-port br0 vx100 type=vxlan vni=%d local_ip=%s remote_ip=%s,%s\n"
                % (tag, LOCAL, VNI, LOCAL, R1, R2))
    relay = TestPmd(c, "tnlvm", [(sw.sock("vm1"), "02:00:00:00:01:01"), "net_pcap1,iface=vqlg" + tag],
                    fwd="io", lcores="0,1", main_lcore=1)
    relay.cmd("start")

    # Broadcast (ARP) and unicast both ways, with each VTEP.
    ping(vm, "10.9.0.2", what="guest to VTEP 1")
    ping(vm, "10.9.0.3", what="guest to VTEP 2")
    ping(v1, "10.9.0.1", what="VTEP 1 to guest")
    ping(v2, "10.9.0.1", what="VTEP 2 to guest")
    # Learned per VTEP: each Linux vxlan device's MAC behind its own remote.
    macs = {}
    for ns, r in ((v1, R1), (v2, R2)):
        macs[r] = ns.sh("cat /sys/class/net/vx/address").stdout.strip()
    fdb = {x["mac"].lower(): x for x in sw.vqctl("fdb/show", "br0", fmt="json")}
    for r, mac in macs.items():
        check(mac in fdb and fdb[mac]["port"] == "vx100" and fdb[mac]["remote"] == r,
              "%s behind %s: %s" % (mac, r, fdb.get(mac)))
    # TCP and UDP both ways.
    iperf(vm, v1, "10.9.0.1", what="VTEP 1 to guest")
    iperf(v1, vm, "10.9.0.2", what="guest to VTEP 1")
    iperf(vm, v2, "10.9.0.1", "-u -b 5M", what="VTEP 2 to guest, UDP")
    iperf(v2, vm, "10.9.0.3", "-u -b 5M", what="guest to VTEP 2, UDP")
    rm = remotes(sw, "vx100")
    for r in (R1, R2):
        check(rm[r]["rx_packets"] > 100 and rm[r]["tx_packets"] > 100, "counters of %s: %s" % (r, rm[r]))

    # What the switch puts on the wire, as tcpdump decodes it.
    cap = "/tmp/vqt-vxlan-%s.pcap" % tag
    c.add(lambda: os.path.exists(cap) and os.unlink(cap))
    dump = ul.popen(["tcpdump", "-i", "s", "-c", "3", "-w", cap, "udp dst port 4789 and src host " + LOCAL])
    time.sleep(1)
    vm.sh("ping -c 3 -i 0.2 10.9.0.2", check_rc=False)
    try:
        dump.wait(10)
    except subprocess.TimeoutExpired:
        dump.kill()
        dump.wait()
    text = subprocess.run(["tcpdump", "-nn", "-v", "-e", "-r", cap], capture_output=True, text=True).stdout
    log(text.splitlines()[0] if text else "no capture")
    check("VXLAN, flags [I] (0x08), vni %d" % VNI in text and "ttl 64" in text and "flags [DF]" in text and
          "%s.4789" % R1 in text and "10.9.0.1 > 10.9.0.2: ICMP echo request" in text,
          "captured encapsulation:\n%s" % text)
    check(sw.alive(), "the switch died")


def test_two_hosts(c):
    """Two vqswitch "hosts": underlay ports on veths (MTU 9000) into one
    bridge, a guest behind each: virtio-user ports of one testpmd that
    relays each to a station namespace."""
    tag = str(os.getpid() % 100000)
    br = "vqtb" + tag
    run(["ip", "link", "add", "name", br, "mtu", "9000", "type", "bridge"])
    c.add(lambda: run(["ip", "link", "del", br], check_rc=False))
    run(["ip", "link", "set", br, "up"])
    hosts, relay_ports = [], []
    for i, (ip, peer, inner) in enumerate(((LOCAL, R1, "10.9.1.1"), (R1, LOCAL, "10.9.1.2"))):
        st = Netns(c, "vqts%d%s" % (i, tag))
        veth_into(c, "vqts%d%s" % (i, tag), None, st, peer="g", mtu=9000)
        st.sh("ip link set g mtu %d && ip addr add %s/24 dev g && ip link set g up" % (9000 - 50, inner))
        no_offloads(st, "g")
        up = "vqtu%d%s" % (i, tag)
        veth_into(c, up, None, None, peer="vqtv%d%s" % (i, tag), mtu=9000)
        run(["ip", "link", "set", "vqtv%d%s" % (i, tag), "master", br, "up"])
        no_offloads(None, "vqts%d%s" % (i, tag), up, "vqtv%d%s" % (i, tag))
        # B restarts below: its guest is the socket server (virtio-user
        # server=1), which B's vhostuserclient port connects to again.
        sock = "/tmp/vqt2h%d_%s.sock" % (i, tag)
        c.add(lambda sock=sock: os.path.exists(sock) and os.unlink(sock))
        sw = Switch(c, "tnl2h%d" % i,
                    "add-br br0\nadd-br brphy\n"
                    "add-port brphy up0 type=dpdk devargs=net_pcap0,iface=%s,phy_mac=1 mtu=9000 ip=%s/24\n"
                    "add-port br0 vm1 type=vhostuserclient path=%s queues=1\n"
                    "add-port br0 vx100 type=vxlan vni=%d local_ip=%s remote_ip=%s\n"
                    % (up, ip, sock, VNI, ip, peer),
                    lcores="0,1" if i == 0 else "0@1,1@0")
        hosts.append((sw, st))
        # testpmd pairs ports 0-1 and 2-3: each guest with its station.
        relay_ports += ["net_virtio_user%d,path=%s,queues=1,mac=02:00:00:00:0%d:01,server=1" % (2 * i, sock, i + 1),
                        "net_pcap%d,iface=vqts%d%s" % (2 * i + 1, i, tag)]
    # Mbufs that hold a jumbo frame whole: net_pcap cannot scatter.
    relay = TestPmd(c, "tnl2hvm", relay_ports, fwd="io", lcores="0,1", main_lcore=1,
                    extra=["--mbuf-size=10240", "--max-pkt-len=9600", "--total-num-mbufs=4096"])
    relay.cmd("start")
    (a, sa), (b, sb) = hosts
    ping(sa, "10.9.1.2", what="A to B")
    ping(sb, "10.9.1.1", what="B to A")
    iperf(sb, sa, "10.9.1.2", what="A to B, TCP")
    # Jumbo within the tunnel's MTU (the underlay's 9000 less 50), not fragmented.
    ping(sa, "10.9.1.2", size=9000 - 50 - 28, what="jumbo A to B")
    ping(sb, "10.9.1.1", size=9000 - 50 - 28, what="jumbo B to A")
    check(drops(a, "vx100")["tnl_too_big"] == 0, "jumbo within the MTU counted too big")

    # B restarts with nothing resolved (its guest reconnects): it asks for A
    # again by itself.
    check(b.stop() == 0, "B did not stop cleanly")
    b.start()
    ping(sa, "10.9.1.2", what="A to B after B restarted")
    ping(sb, "10.9.1.1", what="B to A after B restarted")
    for sw, peer in ((a, R1), (b, LOCAL)):
        neigh = {n["ip"]: n for n in sw.vqctl("tnl/neigh-show", fmt="json")}
        check(neigh[peer]["state"] == "reachable", "neighbour %s: %s" % (peer, neigh[peer]))
    check(a.alive() and b.alive(), "a switch died")


if __name__ == "__main__":
    raise SystemExit(main([test_vxlan_packets, test_vxlan_checksum_offload, test_vxlan_config_errors,
                           test_vxlan_linux, test_two_hosts]))
