"""test_signals - SIGTERM/SIGINT clean shutdown (exit 0), SIGHUP reload keeps serving, SIGUSR1
and SIGUSR2 never end the broker, SIGRTMIN reopens the log file (as Mosquitto 2.1.2)."""

import os
import signal
import unittest

from broker import BrokerTest, wait_until


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

    def test_sigusr1_sigusr2_do_not_kill(self):
        b = self.broker()
        c = b.client("stay")
        self.addCleanup(c.close)
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1):
            mark = b.mark()
            b.signal(sig)
            c.ping()                         # handled: the loop still answers this client
            self.assertTrue(b.running())     # 2.1.2: alive after each one
            # 2.1.2 logs nothing for either signal (SIGUSR1 saves persistence when enabled)
            self.assertNotIn("terminating", b.log_text()[mark:])
        self.assert_still_serving(b)
        b.stop()

    def test_sigrtmin_reopens_log_file(self):
        b = self.broker()
        b.client("before").close()
        b.wait_log(r"as before \(")
        rotated = b.log_path + ".1"
        os.rename(b.log_path, rotated)          # what logrotate does before its postrotate
        b.signal(signal.SIGRTMIN)
        # 2.1.2: a fresh file appears at the configured path and takes the next lines
        wait_until(lambda: os.path.exists(b.log_path), what="log file reopened")
        b.client("after").close()
        b.wait_log(r"as after \(")
        with open(rotated) as f:
            self.assertNotIn("as after (", f.read())
        self.assertTrue(b.running())
        b.stop()


if __name__ == "__main__":
    unittest.main()
