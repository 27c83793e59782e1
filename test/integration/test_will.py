"""test_will - last will: sent on abnormal loss, keep-alive timeout and takeover; not on
DISCONNECT; will retain."""

import unittest

import mqtt_raw as m
from broker import KEEPALIVE_SLACK, BrokerTest, disc_re


class WillTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()
        self.watch = self.b.client("watcher")
        self.addCleanup(self.watch.close)
        self.watch.subscribe("will/#", 1)

    def willed(self, cid="dying", **kw):
        kw.setdefault("will_topic", "will/" + cid)
        kw.setdefault("will_payload", b"gone")
        kw.setdefault("will_qos", 1)
        c = self.b.client(cid, **kw)
        self.addCleanup(c.close)
        return c

    def expect_will(self, cid="dying", timeout=5.0):
        p = self.watch.expect(m.PUBLISH, timeout=timeout)
        self.assertEqual((p.topic, p.payload, p.qos), ("will/" + cid, b"gone", 1))
        self.watch.send(m.puback(p.mid))
        return p

    def test_sent_on_socket_close(self):
        c = self.willed()
        c.close()
        self.expect_will()
        self.b.wait_log(disc_re("dying", c.local_port(), "connection closed by client"))

    def test_not_sent_on_disconnect(self):
        c = self.willed()
        c.disconnect()
        self.b.wait_log(disc_re("dying", c.local_port()))
        self.assertTrue(self.watch.no_packet(0.5))

    def test_sent_on_keepalive_timeout(self):
        c = self.willed(keepalive=1)
        self.expect_will(timeout=1.5 + KEEPALIVE_SLACK)
        self.b.wait_log(disc_re("dying", c.local_port(), "exceeded timeout"))

    def test_sent_on_takeover(self):
        self.willed()
        new = self.b.client("dying")
        self.addCleanup(new.close)
        self.expect_will()

    def test_sent_on_protocol_error(self):
        c = self.willed()
        c.send(b"\x36\x04\x00\x01a\x00")            # PUBLISH with QoS 3
        self.expect_will()

    def test_will_retain(self):
        c = self.willed(will_retain=True)
        c.close()
        self.expect_will()
        with self.b.client("late") as late:
            late.subscribe("will/dying", 0)
            p = late.expect(m.PUBLISH)
            self.assertEqual((p.payload, p.retain), (b"gone", 1))

    def test_v5_will_delay(self):
        c = self.willed(cid="delayed", proto=m.V5, will_properties=[(m.P_WILL_DELAY, 1)],
                        properties=[(m.P_SESSION_EXPIRY, 10)])
        c.close()
        self.assertTrue(self.watch.no_packet(0.6))  # not before the delay
        self.expect_will("delayed", timeout=4)


if __name__ == "__main__":
    unittest.main()
