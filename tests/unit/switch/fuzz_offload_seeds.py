#!/usr/bin/env python3
"""Seeds of tests/unit/switch/fuzz_offload (its input format is in the comment at
the top of fuzz_offload.c): right headers for GSO TCP over IPv4 and IPv6,
tagged and not, partial TCP and UDP checksums, for destinations that take
everything, some offloads or none. python3 fuzz_offload_seeds.py DIR."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "functional"))
from offload_frames import UDP, Frame, payload  # noqa: E402

A, B = "02:00:00:00:0a:01", "02:00:00:00:0b:01"
ALL, CSUM = 0xF, 0x1


def seed(caps, layout, f, **hdr):
    return bytes([ALL, caps, layout]) + f.hdr(**hdr)[:10] + f.bytes


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = []
    for v6 in (False, True):
        for vlan in (None, 7):
            f = Frame(B, A, payload(6000), v6=v6, vlan=vlan, seq=9)
            for caps in (0, CSUM, ALL):
                seeds.append(seed(caps, 1 if vlan else 2, f, gso_size=1400))
                seeds.append(seed(caps, 8 | 4, f, gso_size=536))
        for proto in (6, UDP):
            f = Frame(B, A, payload(900), v6=v6, proto=proto)
            seeds.append(seed(0, 0, f))
            seeds.append(seed(0, 4 | 8, f))
    # A partial checksum that is not TCP's or UDP's, from an odd csum_start,
    # over 700-byte pieces (DPDK's rte_raw_cksum_mbuf got those wrong).
    frame = bytes.fromhex(B.replace(":", "") + A.replace(":", "")) + b"\x88\xb5" + payload(4200)
    seeds.append(bytes([ALL, 0, 8]) + struct.pack("<BBHHHH", 1, 0, 0, 0, 15, 0) + frame)
    for k, s in enumerate(seeds):
        with open(os.path.join(out, "seed%02d" % k), "wb") as fh:
            fh.write(s)


if __name__ == "__main__":
    main()
