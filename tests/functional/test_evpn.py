#!/usr/bin/env python3
"""BGP EVPN through FRR (docs/evpn.md): vqswitch "hosts" in network
namespaces, each with its own FRR, on one fabric; the kernel entries FRR
works with; interop with a plain Linux VTEP."""
import os
import time

from frr import Fabric, Frr, fdb, linux_vtep, netns, remote_macs, sh, vtep_routes
from vqguest import Guest
from vqtest import Switch, check, log, main, run, wait_for

VNI = 100
A, B, C = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:0c:01"
NOBODY = "02:00:00:00:ee:ee"
BCAST = "ff:ff:ff:ff:ff:ff"
ZERO = "00:00:00:00:00:00"


def vtep(n):
    return "192.0.2.%d" % n


def tag():
    return str(os.getpid() % 100000)


class Host:
    """A hypervisor in namespace hN: a BGP address on the fabric
    (10.0.0.N), vqswitch with its underlay port on a second fabric veth
    (VTEP 192.0.2.N, no kernel address), tunnel vx100 with evpn=on and
    vhost ports vm1 and vm2, and FRR (h1's is the route reflector that
    takes any host of 10.0.0.0/24)."""

    def __init__(self, c, fab, n, vm_ns=None):
        """vm_ns: a namespace whose eth0 is vm1 (a kernel "VM" on a dpdk
        port) in place of the vhost ports."""
        self.c, self.n = c, n
        self.ns = netns(c, "vqe%sh%d" % (tag(), n))
        fab.attach(self.ns, "mg", "10.0.0.%d/24" % n)
        fab.attach(self.ns, "ul")
        vm = "add-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n"
        if vm_ns:
            run(["ip", "link", "add", "vm", "netns", self.ns, "type", "veth", "peer", "name", "eth0",
                 "netns", vm_ns])
            sh(self.ns, "ip link set vm up && ethtool -K vm tso off gso off gro off tx off")
            vm = "add-port br0 vm1 type=dpdk devargs=net_pcap1,iface=vm,phy_mac=1\n"
        # Frames no longer than the MTU through the packet sockets.
        sh(self.ns, "ethtool -K ul tso off gso off gro off tx off")
        vtep_routes(self.ns)
        # PMDs nap when idle: several switches and FRRs share two CPUs.
        self.sw = Switch(c, "evpn%d" % n,
                         "add-br br0\nadd-br brphy\n"
                         "add-port brphy up0 type=dpdk devargs=net_pcap0,iface=ul,phy_mac=1 ip=%s/24\n"
                         "%sadd-port br0 vx100 type=vxlan vni=%d local_ip=%s evpn=on\n"
                         % (vtep(n), vm, VNI, vtep(n)),
                         netns=self.ns, args=["--pmd-sleep=1"])
        self.frr = Frr(c, self.ns, "10.0.0.%d" % n,
                       **({"listen": "10.0.0.0/24"} if n == 1 else {"neighbors": ["10.0.0.1"]}))

    def guest(self, port, mac):
        g = Guest(self.c, self.sw.sock(port), mac)
        self.sw.wait_port_state(port, "up")
        g.rxpost(256)
        return g

    def evpn(self):
        return self.sw.vqctl("evpn/show", "vx100", fmt="json")[0]

    def remote_macs(self):
        """{MAC: VTEP} the switch imported."""
        return {m["mac"].lower(): m["vtep"] for m in self.evpn()["remote_macs"]}

    def remotes(self):
        """{ip: tnl/show's remote} of vx100."""
        return {r["ip"]: r for r in self.sw.vqctl("tnl/show", "vx100", fmt="json")[0]["remotes"]}

    def resolved(self, ip):
        return any(n["ip"] == ip and n["state"] == "reachable"
                   for n in self.sw.vqctl("tnl/neigh-show", fmt="json"))

    def flooded(self):
        return sum(r["tx_flooded"] for r in self.remotes().values())

    def fdb(self):
        """{MAC: (port, remote, evpn)} of br0."""
        return {e["mac"].lower(): (e["port"], e["remote"], e["evpn"])
                for e in self.sw.vqctl("fdb/show", "br0", fmt="json")}

    def devices(self):
        """The shadow's devices (prefix vqe)."""
        names = (l.split(":")[1].strip().split("@")[0] for l in sh(self.ns, "ip -o link show").splitlines())
        return sorted(n for n in names if n.startswith("vqe"))


