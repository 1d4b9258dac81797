#!/usr/bin/env python3
"""FRR (Debian's frr 8.4: zebra + bgpd) in network namespaces, for tests
of BGP EVPN (L2 VNIs: type-2 and type-3 routes), and the kernel recipes
zebra works with.

Each Frr is one router in one namespace: its own config, pid files, logs
and sockets in a temp directory (no /etc/frr, no /var/run/frr), so any
number run side by side. zebra reads and writes the EVPN state in its
namespace's kernel (fdb entries of bridges and vxlan devices); bgpd
speaks BGP over the namespace's own addresses.

The recipes:
- shadow(): one VNI as vqswitch mirrors it to the kernel: a bridge, a
  vxlan device that carries no traffic (its `local` is the switch's VTEP
  IP, which need not be a kernel address) and a stand-in port on which
  local MACs are static fdb entries. zebra advertises those and installs
  the remote ones on the vxlan device.
- vtep_routes(): what a shadow host needs to accept remote routes: bgpd
  only uses routes whose next hop (the remote VTEP IP) zebra can resolve;
  a blackhole route resolves it and the kernel never sends to it (the
  VTEP IPs belong to DPDK ports, which answer ARP for them themselves).
- linux_vtep(): a plain Linux VTEP that carries traffic, for a peer that
  is not vqswitch.
- Fabric: an L2 underlay, a bridge in its own namespace.

What zebra does in the kernel (frr 8.4, seen here on Linux 6.18):
- A local MAC is a bridge fdb entry on a bridge port that is not the
  vxlan device, in any state but NUD_PERMANENT (`bridge fdb add` without
  static/dynamic: ignored). Static (NUD_NOARP) is the one that neither
  ages nor is sticky: mobility works both ways (NTF_STICKY would refuse
  it). Over a remote entry it takes NLM_F_REPLACE (`bridge fdb replace`).
- A remote MAC: one RTM_NEWNEIGH, AF_BRIDGE, on the vxlan device,
  NTF_SELF|NTF_MASTER|NTF_EXT_LEARNED, NUD_REACHABLE, NDA_DST the VTEP,
  NDA_MASTER the bridge: two entries, the bridge's (on the vxlan port)
  and the vxlan device's (with dst). A remote VTEP (type-3): the vxlan
  device's 00:00:00:00:00:00 entry with NDA_DST, NTF_SELF,
  NUD_NOARP|NUD_PERMANENT, appended.
- When a MAC moves here, zebra leaves the vxlan device's entry of it
  behind (remote_macs() reads past it).

Run as a script, it tests these recipes with plain Linux hosts: MACs
exported and imported, mobility, a host that joins later, a restart, a
Linux VTEP with traffic.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from vqtest import TEST_LOGS, TestFailure, check, log, main, run, wait_for

FRR_DIR = "/usr/lib/frr"
json_loads = json.loads  # Frr.vtysh()'s argument json hides the module
ZERO_MAC = "00:00:00:00:00:00"


def _name(ns):
    """A namespace given by name or as an object with .name (test_tunnel's
    Netns); None: the root namespace."""
    return ns if ns is None or isinstance(ns, str) else ns.name


def _in(ns, argv):
    return argv if ns is None else ["ip", "netns", "exec", ns] + argv


def sh(ns, cmd, check_rc=True):
    """A shell command in namespace ns; its output."""
    r = subprocess.run(_in(_name(ns), ["sh", "-c", cmd]), capture_output=True, text=True, timeout=120)
    check(not check_rc or r.returncode == 0, "%s in %s: %s%s" % (cmd, _name(ns), r.stdout, r.stderr))
    return r.stdout


def netns(cleanup, name):
    """A new namespace (a leftover of the same name goes first), gone with
    the test; no IPv6 (no autoconfiguration chatter on any link)."""
    run(["ip", "netns", "del", name], check_rc=False)
    run(["ip", "netns", "add", name])
    cleanup.add(lambda: run(["ip", "netns", "del", name], check_rc=False))
    sh(name, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1; "
             "ip link set lo up")
    return name


class Fabric:
    """The underlay: one bridge in its own namespace, each host a veth
    into it."""

    def __init__(self, cleanup, name):
        self.cleanup, self.ns, self.ports = cleanup, netns(cleanup, name), 0
        sh(self.ns, "ip link add fab type bridge && ip link set fab up")

    def attach(self, ns, ifname, addr=None):
        """A veth: ifname in ns (None: the root namespace, e.g. a DPDK
        port's net_pcap veth; it goes with the test), its peer on the
        fabric bridge; addr (e.g. "10.0.0.1/24") on ifname."""
        ns = _name(ns)
        self.ports += 1
        peer = "p%d" % self.ports
        if ns is None:
            run(["ip", "link", "del", ifname], check_rc=False)
            self.cleanup.add(lambda: run(["ip", "link", "del", ifname], check_rc=False))
        run(["ip", "link", "add", ifname] + (["netns", ns] if ns else []) +
            ["type", "veth", "peer", "name", peer, "netns", self.ns])
        if ns is None:
            run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ifname], check_rc=False)
        sh(self.ns, "ip link set %s master fab up" % peer)
        sh(ns, "ip link set %s up" % ifname + (" && ip addr add %s dev %s" % (addr, ifname) if addr else ""))


def shadow(ns, vni, vtep_ip, prefix="vqe", dstport=47890):
    """One VNI's kernel shadow, as vqswitch makes it: bridge <prefix><vni>br
    with vxlan device ...vx (id vni, local vtep_ip, an unused port: the
    switch carries the traffic) and a stand-in port ...d for the switch's
    local MACs. Returns (bridge, vxlan, port)."""
    br, vx, port = ("%s%d%s" % (prefix, vni, s) for s in ("br", "vx", "d"))
    sh(ns, "ip link add %s type bridge && "
           "ip link add %s type vxlan id %d local %s dstport %d nolearning" % (br, vx, vni, vtep_ip, dstport))
    # A dummy port; this kernel may lack dummy devices (CONFIG_DUMMY):
    # ifb is a port zebra treats the same (an always-up Ethernet device).
    if subprocess.run(_in(_name(ns), ["ip", "link", "add", port, "type", "dummy"]),
                      capture_output=True).returncode != 0:
        sh(ns, "ip link add %s type ifb" % port)
    for d in (br, vx, port):
        # The kernel originates nothing into the bridge (IPv6 would: the
        # bridge floods it to every remote VTEP through the vxlan device).
        sh(ns, "sysctl -qw net.ipv6.conf.%s.disable_ipv6=1" % d, check_rc=False)
    sh(ns, "ip link set %s master %s && ip link set %s master %s && "
           "ip link set %s up && ip link set %s up && ip link set %s up" % (vx, br, port, br, br, vx, port))
    return br, vx, port


def vtep_routes(ns, net="192.0.2.0/24"):
    """Remote VTEPs in net resolvable for zebra's next hop tracking,
    without the kernel ever sending to them or answering ARP for them."""
    sh(ns, "ip route add blackhole %s" % net)


def linux_vtep(ns, vni, vtep_ip, dev, ports=(), dstport=4789):
    """A plain Linux VTEP that carries traffic: vtep_ip (with its prefix,
    e.g. "192.0.2.4/24") on the underlay dev, so the other VTEPs are
    connected (next hops resolved, ARP both ways); bridge br<vni>, vxlan
    vx<vni> without learning (zebra installs the remote MACs), the ports
    given (already in ns) as the local side, whose learned MACs zebra
    advertises. Returns (bridge, vxlan)."""
    br, vx = "br%d" % vni, "vx%d" % vni
    sh(ns, "ip addr add %s dev %s && ip link set %s up && ip link add %s type bridge && "
           "ip link add %s type vxlan id %d local %s dstport %d nolearning && "
           "ip link set %s master %s && bridge link set dev %s learning off"
       % (vtep_ip, dev, dev, br, vx, vni, vtep_ip.split("/")[0], dstport, vx, br, vx))
    for p in ports:
        sh(ns, "ip link set %s master %s && ip link set %s up" % (p, br, p))
    sh(ns, "ip link set %s up && ip link set %s up" % (br, vx))
    return br, vx


def fdb(ns, dev):
    """The fdb entries on dev (`bridge -j fdb show`): the bridge's
    ("master" set) and the vxlan device's own ("self", with "dst")."""
    return json.loads(sh(ns, "bridge -j fdb show dev %s" % dev) or "[]")


def remote_macs(ns, vxlan):
    """{mac: VTEP IP} of the MACs zebra installed as remote on vxlan: the
    bridge's entry is on vxlan, learned externally, and vxlan's own entry
    names the VTEP. vxlan's own entries alone do not tell: zebra leaves
    them behind when a MAC it had as remote becomes local."""
    entries = fdb(ns, vxlan)
    dst = {e["mac"]: e["dst"] for e in entries if "dst" in e and e["mac"] != ZERO_MAC}
    return {e["mac"]: dst[e["mac"]] for e in entries
            if "master" in e and "extern_learn" in e.get("flags", []) and e["mac"] in dst}


def remote_vteps(ns, vxlan):
    """The VTEPs that flooding goes to (type-3 routes): vxlan's all-zeros entries."""
    return {e["dst"] for e in fdb(ns, vxlan) if e["mac"] == ZERO_MAC and "dst" in e}


def wait_until(cond, what, timeout=60):
    """Polls cond until true; the seconds it took (timings to log)."""
    start = time.time()
    if not wait_for(cond, timeout, 0.05):
        raise TestFailure("%s: not after %ss" % (what, timeout))
    return time.time() - start


class Frr:
    """zebra and bgpd in namespace ns. neighbors: addresses to peer with
    (iBGP, AS asn); listen: a prefix (e.g. "10.0.0.0/24") from which this
    router accepts any peer as a route-reflector client, so hosts can join
    later without touching anyone's config. Both L2VPN EVPN only, with
    advertise-all-vni: zebra takes every vxlan device in ns as a VNI."""

    def __init__(self, cleanup, ns, router_id, asn=65000, neighbors=(), listen=None, evpn=(), debug=False,
                 start=True):
        """evpn: more lines for `address-family l2vpn evpn` (e.g. "dup-addr-detection max-moves 20 time
        10"). debug: zebra and bgpd log their EVPN and kernel work."""
        self.ns, self.name = _name(ns), "frr-%s" % _name(ns)
        self.dir = tempfile.mkdtemp(prefix="vqt-frr-%s-" % self.ns)
        # The daemons run as user frr (root is not in the vty group frrvty
        # that they are built with, so -u root fails): it owns the directory.
        frr = pwd.getpwnam("frr")
        os.chown(self.dir, frr.pw_uid, frr.pw_gid)
        group = ["neighbor fabric peer-group", "neighbor fabric remote-as %d" % asn,
                 # The first connection may fail (the peer not started yet);
                 # the next attempt comes after 120 s by default.
                 "neighbor fabric timers connect 1"]
        group += ["neighbor %s peer-group fabric" % n for n in neighbors]
        if listen:
            group.append("bgp listen range %s peer-group fabric" % listen)
        af = ["neighbor fabric activate", "advertise-all-vni"] + list(evpn)
        if listen:
            af.append("neighbor fabric route-reflector-client")
        debugs = ["debug zebra vxlan", "debug zebra kernel", "debug zebra evpn mh mac"] if debug else []
        self._write("zebra.conf", ["hostname " + self.name] + debugs)
        debugs = ["debug bgp zebra", "debug bgp updates", "debug bgp neighbor-events"] if debug else []
        self._write("bgpd.conf", ["hostname " + self.name] + debugs + [
            "router bgp %d" % asn, " bgp router-id " + router_id,
            " no bgp default ipv4-unicast", " no bgp ebgp-requires-policy", " no bgp network import-check",
            " timers bgp 3 9"] + [" " + line for line in group] +
            [" address-family l2vpn evpn"] + ["  " + line for line in af] + [" exit-address-family"])
        self.procs = {}
        for d in ("zebra", "bgpd"):
            TEST_LOGS.append(self.path(d + ".log"))
        cleanup.add(self._remove)
        if start:
            self.start()

    def _write(self, name, lines):
        with open(self.path(name), "w") as f:
            f.write("\n".join(lines) + "\n")
        shutil.chown(self.path(name), "frr", "frr")

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self):
        """zebra, then bgpd once zebra answers (bgpd would connect to it
        anyway, but later)."""
        for d in ("zebra", "bgpd"):
            for f in (d + ".vty", d + ".pid", "zserv.api" if d == "zebra" else None):
                if f and os.path.exists(self.path(f)):
                    os.unlink(self.path(f))  # a killed run's: they would fool the wait below
            # -P 0: no vty on TCP; --vty_socket: the directory of its unix
            # socket, which vtysh is pointed at. zebra's -s: a netlink socket
            # buffer that holds a burst of fdb changes.
            cmd = [os.path.join(FRR_DIR, d), "-f", self.path(d + ".conf"), "-i", self.path(d + ".pid"),
                   "-z", self.path("zserv.api"), "--vty_socket", self.dir, "-P", "0",
                   "--log", "file:" + self.path(d + ".log")] + (["-s", "8388608"] if d == "zebra" else [])
            with open(self.path(d + ".out"), "a") as out:
                self.procs[d] = subprocess.Popen(_in(self.ns, cmd), stdout=out, stderr=subprocess.STDOUT)
            if not wait_for(lambda: self.procs[d].poll() is not None or
                            os.path.exists(self.path(d + ".vty")), 30, 0.05) or self.procs[d].poll() is not None:
                raise TestFailure("%s in %s did not start: %s" % (d, self.ns, self._tail(d)))

    def _tail(self, d):
        text = ""
        for f in (d + ".out", d + ".log"):
            if os.path.exists(self.path(f)):
                with open(self.path(f), errors="replace") as fh:
                    text += fh.read()[-2000:]
        return text

    def stop(self):
        """SIGTERM, bgpd first: zebra removes from the kernel what bgpd had
        it install (the remote MACs and VTEPs) when bgpd goes (and when it
        stops itself); peers drop our routes at once (bgpd says goodbye;
        a bgpd whose zebra is gone would go on advertising them)."""
        for d in ("bgpd", "zebra"):
            p = self.procs.get(d)
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                    raise TestFailure("%s in %s did not stop on SIGTERM" % (d, self.ns))

    def kill(self):
        """SIGKILL, as if both crashed: the kernel keeps every entry zebra
        had installed; peers drop our routes when our TCP sessions close.
        zebra first: a zebra that sees bgpd go removes bgpd's entries."""
        for d in ("zebra", "bgpd"):
            p = self.procs.get(d)
            if p and p.poll() is None:
                p.kill()
                p.wait()

    def _remove(self):
        try:
            self.stop()
        finally:
            self.kill()
            shutil.rmtree(self.dir, ignore_errors=True)

    def vtysh(self, cmd, json=False):
        """A vtysh command's output, parsed if json (" json" is added)."""
        if json and not cmd.endswith(" json"):
            cmd += " json"
        r = subprocess.run(["vtysh", "--vty_socket", self.dir, "-c", cmd], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 0, "vtysh -c '%s' in %s: %s%s" % (cmd, self.ns, r.stdout, r.stderr))
        return json_loads(r.stdout or "{}") if json else r.stdout

    def peers(self):
        """{address: state} of the BGP sessions."""
        summary = self.vtysh("show bgp l2vpn evpn summary", json=True)
        return {a: p["state"] for a, p in summary.get("peers", {}).items()}

    def wait_established(self, n, timeout=60):
        """n sessions established (the others may connect later)."""
        if not wait_for(lambda: list(self.peers().values()).count("Established") >= n, timeout, 0.2):
            raise TestFailure("%s: not %d BGP sessions up after %ss: %s" % (self.ns, n, timeout, self.peers()))

    def evpn_macs(self, vni):
        """{mac: zebra's entry}: "type" local or remote, "remoteVtep",
        "intf", "localSequence", "remoteSequence"."""
        return self.vtysh("show evpn mac vni %d" % vni, json=True).get("macs", {})

    def evpn_vteps(self, vni):
        """The remote VTEPs zebra knows for vni (from type-3 routes)."""
        vni = self.vtysh("show evpn vni %d" % vni, json=True)
        # 8.4 lists them as "numRemoteVteps" (a number when there are none).
        vteps = vni.get("remoteVteps", vni.get("numRemoteVteps"))
        return {v["ip"] if isinstance(v, dict) else v for v in vteps} if isinstance(vteps, list) else set()


