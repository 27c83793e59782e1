"""proxy_fixture.py - shared helpers for the PROXY protocol integration tests: header builders
(v1 text, v2 binary with TLVs and CRC32C), a tiny raw MQTT client, a broker launcher, test-time
certificates and an HAProxy launcher. Stand-alone on purpose (does not use broker.py)."""

import atexit
import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BIN = os.path.join(HERE, "..", "..", "build", "src", "mosquitto")

# ------------------------------------------------------------------------------ PROXY headers

V2_SIG = bytes([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A])

LOCAL, PROXY = 0x0, 0x1
FAM_UNSPEC, FAM_INET, FAM_INET6, FAM_UNIX = 0x00, 0x11, 0x21, 0x31

T_ALPN, T_AUTHORITY, T_CRC32C, T_NOOP, T_UNIQUE_ID, T_SSL, T_NETNS = (
    0x01, 0x02, 0x03, 0x04, 0x05, 0x20, 0x30)
S_VERSION, S_CN, S_CIPHER, S_SIG_ALG, S_KEY_ALG = 0x21, 0x22, 0x23, 0x24, 0x25
CLIENT_SSL, CLIENT_CERT_CONN, CLIENT_CERT_SESS = 0x01, 0x02, 0x04

# The addresses every upstream test uses: 192.0.2.5:6275 -> 0.0.0.0:0
SRC4, DST4, SPORT, DPORT = "192.0.2.5", "0.0.0.0", 6275, 0
SRC6, DST6 = "2001:db8:506:708:900::1", "::"


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) as PP2_TYPE_CRC32C uses it."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def tlv(ttype, value):
    """One TLV (also used for SSL sub-TLVs): type, 2-byte big-endian length, value."""
    if isinstance(value, str):
        value = value.encode()
    return bytes([ttype]) + struct.pack(">H", len(value)) + value


def ssl_tlv(client, verify=0, version=None, cn=None, cipher=None, subs=b""):
    """PP2_TYPE_SSL with the given client bits and verify result; sub-TLVs in HAProxy's order
    (VERSION, CN, CIPHER), then any raw extra `subs`."""
    body = bytes([client]) + struct.pack(">I", verify)
    if version is not None:
        body += tlv(S_VERSION, version)
    if cn is not None:
        body += tlv(S_CN, cn)
    if cipher is not None:
        body += tlv(S_CIPHER, cipher)
    return tlv(T_SSL, body + subs)


def addr_block(fam, src=None, dst=None, sport=SPORT, dport=DPORT):
    """Address block for a v2 family byte: IPv4/IPv6 addresses and ports, or two NUL-padded
    108-byte unix paths (spec layout)."""
    if fam == FAM_INET:
        return (ipaddress.IPv4Address(src or SRC4).packed
                + ipaddress.IPv4Address(dst or DST4).packed + struct.pack(">HH", sport, dport))
    if fam == FAM_INET6:
        return (ipaddress.IPv6Address(src or SRC6).packed
                + ipaddress.IPv6Address(dst or DST6).packed + struct.pack(">HH", sport, dport))
    if fam == FAM_UNIX:
        s = (src or "").encode()
        d = (dst or "").encode()
        return s.ljust(108, b"\0") + d.ljust(108, b"\0")
    return b""


def v2(cmd=PROXY, fam=FAM_INET, block=None, tlvs=b"", length=None, crc=None, version=2,
       sig=V2_SIG, **addr):
    """A v2 header. block=None builds the family's address block from **addr (src, dst, sport,
    dport). length overrides the length field (to build lying headers). crc: None = no CRC32C
    TLV, True = a correct one (placed first, as HAProxy does), an int = that value."""
    if block is None:
        block = addr_block(fam, **addr)
    if crc is not None:
        tlvs = tlv(T_CRC32C, b"\0\0\0\0") + tlvs
    body = block + tlvs
    n = len(body) if length is None else length
    hdr = sig + bytes([(version << 4) | cmd, fam]) + struct.pack(">H", n) + body
    if crc is not None:
        pos = 16 + len(block) + 3
        value = crc32c(hdr) if crc is True else crc
        hdr = hdr[:pos] + struct.pack(">I", value) + hdr[pos + 4:]
    return hdr


def v2_ipv4(**kw):
    return v2(fam=FAM_INET, **kw)


