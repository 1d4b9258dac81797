"""Helpers for vqswitch's functional tests: the real vqswitch binary, real
peers (dpdk-testpmd with virtio-user ports, veth pairs behind net_pcap
ports), and the DPDK telemetry socket.

Every process and interface a test starts is registered in a Cleanup and
removed by pid or name when the test ends, whatever happens.
"""
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("VQS_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
VQSWITCH = os.path.join(BUILD, "app", "vqswitch", "vqswitch")
VQCTL = os.path.join(BUILD, "app", "vqctl", "vqctl")
TESTPMD = os.environ.get("VQS_TESTPMD", "dpdk-testpmd")
ETHERTYPE = 0x88B5  # IEEE local experimental: our test frames only
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


# Set by main_tap(): stdout is TAP, every line of ours a comment.
TAP = False


def log(msg):
    if TAP:
        msg = "\n".join("# " + line for line in str(msg).split("\n"))
    print(msg, flush=True)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def frame(dst, src, payload=b"", size=60, ethertype=ETHERTYPE):
    """An Ethernet frame (no FCS) of at least `size` bytes."""
    f = mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ethertype) + payload
    return f + bytes(max(0, size - len(f)))


def tagged_payload(tag, seq, size):
    """A payload that names its test and sequence number, then a pattern,
    so a frame that arrives can be checked byte for byte."""
    head = b"VQS" + struct.pack("!HI", tag, seq)
    body = bytes((i * 7 + seq) & 0xFF for i in range(max(0, size - len(head))))
    return head + body


def run(cmd, check_rc=True):
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True)
    if check_rc and r.returncode != 0:
        raise TestFailure("%s failed: %s" % (cmd, r.stderr.strip()))
    return r


def wait_for(cond, timeout, interval):
    """Calls cond() every interval seconds until it returns something true
    or timeout seconds have passed; its last value."""
    deadline = time.time() + timeout
    while True:
        value = cond()
        if value or time.time() >= deadline:
            return value
        time.sleep(interval)


def remove_dpdk_files(workdir, prefix):
    """A finished DPDK process's files: its runtime directory and the
    hugepage files it leaves when killed (they keep their pages)."""
    run("rm -rf %s /var/run/dpdk/%s /dev/hugepages/%smap_*" % (workdir, prefix, prefix), check_rc=False)


class Cleanup:
    def __init__(self):
        self.actions = []

    def add(self, fn):
        self.actions.append(fn)

    def run(self):
        while self.actions:
            fn = self.actions.pop()
            try:
                fn()
            except Exception as e:  # cleanup goes on
                log("cleanup: %s" % e)


