#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test: unit tests, the
# functional tests that drive the real vqswitch with dpdk-testpmd, veth
# peers and the test guest, and the real-guest tests under QEMU. Then the
# test-guest suites again against an AddressSanitizer build, a one
# minute fuzzing run (scripts/fuzz.sh), and the Debian package built,
# installed, checked and purged (scripts/deb.sh --check). Ends with
# "N passed, N failed";
# exits non-zero if any failed.
# Arguments go to 'meson test' on the main build only (e.g. --suite unit,
# or one test's name), and skip the ASan and fuzzing runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1

logs=(build/meson-logs/testlog.json)
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
meson test -C build --print-errorlogs "$@"
rc=$?
fuzz=skipped
deb=skipped
if [ $# -eq 0 ]; then
    echo "== the test-guest suites against the ASan build"
    [ -f build-asan/build.ninja ] ||
        meson setup build-asan -Dwerror=true -Db_sanitize=address -Db_lundef=false -Dbuildtype=debugoptimized
    if ninja -C build-asan; then
        meson test -C build-asan --print-errorlogs --suite guest || rc=1
        logs+=(build-asan/meson-logs/testlog.json)
    else
        rc=1
    fi
    echo "== fuzzing (scripts/fuzz.sh 40, both datapaths)"
    # Bounded from outside too: a hang anywhere in it is a failure, never
    # a run that outlasts CI's limit.
    if VQS_DATAPATH=library timeout -k 10 600 bash scripts/fuzz.sh 40 &&
        VQS_DATAPATH=direct timeout -k 10 600 bash scripts/fuzz.sh 40; then
        fuzz=passed
    else
        fuzz=failed
        rc=1
    fi
    echo "== the Debian package (scripts/deb.sh --check)"
    if timeout -k 10 1200 bash scripts/deb.sh --check; then deb=passed; else deb=failed; rc=1; fi
fi
python3 - "$rc" "$fuzz" "$deb" "${logs[@]}" <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[4:]:
    try:
        for line in open(path):
            r = json.loads(line)["result"]
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r != "SKIP":
                failed += 1
    except FileNotFoundError:
        failed += 1  # that run did not happen
for extra in sys.argv[2:4]:  # fuzzing, the package: one case each
    passed += extra == "passed"
    failed += extra == "failed"
if passed + failed == 0 or (failed == 0 and sys.argv[1] != "0"):
    failed += 1  # meson itself failed: never report a clean run
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
