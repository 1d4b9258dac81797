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
import time

BUILD = os.environ.get("VQS_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
VQSWITCH = os.path.join(BUILD, "app", "vqswitch", "vqswitch")
VQCTL = os.path.join(BUILD, "app", "vqctl", "vqctl")
TESTPMD = os.environ.get("VQS_TESTPMD", "dpdk-testpmd")
ETHERTYPE = 0x88B5  # IEEE local experimental: our test frames only
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


class TestFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def log(msg):
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

    def __init__(self, cleanup, name, config, lcores="0,1", eal=(), args=(), mem=128):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="vqs-%s-" % name)
        self.prefix = "vqt_%s_%d" % (name, os.getpid())
        cfg = os.path.join(self.dir, "switch.conf")
        self.state = os.path.join(self.dir, "state", "vqswitch.state")
        self.ctl_socket = os.path.join(self.dir, "vqswitch.ctl")
        with open(cfg, "w") as f:
            f.write(config.replace("@DIR@", self.dir))
        self.log_path = os.path.join(self.dir, "vqswitch.log")
        self.logf = open(self.log_path, "w")
        # lcores: "0,1" (lcore = CPU), or a map such as "0@0,1@1,2@1" that
        # runs more lcores than there are CPUs. Lcore 0 is the main lcore.
        lcore_opt = "--lcores" if "@" in lcores else "-l"
        cmd = [VQSWITCH, lcore_opt, lcores, "--main-lcore", "0", "--file-prefix", self.prefix, "-m", str(mem), "--no-pci"] + list(eal) + \
              ["--", "--config", cfg, "--socket-dir", self.dir, "--state", self.state] + list(args)
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        cleanup.add(self.kill)
        self._tel = None
        self.wait_log("ready", 20)

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
        return os.path.join(self.dir, port + ".sock")

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log_text()):
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
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.port(name)["state"] == state:
                return
            time.sleep(0.1)
        raise TestFailure("port %s not %s after %ss" % (name, state, timeout))

    def wait_kicks_off(self, name, vrings, timeout=5):
        """The guest enabled `vrings` vrings and the switch has turned its
        kicks off on every one."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            p = self.port(name)
            if p["vrings_enabled"] == vrings and p["vrings_kicks_off"] == vrings:
                return
            time.sleep(0.1)
        raise TestFailure("port %s: %s vrings enabled, kicks off on %s; expected %d" %
                          (name, p["vrings_enabled"], p["vrings_kicks_off"], vrings))

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
                self.proc.kill()
                self.proc.wait()
                raise TestFailure("vqswitch did not stop on SIGTERM")
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.logf.close()
        run(["rm", "-rf", self.dir, "/var/run/dpdk/" + self.prefix], check_rc=False)


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
        or `timeout` seconds pass without one."""
        got = []
        while count is None or len(got) < count:
            if not select.select([self.sock], [], [], timeout)[0]:
                break
            data, addr = self.sock.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING or len(data) < 14:
                continue
            if struct.unpack("!H", data[12:14])[0] == ETHERTYPE:
                got.append(data)
        return got


class TestPmd:
    """dpdk-testpmd in interactive mode. Each port is (socket, mac): a
    virtio-user port on a switch's vhost-user socket, a guest that the test
    can drive; or a string: any --vdev (the benchmark's net_vhost ports)."""

    def __init__(self, cleanup, name, ports, fwd="rxonly", lcores="0,1", main_lcore=1,
                 extra=(), max_pkt_len=None, queues=1, vdev_opts=""):
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
               "--no-pci", "--single-file-segments", "-m", "256"] + vdevs + ["--"] + args + list(extra)
        self.out_path = os.path.join(self.dir, "testpmd.log")
        self.outf = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.outf,
                                     stderr=subprocess.STDOUT, text=True)
        cleanup.add(self.kill)
        self.cmd("show port info all")
        self.wait_out("testpmd> ", 30)
        check("Start ports failed" not in self.output(),
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
        run(["rm", "-rf", self.dir, "/var/run/dpdk/" + self.prefix], check_rc=False)


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
        try:
            t(c)
            log("PASS %s (%.1fs)" % (t.__name__, time.time() - start))
        except Exception as e:
            failed += 1
            log("FAIL %s: %s: %s" % (t.__name__, type(e).__name__, e))
        finally:
            c.run()
    return 1 if failed else 0
