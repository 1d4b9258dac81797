#!/usr/bin/env bash
# Makes a Debian 12 machine (as root) ready to build and run vqswitch
# (--run: what scripts/run.sh needs) or also to test it (--test, the
# default: scripts/test.sh, scripts/bench.sh): installs what is missing,
# reserves hugepages, builds into ./build. Says what it is doing; safe to
# run again, it only does what is not done yet.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:---test}
# Building and running: DPDK (dpdk also has dpdk-telemetry.py and testpmd),
# the toolchain, libbsd, libmnl (BGP EVPN's netlink).
PACKAGES=(dpdk dpdk-dev libdpdk-dev libbsd-dev libmnl-dev meson ninja-build pkg-config gcc)
if [ "$mode" = --test ]; then
    PACKAGES+=(python3 iproute2 procps passwd
               # BGP EVPN's tests: FRR's zebra, bgpd and vtysh in namespaces
               frr
               # the man pages (docs/man), systemd-analyze for the units' test,
               # Prometheus' own parser for the metrics test
               scdoc systemd python3-prometheus-client
               # the fuzz target (tests/guest, scripts/fuzz.sh): clang and libFuzzer
               clang libclang-rt-14-dev
               # the real-guest tests (tests/vm): QEMU, a kernel, busybox, iperf3,
               # libc's static archive for the guests' udpcheck
               qemu-system-x86 linux-image-amd64 busybox-static iperf3 cpio libc6-dev
               # the tunnel tests: Linux VTEPs in namespaces, pinged and captured,
               # their veths' segmentation offloads off
               iputils-ping tcpdump ethtool)
elif [ "$mode" != --run ]; then
    echo "usage: setup.sh [--run|--test]" >&2
    exit 2
fi
# The tests run two streams at once (scripts/test.sh), each with up to
# a switch and a generator: twice the hugepages of one.
HUGEPAGES=${VQS_HUGEPAGES:-$([ "$mode" = --test ] && echo 1024 || echo 512)}

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (DPDK needs hugepages and raw devices)" >&2
    exit 1
fi

. scripts/install-missing.sh
install_missing setup.sh "${PACKAGES[@]}"

mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt "$HUGEPAGES" ]; then
    echo "setup.sh: reserving $HUGEPAGES hugepages"
    echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
fi
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt "$HUGEPAGES" ]; then
    echo "setup.sh: only $(cat /proc/sys/vm/nr_hugepages) of $HUGEPAGES hugepages could be reserved" >&2
fi

# prefix /usr: the built-in defaults are /etc, /var/lib and /run (as for
# a distribution's build); -Dwerror=true: warnings fail our own builds.
if [ ! -f build/build.ninja ]; then
    echo "setup.sh: configuring build/"
    meson setup build --prefix=/usr -Dwerror=true >/dev/null
fi
echo "setup.sh: building (ninja -C build)"
ninja -C build
