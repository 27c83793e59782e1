"""mqtt_raw - hand-built MQTT 3.1 / 3.1.1 / 5 packets and a blocking reader that frames replies.

For tests that must send exact (or deliberately broken) bytes and check exact replies. It is not a
client library: no retries, no automatic acks, no state beyond one socket.
"""

import socket
import struct
import time

# Packet types (high nibble of the first byte).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)

TYPE_NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
              7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
              12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}

V31, V311, V5 = 3, 4, 5

# MQTT 5 property identifiers and their wire types.
P_PAYLOAD_FORMAT = 0x01
P_MESSAGE_EXPIRY = 0x02
P_CONTENT_TYPE = 0x03
P_RESPONSE_TOPIC = 0x08
P_CORRELATION_DATA = 0x09
P_SUBSCRIPTION_ID = 0x0B
P_SESSION_EXPIRY = 0x11
P_ASSIGNED_CLIENT_ID = 0x12
P_SERVER_KEEP_ALIVE = 0x13
P_AUTH_METHOD = 0x15
P_AUTH_DATA = 0x16
P_REQUEST_PROBLEM_INFO = 0x17
P_WILL_DELAY = 0x18
P_REQUEST_RESPONSE_INFO = 0x19
P_RESPONSE_INFO = 0x1A
P_SERVER_REFERENCE = 0x1C
P_REASON_STRING = 0x1F
P_RECEIVE_MAXIMUM = 0x21
P_TOPIC_ALIAS_MAXIMUM = 0x22
P_TOPIC_ALIAS = 0x23
P_MAXIMUM_QOS = 0x24
P_RETAIN_AVAILABLE = 0x25
P_USER_PROPERTY = 0x26
P_MAXIMUM_PACKET_SIZE = 0x27
P_WILDCARD_SUB_AVAILABLE = 0x28
P_SUBSCRIPTION_ID_AVAILABLE = 0x29
P_SHARED_SUB_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _STR, _BIN, _PAIR = range(7)
PROP_TYPES = {
    0x01: _BYTE, 0x02: _U32, 0x03: _STR, 0x08: _STR, 0x09: _BIN, 0x0B: _VARINT, 0x11: _U32,
    0x12: _STR, 0x13: _U16, 0x15: _STR, 0x16: _BIN, 0x17: _BYTE, 0x18: _U32, 0x19: _BYTE,
    0x1A: _STR, 0x1C: _STR, 0x1F: _STR, 0x21: _U16, 0x22: _U16, 0x23: _U16, 0x24: _BYTE,
    0x25: _BYTE, 0x26: _PAIR, 0x27: _U32, 0x28: _BYTE, 0x29: _BYTE, 0x2A: _BYTE,
}


class ProtocolError(Exception):
    """The peer sent bytes we cannot frame, or not what the test expected."""


# ---- encoding primitives -------------------------------------------------------------------