# The self-test: plain Linux hosts h1..h5 (namespaces) on one fabric,
# 10.0.0.N/24 for BGP; h1 is the route reflector. Shadow hosts have VTEP
# 192.0.2.N, a kernel address nowhere.
VNI = 100
M1, M2, M3 = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"


def vtep(n):
    return "192.0.2.%d" % n


class Host:
    """A shadow host: namespace, fabric veth, the VNI's shadow, FRR."""

    def __init__(self, c, fab, tag, n):
        self.ns = netns(c, "vqf%sh%d" % (tag, n))
        fab.attach(self.ns, "ul", "10.0.0.%d/24" % n)
        self.br, self.vx, self.port = shadow(self.ns, VNI, vtep(n))
        vtep_routes(self.ns)
        self.frr = Frr(c, self.ns, "10.0.0.%d" % n, **({"listen": "10.0.0.0/24"} if n == 1 else
                                                       {"neighbors": ["10.0.0.1"]}))

    def local(self, mac, op="replace"):
        """The switch's local MAC: a static entry on the stand-in port.
        replace, not add: the MAC may be there as remote (add: EEXIST)."""
        sh(self.ns, "bridge fdb %s %s dev %s master static" % (op, mac, self.port))

    def unlocal(self, mac):
        sh(self.ns, "bridge fdb del %s dev %s master" % (mac, self.port))

    def remote(self):
        return remote_macs(self.ns, self.vx)

    def vteps(self):
        return remote_vteps(self.ns, self.vx)

    def local_macs(self):
        return {e["mac"] for e in fdb(self.ns, self.port) if "master" in e and e.get("state") == "static"}


