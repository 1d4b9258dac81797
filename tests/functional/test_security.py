#!/usr/bin/env python3
"""Safe to run as a host's only switch: who may change it, which files root
touches, one instance and one frontend per socket, restarts that bring back
exactly what ran, and the control thread and data path under mistakes and
hostile peers. Each test names the failure it guards against."""
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

from vqguest import Guest
from vqtest import (VQCTL, VQSWITCH, Switch, Traffic, Veth, check, check_arrived, frame, log, main, run,
                    wait_for)

A, B, VM_A, VM_B = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:1a:01", "02:00:00:00:1b:01"
CTL_GROUP, VHOST_GROUP, USER = "vqs_sec_ctl", "vqs_sec_kvm", "nobody"


def vqctl_as(sw, groups, *args):
    """vqctl run as user nobody with the given supplementary groups (a copy
    in the test's directory: the build tree may be closed to others)."""
    copy = os.path.join(sw.dir, "vqctl")
    if not os.path.exists(copy):
        shutil.copy(VQCTL, copy)
        os.chmod(copy, 0o755)
    r = subprocess.run([copy, "--socket", sw.ctl_socket] + list(args), capture_output=True, text=True,
                       user=USER, group="nogroup", extra_groups=groups, timeout=30)
    return r.returncode, r.stdout, r.stderr


def groups(c):
    for g in (CTL_GROUP, VHOST_GROUP):
        run(["groupadd", "-f", g])
        c.add(lambda g=g: run(["groupdel", g], check_rc=False))


def ports(sw):
    return {p["name"]: p for br in sw.vqctl("show", fmt="json")["bridges"] for p in br["ports"]}


def test_control_socket_access(c):
    """Only root and --ctl-group may use the control socket: not the
    --socket-group that QEMU runs as, not anybody else, even if the
    socket's mode were opened up (SO_PEERCRED). Changes are logged with the
    peer's uid; debug commands exist only with --enable-debug-commands."""
    groups(c)
    sw = Switch(c, "secctl", "add-br br0\n", sockdir="run",
                args=["--socket-group", VHOST_GROUP, "--ctl-group", CTL_GROUP])
    os.chmod(sw.dir, 0o755)  # so that nobody may reach the socket directory
    rc, out, err = vqctl_as(sw, [VHOST_GROUP], "add-port", "br0", "up", "type=dpdk",
                            "devargs=net_af_packet0,iface=lo")
    check(rc == 2 and "Permission denied" in err, "the vhost-user group changed the switch: %d %s" % (rc, err))
    rc, out, err = vqctl_as(sw, [CTL_GROUP], "add-br", "br1")
    check(rc == 0, "the control group may change it: %s" % err)
    uid = pwd.getpwnam(USER).pw_uid
    check("vqswitch.ctl: uid %d gid " % uid in sw.log_text() and "add-br br1: ok" in sw.log_text(),
          "change logged with the peer's uid:\n%s" % sw.log_text()[-1000:])
    # The file mode is one guard, the peer check another.
    os.chmod(sw.ctl_socket, 0o666)
    rc, out, err = vqctl_as(sw, [VHOST_GROUP], "add-br", "br2")
    check(rc == 1 and "permission denied" in err, "peer check: %d %s" % (rc, err))
    check(sw.vqctl("list-br", fmt="json") == ["br0", "br1"], "nothing changed")
    rc, _, err = sw.vqctl("debug/fail-publish", "1", check_rc=False)
    check(rc == 1 and "unknown command 'debug/fail-publish'" in err, "debug commands without the option: %s" % err)
    check(sw.stop() == 0, "exit code")

    # Without --ctl-group, root only: the group of the vhost-user sockets
    # is refused even with the mode opened up.
    sw = Switch(c, "secctl2", "add-br br0\n", sockdir="run", args=["--socket-group", VHOST_GROUP])
    os.chmod(sw.dir, 0o755)
    check(stat.S_IMODE(os.stat(sw.ctl_socket).st_mode) == 0o600, "root-only control socket")
    os.chmod(sw.ctl_socket, 0o666)
    rc, _, err = vqctl_as(sw, [VHOST_GROUP, CTL_GROUP], "show")
    check(rc == 1 and "permission denied" in err, "not root: %d %s" % (rc, err))
    check(sw.stop() == 0, "exit code")


