"""The effects of bridge options beyond their parsing: bridge_max_packet_size,
bridge_receive_maximum, bridge_session_expiry_interval, bridge_max_topic_alias,
bridge_bind_address and round_robin, with our broker, Debian's 2.0.11 or a scripted remote at
the other end.

Reference answers (Mosquitto 2.1.2, ../shared/oracle, observed 2026-11-30, recorded here):
- CONNECT of a bridge with bridge_protocol_version mqttv50, bridge_max_packet_size 1000,
  bridge_receive_maximum 7, bridge_session_expiry_interval 300, bridge_max_topic_alias 3,
  notifications false, bridge_bind_address 127.0.0.5 (from 127.0.0.5):
    101d00044d5154540500003c0b 220003 110000012c 210007 0005766d2e6231
  i.e. Topic Alias Maximum 3, Session Expiry 300, Receive Maximum 7 and no Maximum Packet
  Size: bridge_max_packet_size limits what the bridge sends, not what it accepts.
- bridge_max_packet_size 100, mqttv311 and mqttv50 alike: a 200-byte local message is not sent
  to the remote ("Dropping too large outgoing PUBLISH for local.vm.b1 (209 bytes)"; 2.1.2
  counts the packet without its fixed header, ours the whole packet as MQTT 5.0 section 3.1.2.11.4
  defines it), a 200-byte remote message still comes in.
- local_username / local_password with password_file, acl_file and allow_anonymous false on
  the local broker (user lu: read out/#, write in/#; topics out/# out, in/# in, x/# both): with
  the right password, a wrong one or none, out/1, x/1 reach the remote and in/1, x/2 reach
  local subscribers: 2.1.2 checks neither the password nor the ACL for the bridge's local side
  (the user name is only recorded). Ours does the same.
- restart_timeout 1 4 towards a closed port (log_type all):
    Bridge local.vm.b1 doing local SUBSCRIBE on topic a/#      (debug, before every attempt)
    Connecting bridge b1 (127.0.0.1:57545)                     (notice)
    Bridge vm.b1 sending CONNECT                               (debug; ours: once TCP is up)
    Client local.vm.b1 [(null):0] disconnected: connection closed by client.   (notice)
    Bridge b1 next backoff will be 1771 ms                     (information)
  and then 2943, 4000 ms: each drawn between the base and three times the previous delay
  (the first: three times the base), at most the cap. restart_timeout 1 (constant): no
  backoff line. Ours names the address and errno ("[127.0.0.1:P] disconnected: Connection
  refused."; see the README's differences).
Ours adds a `bridge-hop` user property to a v5 CONNECT (see test_bridge.py's ring test).
"""

import os
import re
import socket
import subprocess
import threading
import time
import unittest

from broker import PASSWD_BIN, free_port, wait_until
import mqtt_raw
from mqtt_raw import CONNECT, PUBLISH, SUBSCRIBE, V311, V5, Reader
from test_bridge import BridgeBase, bridge_conf


def read_frame(conn, buf, timeout=10):
    """(first byte, body) of the next packet on a plain socket; buf is a bytearray carried over
    between calls."""
    deadline = time.monotonic() + timeout
    while True:
        f = mqtt_raw.split_frame(bytes(buf))
        if f is not None:
            first, body, rest = f
            buf[:] = rest
            return first, body
        conn.settimeout(max(0.05, deadline - time.monotonic()))
        data = conn.recv(65536)
        if not data:
            raise EOFError("closed")
        buf += data


def connect_fields(body):
    """Version, flags, keep-alive and (v5) properties of a CONNECT body."""
    r = Reader(body)
    r.string()
    version, flags, keepalive = r.byte(), r.byte(), r.u16()
    return version & 0x7F, flags, keepalive, (r.properties() if version & 0x7F == V5 else {})