def hosts(c, n):
    tag = str(os.getpid() % 100000)
    fab = Fabric(c, "vqf%sfab" % tag)
    hs = [Host(c, fab, tag, i) for i in range(1, n + 1)]
    for h in hs:
        h.frr.wait_established(n - 1 if h is hs[0] else 1)
    return fab, tag, hs


def test_export(c):
    """Scenario 2: a static fdb entry on h1's stand-in port is installed on
    h2's vxlan device with h1's VTEP, and withdrawn; type-3 both ways; a MAC
    moves to h2 and back."""
    _, _, (h1, h2) = hosts(c, 2)
    t = wait_until(lambda: h1.vteps() == {vtep(2)} and h2.vteps() == {vtep(1)}, "type-3 both ways")
    log("type-3 both ways %.2fs after the sessions came up" % t)
    check(h2.frr.evpn_vteps(VNI) == {vtep(1)}, "h2's zebra: VTEPs %s" % h2.frr.evpn_vteps(VNI))
    h1.local(M1)
    t = wait_until(lambda: h2.remote() == {M1: vtep(1)}, "M1 on h2 from h1")
    log("add on h1 -> installed on h2: %.2fs" % t)
    check(h2.frr.evpn_macs(VNI)[M1]["type"] == "remote", "h2's zebra: %s" % h2.frr.evpn_macs(VNI))
    h1.unlocal(M1)
    t = wait_until(lambda: M1 not in {e["mac"] for e in fdb(h2.ns, h2.vx)}, "M1 withdrawn from h2")
    log("del on h1 -> gone from h2 (bridge and vxlan entries): %.2fs" % t)

    # Mobility: the MAC, remote on h2, becomes local there: replace (add
    # fails over the remote entry); h1 takes it as remote (sequence 1),
    # its own entry moved to the vxlan device by zebra; then back.
    h1.local(M1)
    wait_until(lambda: h2.remote() == {M1: vtep(1)}, "M1 on h2 again")
    r = subprocess.run(_in(h2.ns, ["bridge", "fdb", "add", M1, "dev", h2.port, "master", "static"]),
                       capture_output=True, text=True)
    check(r.returncode != 0 and "exists" in r.stderr, "fdb add over a remote entry: %s" % r.stderr)
    h2.local(M1)
    t = wait_until(lambda: h1.remote() == {M1: vtep(2)} and M1 not in h1.local_macs(), "M1 moved to h2")
    log("move to h2: remote on h1 after %.2fs" % t)
    check(h2.frr.evpn_macs(VNI)[M1]["localSequence"] == 1, "h2: %s" % h2.frr.evpn_macs(VNI))
    h1.local(M1)
    t = wait_until(lambda: h2.remote() == {M1: vtep(1)} and M1 not in h2.local_macs(), "M1 back on h1")
    log("move back to h1: remote on h2 after %.2fs" % t)
    check(h1.frr.evpn_macs(VNI)[M1]["localSequence"] == 2, "h1: %s" % h1.frr.evpn_macs(VNI))
    # What a move leaves: the vxlan entry of the time the MAC was remote.
    log("h1's vxlan entries of M1 while local: %s" %
        [e for e in fdb(h1.ns, h1.vx) if e["mac"] == M1])