def received(g, want, timeout, resend=None):
    """Waits until guest g has received want test frames more (resend():
    called every 100 ms meanwhile); the count."""
    got = {"frames": 0}

    def more():
        if resend:
            resend()
        x = g.rx()
        got["frames"] += x["frames"]
        if x["used"]:
            g.rxpost(x["used"])
        return got["frames"] >= want

    wait_for(more, timeout, 0.1)
    return got["frames"]


def exchange(g1, g2, n, what, hosts=()):
    """n frames each way between two guests, every one arriving (hosts:
    whose tunnels and MAC tables to show if not)."""
    for g in (g1, g2):  # frames of earlier steps still on their way
        received(g, 10 ** 6, 0.5)
    for src, dst in ((g1, g2), (g2, g1)):
        src.tx(dst.mac, n=n)
        got = received(dst, n, 10)
        check(got == n, "%s: %d of %d frames from %s reached %s; %s" %
              (what, got, n, src.mac, dst.mac,
               ["h%d: %s %s %s" % (h.n, h.sw.vqctl("tnl/show", fmt="json"), h.fdb(),
                                   h.sw.vqctl("tnl/neigh-show", fmt="json")) for h in hosts]))
        src.txdone()


def test_evpn_hosts(c):
    """Two hosts, no remote_ip anywhere: once BGP is up, each switch has
    the other's guest MAC behind the right VTEP (and FRR lists both), and
    unicast between the guests floods nothing to the underlay. A third
    host joins and gets broadcasts without touching the others; a guest
    moves and traffic follows; a deleted port's MAC is withdrawn remotely;
    FRR restarting on a host does not stop traffic; a restarted switch
    makes its devices anew, and del-port leaves none behind."""
    fab = Fabric(c, "vqe%sfab" % tag())
    h1, h2 = Host(c, fab, 1), Host(c, fab, 2)
    h1.frr.wait_established(1)
    ga, gb = h1.guest("vm1", A), h2.guest("vm1", B)
    # Each guest's first frame: learned by its own switch, exported.
    ga.tx(NOBODY)
    gb.tx(NOBODY)
    check(wait_for(lambda: h1.remote_macs().get(B) == vtep(2) and h2.remote_macs().get(A) == vtep(1), 60, 0.2),
          "MACs not imported: h1 %s, h2 %s" % (h1.evpn(), h2.evpn()))
    check(h1.fdb()[B] == ("vx100", vtep(2), True) and h2.fdb()[A] == ("vx100", vtep(1), True),
          "MAC tables: h1 %s, h2 %s" % (h1.fdb(), h2.fdb()))
    for h, local, remote in ((h1, A, B), (h2, B, A)):
        macs = h.frr.evpn_macs(VNI)
        check(macs.get(local, {}).get("type") == "local" and macs.get(remote, {}).get("type") == "remote",
              "h%d's FRR: %s" % (h.n, macs))
        check(h.remotes()[vtep(3 - h.n)]["from"] == "evpn", "h%d's remotes: %s" % (h.n, h.remotes()))
    # A tunnel drops frames while it asks the underlay for a remote's MAC:
    # resolved first (a frame each way starts it).
    for h, g, dst, peer in ((h1, ga, B, 2), (h2, gb, A, 1)):
        check(wait_for(lambda: g.tx(dst) and h.resolved(vtep(peer)), 30, 0.2),
              "h%d: %s unresolved: %s" % (h.n, vtep(peer), h.sw.vqctl("tnl/neigh-show", fmt="json")))
        g.txdone()
    received(ga, 1000, 1)
    received(gb, 1000, 1)
    # The first exchange is done (BGP told both sides): none flooded.
    flooded = h1.flooded(), h2.flooded()
    exchange(ga, gb, 50, "A and B", (h1, h2))
    check((h1.flooded(), h2.flooded()) == flooded, "frames flooded after EVPN: before %s, after %s" %
          (flooded, (h1.flooded(), h2.flooded())))
    check(h1.remotes()[vtep(2)]["tx_packets"] >= 50, "h1's tunnel: %s" % h1.remotes())

    # A third host: its broadcast reaches both, nobody reconfigured.
    h3 = Host(c, fab, 3)
    gc = h3.guest("vm1", C)
    for g in (ga, gb):
        got = received(g, 1, 60, resend=lambda: gc.tx(BCAST))
        check(got >= 1, "h3's broadcast did not reach %s: h1 %s, h3 %s" % (g.mac, h1.remotes(), h3.remotes()))
    check(h1.remotes()[vtep(3)]["from"] == "evpn", "h1's remotes: %s" % h1.remotes())
    # And the others' broadcasts reach it.
    got = received(gc, 1, 60, resend=lambda: ga.tx(BCAST))
    check(got >= 1, "h1's broadcast did not reach h3: %s" % h3.remotes())
    ga.txdone()
    gc.txdone()
    for g in (ga, gb):  # the rest of the broadcasts
        received(g, 1000, 1)

    # B moves to h3 (a migrated VM announces itself), traffic follows.
    gb.disconnect()
    gb3 = h3.guest("vm2", B)
    gb3.tx(BCAST)
    start = time.time()
    got = received(gb3, 1, 30, resend=lambda: ga.tx(B))
    took = time.time() - start
    log("B moved from h2 to h3: A's frames reached it after %.2f s" % took)
    # About a second at most here (0.4 s on a quiet machine); the bound
    # leaves room for a loaded one.
    check(got >= 1 and took < 10, "A's frames did not follow B to h3 (%.1f s): h1 %s" % (took, h1.evpn()))
    check(wait_for(lambda: h1.remote_macs().get(B) == vtep(3), 30, 0.2), "h1: B %s" % h1.remote_macs())
    # The host B left has B behind h3 too, and does not give it back as
    # its own (its learned entry would be exported over FRR's newer one,
    # and the two hosts would take B from each other).
    check(wait_for(lambda: h2.remote_macs().get(B) == vtep(3), 30, 0.2), "h2: B %s" % h2.remote_macs())
    time.sleep(1)
    check(h2.remote_macs().get(B) == vtep(3) and B not in [m.lower() for m in h2.evpn()["local_macs"]] and
          h3.frr.evpn_macs(VNI).get(B, {}).get("type") == "local",
          "B went back to h2: h2 %s, h3's FRR %s" % (h2.evpn(), h3.frr.evpn_macs(VNI).get(B)))
    ga.txdone()

    # B's port deleted on h3: withdrawn on h1.
    h3.sw.vqctl("del-port", "vm2")
    check(wait_for(lambda: B not in h1.remote_macs() and B not in h1.fdb(), 30, 0.2),
          "B not withdrawn from h1: %s %s" % (h1.remote_macs(), h1.fdb()))

    # FRR restarts on h3: zebra removes what it installed, h1 loses h3's
    # routes; the switches keep the VTEPs and MACs meanwhile.
    exchange(ga, gc, 10, "A and C")
    h3.frr.stop()
    check(wait_for(lambda: remote_macs(h3.ns, "vqe100v") == {}, 30, 0.2), "zebra on h3 left its entries")
    exchange(ga, gc, 10, "A and C while h3's FRR is down")
    h3.frr.start()
    check(wait_for(lambda: h1.remote_macs().get(C) == vtep(3) and h3.remote_macs().get(A) == vtep(1) and
                   A in remote_macs(h3.ns, "vqe100v"), 60, 0.2),
          "not synced after h3's FRR restarted: h1 %s, h3 %s" % (h1.evpn(), h3.evpn()))
    exchange(ga, gc, 10, "A and C after h3's FRR restarted")

    # h2's switch restarts: its devices go and come again (the guest
    # comes back and is found again).
    check(h2.sw.stop() == 0, "h2 did not stop cleanly")
    check(h2.devices() == [], "devices left by an orderly exit: %s" % h2.devices())
    h2.sw.start()
    check("vqswitch evpn shadow of port vx100 of " in sh(h2.ns, "ip -d link show vqe100v"),
          "devices not made again: %s" % h2.devices())
    gb.connect()
    h2.sw.wait_port_state("vm1", "up")
    gb.rxpost(256)
    gb.tx(NOBODY)
    check(wait_for(lambda: h1.remote_macs().get(B) == vtep(2), 60, 0.2), "B again on h1: %s" % h1.evpn())
    exchange(ga, gb, 10, "A and B after h2's switch restarted")
    h2.sw.vqctl("del-port", "vx100")
    check(h2.devices() == [], "left behind after del-port: %s" % h2.devices())
    for h in (h1, h3):
        check(h.evpn()["errors"] == 0, "h%d: %s" % (h.n, h.evpn()))
    check(all(h.sw.alive() for h in (h1, h2, h3)), "a switch died")