class ScriptedRemote:
    """A one-connection MQTT 5 'broker' run by the test: CONNACK, SUBACK, then script(conn)."""

    def __init__(self, test, script=None):
        self.connect = None
        self.closed = threading.Event()
        self.acked = threading.Event()
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        test.addCleanup(srv.close)
        self.port = srv.getsockname()[1]
        self.conns = []
        test.addCleanup(lambda: [c.close() for c in self.conns])

        def run():
            try:
                c, _ = srv.accept()
            except OSError:
                return
            self.conns.append(c)
            buf = bytearray()
            try:
                first, body = read_frame(c, buf)
                self.connect = (first >> 4, body)
                c.sendall(mqtt_raw.packet(mqtt_raw.CONNACK, 0, b"\x00\x00\x00"))
                while True:
                    first, body = read_frame(c, buf)
                    if first >> 4 == SUBSCRIBE:
                        mid = Reader(body).u16()
                        c.sendall(mqtt_raw.packet(mqtt_raw.SUBACK, 0,
                                                  mqtt_raw.u16(mid) + b"\x00\x01"))
                        self.acked.set()
                        if script is not None:
                            script(c)
            except (EOFError, OSError):
                self.closed.set()
        threading.Thread(target=run, daemon=True).start()


class BridgeOptionsTest(BridgeBase):

    def test_connect_properties(self):
        """What the remote is told: receive maximum, session expiry and topic alias maximum
        as 2.1.2 sends them, no Maximum Packet Size; a 3.x CONNECT has none of them."""
        remote = ScriptedRemote(self)
        self.broker(bridge_conf(remote.port, ["a/# in 1"], extra="""
            bridge_protocol_version mqttv50
            bridge_max_packet_size 1000
            bridge_receive_maximum 7
            bridge_session_expiry_interval 300
            bridge_max_topic_alias 3
            notifications false"""))
        remote.acked.wait(10)
        ptype, body = remote.connect
        self.assertEqual(ptype, CONNECT)
        version, flags, keepalive, props = connect_fields(body)
        self.assertEqual((version, flags, keepalive), (V5, 0x00, 60))
        self.assertEqual(props.get(0x21), 7)          # Receive Maximum
        self.assertEqual(props.get(0x11), 300)        # Session Expiry Interval
        self.assertEqual(props.get(0x22), 3)          # Topic Alias Maximum
        self.assertNotIn(0x27, props)                 # no Maximum Packet Size

    def test_max_packet_size_limits_outgoing_only(self):
        for version in ("mqttv311", "mqttv50"):
            with self.subTest(version=version):
                remote = self.broker()
                local = self.broker(bridge_conf(remote.port, ["a/# both 1"], extra=(
                    "bridge_protocol_version %s\nbridge_max_packet_size 100\n"
                    "notifications false" % version)))
                self.bridged(remote, local)
                with remote.client("rs") as rs, local.client("ls") as ls:
                    rs.subscribe("a/+", 1)      # not the remote's own a/r/big
                    ls.subscribe("a/#", 1)
                    with local.client("lp") as lp:
                        lp.publish("a/big", b"x" * 200, qos=1)
                        lp.publish("a/small", b"y" * 20, qos=1, mid=2)
                    with remote.client("rp") as rp:
                        rp.publish("a/r/big", b"z" * 200, qos=1)
                    # The big one is dropped on its way out, the small one after it arrives.
                    self.expect_msg(rs, "a/small", b"y" * 20)
                    got = [m for m in self.collect(ls, 3, timeout=10)]
                    self.assertEqual(sorted(got), sorted([b"x" * 200, b"y" * 20, b"z" * 200]))
                    self.assertTrue(rs.no_packet(0.5))
                local.wait_log(r"Dropping too large outgoing PUBLISH for local\.\S+ \(\d+ bytes\)")
                local.stop()
                remote.stop()

    def test_session_expiry_keeps_the_remote_session(self):
        """v5, cleansession false: with bridge_session_expiry_interval the remote keeps the
        bridge's subscription and queues QoS 1 messages while the local broker is down; with
        the default 0 the session ends with the connection and nothing is kept."""
        for expiry, kept in ((300, True), (0, False)):
            with self.subTest(expiry=expiry):
                remote = self.broker()
                conf = bridge_conf(remote.port, ["e/# in 1"], extra=(
                    "bridge_protocol_version mqttv50\ncleansession false\n"
                    "bridge_session_expiry_interval %d\nnotifications false" % expiry))
                port = free_port()
                local = self.broker(conf, port=port)
                self.bridged(remote, local)
                local.stop()
                remote.wait_log(r"Client \S+\.b1 \[127\.0\.0\.1:\d+\] disconnected", timeout=10)
                with remote.client("rp", proto=V5) as rp:
                    rp.publish("e/x", b"while-down", qos=1)
                local = self.broker(conf, port=port)
                self.bridged(remote, local)
                rx = r"Received PUBLISH from local\.\S+ \(d\d, q1, r0, m\d+, 'e/x'"
                if kept:
                    local.wait_log(rx, timeout=10)
                else:
                    # Queued messages go out right after CONNACK, before the SUBACK we waited
                    # for: none came.
                    self.assertFalse(local.log_has(rx))
                local.stop()
                remote.stop()

    def test_topic_alias_maximum_is_enforced(self):
        """bridge_max_topic_alias 2: the remote may set aliases 1 and 2 and send alias-only
        PUBLISHes, which arrive under their topic; alias 3 is a protocol error (MQTT 5.0
        section 3.3.2.3.4) and the bridge reconnects."""
        def script(c):
            c.sendall(mqtt_raw.publish("t/a", b"1", qos=0, proto=V5, properties=[(0x23, 1)]))
            c.sendall(mqtt_raw.publish("t/b", b"2", qos=0, proto=V5, properties=[(0x23, 2)]))
            c.sendall(mqtt_raw.publish("", b"3", qos=0, proto=V5, properties=[(0x23, 1)]))
            c.sendall(mqtt_raw.publish("", b"4", qos=0, proto=V5, properties=[(0x23, 2)]))
            c.sendall(mqtt_raw.publish("t/c", b"5", qos=0, proto=V5, properties=[(0x23, 3)]))
        remote = ScriptedRemote(self, script)
        local = self.broker(bridge_conf(remote.port, ["t/# in 0"], extra=(
            "bridge_protocol_version mqttv50\nbridge_max_topic_alias 2\nnotifications false")))
        with local.client("ls") as ls:
            ls.subscribe("t/#", 0)
            remote.acked.wait(10)
            got = []
            for _ in range(4):
                p = ls.expect(PUBLISH, timeout=10)
                got.append((p.topic, p.payload))
            self.assertEqual(got, [("t/a", b"1"), ("t/b", b"2"), ("t/a", b"3"), ("t/b", b"4")])
            self.assertTrue(ls.no_packet(0.3))
        self.assertTrue(remote.closed.wait(10))
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: " % remote.port)

    def test_receive_maximum_is_enforced(self):
        """bridge_receive_maximum 3: the remote may leave three QoS 2 flows unfinished (each
        gets its PUBREC); a fourth is more than the bridge's CONNECT allowed, and the bridge
        ends the connection with DISCONNECT 0x93 (MQTT 5.0 section 3.3.4) and reconnects.
        (The limit used to be max_inflight_messages, the broker's own, whatever the bridge
        had announced.) Mosquitto 2.1.2 (../shared/oracle, same script, 2026-11-30) announces
        3 but enforces nothing: it answers PUBREC to the fourth (seen: PUBREC 1, 2, 3, then
        PUBREC 4) and keeps the connection; a difference kept (README), as for clients."""
        seen = []

        def script(c):
            buf = bytearray()
            for mid in (1, 2, 3):
                c.sendall(mqtt_raw.publish("r/%d" % mid, b"x", qos=2, mid=mid, proto=V5))
            for _ in range(3):
                first, body = read_frame(c, buf)
                seen.append((first >> 4, Reader(body).u16()))
            c.sendall(mqtt_raw.publish("r/4", b"x", qos=2, mid=4, proto=V5))
            first, body = read_frame(c, buf)
            seen.append((first >> 4, body[:1]))
        remote = ScriptedRemote(self, script)
        local = self.broker(bridge_conf(remote.port, ["r/# in 2"], extra=(
            "bridge_protocol_version mqttv50\nbridge_receive_maximum 3\nnotifications false")))
        remote.acked.wait(10)
        self.assertTrue(remote.closed.wait(10))
        self.assertEqual(seen, [(mqtt_raw.PUBREC, 1), (mqtt_raw.PUBREC, 2),
                                (mqtt_raw.PUBREC, 3), (mqtt_raw.DISCONNECT, b"\x93")])
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: receive maximum "
                       r"exceeded" % remote.port)

    def test_bind_address(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# out 1"],
                                        extra="bridge_bind_address 127.0.0.5"))
        remote.wait_log(r"New bridge connected from 127\.0\.0\.5:\d+ as \S+\.b1", timeout=10)
        self.bridged(remote, local)

    def test_round_robin_stays_on_the_address_that_works(self):
        """round_robin true: no main address. After the first address fails the bridge stays
        on the second even when the first answers again (round_robin false goes back to it:
        test_bridge.py test_back_to_main_address); when the second fails it moves on, round to
        the first."""
        first_port = free_port()
        second = self.broker()
        local = self.broker(bridge_conf(0, ["a/# out 1"], extra="round_robin true",
                            addresses="127.0.0.1:%d 127.0.0.1:%d" % (first_port, second.port)))
        self.bridged(second, local)
        first = self.broker(port=first_port)
        # round_robin false probes the main address every 5 s and moves back; true must not.
        mark = local.mark()
        with self.assertRaises(AssertionError):
            first.wait_log(r"New bridge connected", timeout=7)
        self.assertFalse(local.log_has(r"moving back", since=mark))
        second.stop()
        first.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as \S+\.b1", timeout=15)

    def test_local_credentials_are_not_checked(self):
        """As 2.1.2: local_username/local_password pass no password check and no ACL on the
        local side; local_clientid names the local session."""
        d = self.tmpdir()
        pw, acl = os.path.join(d, "pw"), os.path.join(d, "acl")
        for i, (u, p) in enumerate((("lu", "lp"), ("pubber", "pp"))):
            subprocess.run([PASSWD_BIN] + (["-c"] if i == 0 else []) + ["-b", pw, u, p],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(acl, "w") as f:
            f.write("user lu\ntopic read out/#\ntopic write in/#\nuser pubber\ntopic readwrite #\n")
        for path in (pw, acl):
            os.chmod(path, 0o644)
        remote = self.broker()
        local = self.broker("password_file %s\nacl_file %s\n" % (pw, acl)
                            + bridge_conf(remote.port, ["out/# out 1", "in/# in 1", "x/# both 1"],
                                          extra="local_username lu\nlocal_password wrong\n"
                                                "local_clientid my-bridge\nnotifications false"),
                            anonymous=False)
        local.wait_log(r"Bridge my-bridge doing local SUBSCRIBE on topic x/#")
        local.wait_log(r"Received SUBACK from my-bridge", timeout=10)
        with remote.client("rs") as rs, local.client("ls", username="pubber", password="pp") as ls:
            rs.subscribe("#", 1)
            ls.subscribe("#", 1)
            with local.client("lp", username="pubber", password="pp") as lp:
                lp.publish("out/1", b"o", qos=1)
                lp.publish("x/1", b"x", qos=1, mid=2)
            with remote.client("rp") as rp:
                rp.publish("in/1", b"i", qos=1)
                rp.publish("x/2", b"y", qos=1, mid=2)
            self.assertEqual(sorted(self.collect(rs, 4, timeout=10)), [b"i", b"o", b"x", b"y"])
            self.assertEqual(sorted(self.collect(ls, 4, timeout=10)), [b"i", b"o", b"x", b"y"])
        self.assertFalse(local.log_has(r"[Dd]enied"))

    def test_backoff_log_lines(self):
        port = free_port()   # nothing listens there
        local = self.broker(bridge_conf(port, ["a/# out 1"]).replace(
            "restart_timeout 1\n", "restart_timeout 1 4\n"))
        rx = r"Bridge b1 next backoff will be (\d+) ms"
        wait_until(lambda: len(re.findall(rx, local.log_text())) >= 3, timeout=15,
                   what="three backoff lines")
        delays = [int(d) for d in re.findall(rx, local.log_text())]
        prev = 1000
        for d in delays:
            self.assertGreaterEqual(d, 1000)
            self.assertLessEqual(d, min(4000, 3 * prev))
            prev = d
        text = local.log_text()
        self.assertRegex(text, r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: "
                               r"Connection refused\." % port)
        # Every attempt is preceded by the local SUBSCRIBE lines, as 2.1.2 writes them.
        attempts = re.findall(r"(doing local SUBSCRIBE on topic a/#|Connecting bridge b1)", text)
        self.assertGreaterEqual(len(attempts), 6)
        self.assertEqual(attempts[:6], ["doing local SUBSCRIBE on topic a/#",
                                        "Connecting bridge b1"] * 3)
        # The constant form logs no backoff.
        const = self.broker(bridge_conf(port, ["a/# out 1"], name="b2"))
        const.wait_log(r"Connecting bridge b2", since=const.wait_log(
            r"disconnected: Connection refused\.", timeout=10).end(), timeout=10)
        self.assertFalse(const.log_has(r"next backoff"))


if __name__ == "__main__":
    unittest.main()
