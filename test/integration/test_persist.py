"""test_persist - persistence: each kind of state survives a SIGTERM restart and kill -9, torn and
damaged stores, the location checks, Debian's stock config, SIGUSR1 snapshots.

Reference answers recorded with Mosquitto 2.1.2 (../shared/oracle) and Debian's 2.0.11:
- 2.1.2 accepts `persistence true` with its built-in file (no plugin needed), logs
  "Saving in-memory database to <location>/mosquitto.db." at shutdown and, at start,
  "Restored N base messages", "Restored N retained messages", "Restored N clients",
  "Restored N subscriptions", "Restored N client messages". We log the last four too.
- 2.1.2 does not read MOSQUITTO_PERSISTENCE_LOCATION (saved to ./mosquitto.db with only the
  variable set); we use it when the config names no location (our addition).
- An unwritable location: 2.1.2 and 2.0.11 start anyway and fail at the first save
  ("Error saving in-memory database, unable to open .../mosquitto.db.new for writing, error
  Permission denied"), losing everything. We refuse to start instead (issue 9).
"""

import os
import random
import re
import signal
import socket
import struct
import subprocess
import time
import unittest

import mqtt_raw as m
from broker import BIN, Broker, BrokerTest, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
DUMP_BIN = os.environ.get("MOSQUITTO_DB_DUMP_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(BIN)), "apps", "mosquitto_db_dump")
VECTORS = os.environ.get("VECTOR_DIR") or os.path.join(HERE, "..", "vectors")
DEBIAN_MOSQUITTO = "/usr/sbin/mosquitto"


def dump(path, *args):
    """Runs the dump tool: (exit code, stdout)."""
    cp = subprocess.run([DUMP_BIN] + list(args) + [path], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=30)
    return cp.returncode, cp.stdout.decode(errors="replace")


def collect(c, n, packets=False):
    """The next n PUBLISHes (generous wait each), then any more within 0.5 s."""
    got = []
    while True:
        try:
            p = c.read_packet(10.0 if len(got) < n else 0.5)
        except socket.timeout:
            break
        if p is None:
            break
        if p.type == m.PUBLISH:
            got.append(p if packets else p.topic)
    return got


def records(path):
    """[(offset, type)] of our store's records, from the dump tool."""
    return [(int(o), t) for o, t in re.findall(r"^@(\d+) (\w+)", dump(path)[1], re.M)]

V5 = m.V5


def broker_user():
    """The user the broker runs as: as root it drops to 'mosquitto', or 'nobody' without one."""
    import pwd
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        return pwd.getpwnam("mosquitto").pw_name
    except KeyError:
        return "nobody"


class PersistBase(BrokerTest):
    def setUp(self):
        self.dir = self.tmpdir()
        self.port = free_port()
        self.extra = ""

    def conf(self):
        return "persistence true\npersistence_location %s/\n%s" % (self.dir, self.extra)

    def start(self, **kw):
        b = Broker(self.conf(), tmpdir=self.dir, port=self.port, **kw)
        self.addCleanup(b.cleanup)
        b.start()
        return b

    def restart(self, b, how):
        """Stops b by SIGTERM ('term') or kill -9 ('kill') and starts a new broker on the same
        store and port."""
        if how == "term":
            b.stop()
        else:
            b.proc.kill()
            b.proc.wait(10)
        return self.start()

    def store_path(self):
        return os.path.join(self.dir, "mosquitto.db.journal")


class StateSurvivesTest(PersistBase):
    def check_retained(self, how):
        b = self.start()
        with b.client("pub", proto=V5) as c:
            c.publish("dev/1/state", b"on", qos=1, retain=True, properties=[
                (m.P_MESSAGE_EXPIRY, 3600), (m.P_CONTENT_TYPE, "text/plain"),
                (m.P_USER_PROPERTY, ("k", "v")), (m.P_RESPONSE_TOPIC, "r/t"),
                (m.P_CORRELATION_DATA, b"\x01\x02"), (m.P_PAYLOAD_FORMAT, 1)])
            c.publish("dev/2/state", b"gone", qos=0, retain=True)
            c.publish("dev/2/state", b"", qos=1, retain=True)     # cleared: must stay cleared
            c.publish("dev/3/state", b"old", qos=1, retain=True, properties=[
                (m.P_MESSAGE_EXPIRY, 1)])
        time.sleep(1.1)  # let dev/3's expiry pass: it must not come back
        b = self.restart(b, how)
        b.wait_log(r"Restored 2 retained messages|Restored 1 retained messages")
        with b.client("late", proto=V5) as c:
            c.subscribe("dev/#", 1)
            p = c.expect(m.PUBLISH)
            self.assertEqual((p.topic, p.payload, p.retain), ("dev/1/state", b"on", 1))
            self.assertEqual(p.props[m.P_CONTENT_TYPE], "text/plain")
            self.assertEqual(p.props[m.P_USER_PROPERTY], [("k", "v")])
            self.assertEqual(p.props[m.P_RESPONSE_TOPIC], "r/t")
            self.assertEqual(p.props[m.P_CORRELATION_DATA], b"\x01\x02")
            self.assertEqual(p.props[m.P_PAYLOAD_FORMAT], 1)
            # What is left of the hour, not the hour itself (slack for slow sanitizer runs).
            self.assertTrue(3300 <= p.props[m.P_MESSAGE_EXPIRY] <= 3599, p.props)
            self.assertTrue(c.no_packet(0.3))

    def test_retained_sigterm(self):
        self.check_retained("term")

    def test_retained_kill9(self):
        self.check_retained("kill")

    def check_session(self, how):
        b = self.start()
        sub = b.client("keeper", proto=V5, clean=False, properties=[(m.P_SESSION_EXPIRY, 3600)])
        sub.send(m.subscribe(1, [("q/+", 2 | 0x04 | 0x08)], proto=V5,
                             properties=[(m.P_SUBSCRIPTION_ID, 42)]))  # no-local, rap
        sub.expect(m.SUBACK)
        sub.send(m.subscribe(2, [("other/#", 1)], proto=V5))
        sub.expect(m.SUBACK)
        sub.send(m.unsubscribe(3, ["other/#"], proto=V5))
        sub.expect(m.UNSUBACK)
        sub.send(m.disconnect(V5))
        sub.close()
        with b.client("pub") as c:
            for i in range(5):
                c.publish("q/%d" % i, b"m%d" % i, qos=1 + i % 2, mid=10 + i)
            c.publish("other/x", b"not subscribed", qos=1)
        b = self.restart(b, how)
        with b.client("keeper", proto=V5, clean=False,
                      properties=[(m.P_SESSION_EXPIRY, 3600)]) as sub:
            self.assertEqual(sub.connack.session_present, 1)
            got, rels = [], 0
            while len(got) < 5 or rels < 2:  # PUBRELs of the two QoS 2 ones come in between
                p = sub.read_packet()
                if p.type == m.PUBREL:
                    sub.send(m.pubcomp(p.mid, V5))
                    rels += 1
                    continue
                self.assertEqual(p.type, m.PUBLISH)
                got.append((p.topic, p.payload, p.qos, p.props.get(m.P_SUBSCRIPTION_ID)))
                sub.send(m.puback(p.mid, V5) if p.qos == 1 else m.pubrec(p.mid, V5))
            self.assertEqual(got, [("q/%d" % i, b"m%d" % i, 1 + i % 2, 42) for i in range(5)])
            self.assertTrue(sub.no_packet(0.3))
            # The subscription itself survived, with its options: no-local holds for our own
            # message, and another publisher's still arrives.
            sub.send(m.publish("q/self", b"own", qos=1, mid=77, proto=V5))
            sub.expect(m.PUBACK)
            with b.client("pub2") as c:
                c.publish("q/live", b"live", qos=1, retain=True)
            p = sub.expect(m.PUBLISH)
            self.assertEqual((p.topic, p.payload, p.retain), ("q/live", b"live", 1))  # rap
            self.assertEqual(p.props.get(m.P_SUBSCRIPTION_ID), 42)

    def test_session_sigterm(self):
        self.check_session("term")

    def test_session_kill9(self):
        self.check_session("kill")

    def test_outgoing_qos2_state_kill9(self):
        """A QoS 2 message whose PUBREC the broker had: after the restart it sends PUBREL for
        the same packet id, not the message again; one still awaiting PUBREC is resent with
        DUP and the same id."""
        b = self.start()
        sub = b.client("s2", clean=False)
        sub.subscribe("t/#", 2)
        with b.client("pub") as c:
            c.publish("t/a", b"A", qos=2, mid=1)
            c.publish("t/b", b"B", qos=2, mid=2)
        pa = sub.expect(m.PUBLISH)
        pb = sub.expect(m.PUBLISH)
        sub.send(m.pubrec(pa.mid))
        sub.expect(m.PUBREL)
        sub.ping()  # the broker has handled the PUBREC (and written it down) before PINGRESP
        sub.close()
        b = self.restart(b, "kill")
        with b.client("s2", clean=False) as sub:
            self.assertEqual(sub.connack.session_present, 1)
            first = sub.expect(m.PUBREL)
            self.assertEqual(first.mid, pa.mid)
            again = sub.expect(m.PUBLISH)
            self.assertEqual((again.topic, again.mid, again.dup), ("t/b", pb.mid, 1))
            sub.send(m.pubcomp(pa.mid))
            sub.send(m.pubrec(pb.mid))
            self.assertEqual(sub.expect(m.PUBREL).mid, pb.mid)
            sub.send(m.pubcomp(pb.mid))
            self.assertTrue(sub.no_packet(0.3))

    def test_incoming_qos2_exactly_once_kill9(self):
        """The publisher got PUBREC, the broker died: the resent PUBLISH (DUP, same id) is
        acknowledged but not delivered a second time; PUBREL still gets PUBCOMP."""
        b = self.start()
        sub = b.client("sink", clean=False)
        sub.subscribe("x", 1)
        sub.close()
        pub = b.client("src", clean=False)
        pub.send(m.publish("x", b"once", qos=2, mid=9))
        pub.expect(m.PUBREC)
        pub.close()
        b = self.restart(b, "kill")
        with b.client("src", clean=False) as pub:
            pub.send(m.publish("x", b"once", qos=2, mid=9, dup=True))
            self.assertEqual(pub.expect(m.PUBREC).mid, 9)
            pub.send(m.pubrel(9))
            self.assertEqual(pub.expect(m.PUBCOMP).mid, 9)
        with b.client("sink", clean=False) as sub:
            p = sub.expect(m.PUBLISH)
            self.assertEqual(p.payload, b"once")
            sub.send(m.puback(p.mid))
            self.assertTrue(sub.no_packet(0.4))

    def test_delayed_will_survives(self):
        b = self.start()
        with b.client("watch", clean=False) as w:
            w.subscribe("wills/#", 1)
        c = b.client("dying", proto=V5, clean=False, will_topic="wills/dying",
                     will_payload=b"bye", will_qos=1,
                     properties=[(m.P_SESSION_EXPIRY, 600)],
                     will_properties=[(m.P_WILL_DELAY, 2)])
        c.close()  # no DISCONNECT: the will is due in 2 s
        b.wait_log(r"Client dying .*disconnected")
        b = self.restart(b, "term")
        with b.client("watch", clean=False) as w:
            p = w.expect(m.PUBLISH, timeout=6)
            self.assertEqual((p.topic, p.payload), ("wills/dying", b"bye"))

    def test_offline_session_expiry_counts_down(self):
        """A v5 session with a 2 s expiry that is offline when the broker stops is gone after
        the restart once its time is up; one with an hour left is still there."""
        b = self.start()
        for cid, exp in (("short", 2), ("long", 3600)):
            c = b.client(cid, proto=V5, clean=False, properties=[(m.P_SESSION_EXPIRY, exp)])
            c.send(m.disconnect(V5))
            c.close()
        b = self.restart(b, "term")
        b.wait_log(r"Expiring client short due to timeout", timeout=6)
        with b.client("long", proto=V5, clean=False,
                      properties=[(m.P_SESSION_EXPIRY, 3600)]) as c:
            self.assertEqual(c.connack.session_present, 1)

    def test_sigusr1_writes_snapshot(self):
        b = self.start()
        with b.client("pub") as c:
            c.publish("s/1", b"x", qos=1, retain=True)
        before = os.path.getsize(self.store_path())
        mark = b.mark()
        b.signal(signal.SIGUSR1)
        b.wait_log(r"Saving in-memory database to .*mosquitto\.db\.journal\.", since=mark)
        self.assertTrue(b.running())
        self.assert_still_serving(b)
        self.assertGreater(before, 16)


class WillsAtStopTest(PersistBase):
    """Wills of clients still connected when the broker stops. Mosquitto 2.1.2 and Debian's
    2.0.11 (persistence true, recorded 2026-11-30) publish them on SIGTERM (a persistent
    subscriber that was offline gets them after the restart, a retained one stays) and, after
    kill -9, publish nothing: they kept no record of a will while its client was connected."""

    def setUp(self):
        super().setUp()
        self.b = self.start()
        with self.b.client("watch", clean=False) as w:
            w.subscribe("will/#", 1)

    def connect_with_will(self, cid, clean, retain=False, proto=m.V311, **kw):
        c = self.b.client(cid, proto=proto, clean=clean, will_topic="will/" + cid,
                          will_payload=b"bye-" + cid.encode(), will_qos=1, will_retain=retain,
                          **kw)
        self.addCleanup(c.close)
        return c

    def watched(self, b, timeout=2.0):
        got = []
        with b.client("watch", clean=False) as w:
            try:
                while True:
                    p = w.expect(m.PUBLISH, timeout=timeout)
                    got.append((p.topic, p.payload))
                    w.send(m.puback(p.mid))
            except (m.ProtocolError, OSError):
                pass
        return sorted(got)

    def test_sigterm_publishes_wills(self):
        self.connect_with_will("persist-w", clean=False)
        self.connect_with_will("clean-w", clean=True)
        self.connect_with_will("ret-w", clean=False, retain=True)
        b = self.restart(self.b, "term")
        # 2.1.2 and 2.0.11: all three queued for "watch", will/ret-w retained.
        self.assertEqual(self.watched(b), [("will/clean-w", b"bye-clean-w"),
                                           ("will/persist-w", b"bye-persist-w"),
                                           ("will/ret-w", b"bye-ret-w")])
        with b.client("late") as c:
            c.subscribe("will/#", 0)
            p = c.expect(m.PUBLISH)
            self.assertEqual((p.topic, p.payload, p.retain), ("will/ret-w", b"bye-ret-w", 1))

    def test_sigterm_keeps_will_delay(self):
        """A v5 will delay is kept across the restart: MQTT 5.0 section 3.1.3.2.2
        [MQTT-3.1.3-9] forbids sending the will if the session reconnects within the delay.
        2.1.2 and 2.0.11 publish it at shutdown instead (README, differences)."""
        for cid in ("late-w", "back-w"):
            self.connect_with_will(cid, clean=False, proto=V5,
                                   properties=[(m.P_SESSION_EXPIRY, 600)],
                                   will_properties=[(m.P_WILL_DELAY, 3)])
        t0 = time.monotonic()
        b = self.restart(self.b, "term")
        with b.client("back-w", proto=V5, clean=False,
                      properties=[(m.P_SESSION_EXPIRY, 600)]) as c:   # back in time
            self.assertEqual(c.connack.session_present, 1)
        with b.client("watch", clean=False) as w:
            p = w.expect(m.PUBLISH, timeout=8)
            # The store keeps due times in whole seconds: up to 1 s early.
            self.assertGreaterEqual(time.monotonic() - t0, 1.9)
            self.assertEqual((p.topic, p.payload), ("will/late-w", b"bye-late-w"))
            w.send(m.puback(p.mid))
            self.assertTrue(w.no_packet(1.5))       # none for back-w

    def test_kill9_publishes_no_will(self):
        self.connect_with_will("persist-w", clean=False)
        self.connect_with_will("ret-w", clean=False, retain=True)
        b = self.restart(self.b, "kill")
        self.assertEqual(self.watched(b, timeout=1.0), [])      # 2.1.2, 2.0.11: none
        with b.client("late") as c:
            c.subscribe("will/#", 0)
            self.assertTrue(c.no_packet(0.5))


class CrashLoopTest(PersistBase):
    def test_kill9_during_flood_loses_nothing_acknowledged(self):
        """Six kill -9 at random points of a QoS 1 + QoS 2 flood: every acknowledged message
        arrives, QoS 2 ones exactly once."""
        import crashloop
        self.extra = "max_queued_messages 1000000\n"
        run = crashloop.Run(lambda: self.start().proc, rounds=6,
                            seed=int(os.environ.get("CRASHLOOP_SEED", time.time())))
        run.port = self.port
        res = run.go()
        self.assertEqual(res["errors"], [])
        self.assertEqual(res["kills"], 6)
        self.assertGreater(res["acked1"], 100)
        self.assertGreater(res["acked2"], 100)
        self.assertEqual(res["lost1"], [], "acknowledged QoS 1 messages lost")
        self.assertEqual(res["lost2"], [], "acknowledged QoS 2 messages lost")
        self.assertEqual(res["dup2"], [], "QoS 2 messages delivered twice")


class DamageTest(PersistBase):
    def journal_two_retained(self):
        """A store whose journal ends in two retained PUBLISH records (kill -9 keeps the journal
        as it was written); returns (offset of the last record, file size)."""
        b = self.start()
        with b.client("pub") as c:
            c.publish("keep/a", b"first", qos=1, retain=True)
            c.publish("keep/b", b"second", qos=1, retain=True)
        b.proc.kill()
        b.proc.wait()
        recs = records(self.store_path())
        self.assertEqual([t for _, t in recs[-2:]], ["PUBLISH", "PUBLISH"], recs)
        return recs[-1][0], os.path.getsize(self.store_path())

    def retained_topics(self, b, expect):
        """Retained topics under keep/: waits for `expect` of them, then for any extra."""
        with b.client("look-%d" % time.monotonic_ns()) as c:
            c.subscribe("keep/#", 0)
            return sorted(collect(c, expect))

    def test_torn_last_record_at_every_byte(self):
        last, size = self.journal_two_retained()
        with open(self.store_path(), "rb") as f:
            whole = f.read()
        for cut in range(last + 1, size):
            with open(self.store_path(), "wb") as f:
                f.write(whole[:cut])
            rc, out = dump(self.store_path())
            self.assertEqual(rc, 2, out)               # the dump tool calls it torn too
            b = self.start()
            b.wait_log(r"Warning: Persistence store %s ends in a torn record at byte %d .* "
                       r"Dropped it\." % (re.escape(self.store_path()), last))
            self.assertEqual(self.retained_topics(b, 1), ["keep/a"], "cut at %d" % cut)
            b.proc.kill()                              # keep the (now truncated) journal
            b.proc.wait()
            self.assertEqual(os.path.getsize(self.store_path()), last)

    def test_flipped_byte_refuses_start_and_keeps_file(self):
        last, size = self.journal_two_retained()
        recs = records(self.store_path())
        first_pub = recs[-2][0]
        with open(self.store_path(), "r+b") as f:
            f.seek(first_pub + 20)
            byte = f.read(1)
            f.seek(first_pub + 20)
            f.write(bytes([byte[0] ^ 0x40]))
        with open(self.store_path(), "rb") as f:
            damaged = f.read()
        self.assertEqual(dump(self.store_path())[0], 3)
        b = Broker(self.conf(), tmpdir=self.dir, port=self.port)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertEqual(b.wait_exit(), 1)
        self.assertRegex(b.log_text(), r"Error: Persistence store %s is damaged at byte %d "
                         r"\(record checksum mismatch\)\. Not starting; the file is left as it "
                         r"is\. Set persistence_allow_damaged true" %
                         (re.escape(self.store_path()), first_pub))
        with open(self.store_path(), "rb") as f:
            self.assertEqual(f.read(), damaged)        # never overwritten
        # Opted in: moved aside (both paths logged), started with what came before.
        self.extra = "persistence_allow_damaged true\n"
        b = self.start()
        mt = b.wait_log(r"Persistence store (\S+) is damaged at byte %d \(record checksum "
                        r"mismatch\): moved it to (\S+\.damaged-\d+) and started" % first_pub)
        self.assertEqual(mt.group(1), self.store_path())
        with open(mt.group(2), "rb") as f:
            self.assertEqual(f.read(), damaged)
        self.assertEqual(self.retained_topics(b, 0), [])
        self.assertEqual(dump(self.store_path())[0], 0)  # a fresh, whole store

    def test_not_a_store_refused(self):
        with open(self.store_path(), "wb") as f:
            f.write(b"garbage that is not our store at all\n")
        b = Broker(self.conf(), tmpdir=self.dir, port=self.port)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertEqual(b.wait_exit(), 1)
        self.assertIn("not a store file (bad magic)", b.log_text())


class DumpToolTest(PersistBase):
    def test_dump_our_store(self):
        b = self.start()
        with b.client("dumped", proto=V5, clean=False,
                      properties=[(m.P_SESSION_EXPIRY, 60)]) as c:
            c.send(m.subscribe(1, [("d/#", 1)], proto=V5, properties=[(m.P_SUBSCRIPTION_ID, 5)]))
            c.expect(m.SUBACK)
            c.send(m.disconnect(V5))
        with b.client("pub") as c:
            c.publish("d/x", b"payload", qos=1, retain=True)
        b.stop()
        rc, out = dump(self.store_path())
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r'RETAIN id=\d+ topic="d/x" qos=1 retain=1 expiry=0 '
                              r'payload=7:"payload"')
        self.assertRegex(out, r'SESSION sid=(\d+) client="dumped" expiry_interval=60 ')
        self.assertRegex(out, r'SUB sid=\d+ filter="d/#" qos=1 options=0x00 identifier=5')
        self.assertRegex(out, r'PUBLISH id=\d+ topic="d/x" .* targets=\[\d+/q1/r0/s5\]')
        rc, out = dump(self.store_path(), "--stats")
        self.assertIn("RETAIN: 1\nSESSION: 1\nSESSION_DEL: 0\nSUB: 1", out)

    def test_dump_mosquitto_db(self):
        rc, out = dump(os.path.join(VECTORS, "persist", "mosquitto-2.1.2.db"))
        self.assertEqual(rc, 0, out)
        self.assertIn('SUB client="sess5" filter="q/+" qos=2 options=0x0c identifier=7', out)
        self.assertIn('CLIENT_MSG client="pub2" store_id=1332714710349638 mid=33 qos=2 state=7 '
                      'direction=in', out)
        self.assertIn('MSG_STORE store_id=1332714708392878 topic="ret/props" qos=1 retain=1 '
                      'expiry=1796043846 payload=5:"props" props=20 source="retainer5"', out)

    def test_dump_refuses_other_files(self):
        with open(os.path.join(self.dir, "x"), "wb") as f:
            f.write(b"hello")
        self.assertEqual(dump(os.path.join(self.dir, "x"))[0], 1)