def test_server_socket_paths(c):
    """A type=vhostuser socket lives directly in the socket directory: no
    other spelling of a live port's socket, not the control socket, no
    socket another process listens on, no file planted as a link, nothing
    outside the directory. The control socket and vm1 keep working."""
    sw = Switch(c, "secpath", "add-br br0\nadd-port br0 vm1 type=vhostuser\n")
    ino = os.stat(sw.sock("vm1")).st_ino
    target = os.path.join(sw.dir, "victim")
    with open(target, "w") as f:
        f.write("keep")
    os.symlink(target, os.path.join(sw.sockdir, "link.sock"))
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.add(live.close)
    live.bind(os.path.join(sw.sockdir, "live.sock"))
    live.listen(1)
    for path, why in ((sw.sockdir + "//vm1.sock", "is used by port vm1"),
                      (sw.sockdir + "/./vm1.sock", "is used by port vm1"),
                      (sw.ctl_socket, "is in use"),
                      (os.path.join(sw.sockdir, "live.sock"), "is in use"),
                      (os.path.join(sw.sockdir, "link.sock"), "exists and is not a socket"),
                      ("/tmp/elsewhere.sock", "directly inside the socket directory"),
                      (sw.sockdir + "/../x.sock", "without '..'")):
        rc, _, err = sw.vqctl("add-port", "br0", "x", "type=vhostuser", "path=" + path, check_rc=False)
        check(rc == 1 and why in err, "path=%s: %d %s" % (path, rc, err.strip()))
    check(os.stat(sw.sock("vm1")).st_ino == ino, "vm1's socket replaced")
    check(os.path.islink(os.path.join(sw.sockdir, "link.sock")) and open(target).read() == "keep",
          "the planted link or its target changed")
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["vm1"], "control socket answers; nothing added")
    # A client-mode port may point anywhere: it only connects.
    sw.vqctl("add-port", "br0", "cl", "type=vhostuserclient", "path=/tmp/vqs-nowhere/qemu.sock")
    check(sw.stop() == 0, "exit code")