def test_join(c):
    """Scenario 3: h3 joins later, through the route reflector's listen
    range: its type-3 and MACs reach h1 and h2, theirs reach it."""
    fab, tag, (h1, h2) = hosts(c, 2)
    h1.local(M1)
    h2.local(M2)
    wait_until(lambda: h1.remote() == {M2: vtep(2)} and h2.remote() == {M1: vtep(1)}, "h1 and h2 MACs")
    start = time.time()
    h3 = Host(c, fab, tag, 3)
    h3.local(M3)
    wait_until(lambda: h1.vteps() == {vtep(2), vtep(3)} and h2.vteps() == {vtep(1), vtep(3)},
               "h3's type-3 on h1 and h2")
    wait_until(lambda: h3.vteps() == {vtep(1), vtep(2)} and h3.remote() == {M1: vtep(1), M2: vtep(2)} and
               h1.remote() == {M2: vtep(2), M3: vtep(3)} and h2.remote() == {M1: vtep(1), M3: vtep(3)},
               "MACs with h3")
    log("h3 started -> everything synced: %.2fs" % (time.time() - start))


def test_restart(c):
    """Scenario 4: h2's FRR stops (zebra removes what it installed, h1
    drops h2's routes) and starts again (synced again); then crashes
    (the kernel keeps everything)."""
    _, _, (h1, h2) = hosts(c, 2)
    h1.local(M1)
    h2.local(M2)
    wait_until(lambda: h1.remote() == {M2: vtep(2)} and h2.remote() == {M1: vtep(1)}, "h1 and h2 MACs")
    start = time.time()
    h2.frr.stop()
    log("stop took %.2fs" % (time.time() - start))
    wait_until(lambda: h2.remote() == {} and h2.vteps() == set() and
               [e for e in fdb(h2.ns, h2.vx) if e["mac"] in (M1, ZERO_MAC)] == [], "h2's remote entries gone")
    wait_until(lambda: h1.remote() == {} and h1.vteps() == set(), "h2's routes gone from h1")
    check(h2.local_macs() == {M2}, "h2's local entries: %s" % h2.local_macs())
    start = time.time()
    h2.frr.start()
    wait_until(lambda: h1.remote() == {M2: vtep(2)} and h2.remote() == {M1: vtep(1)} and
               h1.vteps() == {vtep(2)} and h2.vteps() == {vtep(1)}, "synced after the restart")
    log("start -> synced: %.2fs" % (time.time() - start))

    h2.frr.kill()
    wait_until(lambda: h1.remote() == {}, "h2's routes gone from h1 after the crash")
    check(h2.remote() == {M1: vtep(1)} and h2.vteps() == {vtep(1)}, "after the crash: %s" % fdb(h2.ns, h2.vx))
    # While h2 is down, M1 goes and another comes: zebra started again
    # installs the new one but never removes the stale one.
    h1.unlocal(M1)
    h1.local(M3)
    h2.frr.start()
    wait_until(lambda: M3 in h2.remote(), "M3 on h2 after the crash")
    log("after the crash and restart, h2's remote MACs: %s (M1 stale: %s)" % (h2.remote(), M1 in h2.remote()))


