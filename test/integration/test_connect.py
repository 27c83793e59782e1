"""test_connect - CONNECT validation and the CONNACK codes, over raw sockets.

Exact wire bytes for the replies; the log lines are in test_logging.py.
"""

import re
import unittest

import mqtt_raw as m
from broker import BrokerTest, connected_re, disc_re


def wire(p):
    """The packet as it came off the wire (fixed header byte + length + body)."""
    return bytes([p.raw_first]) + m.varint(len(p.body)) + p.body


class ConnectTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def test_accept_311_exact_connack(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        self.assertEqual(wire(c.connect("c311")), b"\x20\x02\x00\x00")
        self.assertEqual(c.ping().body, b"")

    def test_accept_31(self):
        c = self.b.raw(m.V31)
        self.addCleanup(c.close)
        self.assertEqual(wire(c.connect("c31")), b"\x20\x02\x00\x00")
        self.b.wait_log(connected_re("c31", c.local_port(), m.V31, 1, 60))

    def test_accept_v5_with_properties(self):
        c = self.b.raw(m.V5)
        self.addCleanup(c.close)
        ack = c.connect("c5", properties=[(m.P_SESSION_EXPIRY, 30), (m.P_RECEIVE_MAXIMUM, 5),
                                          (m.P_USER_PROPERTY, ("k", "v"))])
        self.assertEqual((ack.raw_first, ack.session_present, ack.rc), (0x20, 0, 0))
        c.ping()

    def test_bad_protocol_name_closes_without_connack(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("bn", proto_name="MQTX"))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re(None, c.local_port(), "protocol error"))

    def test_unsupported_level_311_rc1(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("lvl", proto=6))
        self.assertEqual([wire(p) for p in c.expect_closed()], [b"\x20\x02\x00\x01"])
        self.b.wait_log(r"Invalid protocol version 6 in CONNECT from 127\.0\.0\.1\.")

    def test_mqisdp_with_level_4_rc1(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("lvl", proto=4, proto_name="MQIsdp"))
        self.assertEqual([wire(p) for p in c.expect_closed()], [b"\x20\x02\x00\x01"])

    def test_reserved_connect_flag_is_protocol_error(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("rsv", flags=0x03))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re(None, c.local_port(), "protocol error"))

    def test_zero_length_id_clean0_rc2(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("", clean=False))
        self.assertEqual([wire(p) for p in c.expect_closed()], [b"\x20\x02\x00\x02"])

    def test_zero_length_id_clean1_assigned(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        self.assertEqual(c.connect("", clean=True).rc, 0)
        self.b.wait_log(r"New client connected from 127\.0\.0\.1:%d as auto-[0-9A-F-]{36} "
                        % c.local_port())

    def test_zero_length_id_v5_assigned_client_identifier(self):
        c = self.b.raw(m.V5)
        self.addCleanup(c.close)
        ack = c.connect("")
        self.assertEqual(ack.rc, 0)
        self.assertRegex(ack.props[m.P_ASSIGNED_CLIENT_ID], r"^auto-[0-9A-F-]{36}$")

    def test_second_connect_is_protocol_violation(self):
        c = self.b.client("twice")
        self.addCleanup(c.close)
        c.send(m.connect("twice"))
        self.assertEqual(c.expect_closed(), [])
        self.b.wait_log(disc_re("twice", c.local_port(), "protocol error"))
        self.assert_still_serving(self.b)

    def test_first_packet_not_connect(self):
        for first in (m.pingreq(), m.subscribe(1, [("a", 0)]), m.publish("a", "b")):
            c = self.b.raw()
            self.addCleanup(c.close)
            c.send(first)
            self.assertEqual(c.expect_closed(), [], first)
            self.b.wait_log(disc_re(None, c.local_port(), "protocol error"))

    def test_will_qos3_is_rejected(self):
        c = self.b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("wq3", will_topic="w", will_qos=3))
        self.assertEqual(c.expect_closed(), [])


class ConnectConfigTest(BrokerTest):
    def test_auto_id_prefix(self):
        b = self.broker("auto_id_prefix gen-")
        c = b.raw()
        self.addCleanup(c.close)
        self.assertEqual(c.connect("").rc, 0)
        b.wait_log(r"as gen-[0-9A-F-]{36} \(p4, c1, k60\)\.")

    def test_allow_zero_length_clientid_false(self):
        b = self.broker(listener_config="allow_zero_length_clientid false")
        c = b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("", clean=True))
        self.assertEqual([wire(p) for p in c.expect_closed()], [b"\x20\x02\x00\x02"])
        c5 = b.raw(m.V5)
        self.addCleanup(c5.close)
        c5.send(m.connect("", proto=m.V5))
        got = c5.expect_closed()
        # Mosquitto answers 0x80 (unspecified error) here, not 0x85 (client id not valid).
        self.assertEqual([(p.type, p.rc) for p in got], [(m.CONNACK, 0x80)])

    def test_clientid_prefixes(self):
        b = self.broker("clientid_prefixes sec-")
        c = b.raw()
        self.addCleanup(c.close)
        c.send(m.connect("other"))
        # Mosquitto treats a missing prefix as an authorisation failure: rc 5, not rc 2.
        self.assertEqual([wire(p) for p in c.expect_closed()], [b"\x20\x02\x00\x05"])
        ok = b.client("sec-1")
        self.addCleanup(ok.close)
        ok.ping()

    def test_use_username_as_clientid(self):
        b = self.broker(listener_config="use_username_as_clientid true")
        c = b.client("given-id", username="bob")
        self.addCleanup(c.close)
        b.wait_log(connected_re("bob", c.local_port(), m.V311, 1, 60, "bob"))
        self.assertFalse(re.search(r"as given-id ", b.log_text()))


if __name__ == "__main__":
    unittest.main()