def test_existing_directories_untouched(c):
    """--socket-dir and --state in directories that exist keep their owner
    and mode (a sticky /tmp-like directory stays sticky, a state file in the
    socket directory does not lock the socket group out)."""
    groups(c)
    base = tempfile.mkdtemp(prefix="vqs-secdir-")
    c.add(lambda: run(["rm", "-rf", base], check_rc=False))
    shared = os.path.join(base, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    lib = os.path.join(base, "lib")
    os.mkdir(lib)
    os.chmod(lib, 0o751)
    gid = grp.getgrnam(VHOST_GROUP).gr_gid
    sockdir = os.path.join(base, "sockets")
    os.mkdir(sockdir)
    os.chown(sockdir, 0, gid)
    os.chmod(sockdir, 0o750)
    for sd, state in ((shared, os.path.join(lib, "x.state")), (sockdir, os.path.join(sockdir, "vq.state"))):
        before = {d: os.stat(d) for d in (shared, lib, sockdir)}
        sw = Switch(c, "secdir", "add-br br0\nadd-port br0 vm1 type=vhostuser\n",
                    args=["--socket-dir", sd, "--state", state, "--socket-group", VHOST_GROUP])
        sw.sockdir, sw.ctl_socket = sd, os.path.join(sd, "vqswitch.ctl")
        check(os.path.exists(sw.sock("vm1")) and os.path.exists(state), "running")
        for d, st in before.items():
            now = os.stat(d)
            check((now.st_mode, now.st_uid, now.st_gid) == (st.st_mode, st.st_uid, st.st_gid),
                  "%s changed: %o %d:%d -> %o %d:%d" % (d, st.st_mode, st.st_uid, st.st_gid,
                                                        now.st_mode, now.st_uid, now.st_gid))
        check(sw.stop() == 0, "exit code")


def test_one_instance(c):
    """A second vqswitch on the same socket directory (another file prefix)
    exits with a clear message and touches nothing of the first's."""
    sw = Switch(c, "secone", "add-br br0\nadd-port br0 vm1 type=vhostuser\n")
    ino = os.stat(sw.sock("vm1")).st_ino, os.stat(sw.ctl_socket).st_ino
    cfg = os.path.join(sw.dir, "other.conf")
    with open(cfg, "w") as f:
        f.write("add-br brx\nadd-port brx vm1 type=vhostuser\n")
    r = subprocess.run([VQSWITCH, "-l", "0,1", "--file-prefix", "vqt_sectwo_%d" % os.getpid(), "-m", "128",
                        "--no-pci", "--", "--config", cfg, "--socket-dir", sw.sockdir, "--no-state"],
                       capture_output=True, text=True, timeout=60)
    run("rm -rf /var/run/dpdk/vqt_sectwo_%d" % os.getpid(), check_rc=False)
    check(r.returncode == 2 and "another vqswitch (pid %d) uses the socket directory" % sw.proc.pid in r.stderr,
          "second instance: %d %s" % (r.returncode, r.stderr))
    check((os.stat(sw.sock("vm1")).st_ino, os.stat(sw.ctl_socket).st_ino) == ino, "sockets taken over")
    check(sw.vqctl("list-br", fmt="json") == ["br0"], "the first still answers")
    check(sw.stop() == 0, "exit code")


def test_second_frontend(c):
    """A second frontend on a port's socket waits and changes nothing, a
    third is refused; the first keeps the port through both leaving, and
    frames still reach it."""
    va = Veth(c, "vqsf0")
    sw = Switch(c, "secfe", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n"
                            "add-port br0 n type=dpdk devargs=%s\n" % va.devargs(0))
    g1 = Guest(c, sw.sock("vm1"), VM_A)
    sw.wait_port_state("vm1", "up")
    g1.rxpost(64)
    g2 = Guest(c, sw.sock("vm1"), VM_B)
    s3 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.add(s3.close)
    s3.connect(sw.sock("vm1"))
    s3.settimeout(5)
    check(s3.recv(16) == b"", "a third connection is closed")
    p = sw.port("vm1")
    check(p["connections_waited"] == 1 and p["connections_refused"] == 1 and p["connects"] == 1,
          "counted: %s" % p)

    def reaches_g1(seq):
        va.send(frame(VM_A, A, b"x%d" % seq))
        return wait_for(lambda: g1.rx()["frames"] > 0, 3, 0.05)

    check(reaches_g1(1), "frames reach the first guest while a second is connected")
    g2.disconnect()
    time.sleep(0.3)
    check(sw.port("vm1")["state"] == "up" and reaches_g1(2), "the second leaving takes nothing down")
    check(g1.tx(A, n=1) == 1 and va.collect(2, count=1), "the first guest still sends")
    g1.disconnect()
    sw.wait_port_state("vm1", "down")
    g1.connect()
    sw.wait_port_state("vm1", "up")
    check(sw.stop() == 0, "exit code")


def test_state_round_trip(c):
    """Names, paths and lists the commands accept come back identically
    after a restart: blanks, '#', quotes and backslashes in paths, a trunk
    list of thousands of characters. What cannot be represented (an empty
    trunk element, a control character) is refused."""
    sw = Switch(c, "secrt", "add-br br0\n")
    odd = os.path.join(sw.sockdir, 'a b#c"d\\e\'f.sock')
    sw.vqctl("add-port", "br0", "h1", "type=vhostuser", "path=" + odd, "tag=7")
    check(os.path.exists(odd), "socket at the odd path")
    sw.vqctl("add-port", "br0", "h2", "type=vhostuserclient", "path=/tmp/vqs nowhere/#x\\.sock")
    trunks = ",".join(str(v) for v in range(1, 1600, 2))
    check(len(trunks) > 3000, "a long list")
    sw.vqctl("add-port", "br0", "h3", "type=vhostuser", "queues=2")
    sw.vqctl("set", "port", "h3", "trunks=" + trunks)
    for bad, why in ((["set", "port", "h3", "trunks=,"], "trunks=,"),
                     (["set", "port", "h3", "trunks=1,,2"], "trunks=1,,2"),
                     (["add-port", "br0", "h4", "type=vhostuser", "path=%s/x\ny.sock" % sw.sockdir],
                      "control character")):
        rc, _, err = sw.vqctl(*bad, check_rc=False)
        check(rc == 1 and why in err, "%s: %d %s" % (bad, rc, err))
    before = sw.vqctl("show", fmt="json")
    with open(sw.state) as f:
        state = f.read()
    check(sw.stop() == 0, "exit code")
    sw.start()
    after = sw.vqctl("show", fmt="json")
    for p in after["bridges"][0]["ports"]:
        p["state"] = "?"
    for p in before["bridges"][0]["ports"]:
        p["state"] = "?"
    check(before == after, "a restart changed the configuration:\n%s\n%s" % (before, after))
    check(after["bridges"][0]["ports"][2]["trunks"] == trunks, "trunks kept")
    with open(sw.state) as f:
        check(f.read() == state, "the state file reads back and is written again the same")
    check(sw.stop() == 0, "exit code")


def test_restore_keeps_going(c):
    """A port that cannot start (its NIC not there yet, an lcore not given)
    does not stop the others: it stays configured, shows its error, and
    comes up by itself once it can."""
    sw = Switch(c, "secrst", "add-br br0\nadd-port br0 vm1 type=vhostuser\n"
                             "add-port br0 up0 type=dpdk devargs=net_pcap5,iface=vqsrst0\n"
                             "add-port br0 pin type=vhostuser queues=1 pmd-rxq-affinity=0:3\n")
    check(os.path.exists(sw.sock("vm1")), "the good port runs")
    p = ports(sw)
    check(p["up0"]["state"] == "error" and "cannot probe device" in p["up0"]["error"], "up0: %s" % p["up0"])
    check(p["pin"]["state"] == "error" and "lcore 3 is not a PMD lcore" in p["pin"]["error"], "pin: %s" % p["pin"])
    check("unsaved" not in sw.vqctl("show"), "saved")
    with open(sw.state) as f:
        state = f.read()
    check("up0" in state and "pin" in state, "failed ports stay in the state file:\n%s" % state)
    sw.vqctl("set", "port", "up0", "tag=5")
    sw.vqctl("add-port", "br0", "vm2", "type=vhostuser")
    Veth(c, "vqsrst0")
    if not wait_for(lambda: ports(sw)["up0"]["state"] != "error", 10, 0.2):
        raise AssertionError("up0 did not come up once its NIC was there: %s" % ports(sw)["up0"])
    check(ports(sw)["up0"]["tag"] == 5, "with the settings it was given meanwhile")
    sw.vqctl("del-port", "pin")
    check("pin" not in ports(sw) and "pin" not in open(sw.state).read(), "a failed port can be deleted")
    check(sw.stop() == 0, "exit code")


def test_unsaved_state(c):
    """A state save that fails (read-only file system) does not make a
    change that took effect look failed: vqctl exits 3 with 'applied, but
    not saved', 'show' says so, and the save is retried until it works."""
    d = tempfile.mkdtemp(prefix="vqs-secro-")
    run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d])
    c.add(lambda: run(["rmdir", d], check_rc=False))
    c.add(lambda: run(["umount", "-l", d], check_rc=False))
    state = os.path.join(d, "vq.state")
    sw = Switch(c, "secro", "add-br br0\n", args=["--state", state])
    run(["mount", "-o", "remount,ro", d])
    rc, _, err = sw.vqctl("add-br", "br9", check_rc=False)
    check(rc == 3 and "applied, but not saved" in err, "vqctl: %d %s" % (rc, err))
    check(sw.vqctl("list-br", fmt="json") == ["br0", "br9"], "the change is in effect")
    check(sw.vqctl("show").startswith("unsaved: ") and "unsaved" in sw.vqctl("show", fmt="json"), "show flags it")
    run(["mount", "-o", "remount,rw", d])
    check(wait_for(lambda: "unsaved" not in sw.vqctl("show", fmt="json"), 10, 0.2), "saved once it could be")
    with open(state) as f:
        check("add-br br9" in f.read(), "the state file has the change")
    check(sw.stop() == 0, "exit code")


