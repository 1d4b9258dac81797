#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test: unit tests, the
# functional tests that drive the real vqswitch with dpdk-testpmd, veth
# peers and the test guest, and the real-guest tests under QEMU. Then the
# test-guest suites again against an AddressSanitizer and
# UndefinedBehaviorSanitizer build, stateful fuzzing (the seeds on the
# library datapath, 30 s on the direct one) (scripts/fuzz.sh), the offload
# code fuzzed in process for 10 s (tests/unit/switch/fuzz_offload.c), and
# the Debian package built, installed, checked and purged (scripts/deb.sh
# --check). Ends with "N passed, N failed" (a TAP test counts each case
# it reports: the real guests' groups, which share a boot); exits
# non-zero if any failed.
#
# The work runs as two streams at once (docs/testing.md, "Time"): most
# of a functional case is waiting (for a process to start, for frames at
# a test's pace, for a timeout that proves nothing came), so two cores
# take two streams; each stream runs its cases one at a time. Each
# stream that runs meson's cases has a network namespace and a mount
# namespace of its own (isolated below), so the veths, taps and named
# namespaces of a case in one stream never meet those of another; DPDK
# file prefixes, sockets and work directories are already per process.
#
# Arguments go to 'meson test' on the main build only (e.g. --suite unit,
# or one test's name), in the foreground, and skip everything else.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test || exit 1

count() {
    # count RC FUZZ DEB LOG...: the summary line; exits with its verdict.
    python3 - "$@" <<'PY'
import json, re, sys
passed = failed = 0
for path in sys.argv[4:]:
    try:
        for line in open(path):
            t = json.loads(line)
            r = t["result"]
            # A TAP test (the real guests' groups, which share a boot)
            # counts its cases: its plan's, those not reported as failed.
            plan = re.search(r"^1\.\.(\d+)$", t.get("stdout") or "", re.M)
            if plan and r != "SKIP":
                cases = re.findall(r"^(ok|not ok) \d+", t["stdout"], re.M)
                ok = sum(c == "ok" for c in cases)
                passed += ok
                failed += int(plan.group(1)) - ok
                if ok == int(plan.group(1)) and r not in ("OK", "EXPECTEDFAIL"):
                    failed += 1  # every case passed, yet the run failed
            elif r in ("OK", "EXPECTEDFAIL"):
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
}

if [ $# -gt 0 ]; then
    rm -f build/meson-logs/testlog.json
    meson test -C build --print-errorlogs --no-suite asan_only "$@"
    count $? skipped skipped build/meson-logs/testlog.json
    exit
fi

# isolated CMD...: CMD in a new network namespace (loopback up) and a new
# mount namespace whose /run/netns is its own, for 'ip netns' names.
isolated() {
    unshare --net --mount --propagation private bash -c \
        'mkdir -p /run/netns && mount -t tmpfs vqs-netns /run/netns && ip link set lo up && exec "$@"' \
        isolated "$@"
}

# mtest BUILD LOGBASE ARGS...: meson's cases, isolated; the log is
# BUILD/meson-logs/LOGBASE.json. The build is made before the streams.
mtest() {
    local build=$1 logbase=$2
    shift 2
    rm -f "$build/meson-logs/$logbase.json"
    isolated meson test -C "$build" --no-rebuild --print-errorlogs --logbase "$logbase" "$@"
}

# The ASan+UBSan build, as scripts/fuzz.sh sets it up: undefined
# behaviour is fatal (-fno-sanitize-recover), reported with its stack
# (UBSAN_OPTIONS, in every process the suites start); gcc's UBSan
# instrumentation makes -Wmaybe-uninitialized see paths that are not
# there (off in this build only). A build-asan of ASan alone is
# configured again.
asan_build() {
    local opts=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
                "-Dc_args=-fno-sanitize-recover=undefined -Wno-maybe-uninitialized")
    if [ ! -f build-asan/build.ninja ]; then
        meson setup build-asan "${opts[@]}"
    elif ! python3 -c 'import json, sys; o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}; sys.exit(o["b_sanitize"] != "address,undefined" or "-fno-sanitize-recover=undefined" not in o["c_args"])' \
            build-asan/meson-info/intro-buildoptions.json; then
        meson configure build-asan "${opts[@]}"
    fi
    ninja -C build-asan
}

