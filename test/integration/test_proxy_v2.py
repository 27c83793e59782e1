"""test_proxy_v2.py - `enable_proxy_protocol 2` listeners fed hand-built v2 headers: the upstream
behaviours of semantics reference §8 (addresses, LOCAL, bad headers, long TLVs, websockets,
cipher log) and our decisions of §9 (CRC32C, UNSPEC, LOCAL with a block, AF_UNIX, <unknown>).
TLS policy (require_tls, certificates, CN) is in test_proxy_tls.py."""

import base64
import hashlib
import os
import struct
import sys
import time
import unittest

from proxy_fixture import (FAM_INET, FAM_INET6, FAM_UNIX, FAM_UNSPEC, LOCAL, T_NOOP, T_SSL,
                           V2_SIG, BrokerTestCase, SysWatcher, addr_block, crc32c, mqtt_connect,
                           read_connack, read_packet, ssl_tlv, tlv, v1, v2, v2_local,
                           vector_dir, vector_header, wait_closed)

OK_LOG = "New client connected from 192.0.2.5:6275 as proxy-test (p5, c0, k42)."


class HeaderBuilders(unittest.TestCase):
    """The fixture's builders reproduce real HAProxy bytes and pass the reference decoder.
    Needs no broker."""

    def setUp(self):
        self.dir = vector_dir()
        self.assertIsNotNone(self.dir, "captured vectors not found (test/vectors/proxy)")

    def captured(self, name):
        with open(os.path.join(self.dir, name + ".bin"), "rb") as f:
            data = f.read()
        if data.startswith(V2_SIG):
            return data[:16 + struct.unpack(">H", data[14:16])[0]]
        return data[:data.index(b"\r\n") + 2]

    def test_same_bytes_as_haproxy(self):
        self.assertEqual(v2(src="127.0.0.2", dst="127.0.0.1", sport=31974, dport=31887,
                            tlvs=ssl_tlv(0x07, 0, version="TLSv1.3", cn="client-one")),
                         self.captured("v2-mtls-ssl-cn"))
        self.assertEqual(v2_local(), self.captured("check-v2"))
        self.assertEqual(v2_local(tlvs=ssl_tlv(0)), self.captured("check-v2-ssl-cn"))
        self.assertEqual(v1(src="127.0.0.2", sport=31980, dport=31892),
                         self.captured("v1-tcp4"))
        self.assertEqual(v1("UNKNOWN"), self.captured("v1-unix-frontend"))

    def test_crc32c_matches_haproxy(self):
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)
        cap = self.captured("v2-mtls-all-tlvs")
        # the captured CRC32C TLV is first after the 12-byte block; rebuild it ourselves
        self.assertEqual(cap[28], 0x03)
        self.assertEqual(v2(block=cap[16:28], tlvs=cap[35:], crc=True), cap)

    def test_reference_decoder_agrees(self):
        # the team's reference decoder is kept beside the vectors in test/vectors/proxy
        self.assertTrue(os.path.exists(os.path.join(self.dir, "decode.py")))
        sys.path.insert(0, self.dir)
        import decode
        good = [v2(), v2(fam=FAM_INET6), v2(fam=FAM_UNIX, src="/tmp/s", dst="/tmp/d"),
                v2(crc=True, tlvs=ssl_tlv(5, version="TLSv1.3", cn="ppppppp", cipher="x")),
                v1(), v1("TCP6", "2001:db8:506:708:900::1", "::1")]
        for h in good:
            r = decode.decode(h)
            self.assertEqual(r["problems"], [], h)
            self.assertEqual(r["header_length"], len(h))
        self.assertIn("CRC32C mismatch", decode.decode(v2(crc=0x12345678))["problems"])


