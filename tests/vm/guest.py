"""Real Linux guests for vqswitch's tests: QEMU under TCG booting Debian's
kernel with the initramfs build-guest.sh makes, with virtio-net NICs on
vhost-user sockets, driven through its serial console; QMP for the
migration test."""
import json
import os
import re
import select
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "functional"))
from vqtest import TestFailure  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
_image = None


def image():
    """(kernel, initramfs), built once per process."""
    global _image
    if _image is None:
        out = os.environ.get("VQS_GUEST_DIR", "/var/tmp/vqswitch-guest")
        r = subprocess.run(["bash", os.path.join(HERE, "build-guest.sh"), out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise TestFailure("build-guest.sh failed: %s" % r.stderr)
        _image = tuple(r.stdout.split()[:2])
    return _image


class Nic:
    """One virtio-net NIC of a guest on vhost-user socket sock: its MAC,
    its address (a.b.c.d/len), the name the guest's init gives it (by its
    MAC), its MTU, and extra QEMU properties for -netdev vhost-user and
    -device virtio-net-pci (e.g. device=",packed=on"); server: QEMU
    listens on sock (the switch's port is a client)."""

    def __init__(self, sock, mac, ip, name="eth0", mtu=None, netdev="", device="", server=False):
        self.sock, self.mac, self.ip, self.name = sock, mac, ip, name
        self.mtu, self.netdev, self.device, self.server = mtu, netdev, device, server


class Guest:
    """A VM with one NIC on `sock` (netdev, device: its QEMU properties,
    see Nic), or with several: nics, a list of Nic. Its init names each
    NIC by its MAC and gives it its address and MTU, so that one boot can
    carry several device variants, each on a port of its own."""

    def __init__(self, cleanup, name, sock=None, ip=None, mac=None, mtu=None, netdev="", device="",
                 server=False, smp=1, wait=True, mem=256, qmp=None, incoming=None, append="", nics=None):
        """wait=False: booting when this returns (wait_ready() waits), so
        that several guests boot at once. mem: MB of guest memory. qmp: a
        path for a QMP socket (self.qmp() talks to it). incoming: a
        migration destination (e.g. "defer"): the guest arrives from
        another QEMU with the same arguments, nothing boots. append: more
        of the kernel's command line."""
        kernel, initrd = image()
        self.name = name
        self.qmp_path, self._qmp = qmp, None
        self.nics = nics or [Nic(sock, mac, ip, mtu=mtu, netdev=netdev, device=device, server=server)]
        # vqs_ifs: NAME@MAC@ADDRESS@MTU for each NIC (build-guest.sh's init).
        ifs = ",".join("%s@%s@%s@%s" % (n.name, n.mac, n.ip, n.mtu or "") for n in self.nics)
        extra = append
        append = "console=ttyS0 quiet panic=-1 vqs_ifs=%s" % ifs
        if extra:
            append += " " + extra
        self.cmd = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", str(mem), "-smp", str(smp),
                    "-nodefaults", "-display", "none", "-no-reboot",
                    "-kernel", kernel, "-initrd", initrd, "-append", append,
                    "-object", "memory-backend-memfd,id=mem,size=%dM,share=on" % mem,
                    "-numa", "node,memdev=mem", "-serial", "stdio"]
        for i, n in enumerate(self.nics):
            chardev = "socket,id=c%d,path=%s%s" % (i, n.sock, ",server=on,wait=off" if n.server else "")
            # vectors=0: QEMU 7.2 under TCG crashes when vhost-user starts with MSI-X.
            self.cmd += ["-chardev", chardev,
                         "-netdev", "vhost-user,id=n%d,chardev=c%d%s" % (i, i, n.netdev),
                         "-device", "virtio-net-pci,netdev=n%d,vectors=0,romfile=,mac=%s%s" %
                         (i, n.mac, n.device)]
        if qmp:
            self.cmd += ["-qmp", "unix:%s,server=on,wait=off" % qmp]
        if incoming:
            self.cmd += ["-incoming", incoming]
            wait = False
        self.proc = None
        self.buf = b""
        cleanup.add(self.kill)
        self.boot(wait=wait)

    def boot(self, wait=True):
        self.buf = b""
        self._qmp = None
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=180):
        self._wait("VQS_GUEST_READY", timeout)
        self.buf = b""

    def _wait(self, marker, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if marker.encode() in self.buf:
                return
            if select.select([self.proc.stdout], [], [], 0.5)[0]:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    break
                self.buf += data
        raise TestFailure("%s: no '%s' after %ss:\n%s" %
                          (self.name, marker, timeout, self.buf[-3000:].decode(errors="replace")))

    def run(self, command, timeout=60):
        """Runs a shell command; returns (exit status, output)."""
        self.buf = b""
        # The marker is computed by the shell, so the echoed command line
        # never contains it.
        try:
            self.proc.stdin.write(("%s; echo VQS_RC=$? VQS_$((40+2))_END\n" % command).encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            rest = self.proc.stdout.read()
            raise TestFailure("%s: QEMU exited (%s) before '%s':\n%s" %
                              (self.name, self.proc.wait(), command,
                               (self.buf + rest)[-3000:].decode(errors="replace")))
        self._wait("VQS_42_END", timeout)
        text = self.buf.decode(errors="replace")
        m = re.search(r"VQS_RC=(\d+) VQS_42_END", text)
        return int(m.group(1)), text

    def check(self, command, timeout=60):
        rc, out = self.run(command, timeout)
        if rc != 0:
            raise TestFailure("%s: '%s' failed (%d):\n%s" % (self.name, command, rc, out[-3000:]))
        return out

    def ping(self, ip, count=3, size=56):
        """count echoes to ip, each answered. One at a time, each waited
        for up to 5 s: busybox's ping gives up on the last echo of a
        series two round trips (at least a second) after sending it, and
        a loaded machine's round trips can be longer."""
        out = self.check("n=0; for i in $(seq %d); do ping -c 1 -W 5 -s %d %s > /dev/null && n=$((n+1)); "
                         "done; echo VQS_PINGS=$n" % (count, size, ip), timeout=30 + 6 * count)
        m = re.search(r"VQS_PINGS=(\d+)", out)
        if not m or int(m.group(1)) != count:
            raise TestFailure("%s: %s of %d echoes to %s answered:\n%s" %
                              (self.name, m and m.group(1), count, ip, out[-1500:]))

    def qmp(self, timeout=10):
        """The QMP client of this QEMU, connected on first use."""
        if self._qmp is None:
            self._qmp = Qmp(self.qmp_path, timeout)
        return self._qmp

    def kill(self):
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.qmp_path and os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)


class Qmp:
    """A QMP client: capabilities negotiated, one command at a time,
    events kept aside (self.events)."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        while True:  # QEMU creates the socket as it starts
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.time() > deadline:
                    raise TestFailure("no QMP socket at %s after %ss" % (path, timeout))
                time.sleep(0.05)
        self.file = self.sock.makefile("rb")
        self.events = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise TestFailure("not a QMP greeting: %s" % greeting)
        self.execute("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise TestFailure("QMP connection closed")
        return json.loads(line)

    def execute(self, command, **arguments):
        """The command's return value; its error raises TestFailure."""
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise TestFailure("QMP %s %s: %s" % (command, arguments, reply["error"].get("desc")))
            elif "return" in reply:
                return reply["return"]

    def close(self):
        self.file.close()
        self.sock.close()