class Telemetry:
    """A client of the DPDK telemetry socket (SOCK_SEQPACKET, JSON)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(5)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(16384).decode())
        self.max_len = hello["max_output_len"]

    def query(self, cmd):
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.max_len).decode())
        return reply[cmd.split(",")[0]]

    def close(self):
        self.sock.close()


class Switch:
    """vqswitch started on a config text, in its own file prefix and
    socket directory."""

    def __init__(self, cleanup, name, config, lcores="0,1", eal=(), args=(), mem=128, sockdir=None,
                 env=None, binary=None, netns=None):
        """sockdir: the socket directory, by default the test's own
        directory (which exists); a name makes it a subdirectory that
        vqswitch creates. env: variables added to the switch's environment.
        binary: another vqswitch than the build's (a benchmark's baseline).
        netns: a network namespace to run in (ip netns exec: the same pid)."""
        self.name = name
        self.env = dict(os.environ, **(env or {}))
        self.dir = tempfile.mkdtemp(prefix="vqs-%s-" % name)
        self.sockdir = os.path.join(self.dir, sockdir) if sockdir else self.dir
        self.prefix = "vqt_%s_%d" % (name, os.getpid())
        cfg = os.path.join(self.dir, "switch.conf")
        self.state = os.path.join(self.dir, "state", "vqswitch.state")
        self.ctl_socket = os.path.join(self.sockdir, "vqswitch.ctl")
        with open(cfg, "w") as f:
            f.write(config.replace("@DIR@", self.dir))
        self.log_path = os.path.join(self.dir, "vqswitch.log")
        self.logf = open(self.log_path, "w")
        TEST_LOGS.append(self.log_path)
        # lcores: "0,1" (lcore = CPU), or a map such as "0@0,1@1,2@1" that
        # runs more lcores than there are CPUs. Lcore 0 is the main lcore.
        lcore_opt = "--lcores" if "@" in lcores else "-l"
        self.cmd = (["ip", "netns", "exec", netns] if netns else []) + \
                   [binary or VQSWITCH, lcore_opt, lcores, "--main-lcore", "0", "--file-prefix", self.prefix,
                    "-m", str(mem), "--no-pci"] + list(eal) + \
                   ["--", "--config", cfg, "--socket-dir", self.sockdir, "--state", self.state] + list(args)
        # VQS_DATAPATH=direct runs the same test on the switch's own ring
        # code (the 'direct' suite in meson).
        if os.environ.get("VQS_DATAPATH"):
            self.cmd.append("--datapath=" + os.environ["VQS_DATAPATH"])
        cleanup.add(self.kill)
        self._tel = None
        self.start()

    def start(self):
        self.logf.write("---- start\n")
        self.logf.flush()
        self.log_mark = os.path.getsize(self.log_path)
        self.proc = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT, env=self.env)
        self.wait_log("ready", 20)

    def crash(self):
        """SIGKILL, as if the daemon had crashed: nothing is cleaned up."""
        if self._tel is not None:
            self._tel.close()
            self._tel = None
        self.proc.kill()
        self.proc.wait()

    def vqctl(self, *args, fmt="text", check_rc=True):
        """Runs vqctl against this switch; returns (exit code, stdout, stderr),
        or, with check_rc, the output (parsed if JSON) of a command that
        must succeed."""
        r = subprocess.run([VQCTL, "--socket", self.ctl_socket, "--format", fmt] + list(args),
                           capture_output=True, text=True, timeout=90)
        if not check_rc:
            return r.returncode, r.stdout, r.stderr
        if r.returncode != 0:
            raise TestFailure("vqctl %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return json.loads(r.stdout) if fmt == "json" and r.stdout else r.stdout

    def sock(self, port):
        return os.path.join(self.sockdir, port + ".sock")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout):
        """Waits for pattern in what this run (since start()) logged."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log_text()[self.log_mark:]):
                return
            if self.proc.poll() is not None:
                raise TestFailure("vqswitch exited (%s) before '%s':\n%s" %
                                  (self.proc.returncode, pattern, self.log_text()[-3000:]))
            time.sleep(0.1)
        raise TestFailure("no '%s' in vqswitch's log after %ss" % (pattern, timeout))

    def alive(self):
        return self.proc.poll() is None

    def telemetry(self, cmd):
        if self._tel is None:
            self._tel = Telemetry("/var/run/dpdk/%s/dpdk_telemetry.v2" % self.prefix)
        return self._tel.query(cmd)

    def port(self, name):
        return self.telemetry("/vqswitch/port," + name)

    def wait_port_state(self, name, state, timeout=15):
        if not wait_for(lambda: self.port(name)["state"] == state, timeout, 0.1):
            raise TestFailure("port %s not %s after %ss" % (name, state, timeout))

    def wait_kicks_off(self, name, vrings, timeout=15):
        """The guest enabled `vrings` vrings and the switch has turned its
        kicks off on every one."""
        def done():
            p = self.port(name)
            return p["vrings_enabled"] == vrings and p["vrings_kicks_off"] == vrings

        if wait_for(done, timeout, 0.1):
            return
        p = self.port(name)
        raise TestFailure("port %s: %s vrings enabled, kicks off on %s; expected %d" %
                          (name, p["vrings_enabled"], p["vrings_kicks_off"], vrings))

    def _pmd_task(self, lcore):
        task = "/proc/%d/task" % self.proc.pid
        for tid in os.listdir(task):
            with open("%s/%s/comm" % (task, tid)) as f:
                if f.read().strip() == "rte-worker-%d" % lcore:
                    return "%s/%s" % (task, tid)
        raise TestFailure("no PMD thread for lcore %d" % lcore)

    def pmd_cpu_seconds(self, lcore=1):
        """CPU time the PMD thread on an lcore has used (from /proc)."""
        with open(self._pmd_task(lcore) + "/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pmd_runnable_seconds(self, lcore=1):
        """Time the PMD thread on an lcore has been runnable: on a CPU or
        waiting for one (the scheduler's schedstat). A polling PMD is
        runnable all the time, however busy the machine; a sleeping one
        is not."""
        with open(self._pmd_task(lcore) + "/schedstat") as f:
            run_ns, wait_ns = f.read().split()[:2]
        return (int(run_ns) + int(wait_ns)) / 1e9

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self._tel is not None:
            self._tel.close()
            self._tel = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                tracer = leak_checker_of(self.proc.pid)
                if tracer:
                    # The switch has shut down; the ASan build's leak
                    # checker hung at exit (its tracer waits for ever for
                    # our main thread to stop): seen once, not ours.
                    log("warning: LeakSanitizer's tracer %d hung at exit: no leak check" % tracer)
                    os.kill(tracer, signal.SIGKILL)
                    self.proc.kill()
                    self.proc.wait()
                    return 0
                self.proc.kill()
                self.proc.wait()
                raise TestFailure("vqswitch did not stop on SIGTERM")
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()
        remove_dpdk_files(self.dir, self.prefix)


class Veth:
    """A veth pair: the switch takes `name` (through net_pcap), the test
    sends and captures on `name`p with a raw socket."""

    def __init__(self, cleanup, name, mtu=1500):
        self.name, self.peer = name, name + "p"
        run(["ip", "link", "del", name], check_rc=False)
        run(["ip", "link", "add", name, "mtu", str(mtu), "type", "veth", "peer",
             "name", self.peer, "mtu", str(mtu)])
        cleanup.add(lambda: run(["ip", "link", "del", name], check_rc=False))
        for ifc in (self.name, self.peer):
            # No IPv6 autoconfiguration chatter on the test links.
            run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ifc], check_rc=False)
            run(["ip", "link", "set", ifc, "up"])
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        # The kernel may take a VLAN tag out of a received frame and hand
        # it over on the side: ask for it, to put it back (recv_frame).
        self.sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        self.sock.bind((self.peer, 0))
        cleanup.add(self.sock.close)

    def devargs(self, index):
        return "net_pcap%d,iface=%s" % (index, self.name)

    def send(self, f):
        self.sock.send(f)

    def drain(self):
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65536)

    def collect(self, timeout=1.0, count=None):
        """Our test frames received on the peer end until `count` have come
        or `timeout` seconds pass without one. A tagged frame is returned
        untagged; self.vlans holds each returned frame's VLAN id (None:
        untagged)."""
        got = []
        self.vlans = []
        while count is None or len(got) < count:
            if not select.select([self.sock], [], [], timeout)[0]:
                break
            data, addr = self.recv_frame()
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                continue
            vlan = None
            if struct.unpack("!H", data[12:14])[0] == 0x8100 and len(data) >= 18:
                vlan = struct.unpack("!H", data[14:16])[0] & 0xFFF
                data = data[:12] + data[16:]
            if struct.unpack("!H", data[12:14])[0] == ETHERTYPE:
                got.append(data)
                self.vlans.append(vlan)
        return got

    def recv_frame(self):
        """One frame as it was on the wire, VLAN tag included."""
        data, anc, _, addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(64))
        for level, kind, cdata in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA:
                status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else 0x8100
                    data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
        return data, addr