class V2Success(BrokerTestCase):
    """21-proxy-v2-ipv4, -ipv6, -unix (short form), plus the spec AF_UNIX form (§9 item 11)."""
    LISTENER = ("enable_proxy_protocol 2",)

    def test_ipv4(self):
        h = v2(fam=FAM_INET)
        self.assertEqual(h[12:16], b"\x21\x11\x00\x0c")
        self.assertEqual(h[16:], bytes.fromhex("c0000205000000001883") + b"\0\0")
        self.assert_success(h, log=OK_LOG)
        self.assert_no_proxy_peer_line()

    def test_ipv6(self):
        self.assert_success(v2(fam=FAM_INET6), log="New client connected from "
                            "2001:db8:506:708:900::1:6275 as proxy-test (p5, c0, k42).")

    def test_unix_short_form(self):
        h = V2_SIG + b"\x21\x31\x00\x05/path"
        self.assert_success(h, log="New client connected from /path:0 as proxy-test "
                            "(p5, c0, k42).")

    def test_unix_spec_form_216_bytes(self):
        h = v2(fam=FAM_UNIX, src="/run/client.sock", dst="/run/mqtt.sock")
        self.assertEqual(len(h), 16 + 216)
        self.assert_success(h, log="New client connected from /run/client.sock:0 as "
                            "proxy-test (p5, c0, k42).")

    def test_unix_spec_form_zero_destination(self):
        # upstream parsed the zero padding as TLVs and rejected this one
        self.assert_success(v2(fam=FAM_UNIX, src="/a"), log="New client connected from /a:0 "
                            "as proxy-test (p5, c0, k42).")

    def test_unix_spec_form_with_tlv(self):
        h = v2(fam=FAM_UNIX, src="/b", dst="/c", tlvs=tlv(T_NOOP, b"xx"))
        self.assert_success(h, log="New client connected from /b:0 as proxy-test")

    def test_length_exactly_500(self):
        h = v2(tlvs=tlv(T_NOOP, b"\0" * (500 - 12 - 3)))
        self.assertEqual(len(h), 516)
        self.assert_success(h, log=OK_LOG)

    def test_tlvs_skipped(self):
        tl = (tlv(0x01, "mqtt") + tlv(0x02, "localhost") + tlv(0x05, b"u" * 128)
              + tlv(0x30, "ns") + tlv(0xE0, b"custom") + tlv(0xF0, b"") + tlv(T_NOOP, b""))
        self.assert_success(v2(tlvs=tl), log=OK_LOG)

    def test_good_crc32c_accepted(self):
        self.assert_success(v2(crc=True, tlvs=tlv(0x02, "localhost")), log=OK_LOG)

    def test_mqtt_bytes_after_header_in_same_write(self):
        s = self.conn()
        s.sendall(v2() + mqtt_connect() + b"\xc0\x00")
        self.assertEqual(read_connack(s), 0)
        self.assertEqual(read_packet(s)[0], 0xD0)


