"""test_proxy_tls.py - what a v2 header says about TLS and how listener policy uses it:
proxy_protocol_v2_require_tls, require_certificate, use_identity_as_username (semantics
reference §3.2-§3.3, §5, §8 ssl-* tests, §9 items 2, 3, 9, 10, 15)."""

import unittest

from proxy_fixture import (T_SSL, Broker, BrokerTestCase, S_CN, S_VERSION, mqtt_connect,
                           open_conn, read_connack, ssl_tlv, tlv, v2, vector_header, wait_closed)

OK_LOG = "New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42)."
NOT_TLS = "Connection from 192.0.2.5:6275 rejected, client did not connect using TLS."
NO_CERT = "Connection from 192.0.2.5:6275 rejected, client did not provide a certificate."

# 21-proxy-v2-ssl-require-tls-success: AUTHORITY 'pqrst' + SSL(client 0x05, verify 0, TLSv1.3)
TLS_OK = v2(tlvs=tlv(0x02, "pqrst") + ssl_tlv(0x05, 0, version="TLSv1.3"))
# 21-proxy-v2-ssl-require-cert-failure (1)-(3)
CERT_FAILURES = {
    "no TLVs": v2(),
    "client 0x01 verify 1": v2(tlvs=ssl_tlv(0x01, 1, version="TLSv1.3")),
    "client 0x01 verify 0": v2(tlvs=ssl_tlv(0x01, 0, version="TLSv1.3")),
}
BAD_CN = "CONNACK bad username or password"


class RequireTls(BrokerTestCase):
    LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true")

    def test_success(self):
        self.assert_success(TLS_OK, log=OK_LOG)

    def test_failure_no_tlvs(self):
        self.assert_closed(v2() + mqtt_connect())
        self.wait_log(NOT_TLS)

    def test_plaintext_ssl_tlv_rejected(self):
        # what HAProxy sends for a plaintext client with send-proxy-v2-ssl (§9 item 2)
        self.assert_closed(v2(tlvs=ssl_tlv(0x00, 0)) + mqtt_connect())
        self.wait_log(NOT_TLS)

    def test_cert_bits_without_ssl_bit_rejected(self):
        self.assert_closed(v2(tlvs=ssl_tlv(0x06, 0, version="TLSv1.3")) + mqtt_connect())
        self.wait_log(NOT_TLS)

    def test_server_cert_only_accepted(self):
        self.assert_success(v2(tlvs=ssl_tlv(0x01, 0, version="TLSv1.3")), log=OK_LOG)

    def test_captured_vectors(self):
        for name, ok in (("v2-tls-server-cert-only", True), ("v2-mtls-ssl", True),
                         ("v2-tcp-ipv4", False), ("v2-tls-alpn-send-proxy-v2", False),
                         ("v2-ssl-cn-on-plain-frontend", False)):
            with self.subTest(name):
                if ok:
                    self.assert_success(vector_header(name), client_id="c-" + name)
                else:
                    self.assert_closed(vector_header(name) + mqtt_connect())
        self.wait_log("rejected, client did not connect using TLS.", count=3)

    def test_local_health_check_still_silent(self):
        self.assert_closed(vector_header("check-v2-ssl-cn"))
        self.assert_no_line("rejected")


