"""test_subscribe - SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, wildcards and $SYS isolation."""

import unittest

import mqtt_raw as m
from broker import BrokerTest, disc_re


def wire(p):
    return bytes([p.raw_first]) + m.varint(len(p.body)) + p.body


class SubscribeTest(BrokerTest):
    def setUp(self):
        self.b = self.broker("sys_interval 1")
        self.c = self.b.client("s")
        self.addCleanup(self.c.close)

    def receive_topics(self, publishes):
        """Publishes each topic (in order, then a marker) from a second client; returns the
        topics self.c received before the marker. Order is kept by the single publisher."""
        self.c.subscribe("zz/end", 0, mid=99)
        with self.b.client("p") as pub:
            for t in publishes:
                pub.publish(t, b"x")
            pub.publish("zz/end", b"end")
        got = []
        while True:
            p = self.c.expect(m.PUBLISH)
            if p.topic == "zz/end":
                return got
            got.append(p.topic)

    def test_suback_exact(self):
        self.c.send(m.subscribe(0x0102, [("a/b", 1)]))
        self.assertEqual(wire(self.c.expect(m.SUBACK)), b"\x90\x03\x01\x02\x01")

    def test_suback_several_filters(self):
        ack_pkt = m.subscribe(5, [("a", 0), ("b/+", 1), ("c/#", 2)])
        self.c.send(ack_pkt)
        ack = self.c.expect(m.SUBACK)
        self.assertEqual((ack.mid, ack.codes), (5, [0, 1, 2]))

    def test_plus_wildcard(self):
        self.c.subscribe("a/+/c", 0)
        self.assertEqual(self.receive_topics(["a/b/c", "a/b/d", "a/b/c/d", "a//c"]),
                         ["a/b/c", "a//c"])

    def test_hash_wildcard(self):
        self.c.subscribe("a/#", 0)
        self.assertEqual(self.receive_topics(["a", "a/b", "a/b/c", "b/a"]),
                         ["a", "a/b", "a/b/c"])

    def test_hash_does_not_match_sys(self):
        self.c.subscribe("#", 0)
        with self.b.client("sysw") as w:
            w.subscribe("$SYS/broker/uptime", 0)
            p = w.expect(m.PUBLISH, timeout=5)     # $SYS is live, so '#' had its chance
            self.assertEqual(p.topic, "$SYS/broker/uptime")
        with self.b.client("p") as pub:
            pub.publish("after/sys", b"x")
        p = self.c.expect(m.PUBLISH)
        self.assertEqual(p.topic, "after/sys")

    def test_unsubscribe_exact_and_stops_delivery(self):
        self.c.subscribe("u/t", 0)
        self.c.send(m.unsubscribe(5, ["u/t"]))
        self.assertEqual(wire(self.c.expect(m.UNSUBACK)), b"\xb0\x02\x00\x05")
        with self.b.client("p") as pub:
            pub.publish("u/t", b"x")
        self.assertTrue(self.c.no_packet(0.4))

    def test_unsubscribe_unknown_filter_still_acked(self):
        self.c.send(m.unsubscribe(6, ["never/subscribed"]))
        self.assertEqual(self.c.expect(m.UNSUBACK).mid, 6)

    def test_invalid_filter_disconnects_311(self):
        self.c.send(m.subscribe(1, [("a/#/b", 0)]))
        self.assertEqual(self.c.expect_closed(), [])
        self.b.wait_log(disc_re("s", self.c.local_port(), "malformed packet"))
        self.assert_still_serving(self.b)

    def test_invalid_filter_v5_disconnect_0x81(self):
        c = self.b.client("s5", proto=m.V5)
        self.addCleanup(c.close)
        c.send(m.subscribe(1, [("a/b#", 0)], proto=m.V5))
        self.assertEqual([(p.type, p.rc) for p in c.expect_closed()], [(m.DISCONNECT, 0x81)])

    def test_subscribe_qos3_is_malformed(self):
        self.c.send(m.subscribe(1, [("a", 3)]))
        self.assertEqual(self.c.expect_closed(), [])
        self.b.wait_log(disc_re("s", self.c.local_port(), "malformed packet"))

    def test_overlapping_subscriptions_copy_each(self):
        # allow_duplicate_messages true, the default: one copy per subscription, the literal
        # level first, then '+', then '#' (2.1.2: 32080003...01 then 3006...; 2.0.11 sends one)
        self.c.subscribe("o/#", 0)
        self.c.subscribe("o/+", 1, mid=2)
        with self.b.client("p") as pub:
            pub.publish("o/x", b"x", qos=1)
        first, second = self.c.expect(m.PUBLISH), self.c.expect(m.PUBLISH)
        self.assertEqual([(p.topic, p.qos) for p in (first, second)], [("o/x", 1), ("o/x", 0)])
        self.c.send(m.puback(first.mid))
        self.assertTrue(self.c.no_packet(0.4))


class NoDuplicatesTest(BrokerTest):
    def test_overlapping_subscriptions_one_copy(self):
        b = self.broker("allow_duplicate_messages false")
        c = b.client("s")
        self.addCleanup(c.close)
        c.subscribe("o/#", 0)
        c.subscribe("o/+", 1, mid=2)
        with b.client("p") as pub:
            pub.publish("o/x", b"x", qos=1)
        p = c.expect(m.PUBLISH)
        self.assertEqual((p.topic, p.qos), ("o/x", 1))    # 2.1.2: one copy, QoS 1
        c.send(m.puback(p.mid))
        self.assertTrue(c.no_packet(0.4))


if __name__ == "__main__":
    unittest.main()