def test_publish_failure(c):
    """When no new datapath snapshot can be built (out of memory, injected),
    every command fails with nothing changed and the PMDs keep forwarding
    on the old one; counters stay exact (tx_bytes counted before the
    device may free the frames)."""
    va, vb = Veth(c, "vqspf0"), Veth(c, "vqspf1")
    sw = Switch(c, "secpub", "add-br br0 mac-table-size=1000\nadd-port br0 a type=dpdk devargs=%s\n"
                             "add-port br0 b type=dpdk devargs=%s\nadd-port br0 vm1 type=vhostuser\n"
                % (va.devargs(0), vb.devargs(1)), args=["--enable-debug-commands"])
    traffic = Traffic(c, {1: (va, B, A)}, [vb], rate=300)
    time.sleep(0.5)
    show = sw.vqctl("show", fmt="json")
    for cmd in (["del-port", "b"], ["set", "port", "b", "tag=5"], ["add-port", "br0", "v2", "type=vhostuser"],
                ["add-br", "br1"], ["set", "bridge", "br0", "mac-table-size=100"], ["del-br", "br0"]):
        sw.vqctl("debug/fail-publish", "1")
        rc, _, err = sw.vqctl(*cmd, check_rc=False)
        check(rc == 1 and "nothing changed" in err, "%s: %d %s" % (cmd, rc, err))
        check(sw.vqctl("show", fmt="json") == show, "%s changed the configuration" % cmd)
        time.sleep(0.2)
    check(not os.path.exists(sw.sock("v2")), "no socket left by the failed add-port")
    traffic.finish()
    check(sw.alive(), "vqswitch died")
    check_arrived(sw, traffic, 1, "a", "a->b")
    # Every frame sent, but those a's device dropped before the switch
    # read them (rx_missed: a PMD descheduled on a loaded machine).
    b, missed = sw.port("b"), sw.port("a")["rx_missed"]
    check(b["tx_packets"] >= traffic.sent[1] - missed and b["tx_bytes"] == 78 * b["tx_packets"],
          "tx counters of b (%d sent, %d missed by a's device): %s" % (traffic.sent[1], missed, b))
    sw.vqctl("del-port", "b")
    check(sw.vqctl("list-ports", "br0", fmt="json") == ["a", "vm1"], "then it works")
    check(sw.stop() == 0, "exit code")