def test_linux_vtep(c):
    """Scenario 5: plain Linux VTEPs h4, h5 (VTEPs 192.0.2.4, .5 on their
    underlay, a VM namespace behind each) with a shadow host h1: the VMs'
    learned MACs go everywhere, h1's static MAC too, and the VMs ping each
    other over what zebra installed (the vxlan devices learn nothing)."""
    tag = str(os.getpid() % 100000)
    fab = Fabric(c, "vqf%sfab" % tag)
    h1 = Host(c, fab, tag, 1)
    h1.local(M1)
    hs, vms, macs = {}, {}, {}
    for n in (4, 5):
        hs[n], vms[n] = netns(c, "vqf%sh%d" % (tag, n)), netns(c, "vqf%sv%d" % (tag, n))
        fab.attach(hs[n], "ul", "10.0.0.%d/24" % n)
        run(["ip", "link", "add", "vm", "netns", hs[n], "type", "veth", "peer", "name", "eth0", "netns", vms[n]])
        macs[n] = "02:00:00:00:0%d:01" % n
        sh(vms[n], "ip link set eth0 address %s && ip addr add 10.100.0.%d/24 dev eth0 && ip link set eth0 up"
           % (macs[n], n))
        linux_vtep(hs[n], VNI, "%s/24" % vtep(n), "ul", ports=["vm"])
        Frr(c, hs[n], "10.0.0.%d" % n, neighbors=["10.0.0.1"]).wait_established(1)
    # The first ARP may be flooded before the other VTEP's type-3 is in.
    wait_until(lambda: " 0% packet loss" in sh(vms[4], "ping -c 1 -W 1 10.100.0.5", check_rc=False),
               "ping VM4 -> VM5")
    wait_until(lambda: h1.remote() == {macs[4]: vtep(4), macs[5]: vtep(5)} and h1.vteps() == {vtep(4), vtep(5)},
               "the VMs' MACs on h1")
    for n, other in ((4, 5), (5, 4)):
        wait_until(lambda: remote_macs(hs[n], "vx%d" % VNI) == {M1: vtep(1), macs[other]: vtep(other)},
                   "MACs on h%d" % n)
        check(remote_vteps(hs[n], "vx%d" % VNI) == {vtep(1), vtep(other)}, "h%d's VTEPs" % n)
    out = sh(vms[5], "ping -c 3 -i 0.2 -W 2 10.100.0.4", check_rc=False)
    check(" 0% packet loss" in out, "ping VM5 -> VM4: %s" % out)


if __name__ == "__main__":
    raise SystemExit(main([test_export, test_join, test_restart, test_linux_vtep]))