# Fuzzing, bounded from outside too: a hang anywhere in it is a failure,
# never a run that outlasts CI's limit. The library datapath (for trusted
# guests only: docs/configuration.md) replays the seeds, without
# --pmd-sleep (a burst of frames librte_vhost drops returns 0 frames, and
# a PMD that sleeps on that drains the rest one per wake): a run that
# explores it finds the library's own holes listed there. Then the
# default datapath for 30 s, then the offload code in process
# (tests/unit/switch/fuzz_offload.c), 10 s from its seeds (about 100,000
# inputs). It needs no namespace: its guests are vhost-user sockets.
fuzz() {
    VQS_DATAPATH=library VQS_FUZZ_PMD_SLEEP= timeout -k 10 600 \
            bash scripts/fuzz.sh 40 -runs=0 build-fuzz/corpus-stateful &&
        VQS_DATAPATH=direct timeout -k 10 600 bash scripts/fuzz.sh 30 &&
        ninja -C build-fuzz tests/unit/fuzz_offload >/dev/null &&
        python3 tests/unit/switch/fuzz_offload_seeds.py build-fuzz/corpus-offload &&
        timeout -k 10 120 build-fuzz/tests/unit/fuzz_offload -max_total_time=10 -max_len=12000 \
            -print_final_stats=1 -artifact_prefix=build-fuzz/ build-fuzz/corpus-offload \
            2>build-fuzz/last-fuzz-offload.log || {
        grep -A12 "^==.*ERROR\|deadly signal\|^SUMMARY" build-fuzz/last-fuzz-offload.log 2>/dev/null | head -30
        return 1
    }
}

# stream NAME CMD...: CMD in the background, its output in
# build/streams/NAME.log, its exit code in NAME.rc.
mkdir -p build/streams
rm -f build/streams/*
stream() {
    local name=$1
    shift
    ( "$@" > "build/streams/$name.log" 2>&1; echo $? > "build/streams/$name.rc" ) &
}
started=$(date +%s)
stamp() { echo "== $(( $(date +%s) - started )) s: $*"; }

# The streams, about equally long under load (docs/testing.md, "Time").
# Two, not three: with three beside two busy loops, round trips reached
# seconds and every run lost some case that waits for frames.
functional_and_guests() {
    local rc=0
    stamp "unit and functional cases (main build)"
    mtest build functional --no-suite asan_only --no-suite vm || rc=1
    stamp "real guests under QEMU (main build)"
    # At a higher priority than the other stream: emulated CPUs (TCG)
    # need the CPU, and their cases time round trips.
    ( renice -n -5 -p $BASHPID >/dev/null && mtest build vm --suite vm ) || rc=1
    stamp "done"
    return $rc
}
asan_fuzz_package() {
    local rc=0
    stamp "building the ASan+UBSan build"
    if asan_build; then
        stamp "the test-guest suites against the ASan+UBSan build"
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
            mtest build-asan guest --suite guest || rc=1
    else
        rc=1
    fi
    stamp "fuzzing (scripts/fuzz.sh: the seeds on the library datapath, 30 s on the direct one; the offload code 10 s)"
    if fuzz; then echo passed > build/streams/fuzz.result; else echo failed > build/streams/fuzz.result; rc=1; fi
    stamp "the Debian package (scripts/deb.sh --check)"
    if timeout -k 10 1200 bash scripts/deb.sh --check; then
        echo passed > build/streams/deb.result
    else
        echo failed > build/streams/deb.result
        rc=1
    fi
    stamp "done"
    return $rc
}
stream functional_and_guests functional_and_guests
stream asan_fuzz_package asan_fuzz_package
wait

rc=0
for s in functional_and_guests asan_fuzz_package; do
    echo "======== stream $s (exit $(cat build/streams/$s.rc 2>/dev/null || echo '?'))"
    cat "build/streams/$s.log"
    [ "$(cat build/streams/$s.rc 2>/dev/null)" = 0 ] || rc=1
done
echo "== $(( $(date +%s) - started )) s in all"
count $rc "$(cat build/streams/fuzz.result 2>/dev/null || echo failed)" \
    "$(cat build/streams/deb.result 2>/dev/null || echo failed)" \
    build/meson-logs/functional.json build/meson-logs/vm.json build-asan/meson-logs/guest.json