def varint(n):
    """Variable byte integer; n may exceed the MQTT limit so tests can build bad lengths."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


def mstr(s):
    """Length-prefixed string; bytes are sent unchanged (for invalid UTF-8 tests)."""
    b = s if isinstance(s, (bytes, bytearray)) else s.encode("utf-8")
    return u16(len(b)) + bytes(b)


def props(plist):
    """MQTT 5 property block from [(id, value), ...]; user property value is (name, value)."""
    body = bytearray()
    for pid, val in plist or []:
        t = PROP_TYPES[pid]
        body += varint(pid)
        if t == _BYTE:
            body.append(val)
        elif t == _U16:
            body += u16(val)
        elif t == _U32:
            body += u32(val)
        elif t == _VARINT:
            body += varint(val)
        elif t in (_STR, _BIN):
            body += mstr(val)
        else:
            body += mstr(val[0]) + mstr(val[1])
    return varint(len(body)) + bytes(body)


def packet(ptype, flags, body):
    """Fixed header + remaining length + body."""
    return bytes([(ptype << 4) | (flags & 0x0F)]) + varint(len(body)) + bytes(body)


# ---- packets -------------------------------------------------------------------------------

def connect(client_id="", proto=V311, clean=True, keepalive=60, username=None, password=None,
            will_topic=None, will_payload=b"", will_qos=0, will_retain=False, properties=None,
            will_properties=None, proto_name=None, flags=None):
    """CONNECT. proto 3 uses 'MQIsdp', 4 and 5 'MQTT' unless proto_name is given.
    flags overrides the computed connect-flags byte (for reserved-bit tests)."""
    if proto_name is None:
        proto_name = "MQIsdp" if proto == V31 else "MQTT"
    f = 0
    if clean:
        f |= 0x02
    if will_topic is not None:
        f |= 0x04 | (will_qos << 3) | (0x20 if will_retain else 0)
    if password is not None:
        f |= 0x40
    if username is not None:
        f |= 0x80
    if flags is not None:
        f = flags
    body = mstr(proto_name) + bytes([proto, f]) + u16(keepalive)
    if proto == V5:
        body += props(properties)
    body += mstr(client_id)
    if will_topic is not None:
        if proto == V5:
            body += props(will_properties)
        body += mstr(will_topic) + mstr(will_payload)
    if username is not None:
        body += mstr(username)
    if password is not None:
        body += mstr(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, mid=None, proto=V311,
            properties=None):
    if isinstance(payload, str):
        payload = payload.encode()
    flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = mstr(topic)
    if qos > 0:
        body += u16(mid if mid is not None else 1)
    if proto == V5:
        body += props(properties)
    return packet(PUBLISH, flags, body + payload)


def _ack(ptype, flags, mid, proto, reason):
    body = u16(mid)
    if proto == V5 and reason is not None:
        body += bytes([reason])
    return packet(ptype, flags, body)


def puback(mid, proto=V311, reason=None):
    return _ack(PUBACK, 0, mid, proto, reason)


def pubrec(mid, proto=V311, reason=None):
    return _ack(PUBREC, 0, mid, proto, reason)


def pubrel(mid, proto=V311, reason=None):
    return _ack(PUBREL, 2, mid, proto, reason)


def pubcomp(mid, proto=V311, reason=None):
    return _ack(PUBCOMP, 0, mid, proto, reason)


def subscribe(mid, topics, proto=V311, properties=None):
    """topics: [(filter, options)]; options is the QoS byte (v5: plus nl/rap/rh bits)."""
    body = u16(mid)
    if proto == V5:
        body += props(properties)
    for t, opts in topics:
        body += mstr(t) + bytes([opts])
    return packet(SUBSCRIBE, 2, body)


def unsubscribe(mid, topics, proto=V311, properties=None):
    body = u16(mid)
    if proto == V5:
        body += props(properties)
    for t in topics:
        body += mstr(t)
    return packet(UNSUBSCRIBE, 2, body)


def pingreq():
    return b"\xc0\x00"


def disconnect(proto=V311, reason=None, properties=None):
    if proto == V5 and (reason is not None or properties):
        body = bytes([reason or 0])
        if properties:
            body += props(properties)
        return packet(DISCONNECT, 0, body)
    return b"\xe0\x00"


# ---- decoding ------------------------------------------------------------------------------

class Reader:
    """Bounds-checked cursor over a packet body."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def left(self):
        return len(self.data) - self.pos

    def take(self, n):
        if self.left() < n:
            raise ProtocolError("short packet body")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def byte(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def varint(self):
        mult, val = 1, 0
        for _ in range(4):
            b = self.byte()
            val += (b & 0x7F) * mult
            if not b & 0x80:
                return val
            mult *= 128
        raise ProtocolError("bad variable byte integer")

    def string(self):
        return self.take(self.u16()).decode("utf-8")

    def binary(self):
        return self.take(self.u16())

    def properties(self):
        """Dict id -> value; user properties collect into a list of pairs."""
        end = self.varint() + self.pos
        out = {}
        while self.pos < end:
            pid = self.varint()
            t = PROP_TYPES.get(pid)
            if t == _BYTE:
                out[pid] = self.byte()
            elif t == _U16:
                out[pid] = self.u16()
            elif t == _U32:
                out[pid] = self.u32()
            elif t == _VARINT:
                out[pid] = self.varint()
            elif t == _STR:
                out[pid] = self.string()
            elif t == _BIN:
                out[pid] = self.binary()
            elif t == _PAIR:
                out.setdefault(pid, []).append((self.string(), self.string()))
            else:
                raise ProtocolError("unknown property 0x%02x" % pid)
        return out


def split_frame(b):
    """(first byte, body, rest) when b starts with a whole packet, else None."""
    if len(b) < 2:
        return None
    mult, length, i = 1, 0, 1
    while True:
        if i >= len(b):
            return None
        if i > 4:
            raise ProtocolError("bad remaining length from broker")
        length += (b[i] & 0x7F) * mult
        mult *= 128
        i += 1
        if not b[i - 1] & 0x80:
            break
    if len(b) < i + length:
        return None
    return b[0], b[i:i + length], b[i + length:]


class Packet:
    """One framed packet from the broker, with the fields tests look at decoded."""

    def __init__(self, first, body, proto):
        self.raw_first = first
        self.type = first >> 4
        self.flags = first & 0x0F
        self.body = body
        self.props = {}
        r = Reader(body)
        t = self.type
        if t == CONNACK:
            self.session_present = r.byte() & 1
            self.rc = r.byte()
            if proto == V5 and r.left():
                self.props = r.properties()
        elif t == PUBLISH:
            self.qos = (self.flags >> 1) & 3
            self.retain = self.flags & 1
            self.dup = (self.flags >> 3) & 1
            self.topic = r.string()
            self.mid = r.u16() if self.qos else None
            if proto == V5:
                self.props = r.properties()
            self.payload = r.take(r.left())
        elif t in (PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK) and proto != V5:
            self.mid = r.u16()
            self.rc = 0
        elif t in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            self.mid = r.u16()
            self.rc = r.byte() if r.left() else 0
            if r.left():
                self.props = r.properties()
        elif t in (SUBACK, UNSUBACK):
            self.mid = r.u16()
            if proto == V5:
                self.props = r.properties()
            self.codes = list(r.take(r.left()))
        elif t == DISCONNECT:
            self.rc = r.byte() if r.left() else 0
            if r.left():
                self.props = r.properties()

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, "type%d" % self.type)

    def __repr__(self):
        return "<%s flags=%x body=%s>" % (self.name, self.flags, self.body.hex())


