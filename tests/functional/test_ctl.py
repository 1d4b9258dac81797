#!/usr/bin/env python3
"""The control plane: vqctl verbs against a running vqswitch, bad requests,
run-time changes under traffic, restart from the state file, VLANs, and
vhost-user client mode."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

from vqguest import Guest
from vqtest import (VQCTL, Switch, TestPmd, Traffic, Veth, check, check_arrived, frame, log, main,
                    tagged_payload, wait_for)

A, B, C, D = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:0c:01", "02:00:00:00:0d:01"
VM1 = "02:00:00:00:01:01"
BCAST = "ff:ff:ff:ff:ff:ff"
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")


def expect_fail(sw, args, message):
    rc, out, err = sw.vqctl(*args, check_rc=False)
    check(rc == 1, "vqctl %s: exit %d, expected 1 (%s)" % (" ".join(args), rc, err.strip()))
    check(message in err, "vqctl %s: '%s' not in '%s'" % (" ".join(args), message, err.strip()))
    check(err.count("\n") == 1, "one-line reason: %r" % err)


def port_of(show, name):
    for br in show["bridges"]:
        for p in br["ports"]:
            if p["name"] == name:
                return br["name"], p
    return None, None


def test_verbs(c):
    """Every verb, text and JSON, and the state file after each change."""
    sw = Switch(c, "verbs", "add-br br0\n", lcores="0@0,1@1,2@1")
    sw.vqctl("add-br", "br1", "mac-aging=60")
    check(sw.vqctl("list-br", fmt="json") == ["br0", "br1"], "list-br")
    check(sw.vqctl("list-br") == "br0\nbr1\n", "list-br text")
    sw.vqctl("add-port", "br0", "vm1", "type=vhostuser")
    sw.vqctl("add-port", "br1", "vm2", "type=vhostuser", "queues=2", "tag=100")
    sw.vqctl("add-port", "br0", "r0", "type=dpdk", "devargs=net_ring0")
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["vm1", "r0"], "list-ports br0")
    check(os.path.exists(sw.sock("vm1")) and os.path.exists(sw.sock("vm2")), "sockets created")
    show = sw.vqctl("show", fmt="json")
    br, vm2 = port_of(show, "vm2")
    check(br == "br1" and vm2["tag"] == 100 and vm2["queues"] == 2 and vm2["type"] == "vhostuser",
          "vm2 in show: %s" % vm2)
    check(port_of(show, "r0")[1]["state"] == "up", "ring port up")
    check("bridge br1:\n  mac_aging: 60\n" in sw.vqctl("show") and
          "  port vm2:\n    type: vhostuser\n    state: down\n    path: %s\n    queues: 2\n    tag: 100\n"
          % sw.sock("vm2") in sw.vqctl("show"), "show text:\n%s" % sw.vqctl("show"))

    sw.vqctl("set", "port", "vm2", "tag=", "trunks=10,20-22")
    vm2 = port_of(sw.vqctl("show", fmt="json"), "vm2")[1]
    check(vm2["tag"] == 0 and vm2["trunks"] == "10,20-22", "trunk port: %s" % vm2)
    sw.vqctl("set", "bridge", "br1", "mac-aging=30", "mac-table-size=100")
    br1 = sw.vqctl("show", fmt="json")["bridges"][1]
    check(br1["mac_aging"] == 30 and br1["mac_table_size"] == 100, "bridge settings %s" % br1)

    # RX queues: spread over the two PMDs, then pinned.
    rxqs = sw.vqctl("pmd/rxq-show", fmt="json")
    check([p["lcore"] for p in rxqs] == [1, 2], "PMDs on lcores 1 and 2: %s" % rxqs)
    loads = [len(p["rxqs"]) for p in rxqs]
    check(abs(loads[0] - loads[1]) <= 1 and sum(loads) == 8 + 2 + 1, "least loaded: %s" % loads)
    sw.vqctl("set", "port", "vm2", "pmd-rxq-affinity=0:2,1:2")
    rxqs = sw.vqctl("pmd/rxq-show", fmt="json")
    pinned = [(q["port"], q["queue"]) for q in rxqs[1]["rxqs"] if q["pinned"]]
    check(pinned == [("vm2", 0), ("vm2", 1)], "both vm2 queues pinned to lcore 2: %s" % rxqs)
    check(re.search(r"pmd 1:\n  lcore: 2\n  rxqs:\n    port +queue +pinned\n(    .*\n)*    vm2 +0 +true\n",
                    sw.vqctl("pmd/rxq-show")), "rxq-show text:\n%s" % sw.vqctl("pmd/rxq-show"))
    expect_fail(sw, ["set", "port", "vm2", "pmd-rxq-affinity=0:7"], "lcore 7 is not a PMD lcore")

    # MAC table.
    sw.vqctl("fdb/add", "br0", A, "vm1", "5")
    fdb = sw.vqctl("fdb/show", "br0", fmt="json")
    check(fdb == [{"port": "vm1", "vlan": 5, "mac": A.upper(), "age": 0, "static": True, "evpn": False,
                   "remote": ""}] or
          (len(fdb) == 1 and fdb[0]["static"] and fdb[0]["vlan"] == 5), "fdb/show %s" % fdb)
    check(re.match(r"port +vlan +mac +age +static +evpn +remote\nvm1 +5 +%s +\d+ +true +false *\n$" % A.upper(),
                   sw.vqctl("fdb/show", "br0")),
          "fdb/show text: %r" % sw.vqctl("fdb/show", "br0"))
    tel = sw.telemetry("/vqswitch/fdb,br0")["entries"]
    check(tel == ["%s 5 vm1 static" % A.upper()], "telemetry marks the static entry as vqctl does: %s" % tel)
    check(sw.vqctl("fdb/flush", "br0", fmt="json") == {"flushed": 1}, "fdb/flush")
    check(sw.vqctl("fdb/show", "br0", fmt="json") == [], "empty after flush")

    with open(sw.state) as f:
        state = f.read()
    check("add-port br1 vm2 type=vhostuser path=%s queues=2 trunks=10,20-22 pmd-rxq-affinity=0:2,1:2"
          % sw.sock("vm2") in state, "state records vm2:\n%s" % state)
    check("add-br br1 mac-aging=30 mac-table-size=100" in state, "state records br1")

    # Hot-plugged device: deleted, it can be added again.
    sw.vqctl("del-port", "br0", "r0")
    sw.vqctl("add-port", "br0", "r0", "type=dpdk", "devargs=net_ring0")
    sw.vqctl("del-port", "r0")
    sw.vqctl("del-port", "vm1")
    check(not os.path.exists(sw.sock("vm1")), "socket removed with its port")
    sw.vqctl("del-br", "br1")
    check(not os.path.exists(sw.sock("vm2")), "del-br removes its ports")
    check(sw.vqctl("list-br", fmt="json") == ["br0"], "after del-br")
    with open(sw.state) as f:
        state = [l for l in f.read().splitlines() if not l.startswith("#")]
    check(state == ["add-br br0 mac-aging=300 mac-table-size=8192"], "state %s" % state)
    check(sw.stop() == 0, "exit code")


def raw_request(sw, data, shutdown=False, replies=1):
    """Sends bytes on the control socket; returns the first reply (parsed),
    or the list of `replies` replies, or None if the switch closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sw.ctl_socket)
    s.sendall(data)
    if shutdown:
        s.shutdown(socket.SHUT_WR)
    reply = b""
    while reply.count(b"\n") < replies:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    s.close()
    lines = [json.loads(l) for l in reply.splitlines()]
    if replies > 1:
        return lines
    return lines[0] if lines else None


