#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs vqswitch in the foreground on the
# default config: vhost-user sockets /run/vqswitch/vm1.sock and vm2.sock
# and a tap interface vq0 as uplink. Ctrl-C stops it.
# Extra arguments go to vqswitch after the config, e.g. --socket-group kvm.
# VQS_LCORES (default 0,1: main lcore 0, one PMD on lcore 1) and
# VQS_CONFIG override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --run
exec ./build/app/vqswitch/vqswitch -l "${VQS_LCORES:-0,1}" --file-prefix vqswitch -m 256 \
    -- --config "${VQS_CONFIG:-config/default.conf}" "$@"
