#!/usr/bin/env python3
"""Live migration of real guests (QEMU under TCG) between vhost-user
ports of one switch, four migrations on one boot of two guests:

- guest 1 (ports vm1 and vm1b) has Linux's and QEMU's defaults, with
  GUEST_ANNOUNCE: after a migration QEMU tells it through a config
  interrupt, and it sends gratuitous ARPs itself;
- guest 2 (ports vm2 and vm2b) has guest_announce=off: QEMU then asks the
  backend (VHOST_USER_SEND_RARP) to announce it, and the switch sends a
  RARP from its MAC into the bridge as if from the new port.

1. Guest 1, vm1 -> vm1b, under traffic: guest 2 sends it a checked UDP
   stream (tests/vm/udpcheck.c: every payload's checksum and pattern
   checked, duplicates counted) and a file over TCP while QEMU, its
   bandwidth throttled so that the migration lasts seconds, copies its
   memory. A write of the switch into guest memory that the dirty log
   missed arrives at the destination as corrupt or stale data, a stale
   used ring, or a migration QEMU cannot load. Its gratuitous ARPs move
   its MAC within a second; the source port moves no more frames.
2. Guest 2, vm2 -> vm2b, first to a destination QEMU killed halfway (the
   migration fails, the guest runs on at its source, QEMU turns logging
   off again, the switch is not wedged), then to a new destination on
   the same port, with the PMD sleeping when idle (`set pmd sleep=1`).
   The guest is silent, so only the switch's RARP can move its MAC (a
   RARP left for the next poll would wait for a kick that does not
   come); guest 1 watches for it.
3. Guest 1 back, vm1b -> a new QEMU on vm1, under traffic as in 1.
4. Guest 2 back, vm2b -> vm2, silent, the PMD sleeping.

The PMD sleeps in the silent migrations only, not under traffic: QEMU
7.2 under TCG loses some of the guest's own writes in a live migration
(a guest without any vhost device, writing files, had 0-11 of its 32768
pages differ between the paused source and the loaded destination in 4
of 6 migrations here). With the PMD asleep between datagrams, the guest
under traffic is busier (its kicks, its wake-ups) and the loss grew: 11
and 23 pages in 2 of 3 migrations, among them its RX descriptor table,
after which the switch at the destination follows stale descriptors and
the guest's slab breaks. Pages the switch never writes.

Every QEMU has a QMP socket; destinations start with -incoming defer.
On a datapath that does not offer VHOST_F_LOG_ALL QEMU refuses to
migrate (a migration blocker), and the case fails saying so.
"""
import os
import re
import sys
import time

from guest import Guest
from vqtest import Switch, TestFailure, check, log, main, wait_for

IP1, IP2 = "10.99.0.1", "10.99.0.2"
MAC1, MAC2 = "52:54:00:99:00:01", "52:54:00:99:00:02"
QUIET = ",guest_announce=off"  # guest 2's device: the switch announces it
MEM = 128  # MB: less to migrate
# Datagrams a second, and bytes: the largest that fit a frame of 1514
# bytes, and so Linux's mergeable RX buffers of 1536 bytes, with too
# little room left for the skb_shared_info that build_skb() would write
# into the buffer (a write of the guest's own that would have QEMU send
# the page again): the payload stays in the buffer the switch wrote it to.
# The receiver reads each datagram once it has waited a second in the
# guest's socket queue: those of the last second before the switchover
# are read at the destination, from the pages QEMU copied.
UDP_RATE, UDP_SIZE, UDP_DELAY_MS = 1000, 1472, 1000
# 3 MB, sent at ~1.6 MB/s and read at 1 MB/s: the stream waits in the
# guest's socket queue, in the buffers the switch wrote it to.
TCP_CHUNKS, TCP_CHUNK_KB, TCP_GAP_US, TCP_READ_RATE = 48, 64, 40000, 1 << 20
BANDWIDTH = 32 << 20  # bytes a second: the migration lasts a few seconds


def scenario(what):
    log("-- %s" % what)


def fdb_port(sw, mac):
    """The port the bridge's MAC table has mac on, or None."""
    for e in sw.telemetry("/vqswitch/fdb,br0")["entries"]:
        f = e.split()
        if f[0].lower() == mac.lower():
            return f[2]
    return None


def bg(g, command):
    """Starts command in the guest's background; its pid."""
    out = g.check("%s & echo VQS_PID=$!" % command)
    return int(re.search(r"VQS_PID=(\d+)", out).group(1))


