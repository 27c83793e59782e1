"""test_logging - the log lines people grep, log_timestamp, log_type, connection_messages."""

import re
import unittest

import mqtt_raw as m
from broker import BrokerTest, connected_re, disc_re


class LogLinesTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def test_new_connection_line(self):
        with self.b.raw() as c:
            self.b.wait_log(r"New connection from 127\.0\.0\.1:%d on port %d\." %
                            (c.local_port(), self.b.port))

    def test_connected_line_with_username(self):
        c = self.b.client("sensor-1", username="alice", keepalive=60)
        self.addCleanup(c.close)
        self.b.wait_log(connected_re("sensor-1", c.local_port(), m.V311, 1, 60, "alice"))

    def test_connected_line_v5_clean0(self):
        c = self.b.client("five", proto=m.V5, clean=False, keepalive=30)
        self.addCleanup(c.close)
        self.b.wait_log(connected_re("five", c.local_port(), m.V5, 0, 30))

    def test_disconnect_line(self):
        c = self.b.client("bye")
        c.disconnect()
        self.b.wait_log(disc_re("bye", c.local_port()))

    def test_closed_by_client_line(self):
        c = self.b.client("drop")
        c.close()
        self.b.wait_log(disc_re("drop", c.local_port(), "connection closed by client"))

    def test_timestamps_on_by_default(self):
        self.b.stop()
        self.assertTrue(all(re.match(r"\d+: ", l) for l in self.b.log_text().splitlines()))


class LogOptionsTest(BrokerTest):
    def test_log_timestamp_false(self):
        b = self.broker("log_timestamp false")
        b.stop()
        self.assertRegex(b.log_text(), r"(?m)^mosquitto version \S+ starting$")

    def test_log_type_filters(self):
        b = self.broker("log_type error\nlog_type warning", logging=False,
                        anonymous=True)
        b.config = b.config.replace("log_type error", "log_dest file %s\nlog_type error"
                                    % b.log_path)
        b.cleanup()
        b = self.broker("log_dest file %s\nlog_type error\nlog_type warning" % "{log}",
                        logging=False, start=False)
        b.config = b.config.replace("{log}", b.log_path)
        b.start()
        with b.client("quiet"):
            pass
        b.stop()
        self.assertNotIn("New client connected", b.log_text())
        self.assertNotIn("Sending CONNACK", b.log_text())

    def test_connection_messages_false(self):
        b = self.broker("connection_messages false")
        c = b.client("hush")
        c.disconnect()
        b.wait_log(r"Received DISCONNECT from hush")
        b.stop()
        self.assertNotIn("New client connected", b.log_text())
        self.assertIsNone(re.search(disc_re("hush", c.local_port()), b.log_text()))


if __name__ == "__main__":
    unittest.main()
