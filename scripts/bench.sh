#!/usr/bin/env bash
# VM-to-VM throughput, vqswitch against dpdk-testpmd io forwarding between
# two net_vhost ports, same generator, same run; then with more guests
# connected. See scripts/bench.py. Results go to build/bench (--out DIR):
# results.json, results.csv, and PNG plots when python3-matplotlib is
# installed (scripts/bench_plot.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
out=build/bench
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[i]}" = --out ] && out=${args[i + 1]}
done
python3 scripts/bench.py "$@"
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
    /usr/bin/python3 scripts/bench_plot.py "$out"
else
    echo "bench.sh: no plots (apt-get install python3-matplotlib)"
fi