class MigrationTest(PersistBase):
    """First start with persistence, no store of ours, and Mosquitto's mosquitto.db in the
    location: everything in it is carried over, the file is left as it was."""

    def check_import(self, db, ret_props_alive, sess5_alive=True):
        with open(db, "rb") as f:
            original = f.read()
        b = self.start()
        b.wait_log(r"Imported Mosquitto persistence file %s \(left unchanged\): 2 retained "
                   r"messages, 3 clients, 4 subscriptions, 5 client messages" % re.escape(db))
        with b.client("look", proto=V5) as c:
            c.subscribe("ret/#", 0)
            got = {p.topic: p for p in collect(c, 2 if ret_props_alive else 1, packets=True)}
        self.assertEqual(got["ret/plain"].payload, b"plain")
        if ret_props_alive:
            p = got["ret/props"]
            self.assertEqual(p.props[m.P_CONTENT_TYPE], "text/plain")
            self.assertEqual(p.props[m.P_USER_PROPERTY], [("k", "v")])
            self.assertLessEqual(p.props[m.P_MESSAGE_EXPIRY], 3600)
        else:
            self.assertNotIn("ret/props", got)  # its expiry time has passed
        # sess5: v5, queued q/1 and q/2 with subscription identifier 7, then the inbound QoS 2
        # message that was awaiting PUBREL when Mosquitto stopped.
        with b.client("sess5", proto=V5, clean=False, username="bob",
                      properties=[(m.P_SESSION_EXPIRY, 7200)]) as c:
            if sess5_alive is None:  # within a minute of its expiry: either answer is right
                sess5_alive = c.connack.session_present == 1
            # An expired session (expiry counted from its disconnection, before the file was
            # written) is not resumed: session present 0 and nothing queued for it.
            self.assertEqual(c.connack.session_present, 1 if sess5_alive else 0)
            seen = []
            for _ in range(3 if sess5_alive else 0):
                p = c.expect(m.PUBLISH)
                seen.append((p.topic, p.payload, p.props.get(m.P_SUBSCRIPTION_ID)))
                c.send(m.puback(p.mid, V5) if p.qos == 1 else m.pubrec(p.mid, V5))
            if sess5_alive:
                self.assertEqual(sorted(seen), [("q/1", b"one", 7), ("q/2", b"two", 7),
                                                ("w/in", b"incoming", None)])
        # sess3: 3.1.1; "held" was awaiting PUBCOMP: PUBREL first, then the two queued ones.
        with b.client("sess3", clean=False) as c:
            self.assertEqual(c.connack.session_present, 1)
            rel = c.expect(m.PUBREL)
            self.assertEqual(rel.mid, 1)
            c.send(m.pubcomp(1))
            got3 = []
            for _ in range(2):
                p = c.expect(m.PUBLISH)
                got3.append((p.topic, p.payload, p.qos))
                c.send(m.puback(p.mid))
            self.assertEqual(got3, [("q/1", b"one", 1), ("q/2", b"two", 1)])
        # pub2: its PUBREL for packet id 33 is known (PUBCOMP with success).
        with b.client("pub2", proto=V5, clean=False,
                      properties=[(m.P_SESSION_EXPIRY, 100)]) as c:
            c.send(m.pubrel(33, V5))
            self.assertEqual(c.expect(m.PUBCOMP).rc, 0)
        with open(db, "rb") as f:
            self.assertEqual(f.read(), original)
        # Our store exists now: the next start restores it and does not import again.
        mark = b.mark()
        b2 = self.restart(b, "term")
        b2.wait_log(r"Restored state from %s" % re.escape(self.store_path()), since=mark)
        self.assertFalse(b2.log_has(r"Imported Mosquitto", since=mark))

    def test_import_debian_2_0_11(self):
        import mosqdb_gen
        gen = os.path.join(self.dir, "gen")
        db = mosqdb_gen.generate(DEBIAN_MOSQUITTO, gen)
        os.rename(db, os.path.join(self.dir, "mosquitto.db"))
        os.chmod(os.path.join(self.dir, "mosquitto.db"), 0o644)
        self.check_import(os.path.join(self.dir, "mosquitto.db"), True)

    def test_import_mosquitto_2_1_2_vector(self):
        # Made with mosqdb_gen.py and Mosquitto 2.1.2; ret/props expires at 1796043846.
        db = os.path.join(self.dir, "mosquitto.db")
        with open(os.path.join(VECTORS, "persist", "mosquitto-2.1.2.db"), "rb") as f:
            data = f.read()
        with open(db, "wb") as f:
            f.write(data)
        os.chmod(db, 0o644)
        # sess5 (session expiry 7200) disconnected a few seconds after ret/props was published
        # (1796043846 - 3600), so it expires from about 1796047446 on.
        now = time.time()
        sess5 = True if now < 1796047446 - 5 else (False if now > 1796047446 + 60 else None)
        self.check_import(db, now < 1796043846 - 5, sess5)

    def test_damaged_mosquitto_db_refused(self):
        with open(os.path.join(VECTORS, "persist", "mosquitto-2.1.2.db"), "rb") as f:
            data = f.read()
        db = os.path.join(self.dir, "mosquitto.db")
        with open(db, "wb") as f:
            f.write(data[:500])
        os.chmod(db, 0o644)
        b = Broker(self.conf(), tmpdir=self.dir, port=self.port)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertEqual(b.wait_exit(), 1)
        self.assertRegex(b.log_text(), r"Error: Unable to import Mosquitto persistence file "
                         r"%s: chunk runs past the end of the file at byte \d+\." %
                         re.escape(db))
        self.assertFalse(os.path.exists(self.store_path()))


