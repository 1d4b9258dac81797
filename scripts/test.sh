#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test: unit tests and the
# functional tests that drive the real vqswitch with dpdk-testpmd and veth
# peers. Ends with "N passed, N failed"; exits non-zero if any failed.
# Arguments go to 'meson test' (e.g. --suite unit, or one test's name).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

log=build/meson-logs/testlog.json
rm -f "$log"
meson test -C build --print-errorlogs "$@"
rc=$?
python3 - "$log" "$rc" <<'PY'
import json, sys
passed = failed = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r != "SKIP":
            failed += 1
except FileNotFoundError:
    pass
if passed + failed == 0 or (failed == 0 and sys.argv[2] != "0"):
    failed += 1  # meson itself failed: never report a clean run
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
