"""test_deb - `make deb` (issue 11): builds the Debian package from this tree, checks what it
holds and declares, runs lintian, unpacks it with dpkg into a scratch root where a stand-in for
Debian's mosquitto package is installed (the takeover must be clean), and runs the unit's
ExecStart line from that root with NOTIFY_SOCKET set, the way systemd would.

Lintian tags that remain, and why (lintian 2.116, Debian 12, with -i -I -E --pedantic):
  I: package-supports-alternative-init-but-no-init.d-script - the package is systemd-only by
     choice: Type=notify readiness, the watchdog and the sandbox are the point of issue 11.
     Debian's mosquitto also ships a sysvinit script; users of another init still have `-d`.
Any other tag fails the test."""

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

from broker import free_port, wait_until
from proxy_fixture import mqtt_connect, open_conn, read_connack
from test_systemd import NotifySocket

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PACKAGE = "mosquitto-proxy"
ALLOWED_LINTIAN = {"package-supports-alternative-init-but-no-init.d-script"}

# What Debian's mosquitto 2.0.11-1.2+deb12u2 owns that a replacement must provide too.
EXPECTED_FILES = [
    "./usr/sbin/mosquitto", "./usr/bin/mosquitto_passwd",
    "./lib/systemd/system/mosquitto.service", "./etc/logrotate.d/mosquitto",
    "./etc/mosquitto/mosquitto.conf", "./etc/mosquitto/conf.d/README",
    "./etc/mosquitto/certs/README", "./etc/mosquitto/ca_certificates/README",
    "./var/lib/mosquitto/", "./var/log/mosquitto/",
    "./usr/share/man/man8/mosquitto.8.gz", "./usr/share/man/man5/mosquitto.conf.5.gz",
    "./usr/share/man/man1/mosquitto_passwd.1.gz",
    "./etc/fail2ban/filter.d/mosquitto-proxy.conf",
    "./usr/share/doc/mosquitto-proxy/copyright",
]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def build_standin(workdir):
    """A package named mosquitto at Debian 12's version, holding the broker path and the
    config as a conffile: what dpkg needs to see for Conflicts/Replaces, without the network."""
    workdir = tempfile.mkdtemp(prefix="standin-", dir=workdir)
    tree = os.path.join(workdir, "standin")
    os.makedirs(os.path.join(tree, "DEBIAN"))
    os.makedirs(os.path.join(tree, "usr", "sbin"))
    os.makedirs(os.path.join(tree, "etc", "mosquitto"))
    with open(os.path.join(tree, "DEBIAN", "control"), "w") as f:
        f.write("Package: mosquitto\nVersion: 2.0.11-1.2+deb12u2\nArchitecture: %s\n"
                "Maintainer: test <test@localhost>\nDescription: stand-in for Debian's\n" %
                run(["dpkg", "--print-architecture"]).stdout.strip())
    with open(os.path.join(tree, "DEBIAN", "conffiles"), "w") as f:
        f.write("/etc/mosquitto/mosquitto.conf\n")
    with open(os.path.join(tree, "usr", "sbin", "mosquitto"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(tree, "usr", "sbin", "mosquitto"), 0o755)
    shutil.copy(os.path.join(ROOT, "dist", "mosquitto.conf"),
                os.path.join(tree, "etc", "mosquitto", "mosquitto.conf"))
    out = os.path.join(workdir, "standin.deb")
    subprocess.run(["dpkg-deb", "-b", tree, out], check=True, capture_output=True)
    return out


class DebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="deb-test-")
        os.chmod(cls.work, 0o755)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck")  # ctest runs the unit tests
        r = run(["make", "-C", ROOT, "--no-print-directory", "deb", "JOBS=2",
                 "DEB_WORK=%s" % os.path.join(cls.work, "pkg")], env=env, timeout=1500)
        if r.returncode != 0:
            shutil.rmtree(cls.work, ignore_errors=True)
            raise AssertionError("make deb failed:\n%s\n%s" % (r.stdout[-3000:],
                                                              r.stderr[-3000:]))
        debs = [f for f in os.listdir(os.path.join(cls.work, "pkg"))
                if re.match(r"%s_.*\.deb$" % PACKAGE, f)]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.work, "pkg", debs[0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name], check=True).stdout.strip()

    def test_replaces_debian_mosquitto(self):
        for f in ("Conflicts", "Replaces", "Provides"):
            self.assertRegex(self.field(f), r"(^|, )mosquitto($|[ ,])", f)
        depends = self.field("Depends")
        # The websocket listeners dlopen libwebsockets' libuv plugin: shlibs cannot see it.
        for lib in ("libwebsockets-evlib-uv", "libsystemd0", "libuv1", "libssl3", "adduser"):
            self.assertIn(lib, depends)

    def test_contents(self):
        listing = run(["dpkg-deb", "-c", self.deb], check=True).stdout
        paths = [line.split()[-1] for line in listing.splitlines()]
        for p in EXPECTED_FILES:
            self.assertIn(p, paths)
        # Every page of man/, compressed as Debian does, nothing left uncompressed.
        self.assertEqual([p for p in paths if "/man/" in p and re.search(r"\.\d$", p)], [])
        for page in os.listdir(os.path.join(ROOT, "man")):
            if re.search(r"\.\d$", page):
                self.assertIn("./usr/share/man/man%s/%s.gz" % (page[-1], page), paths)

    def test_control_files(self):
        d = os.path.join(self.work, "control")
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run(["dpkg-deb", "-e", self.deb, d], check=True)
        with open(os.path.join(d, "conffiles")) as f:
            conffiles = f.read().split()
        for c in ("/etc/mosquitto/mosquitto.conf", "/etc/logrotate.d/mosquitto",
                  "/etc/fail2ban/filter.d/mosquitto-proxy.conf"):
            self.assertIn(c, conffiles)
        with open(os.path.join(d, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --quiet --system", postinst)
        # dh_installsystemd's part: enable and start mosquitto.service (Debian's unit name).
        self.assertIn("deb-systemd-helper enable 'mosquitto.service'", postinst)
        for script in ("postinst", "postrm", "prerm"):
            self.assertEqual(run(["sh", "-n", os.path.join(d, script)]).returncode, 0, script)

    def test_lintian(self):
        r = run(["lintian", "--tag-display-limit", "0", "-i", "-I", "-E", "--pedantic",
                 self.deb], timeout=600)
        tags = set(re.findall(r"^[EWIPXO]: %s[^:]*: (\S+)" % PACKAGE, r.stdout, re.M))
        self.assertEqual(tags, ALLOWED_LINTIAN, r.stdout)

    def scratch_root(self):
        """An empty dpkg database with the stand-in Debian mosquitto installed, then ours
        unpacked over it (no maintainer scripts: they would need a whole system in the root)."""
        root = tempfile.mkdtemp(prefix="root-", dir=self.work)
        os.chmod(root, 0o755)
        for sub in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(root, "var", "lib", "dpkg", sub))
        open(os.path.join(root, "var", "lib", "dpkg", "status"), "w").close()
        r = run(["dpkg", "--root=" + root, "-i", build_standin(self.work)])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(["dpkg", "--root=" + root, "--force-depends", "--unpack", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("will remove mosquitto in favour of %s" % PACKAGE, r.stderr)
        return root

    def test_takes_over_from_debian_package(self):
        root = self.scratch_root()
        r = run(["dpkg", "--root=" + root, "-S", "/usr/sbin/mosquitto",
                 "/etc/mosquitto/mosquitto.conf"])
        self.assertEqual(r.stdout.split(), [PACKAGE + ":", "/usr/sbin/mosquitto",
                                            PACKAGE + ":", "/etc/mosquitto/mosquitto.conf"])
        r = run(["dpkg-query", "--root=" + root, "-W", "-f=${Status}", "mosquitto"])
        self.assertEqual(r.stdout, "install ok config-files")

    def test_unit_execstart_with_notify_socket(self):
        root = self.scratch_root()
        with open(os.path.join(root, "lib", "systemd", "system", "mosquitto.service")) as f:
            unit = f.read()
        # systemd-analyze checks the unit against the binary it names, here the unpacked one.
        checked = unit.replace("/usr/sbin/mosquitto", root + "/usr/sbin/mosquitto")
        unit_copy = os.path.join(self.work, "mosquitto.service")
        with open(unit_copy, "w") as f:
            f.write(checked)
        r = run(["systemd-analyze", "verify", unit_copy], timeout=60)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

        execstart = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
        self.assertEqual(execstart, ["/usr/sbin/mosquitto", "-c", "/etc/mosquitto/mosquitto.conf"])
        # What the unit's RuntimeDirectory/LogsDirectory/StateDirectory and ExecStartPre do,
        # inside the scratch root; the shipped config's absolute paths are moved there too.
        try:
            user = pwd.getpwnam("mosquitto")
        except KeyError:
            user = pwd.getpwnam("nobody")
        for d in ("run/mosquitto", "var/log/mosquitto", "var/lib/mosquitto"):
            p = os.path.join(root, d)
            os.makedirs(p, exist_ok=True)
            os.chmod(p, 0o750)
            os.chown(p, user.pw_uid, user.pw_gid)
        conf = os.path.join(root, "etc", "mosquitto", "mosquitto.conf")
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(re.sub(r" /(run|var|etc)/", lambda m: " %s/%s/" % (root, m.group(1)), text))
        port = free_port()
        with open(os.path.join(root, "etc", "mosquitto", "conf.d", "test.conf"), "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % port)
        argv = [root + execstart[0], execstart[1], root + execstart[2]]

        n = NotifySocket(self.work)
        self.addCleanup(n.close)
        proc = subprocess.Popen(argv, env=dict(os.environ, NOTIFY_SOCKET=n.path,
                                               WATCHDOG_USEC="60000000"),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        try:
            ready = n.expect("READY", "1", timeout=20)
        except AssertionError:
            proc.kill()
            raise AssertionError("no READY=1 from %s:\n%s" % (argv, proc.communicate()[0]))
        s = open_conn(port)
        s.sendall(mqtt_connect("deb-test", proto=4, clean=True))
        self.assertEqual(read_connack(s), 0)
        s.close()
        log = os.path.join(root, "var", "log", "mosquitto", "mosquitto.log")
        st = os.stat(log)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (user.pw_uid, 0o600))
        st = os.stat(os.path.join(root, "run", "mosquitto", "mosquitto.pid"))
        self.assertEqual(st.st_uid, user.pw_uid)
        # systemctl reload, then systemctl stop.
        proc.send_signal(signal.SIGHUP)
        i = n.expect("RELOADING", "1", after=ready + 1)
        n.expect("READY", "1", after=i + 1)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(20), 0, proc.stdout.read())
        n.expect("STOPPING", "1", after=i + 1)
        wait_until(lambda: "terminating" in open(log).read(), what="shutdown logged")
        self.assertIn("Config loaded from %s" % argv[2], open(log).read())


if __name__ == "__main__":
    unittest.main()
