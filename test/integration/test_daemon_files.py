"""test_daemon_files - files the broker writes when it starts as root and drops privileges, and
`-d` (issue 11): log and pid files belong to the user the broker runs as, the log is 0600, a
reopen after the drop works, relative paths survive the daemon's chdir("/"), and the parent's
exit code says whether the daemon started.

References, recorded 2026-11-30 as root with the `mosquitto` user present:
  both 2.0.11 and 2.1.2 leave the log -rw------- and the pid file -rw-r--r--, both owned by
  mosquitto:mosquitto; SIGRTMIN makes 2.1.2 reopen its log, also after the drop into a folder
  only mosquitto may write (2.0.11 dies of it).
  `-d` with relative paths: neither changes directory (the daemon's cwd stays where it was
  started); a -d start that fails (log file in a missing folder) still exits 0 in the parent
  for both. We change to / like a daemon should, after making the paths absolute, and the
  parent exits 1 when the child fails."""

import os
import pwd
import signal
import socket
import subprocess
import unittest

from broker import BIN, BrokerTest, free_port, wait_until

AS_ROOT = os.geteuid() == 0


def run_as_user():
    """The user the broker drops to by default: mosquitto, else nobody (as Mosquitto)."""
    try:
        return pwd.getpwnam("mosquitto")
    except KeyError:
        return pwd.getpwnam("nobody")


@unittest.skipUnless(AS_ROOT, "privilege drop needs root (make test runs as root)")
class FilesAfterDropTest(BrokerTest):
    def test_log_and_pid_file_belong_to_run_user(self):
        d = self.tmpdir()
        pid_path = os.path.join(d, "mosquitto.pid")
        b = self.broker("pid_file %s" % pid_path, tmpdir=d)
        user = run_as_user()
        st = os.stat(b.log_path)
        self.assertEqual((st.st_uid, st.st_gid), (user.pw_uid, user.pw_gid))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        st = os.stat(pid_path)
        self.assertEqual((st.st_uid, st.st_gid), (user.pw_uid, user.pw_gid))
        with open(pid_path) as f:
            self.assertEqual(int(f.read()), b.proc.pid)
        b.stop()
        self.assertFalse(os.path.exists(pid_path))  # the unprivileged broker could remove it

    def test_existing_log_file_keeps_its_owner(self):
        d = self.tmpdir()
        log = os.path.join(d, "broker.log")
        with open(log, "w"):
            pass
        os.chmod(log, 0o666)
        b = self.broker(tmpdir=d)
        st = os.stat(log)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o666))
        b.wait_log(r"mosquitto version \S+ running")

    def rotate_and_signal(self, sig):
        """logrotate with `nocreate` in a folder only the run-as user may write, as Debian's
        /var/log/mosquitto: rename the log, signal, and the broker must create a new one."""
        d = self.tmpdir()
        logdir = os.path.join(d, "log")
        os.mkdir(logdir, 0o750)
        user = run_as_user()
        os.chown(logdir, user.pw_uid, user.pw_gid)
        log = os.path.join(logdir, "mosquitto.log")
        b = self.broker("log_dest file %s\nlog_type all" % log, logging=False, tmpdir=d)
        b.log_path = log
        b.wait_log(r"mosquitto version \S+ running")
        os.rename(log, log + ".1")
        b.signal(sig)
        wait_until(lambda: os.path.exists(log), what="a new log file after the signal")
        st = os.stat(log)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (user.pw_uid, 0o600))
        with b.client("after-reopen"):
            pass
        b.wait_log(r"New client connected from .* as after-reopen")
        return b

    def test_sighup_reopens_log_after_drop(self):
        b = self.rotate_and_signal(signal.SIGHUP)
        # Logged before the reopen, so it went to the rotated file.
        with open(b.log_path + ".1") as f:
            self.assertIn("Reloading config.", f.read())

    def test_sigrtmin_reopens_log_after_drop(self):
        # 2.1.2, same steps by hand as root (2026-11-30): a new mosquitto-owned 0600 log holding
        # the next client's lines, nothing logged for the signal itself; 2.0.11 dies of SIGRTMIN.
        b = self.rotate_and_signal(signal.SIGRTMIN)
        self.assertIsNone(b.proc.poll())
        # A reopen only: no reload was logged, in either file.
        for path in (b.log_path, b.log_path + ".1"):
            with open(path) as f:
                self.assertNotIn("Reloading config.", f.read(), path)
        with open(b.log_path + ".1") as f:
            self.assertNotIn("after-reopen", f.read())


