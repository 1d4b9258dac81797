"""TCP and UDP frames over IPv4 and IPv6 as a guest with checksum and
segmentation offloads hands them over (a virtio-net header, a partial
checksum holding the pseudo-header's sum), and the checks a receiver makes
of what it got: every checksum, the segments' lengths, sequence numbers
and flags, the payload put back together."""
import struct

from vqtest import check, mac_bytes

# virtio-net features (virtio 1.2, 5.1.3)
F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_GUEST_TSO6 = 0, 1, 7, 8
F_GUEST_ECN, F_HOST_TSO4, F_HOST_TSO6, F_HOST_ECN = 9, 11, 12, 13
OFFLOADS = sum(1 << f for f in (F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_GUEST_TSO6,
                                F_HOST_TSO4, F_HOST_TSO6))
NEEDS_CSUM, DATA_VALID = 1, 2
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_ECN = 0, 1, 3, 4, 0x80
HDR = 12
TCP, UDP = 6, 17
SRC4, DST4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
SRC6, DST6 = bytes([0xfd] + [0] * 14 + [1]), bytes([0xfd] + [0] * 14 + [2])


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def sum16(data):
    if len(data) % 2:
        data += b"\0"
    return fold(sum(struct.unpack("!%dH" % (len(data) // 2), data)))


def pseudo(v6, src, dst, proto, length):
    if v6:
        return sum16(src + dst + struct.pack("!IxxxB", length, proto))
    return sum16(src + dst + struct.pack("!xBH", proto, length))


def vnet_hdr(flags=0, gso_type=GSO_NONE, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, 0)


def payload(n, seed=0):
    return bytes((i * 7 + seed) & 0xff for i in range(n))


class Frame:
    """An Ethernet frame with IPv4 or IPv6 and TCP or UDP, its L4 checksum
    partial (the pseudo-header's sum, as NEEDS_CSUM wants it)."""

    def __init__(self, dst, src, data, v6=False, proto=TCP, seq=1000, vlan=None, ipid=0x100,
                 tcp_flags=0x18, tcp_opts=b"", ip_opts=b""):
        self.v6, self.proto, self.data, self.seq = v6, proto, data, seq
        eth = mac_bytes(dst) + mac_bytes(src)
        if vlan is not None:
            eth += struct.pack("!HH", 0x8100, vlan)
        eth += struct.pack("!H", 0x86dd if v6 else 0x0800)
        if proto == TCP:
            l4 = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 1, (5 + len(tcp_opts) // 4) << 4,
                             tcp_flags, 65535, 0, 0) + tcp_opts
            self.csum_offset = 16
        else:
            l4 = struct.pack("!HHHH", 40000, 5201, 8 + len(data), 0)
            self.csum_offset = 6
        l4len = len(l4) + len(data)
        src, dst_ip = (SRC6, DST6) if v6 else (SRC4, DST4)
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, l4len, proto, 64) + src + dst_ip
        else:
            ip = struct.pack("!BBHHHBBH", 0x45 + len(ip_opts) // 4, 0, 20 + len(ip_opts) + l4len, ipid,
                             0x4000, 64, proto, 0) + src + dst_ip + ip_opts
            ip = ip[:10] + struct.pack("!H", 0xffff ^ sum16(ip)) + ip[12:]
        self.l3_off = len(eth)
        self.csum_start = len(eth) + len(ip)
        self.hdrs = self.csum_start + len(l4)
        self.pseudo = lambda n: pseudo(v6, src, dst_ip, proto, n)
        self.l4len = l4len
        o = self.csum_offset
        l4 = l4[:o] + struct.pack("!H", self.pseudo(l4len)) + l4[o + 2:]
        self.bytes = eth + ip + l4 + data

    def with_partial(self, length):
        """The frame with the pseudo-header's sum over this L4 length in
        its checksum field."""
        at = self.csum_start + self.csum_offset
        return self.bytes[:at] + struct.pack("!H", self.pseudo(length)) + self.bytes[at + 2:]

    def hdr(self, gso_size=0, **over):
        gso = GSO_NONE
        if gso_size:
            gso = GSO_TCPV6 if self.v6 else GSO_TCPV4
        f = dict(flags=NEEDS_CSUM, gso_type=gso, hdr_len=self.hdrs if gso_size else 0,
                 gso_size=gso_size, csum_start=self.csum_start, csum_offset=self.csum_offset)
        f.update(over)
        return vnet_hdr(**f)


def read_dump(path):
    """The frames a test guest dumped: (virtio-net header fields, frame)."""
    out = []
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return out
    i = 0
    while i < len(data):
        (n,) = struct.unpack_from("<I", data, i)
        rec = data[i + 4:i + 4 + n]
        h = dict(zip(("flags", "gso_type", "hdr_len", "gso_size", "csum_start", "csum_offset",
                      "num_buffers"), struct.unpack_from("<BBHHHHH", rec)))
        out.append((h, rec[HDR:]))
        i += 4 + n
    return out


def l3_of(frame):
    """(IP header offset, version) of an untagged or tagged frame."""
    off = 12
    while struct.unpack_from("!H", frame, off)[0] in (0x8100, 0x88a8):
        off += 4
    t = struct.unpack_from("!H", frame, off)[0]
    return off + 2, 6 if t == 0x86dd else 4


def check_segment(frame, what):
    """A frame as it goes on a wire: IPv4 header checksum, TCP or UDP
    checksum over the pseudo-header, IP lengths right. Returns (l4 offset,
    proto, payload offset)."""
    l3, v = l3_of(frame)
    if v == 4:
        ihl = (frame[l3] & 0xf) * 4
        check(sum16(frame[l3:l3 + ihl]) == 0xffff, "%s: IPv4 header checksum" % what)
        tot = struct.unpack_from("!H", frame, l3 + 2)[0]
        check(tot == len(frame) - l3, "%s: IPv4 total length %d, frame has %d" % (what, tot, len(frame) - l3))
        proto, l4 = frame[l3 + 9], l3 + ihl
        src, dst = frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20]
    else:
        plen = struct.unpack_from("!H", frame, l3 + 4)[0]
        check(plen == len(frame) - l3 - 40, "%s: IPv6 payload length %d" % (what, plen))
        proto, l4 = frame[l3 + 6], l3 + 40
        src, dst = frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40]
    l4len = len(frame) - l4
    total = fold(pseudo(v == 6, src, dst, proto, l4len) + sum16(frame[l4:]))
    check(total == 0xffff, "%s: %s checksum wrong (sum 0x%04x)" % (what, "TCP" if proto == TCP else "UDP", total))
    data = l4 + ((frame[l4 + 12] >> 4) * 4 if proto == TCP else 8)
    return l4, proto, data


def check_segments(segs, sent, mss, what):
    """Segments of GSO frame `sent` (a Frame): each checksummed and at
    most mss bytes of payload, sequence numbers contiguous, FIN/PSH only
    on the last, CWR only on the first, the payload whole and in order."""
    n = -(-len(sent.data) // mss)
    check(len(segs) == n, "%s: %d segments, expected %d" % (what, len(segs), n))
    got = b""
    for k, (h, f) in enumerate(segs):
        check(h["flags"] == 0 and h["gso_type"] == 0, "%s: segment %d header %s" % (what, k, h))
        l4, proto, d = check_segment(f, "%s segment %d" % (what, k))
        check(len(f) - d == min(mss, len(sent.data) - k * mss), "%s: segment %d carries %d bytes" %
              (what, k, len(f) - d))
        seq, flags = struct.unpack_from("!I", f, l4 + 4)[0], f[l4 + 13]
        check(seq == sent.seq + k * mss, "%s: segment %d seq %d, expected %d" % (what, k, seq, sent.seq + k * mss))
        if k + 1 < n:
            check(flags & 0x09 == 0, "%s: FIN/PSH on segment %d" % (what, k))
        if k > 0:
            check(flags & 0x80 == 0, "%s: CWR on segment %d" % (what, k))
        check(f[:sent.l3_off] == sent.bytes[:sent.l3_off], "%s: segment %d Ethernet header" % (what, k))
        got += f[d:]
    check(got == sent.data, "%s: payload put back together differs" % what)
