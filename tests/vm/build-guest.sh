#!/usr/bin/env bash
# Builds a minimal Linux guest for the real-guest tests from Debian's own
# packages: the linux-image-amd64 kernel, and an initramfs with busybox,
# the virtio-net modules, iperf3 and udpcheck (udpcheck.c beside this
# script, built static: checked UDP streams and an announce watcher for
# the migration test; a changed udpcheck.c or script makes a new
# initramfs). Prints
# the kernel's path on the first line and the initramfs's on the second.
#
#   tests/vm/build-guest.sh OUTDIR
set -euo pipefail
out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
# The newest kernel that has both its image and its modules.
kver=
for v in $(ls /lib/modules | sort -V); do
    [ -f "/boot/vmlinuz-$v" ] && kver=$v
done
[ -n "$kver" ] || { echo "build-guest.sh: no kernel in /boot with modules (apt-get install linux-image-amd64)" >&2; exit 1; }
kernel=/boot/vmlinuz-$kver
src=$(dirname "$0")/udpcheck.c
# Named by what it is made of: checkouts of other versions (another
# worktree, CI's clone) each get their own, whatever the files' times.
initrd=$out/guest-$kver-$(cat "$0" "$src" | md5sum | cut -c1-12).cpio.gz
if [ ! -f "$initrd" ]; then
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root"/{bin,proc,sys,dev,tmp,lib/modules,etc}
    cp /bin/busybox "$root/bin/busybox"
    # Modules in load order.
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
             failover net_failover virtio_net; do
        f=$(find "/lib/modules/$kver" -name "$m.ko" | head -1)
        [ -n "$f" ] || { echo "build-guest.sh: no module $m for $kver" >&2; exit 1; }
        cp "$f" "$root/lib/modules/"
        echo "$m" >> "$root/lib/modules/order"
    done
    # iperf3 and the libraries it links.
    cp /usr/bin/iperf3 "$root/bin/"
    for lib in $(ldd /usr/bin/iperf3 | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
    gcc -static -O2 -Wall -o "$root/bin/udpcheck" "$src"
    cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko; done
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
ip link set lo up
# vqs_ifs=NAME@MAC@ADDRESS@MTU,...: each NIC found by its MAC, renamed
# (while down), addressed and brought up.
for spec in $(arg vqs_ifs | tr , ' '); do
    set -- $(echo "$spec" | tr @ ' ')
    dev=
    for d in /sys/class/net/*; do
        [ "$(cat "$d/address")" = "$2" ] && dev=${d##*/}
    done
    [ -n "$dev" ] || { echo "VQS_NO_NIC $2"; continue; }
    [ "$dev" = "$1" ] || ip link set "$dev" name "$1"
    ip addr add "$3" dev "$1"
    [ -n "$4" ] && ip link set "$1" mtu "$4"
    ip link set "$1" up
done
echo VQS_GUEST_READY
exec setsid cttyhack sh
INIT
    chmod +x "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp.$$"
    mv "$initrd.tmp.$$" "$initrd"
fi
echo "$kernel"
echo "$initrd"
