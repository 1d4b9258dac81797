#!/usr/bin/env python3
"""The command line and the config: help, bad options and bad configs
each get a clear error and a non-zero exit, never a crash."""
import grp
import os
import socket
import subprocess
import sys
import tempfile
import time

from vqtest import VQSWITCH, Switch, check, frame, main


def vqswitch(args, config=None, timeout=30):
    d = tempfile.mkdtemp(prefix="vqs-cli-")
    argv = [VQSWITCH] + [a.replace("@DIR@", d) for a in args]
    if config is not None:
        with open(os.path.join(d, "c.conf"), "w") as f:
            f.write(config)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    subprocess.run(["rm", "-rf", d])
    return r


def expect_error(args, config, message, rc=2):
    r = vqswitch(args, config)
    out = r.stdout + r.stderr
    check(r.returncode == rc, "%s: exit code %s, expected %s:\n%s" % (args, r.returncode, rc, out))
    check(message in out, "%s: no '%s' in:\n%s" % (args, message, out))


def test_help_and_version(c):
    r = vqswitch(["--", "--help"])
    check(r.returncode == 0, "--help exit code %s" % r.returncode)
    for opt in ("--config", "--socket-dir", "--socket-group", "--mbufs", "--version", "--help"):
        check(opt in r.stdout, "--help does not explain %s" % opt)
    r = vqswitch(["--", "--version"])
    check(r.returncode == 0 and r.stdout.startswith("vqswitch "), "--version: %s" % r.stdout)


def test_bad_options(c):
    good = "add-br br0\n"  # options are checked first; the config never loads
    expect_error(["--", "--frobnicate"], None, "unknown option '--frobnicate'")
    expect_error(["--", "--config"], None, "needs a value")
    expect_error(["--", "--config", "@DIR@/c.conf", "--mbufs", "12x"], good, "--mbufs")
    expect_error(["--", "--config", "@DIR@/c.conf", "--socket-group", "no_such_group_x"], good,
                 "no group named")
    expect_error(["--", "--config", "@DIR@/c.conf", "--socket-dir", "relative"], good, "absolute path")
    expect_error(["--", "--config", "@DIR@/c.conf", "stray"], good, "unexpected argument 'stray'")
    expect_error(["--", "--config", "@DIR@/c.conf", "--evpn-prefix", "vq_e"], good, "--evpn-prefix=vq_e")
    expect_error(["--", "--config", "@DIR@/c.conf", "--evpn-prefix", "toolong"], good, "1 to 6")


def test_bad_config(c):
    args = ["--", "--config", "@DIR@/c.conf", "--no-state"]
    expect_error(["--", "--config", "/nonexistent/x.conf", "--no-state"], None, "No such file")
    expect_error(args, "add-br br0\nadd-port br0 vm1 type=vhostuser\nadd-port br0 vm1 type=vhostuser\n",
                 "c.conf:3: port vm1 exists")
    expect_error(args, "add-br br0\n\n# x\nadd-port br0 vm1 type=bogus\n", "c.conf:4: type=bogus")
    expect_error(args, "add-port br0 vm1 type=vhostuser\n", "c.conf:1: no bridge named 'br0'")
    expect_error(args, "add-br br0\nadd-port br0 u type=dpdk\n", "needs devargs")
    expect_error(args, "add-br br0\nshow\n", "c.conf:2: 'show' is not a configuration command")
    expect_error(args, "add-br br0 mac-aging=soon\n", "mac-aging=soon")
    expect_error(args, "add-br br0\nadd-port br0 v type=vxlan vni=1 local_ip=192.0.2.1\n", "(or evpn=on)")
    expect_error(args, "add-br br0\nadd-port br0 v type=vxlan vni=1 local_ip=192.0.2.1 evpn=yes\n",
                 "evpn=yes: expected on or off")
    expect_error(args, "add-br br0\nadd-port br0 v type=vhostuser evpn=on\n", "are for type=vxlan ports")


def test_bad_device(c):
    """A port whose device cannot be created does not stop start-up: the
    other ports come up, it stays configured with its error in 'show', and
    the exit is clean (no crash, no socket left)."""
    sw = Switch(c, "baddev", "add-br br0\nadd-port br0 vm1 type=vhostuser\n"
                             "add-port br0 up type=dpdk devargs=net_nosuchdev0\n")
    check(os.path.exists(sw.sock("vm1")), "the good port's socket")
    up = [p for p in sw.vqctl("show", fmt="json")["bridges"][0]["ports"] if p["name"] == "up"][0]
    check(up["state"] == "error" and "cannot probe device 'net_nosuchdev0'" in up["error"], "show: %s" % up)
    check("port up: cannot probe device 'net_nosuchdev0'" in sw.log_text(), "logged")
    check(sw.stop() == 0, "exit code")
    check(not os.path.exists(sw.sock("vm1")), "socket left behind")