def test_bad_requests(c):
    """Bad commands and garbage each get their error; the switch keeps
    forwarding and keeps its configuration."""
    va, vb = Veth(c, "vqbr0"), Veth(c, "vqbr1")
    sw = Switch(c, "badreq", "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n"
                             "add-port br0 b type=dpdk devargs=%s\n" % (va.devargs(0), vb.devargs(1)))
    traffic = Traffic(c, {1: (va, B, A)}, [vb])
    vb.send(frame(BCAST, B))
    expect_fail(sw, ["frobnicate"], "unknown command 'frobnicate'")
    expect_fail(sw, ["add-port", "br0"], "usage: add-port")
    expect_fail(sw, ["add-br"], "usage: add-br")
    expect_fail(sw, ["fdb/add", "br0", "zz:zz", "a"], "bad MAC address 'zz:zz'")
    expect_fail(sw, ["fdb/add", "br0", "01:00:5e:00:00:01", "a"], "bad MAC address")
    expect_fail(sw, ["fdb/add", "br0", A, "nosuch"], "no port 'nosuch'")
    expect_fail(sw, ["add-port", "br0", "a", "type=vhostuser"], "port a exists")
    expect_fail(sw, ["add-br", "br0"], "bridge br0 exists")
    expect_fail(sw, ["add-port", "br9", "x", "type=vhostuser"], "no bridge named 'br9'")
    expect_fail(sw, ["list-ports", "br9"], "no bridge named 'br9'")
    expect_fail(sw, ["del-port", "nosuch"], "no port named 'nosuch'")
    expect_fail(sw, ["del-port", "br9", "a"], "not on bridge br9")
    expect_fail(sw, ["set", "port", "a", "tag=5000"], "from 1 to 4095")
    expect_fail(sw, ["set", "port", "a", "devargs=x"], "cannot probe device 'x': Bad address; nothing changed")
    check(port_of(sw.vqctl("show", fmt="json"), "a")[1]["state"] == "up", "a runs on its old device")
    expect_fail(sw, ["set", "system", "x", "y=z"], "expected 'port', 'bridge', 'pmd' or 'switch'")
    expect_fail(sw, ["add-port", "br0", "d", "type=dpdk", "devargs=net_nosuchdev0"],
                "port d: cannot probe device")
    expect_fail(sw, ["add-port", "br0", "v", "type=vhostuser", "path=/proc/nope/v.sock"],
                "must be directly inside the socket directory")
    with open(os.path.join(sw.sockdir, "file.sock"), "w") as f:
        f.write("not a socket")
    expect_fail(sw, ["add-port", "br0", "v", "type=vhostuser", "path=" + os.path.join(sw.sockdir, "file.sock")],
                "port v: %s exists and is not a socket" % os.path.join(sw.sockdir, "file.sock"))

    r = raw_request(sw, b"x" * 5000)
    check(r == {"ok": False, "error": "request larger than 4096 bytes"}, "oversized: %s" % r)
    r = raw_request(sw, b"\x00\xff\xfe garbage\n")
    check(r is not None and not r["ok"], "garbage bytes: %s" % r)
    r = raw_request(sw, b"not json at all\n")
    check(r is not None and r["error"] == "expected a JSON object", "not JSON: %s" % r)
    r = raw_request(sw, b'{"argv": "show"}\n')
    check(r is not None and "argv" in r["error"], "argv not an array: %s" % r)
    r = raw_request(sw, b'{"argv": ["show"], "format": "xml"}\n')
    check(r is not None and "format" in r["error"], "bad format: %s" % r)
    r = raw_request(sw, b'{"argv": ["list-br"]}\n{"argv": ["list-ports", "br0"]}\n', replies=2)
    check(r == [{"ok": True, "output": "br0\n"}, {"ok": True, "output": "a\nb\n"}],
          "pipelined requests: %s" % r)
    check(raw_request(sw, b'{"argv": ["sh', shutdown=True) is None, "half a request, then gone")
    for _ in range(40):  # more clients than it serves at once, all gone at once
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sw.ctl_socket)
        s.close()
    rc, _, err = sw.vqctl("show", check_rc=False)
    check(rc == 0, "still serving: %s" % err)

    time.sleep(0.5)
    traffic.finish()
    check(sw.alive(), "vqswitch died")
    check_arrived(sw, traffic, 1, "a", "a->b during the bad requests")
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["a", "b"], "configuration kept")
    check(sw.stop() == 0, "exit code")


