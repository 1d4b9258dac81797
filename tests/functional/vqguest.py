"""The test guest (tests/guest/vqguest) from Python: one command a call,
its "ok key=value..." answer as a dict. See docs/testing.md."""
import os
import subprocess
import threading

from vqtest import BUILD, TestFailure

VQGUEST = os.path.join(BUILD, "tests", "guest", "vqguest")


def parse(line):
    out = {}
    for tok in line.split()[1:]:
        k, _, v = tok.partition("=")
        try:
            out[k] = int(v, 0)
        except ValueError:
            out[k] = v
    return out


class Guest:
    """A vhost-user frontend on a switch's socket. Vrings: 2q is queue
    pair q's RX (the switch writes), 2q+1 its TX (the switch reads)."""

    def __init__(self, cleanup, path, mac, **conf):
        self.mac = mac
        self.proc = subprocess.Popen([VQGUEST], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        cleanup.add(self.kill)
        self.path, self.conf = path, conf
        self.connect()

    def call(self, line, ok=True):
        """Runs one command; with ok, an "err" answer fails the test."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer:
            raise TestFailure("vqguest exited (%s) on '%s'" % (self.proc.poll(), line))
        if ok and not answer.startswith("ok"):
            raise TestFailure("vqguest '%s': %s" % (line, answer))
        return parse(answer) if answer.startswith("ok") else answer

    def connect(self, **conf):
        self.conf.update(conf)
        opts = " ".join("%s=%d" % (k, v) for k, v in self.conf.items())
        return self.call("connect path=%s %s" % (self.path, opts))

    def disconnect(self):
        self.call("disconnect")

    def rxpost(self, n, lens="2048", vq=0, segs=None):
        """n buffers of the sizes in lens, taken in turn; or, with segs
        ("10,100,100"), each a chain of descriptors of those sizes."""
        sizes = "segs=%s" % segs if segs else "len=%s" % lens
        return self.call("rxpost vq=%d n=%d %s" % (vq, n, sizes))["posted"]

    def rx(self, vq=0):
        return self.call("rx vq=%d" % vq)

    def tx(self, dst, n=1, length=60, vq=1, tag=0, seq=0, **opts):
        extra = " ".join("%s=%s" % kv for kv in opts.items())
        return self.call("tx vq=%d n=%d len=%d dst=%s src=%s tag=%d seq=%d %s" %
                         (vq, n, length, dst, self.mac, tag, seq, extra))["sent"]

    def txdone(self, vq=1):
        return self.call("txdone vq=%d" % vq)["reclaimed"]

    def calls(self, vq):
        return self.call("calls vq=%d" % vq)["calls"]

    def wait_call(self, vq, ms):
        return self.call("waitcall vq=%d ms=%d" % (vq, ms))["calls"]

    def state(self, vq):
        return self.call("state vq=%d" % vq)

    def chaos(self, vq, kind=None, on=True, arg=None):
        """Starts a chaos thread of this kind on vring vq (a malicious
        guest kernel while traffic flows), or stops it (on=False):
        then the rounds it made."""
        line = "chaos vq=%d on=%d" % (vq, on)
        if on:
            line += " kind=%s" % kind
        if arg is not None:
            line += " arg=%d" % arg
        return self.call(line).get("rounds")

    def txcheck(self, vq=1):
        """TX frames reclaimed so far: checked, and modified (not what
        the guest queued when the switch gave them back)."""
        return self.call("txcheck vq=%d" % vq)

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def blast_measured(sw, a, b, path, seconds):
    """Guest a blasts the frame in file path at guest b (vq 1 to vq 0),
    half a second to warm up and then for `seconds` while b sinks what
    arrives, the PMDs' counters cleared between: (b's sink result, the
    PMDs' busy cycles). The benchmarks' measurement."""
    a.call("blast vq=1 file=%s ms=500" % path)
    b.call("sink vq=0 ms=200")
    sw.vqctl("pmd/stats-clear")
    got = {}
    t = threading.Thread(target=lambda: got.update(b.call("sink vq=0 ms=%d" % (seconds * 1000))))
    t.start()
    a.call("blast vq=1 file=%s ms=%d" % (path, seconds * 1000))
    t.join()
    st = sw.vqctl("pmd/stats-show", fmt="json")
    return got, sum(p["busy_cycles"] for p in st.values())
