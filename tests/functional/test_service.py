#!/usr/bin/env python3
"""vqswitch as an installed service: what `meson install` lays out, the
systemd unit, readiness through $NOTIFY_SOCKET (Type=notify), vqctl's
bash completion, and commands documented where operators look."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

from vqtest import BUILD, VQCTL, VQSWITCH, Switch, TestFailure, check, main

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def installed(c):
    """`meson install` of the build into a fresh directory; its path."""
    dest = tempfile.mkdtemp(prefix="vqs-install-")
    c.add(lambda: shutil.rmtree(dest, ignore_errors=True))
    r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", dest],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "meson install failed:\n%s%s" % (r.stdout[-2000:], r.stderr[-2000:]))
    return dest


def build_option(name):
    r = subprocess.run(["meson", "introspect", "--buildoptions", BUILD], capture_output=True,
                       text=True, timeout=60)
    import json
    for o in json.loads(r.stdout):
        if o["name"] == name:
            return o["value"]
    raise TestFailure("no build option %s" % name)


def test_install_layout(c):
    """The daemon in sbin, the CLI in bin, the default configuration and
    the service's arguments under sysconfdir, the unit, both man pages,
    the completion; nothing of the tests."""
    dest = installed(c)
    prefix, sysconf = build_option("prefix"), build_option("sysconfdir")
    sysconf = sysconf if os.path.isabs(sysconf) else os.path.join(prefix, sysconf)
    want = [os.path.join(prefix, "sbin", "vqswitch"), os.path.join(prefix, "bin", "vqctl"),
            os.path.join(sysconf, "vqswitch", "vqswitch.conf"), os.path.join(sysconf, "default", "vqswitch"),
            os.path.join(prefix, "share", "man", "man8", "vqswitch.8"),
            os.path.join(prefix, "share", "man", "man8", "vqctl.8")]
    files = set()
    for d, _, names in os.walk(dest):
        files.update(os.path.join(d, n)[len(dest):] for n in names)
    for f in want:
        check(f in files, "%s not installed (installed: %s)" % (f, sorted(files)))
    check(any(f.endswith("/systemd/system/vqswitch.service") for f in files), "no unit installed")
    check(any(f.endswith("/bash-completion/completions/vqctl") for f in files), "no completion installed")
    check(not any("vqguest" in f or "/tests/" in f for f in files), "test programs installed: %s" % files)
    for f in want[:2]:
        check(os.access(dest + f, os.X_OK), "%s not executable" % f)
    r = subprocess.run([dest + want[0], "--version"], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 0 and "vqswitch" in r.stdout, "installed vqswitch --version: %s" % r.stdout)
    # The installed configuration is the one the switch is tested with.
    with open(dest + want[2]) as f, open(os.path.join(ROOT, "config", "default.conf")) as g:
        check(f.read() == g.read(), "installed vqswitch.conf differs from config/default.conf")
    # The service's arguments name the installed configuration.
    with open(dest + want[3]) as f:
        check("--config %s" % want[2] in f.read(), "/etc/default/vqswitch does not name %s" % want[2])


def test_unit_verifies(c):
    """systemd-analyze verify finds nothing to say about the units (the
    switch, and the metrics service and timer; binaries pointed at the
    build, as the installed paths are not there)."""
    if shutil.which("systemd-analyze") is None:
        raise TestFailure("systemd-analyze missing (scripts/setup.sh installs systemd)")
    dest = installed(c)
    found = {n: os.path.join(d, n) for d, _, ns in os.walk(dest) for n in ns
             if n.startswith("vqswitch") and (n.endswith(".service") or n.endswith(".timer"))}
    check(set(found) == {"vqswitch.service", "vqswitch-metrics.service", "vqswitch-metrics.timer"},
          "units installed: %s" % sorted(found))
    with open(found["vqswitch.service"]) as f:
        text = f.read()
    for want in ("Type=notify", "RuntimeDirectory=vqswitch", "StateDirectory=vqswitch", "Restart=on-failure",
                 "EnvironmentFile=-"):
        check(want in text, "unit lacks %s" % want)
    sbin = re.search(r"^ExecStart=(\S+)", text, re.M).group(1)
    check(sbin.endswith("/sbin/vqswitch"), "ExecStart runs %s" % sbin)
    work = tempfile.mkdtemp(prefix="vqs-unit-")
    c.add(lambda: shutil.rmtree(work, ignore_errors=True))
    bindir = os.path.dirname(sbin).replace("/sbin", "/bin")
    units = []
    for name, path in sorted(found.items()):
        with open(path) as f:
            body = f.read()
        units.append(os.path.join(work, name))
        with open(units[-1], "w") as f:
            f.write(body.replace(sbin, os.path.abspath(VQSWITCH))
                    .replace(bindir + "/vqctl", os.path.abspath(VQCTL)))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0 and not r.stderr.strip(), "systemd-analyze verify: rc %d\n%s" % (
        r.returncode, r.stderr))


def test_metrics_textfile(c):
    """The installed vqswitch-metrics.service's command, run as systemd
    would (DIR from the unit), writes vqswitch.prom for node_exporter:
    Prometheus text with the switch's ports, and no temporary file left."""
    dest = installed(c)
    unit = [os.path.join(d, n) for d, _, ns in os.walk(dest) for n in ns if n == "vqswitch-metrics.service"]
    with open(unit[0]) as f:
        text = f.read()
    cmd = re.search(r"^ExecStart=/bin/sh -c '(.*)'$", text, re.M).group(1)
    vqctl = re.search(r"(\S+/vqctl) metrics", cmd).group(1)
    sw = Switch(c, "svcprom", "add-br br0\nadd-port br0 vm1 type=vhostuser\n")
    out = tempfile.mkdtemp(prefix="vqs-prom-")
    c.add(lambda: shutil.rmtree(out, ignore_errors=True))
    d = os.path.join(out, "node-exporter")
    r = subprocess.run(["/bin/sh", "-c", cmd.replace(vqctl, os.path.abspath(VQCTL))], capture_output=True,
                       text=True, timeout=30, env=dict(os.environ, DIR=d, VQCTL_SOCKET=sw.ctl_socket))
    check(r.returncode == 0, "the unit's command failed: %s" % r.stderr)
    check(sorted(os.listdir(d)) == ["vqswitch.prom"], "files written: %s" % os.listdir(d))
    with open(os.path.join(d, "vqswitch.prom")) as f:
        prom = f.read()
    check('vqswitch_port_up{bridge="br0",port="vm1",type="vhostuser"} 0' in prom, "vm1 in %s" % prom[:500])


