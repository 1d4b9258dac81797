#!/usr/bin/env bash
# VM-to-VM throughput, vqswitch against dpdk-testpmd io forwarding between
# two net_vhost ports, same generator, same run. See scripts/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec python3 scripts/bench.py "$@"
