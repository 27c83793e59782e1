"""test_malformed - protocol violations: each closes that client (v5: DISCONNECT with a reason
code if anything is sent), logs one line naming client and reason, and others keep working."""

import unittest

import mqtt_raw as m
from broker import BrokerTest, disc_re

MALFORMED = "malformed packet"
PROTOCOL = "protocol error"
EITHER = "malformed packet|protocol error"


class MalformedTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def violate(self, data, reason, proto=m.V311, v5_code=None, cid="bad"):
        c = self.b.client(cid, proto=proto)
        self.addCleanup(c.close)
        c.send(data)
        got = c.expect_closed()
        if proto == m.V5 and got:
            self.assertEqual([(p.type, p.rc) for p in got], [(m.DISCONNECT, v5_code)])
        else:
            self.assertEqual(got, [])
        self.b.wait_log(disc_re(cid, c.local_port(), reason))
        self.assert_still_serving(self.b)

    def test_remaining_length_too_long(self):
        self.violate(b"\x30\xff\xff\xff\xff\x01", EITHER)

    def test_remaining_length_too_long_v5(self):
        self.violate(b"\x30\xff\xff\xff\xff\x01", EITHER, proto=m.V5, v5_code=0x81)

    def test_publish_qos3(self):
        self.violate(b"\x36\x04\x00\x01a\x00", MALFORMED)

    def test_subscribe_bad_fixed_header_flags(self):
        self.violate(b"\x80\x06\x00\x01\x00\x01a\x00", MALFORMED)

    def test_pubrel_bad_flags(self):
        self.violate(b"\x60\x02\x00\x01", EITHER)

    def test_bad_utf8_topic(self):
        self.violate(m.publish(b"a\xff", b"x"), MALFORMED)

    def test_nul_in_topic(self):
        self.violate(m.publish(b"a\x00b", b"x"), MALFORMED)

    def test_truncated_subscribe(self):
        self.violate(b"\x82\x03\x00\x01\x00", EITHER)

    def test_subscribe_without_topics(self):
        self.violate(b"\x82\x02\x00\x01", EITHER)

    def test_truncated_connect(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(b"\x10\x04\x00\x04MQ")          # length says 4: the name is cut short
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re(None, c.local_port(), EITHER))
        self.assert_still_serving(self.b)

    def test_packet_before_connect(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.subscribe(1, [("a", 0)]))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re(None, c.local_port(), PROTOCOL))
        self.assert_still_serving(self.b)

    def test_reserved_packet_type_zero(self):
        self.violate(b"\x00\x00", EITHER)

    def test_v5_bad_property(self):
        bad = m.packet(m.PUBLISH, 0, m.mstr("t") + b"\x02\x7f\x00")   # property id 0x7f
        self.violate(bad, EITHER, proto=m.V5, v5_code=0x81)

    def test_half_packet_then_close(self):
        # A close once the fixed header is in, the body not: 2.1.2 logs "disconnected: Success."
        # (recorded in test/differential/scenarios/connect.json, connect/*/truncated-publish);
        # so does 2.0.11 ("Client half disconnected: Success.").
        c = self.b.client("half")
        c.send(b"\x30\x10\x00\x03abc")
        c.close()
        self.b.wait_log(disc_re("half", c.local_port(), "Success"))
        self.assert_still_serving(self.b)


if __name__ == "__main__":
    unittest.main()
