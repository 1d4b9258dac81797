#!/usr/bin/env python3
"""Writes the seed corpus of tests/guest/fuzz_stateful (the *.bin files next
to this script) from the readable programs below: python3 seeds.py [DIR].
The byte format is fuzz_stateful.c's (README.md): each class method
appends one step exactly as the fuzzer decodes it. The names of the bad
descriptor and message cases and of the chaos kinds are read from
hostile.c and attack.c, so that their indexes stay right."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST = os.path.dirname(HERE)

OPS = ["connect", "disconnect", "tx", "rxpost", "rx", "txdone", "chaos", "kick", "intr", "flags",
       "raw_desc", "hostile_desc", "hostile_msg", "raw_msg", "vring_num", "vring_base", "vring_move",
       "mem", "msg_fail", "stall", "sleep", "call_swap", "forge_used", "poke", "connect_ol", "tx_ol", "log"]
SIZES = [256, 64, 16, 1024, 128, 32, 8, 512, 4, 2, 2048, 4096, 32768]
MEM_MB = [16, 4, 2, 1]
STALL_BYTE = 0x5A
FUZZ, PEER = 0, 1


def names(path, array):
    text = open(os.path.join(GUEST, path)).read()
    body = re.search(r"%s\[\] = \{(.*?)\};" % array, text, re.S).group(1)
    return re.findall(r'"(\w+)"', body)


DESC_KINDS = names("hostile.c", "hostile_desc_kinds")
MSG_KINDS = names("hostile.c", "hostile_msg_kinds")
CHAOS_KINDS = names("attack.c", "chaos_kinds")
FAIL_KINDS = names("attack.c", "msg_fail_kinds")


def be(value, n):
    return value.to_bytes(n, "big")


class Prog:
    """One input: steps for guest 0 ("fuzz") or 1 ("peer")."""

    def __init__(self):
        self.b = bytearray()

    def op(self, name, g):
        self.b.append(g << 7 | OPS.index(name))

    def connect(self, g, packed=0, event_idx=0, mrg=0, indirect=0, rings_at_end=0, need_reply=0,
                qp=1, base=None, size=256, mem=16, no_used_hint=0, postcopy=0, offloads=0):
        self.op("connect_ol" if offloads else "connect", g)
        self.b.append(packed | event_idx << 1 | mrg << 2 | indirect << 3 | rings_at_end << 4 |
                      need_reply << 5 | (qp == 2) << 6 | (base is not None) << 7)
        self.b.append(SIZES.index(size) | MEM_MB.index(mem) << 4 | no_used_hint << 6 | postcopy << 7)
        if base is not None:
            self.b += be(base, 2)

    def disconnect(self, g):
        self.op("disconnect", g)

    def tx(self, g, n=1, length=60, dst="other", vlan=0, segs=(), indirect=0, publish="kick", pair=0):
        """dst: other (the other guest), bcast, unknown (flooded), mcast;
        publish: kick (if the ring wants one), nokick, no (not published)."""
        vlan_mode = {0: 0, 10: 1, 20: 2}.get(vlan, 3)
        pub = {"kick": 0, "nokick": 2, "no": 3}[publish]
        self.op("tx", g)
        self.b.append(pair | ["other", "bcast", "unknown", "mcast"].index(dst) << 1 | vlan_mode << 3 |
                      indirect << 5 | pub << 6)
        self.b.append(n - 1)
        self.b += be(length, 2)
        self.b.append(len(segs))
        for s in segs:
            self.b += be(s, 2)
        if vlan_mode == 3:
            self.b += be(vlan, 2)

    def rxpost(self, g, n=64, length=2048, segs=None, pair=0):
        self.op("rxpost", g)
        if segs:
            self.b.append(pair | 1 << 1 | (len(segs) - 1) << 2)
        else:
            self.b.append(pair)
        self.b.append(n - 1)
        for s in segs or [length]:
            self.b += be(s, 2)

    def rx(self, g, pair=0):
        self.op("rx", g)
        self.b.append(pair)

    def txdone(self, g, pair=0):
        self.op("txdone", g)
        self.b.append(pair)

    def chaos(self, g, vq, kind, arg=None):
        """Starts kind on vq (or stops what runs there)."""
        self.op("chaos", g)
        self.b.append(vq | CHAOS_KINDS.index(kind) << 3 | (arg is not None) << 7)
        if arg is not None:
            self.b += be(arg, 2)

    def chaos_stop(self, g, vq):
        self.op("chaos", g)
        self.b.append(vq)

    def kick(self, g, vq):
        self.op("kick", g)
        self.b.append(vq)

    def intr(self, g, vq, on=1, delay=None, used_event=None):
        self.op("intr", g)
        if used_event is not None:
            self.b.append(vq | 3 << 3)
            self.b += be(used_event, 2)
        elif delay is not None:
            self.b.append(vq | 2 << 3)
            self.b.append(delay)
        else:
            self.b.append(vq | (0 if on else 1) << 3)

    def flags(self, g, vq, value):
        self.op("flags", g)
        self.b.append(vq)
        self.b += be(value, 2)

    def hostile_desc(self, g, kind, pair=0):
        self.op("hostile_desc", g)
        self.b.append(DESC_KINDS.index(kind))
        self.b.append(pair)

    def hostile_msg(self, g, kind):
        self.op("hostile_msg", g)
        self.b.append(MSG_KINDS.index(kind))

    def raw_msg(self, g, request, payload=b"", size=None, nfds=0, need_reply=0):
        self.op("raw_msg", g)
        self.b.append(len(payload))
        self.b.append(nfds)
        self.b.append(request)
        self.b.append(4 if need_reply else 1)
        self.b += be(len(payload) if size is None else size, 2)
        self.b.append(1 if size is None else 0)
        self.b += payload

    def vring_num(self, g, vq, num):
        self.op("vring_num", g)
        self.b.append(vq | 7 << 3)
        self.b += be(num, 4)

    def vring_base(self, g, vq, num):
        self.op("vring_base", g)
        self.b.append(vq)
        self.b += be(num, 4)

    def vring_move(self, g, vq, edge=0):
        self.op("vring_move", g)
        self.b.append(vq | edge << 3)

    def mem(self, g, what, mb=1):
        self.op("mem", g)
        self.b.append(["remap", "shrink", "split"].index(what))
        self.b.append(mb - 1)

    def msg_fail(self, g, kind, index=None):
        self.op("msg_fail", g)
        self.b.append(FAIL_KINDS.index(kind) | (index is not None) << 1 | (index or 0) << 2)

    def stall(self, g):
        self.op("stall", g)
        self.b.append(STALL_BYTE)

    def sleep(self, us):
        """About us microseconds (20..13600)."""
        self.op("sleep", FUZZ)
        self.b.append((us - 20) // 5 if us < 980 else min(255, 192 + (us - 1000) // 200))

    def call_swap(self, g, vq):
        self.op("call_swap", g)
        self.b.append(vq)

    def forge_used(self, g, vq):
        self.op("forge_used", g)
        self.b.append(vq)

    def tx_ol(self, g, length=20000, mode=0, value=1448, to_other=1, v6=0, udp=0, vlan=0, indirect=0,
              segs=(), pair=0):
        """A frame with offloads: mode 0 a right header (value: gso_size
        % 2048, 0 for a partial checksum only), 1-6 flags, gso_type,
        gso_size, csum_start, csum_offset, hdr_len set to value, 7 no
        NEEDS_CSUM."""
        self.op("tx_ol", g)
        self.b.append(pair | to_other << 1 | v6 << 3 | udp << 4 | vlan << 5 | indirect << 6)
        self.b.append(mode)
        self.b += be(value, 2) + be(length, 2)
        self.b.append(len(segs))
        for n in segs:
            self.b += be(n, 2)

    def log(self, g, what):
        """Dirty-page logging: 0 on, 1 a new log, 2 off, 3 on with a log
        at offset 4096 (refused: the connection ends)."""
        self.op("log", g)
        self.b.append(what)

    def poke(self, g, vq, area, offset, value):
        self.op("poke", g)
        self.b.append(vq | area << 3)
        self.b += be(offset, 3) + be(value, 2)


SEEDS = {}


def seed(fn):
    p = Prog()
    fn(p)
    SEEDS[fn.__name__] = bytes(p.b)
    return fn


# --- one per defect of issue 23 ---

@seed
def d1_rx_avail_back(p):
    """1: the receiver's RX avail index moves back by 32 from a thread
    while bursts of 64 frames of 1500 bytes fill its 64-byte mergeable
    buffers (each burst runs out of buffers and looks again)."""
    p.connect(FUZZ, mrg=1, event_idx=1)
    p.connect(PEER, event_idx=1)
    for _ in range(4):
        p.rxpost(FUZZ, n=64, length=64)
    p.chaos(FUZZ, 0, "avail_back", 32)
    for _ in range(14):
        p.tx(PEER, n=64, length=1500)
        p.rx(FUZZ)
        p.rxpost(FUZZ, n=64, length=64)
        p.txdone(PEER)


@seed
def d2_vring_num_grow(p):
    """2: SET_VRING_NUM 32768 on running rings of 8 entries placed at the
    end of a 4 MiB guest memory, then frames both ways through them."""
    p.connect(FUZZ, rings_at_end=1, mem=4, size=8)
    p.connect(PEER)
    p.rxpost(PEER, n=64)
    p.vring_num(FUZZ, 0, 32768)
    p.vring_num(FUZZ, 1, 32768)
    for _ in range(7):
        p.rxpost(FUZZ, n=8)
        p.tx(PEER, n=8)
        p.tx(FUZZ, n=8)
        p.sleep(1000)
        p.txdone(FUZZ)
        p.rx(FUZZ)
        p.rx(PEER)
        p.rxpost(PEER, n=64)


@seed
def d2_packed_base(p):
    """2: packed rings of 256 slots started at slot 256, one past the
    ring (wrap counter 1), and where the switch would read that slot's
    flags, AVAIL set (its per-slot array ends right before: ASan sees the
    write; SET_VRING_BASE takes up to 0x7fff)."""
    p.connect(FUZZ, packed=1, base=0x8000 | 256, event_idx=1)
    p.connect(PEER, event_idx=1)
    for vq in (1, 0):
        p.poke(FUZZ, vq, 0, 256 * 16 + 14, 0x0080)
    p.tx(PEER, n=8)
    p.sleep(5000)


@seed
def d3_ring_moved_pmd_asleep(p):
    """3: the sender's TX vring is idle and the PMD asleep (--pmd-sleep=1)
    when its memory table is mapped anew, or the ring is moved."""
    p.connect(FUZZ, event_idx=1)
    p.connect(PEER, event_idx=1)
    p.rxpost(PEER, n=64)
    for move in ("split", "remap", "move", "split", "move_edge"):
        p.tx(FUZZ, dst="bcast")
        p.sleep(3000)
        p.txdone(FUZZ)
        p.sleep(3000)
        if move.startswith("move"):
            p.vring_move(FUZZ, 1, edge=int(move == "move_edge"))
        else:
            p.mem(FUZZ, move)
        p.sleep(5000)


@seed
def d4_failed_mem_table_reply_ack(p):
    """4: with REPLY_ACK, a memory table the switch must fail; the port
    must not stay paused with the connection kept."""
    p.connect(FUZZ, need_reply=1, event_idx=1)
    p.connect(PEER, event_idx=1)
    p.rxpost(PEER, n=64)
    p.msg_fail(FUZZ, "mem_table")
    p.tx(FUZZ, n=4)
    p.sleep(2000)


@seed
def d4_failed_vring_call_reply_ack(p):
    """4 (and 6): with REPLY_ACK, a SET_VRING_CALL the switch must fail;
    interrupts asked for must still come."""
    p.connect(FUZZ, need_reply=1, event_idx=1)
    p.connect(PEER, event_idx=1)
    p.rxpost(PEER, n=64)
    p.intr(FUZZ, 1)
    p.msg_fail(FUZZ, "vring_call", index=1)
    p.tx(FUZZ, n=4)
    p.sleep(2000)
    p.txdone(FUZZ)


@seed
def d5_vlan_bytes_rewritten(p):
    """5: 1000-byte frames (left in the sender's memory) whose EtherType
    a thread rewrites between untagged and VLAN 20 after publishing."""
    p.connect(FUZZ, event_idx=1)
    p.connect(PEER, event_idx=1)
    for _ in range(4):
        p.rxpost(PEER, n=64)
    p.chaos(FUZZ, 1, "buf_rewrite", 20)
    for _ in range(14):
        p.tx(FUZZ, n=32, length=1000, dst="bcast")
        p.sleep(800)
        p.txdone(FUZZ)
        p.rx(PEER)
        p.rxpost(PEER, n=64)


@seed
def d6_call_swap_under_traffic(p):
    """6, 8: the receiver replaces its RX call eventfd (REPLY_ACK) while
    bursts of 4000-byte frames arrive, each time after asking for an
    interrupt at its next used entry (EVENT_IDX); the next ask checks
    that the call came."""
    p.connect(FUZZ, event_idx=1, need_reply=1, mrg=1)
    p.connect(PEER, event_idx=1)
    for _ in range(4):
        p.rxpost(FUZZ, n=64)
    for _ in range(12):
        p.intr(FUZZ, 0)
        p.tx(PEER, n=32, length=4000)
        p.call_swap(FUZZ, 0)
        p.rx(FUZZ)
        p.rxpost(FUZZ, n=64)


@seed
def d7_num_buffers_slot(p):
    """7: RX chains of 10, 100 and 100 bytes (mergeable), bursts of an
    8600-8740-byte frame, then 500, 60 and 60 bytes, one publish each."""
    p.connect(FUZZ, mrg=1, size=1024)
    p.connect(PEER)
    for _ in range(5):
        p.rxpost(FUZZ, n=64, segs=[10, 100, 100])
    for first in range(8600, 8760, 20):
        for j, length in enumerate((first, 500, 60, 60)):
            p.tx(PEER, length=length, publish="kick" if j == 3 else "no")
        p.sleep(1000)
        p.rx(FUZZ)
        p.rxpost(FUZZ, n=64, segs=[10, 100, 100])


@seed
def d7_num_buffers_slot_more(p):
    """7, the other first lengths (8760-8900)."""
    p.connect(FUZZ, mrg=1, size=1024)
    p.connect(PEER)
    for _ in range(5):
        p.rxpost(FUZZ, n=64, segs=[10, 100, 100])
    for first in range(8760, 8920, 20):
        for j, length in enumerate((first, 500, 60, 60)):
            p.tx(PEER, length=length, publish="kick" if j == 3 else "no")
        p.sleep(1000)
        p.rx(FUZZ)
        p.rxpost(FUZZ, n=64, segs=[10, 100, 100])


@seed
def d9_stalled_message(p):
    """9: a message header whose payload never comes."""
    p.connect(FUZZ, event_idx=1)
    p.connect(PEER, event_idx=1)
    p.tx(PEER, n=4, dst="bcast")
    p.stall(FUZZ)


# --- what the fuzzer found in the switch after the fixes (6ee34cf) ---

@seed
def found_vring_num_4(p):
    """SET_VRING_NUM 4 (a guest with rings of 4 entries): the guard's
    SET_VRING_NUM case falls through to SET_FEATURES' check, which reads
    index | num << 32 as features (bit 34, packed, without VERSION_1),
    refuses it by setting a feature bit in the message: num is no longer
    4, and librte_vhost crashes (SEGV, both datapaths)."""
    p.connect(FUZZ, size=4)


@seed
def found_reconnect_at_once(p):
    """A guest that connects again at once (before the switch saw its old
    connection close): the new connection waits, takes over, and its RX
    vring 0 is never enabled in the switch (frames to it are lost for
    good; both datapaths)."""
    p.connect(FUZZ)
    p.connect(FUZZ)
    p.connect(PEER)


@seed
def found_library_empty_frames(p):
    """Library datapath, --pmd-sleep: a burst of frames with no bytes
    after the virtio-net header. rte_vhost_dequeue_burst drops one and
    returns 0, the PMD takes that for an idle ring and sleeps: the rest
    is taken one per 100 ms wake-up (the guest's TX buffers come back
    seconds later)."""
    p.connect(PEER, event_idx=1)
    p.tx(PEER, n=32, length=0)


# --- starting points for the rest ---

@seed
def traffic_split(p):
    p.connect(FUZZ, event_idx=1, mrg=1, indirect=1)
    p.connect(PEER, event_idx=1, mrg=1, indirect=1)
    p.rxpost(FUZZ, n=64)
    p.rxpost(PEER, n=64)
    p.intr(FUZZ, 0)
    p.intr(PEER, 1)
    p.tx(FUZZ, n=16, length=1514, segs=[12, 100], indirect=1)
    p.tx(PEER, n=16, length=9000)
    p.sleep(500)
    p.rx(FUZZ)
    p.rx(PEER)
    p.txdone(FUZZ)
    p.txdone(PEER)


@seed
def traffic_packed(p):
    p.connect(FUZZ, packed=1, event_idx=1, mrg=1, size=64)
    p.connect(PEER, packed=1, qp=2, size=128)
    p.rxpost(FUZZ, n=64, length=1024)
    p.rxpost(PEER, n=64, segs=[6, 6, 3000])
    p.rxpost(PEER, n=64, pair=1)
    p.tx(FUZZ, n=32, length=3000, vlan=10)
    p.tx(PEER, n=32, length=700, pair=1)
    p.sleep(500)
    p.rx(FUZZ)
    p.rx(PEER)
    p.rx(PEER, pair=1)
    p.txdone(FUZZ)
    p.txdone(PEER, pair=1)


@seed
def chaos_all_kinds(p):
    p.connect(FUZZ, event_idx=1, mrg=1)
    p.connect(PEER, packed=1, event_idx=1, mrg=1)
    p.rxpost(FUZZ, n=64, segs=[12, 500, 1500])
    p.rxpost(PEER, n=64)
    p.chaos(FUZZ, 0, "desc_flip")
    p.chaos(PEER, 1, "event_random")
    for _ in range(4):
        p.tx(PEER, n=16, length=1200)
        p.tx(FUZZ, n=16, length=200)
        p.sleep(300)
        p.rx(FUZZ)
        p.rx(PEER)
        p.txdone(PEER)
        p.txdone(FUZZ)
    p.chaos_stop(FUZZ, 0)
    p.chaos(FUZZ, 1, "avail_ahead")
    p.tx(FUZZ, n=16)


@seed
def qemu_on_running_device(p):
    p.connect(FUZZ, need_reply=1, rings_at_end=1, mem=4, event_idx=1)
    p.connect(PEER, event_idx=1)
    p.rxpost(FUZZ, n=64)
    p.rxpost(PEER, n=64)
    p.tx(PEER, n=8)
    p.vring_move(FUZZ, 0, edge=1)
    p.tx(PEER, n=8)
    p.mem(FUZZ, "shrink", mb=2)
    p.tx(PEER, n=8)
    p.vring_base(FUZZ, 1, 0x8000 | 100)
    p.tx(FUZZ, n=8)
    p.mem(FUZZ, "split")
    p.rx(FUZZ)


@seed
def offloads(p):
    """Two guests with offloads: GSO frames and partial checksums over
    IPv4 and IPv6, tagged or not, in pieces, to each other and flooded,
    then each header field wrong in turn."""
    p.connect(FUZZ, event_idx=1, mrg=1, indirect=1, offloads=1)
    p.connect(PEER, event_idx=1, mrg=1, offloads=1)
    p.rxpost(PEER, n=64, length=4096)
    p.rxpost(FUZZ, n=64, length=4096)
    p.tx_ol(FUZZ)
    p.tx_ol(FUZZ, v6=1, segs=(12, 100, 2000))
    p.tx_ol(FUZZ, to_other=0, vlan=1, indirect=1, segs=(12, 30000))
    p.tx_ol(PEER, udp=1, length=3000, value=0)
    for mode in range(1, 8):
        p.tx_ol(FUZZ, mode=mode, value=[0, 3, 0, 0xfff0, 20000, 7, 0][mode - 1], length=9000)
    p.rx(PEER)
    p.rx(FUZZ)
    p.txdone(FUZZ)
    p.txdone(PEER)


@seed
def migration(p):
    """Both guests migrating: logging on while frames flow both ways, a
    new log in the middle, packed and split, off again; then a log the
    switch must refuse."""
    p.connect(FUZZ, event_idx=1, mrg=1)
    p.connect(PEER, packed=1, event_idx=1, mrg=1)
    p.rxpost(PEER, n=64, length=2048)
    p.rxpost(FUZZ, n=64, length=2048)
    p.log(FUZZ, 0)
    p.log(PEER, 0)
    p.tx(FUZZ, n=16, length=1500)
    p.tx(PEER, n=16, length=60)
    p.log(PEER, 1)
    p.tx(FUZZ, n=16, length=4000)
    p.rx(PEER)
    p.rx(FUZZ)
    p.log(FUZZ, 2)
    p.txdone(FUZZ)
    p.txdone(PEER)
    p.log(PEER, 3)
    p.tx(FUZZ, n=8)


@seed
def hostile_descriptors(p):
    p.connect(FUZZ, packed=1, indirect=1)
    p.connect(PEER, indirect=1)
    p.hostile_desc(FUZZ, "indirect_nested")
    p.hostile_desc(PEER, "loop")
    p.hostile_desc(PEER, "rx_readonly")
    p.tx(FUZZ, n=4)
    p.raw_msg(PEER, 8, be(0, 4) + be(1024, 4))  # SET_VRING_NUM 0 1024
    p.forge_used(PEER, 1)
    p.poke(PEER, 0, 1, 2, 0x1234)


class Reader:
    def __init__(self, data):
        self.d, self.i = data, 0

    def take(self, n):
        v = 0
        for _ in range(n):
            if self.i < len(self.d):
                v = v << 8 | self.d[self.i]
                self.i += 1
        return v

    def byte(self):
        return self.take(1)

    def left(self):
        return len(self.d) - self.i


def show(data):
    """The steps of an input, as fuzz_stateful.c decodes them (whether a
    step does anything also depends on the guest's state: it is skipped
    if the guest is not connected or has no such vring)."""
    r = Reader(data)
    out = []
    while r.left() > 0 and len(out) < 64:
        start = r.i
        b = r.byte()
        g = ["fuzz", "peer"][b >> 7]
        op = OPS[(b & 0x7F) % len(OPS)]
        args = ""
        if op in ("connect", "connect_ol"):
            a, c = r.byte(), r.byte()
            f = [n for k, n in enumerate(["packed", "event_idx", "mrg", "indirect", "rings_at_end",
                                          "need_reply", "qp=2"]) if a >> k & 1]
            if a >> 7:
                f.append("base=%#x" % r.take(2))
            f.append("size=%d" % (SIZES + [256, 64, 256])[c & 15])
            f.append("mem=%d" % MEM_MB[c >> 4 & 3])
            if c >> 6 & 1:
                f.append("no_used_hint")
            if c >> 7:
                f.append("postcopy")
            args = " ".join(f)
        elif op == "tx":
            a, n, ln = r.byte(), r.byte() % 64 + 1, r.take(2)
            ns = r.byte() % 9
            segs = [r.take(2) for _ in range(ns)]
            vlan = [0, 10, 20, None][a >> 3 & 3]
            if vlan is None:
                vlan = r.take(2) & 0xFFF
            args = "pair=%d n=%d len=%d dst=%s vlan=%d segs=%s indirect=%d publish=%s" % (
                a & 1, n, ln, ["other", "bcast", "unknown", "mcast"][a >> 1 & 3], vlan,
                ",".join(map(str, segs)) or "-", a >> 5 & 1, ["kick", "kick", "nokick", "no"][a >> 6])
        elif op == "rxpost":
            a, n = r.byte(), r.byte() % 64 + 1
            segs = [r.take(2) for _ in range((a >> 2 & 7) + 1 if a >> 1 & 1 else 1)]
            args = "pair=%d n=%d %s=%s" % (a & 1, n, "segs" if a >> 1 & 1 else "len",
                                           ",".join(map(str, segs)))
        elif op in ("rx", "txdone"):
            args = "pair=%d" % (r.byte() & 1)
        elif op == "chaos":
            a = r.byte()
            arg = r.take(2) if a >> 7 else None
            args = "vq=%d kind=%s arg=%s (or stop)" % (a & 7, CHAOS_KINDS[(a >> 3 & 15) % 5], arg)
        elif op in ("kick", "call_swap", "forge_used"):
            args = "vq=%d" % (r.byte() & 7)
        elif op == "intr":
            a = r.byte()
            mode = a >> 3 & 3
            x = r.byte() if mode == 2 else r.take(2) if mode == 3 else None
            args = "vq=%d %s" % (a & 7, ["on", "off", "delay=%s" % x, "used_event=%s" % x][mode])
        elif op == "flags":
            args = "vq=%d value=%#x" % (r.byte() & 7, r.take(2))
        elif op == "raw_desc":
            vq, n, nh = r.byte() & 7, r.byte() % 8 + 1, r.byte() % 4 + 1
            d = [(r.take(4), r.take(3), r.byte(), r.byte()) for _ in range(n)]
            heads = [r.byte() for _ in range(nh)]
            bump = r.take(2) if r.byte() % 3 == 0 else 0
            args = "vq=%d desc=%s heads=%s bump=%d" % (vq, d, heads, bump)
        elif op == "hostile_desc":
            args = "kind=%s pair=%d" % (DESC_KINDS[r.byte() % len(DESC_KINDS)], r.byte() & 1)
        elif op == "hostile_msg":
            args = "kind=%s" % MSG_KINDS[r.byte() % len(MSG_KINDS)]
        elif op == "raw_msg":
            plen, nfds, req, fl, size, honest = (r.byte(), r.byte() % 4, r.byte() % 43, r.byte(),
                                                 r.take(2), r.byte() & 1)
            plen = min(plen, r.left())
            payload = bytes(r.d[r.i:r.i + plen])
            r.i += plen
            args = "request=%d need_reply=%d size=%s nfds=%d payload=%s" % (
                req, fl % 4 == 0, plen if honest or not plen else size, nfds, payload.hex())
        elif op in ("vring_num", "vring_base"):
            a = r.byte()
            if op == "vring_base":
                num = r.take(4)
            else:
                m = a >> 3 & 7
                num = ["2*size", "size/2", 32768, 0, 3, "size", None, None][m]
                if m == 6:
                    num = r.take(2)
                elif m == 7:
                    num = r.take(4)
            args = "vq=%d num=%s" % (a & 7, num)
        elif op == "vring_move":
            a = r.byte()
            args = "vq=%d edge=%d" % (a & 7, a >> 3 & 1)
        elif op == "mem":
            a, b2 = r.byte(), r.byte()
            args = ["remap", "shrink mb=%d (%% mem + 1)" % (b2 + 1), "split", "remap"][a % 4]
        elif op == "msg_fail":
            a = r.byte()
            args = "kind=%s index=%s" % (FAIL_KINDS[a & 1], (a >> 2) % 8 if a >> 1 & 1 else "-")
        elif op == "stall":
            args = "(stalls)" if r.byte() == STALL_BYTE else "(nothing: not %#x)" % STALL_BYTE
        elif op == "sleep":
            a = r.byte()
            args = "%d us" % (20 + 5 * a if a < 192 else 1000 + (a - 192) * 200)
            g = ""
        elif op == "tx_ol":
            a, mode, value, ln = r.byte(), r.byte() % 8, r.take(2), r.take(2)
            segs = [r.take(2) for _ in range(r.byte() % 9)]
            args = "pair=%d dst=%s %s %s vlan=%d indirect=%d len=%d %s=%d segs=%s" % (
                a & 1, ["bcast", "other"][a >> 1 & 1], ["IPv4", "IPv6"][a >> 3 & 1],
                ["TCP", "UDP"][a >> 4 & 1], a >> 5 & 1, a >> 6 & 1, ln,
                ["gso_size%2048", "flags", "gso_type", "gso_size", "csum_start", "csum_offset", "hdr_len",
                 "no NEEDS_CSUM"][mode], value, ",".join(map(str, segs)) or "-")
        elif op == "log":
            args = ["on", "new base", "off", "on at offset 4096 (refused)"][r.byte() % 4]
        elif op == "poke":
            a = r.byte()
            args = "vq=%d area=%d offset=%#x value=%#x" % (a & 7, (a >> 3) % 3, r.take(3), r.take(2))
        out.append("%s %s %s" % (g, op, args))
        offsets.append((start, r.i))
    return out


offsets = []


def steps(data):
    """The byte ranges of an input's steps."""
    del offsets[:]
    show(data)
    return [data[a:b] for a, b in offsets]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--show":
        for path in sys.argv[2:]:
            print("%s:" % path)
            for line in show(open(path, "rb").read()):
                print("   ", line)
        return
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
        print("%-34s %4d bytes" % (name + ".bin", len(data)))


if __name__ == "__main__":
    main()
