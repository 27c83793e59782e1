"""test_keepalive - PINGREQ/PINGRESP, closing idle clients at 1.5 x keep-alive, max_keepalive."""

import time
import unittest

import mqtt_raw as m
from broker import KEEPALIVE_SLACK, BrokerTest, disc_re


class KeepaliveTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def test_pingresp_exact(self):
        c = self.b.client("pinger")
        self.addCleanup(c.close)
        c.send(m.pingreq())
        p = c.expect(m.PINGRESP)
        self.assertEqual((p.raw_first, p.body), (0xD0, b""))

    def test_idle_client_closed_after_one_and_a_half_keepalive(self):
        c = self.b.client("idle", keepalive=1)
        self.addCleanup(c.close)
        t0 = time.monotonic()
        self.assertEqual(c.expect_closed(timeout=1.5 + KEEPALIVE_SLACK), [])
        # 1.5 x 1 s is the rule; allow scheduling jitter below it but not an early close
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.b.wait_log(disc_re("idle", c.local_port(), "exceeded timeout"))

    def test_pings_keep_connection_alive(self):
        c = self.b.client("busy", keepalive=1)
        self.addCleanup(c.close)
        end = time.monotonic() + 3.2
        while time.monotonic() < end:
            c.ping()
            self.assertTrue(c.no_packet(0.5))      # waits 0.5 s, fails if closed
        c.ping()

    def test_keepalive_zero_never_times_out(self):
        c = self.b.client("forever", keepalive=0)
        self.addCleanup(c.close)
        self.assertTrue(c.no_packet(2.0))
        c.ping()


class MaxKeepaliveTest(BrokerTest):
    def setUp(self):
        self.b = self.broker("max_keepalive 10")

    def test_v5_server_keep_alive(self):
        c = self.b.client("k5", proto=m.V5, keepalive=60)
        self.addCleanup(c.close)
        self.assertEqual(c.connack.props.get(m.P_SERVER_KEEP_ALIVE), 10)

    def test_v5_keepalive_zero_gets_server_keep_alive(self):
        c = self.b.client("k50", proto=m.V5, keepalive=0)
        self.addCleanup(c.close)
        self.assertEqual(c.connack.props.get(m.P_SERVER_KEEP_ALIVE), 10)

    def test_v5_within_limit_no_property(self):
        c = self.b.client("k5ok", proto=m.V5, keepalive=5)
        self.addCleanup(c.close)
        self.assertNotIn(m.P_SERVER_KEEP_ALIVE, c.connack.props)

    def test_311_over_limit_rejected_rc2(self):
        # Mosquitto >= 2.0.12 (and 2.1) refuses 3.1.1 clients whose keepalive exceeds
        # max_keepalive (CVE-2020-13849) with "identifier rejected"; 2.0.11 still accepts them.
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("k311", keepalive=60))
        got = c.expect_closed(timeout=2)
        self.assertEqual([(p.type, p.rc) for p in got], [(m.CONNACK, 2)])

    def test_311_within_limit_accepted(self):
        c = self.b.client("k311ok", keepalive=10)
        self.addCleanup(c.close)
        c.ping()


if __name__ == "__main__":
    unittest.main()
