"""test_passwd - the mosquitto_passwd tool (MOSQUITTO_PASSWD_BIN): -c/-b/-D/-U, the prompt,
error messages and exit codes next to Debian's tool, safe rewrites, and files that Debian's
mosquitto 2.0.11 broker accepts (and Debian-written files that our tool edits without harm).
Hashes are also checked independently with Python's hashlib."""

import base64
import hashlib
import os
import pty
import select
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
OURS = os.environ.get("MOSQUITTO_PASSWD_BIN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "build", "apps", "mosquitto_passwd"))
OUR_BROKER = os.environ.get("MOSQUITTO_BIN") or ""
DEBIAN_PASSWD = "/usr/bin/mosquitto_passwd"
DEBIAN_BROKER = "/usr/sbin/mosquitto"
PUB = "/usr/bin/mosquitto_pub"


def have(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kw)


def check_hash(h, password):
    """Independent verifier of the two Mosquitto formats."""
    f = h.split("$")
    if f[1] == "7":
        salt, want = base64.b64decode(f[3], validate=True), base64.b64decode(f[4], validate=True)
        got = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(f[2]), 64)
    elif f[1] == "6":
        salt, want = base64.b64decode(f[2], validate=True), base64.b64decode(f[3], validate=True)
        got = hashlib.sha512(password.encode() + salt).digest()
    else:
        raise AssertionError("unknown hash type in %r" % h)
    return got == want


def entries(path):
    with open(path) as f:
        lines = f.read().splitlines()
    return dict(l.split(":", 1) for l in lines if l and not l.startswith("#"))


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.02)