def test_control_clients(c):
    """Idle clients cannot lock operators out (a new client takes the slot
    of the one that waited longest; idle ones are closed), and fdb/show on
    a table a guest filled lists at most 10000 entries, says so, and pages
    on."""
    va = Veth(c, "vqscc0")
    sw = Switch(c, "seccl", "add-br br0 mac-table-size=20000\nadd-port br0 a type=dpdk devargs=%s\n"
                % va.devargs(0))
    idle = []
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sw.ctl_socket)
        c.add(s.close)
        idle.append(s)
    rc, out, err = sw.vqctl("list-br", check_rc=False)
    check(rc == 0 and out == "br0\n", "an operator gets in past 20 idle clients: %d %s" % (rc, err))
    time.sleep(6)
    for s in idle:
        s.settimeout(2)
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            raise AssertionError("an idle control client was not closed")
    n = 10500
    macs = lambda: sw.vqctl("show", fmt="json")["bridges"][0]["macs"]
    # A descheduled PMD lets the veth's socket drop frames (rx_missed):
    # the same sources go again, up to five times, until the table holds
    # more than a page; a source already learned only refreshes its entry.
    for _ in range(5):
        for i in range(n):
            va.send(frame("ff:ff:ff:ff:ff:ff", "02:01:00:00:%02x:%02x" % (i >> 8, i & 0xFF)))
            if i % 500 == 499:
                time.sleep(0.05)
        if wait_for(lambda: macs() == n, 10, 0.2):
            break
    total = macs()
    check(total > 10000, "table filled: %d" % total)
    r = subprocess.run([VQCTL, "--socket", sw.ctl_socket, "--format", "json", "fdb/show", "br0"],
                       capture_output=True, text=True, timeout=30)
    first = json.loads(r.stdout)
    check(r.returncode == 0 and len(first) == 10000 and "truncated" in r.stderr and "offset=10000" in r.stderr,
          "first page: %d entries, %s" % (len(first), r.stderr))
    rest = sw.vqctl("fdb/show", "br0", "offset=10000", fmt="json")
    check(len(rest) == total - 10000, "second page: %d of %d" % (len(rest), total - 10000))
    check(len({e["mac"] for e in first + rest}) == total, "pages overlap")
    rc, _, err = sw.vqctl("fdb/show", "br0", "limit=1000000", check_rc=False)
    check(rc == 1 and "limit=1000000" in err, "limit bounded: %s" % err)
    check(sw.stop() == 0, "exit code")


