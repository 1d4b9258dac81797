#!/usr/bin/env python3
"""Frames from 60 bytes to 64 KiB through the switch into a test guest's
RX buffers of various sizes. With mergeable RX buffers, a frame spans
num_buffers used entries: their lengths must add up to header + frame
exactly and num_buffers must count them (a wrong sum here was illumos
viona's jumbo-frame bug). The receiving test guest rebuilds every frame
from the used entries and checks it byte for byte. On split and packed
rings."""
import sys

from test_notify import M2, pair
from vqtest import check, main, wait_for

SIZES = (60, 1514, 4000, 9014, 65535)
HDR = 12  # virtio-net header with VERSION_1 / MRG_RXBUF


def fit(layout, total):
    """The layout's descriptor sizes that leave room for a last one."""
    out, used = dict(layout), 0
    segs = []
    for n in layout.get("segs", ()):
        if used + n >= total:
            break
        segs.append(n)
        used += n
    out.pop("segs", None)
    if segs:
        out["segs"] = ",".join(str(n) for n in segs)
    return out


def run_sizes(g1, g2, buf, layouts, mergeable=True):
    """Every size in every transmit layout; RX buffers of `buf` bytes."""
    seq = 0
    for layout in layouts:
        for size in SIZES:
            need = -(-(size + HDR) // buf) if mergeable else 1
            check(g2.rxpost(need, str(buf)) == need, "receiver posted %d buffers" % need)
            check(g1.tx(M2, length=size, seq=seq, **fit(layout, size + HDR)) == 1, "sent %d bytes" % size)
            seq += 1
            got = received_one(g2)
            check(got == (size, need), "%s, %d-byte buffers, %s: received %s, expected %s" %
                  ("mergeable" if mergeable else "big buffers", buf, layout or "one descriptor",
                   got, (size, need)))
            g1.txdone()


def received_one(g2):
    """(length, buffers) of the one frame the receiver gets, checked intact."""
    def collect():
        r = g2.rx()
        check(r["bad"] == 0 and r["bad_used"] == 0, "receiver: %s" % r)
        return r if r["frames"] else None

    r = wait_for(collect, 5, 0.01)
    if r is None:
        return None
    check(r["frames"] == 1, "one frame expected: %s" % r)
    return tuple(int(x) for x in r["detail"].split("/"))


# One descriptor; the header alone then pieces (Linux's any_header_sg);
# an indirect table.
LAYOUTS = [{}, {"segs": (12, 100, 3000)}, {"indirect": 1, "segs": (12, 1000)}]


def mergeable_sums(c, packed):
    sw, g1, g2 = pair(c, "mrg", args=["--max-frame-len", "65535"], event_idx=1, indirect=1,
                      packed=packed)
    for buf in (1024, 2048, 4096):
        run_sizes(g1, g2, buf, LAYOUTS)
    p = sw.port("vm2")
    check(p["tx_packets"] == 3 * len(LAYOUTS) * len(SIZES), "vm2 sent %s" % p)
    check(p["tx_bytes"] == 3 * len(LAYOUTS) * sum(SIZES), "vm2 bytes %s" % p)


def test_mergeable_sums(c):
    mergeable_sums(c, packed=0)


def test_mergeable_sums_packed(c):
    mergeable_sums(c, packed=1)


def test_mergeable_small_buffers(c):
    """Four 9014-byte frames in one burst into 200-byte buffers, 46 each:
    the direct datapath queues copies of up to 256 bytes and makes them
    when its batch is full, here in the middle of the third frame, whose
    header is then copied before its last buffer is known: num_buffers
    must still reach the guest's buffer right."""
    n, size, buf = 4, 9014, 200
    need = -(-(size + HDR) // buf)
    for packed in (0, 1):
        sw, g1, g2 = pair(c, "mrgs%d" % packed, event_idx=1, packed=packed, size=1024)
        check(g2.rxpost(n * need, str(buf)) == n * need, "receiver posted %d buffers" % (n * need))
        check(g1.tx(M2, n=n, length=size) == n, "sent %d frames in one batch" % n)
        got = []

        def collect():
            r = g2.rx()
            check(r["bad"] == 0 and r["bad_used"] == 0, "receiver: %s" % r)
            if r["frames"]:
                got.extend(tuple(int(x) for x in d.split("/")) for d in r["detail"].split(","))
            return len(got) >= n

        wait_for(collect, 5, 0.01)
        check(got == [(size, need)] * n, "%s ring: received %s, expected %d x %s" %
              ("packed" if packed else "split", got, n, (size, need)))
        check(sw.stop() == 0, "vqswitch exit code")


def big_buffers(c, packed):
    """Without MRG_RXBUF each frame must fit one buffer, num_buffers is not
    used, and the header stays 12 bytes (VERSION_1)."""
    sw, g1, g2 = pair(c, "nomrg", args=["--max-frame-len", "65535"], mrg=0, packed=packed)
    run_sizes(g1, g2, 65536 + 64, [{}], mergeable=False)


def test_big_buffers_without_mergeable(c):
    big_buffers(c, packed=0)


def test_big_buffers_without_mergeable_packed(c):
    big_buffers(c, packed=1)


if __name__ == "__main__":
    sys.exit(main([test_mergeable_sums, test_mergeable_sums_packed, test_mergeable_small_buffers,
                   test_big_buffers_without_mergeable,
                   test_big_buffers_without_mergeable_packed]))
