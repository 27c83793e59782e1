"""test_proxy_config.py - PROXY listener options: values the broker must refuse at start-up
(semantics reference §1, §1.1, §9 item 13), the enable_proxy_protocol_v2 alias (§9 item 16),
proxy_protocol_allow_from, unix-socket listeners, and listeners without PROXY."""

import os
import re
import socket
import unittest

from proxy_fixture import (Broker, BrokerTestCase, make_certs, mqtt_connect, open_conn,
                           read_connack, v1, v2, v2_local, wait_closed)

OK_LOG = "New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42)."


class RefuseToStart(unittest.TestCase):
    """Each configuration makes the broker exit non-zero with an error line."""

    def refused(self, listener_lines, expect=None, global_lines=()):
        b = Broker(listener_lines, global_lines, control=False)
        rc, out = b.start_expect_failure()
        self.assertNotEqual(rc, 0, out)
        self.assertRegex(out, r"Error", "no error line in:\n" + out)
        if expect:
            self.assertIn(expect, out)
        return out

    def test_bad_version(self):
        for value in ("0", "3"):
            with self.subTest(value):
                self.refused(["enable_proxy_protocol " + value],
                             "Error: enable_proxy_protocol must be 1 or 2.")

    def test_version_not_a_number(self):
        out = self.refused(["enable_proxy_protocol two"])
        self.assertIn("enable_proxy_protocol", out)

    def test_option_before_listener(self):
        self.refused([], "Error: The 'enable_proxy_protocol' option requires a listener to be "
                     "defined first.", global_lines=["enable_proxy_protocol 2"])

    def test_v2_use_subject_as_username(self):
        self.refused(["enable_proxy_protocol 2", "use_subject_as_username true"],
                     "Error: use_subject_as_username cannot be used with "
                     "`enable_proxy_protocol 2`.")

    def test_v2_certfile_without_keyfile(self):
        # PROXY then TLS is allowed (test_tls.py); half a key pair is not
        self.refused(["enable_proxy_protocol 2", "certfile " + make_certs()["server.crt"]],
                     "Error: Both certfile and keyfile must be provided to enable a TLS "
                     "listener.")

    def test_v2_cafile_only(self):
        self.refused(["enable_proxy_protocol 2", "cafile " + make_certs()["ca.pem"]])

    def test_v1_bad_combinations(self):
        # §9 item 13: v1 carries no TLS facts, so these would fail open or never work
        c = make_certs()
        for extra in (["require_certificate true"],
                      ["require_certificate true", "use_identity_as_username true"],
                      ["use_identity_as_username true"],
                      ["proxy_protocol_v2_require_tls true"],
                      ["use_subject_as_username true"]):
            with self.subTest(extra):
                out = self.refused(["enable_proxy_protocol 1"] + extra)
                opt = extra[0].split()[0]
                self.assertTrue(opt in out or "enable_proxy_protocol" in out, out)

    def test_bad_allow_from(self):
        for value in ("300.0.0.1", "127.0.0.1/33", "::1/129", "not-an-address", "10.0.0.0/",
                      "10.0.0.0/-1"):
            with self.subTest(value):
                self.refused(["enable_proxy_protocol 2", "proxy_protocol_allow_from " + value])

    def test_allow_from_on_unix_listener(self):
        # A unix peer has no address to match: the list could only refuse everyone, so the
        # file is refused instead (the one check, proxy_allowed(), treats both kinds alike).
        b = Broker(["enable_proxy_protocol 2", "proxy_protocol_allow_from 127.0.0.1"],
                   control=False, listener_spec="0 {tmp}/proxy.sock")
        rc, out = b.start_expect_failure()
        self.assertNotEqual(rc, 0, out)
        self.assertIn("Error: proxy_protocol_allow_from cannot be used on a unix socket "
                      "listener", out)

    def test_alias_bad_value(self):
        self.refused(["enable_proxy_protocol_v2 maybe"])


