"""test_retain - retained messages: set, replace, clear, delivery flags, retain_available."""

import unittest

import mqtt_raw as m
from broker import BrokerTest


class RetainTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def test_set_and_deliver_on_subscribe(self):
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"kept", qos=1, retain=True)
        with self.b.client("late") as sub:
            sub.subscribe("r/#", 1)
            p = sub.expect(m.PUBLISH)
            self.assertEqual((p.topic, p.payload, p.retain, p.qos), ("r/t", b"kept", 1, 1))

    def test_replace(self):
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"one", retain=True)
            pub.publish("r/t", b"two", qos=1, retain=True)
        with self.b.client("late") as sub:
            sub.subscribe("r/t", 0)
            self.assertEqual(sub.expect(m.PUBLISH).payload, b"two")
            self.assertTrue(sub.no_packet(0.3))

    def test_clear_with_empty_payload(self):
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"kept", qos=1, retain=True)
            pub.publish("r/t", b"", qos=1, retain=True)
        with self.b.client("late") as sub:
            sub.subscribe("r/t", 0)
            self.assertTrue(sub.no_packet(0.4))

    def test_live_delivery_has_retain_clear_311(self):
        sub = self.b.client("live")
        self.addCleanup(sub.close)
        sub.subscribe("r/t", 0)
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"now", qos=1, retain=True)
        p = sub.expect(m.PUBLISH)
        self.assertEqual((p.payload, p.retain), (b"now", 0))

    def test_v5_retain_as_published(self):
        sub = self.b.client("rap", proto=m.V5)
        self.addCleanup(sub.close)
        sub.subscribe("r/t", 0x08)                  # QoS 0 + Retain As Published
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"now", qos=1, retain=True)
        self.assertEqual(sub.expect(m.PUBLISH).retain, 1)

    def test_v5_retain_handling_2_sends_nothing(self):
        with self.b.client("pub") as pub:
            pub.publish("r/t", b"kept", qos=1, retain=True)
        sub = self.b.client("rh2", proto=m.V5)
        self.addCleanup(sub.close)
        sub.subscribe("r/t", 0x20)                  # Retain Handling = 2
        self.assertTrue(sub.no_packet(0.4))


class RetainUnavailableTest(BrokerTest):
    def test_retain_available_false(self):
        b = self.broker("retain_available false")
        c = b.raw(m.V5)
        self.addCleanup(c.close)
        ack = c.connect("r5")
        self.assertEqual(ack.props.get(m.P_RETAIN_AVAILABLE), 0)
        c.send(m.publish("r/t", b"x", retain=True, proto=m.V5))
        self.assertEqual([(p.type, p.rc) for p in c.expect_closed()], [(m.DISCONNECT, 0x9A)])
        with b.client("late") as sub:
            sub.subscribe("r/t", 0)
            self.assertTrue(sub.no_packet(0.3))


if __name__ == "__main__":
    unittest.main()