def notify_socket(c, abstract):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    c.add(s.close)
    if abstract:
        name = "@vqs-notify-%d" % os.getpid()
        s.bind("\0" + name[1:])
    else:
        d = tempfile.mkdtemp(prefix="vqs-notify-")
        c.add(lambda: shutil.rmtree(d, ignore_errors=True))
        name = os.path.join(d, "notify")
        s.bind(name)
    s.settimeout(20)
    return s, name


def messages(s):
    """Every datagram waiting on s, as a list of {key: value} dicts."""
    out = []
    s.setblocking(False)
    try:
        while True:
            out.append(dict(line.split("=", 1) for line in s.recv(4096).decode().splitlines()))
    except BlockingIOError:
        pass
    s.settimeout(20)
    return out


def test_sd_notify(c):
    """Under Type=notify the switch sends READY=1 with its pid, once, after
    its ports exist, and STOPPING=1 on SIGTERM; on a path socket and on an
    abstract one. Without NOTIFY_SOCKET it sends nothing anywhere (and
    starts as before)."""
    conf = "add-br br0\nadd-port br0 vm1 type=vhostuser\n"
    for abstract in (False, True):
        s, name = notify_socket(c, abstract)
        sw = Switch(c, "svcnotify%d" % abstract, conf, env={"NOTIFY_SOCKET": name})
        first = dict(line.split("=", 1) for line in s.recv(4096).decode().splitlines())
        check(first.get("READY") == "1", "first message: %s" % first)
        check(first.get("MAINPID") == str(sw.proc.pid), "MAINPID %s, pid %d" % (first.get("MAINPID"),
                                                                            sw.proc.pid))
        check("1 bridges" in first.get("STATUS", ""), "STATUS: %s" % first)
        check(sw.port("vm1")["state"] in ("up", "down"), "the port exists once READY=1 came")
        check(messages(s) == [], "a second message before shutdown")
        sw.stop()
        rest = messages(s)
        check(rest == [{"STOPPING": "1"}], "after SIGTERM: %s" % rest)
    sw = Switch(c, "svcnonotify", conf, env={"NOTIFY_SOCKET": ""})
    check("NOTIFY_SOCKET" not in sw.log_text(), "a warning without NOTIFY_SOCKET")


def complete(words, env):
    """COMPREPLY for the command line `words` (the last one being
    completed), from the installed completion script."""
    script = os.path.join(ROOT, "dist", "vqctl.bash-completion")
    line = " ".join("'%s'" % w for w in words)
    prog = ('source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _vqctl; printf "%%s\\n" "${COMPREPLY[@]}"' %
            (script, line, len(words) - 1))
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30, env=env)
    check(r.returncode == 0, "completion failed: %s" % r.stderr)
    return [w for w in r.stdout.split("\n") if w]


