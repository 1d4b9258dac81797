#!/usr/bin/env bash
# Creates vhost-user ports vm1..vmN on a bridge of a running vqswitch, one
# per VM, like a loop of 'ovs-vsctl add-port br0 vmI -- set Interface vmI
# type=dpdkvhostuser'. Ports that exist already are left as they are.
#
#   scripts/add-vm-ports.sh BRIDGE N [OPTION=VALUE...]   e.g. queues=2 tag=100
#
# VQCTL (default: build/app/vqctl/vqctl, else vqctl on PATH) and
# VQCTL_SOCKET (read by vqctl; default /run/vqswitch/vqswitch.ctl) say how to reach it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
    echo "usage: $0 BRIDGE N [OPTION=VALUE...]" >&2
    exit 2
fi
bridge=$1 n=$2
shift 2
vqctl=${VQCTL:-$here/build/app/vqctl/vqctl}
[ -x "$vqctl" ] || vqctl=vqctl
ctl() { "$vqctl" "$@"; }

existing=$(ctl list-ports "$bridge")
for i in $(seq 1 "$n"); do
    if grep -qx "vm$i" <<<"$existing"; then
        echo "vm$i exists"
        continue
    fi
    ctl add-port "$bridge" "vm$i" type=vhostuser "$@"
    echo "vm$i added"
done