def test_socket_permissions(c):
    """vhost-user sockets are root:socket-group 0660, the control socket
    root-only (0600) unless --ctl-group names a group; a socket directory
    vqswitch creates is 0755 root:root, an existing one is left as it is."""
    sw = Switch(c, "perm", "add-br br0\nadd-port br0 vm1 type=vhostuser\n", sockdir="run")
    st = os.stat(sw.sock("vm1"))
    check(st.st_mode & 0o777 == 0o660, "socket mode %o" % (st.st_mode & 0o777))
    check(st.st_uid == 0 and st.st_gid == 0, "socket owner %d:%d" % (st.st_uid, st.st_gid))
    ctl = os.stat(sw.ctl_socket)
    check(ctl.st_mode & 0o777 == 0o600 and ctl.st_gid == 0, "control socket %o gid %d" % (ctl.st_mode, ctl.st_gid))
    dst = os.stat(sw.sockdir)
    check(dst.st_mode & 0o777 == 0o755 and dst.st_uid == 0, "socket dir mode %o" % (dst.st_mode & 0o777))
    check(os.stat(sw.dir).st_mode & 0o777 == 0o700, "the test's own directory untouched")
    check(sw.stop() == 0, "exit code")
    check(not os.path.exists(sw.sock("vm1")), "socket removed on exit")

    # --socket-group reaches the vhost-user sockets only; --ctl-group the
    # control socket only.
    group, ctl_group = "vqs_test_grp", "vqs_test_ctl"
    for g in (group, ctl_group):
        subprocess.run(["groupadd", "-f", g], check=True)
        c.add(lambda g=g: subprocess.run(["groupdel", g]))
    gid, ctl_gid = grp.getgrnam(group).gr_gid, grp.getgrnam(ctl_group).gr_gid
    sw = Switch(c, "permg", "add-br br0\nadd-port br0 vm1 type=vhostuser\n", args=["--socket-group", group])
    st, ctl = os.stat(sw.sock("vm1")), os.stat(sw.ctl_socket)
    check(st.st_gid == gid and st.st_mode & 0o777 == 0o660, "socket %o gid %d" % (st.st_mode, st.st_gid))
    check(ctl.st_gid == 0 and ctl.st_mode & 0o777 == 0o600, "control socket %o gid %d" % (ctl.st_mode, ctl.st_gid))
    check(sw.stop() == 0, "exit code")
    sw = Switch(c, "permc", "add-br br0\n", args=["--socket-group", group, "--ctl-group", ctl_group])
    ctl = os.stat(sw.ctl_socket)
    check(ctl.st_gid == ctl_gid and ctl.st_mode & 0o777 == 0o660, "control socket %o gid %d" % (ctl.st_mode, ctl.st_gid))
    check(sw.stop() == 0, "exit code")


def test_default_config(c):
    """The README's run command: config/default.conf starts two vhost-user
    ports and the tap uplink, and the uplink passes frames."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config", "default.conf")
    with open(path) as f:
        sw = Switch(c, "default", f.read())
    check(sw.telemetry("/vqswitch/ports") == ["vm1", "vm2", "uplink"], "ports")
    up = sw.port("uplink")
    check(up["state"] == "up" and up["devargs"].startswith("net_tap0"), "uplink %s" % up)
    check(os.path.exists(sw.sock("vm1")) and os.path.exists(sw.sock("vm2")), "sockets")
    check(subprocess.run(["ip", "link", "show", "vq0"], capture_output=True).returncode == 0,
          "tap interface vq0 exists")
    # A frame the host sends on vq0 enters the switch at the uplink.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    c.add(s.close)
    s.bind(("vq0", 0))
    before = up["rx_packets"]
    for _ in range(3):
        s.send(frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:0d:01"))
    deadline = time.time() + 3
    while sw.port("uplink")["rx_packets"] < before + 3 and time.time() < deadline:
        time.sleep(0.1)
    check(sw.port("uplink")["rx_packets"] >= before + 3, "uplink received %s" % sw.port("uplink"))
    check(sw.stop() == 0, "exit code")


if __name__ == "__main__":
    sys.exit(main([test_help_and_version, test_bad_options, test_bad_config, test_bad_device,
                   test_socket_permissions, test_default_config]))