class Conn:
    """One TCP (or unix) connection to the broker, driven by the test thread."""

    def __init__(self, port=None, host="127.0.0.1", proto=V311, path=None, timeout=5.0,
                 sock=None):
        self.proto = proto
        self.buf = b""
        self.stash = []     # packets skipped by expect(..., stash=True), returned first later
        if sock is not None:    # already connected (e.g. a PROXY header sent, TLS on top)
            self.sock = sock
            self.sock.settimeout(timeout)
        elif path is not None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
            self._local = None
        else:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        # Kept so log lines can be matched after the socket is closed.
        self._local = self.sock.getsockname()

    def local_port(self):
        return self._local[1] if isinstance(self._local, tuple) else 0

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, deadline):
        """Read more bytes; returns False on EOF/reset, raises socket.timeout at the deadline."""
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
        self.buf += chunk
        return True

    def read_packet(self, timeout=5.0):
        """Next packet, or None if the connection closed. Raises socket.timeout."""
        if self.stash:
            return self.stash.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            pkt = self._try_frame()
            if pkt is not None:
                return pkt
            if not self._fill(deadline):
                if self.buf:
                    raise ProtocolError("connection closed mid-packet: %s" % self.buf.hex())
                return None

    def _try_frame(self):
        f = split_frame(self.buf)
        if f is None:
            return None
        first, body, self.buf = f
        return Packet(first, body, self.proto)

    def expect(self, ptype, timeout=5.0, stash=False):
        """Next packet, which must be of ptype. With stash=True, PUBLISH packets that arrive
        first (a client receiving its own message before the ack) are kept for later reads."""
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                pkt = self._read_new(deadline - time.monotonic()) if stash else \
                    self.read_packet(timeout)
                if pkt is None:
                    raise ProtocolError("connection closed, expected %s" % TYPE_NAMES[ptype])
                if pkt.type == ptype:
                    return pkt
                if not (stash and pkt.type == PUBLISH):
                    raise ProtocolError("expected %s, got %r" % (TYPE_NAMES[ptype], pkt))
                skipped.append(pkt)
        finally:
            self.stash.extend(skipped)

    def _read_new(self, timeout):
        """Like read_packet but ignores the stash (used while stashing)."""
        saved, self.stash = self.stash, []
        try:
            return self.read_packet(max(timeout, 0.001))
        finally:
            self.stash = saved + self.stash

    def expect_closed(self, timeout=5.0):
        """Waits for the broker to close; returns the packets that came first (v5 DISCONNECT)."""
        got = []
        while True:
            pkt = self.read_packet(timeout)
            if pkt is None:
                return got
            got.append(pkt)

    def no_packet(self, timeout=0.5):
        """True if nothing arrives within timeout and the connection stays open."""
        try:
            pkt = self.read_packet(timeout)
        except socket.timeout:
            return True
        if pkt is None:
            raise ProtocolError("connection closed")
        raise ProtocolError("unexpected %r" % pkt)

    def connect(self, client_id="", **kw):
        """Sends CONNECT (same arguments as connect()) and returns the CONNACK."""
        kw.setdefault("proto", self.proto)
        self.send(connect(client_id, **kw))
        return self.expect(CONNACK)

    def subscribe(self, topic, qos=0, mid=1, **kw):
        self.send(subscribe(mid, [(topic, qos)], proto=self.proto, **kw))
        ack = self.expect(SUBACK, stash=True)
        if ack.mid != mid:
            raise ProtocolError("SUBACK mid %d, expected %d" % (ack.mid, mid))
        return ack

    def publish(self, topic, payload=b"", qos=0, mid=1, retain=False, **kw):
        """Publishes and completes the QoS flow from the sender's side."""
        self.send(publish(topic, payload, qos=qos, mid=mid, retain=retain, proto=self.proto,
                          **kw))
        if qos == 1:
            return self.expect(PUBACK, stash=True)
        if qos == 2:
            rec = self.expect(PUBREC, stash=True)
            self.send(pubrel(rec.mid, self.proto))
            return self.expect(PUBCOMP, stash=True)
        return None

    def ping(self):
        self.send(pingreq())
        return self.expect(PINGRESP, stash=True)

    def disconnect(self):
        self.send(disconnect(self.proto))
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
