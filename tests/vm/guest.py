"""Real Linux guests for vqswitch's tests: QEMU under TCG booting Debian's
kernel with the initramfs build-guest.sh makes, one virtio-net NIC on a
vhost-user socket, driven through its serial console."""
import os
import re
import select
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


class Guest:
    """A VM with one NIC on `sock`. netdev/device: extra QEMU properties for
    -netdev vhost-user and -device virtio-net-pci (e.g. "packed=on")."""

    def __init__(self, cleanup, name, sock, ip, mac, mtu=None, netdev="", device="", server=False,
                 smp=1, wait=True):
        """wait=False: booting when this returns (wait_ready() waits), so
        that several guests boot at once."""
        kernel, initrd = image()
        self.name = name
        append = "console=ttyS0 quiet panic=-1 vqs_ip=%s" % ip
        if mtu:
            append += " vqs_mtu=%d" % mtu
        chardev = "socket,id=c0,path=%s%s" % (sock, ",server=on,wait=off" if server else "")
        # vectors=0: QEMU 7.2 under TCG crashes when vhost-user starts with MSI-X.
        self.cmd = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "256", "-smp", str(smp),
                    "-nodefaults", "-display", "none", "-no-reboot",
                    "-kernel", kernel, "-initrd", initrd, "-append", append,
                    "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
                    "-numa", "node,memdev=mem", "-chardev", chardev,
                    "-netdev", "vhost-user,id=n0,chardev=c0" + netdev,
                    "-device", "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=%s%s" % (mac, device),
                    "-serial", "stdio"]
        self.proc = None
        self.buf = b""
        cleanup.add(self.kill)
        self.boot(wait=wait)

    def boot(self, wait=True):
        self.buf = b""
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
        self.proc.stdin.write(("%s; echo VQS_RC=$? VQS_$((40+2))_END\n" % command).encode())
        self.proc.stdin.flush()
        self._wait("VQS_42_END", timeout)
        text = self.buf.decode(errors="replace")
        m = re.search(r"VQS_RC=(\d+) VQS_42_END", text)
        return int(m.group(1)), text

    def check(self, command, timeout=60):
        rc, out = self.run(command, timeout)
        if rc != 0:
            raise TestFailure("%s: '%s' failed (%d):\n%s" % (self.name, command, rc, out[-3000:]))
        return out

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