def test_sighup(c):
    """SIGHUP shuts down in order, like SIGTERM: sockets removed, exit 0."""
    sw = Switch(c, "sechup", "add-br br0\nadd-port br0 vm1 type=vhostuser\n")
    sw.proc.send_signal(signal.SIGHUP)
    check(sw.proc.wait(20) == 0, "exit code %s" % sw.proc.returncode)
    check(not os.path.exists(sw.sock("vm1")) and not os.path.exists(sw.ctl_socket), "sockets removed")
    check("signal 1: shutting down" in sw.log_text(), "orderly shutdown logged")


def test_log_rate_limit(c):
    """A guest that sends bad vhost-user messages over and over gets a
    bounded number of log lines, not one per message."""
    sw = Switch(c, "secrl", "add-br br0\nadd-port br0 bad type=vhostuser queues=1\n")
    g = Guest(c, sw.sock("bad"), VM_A)
    rounds = 40
    for _ in range(rounds):
        sw.wait_port_state("bad", "up")
        g.call("badmsg kind=mem_zero_size")
        g.disconnect()
        g.connect()
    check(sw.alive(), "vqswitch died")
    text = sw.log_text()
    warned = text.count("memory table with a bad region")
    connected = text.count("guest connected")
    log("%d rounds: %d warnings, %d connect lines" % (rounds, warned, connected))
    check(0 < warned <= 20 and 0 < connected <= 20, "%d warnings, %d connect lines" % (warned, connected))
    check(sw.stop() == 0, "exit code")


def test_pmd_sleep_fds(c):
    """With --pmd-sleep, a PMD sleeps on its own duplicates of the guests'
    kick eventfds: a guest that reconnects (new eventfds) still wakes it,
    and a queue moved to another PMD while its PMD slept gets kicks turned
    off again."""
    va = Veth(c, "vqssl0")
    sw = Switch(c, "secsl", "add-br br0\nadd-port br0 vm1 type=vhostuser queues=1\n"
                            "add-port br0 n type=dpdk devargs=%s\n" % va.devargs(0),
                lcores="0@0,1@1,2@1")
    g = Guest(c, sw.sock("vm1"), VM_A)
    sw.wait_kicks_off("vm1", 2)
    sw.vqctl("set", "pmd", "sleep=300")
    for round in range(3):
        time.sleep(0.6)
        check(sw.port("vm1")["vrings_kicks_off"] == 1, "round %d: asleep, TX kicks on" % round)
        va.drain()
        check(g.tx(A, n=1, seq=round) == 1, "sent")
        check(va.collect(2, count=1), "round %d: the kick woke the PMD" % round)
        g.txdone()
        g.disconnect()
        g.connect()
        sw.wait_port_state("vm1", "up")
    time.sleep(0.6)
    pmd = [p for p in sw.vqctl("pmd/rxq-show", fmt="json") if any(q["port"] == "vm1" for q in p["rxqs"])][0]
    other = 2 if pmd["lcore"] == 1 else 1
    sw.vqctl("set", "port", "vm1", "pmd-rxq-affinity=0:%d" % other)
    sw.vqctl("set", "pmd", "sleep=off")
    sw.wait_kicks_off("vm1", 2)
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_control_socket_access, test_server_socket_paths, test_existing_directories_untouched,
                   test_one_instance, test_second_frontend, test_state_round_trip, test_restore_keeps_going,
                   test_unsaved_state, test_publish_failure, test_control_clients, test_sighup,
                   test_log_rate_limit, test_pmd_sleep_fds]))