class AliasV2True(BrokerTestCase):
    """enable_proxy_protocol_v2 true is enable_proxy_protocol 2."""
    LISTENER = ("enable_proxy_protocol_v2 true",)

    def test_v2_header_accepted(self):
        self.assert_success(v2(), log=OK_LOG)

    def test_v1_and_plain_rejected(self):
        self.assert_closed(v1() + mqtt_connect())
        self.assert_closed(mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.")


class AliasV2False(BrokerTestCase):
    LISTENER = ("enable_proxy_protocol_v2 false",)

    def test_plain_mqtt(self):
        s = self.conn()
        s.sendall(mqtt_connect(clean=True))
        self.assertEqual(read_connack(s), 0)


class NoProxyListener(BrokerTestCase):
    """Configuration decides, never the bytes: a header on a normal listener is garbage."""

    def test_header_not_parsed(self):
        self.assert_closed(v2() + mqtt_connect())
        self.broker.barrier(self.mark)
        self.assertFalse([l for l in self.lines() if "192.0.2.5" in l])

    def test_require_tls_without_proxy_is_harmless(self):
        b = Broker(["proxy_protocol_v2_require_tls true"]).start()
        try:
            s = open_conn(b.port)
            s.sendall(mqtt_connect(clean=True))
            self.assertEqual(read_connack(s), 0)
            s.close()
        finally:
            b.stop()


def _refusal_rx(ip):
    return r"(%s.*(rejected|not allowed))|((rejected|not allowed).*%s)" % (
        re.escape(ip), re.escape(ip))


class AllowFromSingle(BrokerTestCase):
    """proxy_protocol_allow_from ADDRESS: only that peer may send a header."""
    LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_allow_from 127.0.0.1")

    def test_allowed_peer(self):
        self.assert_success(v2(), log=OK_LOG)

    def test_other_peer_refused(self):
        self.assert_closed(v2() + mqtt_connect(), bind="127.0.0.2")
        self.wait_log(_refusal_rx("127.0.0.2"), regex=True)
        self.assert_no_line("192.0.2.5")

    def test_other_peer_refused_even_silent(self):
        s = self.conn(bind="127.0.0.3")
        self.assertEqual(wait_closed(s, 7), b"")
        self.wait_log(_refusal_rx("127.0.0.3"), regex=True)


class AllowFromPrefix(BrokerTestCase):
    """ADDRESS/PREFIX, given twice: both ranges are allowed."""
    LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_allow_from 127.0.0.2/31",
                "proxy_protocol_allow_from 127.0.1.0/24")

    def success_from(self, bind, cid):
        s = self.conn(bind=bind)
        s.sendall(v2() + mqtt_connect(cid))
        self.assertEqual(read_connack(s), 0)
        self.wait_log("New client connected from 192.0.2.5:6275 as %s " % cid)

    def test_in_ranges(self):
        self.success_from("127.0.0.2", "a2")
        self.success_from("127.0.0.3", "a3")
        self.success_from("127.0.1.77", "a177")

    def test_outside(self):
        for ip in ("127.0.0.1", "127.0.0.4", "127.0.2.1"):
            with self.subTest(ip):
                self.assert_closed(v2() + mqtt_connect(), bind=ip)
                self.wait_log(_refusal_rx(ip), regex=True)


class UnixListener(BrokerTestCase):
    """PROXY on a unix-socket listener (§1.2): HAProxy's `server x unix@PATH send-proxy-v2`."""
    LISTENER_SPEC = "0 {tmp}/mqtt.sock"
    LISTENER = ("enable_proxy_protocol 2",)

    def unix_conn(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(os.path.join(self.broker.tmp, "mqtt.sock"))
        self.socks.append(s)
        return s

    def test_header_over_unix_socket(self):
        s = self.unix_conn()
        s.sendall(v2() + mqtt_connect())
        self.assertEqual(read_connack(s), 0)
        self.wait_log(OK_LOG)

    def test_local_closed(self):
        s = self.unix_conn()
        s.sendall(v2_local())
        self.assertEqual(wait_closed(s, 5), b"")

    def test_missing_header_closed(self):
        s = self.unix_conn()
        s.sendall(mqtt_connect())
        self.assertEqual(wait_closed(s, 7), b"")


if __name__ == "__main__":
    unittest.main()
