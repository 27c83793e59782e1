"""Bridges (`connection` sections): our broker as an MQTT client of a remote broker, ours or
Debian's Mosquitto 2.0.11, over real loopback sockets.

Reference answers (Mosquitto 2.1.2, ../shared/oracle, observed 2026-11-30 and recorded here):
- remote client id "<hostname>.<connection>", local id "local.<remote id>", CONNECT 3.1.1 c0
  k60 with the bridge bit (a 2.0.11 remote logs "New bridge connected ... (p2, c0, k60)", 2.1.2
  and ours p4), a will on
  $SYS/broker/connection/<remote id>/state "0" (QoS 1, retained) and "1" published at connect.
- notice lines "Connecting bridge b1 (127.0.0.1:PORT)" per attempt; debug lines "Bridge
  local.<id> doing local SUBSCRIBE on topic T", "Bridge <id> sending CONNECT", "Received CONNACK
  on connection local.<id>.", "Bridge local.<id> sending SUBSCRIBE (Mid: 2, Topic: T, QoS: 1,
  Options: 0x00)" (0x0c with mqttv50: no-local + retain-as-published), "Received SUBACK from ...".
- a refused connect: "Client local.<id> [(null):0] disconnected: connection closed by client."
  Ours names the remote address and the errno text instead of "(null):0".
- `topic a/# both 1 loc/ rem/`: local loc/a/x goes out as rem/a/x; remote rem/a/y comes in as
  loc/a/y. A local subscriber to $SYS/broker/connection/# sees "0" (retained), "1", then "0".
"""

import os
import re
import signal
import socket
import threading
import time
import unittest

from broker import BrokerTest, DEBIAN_BIN, LOG_PROTO, free_port, wait_until
import mqtt_raw
from mqtt_raw import PUBLISH, V5, V311

HOST = socket.gethostname()


def bridge_conf(remote_port, topics, name="b1", extra="", addresses=None):
    """A `connection` section towards 127.0.0.1:remote_port (or the given address line)."""
    lines = ["connection %s" % name,
             "address %s" % (addresses or "127.0.0.1:%d" % remote_port),
             "restart_timeout 1"]
    lines += ["topic %s" % t for t in topics]
    lines += [x for x in extra.strip().splitlines()]
    return "\n".join(lines) + "\n"


class BridgeBase(BrokerTest):

    def bridged(self, remote, local):
        """Waits until local's bridge has its remote subscriptions in place."""
        local.wait_log(r"Received (UN)?SUBACK from local\.", timeout=10)

    def collect(self, conn, n, timeout=20.0):
        """Payloads of the next n PUBLISHes (QoS 1 acknowledged), or fewer at the deadline."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            try:
                p = conn.read_packet(1.0)
            except socket.timeout:
                continue
            if p is not None and p.type == PUBLISH:
                got.append(p.payload)
                if p.qos == 1:
                    conn.send(mqtt_raw.puback(p.mid, conn.proto))
        return got

    def expect_msg(self, conn, topic, payload, timeout=5.0):
        p = conn.expect(PUBLISH, timeout=timeout)
        self.assertEqual((p.topic, p.payload), (topic, payload))
        if p.qos == 1:
            conn.send(mqtt_raw.puback(p.mid, conn.proto))
        return p

    def both_ways(self, remote, local):
        """`topic a/# both 1 loc/ rem/`: each side's message reaches the other side's
        subscriber and its own, once; neither bridge end echoes it back (try_private)."""
        with remote.client("rs") as rs, local.client("ls") as ls:
            rs.subscribe("rem/#", 1)
            ls.subscribe("loc/#", 1)
            with local.client("lp") as lp:
                lp.publish("loc/a/x", b"out", qos=1)
            self.expect_msg(rs, "rem/a/x", b"out")
            self.expect_msg(ls, "loc/a/x", b"out")
            with remote.client("rp") as rp:
                rp.publish("rem/a/y", b"in", qos=1)
            self.expect_msg(ls, "loc/a/y", b"in")
            self.expect_msg(rs, "rem/a/y", b"in")
            self.assertTrue(rs.no_packet(0.5))
            self.assertTrue(ls.no_packet(0.1))

    def _fake_remote(self, behaviour):
        """A TCP server that accepts the bridge and then `behaviour(conn)`."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        self.addCleanup(srv.close)
        conns = []

        def run():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                conns.append(c)
                behaviour(c)
        threading.Thread(target=run, daemon=True).start()
        self.addCleanup(lambda: [c.close() for c in conns])
        return srv.getsockname()[1], conns


