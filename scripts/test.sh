#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test: unit tests, the
# functional tests that drive the real vqswitch with dpdk-testpmd, veth
# peers and the test guest, and the real-guest tests under QEMU. Then the
# test-guest suites again against an AddressSanitizer and
# UndefinedBehaviorSanitizer build, stateful fuzzing (the seeds on the library datapath, 30 s on the direct one)
# (scripts/fuzz.sh), the offload code fuzzed in process for 10 s
# (tests/unit/fuzz_offload.c), and the Debian package built, installed, checked and
# purged (scripts/deb.sh --check). Ends with
# "N passed, N failed";
# exits non-zero if any failed.
# Arguments go to 'meson test' on the main build only (e.g. --suite unit,
# or one test's name), and skip the ASan and fuzzing runs.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1

logs=(build/meson-logs/testlog.json)
rm -f build/meson-logs/testlog.json build-asan/meson-logs/testlog.json
# asan_only: the library datapath's attacks and hostile guest, run below.
meson test -C build --print-errorlogs --no-suite asan_only "$@"
rc=$?
fuzz=skipped
deb=skipped
if [ $# -eq 0 ]; then
    echo "== the test-guest suites against the ASan+UBSan build"
    # As scripts/fuzz.sh sets it up: undefined behaviour is fatal
    # (-fno-sanitize-recover), reported with its stack (UBSAN_OPTIONS, in
    # every process the suites start); gcc's UBSan instrumentation makes
    # -Wmaybe-uninitialized see paths that are not there (off here only).
    # A build-asan of ASan alone is configured again.
    asan_opts=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
               "-Dc_args=-fno-sanitize-recover=undefined -Wno-maybe-uninitialized")
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan "${asan_opts[@]}"
    elif ! python3 -c 'import json, sys; o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}; sys.exit(o["b_sanitize"] != "address,undefined" or "-fno-sanitize-recover=undefined" not in o["c_args"])' \
            build-asan/meson-info/intro-buildoptions.json; then
        meson configure build-asan "${asan_opts[@]}"
    fi
    if ninja -C build-asan; then
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            meson test -C build-asan --print-errorlogs --suite guest || rc=1
        logs+=(build-asan/meson-logs/testlog.json)
    else
        rc=1
    fi
    echo "== fuzzing (scripts/fuzz.sh: the seeds on the library datapath, 30 s on the direct one; the offload code 10 s)"
    # Bounded from outside too: a hang anywhere in it is a failure, never
    # a run that outlasts CI's limit. The library datapath (for trusted
    # guests only: docs/configuration.md) replays the seeds, without
    # --pmd-sleep (a burst of frames librte_vhost drops returns 0 frames,
    # and a PMD that sleeps on that drains the rest one per wake): a run
    # that explores it finds the library's own holes listed there.
    # Then the offload code in process (tests/unit/fuzz_offload.c), 10 s
    # from its seeds (about 100,000 inputs).
    if VQS_DATAPATH=library VQS_FUZZ_PMD_SLEEP= timeout -k 10 600 \
            bash scripts/fuzz.sh 40 -runs=0 build-fuzz/corpus-stateful &&
        VQS_DATAPATH=direct timeout -k 10 600 bash scripts/fuzz.sh 30 &&
        ninja -C build-fuzz tests/unit/fuzz_offload >/dev/null &&
        python3 tests/unit/fuzz_offload_seeds.py build-fuzz/corpus-offload &&
        timeout -k 10 120 build-fuzz/tests/unit/fuzz_offload -max_total_time=10 -max_len=12000 \
            -print_final_stats=1 -artifact_prefix=build-fuzz/ build-fuzz/corpus-offload \
            2>build-fuzz/last-fuzz-offload.log; then
        fuzz=passed
    else
        fuzz=failed
        rc=1
        grep -A12 "^==.*ERROR\|deadly signal\|^SUMMARY" build-fuzz/last-fuzz-offload.log 2>/dev/null | head -30
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