class V2Local(BrokerTestCase):
    """§9 items 7, 8 (revised): LOCAL is accepted as the specification says and the connection
    goes on with the socket's own addresses, so HAProxy's `option mqtt-chk` (LOCAL, then
    CONNECT) gets its CONNACK. A LOCAL with nothing after it (a layer-4 check) is closed
    without a line, quickly. (2.1.2 closes every LOCAL connection silently.)"""
    LISTENER = ("enable_proxy_protocol 2",)

    def check_silent(self, header):
        t0 = time.monotonic()
        self.assert_closed(header)
        self.assertLess(time.monotonic() - t0, 2.5)     # the window is 1 s; 5 s is too late
        self.assert_no_line("rejected", "error", "Error", "New client", "disconnected",
                            "(null)")
        self.assert_no_proxy_peer_line()

    def socket_address_log(self, s, client_id="proxy-test"):
        port = s.getsockname()[1]
        return "New client connected from 127.0.0.1:%d as %s (p5, c0, k42)." % (port, client_id)

    def test_local_alone_closed_silently(self):
        self.check_silent(V2_SIG + b"\x20\x00\x00\x00")

    def test_local_with_ssl_tlv_alone(self):
        self.check_silent(v2_local(tlvs=ssl_tlv(0)))       # HAProxy's -ssl-cn health check

    def test_local_followed_by_mqtt(self):
        s = self.assert_success(v2_local())
        self.wait_log(self.socket_address_log(s))

    def test_local_with_ipv4_block_uses_socket_address(self):
        s = self.assert_success(v2(cmd=LOCAL, fam=FAM_INET))
        self.wait_log(self.socket_address_log(s))
        self.assert_no_line("192.0.2.5")                    # the block describes nobody

    def test_local_then_refused_connect_is_logged(self):
        s = self.conn()
        s.sendall(v2_local() + mqtt_connect("bad\x00id"))        # client id with a NUL
        wait_closed(s)
        self.wait_log(r"Client \S* \[127\.0\.0\.1:%d\] disconnected" % s.getsockname()[1],
                      regex=True)

    def test_local_then_close_after_connect_is_logged(self):
        s = self.assert_success(v2_local(), client_id="checker")
        port = s.getsockname()[1]
        s.close()
        self.wait_log("Client checker [127.0.0.1:%d] disconnected: connection closed by "
                      "client." % port)


BAD_HEADERS = {
    # the 12 of 21-proxy-v2-bad-header
    "bad last signature byte": v2(sig=V2_SIG[:11] + b"\x0b"),
    "version 3": v2(version=3),
    "command 3": v2(cmd=3),
    "PROXY UNSPEC length 12": v2(fam=FAM_UNSPEC, block=addr_block(FAM_INET)),
    "IPv4 length 11": v2(block=addr_block(FAM_INET)[:11]),
    "IPv4 length 0": v2(block=b""),
    "IPv6 length 11": v2(fam=FAM_INET6, block=addr_block(FAM_INET6)[:11]),
    "IPv6 length 0": v2(fam=FAM_INET6, block=b""),
    "unix length 0": v2(fam=FAM_UNIX, block=b""),
    "SSL TLV of length 1": v2(tlvs=tlv(T_SSL, b"\x05")),
    "SSL TLV overruns header": v2(tlvs=bytes([T_SSL]) + struct.pack(">H", 25) + b"\x05"),
    "CIPHER sub-TLV overruns": v2(tlvs=tlv(T_SSL, b"\x05\0\0\0\0" + b"\x23\x00\x0a" + b"p" * 7)),
}
LONG = {  # 21-proxy-v2-long-tlv: 501 bytes of 'a' as the block
    "IPv4 501": v2(fam=FAM_INET, block=b"a" * 501),
    "IPv6 501": v2(fam=FAM_INET6, block=b"a" * 501),
    "unix 501": v2(fam=FAM_UNIX, block=b"a" * 501),
}
MORE_BAD = {  # our own additions
    "UDP over IPv4": v2(fam=0x12),
    "UDP over IPv6": v2(fam=0x22),
    "unix dgram": v2(fam=0x32, src="/a", dst="/b"),
    "family 4": v2(fam=0x41, block=addr_block(FAM_INET)),
    "transport 3": v2(fam=0x13, block=addr_block(FAM_INET)),
    "version 1 nibble": v2(version=1),
    "plain MQTT instead of a header": mqtt_connect(),
    "v1 line on a v2 listener": v1(),
    "TLV with 2 stray bytes": v2(tlvs=b"\x04\x00"),
    "TLV with 1 stray byte": v2(tlvs=b"\x04"),
    "SSL sub-TLV overruns SSL TLV only": v2(tlvs=tlv(T_SSL, b"\x05\0\0\0\0\x21\x00\x09TLS")
                                         + tlv(T_NOOP, b"123456")),
    "length 65535": v2(block=addr_block(FAM_INET), length=65535),
}


