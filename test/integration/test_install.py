"""test_install - `make install` (issue 11): what it puts where (through `make install-files`
into a DESTDIR, the same target the Debian package uses), and its refusal to overwrite files a
Debian package owns. Here Debian's mosquitto 2.0.11 is installed (make test needs it), so
prefix=/usr collides with it."""

import gzip
import os
import shutil
import subprocess
import tempfile
import unittest

from broker import BIN

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BUILD = os.path.dirname(os.path.dirname(os.path.abspath(BIN)))


def make(*args):
    return subprocess.run(["make", "-C", ROOT, "--no-print-directory"] + list(args),
                          capture_output=True, text=True, timeout=300)


class MakeInstallTest(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="install-test-")
        self.addCleanup(shutil.rmtree, self.dest, True)

    @unittest.skipIf(subprocess.run(["dpkg-query", "-S", "/usr/sbin/mosquitto"],
                                    capture_output=True).returncode != 0,
                     "no Debian package owns /usr/sbin/mosquitto here (make test installs one)")
    def test_refuses_to_overwrite_debian_files(self):
        r = make("install-check", "prefix=/usr")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/usr/sbin/mosquitto (mosquitto)", r.stderr)
        self.assertIn("OVERWRITE_PACKAGED=1", r.stderr)
        self.assertEqual(make("install-check", "prefix=/usr", "OVERWRITE_PACKAGED=1").returncode, 0)
        # /usr/local and a DESTDIR hold nothing of dpkg's.
        self.assertEqual(make("install-check").returncode, 0, make("install-check").stderr)
        self.assertEqual(make("install-check", "prefix=/usr", "DESTDIR=" + self.dest).returncode, 0)

    def install(self, prefix):
        r = make("install-files", "DESTDIR=" + self.dest, "prefix=" + prefix, "BUILD=" + BUILD)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return lambda p: os.path.join(self.dest, p.lstrip("/"))

    def test_usr_layout_matches_the_package(self):
        at = self.install("/usr")
        for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto_passwd",
                  "/lib/systemd/system/mosquitto.service", "/etc/logrotate.d/mosquitto",
                  "/etc/mosquitto/mosquitto.conf", "/etc/mosquitto/conf.d/README",
                  "/etc/mosquitto/certs/README", "/etc/mosquitto/ca_certificates/README",
                  "/etc/fail2ban/filter.d/mosquitto-proxy.conf", "/var/lib/mosquitto",
                  "/var/log/mosquitto"):
            self.assertTrue(os.path.exists(at(p)), p)
        # Every page of man/, gzip-compressed as Debian ships them, and nothing uncompressed.
        pages = sorted(f for f in os.listdir(os.path.join(ROOT, "man")) if f[-2:-1] == ".")
        self.assertGreaterEqual(len(pages), 4)
        for page in pages:
            with gzip.open(at("/usr/share/man/man%s/%s.gz" % (page[-1], page)), "rb") as f, \
                    open(os.path.join(ROOT, "man", page), "rb") as src:
                self.assertEqual(f.read(), src.read(), page)
        installed = [os.path.join(d, f) for d, _, fs in os.walk(at("/usr/share/man")) for f in fs]
        self.assertEqual(sorted(p for p in installed if not p.endswith(".gz")), [])
        self.assertEqual(len(installed), len(pages))
        with open(at("/lib/systemd/system/mosquitto.service")) as f:
            self.assertIn("ExecStart=/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf",
                          f.read())

    def test_local_prefix_unit_points_into_it(self):
        at = self.install("/usr/local")
        with open(at("/etc/systemd/system/mosquitto.service")) as f:
            self.assertIn("ExecStart=/usr/local/sbin/mosquitto -c", f.read())
        self.assertTrue(os.path.exists(at("/usr/local/sbin/mosquitto")))

    def test_existing_config_is_kept(self):
        os.makedirs(os.path.join(self.dest, "etc", "mosquitto"))
        mine = os.path.join(self.dest, "etc", "mosquitto", "mosquitto.conf")
        with open(mine, "w") as f:
            f.write("listener 1884\n")
        self.install("/usr/local")
        with open(mine) as f:
            self.assertEqual(f.read(), "listener 1884\n")


if __name__ == "__main__":
    unittest.main()