class TapPeer:
    """The kernel side of a net_tap port, for sending and capturing: what
    the switch sends arrives here, what is sent here the switch receives."""

    def __init__(self, c, ifname):
        run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % ifname], check_rc=False)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, 0))
        c.add(self.sock.close)

    def send(self, f):
        self.sock.send(f)

    def recv_frame(self):
        return self.sock.recvfrom(65536)

    def drain(self):
        while select.select([self.sock], [], [], 0)[0]:
            self.sock.recv(65536)

    def count(self, timeout):
        """Our frames that arrive until none has for `timeout` seconds."""
        n = 0
        while select.select([self.sock], [], [], timeout)[0]:
            data, addr = self.sock.recvfrom(65536)
            if addr[2] != PACKET_OUTGOING and data[12:14] == b"\x88\xb5":
                n += 1
        return n

    def first_frame(self, timeout):
        """Seconds until one of our frames arrives, or None."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            if select.select([self.sock], [], [], 0.05)[0]:
                data, addr = self.sock.recvfrom(65536)
                if addr[2] != PACKET_OUTGOING and data[12:14] == b"\x88\xb5":
                    return time.time() - t0
        return None


class Traffic:
    """Steady streams of tagged frames, each from one veth to an address,
    sent round-robin by one thread; one receiver thread per veth files what
    comes back by tag and sequence number."""

    def __init__(self, cleanup, streams, veths, rate=400):
        self.streams = dict(streams)  # tag -> (veth, dst, src)
        self.sent = {tag: 0 for tag in streams}
        self.received = {tag: set() for tag in streams}
        self.rate, self.stopping, self.done = rate, False, False
        self.threads = [threading.Thread(target=self._send, daemon=True)]
        self.threads += [threading.Thread(target=self._recv, args=(v,), daemon=True) for v in veths]
        for t in self.threads:
            t.start()
        cleanup.add(self.abort)

    def abort(self):
        """Stops the threads at once (a test that failed half way)."""
        self.stopping = self.done = True
        for t in self.threads:
            t.join()

    def add(self, tag, veth, dst, src):
        self.sent[tag] = 0
        self.received[tag] = set()
        self.streams[tag] = (veth, dst, src)

    def _send(self):
        while not self.stopping:
            for tag, (veth, dst, src) in list(self.streams.items()):
                veth.send(frame(dst, src, tagged_payload(tag, self.sent[tag], 64)))
                self.sent[tag] += 1
            time.sleep(1.0 / self.rate)

    def _recv(self, veth):
        while not self.done:
            for f in veth.collect(0.1):
                tag = int.from_bytes(f[17:19], "big")
                if f[14:17] == b"VQS" and tag in self.received:
                    self.received[tag].add(int.from_bytes(f[19:23], "big"))

    def finish(self):
        self.stopping = True
        self.threads[0].join()
        # What is in flight arrives: wait until every frame has come, or
        # none has for a second (on a loaded machine the switch's PMD or
        # our receiver threads may be descheduled for a while), 20 s at most.
        deadline, last, quiet = time.time() + 20, None, time.time()
        while time.time() < deadline and time.time() - quiet < 1.0:
            now = {tag: len(got) for tag, got in self.received.items()}
            if all(now[tag] >= self.sent.get(tag, 0) for tag in now):
                break
            if now != last:
                last, quiet = now, time.time()
            time.sleep(0.05)
        self.done = True
        for t in self.threads[1:]:
            t.join()

    def lost(self, tag):
        return self.sent[tag] - len(self.received[tag])


def check_arrived(sw, traffic, tag, ingress, what, guest=0):
    """Every frame of stream `tag` arrived, but for those the ingress
    port's device dropped before the switch could read them (rx_missed: on
    a loaded machine the PMD, or the thread a PMD waits for, may not run
    for a while, and a kernel socket behind net_pcap holds only so much)
    and `guest`: those a guest on the way did not take or send on (not
    scheduled, its rings filled): the switch itself loses none."""
    lost, missed = traffic.lost(tag), sw.port(ingress)["rx_missed"]
    if missed or guest:
        log("%s: port %s's device dropped %d frames before the switch read them, the guest on the way %d"
            % (what, ingress, missed, guest))
    check(traffic.sent[tag] > 100 and lost <= missed + guest,
          "%s lost %d of %d frames (the device dropped %d before the switch, the guest on the way %d)" %
          (what, lost, traffic.sent[tag], missed, guest))


class TestPmd:
    """dpdk-testpmd in interactive mode. Each port is (socket, mac): a
    virtio-user port on a switch's vhost-user socket, a guest that the test
    can drive; or a string: any --vdev (the benchmark's net_vhost ports)."""

    def __init__(self, cleanup, name, ports, fwd="rxonly", lcores="0,1", main_lcore=1,
                 extra=(), max_pkt_len=None, queues=1, vdev_opts="", eal=("-m", "256")):
        self.dir = tempfile.mkdtemp(prefix="tpmd-%s-" % name)
        self.prefix = "gen_%s_%d" % (name, os.getpid())
        vdevs = []
        for i, p in enumerate(ports):
            if not isinstance(p, str):
                p = "net_virtio_user%d,path=%s,queues=%d,mac=%s%s" % (i, p[0], queues, p[1], vdev_opts)
            vdevs += ["--vdev", p]
        args = ["-i", "--no-mlockall", "--total-num-mbufs=16384", "--forward-mode=" + fwd]
        if queues > 1:
            args += ["--rxq=%d" % queues, "--txq=%d" % queues]
        if max_pkt_len:
            # Jumbo frames in default-sized mbufs: the guest receives them
            # over several mergeable RX buffers and sends them as chains.
            args += ["--max-pkt-len=%d" % max_pkt_len, "--enable-scatter"]
        # stdbuf: testpmd printf()s its answers; unbuffered, they reach the
        # log before the next prompt does.
        cmd = ["stdbuf", "-o0", TESTPMD, "-l", lcores, "--main-lcore", str(main_lcore), "--file-prefix", self.prefix,
               "--no-pci", "--single-file-segments"] + list(eal) + vdevs + ["--"] + args + list(extra)
        self.out_path = os.path.join(self.dir, "testpmd.log")
        self.outf = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.outf,
                                     stderr=subprocess.STDOUT, text=True)
        cleanup.add(self.kill)
        self.cmd("show port info all")
        self.wait_out("testpmd> ", 30)
        check("Start ports failed" not in self.output() and "No probed ethernet devices" not in self.output(),
              "testpmd could not start its ports:\n%s" % self.output()[-2000:])

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def wait_out(self, pattern, timeout, start=0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.output()[start:]):
                return
            if self.proc.poll() is not None:
                raise TestFailure("testpmd exited (%s):\n%s" % (self.proc.returncode, self.output()[-3000:]))
            time.sleep(0.1)
        raise TestFailure("no '%s' from testpmd after %ss:\n%s" % (pattern, timeout, self.output()[-2000:]))

    def cmd(self, line, wait=True):
        mark = len(self.output())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        if wait:
            self.wait_out(r"testpmd> ", 15, start=mark)
        return mark

    def port_stats(self):
        """{port: {"rx": packets, "tx": packets}} from 'show port stats'."""
        mark = self.cmd("show port stats all")
        text = self.output()[mark:]
        stats = {}
        for m in re.finditer(r"NIC statistics for port (\d+).*?RX-packets:\s+(\d+).*?TX-packets:\s+(\d+)",
                             text, re.S):
            stats[int(m.group(1))] = {"rx": int(m.group(2)), "tx": int(m.group(3))}
        return stats

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.outf.close()
        remove_dpdk_files(self.dir, self.prefix)


