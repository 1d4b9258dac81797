"""OVS-DPDK as a third switch for scripts/bench.py, when Debian's
openvswitch-switch-dpdk is installed: its own ovsdb-server and
ovs-vswitchd-dpdk in a private run directory (nothing of a system OVS is
touched), a netdev bridge with two dpdkvhostuser ports and OVS's default
NORMAL flow (MAC learning, as vqswitch), its one PMD thread on lcore 1
and its main lcore on 0, as the other switches."""
import os
import signal
import subprocess
import tempfile
import time

VSWITCHD = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


def available():
    return os.access(VSWITCHD, os.X_OK) and os.path.exists(SCHEMA)


def version():
    r = subprocess.run([VSWITCHD, "--version"], capture_output=True, text=True, timeout=30)
    return r.stdout.split("\n")[0].split()[-1] if r.returncode == 0 else "?"


def _stop(pidfile):
    """Ends the daemon whose pid is in pidfile (by pid) and waits for it."""
    try:
        with open(pidfile) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.time() + wait
        while time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def start(c, name, ports, tso=False, client=False):
    """Starts OVS-DPDK with a dpdkvhostuser port per name in ports; stops
    it through c (a vqtest.Cleanup). Returns the ports' socket paths. tso:
    other_config:userspace-tso-enable=true (its checksum and TCP
    segmentation offloads on vhost-user ports). client: dpdkvhostuserclient
    ports instead, OVS connecting to sockets its peers listen on (OVS 3.1
    gives its offloads to those only: its server ports drop what a guest
    sends with a partial TCP checksum, "No TCP checksum support")."""
    d = tempfile.mkdtemp(prefix="vqs-bench-ovs-")
    c.add(lambda: subprocess.run(["rm", "-rf", d]))
    env = dict(os.environ, OVS_RUNDIR=d, OVS_DBDIR=d, OVS_LOGDIR=d)

    def run(*args):
        r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s: %s%s" % (" ".join(args), r.stderr, _log_tail(d)))

    vsctl = ["ovs-vsctl", "--db=unix:%s/db.sock" % d, "--timeout=30"]
    run("ovsdb-tool", "create", d + "/conf.db", SCHEMA)
    run("ovsdb-server", d + "/conf.db", "--remote=punix:%s/db.sock" % d, "--pidfile=%s/ovsdb.pid" % d,
        "--log-file=%s/ovsdb.log" % d, "--detach", "--no-chdir")
    c.add(lambda: _stop(d + "/ovsdb.pid"))
    run(*vsctl, "--no-wait", "init")
    run(*vsctl, "--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
        "other_config:dpdk-lcore-mask=0x1", "other_config:pmd-cpu-mask=0x2",
        "other_config:dpdk-socket-mem=256",
        "other_config:dpdk-extra=--file-prefix=%s --no-pci --single-file-segments" % name,
        "other_config:userspace-tso-enable=%s" % ("true" if tso else "false"))
    run(VSWITCHD, "unix:%s/db.sock" % d, "--pidfile=%s/vswitchd.pid" % d,
        "--log-file=%s/vswitchd.log" % d, "--detach", "--no-chdir")
    c.add(lambda: _stop(d + "/vswitchd.pid"))
    run(*vsctl, "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
    for p in ports:
        if client:
            run(*vsctl, "add-port", "br0", p, "--", "set", "Interface", p, "type=dpdkvhostuserclient",
                "options:vhost-server-path=%s" % os.path.join(d, p))
        else:
            run(*vsctl, "add-port", "br0", p, "--", "set", "Interface", p, "type=dpdkvhostuser")
    return [os.path.join(d, p) for p in ports]


def _log_tail(d):
    try:
        with open(d + "/vswitchd.log") as f:
            return "\n" + "".join(f.readlines()[-10:])
    except OSError:
        return ""
