"""test_proxy_v1.py - `enable_proxy_protocol 1` listeners fed v1 text lines: upstream's
21-proxy-v1-success and 21-proxy-v1-bad (semantics reference §4, §8) and our spec-strict
decisions (§9 items 5 and 12). Split lines and timeouts are in test_proxy_robustness.py."""

import unittest

from proxy_fixture import BrokerTestCase, mqtt_connect, read_connack, v1, v2, vector_header

CORRUPT = "rejected, corrupt PROXY header."


def _bad_lines():
    """The 22 lines of 21-proxy-v1-bad."""
    lines = [b"PROXY TCP3 192.0.2.5 127.0.0.1 6275 1234\r\n",
             b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234" + b" " * 70 + b"\r\n"]
    for proto in ("TCP4", "TCP6"):
        for fields in (("192.0.2.5", "127.0.0.1", "6275"),             # no dport
                       ("192.0.2.5", "127.0.0.1", "1234"),             # no sport
                       ("192.0.2.5", "6275", "1234"),                  # no daddr
                       ("127.0.0.1", "6275", "1234"),                  # no saddr
                       ("192.0.2.5", "127.0.0.1", "0", "1234"),
                       ("192.0.2.5", "127.0.0.1", "6275", "0"),
                       ("192.0.2.5", "127.0.0.1", "65536", "1234"),
                       ("192.0.2.5", "127.0.0.1", "6275", "65536"),
                       ("192.0.2.5", "127.0.0.256", "6275", "1234"),
                       ("192.0.2.256", "127.0.0.1", "6275", "1234")):
            lines.append(("PROXY %s %s\r\n" % (proto, " ".join(fields))).encode())
    assert len(lines) == 22
    return lines


class V1Success(BrokerTestCase):
    """21-proxy-v1-success and §9 item 5."""
    LISTENER = ("enable_proxy_protocol 1",)

    def test_tcp4(self):
        h = b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n"
        self.assertEqual(h, v1())
        self.assert_success(h, log="New client connected from 192.0.2.5:6275 as proxy-test "
                            "(p5, c0, k42).")
        self.assert_no_proxy_peer_line()

    def test_tcp6(self):
        h = b"PROXY TCP6 2001:db8:506:708:900::1 ::1 6275 1234\r\n"
        self.assert_success(h, log="New client connected from 2001:db8:506:708:900::1:6275 "
                            "as proxy-test (p5, c0, k42).")

    def test_unknown_with_space(self):
        self.assert_success(b"PROXY UNKNOWN \r\n",
                            log="New client connected from 127.0.0.1:")

    def test_unknown_short_form(self):
        # exactly what HAProxy sends for a client on a unix socket (§9 item 5)
        self.assertEqual(vector_header("v1-unix-frontend"), b"PROXY UNKNOWN\r\n")
        self.assert_success(b"PROXY UNKNOWN\r\n", log="New client connected from 127.0.0.1:")

    def test_unknown_with_addresses(self):
        self.assert_success(b"PROXY UNKNOWN 192.0.2.5 127.0.0.1 6275 1234\r\n",
                            log="New client connected from 127.0.0.1:")

    def test_longest_legal_line_107(self):
        h = b"PROXY UNKNOWN " + b"f" * (107 - 16) + b"\r\n"
        self.assertEqual(len(h), 107)
        self.assert_success(h, log="New client connected from 127.0.0.1:")

    def test_longest_tcp6_line(self):
        a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        h = ("PROXY TCP6 %s %s 65535 65535\r\n" % (a, a)).encode()
        self.assertEqual(len(h), 104)
        self.assert_success(h, log="New client connected from %s:65535" % a)

    def test_captured_haproxy_lines(self):
        for name, addr in (("v1-tcp4", "127.0.0.2:31980"), ("v1-tcp6", "::1:31981"),
                           ("check-v1", "127.0.0.1:59938")):
            with self.subTest(name):
                cid = "c-" + name
                s = self.assert_success(vector_header(name), client_id=cid)
                self.assertIn("New client connected from " + addr,
                              self.wait_log("as %s (" % cid)[0])
                s.close()

    def test_mqtt311_after_header(self):
        s = self.conn()
        s.sendall(v1() + mqtt_connect("v311", proto=4, clean=True))
        self.assertEqual(read_connack(s), 0)
        # Mosquitto prints its own protocol enum: p2 is MQTT 3.1.1 (p5 is MQTT 5)
        self.wait_log("New client connected from 192.0.2.5:6275 as v311 (p4, c1, k42).")


class V1Bad(BrokerTestCase):
    """21-proxy-v1-bad, §9 item 12 (spec-strict) and other malformed lines."""
    LISTENER = ("enable_proxy_protocol 1", "proxy_protocol_timeout 2")

    def each_closed(self, lines):
        for line in lines:
            with self.subTest(line=line):
                self.assert_closed(line + mqtt_connect())

    def test_upstream_bad_lines(self):
        lines = _bad_lines()
        self.each_closed(lines)
        self.wait_log(CORRUPT, count=len(lines))

    def test_strict_spaces_and_zeroes(self):
        lines = [b"PROXY TCP4  192.0.2.5 127.0.0.1 6275 1234\r\n",       # two spaces
                 b"PROXY TCP4 192.0.2.5 127.0.0.1  6275 1234\r\n",
                 b"PROXY  TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n",
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234 \r\n",       # trailing space
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 06275 1234\r\n",       # leading zero port
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 01234\r\n",
                 b"PROXY TCP4 192.0.2.05 127.0.0.1 6275 1234\r\n",       # leading zero octet
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234 99\r\n",     # extra field
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 +6275 1234\r\n",
                 b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 -1\r\n",
                 b"proxy TCP4 192.0.2.5 127.0.0.1 6275 1234\r\n",
                 b"PROXY tcp4 192.0.2.5 127.0.0.1 6275 1234\r\n",
                 b"PROXY TCP4 192.0.2.5\t127.0.0.1 6275 1234\r\n",
                 b"PROXY TCP6 ::1 ::1::1 6275 1234\r\n",
                 b"PROXY TCP6 192.0.2.5 ::1 6275 1234\r\n",
                 b"PROXY TCP4 ::1 127.0.0.1 6275 1234\r\n",
                 b"PROXY TCP4 192.0.2 127.0.0.1 6275 1234\r\n",
                 b"PROXY\r\n",
                 b"PROXY \r\n"]
        self.each_closed(lines)
        self.wait_log(CORRUPT, count=len(lines))

    def test_108_byte_line_rejected(self):
        h = b"PROXY UNKNOWN " + b"f" * (108 - 16) + b"\r\n"
        self.assertEqual(len(h), 108)
        self.each_closed([h])
        self.wait_log(CORRUPT)

    def test_no_line_end_in_107_bytes(self):
        self.each_closed([b"PROXY UNKNOWN " + b"f" * 200])

    def test_v2_header_on_v1_listener(self):
        self.each_closed([v2()])
        self.wait_log(CORRUPT)

    def test_plain_mqtt_on_v1_listener(self):
        self.assert_closed(mqtt_connect())

    def test_lone_lf_or_cr(self):
        self.each_closed([b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\n",
                          b"PROXY TCP4 192.0.2.5 127.0.0.1 6275 1234\r",
                          b"PROXY TCP4 192.0.2.5 127.0.0.1\r\n6275 1234\r\n"])

    def test_no_null_in_log(self):
        self.each_closed(_bad_lines()[:3])
        self.assert_no_line("(null)")


if __name__ == "__main__":
    unittest.main()