class V2Bad(BrokerTestCase):
    """21-proxy-v2-bad-header, -long-tlv, -lost-connection; §9 items 4, 6, 14."""
    LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_timeout 2")

    def each_closed(self, table):
        for name, h in table.items():
            with self.subTest(name):
                self.assert_closed(h + mqtt_connect())

    def test_bad_headers(self):
        self.each_closed(BAD_HEADERS)

    def test_long_tlv(self):
        self.each_closed(LONG)

    def test_more_bad_headers(self):
        self.each_closed(MORE_BAD)

    def test_bad_crc32c_rejected(self):
        h = v2(crc=True, tlvs=tlv(0x02, "localhost"))
        bad = h[:-1] + bytes([h[-1] ^ 0x01])   # corrupt a byte the CRC covers
        self.assert_closed(bad + mqtt_connect())
        self.assert_closed(v2(crc=0) + mqtt_connect())
        self.wait_log("rejected, corrupt PROXY header.", count=2)

    def test_corrupt_tlv_logs_address(self):
        self.assert_closed(v2(tlvs=tlv(T_SSL, b"\x05")) + mqtt_connect())
        self.wait_log("Connection from 192.0.2.5:6275 rejected, corrupt PROXY header.")

    def test_unspec_logged_as_corrupt_or_unsupported(self):
        self.assert_closed(v2(fam=FAM_UNSPEC, block=b"") + mqtt_connect())
        self.wait_log(r"(corrupt|unsupported) PROXY header", regex=True)
        self.assert_no_line("out of memory")

    def test_unknown_instead_of_null(self):
        self.assert_closed(v2(sig=V2_SIG[:11] + b"\x0b") + mqtt_connect())
        self.wait_log("Connection from <unknown> rejected, corrupt PROXY header.")
        self.each_closed(BAD_HEADERS)
        self.assert_no_line("(null)")

    def test_lost_connection(self):
        # header says 15 bytes follow, 12 are sent, then the peer goes away
        s = self.conn()
        s.sendall(v2(block=addr_block(FAM_INET), length=15))
        s.close()
        self.broker.barrier(self.mark)
        self.assert_success(v2(), log=OK_LOG)

    def test_nothing_logged_as_new_connection(self):
        self.each_closed({"ipv4 0": v2(block=b"")})
        self.assert_no_proxy_peer_line()