def test_bash_completion(c):
    """Commands from vqctl's help, options, and bridge and port names from
    the running switch."""
    sw = Switch(c, "svccomp", "add-br br0\nadd-br brx\nadd-port br0 vm1 type=vhostuser\n"
                              "add-port brx vm2 type=vhostuser\n")
    env = dict(os.environ, PATH=os.path.dirname(os.path.abspath(VQCTL)) + ":" + os.environ["PATH"],
               VQCTL_SOCKET=sw.ctl_socket)
    check(complete(["vqctl", "fdb/"], env) == ["fdb/add", "fdb/del", "fdb/flush", "fdb/show"],
          "fdb/: %s" % complete(["vqctl", "fdb/"], env))
    check("add-port" in complete(["vqctl", ""], env) and "vring/show" in complete(["vqctl", ""], env),
          "all commands: %s" % complete(["vqctl", ""], env))
    check(complete(["vqctl", "--f"], env) == ["--format"], "options")
    check(sorted(complete(["vqctl", "--format", ""], env)) == ["json", "text"], "formats")
    check(sorted(complete(["vqctl", "del-br", ""], env)) == ["br0", "brx"], "bridges")
    check(sorted(complete(["vqctl", "vring/show", ""], env)) == ["vm1", "vm2"], "ports")
    check(complete(["vqctl", "set", ""], env) == ["port", "bridge", "pmd"], "set")
    check(complete(["vqctl", "-f", "json", "list-ports", "b"], env) == ["br0", "brx"], "after an option")


def help_commands():
    """The command words vqctl --help lists (as the completion reads them)."""
    out = subprocess.run([VQCTL, "--help"], capture_output=True, text=True, timeout=30).stdout
    words = set()
    for line in out.split("As ovs-vsctl:")[0].splitlines():
        if line.startswith("  ") and line[2:3].islower() and re.match(r"^[a-z][a-z/-]*$", line.split()[0]):
            words.add(line.split()[0])
    return words


def test_commands_documented(c):
    """The switch's own command table (list-commands, debug ones on) and
    vqctl --help (from the same tables each module registers) name the same
    commands, each with its arguments; help COMMAND answers from it; every
    command is in docs/vqctl.md and in vqctl(8)."""
    cmds = help_commands()
    check(len(cmds) > 25, "vqctl --help lists %s" % sorted(cmds))
    sw = Switch(c, "svccmds", "add-br br0\n", args=["--enable-debug-commands"])
    listed = sw.vqctl("list-commands", fmt="json")
    check(set(listed) == cmds, "list-commands and --help differ: %s" % sorted(set(listed) ^ cmds))
    check("(undocumented)" not in listed.values(), "undocumented: %s" % listed)
    check(listed["fdb/del"] == "BRIDGE VLAN MAC", "fdb/del's arguments: %s" % listed["fdb/del"])
    check(sw.vqctl("help", "vlog/set") == "command: vlog/set\nargs: PATTERN:LEVEL\nhelp: e.g. vqswitch.vhost:debug, "
          "vqswitch*:warning (not saved)\n", "help vlog/set: %r" % sw.vqctl("help", "vlog/set"))
    rc, _, err = sw.vqctl("help", "nosuch", check_rc=False)
    check(rc == 1 and "no command 'nosuch'" in err, "help nosuch: %s" % err)
    for doc in ("docs/vqctl.md", "docs/man/vqctl.8.scd"):
        with open(os.path.join(ROOT, doc)) as f:
            text = f.read()
        missing = sorted(w for w in cmds if not re.search(r"(^|[\s`*|])%s([\s`*|]|$)" % re.escape(w), text, re.M))
        check(not missing, "%s does not document %s" % (doc, missing))


def test_docs_tables_whole(c):
    """No table in docs/ or the README is cut in two by a blank line (the
    second half would render as text)."""
    docs = [os.path.join(ROOT, "README.md")] + [os.path.join(ROOT, "docs", f)
                                                for f in sorted(os.listdir(os.path.join(ROOT, "docs")))
                                                if f.endswith(".md")]
    cut = []
    for path in docs:
        with open(path) as f:
            lines = f.read().split("\n")
        for i in range(1, len(lines) - 1):
            if lines[i] == "" and lines[i - 1].startswith("|") and lines[i + 1].startswith("|") \
                    and not lines[i + 2 if i + 2 < len(lines) else i + 1].startswith("|---"):
                cut.append("%s:%d" % (os.path.relpath(path, ROOT), i + 1))
    check(not cut, "blank lines inside tables: %s" % cut)


if __name__ == "__main__":
    sys.exit(main([test_install_layout, test_unit_verifies, test_metrics_textfile, test_sd_notify,
                   test_bash_completion, test_commands_documented, test_docs_tables_whole]))