def test_churn(c):
    """While frames flood from a to b (and to every vhost port that exists),
    vhost ports are added and deleted 100 times, some with a guest attached
    and receiving. b gets every frame and no mbuf is leaked."""
    va, vb = Veth(c, "vqch0"), Veth(c, "vqch1")
    sw = Switch(c, "churn", "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n"
                            "add-port br0 b type=dpdk devargs=%s\n" % (va.devargs(0), vb.devargs(1)))
    baseline = sw.telemetry("/vqswitch/info")["mbufs_in_use"]
    traffic = Traffic(c, {1: (va, "02:00:00:00:ff:ff", A)}, [vb], rate=1000)  # unknown: flooded
    guests = 0
    for i in range(100):
        name = "churn%d" % (i % 3)
        sw.vqctl("add-port", "br0", name, "type=vhostuser", "queues=1")
        if i % 20 == 0:
            g = TestPmd(c, "ch%d" % i, [(sw.sock(name), "02:00:00:00:05:%02x" % i)], fwd="rxonly")
            g.cmd("start")
            sw.wait_port_state(name, "up")
            time.sleep(0.3)
            check(sw.port(name)["tx_packets"] > 0, "guest on %s receives the flood" % name)
            guests += 1
            sw.vqctl("del-port", name)  # with the guest still attached
            g.kill()
        else:
            sw.vqctl("del-port", name)
    traffic.finish()
    time.sleep(0.5)
    in_use = sw.telemetry("/vqswitch/info")["mbufs_in_use"]
    log("a->b sent %d, lost %d; %d guests; mbufs in use %d (baseline %d)" %
        (traffic.sent[1], traffic.lost(1), guests, in_use, baseline))
    check(sw.alive(), "vqswitch died")
    check_arrived(sw, traffic, 1, "a", "a->b")
    check(in_use == baseline, "mbufs in use %d, baseline %d" % (in_use, baseline))
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["a", "b"], "only a and b left")
    check(sw.stop() == 0, "exit code")


