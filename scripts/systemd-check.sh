#!/usr/bin/env bash
# The installed vqswitch.service under a real systemd, on a machine whose
# PID 1 is not systemd (containers, CI): systemd runs as PID 1 of new PID
# and mount namespaces and starts journald and the unit only (no default
# dependencies, so no udev or sysinit units touch the host), with /run and
# /var/lib private, so neither the host's sockets nor its saved state are
# used. Checked: Type=notify readiness (active only once the ports are up,
# vqctl answers), the unit's hardening leaves DPDK working, each log line
# reaches the journal once, Restart=on-failure brings back the same
# configuration after a kill, and a stop is clean. Run by deb.sh --check
# with the package installed; needs root.
set -euo pipefail

fail() { echo "systemd-check: $*" >&2; exit 1; }
[ -x /usr/sbin/vqswitch ] && [ -f /lib/systemd/system/vqswitch.service ] ||
    fail "the vqswitch package is not installed"

work=$(mktemp -d /tmp/vqs-systemd-XXXXXX)
init=
cleanup() {
    if [ -n "$init" ]; then
        # Ends every process of the namespace with it.
        kill -9 "$init" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$init" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f /dev/hugepages/vqswitchmap_*
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/init.sh" <<'EOF'
#!/bin/sh
set -e
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/lib
mkdir -p /run/systemd/system/vqswitch.service.d
cat > /run/systemd/system/vqtest.target <<'T'
[Unit]
Description=vqswitch under a private systemd
DefaultDependencies=no
Requires=systemd-journald.service vqswitch.service
After=systemd-journald.service vqswitch.service
T
# The shipped /etc/default/vqswitch asks for 1024 MB of hugepages; the
# check takes 256, so that it does not need every hugepage of the host.
cat > /run/vqtest.env <<'T'
VQS_EAL_ARGS="-l 0,1 --main-lcore 0 --socket-mem 256 --file-prefix vqswitch"
VQS_ARGS="--config /etc/vqswitch/vqswitch.conf"
T
cat > /run/systemd/system/vqswitch.service.d/test.conf <<'T'
[Unit]
DefaultDependencies=no
After=systemd-journald.service
[Service]
EnvironmentFile=/run/vqtest.env
T
export container=vqtest
exec /lib/systemd/systemd --system --unit=vqtest.target
EOF
chmod +x "$work/init.sh"
setsid unshare --pid --fork --mount --mount-proc --propagation private "$work/init.sh" \
    > "$work/systemd.log" 2>&1 < /dev/null &
# The namespace's PID 1 is unshare's child.
for _ in $(seq 100); do
    init=$(pgrep -P $! 2>/dev/null | head -1 || true)
    [ -n "$init" ] && break
    sleep 0.1
done
[ -n "$init" ] || fail "systemd did not start: $(cat "$work/systemd.log")"

inside() { timeout 30 nsenter -t "$init" -m -p -- env SYSTEMD_PAGER=cat "$@"; }
prop() { inside systemctl show vqswitch -p "$1" --value; }
wait_active() {
    for _ in $(seq 300); do
        [ "$(prop ActiveState 2>/dev/null)" = active ] && return 0
        sleep 0.1
    done
    fail "vqswitch.service is $(prop ActiveState) ($(prop Result)): $(inside journalctl -u vqswitch --no-pager -o cat | tail -20)"
}

wait_active
# Type=notify: active means READY=1 came, after the configuration was loaded.
ports=$(inside vqctl list-ports br0) || fail "vqctl does not answer under systemd"
[ -n "$ports" ] || fail "no ports on br0 under systemd"
[ "$(prop StatusText)" = "1 bridges, 1 PMDs" ] || fail "status text: $(prop StatusText)"
journal=$(inside journalctl -u vqswitch --no-pager -o cat)
[ "$(grep -c ': ready$' <<<"$journal")" = 1 ] || fail "the ready line is not in the journal once: $journal"
dup=$(grep -v '^$' <<<"$journal" | sort | uniq -d | head -3)
[ -z "$dup" ] || fail "lines reach the journal twice: $dup"

# Restart=on-failure, with the configuration that was running.
# The configuration only: MAC counts and port states are not saved.
config() {
    inside vqctl --format json show | /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
for b in d["bridges"]:
    del b["macs"]
    for p in b["ports"]:
        del p["state"]
print(json.dumps(d, sort_keys=True))'
}
inside vqctl add-br br9 >/dev/null || fail "add-br under systemd"
before=$(config)
inside sh -c 'kill -9 $(systemctl show vqswitch -p MainPID --value)'
for _ in $(seq 100); do
    [ "$(prop NRestarts)" = 1 ] && break
    sleep 0.1
done
[ "$(prop NRestarts)" = 1 ] || fail "not restarted after a kill: $(prop ActiveState)"
wait_active
after=$(config)
[ "$before" = "$after" ] || fail "after the restart: $after, before: $before"

inside systemctl stop vqswitch
[ "$(prop ActiveState)" = inactive ] && [ "$(prop Result)" = success ] ||
    fail "stop: $(prop ActiveState) ($(prop Result))"
echo "systemd-check: under systemd: ready once the ports are up, one journal line each, restarted with its configuration, stopped cleanly"
