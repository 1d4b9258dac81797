#!/usr/bin/env bash
# Prints a QEMU command line for each vhost-user port of a bridge of a
# running vqswitch: shared guest memory (vhost-user needs it), the socket,
# as many queue pairs as the port polls, and a MAC derived from the port.
#
#   scripts/qemu-cmdline.sh BRIDGE [EXTRA QEMU ARGUMENTS...]
#
# VQCTL and VQCTL_SOCKET as for add-vm-ports.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ]; then
    echo "usage: $0 BRIDGE [EXTRA QEMU ARGUMENTS...]" >&2
    exit 2
fi
bridge=$1
shift
vqctl=${VQCTL:-$here/build/app/vqctl/vqctl}
[ -x "$vqctl" ] || vqctl=vqctl
show=$("$vqctl" --format json show)

VQS_SHOW=$show python3 - "$bridge" "$*" <<'PY'
import json, os, sys, zlib
bridge, extra = sys.argv[1], sys.argv[2]
show = json.loads(os.environ["VQS_SHOW"])
ports = [p for b in show["bridges"] if b["name"] == bridge for p in b["ports"]]
for p in ports:
    if not p["type"].startswith("vhostuser"):
        continue
    h = zlib.crc32(p["name"].encode())
    mac = "52:54:00:%02x:%02x:%02x" % (h >> 16 & 0xff, h >> 8 & 0xff, h & 0xff)
    # vhostuser: vqswitch listens, QEMU connects; vhostuserclient: the reverse.
    server = ",server=on,wait=off" if p["type"] == "vhostuserclient" else ""
    q = p["queues"]
    mq = ",mq=on,vectors=%d" % (2 * q + 2) if q > 1 else ""
    print("# %s" % p["name"])
    print("qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 1G -smp %d "
          "-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem "
          "-chardev socket,id=char-%s,path=%s%s "
          "-netdev vhost-user,id=net-%s,chardev=char-%s,queues=%d "
          "-device virtio-net-pci,netdev=net-%s,mac=%s,mrg_rxbuf=on%s %s"
          % (max(1, q), p["name"], p["path"], server, p["name"], p["name"], q, p["name"], mac, mq,
             extra))
PY
