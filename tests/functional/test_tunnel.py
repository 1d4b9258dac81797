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
into a shared underlay bridge and a station behind it: ping, TCP, jumbo
within the tunnel MTU, and a restart of one of them (its neighbours are
resolved again without any command).
"""
import json
import os
import select
import socket
import struct
import subprocess
import time

from vqtest import (ETH_P_ALL, PACKET_OUTGOING, Switch, TestPmd, Veth, check, frame, log, main, run,
                    wait_for)

VNI = 100
LOCAL, R1, R2 = "192.0.2.10", "192.0.2.20", "192.0.2.30"
R1_MAC, R2_MAC = "02:00:00:00:20:01", "02:00:00:00:30:01"
INNER_A, INNER_B = "02:00:00:00:aa:01", "02:00:00:00:bb:01"
BCAST = "ff:ff:ff:ff:ff:ff"


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


def underlay_frames(veth, timeout=1.0):
    """Frames the switch sent on the underlay (seen on the peer end)."""
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
    # Nothing already configured is lost; the switch runs on.
    ports = sw.vqctl("show", fmt="json")["bridges"][0]["ports"]
    check([p["name"] for p in ports] == ["vx"] and ports[0]["tos"] == "inherit", "ports: %s" % ports)
    check(sw.alive(), "the switch died")


if __name__ == "__main__":
    raise SystemExit(main([test_vxlan_packets, test_vxlan_config_errors]))