def ping(ns, ip, what):
    """Answered within 60 s (ARP first), then five echoes in a row, each
    waited for up to 5 s (a loaded machine)."""
    ok = lambda: " 0% packet loss" in sh(ns, "ping -c 1 -W 1 %s" % ip, check_rc=False)
    check(wait_for(ok, 60, 0.2), "%s: no answer from %s" % (what, ip))
    for _ in range(5):
        check(" 0% packet loss" in sh(ns, "ping -c 1 -W 5 %s" % ip, check_rc=False), "%s: an echo lost" % what)


def test_evpn_linux_vtep(c):
    """Interop: vqswitch host h1 (its "VM" a namespace on a dpdk port) and
    a plain Linux VTEP h4 (kernel bridge and vxlan that learn nothing, its
    own FRR, a VM namespace behind it): the VMs ping each other, ARP
    flooded through the type-3 routes, unicast to the MACs BGP carried,
    each side with the other's MAC behind the right VTEP."""
    fab = Fabric(c, "vqe%sfab" % tag())
    va, v4 = netns(c, "vqe%sva" % tag()), netns(c, "vqe%sv4" % tag())
    h1 = Host(c, fab, 1, vm_ns=va)
    h4 = netns(c, "vqe%sh4" % tag())
    fab.attach(h4, "mg", "10.0.0.4/24")
    fab.attach(h4, "ul")
    run(["ip", "link", "add", "vm", "netns", h4, "type", "veth", "peer", "name", "eth0", "netns", v4])
    mac_a, mac_4 = "02:00:00:00:01:01", "02:00:00:00:04:01"
    for ns, mac, ip in ((va, mac_a, "10.100.0.1"), (v4, mac_4, "10.100.0.4")):
        sh(ns, "ip link set eth0 address %s && ip addr add %s/24 dev eth0 && ip link set eth0 up && "
               "ethtool -K eth0 tso off gso off gro off tx off" % (mac, ip))
    linux_vtep(h4, VNI, "%s/24" % vtep(4), "ul", ports=["vm"])
    Frr(c, h4, "10.0.0.4", neighbors=["10.0.0.1"]).wait_established(1)
    ping(va, "10.100.0.4", "the vqswitch host's VM to the Linux VTEP's")
    ping(v4, "10.100.0.1", "the Linux VTEP's VM to the vqswitch host's")
    check(wait_for(lambda: h1.remote_macs().get(mac_4) == vtep(4) and
                   remote_macs(h4, "vx%d" % VNI).get(mac_a) == vtep(1), 30, 0.2),
          "MACs: h1 %s, h4 %s" % (h1.evpn(), fdb(h4, "vx%d" % VNI)))
    check(h1.remotes()[vtep(4)]["from"] == "evpn" and h1.evpn()["errors"] == 0, "h1: %s" % h1.evpn())