def test_restart(c):
    """Configured at run time, killed, started again: the same bridges and
    ports come back from the state file, and forward."""
    va, vb = Veth(c, "vqrs0"), Veth(c, "vqrs1")
    sw = Switch(c, "restart", "add-br br0\n")
    sw.vqctl("add-br", "br1", "mac-aging=77")
    sw.vqctl("add-port", "br1", "a", "type=dpdk", "devargs=" + va.devargs(0))
    sw.vqctl("add-port", "br1", "b", "type=dpdk", "devargs=" + vb.devargs(1), "tag=42")
    sw.vqctl("add-port", "br0", "vm1", "type=vhostuser", "queues=2", "trunks=1-3")
    sw.vqctl("del-br", "br0")
    sw.vqctl("add-br", "br0")
    sw.vqctl("add-port", "br0", "vm2", "type=vhostuser")
    before = sw.vqctl("show", fmt="json")
    sw.crash()
    sw.start()
    after = sw.vqctl("show", fmt="json")
    check(after == before, "after restart:\n%s\nbefore:\n%s" % (after, before))
    check("restoring the state recorded in" in sw.log_text(), "restored from the state file")
    vb.send(frame(BCAST, B))
    check(len(va.collect(0.5)) == 1 and va.vlans == [42], "the restored ports forward, VLAN 42 tagged")
    check(sw.stop() == 0, "exit code")


def test_vlan_isolation(c):
    """Access ports a, b (VLAN 10) and x (VLAN 20), trunk t (10 and 20):
    frames stay in their VLAN, are tagged towards the trunk and untagged
    towards access ports; the MAC table is per VLAN."""
    va, vb, vx, vt = (Veth(c, "vqvl%d" % i) for i in range(4))
    sw = Switch(c, "vlan", "add-br br0\n"
                           "add-port br0 a type=dpdk devargs=%s tag=10\n"
                           "add-port br0 b type=dpdk devargs=%s tag=10\n"
                           "add-port br0 x type=dpdk devargs=%s tag=20\n"
                           "add-port br0 t type=dpdk devargs=%s trunks=10,20\n"
                           % (va.devargs(0), vb.devargs(1), vx.devargs(2), vt.devargs(3)))
    veths = (va, vb, vx, vt)

    def got(what, counts, vlans=None):
        res = [v.collect(0.4) for v in veths]
        check([len(r) for r in res] == counts, "%s: received %s, expected %s" %
              (what, [len(r) for r in res], counts))
        if vlans is not None:
            check([v.vlans[0] if r else "-" for v, r in zip(veths, res)] == vlans,
                  "%s: VLAN tags %s, expected %s" % (what, [v.vlans for v in veths], vlans))
        return res

    def tagged(vid, f):
        return f[:12] + struct.pack("!HH", 0x8100, vid) + f[12:]

    f = frame(BCAST, A, tagged_payload(7, 1, 50))
    va.send(f)
    res = got("broadcast from a (VLAN 10)", [0, 1, 0, 1], ["-", None, "-", 10])
    check(res[1][0] == f and res[3][0] == f, "payload intact, tag removed/added cleanly")
    vx.send(frame(BCAST, C))
    got("broadcast from x (VLAN 20)", [0, 0, 0, 1], ["-", "-", "-", 20])
    vt.send(tagged(20, frame(BCAST, D)))
    got("VLAN 20 from the trunk", [0, 0, 1, 0], ["-", "-", None, "-"])
    vt.send(tagged(10, frame(A, D)))
    got("VLAN 10 from the trunk to A", [1, 0, 0, 0], [None, "-", "-", "-"])
    vt.send(tagged(30, frame(BCAST, D)))
    vt.send(frame(BCAST, D))  # untagged: VLAN 0, not on this trunk
    va.send(tagged(20, frame(BCAST, A)))  # tagged on an access port
    got("VLANs a port does not carry", [0, 0, 0, 0])
    check(sw.port("t")["drop_vlan_filtered"] == 2 and sw.port("a")["drop_vlan_filtered"] == 1,
          "vlan_filtered counted: t %s a %s" % (sw.port("t"), sw.port("a")))
    # The same MAC in two VLANs: two entries, each to its own port.
    vx.send(frame(BCAST, A))
    got("A in VLAN 20", [0, 0, 0, 1])
    fdb = sw.vqctl("fdb/show", "br0", fmt="json")
    where = sorted((e["vlan"], e["port"]) for e in fdb if e["mac"].lower() == A)
    check(where == [(10, "a"), (20, "x")], "A per VLAN: %s" % fdb)
    vt.send(tagged(20, frame(A, D)))
    got("to A in VLAN 20", [0, 0, 1, 0])
    # Retagging a port at run time moves it between VLANs.
    sw.vqctl("set", "port", "b", "tag=20")
    vx.send(frame(BCAST, C))
    got("b now in VLAN 20", [0, 1, 0, 1])
    check(sw.stop() == 0, "exit code")


