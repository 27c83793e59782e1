"""Back-pressure instead of loss: a subscriber that falls behind pauses the publishers that feed
it, so QoS 1/2 messages wait in TCP instead of overflowing max_queued_messages."""
import unittest

import mqtt_raw as m
from broker import BrokerTest

# A tiny queue makes the old behaviour (drop beyond max_queued_messages) show at once.
CONFIG = "max_queued_messages 10\nmax_inflight_messages 5\n"
COUNT = 300


class BackPressureTest(BrokerTest):
    def setUp(self):
        self.b = self.broker(CONFIG)

    def drain(self, sub, count, qos):
        """Reads count PUBLISHes on sub, completing each flow; returns their payloads."""
        got, open_flows = [], 0
        while len(got) < count or open_flows:
            p = sub.read_packet(10)
            self.assertIsNotNone(p, "subscriber lost its connection after %d" % len(got))
            if p.type == m.PUBREL:
                sub.send(m.pubcomp(p.mid))
                open_flows -= 1
                continue
            self.assertEqual(p.type, m.PUBLISH)
            got.append(p.payload)
            if qos == 1:
                sub.send(m.puback(p.mid))
            elif qos == 2:
                sub.send(m.pubrec(p.mid))
                open_flows += 1
        return got

    def flood(self, qos):
        sub = self.b.client("slow", clean=True)
        self.addCleanup(sub.close)
        sub.subscribe("bp/#", qos)
        pub = self.b.client("fast")
        self.addCleanup(pub.close)
        # All PUBLISHes at once, before the subscriber reads anything: 30 times its queue.
        pub.send(b"".join(m.publish("bp/t", b"%05d" % i, qos=qos, mid=i + 1)
                          for i in range(COUNT)))
        got = self.drain(sub, COUNT, qos)
        self.assertEqual(got, [b"%05d" % i for i in range(COUNT)])  # all, in order
        done = 0
        while done < COUNT:
            p = pub.read_packet(10)
            self.assertIsNotNone(p, "publisher lost its connection")
            if qos == 1:
                self.assertEqual(p.type, m.PUBACK)
                done += 1
            elif p.type == m.PUBREC:
                pub.send(m.pubrel(p.mid))
            else:
                self.assertEqual(p.type, m.PUBCOMP)
                done += 1
        self.assertTrue(sub.no_packet(0.3))

    def test_qos1_nothing_lost(self):
        self.flood(1)

    def test_qos2_nothing_lost(self):
        self.flood(2)

    def test_client_publishing_to_itself_does_not_deadlock(self):
        # The paused publisher is its own slow subscriber: its PUBACKs must still be read,
        # or neither side could ever move again.
        c = self.b.client("loop")
        self.addCleanup(c.close)
        c.subscribe("self/#", 1)
        c.send(b"".join(m.publish("self/x", b"%05d" % i, qos=1, mid=i + 1)
                        for i in range(COUNT)))
        payloads, acks = [], 0
        while len(payloads) < COUNT or acks < COUNT:
            p = c.read_packet(10)
            self.assertIsNotNone(p, "connection lost after %d/%d" % (len(payloads), acks))
            if p.type == m.PUBLISH:
                payloads.append(p.payload)
                # our message ids for incoming deliveries are the broker's, distinct space
                c.send(m.puback(p.mid))
            else:
                self.assertEqual(p.type, m.PUBACK)
                acks += 1
        self.assertEqual(payloads, [b"%05d" % i for i in range(COUNT)])


if __name__ == "__main__":
    unittest.main()