class DaemonTest(unittest.TestCase):
    """-d: the broker forks; the test finds the daemon through its pid file."""

    def setUp(self):
        self.dir = subprocess.check_output(["mktemp", "-d", "/tmp/mqtt-daemon-XXXXXX"],
                                           text=True).strip()
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        self.pid = None
        self.addCleanup(self.teardown_daemon)

    def teardown_daemon(self):
        if self.pid is not None and self.alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            wait_until(lambda: not self.alive(self.pid), 10, what="daemon exit")
        subprocess.run(["rm", "-rf", self.dir])

    @staticmethod
    def alive(pid):
        """Running and not a zombie (the daemon's parent is gone; init reaps it later)."""
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    def run_daemon(self, conf):
        with open(os.path.join(self.dir, "mosquitto.conf"), "w") as f:
            f.write(conf)
        return subprocess.run([BIN, "-c", "mosquitto.conf", "-d"], cwd=self.dir,
                              capture_output=True, text=True, timeout=20)

    def test_relative_paths_and_ready_on_exit(self):
        r = self.run_daemon("listener %d 127.0.0.1\nallow_anonymous true\n"
                            "log_dest file rel.log\nlog_type all\npid_file rel.pid\n" % self.port)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The parent returns once the daemon serves: no retry needed.
        socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        with open(os.path.join(self.dir, "rel.pid")) as f:
            self.pid = int(f.read())
        self.assertTrue(self.alive(self.pid))
        self.assertEqual(os.readlink("/proc/%d/cwd" % self.pid), "/")
        self.assertFalse(os.path.exists("/rel.log"))
        log = os.path.join(self.dir, "rel.log")
        self.assertIn("running", open(log).read())
        # The reload reads the config again from its absolute path, after the chdir.
        os.kill(self.pid, signal.SIGHUP)
        wait_until(lambda: "Reloading config." in open(log).read(), what="reload in rel.log")
        self.assertNotIn("Unable to reload", open(log).read())
        os.kill(self.pid, signal.SIGTERM)
        wait_until(lambda: not self.alive(self.pid), 10, what="daemon exit")
        wait_until(lambda: not os.path.exists(os.path.join(self.dir, "rel.pid")),
                   what="pid file removed")

    def test_failed_start_fails_the_parent(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", self.port))
        busy.listen(1)
        self.addCleanup(busy.close)
        r = self.run_daemon("listener %d 127.0.0.1\npid_file rel.pid\n" % self.port)
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not start in the background (exit code 1)", r.stderr)

    def test_unwritable_log_fails_the_parent(self):
        r = self.run_daemon("listener %d 127.0.0.1\nlog_dest file missing/dir/x.log\n" %
                            self.port)
        self.assertEqual(r.returncode, 1)
        self.assertIn("did not start in the background", r.stderr)

    def test_success_prints_nothing(self):
        # As both references: the daemon's log lines never reach the terminal.
        r = self.run_daemon("log_dest stderr\nlistener %d 127.0.0.1\npid_file rel.pid\n" %
                            self.port)
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        with open(os.path.join(self.dir, "rel.pid")) as f:
            self.pid = int(f.read())

    def test_config_error_is_reported_before_forking(self):
        r = self.run_daemon("listener %d 127.0.0.1\nno_such_option 1\n" % self.port)
        self.assertEqual(r.returncode, 3)


if __name__ == "__main__":
    unittest.main()