def test_client_mode(c):
    """type=vhostuserclient: the switch connects to the guest's socket and,
    when the guest's process restarts, reconnects by itself."""
    va = Veth(c, "vqcl0")
    sw = Switch(c, "client", "add-br br0\nadd-port br0 a type=dpdk devargs=%s\n" % va.devargs(0))
    path = os.path.join(sw.dir, "qemu-vm1.sock")
    sw.vqctl("add-port", "br0", "vm1", "type=vhostuserclient", "path=" + path, "queues=1")
    for run in range(2):
        g = TestPmd(c, "cl%d" % run, ["net_virtio_user0,path=%s,server=1,queues=1,mac=%s" % (path, VM1)],
                    fwd="macswap", extra=["--eth-peer=0,%s" % A])
        log("client mode run %d" % run)
        sw.wait_port_state("vm1", "up", timeout=15)
        g.cmd("start tx_first")
        time.sleep(0.3)
        va.drain()
        for i in range(20):
            va.send(frame(VM1, A, tagged_payload(9, i, 60)))
        # Up to 10 s: a loaded machine may not run testpmd's forwarding
        # for a while (the frames wait in its RX ring meanwhile).
        back = va.collect(10.0, count=20)
        check(len(back) == 20, "run %d: %d of 20 reflected by the guest" % (run, len(back)))
        g.kill()  # the guest's process dies
        sw.wait_port_state("vm1", "down")
        # testpmd leaves its socket file behind; QEMU unlinks it at start.
        os.unlink(path)
    p = sw.port("vm1")
    check(p["connects"] == 2 and p["disconnects"] == 2, "reconnected: %s" % p)
    check(sw.stop() == 0, "exit code")


def test_port_scripts(c):
    """scripts/add-vm-ports.sh creates N vhost-user ports on a bridge;
    scripts/qemu-cmdline.sh prints a QEMU command line for each."""
    sw = Switch(c, "scripts", "add-br br0\n")
    env = dict(os.environ, VQCTL=os.path.join(os.path.dirname(sw.cmd[0]), "..", "vqctl", "vqctl"),
               VQCTL_SOCKET=sw.ctl_socket)
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "add-vm-ports.sh"), "br0", "3"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 0, "add-vm-ports.sh: %s" % r.stderr)
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["vm1", "vm2", "vm3"], "three VM ports")
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "add-vm-ports.sh"), "br0", "2"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 0 and sw.vqctl("list-ports", "br0", fmt="json") == ["vm1", "vm2", "vm3"],
          "running it again adds nothing: %s" % r.stderr)
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "qemu-cmdline.sh"), "br0"],
                       capture_output=True, text=True, env=env)
    check(r.returncode == 0, "qemu-cmdline.sh: %s" % r.stderr)
    lines = [l for l in r.stdout.splitlines() if l.startswith("qemu-system-x86_64")]
    check(len(lines) == 3, "three command lines:\n%s" % r.stdout)
    check("path=%s" % sw.sock("vm2") in lines[1] and "share=on" in lines[1] and
          "mac=" in lines[1], "vm2 line: %s" % lines[1])
    r = subprocess.run(["bash", os.path.join(SCRIPTS, "add-vm-ports.sh"), "br9", "1"],
                       capture_output=True, text=True, env=env)
    check(r.returncode != 0 and "no bridge named 'br9'" in r.stderr, "bad bridge: %s" % r.stderr)
    check(sw.stop() == 0, "exit code")