def listening(g, command, log_path):
    """Starts a udpcheck recv or watch in the guest's background and waits
    until it listens (its signal handlers set); its pid."""
    pid = bg(g, "%s > %s 2>&1" % (command, log_path))
    for _ in range(50):
        if "listening" in g.run("cat %s" % log_path)[1]:  # none until the job runs
            return pid
        time.sleep(0.1)
    raise TestFailure("%s: %s does not listen:\n%s" % (g.name, command, g.check("cat %s" % log_path)))


def summary(g, pid, log_path, prefix, end=False):
    """The summary line a udpcheck prints on SIGUSR1 (or, with end, on
    SIGTERM, after which it exits), as a dict of its numbers."""
    out = g.check("kill -%s %d; sleep 0.5; grep '^%s .*=' %s | tail -1" %
                  ("TERM" if end else "USR1", pid, prefix, log_path))
    m = re.findall(r"^%s (.*=.*)$" % prefix, out, re.M)
    check(m, "%s: no summary from udpcheck in %s:\n%s" % (g.name, log_path, out))
    return {k: int(v) for k, v in (kv.split("=") for kv in m[-1].split())}


class Migrant:
    """One migrating guest: its address, its device, its two ports, the
    QEMU it runs in now (cur) and the watcher in the other guest that
    counts its announces (a udpcheck watch, which migrates with that
    guest: its pid and log stay valid)."""

    def __init__(self, c, sw, n, mac, ip, device):
        self.c, self.sw, self.n = c, sw, n
        self.mac, self.ip, self.device = mac, ip, device
        self.ports = ("vm%d" % n, "vm%db" % n)
        self.qemus = 0
        self.cur = self.qemu(self.ports[0], incoming=False)
        self.watcher = self.watch_pid = None

    def qemu(self, port, incoming=True):
        """A QEMU for this guest on port. init_on_alloc=0: Linux would
        zero each page it allocates for RX buffers, and that write of its
        own would have QEMU send the page again, hiding a write of the
        switch that the dirty log missed."""
        self.qemus += 1
        name = "mig%d-%d-%s" % (self.n, self.qemus, port)
        q = Guest(self.c, name, self.sw.sock(port), self.ip + "/24", self.mac, mem=MEM,
                  device=self.device, qmp=os.path.join(self.sw.dir, name + ".qmp"),
                  incoming="defer" if incoming else None, wait=False, append="init_on_alloc=0")
        q.port = port
        return q

    def announces(self):
        """(gratuitous ARPs, RARPs) from this guest's MAC the watcher saw."""
        w = summary(self.watcher.cur, self.watch_pid, "/tmp/watch%d.log" % self.n, "WATCH")
        return w["garp"], w["rarp"]

    def port(self):
        return fdb_port(self.sw, self.mac)


def migrate(sw, src, dst, bandwidth):
    """Migrates src's guest to dst (started with -incoming defer) over a
    Unix socket; returns the time the migration was seen completed."""
    uri = "unix:" + os.path.join(sw.dir, "migrate.sock")
    dst.qmp().execute("migrate-incoming", uri=uri)
    q = src.qmp()
    q.execute("migrate-set-parameters", **{"max-bandwidth": bandwidth})
    try:
        q.execute("migrate", uri=uri)
    except TestFailure as e:
        # QEMU's migration blocker for a vhost backend without dirty
        # logging: "Migration disabled: vhost lacks VHOST_F_LOG_ALL feature."
        if "LOG_ALL" in str(e):
            raise TestFailure("QEMU refuses to migrate: the switch (--datapath=%s) does not offer "
                              "VHOST_F_LOG_ALL (dirty-page logging): %s" %
                              (os.environ.get("VQS_DATAPATH", "direct"), e))
        raise
    start, st = time.time(), {}
    while time.time() - start < 120:
        st = q.execute("query-migrate")
        if st.get("status") == "completed":
            done = time.time()
            ram = st.get("ram", {})
            log("migration %s -> %s: %.1f s (QEMU: total %d ms, downtime %d ms, %d dirty syncs, "
                "%.1f MB sent)" %
                (src.name, dst.name, done - start, st.get("total-time", -1), st.get("downtime", -1),
                 ram.get("dirty-sync-count", -1), ram.get("transferred", 0) / 1e6))
            # The source is done when it has sent everything; the
            # destination runs once it has loaded it.
            running = wait_for(lambda: dst.qmp().execute("query-status").get("status") == "running", 10, 0.02)
            check(running, "%s not running 10 s after the migration: %s" %
                  (dst.name, dst.qmp().execute("query-status")))
            return done
        if st.get("status") in ("failed", "cancelled"):
            raise TestFailure("migration %s -> %s %s: %s" % (src.name, dst.name, st["status"],
                                                            st.get("error-desc", st)))
        time.sleep(0.05)
    raise TestFailure("migration %s -> %s not completed after 120 s: %s" % (src.name, dst.name, st))