class StockConfigTest(BrokerTest):
    def test_debian_stock_config_starts(self):
        """/etc/mosquitto/mosquitto.conf as Debian 12 ships it (paths moved into a temp dir,
        and a listener in conf.d as a user would add one) starts and keeps state."""
        d = self.tmpdir()
        port = free_port()
        for sub in ("conf.d", "lib", "log", "run"):
            os.makedirs(os.path.join(d, sub))
            os.chmod(os.path.join(d, sub), 0o777)
        stock = ("# Place your local configuration in /etc/mosquitto/conf.d/\n#\n"
                 "# A full description of the configuration file is at\n"
                 "# /usr/share/doc/mosquitto/examples/mosquitto.conf.example\n\n"
                 "pid_file {d}/run/mosquitto.pid\n\n"
                 "persistence true\npersistence_location {d}/lib/\n\n"
                 "log_dest file {d}/log/mosquitto.log\n\n"
                 "include_dir {d}/conf.d\n").format(d=d)
        with open(os.path.join(d, "conf.d", "local.conf"), "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % port)
        b = Broker("", tmpdir=d, port=port, listener=False, logging=False, anonymous=None)
        b.config = stock
        b.log_path = os.path.join(d, "log", "mosquitto.log")
        self.addCleanup(b.cleanup)
        b.start()
        b.pub(["-t", "stock/t", "-m", "kept", "-r", "-q", "1"])
        b.stop()
        self.assertIn("Saving in-memory database to %s/lib/mosquitto.db.journal." % d,
                      b.log_text())
        b2 = Broker("", tmpdir=d, port=port, listener=False, logging=False, anonymous=None)
        b2.config = stock
        b2.log_path = b.log_path
        self.addCleanup(b2.cleanup)
        b2.start()
        with b2.client("c") as c:
            c.subscribe("stock/#", 0)
            self.assertEqual(c.expect(m.PUBLISH).payload, b"kept")


class LocationTest(PersistBase):
    def test_unwritable_location_refused(self):
        ro = os.path.join(self.dir, "ro")
        os.mkdir(ro)
        os.chmod(ro, 0o555)
        self.extra = ""
        b = Broker("persistence true\npersistence_location %s/\n" % ro, tmpdir=self.dir,
                   port=self.port)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        rc = b.wait_exit()
        self.assertNotEqual(rc, 0)
        user = broker_user()
        self.assertRegex(b.log_text() + b.output(),
                         r"Error: Unable to use persistence location %s/ as user %s \(uid \d+\): "
                         r"Permission denied\." % (re.escape(ro), user))

    def test_missing_location_refused(self):
        gone = os.path.join(self.dir, "nope")
        b = Broker("persistence true\npersistence_location %s\n" % gone, tmpdir=self.dir,
                   port=self.port)
        self.addCleanup(b.cleanup)
        b.start(wait=False)
        self.assertNotEqual(b.wait_exit(), 0)
        self.assertRegex(b.log_text() + b.output(),
                         r"Unable to use persistence location %s as user \S+ .*No such file" %
                         re.escape(gone))

    def test_environment_location(self):
        envdir = os.path.join(self.dir, "env")
        os.mkdir(envdir)
        os.chmod(envdir, 0o777)
        b = Broker("persistence true\n", tmpdir=self.dir, port=self.port)
        self.addCleanup(b.cleanup)
        old = os.environ.get("MOSQUITTO_PERSISTENCE_LOCATION")
        os.environ["MOSQUITTO_PERSISTENCE_LOCATION"] = envdir + "/"
        try:
            b.start()
        finally:
            if old is None:
                del os.environ["MOSQUITTO_PERSISTENCE_LOCATION"]
            else:
                os.environ["MOSQUITTO_PERSISTENCE_LOCATION"] = old
        b.wait_log(r"mosquitto version \S+ running")  # the store is opened after listening
        self.assertTrue(os.path.exists(os.path.join(envdir, "mosquitto.db.journal")))

    def test_persistence_off_writes_nothing(self):
        b = Broker("persistence false\npersistence_location %s/\n" % self.dir, tmpdir=self.dir,
                   port=self.port)
        self.addCleanup(b.cleanup)
        b.start()
        b.pub(["-t", "a", "-m", "x", "-r"])
        b.stop()
        self.assertFalse(os.path.exists(self.store_path()))


if __name__ == "__main__":
    unittest.main()