def v2_local(fam=FAM_UNSPEC, block=b"", tlvs=b""):
    """LOCAL command, what HAProxy sends for its health checks (16 bytes by default)."""
    return v2(cmd=LOCAL, fam=fam, block=block, tlvs=tlvs)


def v1(proto="TCP4", src=SRC4, dst="127.0.0.1", sport=SPORT, dport=1234):
    """A v1 line; proto 'UNKNOWN' gives the short form b'PROXY UNKNOWN\\r\\n'."""
    if proto == "UNKNOWN":
        return b"PROXY UNKNOWN\r\n"
    return f"PROXY {proto} {src} {dst} {sport} {dport}\r\n".encode()


# ------------------------------------------------------------------------------ raw MQTT

def _varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _str(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">H", len(s)) + s


def _packet(first, body):
    return bytes([first]) + _varint(len(body)) + body


def mqtt_connect(client_id="proxy-test", proto=5, keepalive=42, clean=False, username=None,
                 password=None):
    """CONNECT; the defaults are the upstream PROXY tests' (MQTT 5, k42, clean start false)."""
    flags = 0x02 if clean else 0
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = _str("MQTT") + bytes([proto, flags]) + struct.pack(">H", keepalive)
    if proto == 5:
        body += b"\0"
    body += _str(client_id)
    if username is not None:
        body += _str(username)
    if password is not None:
        body += _str(password)
    return _packet(0x10, body)


PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"