def fdb_moved(g, to, switchover, what):
    """The guest's MAC on port `to` within a second of the switchover."""
    port = wait_for(lambda: g.port() == to and to, switchover + 1.0 - time.time(), 0.02)
    late = time.time() - switchover
    if not port:
        raise TestFailure("no %s/FDB move: %s still on port %s %.2f s after the switchover; "
                          "port %s: %s" % (what, g.mac, g.port(), late, to, g.sw.port(to)))
    log("%s on %s %.2f s after the switchover" % (g.mac, to, late))


def source_quiet(sw, port):
    """The source port sees no more frames: its counters stand still."""
    def counts():
        p = sw.port(port)
        return p["rx_packets"], p["tx_packets"]

    before = counts()
    time.sleep(1.0)
    after = counts()
    check(before == after, "port %s still moves frames after the migration: rx, tx %s then %s" %
          (port, before, after))


def move(g, dst, bandwidth, what):
    """g's guest migrates from its current QEMU to dst: the MAC moves
    within a second, the source port goes quiet, the source QEMU quits
    and its port goes down. Returns the announces the watcher saw."""
    frm, to = g.cur.port, dst.port
    check(g.port() == frm, "%s on %s before the migration" % (g.mac, frm))
    a0 = g.announces()
    switchover = migrate(g.sw, g.cur, dst, bandwidth)
    fdb_moved(g, to, switchover, what)
    source_quiet(g.sw, frm)
    src, g.cur = g.cur, dst
    a1 = g.announces()
    log("announces from %s seen by the other guest: %d gratuitous ARPs, %d RARPs" %
        (g.mac, a1[0] - a0[0], a1[1] - a0[1]))
    src.qmp().execute("quit")
    src.proc.wait(20)
    src.kill()
    g.sw.wait_port_state(frm, "down")
    return a1[0] - a0[0], a1[1] - a0[1]