class V2Cipher(BrokerTestCase):
    """21-proxy-v2-ssl-cipher."""
    LISTENER = ("enable_proxy_protocol 2",)

    def test_cipher_logged(self):
        h = v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3", cipher="pqrstuv"))
        self.assert_success(h, log=OK_LOG)
        self.wait_log("Connection from 192.0.2.5:6275 negotiated TLSv1.3 cipher pqrstuv")

    def test_no_cipher_line_without_cipher(self):
        self.assert_success(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3")), log=OK_LOG)
        self.assert_no_line("negotiated")


class V2Websockets(BrokerTestCase):
    """21-proxy-v2-websockets: header, then the HTTP upgrade, then MQTT in frames."""
    LISTENER = ("protocol websockets", "enable_proxy_protocol 2")

    def test_websockets(self):
        key = "1JaITHdgDZVd/4OE2AzTTA=="
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.assertEqual(accept, "Ako91O0lxiq8gN0+b9YCijMx8lk=")
        req = ("GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: mqtt\r\nOrigin: http://localhost\r\n\r\n" % key)
        s = self.conn()
        s.sendall(v2() + req.encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = s.recv(4096)
            self.assertTrue(chunk, "closed during the upgrade: %r" % resp)
            resp += chunk
        head, rest = resp.split(b"\r\n\r\n", 1)
        head = head.decode().lower()
        self.assertIn(" 101 ", head.splitlines()[0])
        self.assertIn("sec-websocket-accept: " + accept.lower(), head)
        self.assertIn("sec-websocket-protocol: mqtt", head)
        payload = mqtt_connect()
        mask = b"\x11\x22\x33\x44"
        frame = bytes([0x82, 0x80 | len(payload)]) + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(payload))
        s.sendall(frame)
        while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
            chunk = s.recv(4096)
            self.assertTrue(chunk, "closed before the CONNACK frame")
            rest += chunk
        self.assertEqual(rest[0], 0x82)
        body = rest[2:2 + (rest[1] & 0x7F)]
        self.assertEqual(body[0], 0x20)
        self.assertEqual(body[3], 0)                     # CONNACK reason: success
        self.wait_log("New client connected from 192.0.2.5:6275")


class V2Captured(BrokerTestCase):
    """Headers exactly as HAProxy 2.6 sent them (proxy-vectors), plain v2 listener (§7 "A")."""
    LISTENER = ("enable_proxy_protocol 2",)

    def test_captured_accepted(self):
        for name, addr in (("v2-tcp-ipv4", "127.0.0.2:31970"), ("v2-tcp-ipv6", "::1:"),
                           ("v2-tls-alpn-send-proxy-v2", "127.0.0.2:"),
                           ("v2-tls-server-cert-only", "127.0.0.2:"),
                           ("v2-mtls-ssl", "127.0.0.2:"), ("v2-mtls-ssl-cn", "127.0.0.2:"),
                           ("v2-mtls-ssl-cn-resumed", "127.0.0.2:"),
                           ("v2-optional-wrong-ca-ignore-err", "127.0.0.2:"),
                           ("v2-optional-no-cert", "127.0.0.2:"),
                           ("v2-ssl-cn-on-plain-frontend", "127.0.0.2:"),
                           ("v2-mtls-all-tlvs", "127.0.0.2:"),
                           ("v2-mtls-all-tlvs-tls12", "127.0.0.2:")):
            with self.subTest(name):
                cid = "cap-" + name
                s = self.assert_success(vector_header(name), client_id=cid)
                line = self.wait_log("as %s (" % cid)[0]
                self.assertIn("New client connected from " + addr, line)
                s.close()

    def test_captured_health_checks_silent(self):
        for name in ("check-v2", "check-v2-ssl-cn", "v2-unix-frontend"):
            with self.subTest(name):
                self.assert_closed(vector_header(name))
        self.assert_no_line("rejected", "error", "New client")


class V2Sys(BrokerTestCase):
    """$SYS/broker/proxy/... counters, published every sys_interval."""
    GLOBAL = ("sys_interval 1",)
    LISTENER = ("enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true",
                "require_certificate true", "proxy_protocol_timeout 1",
                "proxy_protocol_allow_from 127.0.0.1")

    def test_counters(self):
        w = SysWatcher(self.broker)
        try:
            self.assert_success(v2(tlvs=ssl_tlv(0x05, 0, version="TLSv1.3")), log=OK_LOG)
            self.assert_closed(v2(sig=V2_SIG[:11] + b"\x0b"))           # corrupt
            self.assert_closed(v2() + mqtt_connect())                    # not TLS
            self.assert_closed(v2(tlvs=ssl_tlv(0x01, 0, version="TLSv1.3")))  # no certificate
            self.assert_closed(v2(), bind="127.0.0.2")                   # not allowed
            self.assert_closed(v2_local())                               # health check
            s = self.conn()                                              # silent: timeout
            self.assertEqual(wait_closed(s, 5), b"")
            p = "$SYS/broker/proxy/"
            w.wait(p + "headers/accepted", lambda v: v >= 1)
            for name, n in (("rejected/corrupt", 1), ("rejected/not_tls", 1),
                            ("rejected/no_certificate", 1), ("rejected/not_allowed", 1),
                            ("health_checks", 1), ("timeouts", 1)):
                with self.subTest(name):
                    w.wait(p + name, lambda v, n=n: v == n)
        finally:
            w.close()


if __name__ == "__main__":
    unittest.main()