class RequireCertificate(BrokerTestCase):
    LISTENER = ("enable_proxy_protocol 2", "require_certificate true")

    def test_success(self):
        self.assert_success(TLS_OK, log=OK_LOG)

    def test_failures(self):
        for name, h in CERT_FAILURES.items():
            with self.subTest(name):
                self.assert_closed(h + mqtt_connect())
        self.wait_log(NO_CERT, count=3)

    def test_cert_conn_alone_counts(self):
        # §9 item 3: CERT_CONN without CERT_SESS is a certificate too
        self.assert_success(v2(tlvs=ssl_tlv(0x03, 0, version="TLSv1.3")), log=OK_LOG)

    def test_cert_bits_without_ssl_bit(self):
        self.assert_closed(v2(tlvs=ssl_tlv(0x06, 0)) + mqtt_connect())
        self.wait_log("rejected, client did not")

    def test_unverified_certificate(self):
        # HAProxy with ca-ignore-err: CN of an unverified certificate, verify 21
        self.assert_closed(v2(tlvs=ssl_tlv(0x07, 21, version="TLSv1.3", cn="client-rogue"))
                           + mqtt_connect())
        self.wait_log(NO_CERT)

    def test_captured_vectors(self):
        for name, ok in (("v2-mtls-ssl", True), ("v2-mtls-ssl-cn", True),
                         ("v2-mtls-ssl-cn-resumed", True), ("v2-mtls-all-tlvs", True),
                         ("v2-tls-server-cert-only", False), ("v2-optional-no-cert", False),
                         ("v2-optional-wrong-ca-ignore-err", False),
                         ("v2-ssl-cn-on-plain-frontend", False), ("v2-tcp-ipv4", False)):
            with self.subTest(name):
                if ok:
                    self.assert_success(vector_header(name), client_id="c-" + name)
                else:
                    self.assert_closed(vector_header(name) + mqtt_connect())

    def test_duplicate_ssl_tlv_rejected(self):
        # §9 item 9: a second SSL TLV cannot add or change facts
        h = v2(tlvs=ssl_tlv(0x01, 0, version="TLSv1.3") + ssl_tlv(0x05, 0, version="TLSv1.3"))
        self.assert_closed(h + mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.")


class CommonName(BrokerTestCase):
    """use_identity_as_username; allow_anonymous false: a verified CN is an identity (§9
    item 15), CONNECT's username and password are discarded."""
    GLOBAL = ("allow_anonymous false",)
    LISTENER = ("enable_proxy_protocol 2", "require_certificate true",
                "use_identity_as_username true")

    def connack(self, header, **kw):
        s = self.conn()
        s.sendall(header + mqtt_connect(**kw))
        return s, read_connack(s)

    def test_success(self):
        h = v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cn="ppppppp"))
        s, rc = self.connack(h, username="none", password="pw")
        self.assertEqual(rc, 0)
        self.wait_log("New client connected from 192.0.2.5:6275 as proxy-test "
                      "(p5, c0, k42, u'ppppppp').")

    def test_failures_before_connack(self):
        for name, h in CERT_FAILURES.items():
            with self.subTest(name):
                self.assert_closed(h + mqtt_connect())
        self.wait_log(NO_CERT, count=3)

    def check_bad_username(self, header):
        s = self.conn()
        s.sendall(header + mqtt_connect())
        try:
            rc = read_connack(s)
        except Exception:
            rc = None      # a close without CONNACK is tolerated (upstream test does too)
        self.assertIn(rc, (0x86, None), BAD_CN)
        self.assertEqual(wait_closed(s, 5), b"")
        self.wait_log("Client proxy-test [192.0.2.5:6275] disconnected")

    def test_no_cn(self):
        self.check_bad_username(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3")))

    def test_empty_cn(self):
        # §9 item 10: an empty CN is no CN
        self.check_bad_username(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cn="")))

    def test_no_cn_mqtt311(self):
        s = self.conn()
        s.sendall(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3")) + mqtt_connect(proto=4))
        try:
            rc = read_connack(s)
        except Exception:
            rc = None
        self.assertIn(rc, (4, None), BAD_CN)

    def test_duplicate_cn_rejected(self):
        # §9 item 9: two CN sub-TLVs would let the last one win upstream
        h = v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cn="first",
                            subs=tlv(S_CN, "second")))
        self.assert_closed(h + mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.")
        self.assert_no_line("u'second'", "u'first'")

    def test_duplicate_ssl_tlv_rejected(self):
        h = v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cn="a")
               + ssl_tlv(0x05, 0, version="TLSv1.3", cn="b"))
        self.assert_closed(h + mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.")

    def test_unverified_cn_not_used(self):
        self.assert_closed(vector_header("v2-optional-wrong-ca-ignore-err") + mqtt_connect())
        self.assert_no_line("u'client-rogue'")

    def test_captured_cn(self):
        for name in ("v2-mtls-ssl-cn", "v2-mtls-ssl-cn-resumed", "v2-mtls-all-tlvs-tls12"):
            with self.subTest(name):
                cid = "c-" + name
                s, rc = self.connack(vector_header(name), client_id=cid, username="from-connect")
                self.assertEqual(rc, 0)
                self.assertIn("u'client-one'", self.wait_log("as %s (" % cid)[0])
                s.close()


class CommonNameWithoutRequireCertificate(unittest.TestCase):
    """use_identity_as_username without require_certificate: upstream starts and ignores the CN
    (§5); refusing to start is also acceptable. Never may the unverified CN become the user."""

    def test_refused_or_cn_ignored(self):
        b = Broker(["enable_proxy_protocol 2", "use_identity_as_username true"])
        try:
            b.start()
        except AssertionError:
            # start() returns only once listening, or fails when the broker exits
            self.assertIsNotNone(b.proc.poll(), "broker neither started nor exited")
            self.assertNotEqual(b.proc.returncode, 0)
            self.assertIn("use_identity_as_username", b.output())
            return
        try:
            s = open_conn(b.port)
            s.sendall(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cn="ppppppp"))
                      + mqtt_connect(username="from-connect"))
            self.assertEqual(read_connack(s), 0)
            b.wait_log("as proxy-test (p5, c0, k42, u'from-connect').")
            s.close()
        finally:
            b.stop()


class SslTlvStructure(BrokerTestCase):
    """Structure checks inside PP2_TYPE_SSL apply whatever the policy."""
    LISTENER = ("enable_proxy_protocol 2",)

    def test_unknown_sub_tlvs_skipped(self):
        h = v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3",
                            subs=tlv(0x24, "RSA-SHA256") + tlv(0x25, "RSA2048") + tlv(0x28, "")))
        self.assert_success(h, log=OK_LOG)

    def test_ssl_tlv_4_bytes(self):
        self.assert_closed(v2(tlvs=tlv(T_SSL, b"\x01\0\0\0")) + mqtt_connect())
        self.wait_log("Connection from 192.0.2.5:6275 rejected, corrupt PROXY header.")

    def test_version_sub_tlv_overrun(self):
        self.assert_closed(v2(tlvs=tlv(T_SSL, b"\x01\0\0\0\0" + bytes([S_VERSION, 0, 8])
                                       + b"TLSv1.3")) + mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.")


if __name__ == "__main__":
    unittest.main()