def run_pty(argv, typed):
    """Runs argv on a terminal, typing each string of typed (plus Enter) when the tool has
    printed the matching number of prompts. Returns (exit code, terminal output)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    pending = list(typed)
    deadline = time.monotonic() + 20
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
            raise AssertionError("tool stuck at the prompt; output so far: %r" % out)
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        # answer each prompt once it is on the screen
        while pending and out.count(b"assword: ") > len(typed) - len(pending):
            os.write(fd, pending.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


class Base(unittest.TestCase):
    def setUp(self):
        if not have(OURS):
            self.fail("mosquitto_passwd not built: %s" % OURS)
        self.dir = tempfile.mkdtemp(prefix="test_passwd.")
        # Debian's broker reads the file after dropping root to its own user.
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def ours(self, *args):
        return run([OURS] + list(args))

    def assertNoTempFiles(self):
        left = [n for n in os.listdir(self.dir) if ".tmp" in n]
        self.assertEqual(left, [])


class ToolTest(Base):
    def test_create_batch_default_is_pbkdf2_101(self):
        p = self.path("pw")
        r = self.ours("-c", "-b", p, "alice", "secret")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        e = entries(p)
        self.assertEqual(list(e), ["alice"])
        f = e["alice"].split("$")
        self.assertEqual(f[:3], ["", "7", "101"])
        self.assertEqual(len(base64.b64decode(f[3])), 12)
        self.assertEqual(len(base64.b64decode(f[4])), 64)
        self.assertTrue(check_hash(e["alice"], "secret"))
        self.assertFalse(check_hash(e["alice"], "Secret"))
        self.assertNoTempFiles()

    def test_hash_types_and_iterations(self):
        p = self.path("pw")
        self.assertEqual(self.ours("-c", "-H", "sha512", "-b", p, "bob", "pw2").returncode, 0)
        self.assertEqual(self.ours("-H", "sha512-pbkdf2", "-I", "1000", "-b", p, "carol",
                                   "colon:and space").returncode, 0)
        e = entries(p)
        self.assertTrue(e["bob"].startswith("$6$"))
        self.assertTrue(check_hash(e["bob"], "pw2"))
        self.assertTrue(e["carol"].startswith("$7$1000$"))
        self.assertTrue(check_hash(e["carol"], "colon:and space"))

    def test_create_overwrites(self):
        p = self.write("pw", "old:$6$x$y\n")
        self.assertEqual(self.ours("-c", "-b", p, "new", "n").returncode, 0)
        self.assertEqual(list(entries(p)), ["new"])

    def test_create_to_stdout(self):
        r = self.ours("-c", "-b", "-", "u", "p")
        self.assertEqual(r.returncode, 0)
        user, h = r.stdout.rstrip("\n").split(":", 1)
        self.assertEqual(user, "u")
        self.assertTrue(check_hash(h, "p"))
        self.assertFalse(os.path.exists(self.path("-")))

    def test_update_keeps_other_lines(self):
        p = self.path("pw")
        self.ours("-c", "-b", p, "alice", "a1")
        self.ours("-b", p, "bob", "b1")
        with open(p, "a") as f:
            f.write("# a comment\n\n")
        self.ours("-b", p, "carol", "c1")
        before = self.read("pw").splitlines()
        r = self.ours("-b", p, "alice", "a2")
        self.assertEqual(r.returncode, 0)
        after = self.read("pw").splitlines()
        self.assertEqual(len(before), len(after))
        self.assertEqual(before[1:], after[1:])           # bob, comment, blank, carol untouched
        self.assertTrue(check_hash(entries(p)["alice"], "a2"))
        self.assertEqual(after[2:4], ["# a comment", ""])

    def test_update_keeps_mode_and_symlink(self):
        p = self.path("pw")
        self.ours("-c", "-b", p, "alice", "a1")
        os.chmod(p, 0o640)
        link = self.path("link")
        os.symlink(p, link)
        self.assertEqual(self.ours("-b", link, "bob", "b1").returncode, 0)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o640)
        self.assertEqual(sorted(entries(p)), ["alice", "bob"])
        self.assertNoTempFiles()

    def test_new_file_follows_umask(self):
        p = self.path("pw")
        old = os.umask(0o077)
        try:
            self.ours("-c", "-b", p, "u", "p")
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o600)

    def test_delete(self):
        p = self.path("pw")
        self.ours("-c", "-b", p, "alice", "a")
        self.ours("-b", p, "bob", "b")
        r = self.ours("-D", p, "alice")
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        self.assertEqual(list(entries(p)), ["bob"])
        before = self.read("pw")
        r = self.ours("-D", p, "alice")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "Warning: User alice not found in password file.\n")
        self.assertEqual(self.read("pw"), before)

    def test_upgrade_plain_text(self):
        p = self.path("pw")
        self.ours("-c", "-b", p, "hashed", "h")
        hashed_line = self.read("pw")
        with open(p, "w") as f:
            f.write("# users\nu1:plain1\n\nu2:pl:ain 2\n" + hashed_line)
        r = self.ours("-U", p)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        text = self.read("pw")
        self.assertTrue(text.startswith("# users\n"))
        self.assertIn("\n\n", text)
        e = entries(p)
        self.assertTrue(check_hash(e["u1"], "plain1"))
        self.assertTrue(check_hash(e["u2"], "pl:ain 2"))
        self.assertTrue(check_hash(e["hashed"], "h"))  # not hashed a second time
        self.assertIn(hashed_line, text)
        # running it again changes nothing
        self.assertEqual(self.ours("-U", p).returncode, 0)
        self.assertEqual(self.read("pw"), text)

    def test_upgrade_sha512(self):
        p = self.write("pw", "u:plain\n")
        self.assertEqual(self.ours("-H", "sha512", "-U", p).returncode, 0)
        self.assertTrue(entries(p)["u"].startswith("$6$"))
        self.assertTrue(check_hash(entries(p)["u"], "plain"))

    def test_corrupt_file_is_left_alone(self):
        p = self.write("pw", "good:$6$x$y\nno-colon-here\n")
        for args in (["-b", p, "x", "y"], ["-D", p, "good"], ["-U", p]):
            r = self.ours(*args)
            self.assertEqual(r.returncode, 1, args)
            self.assertEqual(r.stderr, "Error: Corrupt password file at line 2.\n")
            self.assertEqual(self.read("pw"), "good:$6$x$y\nno-colon-here\n")

    def test_empty_username_refused(self):
        r = self.ours("-c", "-b", self.path("pw"), "", "p")
        self.assertEqual(r.returncode, 1)
        self.assertTrue(r.stderr.startswith("Error: "))
        self.assertFalse(os.path.exists(self.path("pw")))


class PromptTest(Base):
    def test_prompt_twice(self):
        p = self.path("pw")
        rc, out = run_pty([OURS, "-c", p, "alice"], ["s3cret", "s3cret"])
        self.assertEqual(rc, 0, out)
        self.assertIn("Password: ", out)
        self.assertIn("Reenter password: ", out)
        self.assertNotIn("s3cret", out)                  # no echo
        self.assertTrue(check_hash(entries(p)["alice"], "s3cret"))

    def test_prompt_mismatch_leaves_file(self):
        p = self.path("pw")
        self.ours("-c", "-b", p, "alice", "a")
        before = self.read("pw")
        rc, out = run_pty([OURS, "-c", p, "alice"], ["one", "two"])
        self.assertEqual(rc, 2)
        self.assertIn("Error: Passwords do not match.", out)
        self.assertEqual(self.read("pw"), before)

    def test_prompt_empty_password(self):
        p = self.path("pw")
        rc, out = run_pty([OURS, "-c", p, "alice"], [""])
        self.assertEqual(rc, 1)
        self.assertIn("Error: Empty password.", out)
        self.assertFalse(os.path.exists(p))


# Needs Debian's mosquitto package (scripts/deps.sh installs it); missing tools fail.
class SameAsDebianTest(Base):
    """The same mistakes give the same message on stderr and the same exit code."""

    CASES = [
        ["-c", "-D", "{f}", "u"],
        ["-D", "-b", "{f}", "u", "p"],
        ["-c", "-U", "{f}"],
        ["-U"],
        ["-U", "{f}", "extra"],
        ["-H", "md5", "-b", "{f}", "u", "p"],
        ["-H"],
        ["-I"],
        ["-I", "0", "-b", "{f}", "u", "p"],
        ["-I", "abc", "-b", "{f}", "u", "p"],
        ["-b", "{f}", "a:b", "p"],
        ["-b", "{missing}", "u", "p"],
        ["-D", "{missing}", "u"],
        ["-D", "{f}", "nobody"],
        ["-c", "-b", "{nodir}", "u", "p"],
    ]

    def outcome(self, tool, case, sub):
        d = os.path.join(self.dir, sub)
        os.mkdir(d)
        f = os.path.join(d, "pw")
        run([DEBIAN_PASSWD, "-c", "-b", f, "someone", "x"])
        names = {"f": f, "missing": os.path.join(d, "missing"),
                 "nodir": os.path.join(d, "no", "such", "dir")}
        r = run([tool] + [a.format(**names) for a in case])
        return r.returncode, r.stderr.replace(d, "DIR")

    def test_errors_match(self):
        for i, case in enumerate(self.CASES):
            with self.subTest(case=case):
                self.assertEqual(self.outcome(OURS, case, "o%d" % i),
                                 self.outcome(DEBIAN_PASSWD, case, "d%d" % i))

    def test_usage(self):
        for args in ([], ["-x"], ["{f}"], ["-b", "{f}", "u"]):
            ours = run([OURS] + [a.format(f=self.path("pw")) for a in args])
            deb = run([DEBIAN_PASSWD] + [a.format(f=self.path("pw")) for a in args])
            self.assertEqual((ours.returncode, ours.stderr), (deb.returncode, deb.stderr))
            self.assertIn("Usage: mosquitto_passwd", ours.stdout)


class BrokerCase(Base):
    broker_bin = None

    def start_broker(self, pwfile):
        port = free_port()
        conf = self.write("broker.conf", "listener %d 127.0.0.1\npassword_file %s\n"
                          "allow_anonymous false\n" % (port, pwfile))
        os.chmod(pwfile, 0o644)
        log = open(self.path("broker.log"), "w")
        self.addCleanup(log.close)
        proc = subprocess.Popen([self.broker_bin, "-c", conf], stdout=log, stderr=log)

        def stop():
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.addCleanup(stop)

        def listening():
            self.assertIsNone(proc.poll(), "broker exited: " + self.read("broker.log"))
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return True
            except OSError:
                return False
        wait_until(listening, what="broker on port %d" % port)
        return port

    def pub(self, port, user, password):
        r = run([PUB, "-h", "127.0.0.1", "-p", str(port), "-u", user, "-P", password,
                 "-t", "t", "-m", "x", "-q", "1"])
        return r.returncode

    def check_logins(self, pwfile, good):
        port = self.start_broker(pwfile)
        for user, password in good.items():
            self.assertEqual(self.pub(port, user, password), 0, user)
            self.assertNotEqual(self.pub(port, user, password + "x"), 0, user)
        self.assertNotEqual(self.pub(port, "nobody", "x"), 0)


# Needs Debian's mosquitto package (scripts/deps.sh installs it); missing tools fail.
class DebianBrokerTest(BrokerCase):
    broker_bin = DEBIAN_BROKER

    def test_debian_broker_accepts_our_file(self):
        p = self.path("pw")
        self.assertEqual(self.ours("-c", "-b", p, "alice", "secret").returncode, 0)
        self.assertEqual(self.ours("-H", "sha512", "-b", p, "bob", "pw2").returncode, 0)
        self.assertEqual(self.ours("-I", "1000", "-b", p, "carol", "c:3 x").returncode, 0)
        self.write("plain", "dave:plain-d\n")
        self.assertEqual(self.ours("-U", self.path("plain")).returncode, 0)
        with open(p, "a") as f:
            f.write(self.read("plain"))
        self.check_logins(p, {"alice": "secret", "bob": "pw2", "carol": "c:3 x",
                              "dave": "plain-d"})

    def test_files_shared_with_debian_tool(self):
        p = self.path("pw")
        run([DEBIAN_PASSWD, "-c", "-b", p, "deb1", "d1"])
        run([DEBIAN_PASSWD, "-H", "sha512", "-b", p, "deb2", "d2"])
        self.assertEqual(self.ours("-b", p, "ours1", "o1").returncode, 0)
        self.assertEqual(self.ours("-b", p, "deb1", "d1-new").returncode, 0)
        self.assertEqual(run([DEBIAN_PASSWD, "-b", p, "deb3", "d3"]).returncode, 0)
        e = entries(p)
        self.assertEqual(sorted(e), ["deb1", "deb2", "deb3", "ours1"])
        self.check_logins(p, {"deb1": "d1-new", "deb2": "d2", "deb3": "d3", "ours1": "o1"})


# Needs Debian's mosquitto package (scripts/deps.sh installs it); missing tools fail.
class OurBrokerTest(BrokerCase):
    broker_bin = OUR_BROKER

    def test_our_broker_accepts_debian_file(self):
        p = self.path("pw")
        run([DEBIAN_PASSWD, "-c", "-b", p, "deb1", "d1"])
        run([DEBIAN_PASSWD, "-H", "sha512", "-b", p, "deb2", "d2"])
        run([DEBIAN_PASSWD, "-I", "500", "-b", p, "deb3", "d 3"])
        self.check_logins(p, {"deb1": "d1", "deb2": "d2", "deb3": "d 3"})


if __name__ == "__main__":
    unittest.main()
