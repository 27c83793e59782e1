"""test_publish - PUBLISH at QoS 0/1/2 in both directions, QoS downgrade/upgrade, DUP resend.

Raw sockets only, so every ack is checked byte for byte.
"""

import unittest

import mqtt_raw as m
from broker import BrokerTest, disc_re


def wire(p):
    return bytes([p.raw_first]) + m.varint(len(p.body)) + p.body


class PublishTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def pair(self, sub_qos, topic="p/t", proto=m.V311, **kw):
        sub = self.b.client("sub", proto=proto, **kw)
        self.addCleanup(sub.close)
        sub.subscribe(topic, sub_qos)
        pub = self.b.client("pub", proto=proto)
        self.addCleanup(pub.close)
        return sub, pub

    def test_qos0_exact_bytes(self):
        sub, pub = self.pair(0)
        pub.send(m.publish("p/t", b"hello"))
        self.assertEqual(wire(sub.expect(m.PUBLISH)), b"\x30\x0a\x00\x03p/thello")

    def test_qos1_both_directions(self):
        sub, pub = self.pair(1)
        self.assertEqual(wire(pub.publish("p/t", b"q1", qos=1, mid=7)), b"\x40\x02\x00\x07")
        p = sub.expect(m.PUBLISH)
        self.assertEqual((p.qos, p.dup, p.retain, p.payload), (1, 0, 0, b"q1"))
        self.assertNotEqual(p.mid, 0)
        sub.send(m.puback(p.mid))
        self.assertTrue(sub.no_packet(0.3))

    def test_qos2_both_directions(self):
        sub, pub = self.pair(2)
        pub.send(m.publish("p/t", b"q2", qos=2, mid=9))
        self.assertEqual(wire(pub.expect(m.PUBREC)), b"\x50\x02\x00\x09")
        pub.send(m.pubrel(9))
        self.assertEqual(wire(pub.expect(m.PUBCOMP)), b"\x70\x02\x00\x09")
        p = sub.expect(m.PUBLISH)
        self.assertEqual((p.qos, p.payload), (2, b"q2"))
        sub.send(m.pubrec(p.mid))
        rel = sub.expect(m.PUBREL)
        self.assertEqual(wire(rel), b"\x62\x02" + m.u16(p.mid))
        sub.send(m.pubcomp(p.mid))
        self.assertTrue(sub.no_packet(0.3))

    def test_qos2_duplicate_publish_delivered_once(self):
        sub, pub = self.pair(2)
        pub.send(m.publish("p/t", b"once", qos=2, mid=3))
        pub.expect(m.PUBREC)
        pub.send(m.publish("p/t", b"once", qos=2, mid=3, dup=True))
        pub.expect(m.PUBREC)
        pub.send(m.pubrel(3))
        pub.expect(m.PUBCOMP)
        p = sub.expect(m.PUBLISH)
        sub.send(m.pubrec(p.mid))
        sub.expect(m.PUBREL)
        sub.send(m.pubcomp(p.mid))
        self.assertTrue(sub.no_packet(0.3))

    def test_downgrade_to_subscription_qos(self):
        sub, pub = self.pair(0)
        pub.publish("p/t", b"x", qos=2, mid=1)
        p = sub.expect(m.PUBLISH)
        self.assertEqual((p.qos, p.mid), (0, None))
        sub2, pub2 = self.pair(1, topic="p/u")
        pub2.publish("p/u", b"y", qos=2, mid=2)
        self.assertEqual(sub2.expect(m.PUBLISH).qos, 1)

    def test_publish_with_no_subscribers_v5_puback_0x10(self):
        c = self.b.client("lonely", proto=m.V5)
        self.addCleanup(c.close)
        ack = c.publish("nobody/here", b"x", qos=1, mid=4)
        self.assertEqual((ack.mid, ack.rc), (4, 0x10))

    def test_qos1_mid_zero_is_protocol_error(self):
        c = self.b.client("mid0")
        self.addCleanup(c.close)
        c.send(m.publish("p/t", b"x", qos=1, mid=0))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re("mid0", c.local_port(), "protocol error"))

    def test_wildcard_in_topic_name_is_malformed(self):
        # 2.1.2 answers: closed, "disconnected: malformed packet." (3.1.1; 5.0 DISCONNECT
        # 0x81), recorded in test/differential publish/v311/wildcard-topic-plus
        c = self.b.client("wild")
        self.addCleanup(c.close)
        c.send(m.publish("p/+", b"x"))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re("wild", c.local_port(), "malformed packet"))

    def test_dup_resend_on_reconnect(self):
        sub = self.b.client("dupper", clean=False)
        sub.subscribe("p/d", 1)
        pub = self.b.client("pub")
        self.addCleanup(pub.close)
        pub.publish("p/d", b"again", qos=1, mid=5)
        first = sub.expect(m.PUBLISH)
        self.assertEqual(first.dup, 0)
        sub.close()                                  # no PUBACK: the message stays inflight
        self.b.wait_log(disc_re("dupper", sub.local_port(), "connection closed by client"))
        again = self.b.client("dupper", clean=False)
        self.addCleanup(again.close)
        self.assertEqual(again.connack.session_present, 1)
        p = again.expect(m.PUBLISH)
        self.assertEqual((p.dup, p.mid, p.qos, p.payload), (1, first.mid, 1, b"again"))
        again.send(m.puback(p.mid))
        self.assertTrue(again.no_packet(0.3))


class UpgradeTest(BrokerTest):
    def test_upgrade_outgoing_qos(self):
        b = self.broker("upgrade_outgoing_qos true")
        sub = b.client("sub")
        self.addCleanup(sub.close)
        sub.subscribe("u/t", 2)
        with b.client("pub") as pub:
            pub.publish("u/t", b"up", qos=0)
            p = sub.expect(m.PUBLISH)
        self.assertEqual((p.qos, p.payload), (2, b"up"))


if __name__ == "__main__":
    unittest.main()