def test_ovs_names(c):
    """What OVS users type: fdb/add in ovs-appctl's order and fdb/del, the
    dpif-netdev/pmd-* names; vqctl --version, --pretty, --timeout."""
    sw = Switch(c, "ovsnames", "add-br br0\nadd-port br0 vm1 type=vhostuser\n")
    sw.vqctl("fdb/add", "br0", "vm1", "7", A)
    check(sw.vqctl("fdb/show", "br0", fmt="json") == [
        {"port": "vm1", "vlan": 7, "mac": A.upper(), "age": 0, "static": True, "evpn": False, "remote": ""}],
        "OVS-order fdb/add")
    sw.vqctl("fdb/add", "br0", B, "vm1")
    sw.vqctl("fdb/del", "br0", "7", A)
    check([e["mac"] for e in sw.vqctl("fdb/show", "br0", fmt="json")] == [B.upper()], "fdb/del")
    expect_fail(sw, ["fdb/del", "br0", "7", A], "no entry for %s in VLAN 7 on bridge br0" % A)
    expect_fail(sw, ["fdb/del", "br0", "5000", A], "VLAN")
    expect_fail(sw, ["fdb/del", "br0", A], "usage: fdb/del BRIDGE VLAN MAC")
    expect_fail(sw, ["fdb/add", "br0", "vm1", "9999", A], "VLAN")
    check(sw.vqctl("dpif-netdev/pmd-stats-show", fmt="json").keys() ==
          sw.vqctl("pmd/stats-show", fmt="json").keys(), "dpif-netdev/pmd-stats-show")
    check(sw.vqctl("dpif-netdev/pmd-rxq-show") == sw.vqctl("pmd/rxq-show"), "dpif-netdev/pmd-rxq-show")
    sw.vqctl("dpif-netdev/pmd-stats-clear")
    r = subprocess.run([VQCTL, "--version"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and re.match(r"^vqctl \d+\.\d+\.\d+\n$", r.stdout), "--version: %r" % r.stdout)
    r = subprocess.run([VQCTL, "--socket", sw.ctl_socket, "--format", "json", "--pretty", "show"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and json.loads(r.stdout) == sw.vqctl("show", fmt="json") and
          "\n    " in r.stdout, "--pretty: %s" % r.stdout[:300])
    # A switch that does not answer: vqctl gives up after --timeout.
    os.kill(sw.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.time()
        r = subprocess.run([VQCTL, "--socket", sw.ctl_socket, "--timeout", "1", "show"],
                           capture_output=True, text=True, timeout=60)
        took = time.time() - t0
    finally:
        os.kill(sw.proc.pid, signal.SIGCONT)
    check(r.returncode == 2 and "no reply" in r.stderr and took < 30, "--timeout 1: rc %d %s after %.1f s" % (
        r.returncode, r.stderr, took))
    r = subprocess.run([VQCTL, "--timeout", "0", "show"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "--timeout is 1 to 3600 seconds" in r.stderr, "--timeout 0: %s" % r.stderr)


OVS_SCRIPT = """
ovs-vsctl() { "$VQCTL" "$@"; }
ovs-appctl() { "$VQCTL" "$@"; }
set -e
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl --may-exist add-br br0 -- set bridge br0 datapath_type=netdev
ovs-vsctl add-port br0 vhost-user1 -- set Interface vhost-user1 type=dpdkvhostuser
ovs-vsctl add-port br0 vhost-user2 -- set Interface vhost-user2 type=dpdkvhostuser options:n_rxq=2
ovs-vsctl add-port br0 vhost-client-1 -- set Interface vhost-client-1 type=dpdkvhostuserclient \\
    options:vhost-server-path="$DIR/client1.sock"
ovs-vsctl add-port br0 ring0 -- set Interface ring0 type=dpdk options:dpdk-devargs=net_ring0
ovs-vsctl set port vhost-user1 tag=10
ovs-vsctl set Interface vhost-user2 other_config:pmd-rxq-affinity="0:1,1:1"
ovs-vsctl set Interface vhost-user2 options:n_rxq=4
ovs-vsctl set Interface ring0 options:dpdk-devargs=net_ring2
ovs-vsctl --may-exist add-port br0 vhost-user1 -- set Interface vhost-user1 type=dpdkvhostuser
ovs-vsctl --if-exists del-port br0 nosuch
ovs-vsctl --if-exists del-port br0 vhost-client-1
ovs-vsctl --if-exists del-br nosuch
ovs-vsctl list-br
ovs-vsctl list-ports br0
ovs-appctl fdb/show br0
ovs-appctl dpif-netdev/pmd-rxq-show
"""


def test_ovs_script(c):
    """An OVS-DPDK set-up script runs unchanged with vqctl as ovs-vsctl:
    --may-exist/--if-exists, add-port -- set Interface chains with OVS's
    types and options, set port/Interface, OVS's appctl names. A chain is
    one change: when a later command fails, the bridge and port it added
    are gone again. What vqctl cannot take is refused by name."""
    sw = Switch(c, "ovsscript", "")
    env = dict(os.environ, VQCTL=VQCTL, VQCTL_SOCKET=sw.ctl_socket, DIR=sw.dir)
    r = subprocess.run(["bash", "-c", OVS_SCRIPT], capture_output=True, text=True, timeout=120, env=env)
    check(r.returncode == 0, "the script failed: %s" % r.stderr)
    check(r.stdout.startswith("br0\nvhost-user1\nvhost-user2\nring0\n"), "list-br, list-ports: %r" % r.stdout)
    show = sw.vqctl("show", fmt="json")
    _, v1 = port_of(show, "vhost-user1")
    _, v2 = port_of(show, "vhost-user2")
    _, ring = port_of(show, "ring0")
    check(v1["type"] == "vhostuser" and v1["tag"] == 10, "vhost-user1: %s" % v1)
    check(v2["queues"] == 4 and v2["type"] == "vhostuser" and v2["state"] == "down",
          "vhost-user2 reconfigured: %s" % v2)
    check(ring["type"] == "dpdk" and ring["devargs"] == "net_ring2" and ring["state"] == "up",
          "ring0 restarted on another device: %s" % ring)
    check(port_of(show, "vhost-client-1") == (None, None), "vhost-client-1 deleted")
    rxq = sw.vqctl("pmd/rxq-show", fmt="json")
    check([(q["port"], q["queue"]) for p in rxq for q in p["rxqs"] if q["pinned"]] ==
          [("vhost-user2", 0), ("vhost-user2", 1)], "affinity: %s" % rxq)
    before = sw.vqctl("show", fmt="json")
    # One change: the failing add-port takes the bridge added before it along.
    expect_fail(sw, ["add-br", "br9", "--", "add-port", "br9", "p9", "--", "set", "Interface", "p9",
                     "type=dpdk", "options:dpdk-devargs=net_nosuch0"],
                "(the chain's earlier commands were undone)")
    # mtu_request reaches the device as mtu= (net_ring takes it at
    # configure time: it has nothing more to set).
    sw.vqctl("add-port", "br0", "r1", "--", "set", "Interface", "r1", "type=dpdk",
             "options:dpdk-devargs=net_ring1", "mtu_request=1600")
    check(sw.port("r1")["mtu"] == 1600, "r1's MTU: %s" % sw.port("r1"))
    sw.vqctl("del-port", "r1")
    before = sw.vqctl("show", fmt="json")
    expect_fail(sw, ["add-port", "br0", "p8", "--", "set", "Interface", "p8", "type=dpdkvhostuser",
                     "options:foo=1"], "not supported: 'options:foo=1'")
    expect_fail(sw, ["set", "Interface", "vhost-user1", "type=dpdk"], "type=dpdk needs devargs=")
    # A device that cannot start: the port keeps its old one, and runs.
    expect_fail(sw, ["set", "Interface", "ring0", "options:dpdk-devargs=net_nosuch0"],
                "; nothing changed")
    expect_fail(sw, ["del-port", "vhost-user1", "--", "add-br", "br7"], "'del-port' must be the last command")
    expect_fail(sw, ["add-br", "br7", "--", "--bogus", "add-br", "br6"], "unknown option '--bogus'")
    expect_fail(sw, ["add-br", "br7", "--"], "a chain ends with '--'")
    check(sw.vqctl("show", fmt="json") == before, "nothing changed by the refused chains")
    check("br9" not in sw.vqctl("list-br", fmt="json"), "br9 undone")
    with open(sw.state) as f:
        state = f.read()
    check("br9" not in state and "add-port br0 vhost-user2 type=vhostuser" in state and
          "queues=4" in state and "devargs=net_ring2" in state,
          "the state file has what runs:\n%s" % state)



def guest_frames(g, n, what):
    """Waits until g has received n intact frames, and no more."""
    got = {"frames": 0}

    def more():
        r = g.rx()
        check(r["bad"] == 0, "%s: the receiver saw %s" % (what, r))
        got["frames"] += r["frames"]
        return got["frames"] >= n

    wait_for(more, 10, 0.02)
    time.sleep(0.2)
    more()
    check(got["frames"] == n, "%s: %d frames arrived, expected %d" % (what, got["frames"], n))


def test_reconfigure(c):
    """set port with a device setting (queues, path) on a port whose guest
    is connected: the port is made anew under its name, keeping its VLAN;
    the guest reconnects and frames flow again. A setting the new device
    refuses leaves the old one running."""
    sw = Switch(c, "reconf", "add-br br0\nadd-port br0 vm0 type=vhostuser tag=7\n"
                             "add-port br0 vm1 type=vhostuser tag=7\n")
    g0, g1 = Guest(c, sw.sock("vm0"), A), Guest(c, sw.sock("vm1"), B)
    sw.wait_port_state("vm0", "up")
    sw.wait_port_state("vm1", "up")
    g1.rxpost(64)
    g0.tx(B, n=10)
    guest_frames(g1, 10, "before")

    sw.vqctl("set", "port", "vm1", "queues=2", "path=" + sw.sock("vm1b"))
    vm1 = port_of(sw.vqctl("show", fmt="json"), "vm1")[1]
    check(vm1["queues"] == 2 and vm1["tag"] == 7 and vm1["path"] == sw.sock("vm1b"),
          "vm1 reconfigured: %s" % vm1)
    check(not os.path.exists(sw.sock("vm1")) and os.path.exists(sw.sock("vm1b")),
          "the old socket is gone, the new one listens")
    check(sorted(q["queue"] for p in sw.vqctl("pmd/rxq-show", fmt="json") for q in p["rxqs"]
                 if q["port"] == "vm1") == [0, 1], "two RX queues polled")
    g1.disconnect()
    g1 = Guest(c, sw.sock("vm1b"), B)
    sw.wait_port_state("vm1", "up")
    g1.rxpost(64)
    g0.tx(B, n=10, seq=100)
    guest_frames(g1, 10, "after the restart")
    check("restarted with its new settings" in sw.log_text(), "logged")

    before = sw.vqctl("show", fmt="json")
    expect_fail(sw, ["set", "port", "vm1", "path=" + sw.sock("vm0")], "is used by port vm0")
    expect_fail(sw, ["set", "port", "vm1", "queues=9"], "from 1 to 8")
    check(sw.vqctl("show", fmt="json") == before, "refused settings change nothing")
    with open(sw.state) as f:
        check("add-port br0 vm1 type=vhostuser path=%s queues=2 tag=7" % sw.sock("vm1b") in f.read(),
              "the state file has the new settings")
    check(sw.stop() == 0, "exit code")


def test_tap_rxq(c):
    """OVS's `set Interface P options:n_rxq=N` on a net_tap port: net_tap
    takes only as many TX queues as RX queues (a kernel queue is both),
    and the switch asked for one TX queue per PMD, so the device refused
    ("Operation not permitted"). Now the device gets as many TX queues as
    RX queues: the port comes back with 2 RX queues, both polled, and
    frames the host sends on the tap interface arrive."""
    tap = "vqrxq%d" % (os.getpid() % 10000)
    sw = Switch(c, "taprxq", "add-br br0\nadd-port br0 up type=dpdk devargs=net_tap0,iface=%s\n" % tap)
    env = dict(os.environ, VQCTL_SOCKET=sw.ctl_socket)
    r = subprocess.run([VQCTL, "set", "Interface", "up", "options:n_rxq=2"], capture_output=True,
                       text=True, timeout=60, env=env)
    check(r.returncode == 0, "set Interface up options:n_rxq=2: %s" % (r.stderr or r.stdout))
    up = port_of(sw.vqctl("show", fmt="json"), "up")[1]
    check(up["queues"] == 2 and up["state"] == "up", "up with 2 RX queues: %s" % up)
    check(sorted(q["queue"] for p in sw.vqctl("pmd/rxq-show", fmt="json") for q in p["rxqs"]
                 if q["port"] == "up") == [0, 1], "two RX queues polled")
    check("takes only as many TX queues as RX queues" in sw.log_text(), "logged")
    subprocess.run(["ip", "link", "set", tap, "up"], check=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    c.add(s.close)
    s.bind((tap, 0))
    before = sw.port("up")["rx_packets"]
    for i in range(16):  # several flows: the kernel spreads them over the queues
        s.send(frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:0e:%02x" % i))
    check(wait_for(lambda: sw.port("up")["rx_packets"] >= before + 16, 3, 0.05),
          "frames from the host arrive: %s" % sw.port("up"))
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_verbs, test_bad_requests, test_churn, test_restart, test_vlan_isolation,
                   test_client_mode, test_port_scripts, test_ovs_names, test_ovs_script,
                   test_reconfigure, test_tap_rxq]))
