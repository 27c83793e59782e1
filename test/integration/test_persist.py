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
from broker import Broker, BrokerTest, free_port, wait_until

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
            self.assertTrue(3590 <= p.props[m.P_MESSAGE_EXPIRY] <= 3600, p.props)
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
