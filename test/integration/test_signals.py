"""test_signals - SIGTERM/SIGINT clean shutdown (exit 0), SIGHUP reload keeps serving."""

import signal
import unittest

from broker import BrokerTest


class SignalTest(BrokerTest):
    def test_sigterm_clean_exit(self):
        b = self.broker()
        c = b.client("held")
        self.addCleanup(c.close)
        b.stop(signal.SIGTERM)
        self.assertEqual(c.expect_closed(), [])
        self.assertRegex(b.log_text(), r"mosquitto version \S+ terminating")

    def test_sigint_clean_exit(self):
        b = self.broker()
        b.stop(signal.SIGINT)
        self.assertRegex(b.log_text(), r"mosquitto version \S+ terminating")

    def test_sighup_reload_keeps_serving(self):
        b = self.broker()
        c = b.client("stay")
        self.addCleanup(c.close)
        mark = b.mark()
        b.signal(signal.SIGHUP)
        b.wait_log(r"Reloading config\.", since=mark)
        c.ping()
        self.assert_still_serving(b)
        b.stop()


if __name__ == "__main__":
    unittest.main()
