"""test_cmdline - -p together with -c, -q, and a duplicate listener, as Mosquitto 2.1.2 handles
them (each answer observed on 2.1.2 and written beside the assertion)."""

import socket
import subprocess
import unittest

from broker import Broker, BrokerTest, free_port, wait_until


def refused(port):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


class PortFlagTest(BrokerTest):
    def test_p_ignored_when_config_has_listener(self):
        # `mosquitto -c my.conf -p N` where my.conf has `listener M`: 2.1.2 opens only M and
        # says nothing about -p; launchers that pass both must not fail on "address in use".
        cli_port = free_port()
        b = self.broker(args=["-p", str(cli_port)])
        b.client("one").close()                                  # 2.1.2: listener M serves
        self.assertTrue(refused(cli_port))                      # 2.1.2: nothing on N
        self.assertFalse(b.log_has(r"port %d" % cli_port))       # 2.1.2: no line about -p

    def test_p_same_port_as_listener_starts(self):
        # 2.1.2 starts normally: the one listener, once.
        port = free_port()
        b = self.broker(port=port, args=["-p", str(port)])
        b.client("one").close()
        self.assertEqual(len([l for l in b.log_text().splitlines()
                              if "Opening ipv4 listen socket on port %d." % port in l]), 1)

    def test_config_port_wins_over_p(self):
        # `port A` in the file and -p B: 2.1.2 warns and listens on A only.
        a, cli = free_port(), free_port()
        b = self.broker("port %d\nbind_address 127.0.0.1" % a, listener=False,
                        port=a, args=["-p", str(cli)])
        b.client("one").close()
        self.assertTrue(refused(cli))
        # 2.1.2: "Warning: Default listener port specified multiple times. Only the latest will
        # be used." (printed before the log file is open)
        self.assertIn("Warning: Default listener port specified multiple times. Only the latest "
                      "will be used.", b.output() + b.log_text())

    def test_p_without_listener_is_local_only(self):
        # No listener in the file: -p ports replace 1883, loopback only, anonymous allowed.
        cli = free_port()
        b = self.broker("", listener=False, port=cli, args=["-p", str(cli)])
        b.client("anon").close()
        # 2.1.2: "Starting in local only mode. Connections will only be possible from clients
        # running on this machine."
        self.assertTrue(b.log_has(r"Starting in local only mode\."))


class QuietFlagTest(BrokerTest):
    def test_q_silences_the_log(self):
        b = self.broker(args=["-q"])
        b.client("quiet").close()
        b.stop()
        self.assertEqual(b.log_text(), "")         # 2.1.2: nothing logged with -q

    def test_q_wins_over_v(self):
        b = self.broker(logging=False, config="log_dest stdout", args=["-v", "-q"])
        b.client("quiet").close()
        b.stop()
        self.assertNotIn("New client connected", b.output())   # 2.1.2: -q overrides -v

    def test_q_still_reports_config_errors(self):
        b = Broker("no_such_option 1", args=["-q"])
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertEqual(b.wait_exit(), 3)                      # 2.1.2: exit 3
        # 2.1.2: "Error: Unknown configuration variable 'no_such_option'."
        self.assertIn("Unknown configuration variable 'no_such_option'", b.output())


class DuplicateListenerTest(unittest.TestCase):
    def test_duplicate_listener_with_address(self):
        # Was a heap-use-after-free (the address was freed, then printed). 2.1.2 starts, opens
        # the socket twice and exits 1 with "Error: Address already in use"; we refuse the file
        # at the second line instead, naming both places (a config error, exit 3).
        port = free_port()
        b = Broker("listener %d 127.0.0.1\nlistener %d 127.0.0.1" % (port, port), listener=False)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertEqual(b.wait_exit(), 3)
        out = b.output()
        self.assertIn("Error: Duplicate listener on port %d address 127.0.0.1 (first at %s:"
                      % (port, b.conf_path), out)
        self.assertIn("Error found at %s:" % b.conf_path, out)


if __name__ == "__main__":
    unittest.main()
