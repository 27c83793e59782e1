"""test_systemd - the sd_notify(3) protocol as systemd's Type=notify unit sees it: the test plays
systemd with a unix datagram socket named in NOTIFY_SOCKET (issue 11).

References, recorded 2026-11-30 with the same socket and a SIGHUP then a SIGTERM:
  Debian's 2.0.11 (links libsystemd): READY=1 at start-up, nothing on SIGHUP or SIGTERM, no
  WATCHDOG=1 even with WATCHDOG_USEC set.
  2.1.2 built from the release tag without WITH_SYSTEMD (the oracle): nothing at all.
We send READY=1 (+STATUS), RELOADING=1 + MONOTONIC_USEC then READY=1 around a reload,
STOPPING=1 at shutdown, and WATCHDOG=1 at half of WATCHDOG_USEC."""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from broker import BIN, BrokerTest, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
UNIT_IN = os.path.join(HERE, "..", "..", "dist", "mosquitto.service.in")


class NotifySocket:
    """The service manager's end: collects every datagram the broker sends."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o777)  # the broker sends after dropping root
        self.sock.setblocking(False)
        self.messages = []

    def close(self):
        self.sock.close()

    def _drain(self):
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except BlockingIOError:
                return

    def fields(self, msg):
        return dict(line.split("=", 1) for line in msg.split("\n") if line)

    def expect(self, key, value=None, after=0, timeout=10.0):
        """Waits for a message (index >= after) carrying key (=value); returns its index."""
        def find():
            self._drain()
            for i in range(after, len(self.messages)):
                f = self.fields(self.messages[i])
                if key in f and (value is None or f[key] == value):
                    return i + 1  # truthy even for index 0
            return None
        return wait_until(find, timeout, what="%s in sd_notify messages %r" %
                          (key, self.messages)) - 1


class SystemdNotifyTest(BrokerTest):
    def start(self, extra_env=None, config=""):
        d = self.tmpdir()
        n = NotifySocket(d)
        self.addCleanup(n.close)
        env = {"NOTIFY_SOCKET": n.path}
        env.update(extra_env or {})
        b = self.broker(config, start=False, env=env)
        b.start(wait=False)
        return b, n

    def test_ready_only_once_listening(self):
        b, n = self.start()
        i = n.expect("READY", "1")
        self.assertIn("STATUS", n.fields(n.messages[i]))
        # READY=1 promises service: the first connect attempt must succeed, without retrying.
        with b.client("after-ready") as c:
            c.ping()
        self.assertTrue(b.log_has(r"mosquitto version \S+ running"))  # logged before READY

    def test_reload_brackets_with_reloading_and_ready(self):
        b, n = self.start()
        ready = n.expect("READY", "1")
        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        b.signal(signal.SIGHUP)
        i = n.expect("RELOADING", "1", after=ready + 1)
        after = time.clock_gettime(time.CLOCK_MONOTONIC)
        usec = int(n.fields(n.messages[i])["MONOTONIC_USEC"])
        # systemd >= 253 compares this with its own clock; it must be CLOCK_MONOTONIC now.
        self.assertLessEqual(before * 1e6 - 1000, usec)
        self.assertLessEqual(usec, after * 1e6 + 1000)
        n.expect("READY", "1", after=i + 1)
        self.assert_still_serving(b)

    def test_failed_reload_still_reports_ready(self):
        b, n = self.start()
        ready = n.expect("READY", "1")
        with open(b.conf_path, "a") as f:
            f.write("no_such_option 1\n")
        b.signal(signal.SIGHUP)
        i = n.expect("RELOADING", "1", after=ready + 1)
        # Without READY=1 systemd would leave the unit "reloading" and fail `systemctl reload`.
        n.expect("READY", "1", after=i + 1)
        b.wait_log(r"Unknown configuration variable 'no_such_option'")
        self.assert_still_serving(b)

    def test_stopping_on_sigterm(self):
        b, n = self.start()
        ready = n.expect("READY", "1")
        b.stop(signal.SIGTERM)
        n.expect("STOPPING", "1", after=ready + 1)

    def test_watchdog_pings_at_half_interval(self):
        b, n = self.start({"WATCHDOG_USEC": "200000"})
        ready = n.expect("READY", "1")
        t0 = time.monotonic()
        first = n.expect("WATCHDOG", "1", after=ready + 1, timeout=2.0)
        second = n.expect("WATCHDOG", "1", after=first + 1, timeout=2.0)
        third = n.expect("WATCHDOG", "1", after=second + 1, timeout=2.0)
        # Three pings at 100 ms steps; well inside systemd's 200 ms limit each time.
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertLess(ready, first)
        self.assertLess(second, third)

    def test_watchdog_for_another_pid_is_not_ours(self):
        # WATCHDOG_PID names the process systemd watches; a child that inherited the variables
        # (or a broker started by a wrapper) must not ping for it.
        b, n = self.start({"WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"})
        ready = n.expect("READY", "1")
        b.stop(signal.SIGTERM)
        n.expect("STOPPING", "1", after=ready + 1)
        self.assertFalse(b.log_has(r"systemd watchdog"))
        self.assertEqual([m for m in n.messages if "WATCHDOG=1" in m], [])


class UnitFileTest(unittest.TestCase):
    """dist/mosquitto.service.in, as `make install` and the package fill it in."""

    def unit(self, sbindir):
        with open(UNIT_IN) as f:
            return f.read().replace("@SBINDIR@", sbindir)

    def verify(self, text):
        d = self.enterContext(_TempDir())
        path = os.path.join(d, "mosquitto.service")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run(["systemd-analyze", "verify", path], capture_output=True,
                              text=True, timeout=60)

    def test_systemd_analyze_accepts_it(self):
        # ExecStart must name an executable that exists: the binary under test.
        r = self.verify(self.unit(os.path.dirname(os.path.abspath(BIN))))
        # verify exits 0 on unknown keys but prints them: both must be clean.
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_verify_catches_a_typo(self):
        # The check above could pass for a tool that accepts anything; this one must not.
        text = self.unit(os.path.dirname(os.path.abspath(BIN))).replace(
            "ProtectSystem=", "ProtectSytem=")
        r = self.verify(text)
        self.assertIn("Unknown key 'ProtectSytem'", r.stdout + r.stderr)

    def test_notify_type_and_hardening(self):
        keys = {}
        for line in self.unit("/usr/sbin").splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                keys.setdefault(k, v)
        # Debian's unit: Type=notify, reload by SIGHUP; we add the watchdog and a sandbox.
        self.assertEqual(keys["Type"], "notify")
        self.assertEqual(keys["ExecStart"], "/usr/sbin/mosquitto -c /etc/mosquitto/mosquitto.conf")
        self.assertEqual(keys["ExecReload"], "/bin/kill -HUP $MAINPID")
        self.assertIn("WatchdogSec", keys)
        for k, v in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                     ("PrivateTmp", "yes"), ("RestrictSUIDSGID", "yes")):
            self.assertEqual(keys[k], v)


class _TempDir:
    def __enter__(self):
        self.path = subprocess.check_output(["mktemp", "-d", "/tmp/unit-test-XXXXXX"],
                                            text=True).strip()
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
