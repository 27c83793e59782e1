"""test_deps - scripts/deps.sh: `make run` needs only build packages, and installing never
touches the host's services (issue 11). apt-get, dpkg-query and id are replaced by recording
fakes on PATH, so the test runs the real script without installing anything."""

import os
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEPS = os.path.join(ROOT, "scripts", "deps.sh")

FAKE_DPKG_QUERY = """#!/bin/sh
# Everything is installed except the packages named in $FAKE_MISSING.
for a in "$@"; do last=$a; done
case " $FAKE_MISSING " in *" $last "*) exit 1 ;; esac
printf 'install ok installed'
"""
# Records its argv and what policy-rc.d said while packages were being "installed".
FAKE_APT_GET = """#!/bin/sh
echo "$*" >> "$FAKE_LOG"
if [ "$1" = install ] || [ "$3" = install ] || echo "$*" | grep -q ' install '; then
    "$DEPS_POLICY_RC_D" mosquitto start; echo "policy-rc.d exit $?" >> "$FAKE_LOG"
fi
"""
FAKE_ID = "#!/bin/sh\necho 0\n"
# Any of these being called would mean the script touches services.
FAKE_SERVICE = "#!/bin/sh\necho \"$(basename $0) $*\" >> \"$FAKE_LOG\"\n"


def listing(kind):
    out = subprocess.run(["bash", DEPS, "--list", kind], check=True, capture_output=True,
                         text=True).stdout
    return out.split()


class DepsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="deps-test-")
        self.bin = os.path.join(self.tmp, "bin")
        os.mkdir(self.bin)
        for name, body in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET),
                           ("id", FAKE_ID), ("systemctl", FAKE_SERVICE),
                           ("service", FAKE_SERVICE), ("invoke-rc.d", FAKE_SERVICE),
                           ("deb-systemd-invoke", FAKE_SERVICE)):
            p = os.path.join(self.bin, name)
            with open(p, "w") as f:
                f.write(body)
            os.chmod(p, 0o755)
        self.log = os.path.join(self.tmp, "log")
        self.policy = os.path.join(self.tmp, "policy-rc.d")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp])

    def run_deps(self, kind, missing):
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"], FAKE_LOG=self.log,
                   FAKE_MISSING=" ".join(missing), DEPS_POLICY_RC_D=self.policy)
        r = subprocess.run(["bash", DEPS, kind], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        try:
            with open(self.log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_build_list_has_no_services(self):
        build = listing("build")
        for pkg in ("haproxy", "mosquitto", "clang", "fail2ban"):
            self.assertNotIn(pkg, build)
        for pkg in ("cmake", "libuv1-dev", "libsystemd-dev", "libwebsockets-dev"):
            self.assertIn(pkg, build)
        test = listing("test")
        self.assertTrue(set(build) <= set(test))
        for pkg in ("haproxy", "mosquitto", "mosquitto-clients", "fail2ban", "lintian"):
            self.assertIn(pkg, test)

    def test_nothing_missing_runs_nothing(self):
        self.assertEqual(self.run_deps("test", []), "")
        self.assertFalse(os.path.exists(self.policy))

    def test_install_blocks_starts_and_restores_existing_policy(self):
        original = b"#!/bin/sh\n# the admin's own policy\nexit 0\n"
        with open(self.policy, "wb") as f:
            f.write(original)
        os.chmod(self.policy, 0o700)
        log = self.run_deps("build", ["libsystemd-dev", "haproxy"])
        # Only the build package is asked for; haproxy is a test package.
        self.assertRegex(log, r"install .*libsystemd-dev")
        self.assertNotIn("haproxy", log)
        self.assertIn("policy-rc.d exit 101", log)
        for tool in ("systemctl", "service", "invoke-rc.d", "deb-systemd-invoke"):
            self.assertNotIn(tool + " ", log)
        with open(self.policy, "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(stat.S_IMODE(os.stat(self.policy).st_mode), 0o700)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("policy-rc.d.")], [])

    def test_install_without_policy_leaves_none(self):
        log = self.run_deps("test", ["haproxy", "mosquitto"])
        self.assertRegex(log, r"install .*haproxy")
        self.assertRegex(log, r"install .*mosquitto")
        self.assertIn("policy-rc.d exit 101", log)
        self.assertFalse(os.path.exists(self.policy))

    def test_script_names_no_service_command(self):
        with open(DEPS) as f:
            code = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))
        for word in ("systemctl", "invoke-rc.d", "deb-systemd-invoke", "update-rc.d"):
            self.assertNotIn(word, code)
        self.assertNotRegex(code, r"\bservice\s+\S+\s+(start|stop|restart)")


if __name__ == "__main__":
    unittest.main()