def leak_checker_of(pid):
    """The pid of the process tracing pid (LeakSanitizer's tracer at exit), or 0."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# The switch logs of the running test, shown when it fails (its
# directory is removed at cleanup).
TEST_LOGS = []


def show_logs(lines=None):
    lines = lines or int(os.environ.get("VQS_LOG_LINES", "40"))
    for path in TEST_LOGS:
        try:
            with open(path, errors="replace") as f:
                tail = f.readlines()[-lines:]
        except OSError:
            continue
        log("---- last %d lines of %s" % (len(tail), path))
        log("".join(tail).rstrip("\n"))


def main(tests):
    """Runs each test function with its own Cleanup; exit code 0 only if
    all passed."""
    if os.geteuid() != 0:
        print("functional tests need root (DPDK, veth, raw sockets)")
        return 1
    failed = 0
    only = sys.argv[1:]
    unknown = set(only) - {t.__name__ for t in tests}
    if unknown:
        print("no such test: %s" % ", ".join(sorted(unknown)))
        return 1
    for t in tests:
        if only and t.__name__ not in only:
            continue
        c = Cleanup()
        start = time.time()
        del TEST_LOGS[:]
        try:
            t(c)
            log("PASS %s (%.1fs)" % (t.__name__, time.time() - start))
        except Exception as e:
            failed += 1
            log("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
            show_logs()
        finally:
            c.run()
    return 1 if failed else 0


def main_tap(groups):
    """Runs one group of cases that share their set-up (a boot of guests
    costs seconds under TCG), each case reported as a line of TAP (meson's
    protocol 'tap', which scripts/test.sh counts case by case). groups maps
    a group's name (the first argument) to (setup, cases): setup(cleanup)
    makes what every case(env) is given and returns it; the other
    arguments pick cases by name. A failed case does not stop the next
    (each leaves the set-up as it found it, or runs last); a failed set-up
    fails them all. Exit code 0 only if all passed."""
    global TAP
    if os.geteuid() != 0:
        print("functional tests need root (DPDK, veth, raw sockets)")
        return 1
    if len(sys.argv) < 2 or sys.argv[1] not in groups:
        print("usage: %s GROUP [CASE...]; groups: %s" % (sys.argv[0], ", ".join(sorted(groups))))
        return 1
    setup, cases = groups[sys.argv[1]]
    only = {a[5:] if a.startswith("test_") else a for a in sys.argv[2:]}
    named = {(t.__name__[5:] if t.__name__.startswith("test_") else t.__name__): t for t in cases}
    unknown = only - set(named)
    if unknown:
        print("no such case in %s: %s" % (sys.argv[1], ", ".join(sorted(unknown))))
        return 1
    cases = [(name, t) for name, t in named.items() if not only or name in only]
    TAP = True
    print("1..%d" % len(cases), flush=True)
    c = Cleanup()
    failed = 0
    start = time.time()
    try:
        env, broken = setup(c), None
        log("set-up %.1fs" % (time.time() - start))
    except Exception as e:
        env, broken = None, "set-up: %s: %s" % (type(e).__name__, e)
        log("FAIL " + broken)
        show_logs()
    try:
        for n, (name, t) in enumerate(cases, 1):
            if broken:
                failed += 1
                print("not ok %d - %s" % (n, name), flush=True)
                continue
            start = time.time()
            try:
                t(env)
                log("PASS %s (%.1fs)" % (name, time.time() - start))
                print("ok %d - %s" % (n, name), flush=True)
            except Exception as e:
                failed += 1
                log("FAIL %s: %s: %s" % (name, type(e).__name__, e))
                show_logs()
                print("not ok %d - %s" % (n, name), flush=True)
    finally:
        c.run()
    return 1 if failed else 0
