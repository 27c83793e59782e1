"""test_websockets - `protocol websockets` listeners: paho over websockets against plain TCP
clients, large payloads, log lines, closes from either side and shutdown with clients connected.

A raw websocket client (WsConn, below) checks what paho hides: close frames, frames that do not
line up with MQTT packets, the subprotocol answer.
"""

import base64
import hashlib
import os
import queue
import socket
import struct
import threading
import time
import unittest

import mqtt_raw as m
from broker import BrokerTest, connected_re, disc_re, free_port, paho

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsConn(m.Conn):
    """mqtt_raw.Conn over websocket frames: send() wraps bytes in masked binary frames, reads
    unwrap the server's frames into the byte stream the MQTT reader works on."""

    def __init__(self, port, subprotocol="mqtt", timeout=5.0, early=b"", sock=None):
        super().__init__(port, timeout=timeout, sock=sock)
        self.raw = b""              # bytes read, not yet a whole frame
        self.close_frame = None     # (code, reason) once the server sent one
        key = base64.b64encode(os.urandom(16)).decode()
        req = "GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" \
              "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % key
        if subprotocol is not None:
            req += "Sec-WebSocket-Protocol: %s\r\n" % subprotocol
        # early: frames sent with the request, before the 101 (they reach the broker in the
        # read that it hands to libwebsockets together with the socket)
        self.sock.sendall((req + "\r\n").encode() + early)
        resp = b""
        while b"\r\n\r\n" not in resp:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise m.ProtocolError("closed during the upgrade: %r" % resp)
            resp += chunk
        head, self.raw = resp.split(b"\r\n\r\n", 1)
        self.head = head.decode().lower()
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode().lower()
        if " 101 " not in self.head.splitlines()[0] or \
                "sec-websocket-accept: " + want not in self.head:
            raise m.ProtocolError("bad upgrade answer: %r" % self.head)

    @staticmethod
    def frame(payload, opcode=0x2, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            hdr = bytes([0x80 * fin | opcode, 0x80 | n])
        elif n < 65536:
            hdr = bytes([0x80 * fin | opcode, 0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr = bytes([0x80 * fin | opcode, 0x80 | 127]) + struct.pack("!Q", n)
        return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

    def send(self, data):
        self.sock.sendall(self.frame(data))

    def send_close(self, code=1000):
        self.sock.sendall(self.frame(struct.pack("!H", code), opcode=0x8))

    def _take_frame(self):
        """One whole frame from self.raw as (opcode, payload), or None."""
        b = self.raw
        if len(b) < 2:
            return None
        n, i = b[1] & 0x7F, 2
        if b[1] & 0x80:
            raise m.ProtocolError("the server masked a frame")
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack("!Q", b[2:10])[0], 10
        if len(b) < i + n:
            return None
        self.raw = b[i + n:]
        return b[0] & 0x0F, b[i:i + n]

    def _fill(self, deadline):
        while True:
            f = self._take_frame()
            if f is None:
                break
            opcode, payload = f
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_frame = (code, payload[2:])
                return False
            if opcode in (0x0, 0x1, 0x2):
                self.buf += payload
                return True
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no data before deadline")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return False
        if not chunk:
            return False
        self.raw += chunk
        return True


class Paho:
    """A paho client (tcp or websockets) on its own network thread, with received messages in a
    queue and connection events as threading.Events."""

    def __init__(self, port, client_id, transport="tcp", protocol=None, prepare=None,
                 host="127.0.0.1", bind=""):
        kw = {} if protocol is None else {"protocol": protocol}
        self.c = paho.Client(client_id, transport=transport, **kw)
        if transport == "websockets":
            self.c.ws_set_options(path="/mqtt")
        if prepare is not None:
            prepare(self.c)     # e.g. tls_set(): TLS and the upgrade then happen in connect()
        self.msgs = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.rc = None
        self.c.on_connect = lambda c, u, f, rc, *a: (setattr(self, "rc", rc),
                                                    self.connected.set())
        self.c.on_disconnect = lambda c, u, rc, *a: self.disconnected.set()
        self.c.on_message = lambda c, u, msg: self.msgs.put(msg)
        self.c.connect(host, port, keepalive=60, bind_address=bind)
        self.c.loop_start()
        if not self.connected.wait(5) or self.rc != 0:
            self.stop()
            raise AssertionError("%s: no successful CONNACK (rc %r)" % (client_id, self.rc))

    def local_port(self):
        s = self.c.socket()
        fd = s.fileno()
        with socket.socket(fileno=os.dup(fd)) as dup:
            return dup.getsockname()[1]

    def subscribe(self, topic, qos):
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        rc, _ = self.c.subscribe(topic, qos)
        assert rc == 0 and done.wait(5), "no SUBACK"

    def publish(self, topic, payload, qos):
        info = self.c.publish(topic, payload, qos=qos)
        info.wait_for_publish(5)
        assert info.is_published(), "publish not completed"

    def expect(self, timeout=5):
        return self.msgs.get(timeout=timeout)

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


class WebsocketsTest(BrokerTest):
    def setUp(self):
        self.ws_port = free_port()
        self.b = self.broker(listener_config="listener %d 127.0.0.1\nprotocol websockets\n" %
                             self.ws_port)
        self.b.wait_ready(port=self.ws_port)

    def paho(self, client_id, transport="websockets", **kw):
        port = self.ws_port if transport == "websockets" else self.b.port
        p = Paho(port, client_id, transport, **kw)
        self.addCleanup(p.stop)
        return p

    def test_qos_both_ways(self):
        ws = self.paho("ws-client")
        tcp = self.paho("tcp-client", transport="tcp")
        ws.subscribe("to-ws/#", 2)
        tcp.subscribe("to-tcp/#", 2)
        for qos in (0, 1, 2):
            with self.subTest(qos=qos):
                tcp.publish("to-ws/%d" % qos, b"from tcp %d" % qos, qos)
                msg = ws.expect()
                self.assertEqual((msg.topic, msg.payload, msg.qos),
                                 ("to-ws/%d" % qos, b"from tcp %d" % qos, qos))
                ws.publish("to-tcp/%d" % qos, b"from ws %d" % qos, qos)
                msg = tcp.expect()
                self.assertEqual((msg.topic, msg.payload, msg.qos),
                                 ("to-tcp/%d" % qos, b"from ws %d" % qos, qos))

    def test_mqtt5_over_websockets(self):
        ws = self.paho("ws-v5", protocol=paho.MQTTv5)
        ws.subscribe("v5/t", 1)
        ws.publish("v5/t", b"self", 1)
        self.assertEqual(ws.expect().payload, b"self")

    def test_large_payload(self):
        ws = self.paho("ws-big")
        tcp = self.paho("tcp-big", transport="tcp")
        ws.subscribe("big/ws", 1)
        tcp.subscribe("big/tcp", 1)
        payload = os.urandom(256 * 1024)
        tcp.publish("big/ws", payload, 1)
        self.assertEqual(ws.expect().payload, payload)
        ws.publish("big/tcp", payload, 1)
        self.assertEqual(tcp.expect().payload, payload)

    def test_connected_log_line(self):
        ws = self.paho("ws-log")
        self.b.wait_log(connected_re("ws-log", ws.local_port(), m.V311, True, 60))

    def test_no_subprotocol_and_mqttv31(self):
        for sub in (None, "mqttv3.1"):
            with self.subTest(subprotocol=sub):
                c = WsConn(self.ws_port, subprotocol=sub)
                self.addCleanup(c.close)
                if sub is not None:
                    self.assertIn("sec-websocket-protocol: " + sub, c.head)
                self.assertEqual(c.connect("raw-%s" % sub).rc, 0)

    def test_frames_and_packets_do_not_line_up(self):
        c = WsConn(self.ws_port)
        self.addCleanup(c.close)
        data = m.connect("split") + m.subscribe(1, [("split/t", 0)]) + \
            m.publish("split/t", b"x" * 300)
        # CONNECT cut in two frames, then SUBSCRIBE and PUBLISH sharing frames, byte by byte
        cuts = [0, 5, 9, 20, 21, len(data) - 7, len(data)]
        for a, b in zip(cuts, cuts[1:]):
            c.sock.sendall(WsConn.frame(data[a:b]))
        self.assertEqual(c.expect(m.CONNACK).rc, 0)
        c.expect(m.SUBACK)
        self.assertEqual(c.expect(m.PUBLISH).payload, b"x" * 300)

    def test_connect_in_the_same_segment_as_the_upgrade(self):
        c = WsConn(self.ws_port, early=WsConn.frame(m.connect("early")) +
                   WsConn.frame(m.subscribe(1, [("early/t", 1)])))
        self.addCleanup(c.close)
        self.assertEqual(c.expect(m.CONNACK).rc, 0)
        c.expect(m.SUBACK)
        self.b.wait_log("New client connected from 127\\.0\\.0\\.1:%d as early " % c.local_port())

    def test_refused_connect_gets_connack_then_close_frame(self):
        c = WsConn(self.ws_port, subprotocol="mqttv3.1")
        self.addCleanup(c.close)
        c.send(m.connect("", proto=m.V31))       # 3.1 does not allow an empty client id
        self.assertEqual(c.expect(m.CONNACK).rc, 2)
        self.assertEqual(c.expect_closed(), [])
        self.assertEqual(c.close_frame, (1000, b""))

    def test_takeover_closes_old_websocket_with_close_frame(self):
        old = WsConn(self.ws_port)
        self.addCleanup(old.close)
        self.assertEqual(old.connect("dup").rc, 0)
        new = self.b.client("dup")
        self.addCleanup(new.close)
        self.assertEqual(old.expect_closed(), [])
        self.assertEqual(old.close_frame, (1000, b""))
        # and a paho websocket client sees its disconnect too
        p = self.paho("dup2")
        new2 = self.b.client("dup2")
        self.addCleanup(new2.close)
        self.assertTrue(p.disconnected.wait(5))
        self.assert_still_serving(self.b)

    def test_client_side_close(self):
        p = self.paho("bye")
        port = p.local_port()
        p.c.disconnect()
        self.b.wait_log(disc_re("bye", port))
        # a close frame without DISCONNECT, then an abrupt close: both logged as the client's
        for how in ("frame", "reset"):
            c = WsConn(self.ws_port)
            self.addCleanup(c.close)
            cid = "gone-" + how
            self.assertEqual(c.connect(cid).rc, 0)
            if how == "frame":
                c.send_close()
            c.close()
            self.b.wait_log(disc_re(cid, c.local_port(), "connection closed by client"))
        with self.b.client("still") as c:
            c.ping()

    def test_will_on_abrupt_close(self):
        watcher = self.paho("watcher", transport="tcp")
        watcher.subscribe("will/ws", 0)
        c = WsConn(self.ws_port)
        self.assertEqual(c.connect("dies", will_topic="will/ws", will_payload=b"bye").rc, 0)
        c.close()
        self.assertEqual(watcher.expect().payload, b"bye")

    def test_plain_http_request_refused(self):
        s = socket.create_connection(("127.0.0.1", self.ws_port), 5)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
        self.assertTrue(resp.startswith(b"HTTP/1.1 404"), resp[:80])
        with self.b.client("http-after") as c:
            c.ping()

    def test_shutdown_with_websocket_clients(self):
        p = self.paho("stay")
        raw = WsConn(self.ws_port)
        self.addCleanup(raw.close)
        self.assertEqual(raw.connect("stay-raw").rc, 0)
        self.b.stop()   # asserts exit code 0 (and, under ASan, no leaks)
        self.assertEqual(raw.expect_closed(), [])
        self.assertEqual(raw.close_frame, (1000, b""))
        self.assertTrue(p.disconnected.wait(5))


if __name__ == "__main__":
    unittest.main()


class WebsocketBackPressureTest(BrokerTest):
    """A websocket publisher that floods a slow subscriber is held back like a TCP one: its
    frames stop being read once enough waits, and reading resumes when the subscriber catches
    up. Nothing is lost even though the queue holds only ten messages."""

    COUNT = 30000  # 540 KB of PUBLISHes: more than the broker keeps from a paused publisher

    def test_flood_from_websocket_publisher(self):
        ws_port = free_port()
        b = self.broker("max_queued_messages 10\nmax_inflight_messages 5\n",
                        listener_config="listener %d 127.0.0.1\nprotocol websockets\n" % ws_port)
        b.wait_ready(port=ws_port)
        sub = b.client("slow-sub")
        self.addCleanup(sub.close)
        sub.subscribe("flood/#", 1)
        pub = WsConn(ws_port, timeout=10)
        self.addCleanup(pub.close)
        pub.connect("ws-flood")
        data = b"".join(m.publish("flood/t", b"%05d" % i, qos=1, mid=i % 65535 + 1)
                        for i in range(self.COUNT))
        sender = threading.Thread(target=pub.send, args=(data,), daemon=True)
        sender.start()
        # Let the whole flood reach the broker's side before the subscriber reads anything:
        # the broker keeps at most 256 KB of it and stops reading frames (the rest waits in
        # the kernel), so catching up below must resume the reading, or this never ends.
        sender.join(10)
        self.assertFalse(sender.is_alive())
        got = []
        while len(got) < self.COUNT:
            p = sub.expect(m.PUBLISH, timeout=10)
            got.append(p.payload)
            sub.send(m.puback(p.mid))
        self.assertEqual(got, [b"%05d" % i for i in range(self.COUNT)])
        acks = 0
        while acks < self.COUNT:
            self.assertEqual(pub.expect(m.PUBACK, timeout=10).type, m.PUBACK)
            acks += 1