def traffic_round(g, sender, dst, n, digest):
    """The other guest (sender) sends guest g a checked UDP stream and the
    file /tmp/f over TCP while g migrates to dst; both arrive intact at
    the destination, and g announces itself."""
    udp, tcp = 7100 + n, 7200 + n
    src = g.cur
    rpid = listening(src, "udpcheck recv %d 0 %d" % (udp, UDP_DELAY_MS), "/tmp/udp%d.log" % n)
    bg(src, "(sleep 1000 | nc -l -p %d | udpcheck cat %d | md5sum > /tmp/tcp%d.md5)" % (tcp, TCP_READ_RATE, n))
    time.sleep(0.3)
    spid = bg(sender, "udpcheck send %s %d %d %d 0 > /tmp/send%d.log 2>&1" % (g.ip, udp, UDP_RATE, UDP_SIZE, n))
    bg(sender, "(for i in $(seq 0 %d); do dd if=/tmp/f bs=%dk skip=$i count=1 2>/dev/null; usleep %d; done"
               " | nc %s %d)" % (TCP_CHUNKS - 1, TCP_CHUNK_KB, TCP_GAP_US, g.ip, tcp))
    time.sleep(0.5)  # both streams flowing before QEMU starts copying
    garps, _ = move(g, dst, BANDWIDTH, "GARP")
    check(garps > 0, "no gratuitous ARP from the migrated guest %s" % g.mac)
    # The file arrives whole at the destination, and every datagram that
    # arrives is intact: both measured before either is judged.
    got = wait_for(lambda: re.search(r"^([0-9a-f]{32})  -", dst.check("cat /tmp/tcp%d.md5" % n), re.M),
                   60, 0.5)
    sent = summary(sender, spid, "/tmp/send%d.log" % n, "UDPCHECK", end=True)
    time.sleep(0.5)
    r = summary(dst, rpid, "/tmp/udp%d.log" % n, "UDPCHECK", end=True)
    log("TCP: %s; UDP: %d sent, %d received, %d corrupt, %d duplicate, %d out of order" %
        ("md5 %s" % ("right" if got.group(1) == digest else "WRONG") if got else "unfinished",
         sent["sent"], r["received"], r["corrupt"], r["dup"], r["ooo"]))
    check(got, "%s: the TCP transfer did not finish at the destination" % dst.name)
    check(got.group(1) == digest, "TCP transfer across the migration: md5 %s, sent %s "
          "(a write the dirty log missed?)" % (got.group(1), digest))
    check(r["corrupt"] == 0 and r["dup"] == 0,
          "UDP payloads corrupt or stale at the destination (a write the dirty log missed?): %s" % r)
    check(r["received"] > sent["sent"] // 2, "UDP: most datagrams arrive: %s of %s" % (r, sent))
    sender.ping(g.ip)


def quiet_round(g, other, dst):
    """Silent guest g migrates to dst: only the switch's RARP can move
    its MAC within a second, and the other guest saw that RARP; then g
    answers its console and pings."""
    _, rarps = move(g, dst, 1 << 30, "RARP")
    check(rarps > 0, "no RARP: the other guest saw none from %s" % g.mac)
    dst.check("echo alive")
    other.cur.ping(g.ip)


def destination_dies(g, other):
    """A migration of g whose destination QEMU is killed while pages
    flow: the migration fails, the guest runs on at its source port, and
    a new destination QEMU on the same port is returned."""
    dst = g.qemu(g.ports[1])
    uri = "unix:" + os.path.join(g.sw.dir, "migrate.sock")
    dst.qmp().execute("migrate-incoming", uri=uri)
    q = g.cur.qmp()
    q.execute("migrate-set-parameters", **{"max-bandwidth": 8 << 20})
    q.execute("migrate", uri=uri)
    check(wait_for(lambda: q.execute("query-migrate").get("ram", {}).get("transferred", 0) > 4 << 20, 30, 0.05),
          "migration to %s did not start: %s" % (dst.name, q.execute("query-migrate")))
    dst.kill()
    st = wait_for(lambda: q.execute("query-migrate").get("status") in ("failed", "cancelled") and
                  q.execute("query-migrate")["status"], 30, 0.05)
    check(st, "migration to a killed destination: %s" % q.execute("query-migrate"))
    check(q.execute("query-status").get("status") == "running",
          "the source runs on after a failed migration: %s" % q.execute("query-status"))
    log("destination killed halfway: migration %s, the guest runs on" % st)
    other.cur.ping(g.ip)
    check(g.port() == g.ports[0], "%s on %s after the failed migration: %s" % (g.mac, g.ports[0], g.port()))
    g.sw.wait_port_state(g.ports[1], "down")
    return g.qemu(g.ports[1])


def test_migration(c):
    sw = Switch(c, "mig", "add-br br0\n" + "".join("add-port br0 %s type=vhostuser\n" % p
                                                     for p in ("vm1", "vm1b", "vm2", "vm2b")))
    g1 = Migrant(c, sw, 1, MAC1, IP1, "")
    g2 = Migrant(c, sw, 2, MAC2, IP2, QUIET)
    d1 = g1.qemu("vm1b")
    for g in (g1, g2):
        g.cur.wait_ready()
    g2.cur.ping(IP1)
    check((g1.port(), g2.port()) == ("vm1", "vm2"), "MACs learned on vm1, vm2: %s %s" % (g1.port(), g2.port()))
    g1.watcher, g2.watcher = g2, g1
    for g in (g1, g2):
        g.watch_pid = listening(g.watcher.cur, "udpcheck watch eth0 %s" % g.mac, "/tmp/watch%d.log" % g.n)
    out = g2.cur.check("dd if=/dev/urandom of=/tmp/f bs=%dk count=%d 2>/dev/null; md5sum /tmp/f" %
                       (TCP_CHUNK_KB, TCP_CHUNKS))
    digest = re.search(r"^([0-9a-f]{32})  /tmp/f", out, re.M).group(1)

    scenario("guest 1 vm1 -> vm1b under UDP and TCP")
    traffic_round(g1, g2.cur, d1, 1, digest)
    scenario("guest 2 vm2 -> vm2b, its destination killed halfway")
    d2 = destination_dies(g2, g1)
    scenario("guest 2 vm2 -> vm2b, silent, announced by the switch, the PMD sleeping when idle")
    sw.vqctl("set", "pmd", "sleep=1")
    quiet_round(g2, g1, d2)
    check(sw.vqctl("pmd/stats-show", fmt="json")["pmd0"]["sleeps"] > 0, "the PMD slept")
    scenario("guest 1 vm1b -> vm1 under UDP and TCP")
    sw.vqctl("set", "pmd", "sleep=off")
    traffic_round(g1, g2.cur, g1.qemu("vm1"), 2, digest)
    scenario("guest 2 vm2b -> vm2, silent, the PMD sleeping when idle")
    sw.vqctl("set", "pmd", "sleep=1")
    quiet_round(g2, g1, g2.qemu("vm2"))
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_migration]))