class BridgeTest(BridgeBase):

    # ---- remapping, ours to ours -----------------------------------------------------------

    def test_remap_both_ways(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# both 1 loc/ rem/"]))
        self.bridged(remote, local)
        self.both_ways(remote, local)
        # Outside the mapped pattern nothing crosses.
        with remote.client("rsub2") as rs:
            rs.subscribe("#", 0)
            with local.client("lpub2") as lp:
                lp.publish("other/x", b"no", qos=1)
                lp.publish("loc/b/x", b"no", qos=1)
            self.assertTrue(rs.no_packet(0.5))

    def test_empty_prefix_and_directions(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, [
            '"" out 0 local/state remote/state',    # one topic, renamed
            'up/# out 1 "" site1/',                 # remote prefix only
            'down/# in 1 fromhub/ ""',              # local prefix only
        ]))
        self.bridged(remote, local)
        with remote.client("rsub") as rs, local.client("lsub") as ls:
            rs.subscribe("#", 1)
            ls.subscribe("fromhub/#", 1)
            with local.client("lpub") as lp:
                lp.publish("local/state", b"s", qos=1)
                lp.publish("up/t", b"u", qos=1)
            got = {self.expect_msg(rs, *x).topic for x in [("remote/state", b"s"), ("site1/up/t", b"u")]}
            self.assertEqual(got, {"remote/state", "site1/up/t"})
            with remote.client("rpub") as rp:
                rp.publish("down/cmd", b"d", qos=1)
                rp.publish("up/t", b"not-in", qos=1)     # `out` only: must not come in
            self.expect_msg(ls, "fromhub/down/cmd", b"d")
            self.assertTrue(ls.no_packet(0.5))

    def test_qos2_and_retained(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["q/# both 2"]))
        self.bridged(remote, local)
        with local.client("lpub") as lp:
            lp.publish("q/r", b"kept", qos=2, retain=True)
        # A late remote subscriber gets it retained: the flag crossed the bridge.
        def retained():
            with remote.client("late") as c:
                c.subscribe("q/#", 2)
                try:
                    p = c.read_packet(1.0)
                except socket.timeout:
                    return False
                return p is not None and p.type == PUBLISH and p.retain and p.payload == b"kept"
        wait_until(retained, 5, what="retained message on the remote")

    def test_outgoing_retain_false(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["q/# out 1"], extra="bridge_outgoing_retain false"))
        self.bridged(remote, local)
        with remote.client("rs") as rs:
            rs.subscribe("q/#", 1)
            with local.client("lpub") as lp:
                lp.publish("q/r", b"x", qos=1, retain=True)
            p = self.expect_msg(rs, "q/r", b"x")
            self.assertEqual(p.retain, 0)

    # ---- notifications ---------------------------------------------------------------------

    def test_notifications_local_and_remote(self):
        remote = self.broker()
        rs = remote.client("watch-remote")
        self.addCleanup(rs.close)
        rs.subscribe("$SYS/broker/connection/#", 1)
        local = self.broker(bridge_conf(remote.port, ["a/# both"]))
        topic = "$SYS/broker/connection/%s.b1/state" % HOST
        p = rs.expect(PUBLISH, timeout=10)
        self.assertEqual((p.topic, p.payload), (topic, b"1"))
        # The remote's PUBACK for that QoS 1 notification is the bridge's own, not an unknown id.
        local.wait_log(r"Received PUBACK from %s\.b1 " % re.escape("local." + HOST), timeout=10)
        self.assertNotIn("unknown packet id", local.log_text())
        with local.client("watch-local") as ls:
            ls.subscribe("$SYS/broker/connection/#", 0)
            p = ls.expect(PUBLISH)
            self.assertEqual((p.topic, p.payload, p.retain), (topic, b"1", 1))
            remote.stop()
            p = ls.expect(PUBLISH, timeout=10)
            self.assertEqual((p.topic, p.payload), (topic, b"0"))

    def test_will_marks_remote_state_when_bridge_dies(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# both"],
                                        extra="notification_topic bridges/b1\nclientid edge1"))
        self.bridged(remote, local)
        with remote.client("w") as w:
            w.subscribe("bridges/#", 1)
            p = w.expect(PUBLISH)
            self.assertEqual((p.topic, p.payload), ("bridges/b1", b"1"))
            local.proc.kill()          # no DISCONNECT: the remote sends the bridge's will
            local.proc.wait(5)
            p = w.expect(PUBLISH, timeout=10)
            self.assertEqual((p.topic, p.payload), ("bridges/b1", b"0"))

    def test_notifications_local_only_and_off(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# both"], name="only",
                                        extra="notifications_local_only true") +
                            bridge_conf(remote.port, ["b/# both"], name="off",
                                        extra="notifications false"))
        wait_until(lambda: len(re.findall(r"Received (UN)?SUBACK from local\.", local.log_text())) >= 2, 10,
                   what="both bridges up")
        with remote.client("w") as w:
            w.subscribe("$SYS/broker/connection/#", 1)
            self.assertTrue(w.no_packet(0.5))
        with local.client("l") as ls:
            ls.subscribe("$SYS/broker/connection/#", 0)
            p = ls.expect(PUBLISH)
            self.assertEqual(p.topic, "$SYS/broker/connection/%s.only/state" % HOST)
            self.assertTrue(ls.no_packet(0.3))

    # ---- sessions, reconnection, failover --------------------------------------------------

    def _passwd(self, path, users):
        import subprocess
        from broker import PASSWD_BIN
        if os.path.exists(path):
            os.unlink(path)
        for i, (u, p) in enumerate(users):
            subprocess.run([PASSWD_BIN] + (["-c"] if i == 0 else []) + ["-b", path, u, p],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(path, 0o644)

    def test_qos1_queued_while_remote_restarts(self):
        """Persistent bridge: QoS 1 messages published while the remote is down arrive once it
        is back, each once and in order. The restarted remote refuses the bridge until its
        subscriber is in place (password file reloaded on SIGHUP), so nothing races."""
        tmp = self.tmpdir()
        pw = os.path.join(tmp, "pw")
        self._passwd(pw, [("sub", "s"), ("bridge", "b")])
        conf = "password_file %s" % pw
        remote = self.broker(conf, anonymous=False)
        port = remote.port
        local = self.broker(bridge_conf(port, ["q/# out 1"],
                                        extra="remote_username bridge\nremote_password b"))
        self.bridged(remote, local)
        remote.stop()
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected" % port, timeout=10)
        with local.client("lpub") as lp:
            for i in range(20):
                lp.publish("q/%d" % i, b"m%d" % i, qos=1, mid=i + 1)
        self._passwd(pw, [("sub", "s")])
        remote = self.broker(conf, anonymous=False, port=port)
        sub = remote.client("rsub", username="sub", password="s")
        self.addCleanup(sub.close)
        sub.subscribe("q/#", 1)
        self._passwd(pw, [("sub", "s"), ("bridge", "b")])
        remote.signal(signal.SIGHUP)
        self.assertEqual(self.collect(sub, 20), [b"m%d" % i for i in range(20)])
        self.assertTrue(sub.no_packet(0.5))

    def test_queue_survives_local_restart_with_persistence(self):
        """persistence true: QoS 1 messages queued for a bridge that the remote refuses survive
        a restart of the bridging broker and go out once the remote lets it in."""
        tmp = self.tmpdir()
        pw = os.path.join(tmp, "pw")
        self._passwd(pw, [("sub", "s")])
        remote = self.broker("password_file %s" % pw, anonymous=False)
        sub = remote.client("rsub", username="sub", password="s")
        self.addCleanup(sub.close)
        sub.subscribe("q/#", 1)
        store = os.path.join(tmp, "store")
        os.mkdir(store)
        os.chmod(store, 0o777)
        conf = ("persistence true\npersistence_location %s/\n" % store
                + bridge_conf(remote.port, ["q/# out 1"],
                              extra="remote_username bridge\nremote_password b"))
        local = self.broker(conf)
        local.wait_log(r"Connection Refused: not authorised", timeout=10)
        with local.client("lpub") as lp:
            for i in range(10):
                lp.publish("q/%d" % i, b"p%d" % i, qos=1, mid=i + 1)
        port = local.port
        local.stop()
        local = self.broker(conf, port=port)
        self._passwd(pw, [("sub", "s"), ("bridge", "b")])
        remote.signal(signal.SIGHUP)
        self.assertEqual(self.collect(sub, 10), [b"p%d" % i for i in range(10)])

    def test_failover_across_addresses(self):
        dead = free_port()
        remote = self.broker()
        local = self.broker(bridge_conf(0, ["a/# out 1"],
                            addresses="127.0.0.1:%d 127.0.0.1:%d" % (dead, remote.port)))
        local.wait_log(r"Connecting bridge b1 \(127\.0\.0\.1:%d\)" % dead)
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: Connection refused\."
                       % dead)
        local.wait_log(r"Connecting bridge b1 \(127\.0\.0\.1:%d\)" % remote.port)
        self.bridged(remote, local)
        with remote.client("rs") as rs:
            rs.subscribe("a/#", 1)
            with local.client("lp") as lp:
                lp.publish("a/1", b"via-second", qos=1)
            self.expect_msg(rs, "a/1", b"via-second")

    def test_back_to_main_address(self):
        """round_robin false: on a secondary, the bridge goes back to the main address once it
        answers."""
        main_port = free_port()
        second = self.broker()
        local = self.broker(bridge_conf(0, ["a/# out 1"],
                            addresses="127.0.0.1:%d 127.0.0.1:%d" % (main_port, second.port)))
        self.bridged(second, local)
        main = self.broker(port=main_port)
        main.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as %s\.b1 \(p%d, c0, k60\)\."
                      % (HOST, LOG_PROTO[V311]), timeout=20)

    def test_start_type_once(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# out"], extra="start_type once"))
        self.bridged(remote, local)
        remote.stop()
        mark = local.mark()
        time.sleep(2.5)   # three restart_timeouts: a once bridge must not try again
        self.assertNotIn("Connecting bridge", local.log_text()[mark:])

    def test_lazy_start_and_idle_stop(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["lazy/# out 1"],
                                        extra="start_type lazy\nthreshold 3\nidle_timeout 2"))
        with local.client("lp") as lp:
            lp.publish("lazy/1", b"1", qos=1)
            lp.publish("lazy/2", b"2", qos=1)
            self.assertFalse(local.log_has("Connecting bridge"))
            with remote.client("rs", clean=False) as rs:
                rs.subscribe("lazy/#", 1)
                lp.publish("lazy/3", b"3", qos=1)
                local.wait_log("Connecting bridge b1")
                got = [self.expect_msg(rs, "lazy/%d" % i, b"%d" % i).payload for i in (1, 2, 3)]
                self.assertEqual(got, [b"1", b"2", b"3"])
                local.wait_log(r"Bridge b1 has been idle for 2 seconds, disconnecting\.",
                               timeout=6)

    # ---- SIGHUP --------------------------------------------------------------------------

    def test_sighup_adds_changes_and_removes_bridges(self):
        """As 2.1.2 (observed): a reload starts new sections, stops removed ones, and applies a
        changed one at its next reconnection (bridge_reload_type lazy, the default) or at once
        (immediate, where 2.1.2 logs "Bridge local.<id> sending DISCONNECT")."""
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# out 1"], name="keep") +
                            bridge_conf(remote.port, ["b/# out 1"], name="gone"))
        wait_until(lambda: len(re.findall(r"Received (UN)?SUBACK from local\.", local.log_text()))
                   >= 2, 10, what="both bridges up")
        with remote.client("rs") as rs:
            rs.subscribe("#", 1)
            conf = local.config
            body = (bridge_conf(remote.port, ["c/# out 1"], name="keep",
                                extra="bridge_reload_type immediate") +
                    bridge_conf(remote.port, ["d/# out 1"], name="new"))
            local.config = conf[:conf.index("connection keep")] + body + \
                conf[conf.index("listener "):]
            local.write_config()
            # After a reload the log file may not reopen as the unprivileged user (a known
            # problem of the log module): read both the file and stderr.
            text = lambda: local.log_text() + "\n" + local.output()
            mark = len(text())
            local.signal(signal.SIGHUP)
            for rx in (r"Bridge gone removed by the reloaded configuration\.",
                       r"Bridge new added by the reloaded configuration\.",
                       r"Bridge keep: applying the reloaded configuration\."):
                local.wait_log(rx, since=mark, source=text)
            wait_until(lambda: len(re.findall(r"Received (UN)?SUBACK from local\.",
                                              text()[mark:])) >= 2, 10,
                       what="the changed and the new bridge up")
            with local.client("lp") as lp:
                for t in ("a/1", "b/1", "c/1", "d/1"):
                    lp.publish(t, t.encode(), qos=1)
            got = sorted(self.collect(rs, 2, timeout=5))
            self.assertEqual(got, [b"c/1", b"d/1"])
            self.assertTrue(rs.no_packet(0.5))

    def test_sighup_lazy_change_waits_for_reconnection(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# out 1"]))
        self.bridged(remote, local)
        with remote.client("rs") as rs:
            rs.subscribe("#", 1)
            local.config = local.config.replace("topic a/# out 1", "topic z/# out 1")
            local.write_config()
            text = lambda: local.log_text() + "\n" + local.output()
            mark = len(text())
            local.signal(signal.SIGHUP)
            local.wait_log("Reloading config", since=mark, source=text)
            with local.client("lp") as lp:
                lp.publish("a/1", b"old", qos=1)
            self.assertEqual(self.collect(rs, 1, timeout=5), [b"old"])   # still the old map
            self.assertNotIn("applying the reloaded configuration", text()[mark:])

    # ---- protocol versions, loops ----------------------------------------------------------

    def test_protocol_versions(self):
        for ver, proto_log in (("mqttv31", LOG_PROTO[mqtt_raw.V31]), ("mqttv311", LOG_PROTO[V311]),
                               ("mqttv50", LOG_PROTO[V5])):
            with self.subTest(ver=ver):
                remote = self.broker()
                local = self.broker(bridge_conf(remote.port, ["v/# both 1"],
                                                extra="bridge_protocol_version %s" % ver))
                # v5 has no bridge bit; our v5 bridges say so in a CONNECT user property.
                ck = "New bridge connected from 127\\.0\\.0\\.1:\\d+ as %s\\.b1 \\(p%d, c0, k60\\)\\." % (
                    HOST, proto_log)
                remote.wait_log(ck, timeout=10)
                self.bridged(remote, local)
                with remote.client("rs") as rs:
                    rs.subscribe("v/#", 1)
                    with local.client("lp") as lp:
                        lp.publish("v/x", b"ver", qos=1)
                    self.expect_msg(rs, "v/x", b"ver")
                    with remote.client("rp") as rp:
                        rp.publish("v/back", b"b", qos=1)
                    self.expect_msg(rs, "v/back", b"b")
                    self.assertTrue(rs.no_packet(0.3))   # not echoed back by the bridge
                local.stop()
                remote.stop()

    def test_ring_of_three_does_not_loop(self):
        """A -> B -> C -> A, every link `topic ring/# both` over MQTT 5: a message published on
        A reaches every broker, and the traffic stops (no message circles forever)."""
        ports = [free_port() for _ in range(3)]
        brokers = []
        for i in range(3):
            nxt = ports[(i + 1) % 3]
            brokers.append(self.broker(bridge_conf(nxt, ["ring/# both 1"], name="r%d" % i,
                                                   extra="bridge_protocol_version mqttv50"),
                                       port=ports[i]))
        for b in brokers:
            self.bridged(None, b)
        subs = []
        for i, b in enumerate(brokers):
            c = b.client("s%d" % i, proto=V5)
            self.addCleanup(c.close)
            c.subscribe("ring/#", 1)
            subs.append(c)
        with brokers[0].client("p", proto=V5) as p:
            p.publish("ring/x", b"once", qos=1)
        for c in subs:
            got = 0
            while True:
                try:
                    pkt = c.read_packet(1.5)
                except socket.timeout:
                    break
                if pkt is None or pkt.type != PUBLISH:
                    break
                got += 1
                c.send(mqtt_raw.puback(pkt.mid, V5))
                self.assertLess(got, 5, "the message keeps circling")
            self.assertGreaterEqual(got, 1)
            self.assertLessEqual(got, 2)  # both ways round the ring, then it stops

    def drain(self, c, proto, window=1.5, limit=50):
        """(topic, payload) of every PUBLISH until window seconds pass without one."""
        got = []
        while len(got) < limit:
            try:
                pkt = c.read_packet(window)
            except socket.timeout:
                break
            if pkt is None or pkt.type != PUBLISH:
                break
            got.append((pkt.topic, pkt.payload))
            if pkt.qos == 1:
                c.send(mqtt_raw.puback(pkt.mid, proto))
        return got

    def test_ring_of_three_mqtt311_loops_without_remapping(self):
        """The limitation the README states: MQTT 3.x has no place for a hop mark, so with
        `topic ring/# both` on every link of a 3.x ring a message comes back to the broker it
        was published on (try_private only stops the echo over the link it came in by).
        Mosquitto 2.1.2 and 2.0.11 behave the same (no loop protection on 3.x rings)."""
        ports = [free_port() for _ in range(3)]
        brokers = []
        for i in range(3):
            brokers.append(self.broker(bridge_conf(ports[(i + 1) % 3], ["ring/# both 0"],
                                                   name="r%d" % i), port=ports[i]))
        for b in brokers:
            self.bridged(None, b)
        with brokers[0].client("s0") as s0:
            s0.subscribe("ring/#", 0)
            with brokers[0].client("p") as p:
                p.publish("ring/x", b"again", qos=0)
            got = self.drain(s0, V311, window=1.0, limit=5)
        for b in brokers:
            b.stop()        # the message would circle until then
        self.assertGreater(len(got), 1, "no longer loops: update the README and man page")

    def test_ring_of_three_mqtt311_with_origin_prefixes(self):
        """What the README recommends for 3.x rings: a one-way ring where each broker's
        bridge sends its own messages (ring/local/#) as ring/from/<me>/# and passes on the
        previous broker's ring/from/<prev>/#. Every broker receives each message exactly once
        and none comes back to where it was published."""
        names = ["A", "B", "C"]
        ports = [free_port() for _ in range(3)]
        brokers = []
        for i in range(3):
            me, prev = names[i], names[i - 1]
            brokers.append(self.broker(bridge_conf(
                ports[(i + 1) % 3],
                ["# out 1 ring/local/ ring/from/%s/" % me, "ring/from/%s/# out 1" % prev],
                name="r%d" % i), port=ports[i]))
        for b in brokers:
            b.wait_log(r"Received CONNACK on connection local\.", timeout=10)
        subs = []
        for i, b in enumerate(brokers):
            c = b.client("s%d" % i)
            self.addCleanup(c.close)
            c.subscribe("ring/#", 1)
            subs.append(c)
        for i, b in enumerate(brokers):
            with b.client("p%d" % i) as p:
                p.publish("ring/local/t", names[i].encode(), qos=1)
        for i, c in enumerate(subs):
            got = sorted(self.drain(c, V311))
            want = sorted([("ring/local/t", names[i].encode())]
                          + [("ring/from/%s/t" % n, n.encode()) for n in names if n != names[i]])
            self.assertEqual(got, want)

    # ---- remote misbehaving ----------------------------------------------------------------

    def test_remote_sends_garbage(self):
        port, conns = self._fake_remote(lambda c: c.sendall(b"\xff\xff\xff\xff\xff garbage"))
        local = self.broker(bridge_conf(port, ["a/# out"]))
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: "
                       r"(malformed packet|protocol error)\." % port, timeout=10)
        local.wait_log(r"Connecting bridge b1", since=local.mark())  # and it tries again
        self.assert_still_serving(local)

    def test_remote_stalls(self):
        """Accepts the TCP connection and never answers CONNECT; then a remote that answers
        CONNECT and goes silent: keep-alive (5 s minimum, as Mosquitto) ends it."""
        port, conns = self._fake_remote(lambda c: None)
        local = self.broker(bridge_conf(port, ["a/# out"], extra="keepalive_interval 5"))
        self.assert_still_serving(local)
        local.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: exceeded timeout\."
                       % port, timeout=40)

    def test_remote_refuses_credentials(self):
        remote = self.broker("allow_anonymous false", anonymous=None)
        local = self.broker(bridge_conf(remote.port, ["a/# out"], extra="remote_username u\nremote_password p"))
        local.wait_log(r"Connection Refused: not authorised", timeout=10)


class DebianInteropTest(BridgeBase):
    """Debian's Mosquitto 2.0.11 at the other end, in both directions."""

    def test_ours_bridges_to_debian(self):
        remote = self.broker(binary=DEBIAN_BIN)
        local = self.broker(bridge_conf(remote.port, ["a/# both 1 loc/ rem/"]))
        remote.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as %s\.b1 \(p2, c0, k60\)\."
                        % HOST, timeout=10)
        self.bridged(remote, local)
        self.both_ways(remote, local)

    def test_debian_bridges_to_ours(self):
        remote = self.broker()
        local = self.broker(bridge_conf(remote.port, ["a/# both 1 loc/ rem/"]), binary=DEBIAN_BIN)
        remote.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as \S+\.b1 \(p%d, c0, k60\)\."
                        % LOG_PROTO[V311], timeout=10)
        remote.wait_log(r"\S+\.b1 1 rem/a/#", timeout=10)   # its SUBSCRIBE reached us
        self.both_ways(remote, local)


if __name__ == "__main__":
    unittest.main()