def test_evpn_kernel(c):
    """Without FRR: the switch's side of the kernel FDB, with this test in
    zebra's place. Local MACs become static entries on the local port; the
    entries zebra would install become remotes and MAC entries (a MAC
    moves between VTEPs, is withdrawn at once, moves to a local port when
    its VM sends from there); a VTEP gone from the kernel is held. Devices
    of the switch's names that it did not make are refused and untouched;
    a bad or clashing evpn port changes nothing; a restart makes the
    devices anew; del-port removes them all."""
    ns = netns(c, "vqe%sk" % tag())
    sh(ns, "ip link add vqe200b type bridge")  # the operator's
    sw = Switch(c, "evpnk", "add-br br0\nadd-br br2\n"
                            "add-port br0 vm1 type=vhostuser\nadd-port br0 vm2 type=vhostuser\n"
                            "add-port br0 vx100 type=vxlan vni=100 local_ip=192.0.2.1 evpn=on\n",
                netns=ns, args=["--enable-debug-commands"])
    h = Host.__new__(Host)  # its queries, on this switch
    h.sw, h.ns, h.n = sw, ns, 0
    for args, why in ((("br2", "vx200", "vni=200"), "device vqe200b exists and this vqswitch did not make it"),
                      (("br2", "vx101", "vni=100"), "port vx100 has vni 100"),
                      (("br0", "vx300", "vni=300"), "bridge br0's VLAN 0")):
        rc, _, err = sw.vqctl("add-port", args[0], args[1], "type=vxlan", args[2], "local_ip=192.0.2.9",
                              "evpn=on", check_rc=False)
        check(rc != 0 and why in err, "%s: %s" % (args[1], err))
    rc, _, err = sw.vqctl("set", "port", "vx100", "vni=101", check_rc=False)
    check(rc != 0 and "del-port and add-port" in err, "vni changed: %s" % err)
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["vm1", "vm2", "vx100"] and
          sw.vqctl("list-ports", "br2", fmt="json") == [], "ports changed")
    check(h.devices() == ["vqe100b", "vqe100d", "vqe100p", "vqe100v", "vqe200b"], "devices: %s" % h.devices())

    g = Guest(c, sw.sock("vm1"), A)
    sw.wait_port_state("vm1", "up")
    g.tx(NOBODY)
    exported = lambda: {e["mac"] for e in fdb(ns, "vqe100d") if e.get("state") == "static" and "master" in e}
    check(wait_for(lambda: exported() == {A}, 10, 0.1), "A not exported: %s" % fdb(ns, "vqe100d"))

    D = "02:00:00:00:0d:01"

    def install(mac, vtep_ip):  # as zebra does (replace: it may move)
        sh(ns, "bridge fdb replace %s dev vqe100v dst %s self extern_learn && "
               "bridge fdb replace %s dev vqe100v master extern_learn" % (mac, vtep_ip, mac))

    for ip in ("192.0.2.9", "192.0.2.8"):  # type 3
        sh(ns, "bridge fdb append 00:00:00:00:00:00 dev vqe100v dst %s" % ip)
    install(D, "192.0.2.9")
    check(wait_for(lambda: h.fdb().get(D) == ("vx100", "192.0.2.9", True), 10, 0.1), "D: %s" % h.fdb())
    check(h.remotes()["192.0.2.9"]["from"] == "evpn", "remotes: %s" % h.remotes())
    install(D, "192.0.2.8")
    check(wait_for(lambda: h.fdb().get(D) == ("vx100", "192.0.2.8", True), 10, 0.1), "D moved: %s" % h.fdb())
    sh(ns, "bridge fdb del %s dev vqe100v master && bridge fdb del %s dev vqe100v self" % (D, D))
    check(wait_for(lambda: D not in h.fdb(), 10, 0.1), "D withdrawn: %s" % h.fdb())
    # A VTEP gone from the kernel is held (FRR restarting), with its MACs.
    install(D, "192.0.2.8")
    check(wait_for(lambda: D in h.fdb(), 10, 0.1), "D again: %s" % h.fdb())
    sh(ns, "bridge fdb del %s dev vqe100v master && bridge fdb del %s dev vqe100v self && "
           "bridge fdb del 00:00:00:00:00:00 dev vqe100v dst 192.0.2.8" % (D, D))
    time.sleep(1)
    check(set(h.remotes()) == {"192.0.2.8", "192.0.2.9"} and h.fdb().get(D) == ("vx100", "192.0.2.8", True),
          "not held: %s %s" % (h.remotes(), h.fdb()))
    # D comes back behind 192.0.2.9, then its VM sends from vm2.
    install(D, "192.0.2.9")
    check(wait_for(lambda: h.fdb().get(D) == ("vx100", "192.0.2.9", True), 10, 0.1), "D back: %s" % h.fdb())
    gd = Guest(c, sw.sock("vm2"), D)
    sw.wait_port_state("vm2", "up")
    gd.tx(NOBODY)
    check(wait_for(lambda: h.fdb().get(D) == ("vm2", "", False) and exported() == {A, D}, 10, 0.1),
          "D moved here: %s, exported %s" % (h.fdb(), exported()))
    check(h.evpn()["errors"] == 0, "errors: %s" % h.evpn())

    # What anyone sends to the shadow vxlan device's UDP port (it listens
    # on every address) reaches nothing: A's entry stays ours, nothing is
    # learned, the shadow has no IPv6 to configure.
    x = netns(c, "vqe%sx" % tag())
    run(["ip", "link", "add", "inj", "netns", ns, "type", "veth", "peer", "name", "inj", "netns", x])
    sh(ns, "ip addr add 10.77.0.1/24 dev inj && ip link set inj up")
    sh(x, "ip addr add 10.77.0.2/24 dev inj && ip link set inj up")
    inner = bytes.fromhex("ffffffffffff" + A.replace(":", "") + "0800") + bytes(46)
    sh(x, "python3 -c \"import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
          "[s.sendto(bytes.fromhex('%s'), ('10.77.0.1', %d)) for _ in range(20)]\""
       % ("0800000000006400" + inner.hex(), 47889))
    time.sleep(1)
    check(exported() >= {A} and [e for e in fdb(ns, "vqe100v") if e["mac"] == A.lower()] == [],
          "a frame sent to the shadow moved A: %s %s" % (fdb(ns, "vqe100d"), fdb(ns, "vqe100v")))
    check("inet6" not in sh(ns, "ip -6 addr show dev vqe100b; ip -6 addr show dev vqe100p"), "IPv6 on the shadow")

    # The port's VLAN changes: EVPN's entries move with it.
    sw.vqctl("set", "port", "vx100", "tag=7")
    sw.vqctl("set", "port", "vm1", "tag=7")
    E = "02:00:00:00:0e:01"
    install(E, "192.0.2.9")
    vlans = lambda: {e["mac"].lower(): e["vlan"] for e in sw.vqctl("fdb/show", "br0", fmt="json")}
    check(wait_for(lambda: vlans().get(E) == 7, 10, 0.1), "E not in VLAN 7: %s" % vlans())
    g.tx(NOBODY)
    check(wait_for(lambda: exported() == {A}, 10, 0.1), "exported in VLAN 7: %s" % exported())
    # New settings (remote_ip): the port is made anew, the shadow goes on;
    # and if the new port cannot be published, the old one keeps it.
    before = sh(ns, "ip -o link show vqe100v").split(":")[0]
    sw.vqctl("set", "port", "vx100", "remote_ip=192.0.2.7")
    check(wait_for(lambda: h.fdb().get(E) == ("vx100", "192.0.2.9", True), 10, 0.1), "E after: %s" % h.fdb())
    sw.vqctl("debug/fail-publish", "1")
    rc, _, err = sw.vqctl("set", "port", "vx100", "remote_ip=192.0.2.6", check_rc=False)
    check(rc != 0, "a failed publish: %s" % err)
    check(sh(ns, "ip -o link show vqe100v").split(":")[0] == before, "the shadow did not go on")
    # A device removed by someone is made again.
    sh(ns, "ip link del vqe100d")
    check(wait_for(lambda: len(h.devices()) == 5, 15, 0.2), "not made again: %s" % h.devices())
    check(wait_for(lambda: A in exported(), 10, 0.1), "A not exported again: %s" % fdb(ns, "vqe100d"))
    # An orderly exit removes the devices; the next start makes them.
    check(sw.stop() == 0, "exit code")
    check(h.devices() == ["vqe200b"], "left at exit: %s" % h.devices())
    sw.start()
    check(h.devices() == ["vqe100b", "vqe100d", "vqe100p", "vqe100v", "vqe200b"], "after the start: %s" % h.devices())
    sw.vqctl("del-port", "vx100")
    check(h.devices() == ["vqe200b"], "after del-port: %s" % h.devices())
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    raise SystemExit(main([test_evpn_kernel, test_evpn_hosts, test_evpn_linux_vtep]))
