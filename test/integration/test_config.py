"""test_config - command line (-p -c -v -h --test-config), config errors with file:line,
include_dir, the no-listener default, pid_file."""

import os
import socket
import subprocess
import unittest

import mqtt_raw as m
from broker import BIN, Broker, BrokerTest, free_port, wait_until


def run(args, timeout=10):
    return subprocess.run([BIN] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=timeout)


class CliTest(BrokerTest):
    def conf(self, text):
        d = self.tmpdir()
        p = os.path.join(d, "m.conf")
        with open(p, "w") as f:
            f.write(text)
        return p

    def test_help(self):
        cp = run(["-h"])
        self.assertIn(b"Usage: mosquitto", cp.stdout)
        # 2.1.2 exits 0 (test/differential/scenarios/cli.json, cli/help-h); 2.0.11 exited 3.
        self.assertEqual(cp.returncode, 0)

    def test_unknown_option_exit_code(self):
        p = self.conf("listener %d 127.0.0.1\nno_such_option 1\n" % free_port())
        cp = run(["-c", p])
        self.assertEqual(cp.returncode, 3)
        self.assertRegex(cp.stdout.decode(), r"Unknown configuration variable 'no_such_option'")
        self.assertIn("%s:2" % p, cp.stdout.decode())

    def test_unknown_command_line_option(self):
        cp = run(["--no-such-flag"])
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn(b"Unknown option '--no-such-flag'", cp.stdout)

    def test_test_config_good_and_bad(self):
        # Not in Mosquitto 2.0.11: our broker's --test-config checks and exits.
        good = self.conf("listener %d 127.0.0.1\nallow_anonymous true\n" % free_port())
        cp = run(["--test-config", "-c", good])
        self.assertEqual(cp.returncode, 0)
        self.assertIn(b"Configuration file is OK.", cp.stdout)     # 2.1.2's line, on its log
        cp = run(["--test-config"])
        self.assertEqual(cp.returncode, 3)     # 2.1.2: a file to test is required
        self.assertIn(b"Please provide a configuration file to test.", cp.stdout)
        bad = self.conf("allow_anonymous true\nmax_keepalive lots\n")
        cp = run(["--test-config", "-c", bad])
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("%s:2" % bad, cp.stdout.decode())

    def test_port_option_without_config(self):
        port = free_port()
        b = self.broker(use_config=False, args=["-p", str(port)], logging=False, port=port)
        with m.Conn(port) as c:
            self.assertEqual(c.connect("dash-p").rc, 0)
        b.stop()

    def test_verbose_logs_debug_to_stderr(self):
        b = self.broker(logging=False, args=["-v"], config="log_dest stderr")
        with b.client("loud"):
            pass
        b.wait_log(r"Sending CONNACK to loud", source=b.output)
        b.stop()

    def test_include_dir(self):
        d = self.tmpdir()
        port2 = free_port()
        with open(os.path.join(d, "extra.conf"), "w") as f:
            f.write("listener %d 127.0.0.1\n" % port2)
        b = self.broker("include_dir %s" % d)
        b.wait_ready(port=port2)
        with m.Conn(port2) as c:
            self.assertEqual(c.connect("incl").rc, 0)

    def test_pid_file(self):
        d = self.tmpdir()
        pid = os.path.join(d, "mosq.pid")
        b = self.broker("pid_file %s" % pid)

        def written():
            # the listener answers a moment before the file is written (and flushed)
            try:
                with open(pid) as f:
                    return f.read().strip()
            except FileNotFoundError:
                return ""
        self.assertEqual(int(wait_until(written, what="pid file written")), b.proc.pid)
        b.stop()

    def test_no_listener_defaults_to_loopback_1883(self):
        b = Broker("", listener=False)
        self.addCleanup(b.cleanup)
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", 1883))
            free = True
        except OSError:
            free = False
        finally:
            probe.close()
        b.start(wait=False)
        if free:
            b.wait_ready(port=1883)
            b.wait_log(r"Starting in local only mode\. Connections will only be possible from "
                       r"clients running on this machine\.")
            b.stop()
        else:
            b.wait_exit()
            b.wait_log(r"Address already in use", source=lambda: b.log_text() + b.output())


if __name__ == "__main__":
    unittest.main()