class Closed(Exception):
    """The peer closed the connection (or reset it)."""


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        try:
            chunk = sock.recv(n - len(data))
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError) as e:
            raise Closed(str(e)) from e
        if not chunk:
            raise Closed("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_packet(sock):
    """One MQTT packet as (first byte, body). Raises Closed, or socket.timeout."""
    first = recv_exact(sock, 1)[0]
    mult, n = 1, 0
    while True:
        b = recv_exact(sock, 1)[0]
        n += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    return first, recv_exact(sock, n)


def read_connack(sock):
    """Returns the CONNACK reason code (MQTT 5) or return code (3.1.1)."""
    first, body = read_packet(sock)
    if first != 0x20:
        raise AssertionError("expected CONNACK, got packet 0x%02x" % first)
    return body[1]


def open_conn(port, host="127.0.0.1", bind=None, timeout=5.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    if bind:
        s.bind((bind, 0))
    s.connect((host, port))
    return s


def wait_closed(sock, timeout=5.0):
    """Reads until the peer closes; returns what arrived before. AssertionError on timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            if isinstance(e, socket.timeout):
                raise AssertionError("connection still open after %.1f s" % timeout) from e
            return data
        if not chunk:
            return data
        data += chunk
        if time.monotonic() > deadline:
            raise AssertionError("connection still open after %.1f s" % timeout)


class Mqtt:
    """A minimal MQTT client over an already connected (maybe TLS) socket."""

    def __init__(self, sock, proto=5):
        self.sock = sock
        self.proto = proto
        self.mid = 0

    def connect(self, client_id, **kw):
        self.sock.sendall(mqtt_connect(client_id, proto=self.proto, **kw))
        return read_connack(self.sock)

    def _next_mid(self):
        self.mid = self.mid % 65535 + 1
        return self.mid

    def _props(self):
        return b"\0" if self.proto == 5 else b""

    def ping(self):
        self.sock.sendall(PINGREQ)
        first, _ = read_packet(self.sock)
        if first != 0xD0:
            raise AssertionError("expected PINGRESP, got 0x%02x" % first)

    def subscribe(self, topic, qos=1):
        """Returns the granted QoS / reason code."""
        mid = self._next_mid()
        self.sock.sendall(_packet(0x82, struct.pack(">H", mid) + self._props() + _str(topic)
                                  + bytes([qos])))
        while True:
            first, body = read_packet(self.sock)
            if first == 0x90:
                return body[-1]

    def publish(self, topic, payload, qos=1):
        if isinstance(payload, str):
            payload = payload.encode()
        if qos == 0:
            self.sock.sendall(_packet(0x30, _str(topic) + self._props() + payload))
            return None
        mid = self._next_mid()
        self.sock.sendall(_packet(0x32, _str(topic) + struct.pack(">H", mid) + self._props()
                                  + payload))
        while True:
            first, body = read_packet(self.sock)
            if first == 0x40:
                return body[2] if len(body) > 2 else 0

    def recv_publish(self, timeout=5.0):
        """Next PUBLISH as (topic, payload); acknowledges QoS 1."""
        self.sock.settimeout(timeout)
        while True:
            first, body = read_packet(self.sock)
            if first >> 4 != 3:
                continue
            qos = (first >> 1) & 3
            tlen = struct.unpack(">H", body[:2])[0]
            topic = body[2:2 + tlen].decode()
            pos = 2 + tlen
            if qos:
                mid = body[pos:pos + 2]
                pos += 2
                self.sock.sendall(b"\x40\x02" + mid)
            if self.proto == 5:
                plen, shift = 0, 0
                while True:
                    b = body[pos]
                    pos += 1
                    plen |= (b & 0x7F) << shift
                    shift += 7
                    if not b & 0x80:
                        break
                pos += plen
            return topic, body[pos:]

    def disconnect(self):
        try:
            self.sock.sendall(DISCONNECT)
        except OSError:
            pass
        self.sock.close()


# ------------------------------------------------------------------------------ helpers

def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(cond, timeout=5.0, what="condition", interval=0.02):
    """Polls cond() until it returns something truthy; returns it or raises AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def make_tmpdir(prefix):
    """A world-writable temp dir (Debian's mosquitto drops root privileges to user
    "mosquitto"), removed at exit unless PTEST_KEEP is set (to read logs after a failure)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o777)
    if not os.environ.get("PTEST_KEEP"):
        atexit.register(shutil.rmtree, d, True)
    return d


# ------------------------------------------------------------------------------ broker

class Broker:
    """Runs the broker with one listener under test (`port`, options `listener_lines`) plus a
    plain control listener (`control_port`) used for readiness, log barriers and $SYS.

    Config: global_lines first (log to <tmp>/broker.log, log_type all, allow_anonymous true
    unless given), then `listener <port> 127.0.0.1` (or `listener_spec`) + listener_lines, then
    the control listener. start() waits until the control port accepts connections."""

    def __init__(self, listener_lines=(), global_lines=(), listener_spec=None, control=True,
                 extra_listeners=()):
        self.bin = os.environ.get("MOSQUITTO_BIN", DEFAULT_BIN)
        self.tmp = make_tmpdir("ptest-broker-")
        self.log_path = os.path.join(self.tmp, "broker.log")
        self.out_path = os.path.join(self.tmp, "stdout.log")
        self.port = free_port()
        self.control_port = free_port() if control else None
        self.proc = None
        lines = ["log_dest file " + self.log_path, "log_type all", "connection_messages true"]
        if not any(l.startswith("allow_anonymous") for l in global_lines):
            lines.append("allow_anonymous true")
        lines += list(global_lines)
        spec = listener_spec or "%d 127.0.0.1" % self.port
        lines.append("listener " + spec.format(port=self.port, tmp=self.tmp))
        lines += [l.format(port=self.port, tmp=self.tmp) for l in listener_lines]
        for spec, opts in extra_listeners:
            lines.append("listener " + spec.format(tmp=self.tmp))
            lines += list(opts)
        if control:
            lines.append("listener %d 127.0.0.1" % self.control_port)
        self.conf_path = os.path.join(self.tmp, "mosquitto.conf")
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(self.log_path, "w"):
            pass
        os.chmod(self.log_path, 0o666)

    def _spawn(self):
        if not os.path.exists(self.bin):
            raise AssertionError("broker binary %s not found (set MOSQUITTO_BIN)" % self.bin)
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([self.bin, "-c", self.conf_path], stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def start(self, timeout=10.0):
        self._spawn()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("broker exited with %s:\n%s" % (self.proc.returncode,
                                                                     self.output()))
            try:
                socket.create_connection(("127.0.0.1", self.control_port), 0.5).close()
                return True
            except OSError:
                return False
        try:
            wait_for(ready, timeout, "broker to listen on %d" % self.control_port)
        except Exception:
            self.stop()
            raise
        self.barrier()    # the readiness probe's own log lines are in the file from here on
        return self

    def start_expect_failure(self, timeout=10.0):
        """For configurations the broker must refuse: returns (exit code, all output)."""
        self._spawn()
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("broker started although the config is invalid:\n"
                                 + open(self.conf_path).read())
        return rc, self.output()

    def output(self):
        """stdout+stderr and the log file (config errors come before the log file opens)."""
        with open(self.out_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return text + self.log()

    def log(self, since=0):
        with open(self.log_path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def mark(self):
        """Log position; pass to wait_log()/lines() to ignore what earlier tests caused."""
        return os.path.getsize(self.log_path)

    def lines(self, since=0):
        return self.log(since).splitlines()

    def wait_log(self, pattern, since=0, timeout=5.0, count=1, regex=False):
        """Waits until `count` log lines after `since` contain pattern (a substring, or a regex
        with regex=True); returns the matching lines."""
        rx = re.compile(pattern if regex else re.escape(pattern))

        def found():
            if self.proc and self.proc.poll() is not None:
                raise AssertionError("broker died (rc %s):\n%s" % (self.proc.returncode,
                                                                   self.output()[-3000:]))
            hits = [l for l in self.lines(since) if rx.search(l)]
            return hits if len(hits) >= count else None
        try:
            return wait_for(found, timeout, "log %r x%d" % (pattern, count))
        except AssertionError as e:
            raise AssertionError("%s; log since mark:\n%s" % (e, self.log(since)[-3000:])) \
                from None

    def barrier(self, since=0):
        """Returns once every log line caused before this call is in the file: connects a
        client on the control listener and waits for its own connect line."""
        cid = "barrier-%d" % time.monotonic_ns()
        m = Mqtt(open_conn(self.control_port), 4)
        try:
            m.connect(cid, clean=True, keepalive=60)
            self.wait_log(cid, since)
        finally:
            m.disconnect()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and a clean exit are required: under ASan/UBSan a leak or a sanitizer report
        makes the exit code non-zero, and such a report fails the test even after a crash."""
        problem = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                if self.proc.wait(10) != 0:
                    problem = "broker exit code %d at stop" % self.proc.returncode
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problem = "broker did not stop on SIGTERM"
        if getattr(self, "out", None):
            self.out.close()
            self.out = None
        if self.proc is not None:
            out = self.output()
            if "runtime error:" in out or "Sanitizer" in out:
                problem = "sanitizer report from the broker"
            if problem is not None:
                raise AssertionError("%s:\n%s" % (problem, out[-3000:]))


class SysWatcher:
    """Subscribes to $SYS/broker/proxy/# on the control listener and remembers the last
    value of every topic."""

    def __init__(self, broker, prefix="$SYS/broker/proxy/#"):
        self.sock = open_conn(broker.control_port)
        self.mqtt = Mqtt(self.sock, 4)
        self.mqtt.connect("sys-watch-%d" % time.monotonic_ns(), clean=True, keepalive=60)
        self.mqtt.subscribe(prefix, 0)
        self.values = {}

    def wait(self, topic, pred, timeout=6.0):
        deadline = time.monotonic() + timeout
        while True:
            v = self.values.get(topic)
            if v is not None and pred(int(v)):
                return int(v)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("$SYS %s: last value %r did not satisfy the condition; "
                                     "all: %r" % (topic, v, self.values))
            try:
                t, p = self.mqtt.recv_publish(timeout=min(left, 1.0))
                self.values[t] = p.decode()
            except socket.timeout:
                pass

    def close(self):
        self.mqtt.disconnect()


# client ids of the fixture's own helpers (barrier, $SYS watcher): ignored by assert_no_line
OWN_CLIENTS = ("barrier-", "sys-watch-")


class BrokerTestCase(unittest.TestCase):
    """One broker per class (cls.LISTENER / cls.GLOBAL), a log mark per test."""

    LISTENER = ()
    GLOBAL = ()
    LISTENER_SPEC = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.LISTENER, cls.GLOBAL, cls.LISTENER_SPEC).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def setUp(self):
        self.mark = self.broker.mark()
        self.socks = []

    def tearDown(self):
        for s in self.socks:
            s.close()
        self.assertTrue(self.broker.alive(), "broker died:\n" + self.broker.output()[-3000:])
        # the lines these closes cause belong to this test, not to the next one's mark
        self.broker.barrier()

    # -- helpers
    def conn(self, bind=None):
        s = open_conn(self.broker.port, bind=bind)
        self.socks.append(s)
        return s

    def wait_log(self, pattern, **kw):
        return self.broker.wait_log(pattern, since=self.mark, **kw)

    def lines(self):
        return self.broker.lines(self.mark)

    def assert_success(self, header, client_id="proxy-test", log=None, **connect_kw):
        """Header + CONNECT: CONNACK 0, then PINGREQ/PINGRESP, then `log` in the broker log."""
        s = self.conn()
        s.sendall(header + mqtt_connect(client_id, **connect_kw))
        self.assertEqual(read_connack(s), 0)
        Mqtt(s).ping()
        if log:
            self.wait_log(log)
        return s

    def assert_closed(self, data, timeout=5.0, bind=None):
        """Sends data on a new connection; the broker must close it without any reply."""
        s = self.conn(bind=bind)
        try:
            s.sendall(data)
        except OSError:
            return
        got = wait_closed(s, timeout)
        self.assertEqual(got, b"", "broker answered %r before closing" % got)

    def assert_no_line(self, *needles):
        """After a barrier: no log line since the mark contains any of the needles."""
        self.broker.barrier(self.mark)
        bad = [l for l in self.lines() if any(n in l for n in needles)
               and not any(own in l for own in OWN_CLIENTS)]
        self.assertEqual(bad, [], "unexpected log lines")

    def assert_no_proxy_peer_line(self):
        """PROXY listeners never print the proxy's own address (the socket peer, 127.0.0.1
        here) as a new connection."""
        self.broker.barrier(self.mark)
        rx = re.compile(r"New connection from 127\.0\.0\.1:\d+ on port %d\." % self.broker.port)
        self.assertEqual([l for l in self.lines() if rx.search(l)], [])


# ------------------------------------------------------------------------------ certificates

_CERTS = {}


def make_certs():
    """Throwaway PKI made with openssl, once per process: ca.pem, server.pem (cert+key,
    localhost/127.0.0.1/::1), client-one.{crt,key} (CN client-one, signed by ca),
    client-rogue.{crt,key} (CN client-rogue, signed by other-ca). Returns {name: path}."""
    if _CERTS:
        return _CERTS
    d = make_tmpdir("ptest-certs-")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    for ca, cn in (("ca", "PROXY test CA"), ("other-ca", "PROXY other CA")):
        run("req", "-x509", *ec, "-sha256", "-days", "2", "-keyout", ca + ".key",
            "-out", ca + ".pem", "-subj", "/CN=" + cn)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                "extendedKeyUsage=serverAuth\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, subj, ca, ext, serial in (
            ("server", "/CN=localhost", "ca", "server.ext", "0x1001"),
            ("client-one", "/O=PROXY tests/CN=client-one", "ca", "client.ext", "0x2001"),
            ("client-rogue", "/CN=client-rogue", "other-ca", "client.ext", "0x3001")):
        run("req", *ec, "-sha256", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", subj)
        run("x509", "-req", "-sha256", "-days", "2", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-set_serial", serial, "-extfile", ext,
            "-out", name + ".crt")
    with open(os.path.join(d, "server.pem"), "w") as out:
        for part in ("server.crt", "server.key"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    for name in ("ca.pem", "server.pem", "server.crt", "server.key", "client-one.crt",
                 "client-one.key", "client-rogue.crt", "client-rogue.key", "other-ca.pem"):
        _CERTS[name] = os.path.join(d, name)
    return _CERTS


def tls_client_context(cert=None):
    """Client context trusting the test CA, optionally with a client certificate name
    ('client-one' or 'client-rogue')."""
    c = make_certs()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(c["ca.pem"])
    if cert:
        ctx.load_cert_chain(c[cert + ".crt"], c[cert + ".key"])
    return ctx


# ------------------------------------------------------------------------------ HAProxy

HAPROXY_HEAD = """global
    log stdout format raw local0 info
    stats socket {tmp}/haproxy.sock level admin
    maxconn 256
    spread-checks 0

defaults
    mode tcp
    log global
    option tcplog
    option log-health-checks
    timeout connect 2s
    timeout client 30s
    timeout server 30s
"""


class HAProxy:
    """HAProxy in the foreground (`haproxy -db -f cfg`) on free loopback ports.

    frontends: list of (name, bind options) e.g. ("fe", "ssl crt {server.pem}"); each gets a
    free port (self.ports[name]) on 127.0.0.1 and forwards to one backend with a single server
    `mosq` at 127.0.0.1:backend_port with `server_opts` (e.g. "send-proxy-v2-ssl-cn").
    Health checks run every `inter`."""

    def __init__(self, backend_port, server_opts="", frontends=(("fe", ""),), inter="200ms",
                 backend_opts=()):
        self.bin = os.environ.get("HAPROXY_BIN", "haproxy")
        self.tmp = make_tmpdir("ptest-haproxy-")
        certs = make_certs()
        self.ports = {}
        cfg = HAPROXY_HEAD.format(tmp=self.tmp)
        for name, opts in frontends:
            self.ports[name] = free_port()
            for k, v in certs.items():
                opts = opts.replace("{%s}" % k, v)
            cfg += "\nfrontend %s\n    bind 127.0.0.1:%d %s\n    default_backend be\n" % (
                name, self.ports[name], opts)
        cfg += "\nbackend be\n"
        cfg += "".join("    %s\n" % o for o in backend_opts)   # e.g. "option mqtt-chk"
        cfg += "    server mosq 127.0.0.1:%d %s check inter %s\n" % (
            backend_port, server_opts, inter)
        self.cfg = cfg
        self.cfg_path = os.path.join(self.tmp, "haproxy.cfg")
        with open(self.cfg_path, "w") as f:
            f.write(cfg)
        self.log_path = os.path.join(self.tmp, "haproxy.log")
        self.proc = None

    def start(self, timeout=10.0):
        self.out = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.bin, "-db", "-f", self.cfg_path], stdout=self.out,
                                     stderr=subprocess.STDOUT)

        def ready():
            # no probe on the frontends: HAProxy would forward it to the broker as a client.
            # HAProxy binds every listener before it serves its stats socket.
            if self.proc.poll() is not None:
                raise AssertionError("haproxy exited (%s):\n%s\n%s" % (
                    self.proc.returncode, self.log(), self.cfg))
            try:
                self.stat()
                return True
            except (OSError, IndexError, AssertionError):
                return False
        wait_for(ready, timeout, "haproxy to listen")
        return self

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stat(self):
        """The server line of `show stat` as a dict (status, check_status, chkfail, ...)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(os.path.join(self.tmp, "haproxy.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        rows = data.decode().splitlines()
        keys = rows[0].lstrip("# ").split(",")
        for row in rows[1:]:
            vals = row.split(",")
            if len(vals) >= 2 and vals[0] == "be" and vals[1] == "mosq":
                return dict(zip(keys, vals))
        raise AssertionError("no be/mosq row in show stat:\n" + data.decode())

    def wait_up(self, timeout=10.0, check_status="L4OK"):
        """Waits until at least one health check really ran and passed (check_status L4OK, or
        L7OK for a layer-7 check such as `option mqtt-chk`)."""
        def up():
            st = self.stat()
            return st if st["status"] == "UP" and st["check_status"] == check_status else None
        try:
            return wait_for(up, timeout, "haproxy server be/mosq UP with " + check_status, 0.05)
        except AssertionError as e:
            raise AssertionError("%s: %r\n%s" % (e, self.stat(), self.log())) from None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "out", None):
            self.out.close()
            self.out = None


def client_via(port, tls_cert=None, tls=False, bind="127.0.0.2", timeout=5.0):
    """A client socket to an HAProxy frontend from `bind` (127.0.0.2, so the real client address
    differs from HAProxy's 127.0.0.1); TLS if tls or tls_cert. Returns the (maybe TLS) socket."""
    raw = open_conn(port, bind=bind, timeout=timeout)
    if not (tls or tls_cert):
        return raw
    ctx = tls_client_context(tls_cert)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def vector_dir():
    """The captured HAProxy vectors: $VECTOR_DIR/proxy, else the shared reference copy."""
    for d in (os.path.join(os.environ.get("VECTOR_DIR", ""), "proxy"),
              os.path.join(HERE, "..", "vectors", "proxy"),
              "/work/shared/reference/proxy-vectors"):
        if d and os.path.exists(os.path.join(d, "v2-mtls-ssl-cn.bin")):
            return d
    return None


def vector_header(name):
    """The PROXY header part of a captured vector (the MQTT bytes after it are dropped)."""
    d = vector_dir()
    if d is None:
        raise unittest.SkipTest("captured PROXY vectors not found")
    with open(os.path.join(d, name + ".bin"), "rb") as f:
        data = f.read()
    if data.startswith(V2_SIG):
        return data[:16 + struct.unpack(">H", data[14:16])[0]]
    return data[:data.index(b"\r\n") + 2]
