"""test_options21 - the Mosquitto 2.1 options that configs already use, with their real meaning:
accept_protocol_versions, listener_allow_anonymous, listener_auto_id_prefix, global_max_clients,
global_max_connections, websockets_origin. Each expected answer was observed on 2.1.2."""

import socket
import unittest

import mqtt_raw as m
from broker import Broker, BrokerTest, free_port


def wire(p):
    return bytes([p.raw_first]) + m.varint(len(p.body)) + p.body


class AcceptProtocolVersionsTest(BrokerTest):
    def test_only_listed_versions_connect(self):
        b = self.broker(listener_config="accept_protocol_versions 4, 5")
        c = b.raw(m.V31)
        self.addCleanup(c.close)
        c.send(m.connect("v3", proto=m.V31))
        self.assertEqual(wire(c.expect(m.CONNACK)).hex(), "20020001")   # 2.1.2: 20020001
        self.assertIsNone(c.read_packet())                              # 2.1.2: then closed
        # 2.1.2: "Client <id> [...] disconnected: used disallowed feature (QoS too high, retain
        # not supported, or bad AUTH method)."
        b.wait_log(r"disconnected: used disallowed feature")
        b.client("v4").close()                                          # 2.1.2: accepted
        b.client("v5", proto=m.V5).close()                              # 2.1.2: accepted

    def test_v5_refused_with_0x84(self):
        b = self.broker(listener_config="accept_protocol_versions 3 4")
        c = b.raw(m.V5)
        self.addCleanup(c.close)
        ack = c.connect("v5", proto=m.V5)
        self.assertEqual((ack.rc, c.read_packet()), (0x84, None))

    def test_needs_a_listener_and_a_value(self):
        for text, err in (("accept_protocol_versions 4\n", "requires a listener to be defined "
                           "first"),                                    # 2.1.2: same words
                          ("listener %d\naccept_protocol_versions\n" % free_port(),
                           "Empty 'accept_protocol_versions' value"),   # 2.1.2: same words
                          ("listener %d\naccept_protocol_versions 6\n" % free_port(),
                           "Invalid 'accept_protocol_versions' value (6)")):  # 2.1.2 accepts
            with self.subTest(text):
                b = Broker(text, listener=False)
                self.addCleanup(b.cleanup)
                b.start(wait=False)
                self.assertEqual(b.wait_exit(), 3)
                self.assertIn(err, b.output())


class ListenerSecurityTest(BrokerTest):
    def test_listener_allow_anonymous_wins(self):
        other = free_port()
        b = self.broker("allow_anonymous false", anonymous=None,
                        listener_config="listener_allow_anonymous true\nlistener %d 127.0.0.1\n"
                        % other)
        b.client("anon").close()                       # 2.1.2: accepted on this listener
        c = m.Conn(other)
        self.addCleanup(c.close)
        self.assertEqual(c.connect("anon2").rc, 5)     # 2.1.2: not authorised elsewhere

    def test_listener_auto_id_prefix(self):
        b = self.broker(listener_config="listener_auto_id_prefix lp-")
        c = b.raw(m.V5)
        self.addCleanup(c.close)
        ack = c.connect("", proto=m.V5)
        self.assertRegex(ack.props[m.P_ASSIGNED_CLIENT_ID], r"^lp-")    # 2.1.2: lp-<uuid>


class GlobalLimitsTest(BrokerTest):
    def test_global_max_clients(self):
        b = self.broker("global_max_clients 2")
        c1 = b.client("c1", proto=m.V5)
        self.addCleanup(c1.close)
        c2 = b.client("c2", proto=m.V5)
        self.addCleanup(c2.close)
        c3 = b.raw(m.V5)
        self.addCleanup(c3.close)
        self.assertEqual(wire(c3.connect("c3", proto=m.V5)).hex(), "2003008900")  # 2.1.2
        self.assertIsNone(c3.read_packet())
        c4 = b.raw()
        self.addCleanup(c4.close)
        c4.send(m.connect("c4"))
        self.assertIsNone(c4.read_packet())            # 2.1.2: 3.1.1 closed, no CONNACK
        again = b.client("c2", proto=m.V5)             # a takeover adds nobody: accepted
        self.addCleanup(again.close)
        c1.disconnect()
        b.wait_log(r"Client c1 \[127\.0\.0\.1:\d+\] disconnected\.")
        b.client("c5").close()                         # room again

    def test_global_max_connections(self):
        b = self.broker("global_max_connections 2")
        c1 = b.client("c1")
        self.addCleanup(c1.close)
        c2 = b.raw()
        self.addCleanup(c2.close)
        c2.send(m.connect("c2"))
        c2.expect(m.CONNACK)
        c3 = b.raw()
        self.addCleanup(c3.close)
        self.assertIsNone(c3.read_packet())            # 2.1.2: closed at once
        # 2.1.2: "Client connection from 127.0.0.1 denied: max_connections exceeded."
        b.wait_log(r"Client connection from 127\.0\.0\.1 denied: max_connections exceeded\.")


class WebsocketsOriginTest(BrokerTest):
    def upgrade(self, port, origin):
        s = socket.create_connection(("127.0.0.1", port), 5)
        self.addCleanup(s.close)
        hdr = "Origin: %s\r\n" % origin if origin else ""
        s.sendall(("GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade"
                   "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13"
                   "\r\nSec-WebSocket-Protocol: mqtt\r\n%s\r\n" % hdr).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n")[0]

    def test_origin_list(self):
        ws = free_port()
        b = self.broker(listener_config="listener %d 127.0.0.1\nprotocol websockets\n"
                        "websockets_origin http://good.example\n"
                        "websockets_origin http://also.example" % ws)
        b.wait_ready(port=ws)
        # 2.1.2: 101 for each listed origin and for no Origin header at all
        for origin in ("http://good.example", "http://also.example", None):
            self.assertEqual(self.upgrade(ws, origin), b"HTTP/1.1 101 Switching Protocols")
        # 2.1.2: no answer, closed, "disconnected: non-matching http origin."
        self.assertEqual(self.upgrade(ws, "http://bad.example"), b"")
        b.wait_log(r"disconnected: non-matching http origin\.")


if __name__ == "__main__":
    unittest.main()
