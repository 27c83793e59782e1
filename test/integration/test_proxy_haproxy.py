"""test_proxy_haproxy.py - end to end through a real HAProxy (Debian's haproxy 2.6) started here
in the foreground on loopback, with certificates made by openssl at test time. One class per
set-up of docs/README-proxy.md; the no-PROXY ones also run against a stock mosquitto."""

import os
import re
import shutil
import unittest

from proxy_fixture import (Broker, Closed, HAProxy, Mqtt, SysWatcher, client_via, make_certs,
                           mqtt_connect, open_conn, wait_closed, wait_for)

if shutil.which(os.environ.get("HAPROXY_BIN", "haproxy")) is None:
    raise unittest.SkipTest("haproxy not installed")


class Setup(unittest.TestCase):
    """Broker listener `BROKER` behind HAProxy (frontends `FRONTENDS`, server options `SERVER`).
    Clients connect to frontend "fe" from 127.0.0.2 with `CLIENT` (tls / tls_cert)."""

    BROKER = ()
    GLOBAL = ()
    SERVER = ""
    FRONTENDS = (("fe", ""),)
    CLIENT = {}
    PROXY = True            # the broker learns the real client address
    LOCAL_CHECKS = True     # PROXY v2: health checks send LOCAL headers
    BACKEND = ()            # extra backend lines, e.g. "option mqtt-chk"
    CHECK_STATUS = "L4OK"   # what a passing check reports in HAProxy's stats

    @classmethod
    def setUpClass(cls):
        if cls is Setup:
            raise unittest.SkipTest("base class")
        cls.certs = make_certs()
        glob = list(cls.GLOBAL)
        cls.broker = Broker([l.format(**cls.files()) for l in cls.BROKER], glob).start()
        cls.haproxy = HAProxy(cls.broker.port, cls.SERVER, cls.FRONTENDS, inter="200ms",
                              backend_opts=cls.BACKEND)
        try:
            cls.haproxy.start()
            cls.haproxy.wait_up(check_status=cls.CHECK_STATUS)
        except Exception:
            cls.haproxy.stop()
            cls.broker.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.haproxy.stop()
        cls.broker.stop()

    @classmethod
    def files(cls):
        return {}

    def tearDown(self):
        self.assertTrue(self.broker.alive(), "broker died:\n" + self.broker.output()[-3000:])

    # -- steps
    def client(self, cid, frontend="fe", username=None, **conn):
        """Connects through HAProxy, checks CONNACK 0 and the address the broker logged."""
        opts = dict(self.CLIENT)
        opts.update(conn)
        s = client_via(self.haproxy.ports[frontend], **opts)
        src = s.getsockname()
        m = Mqtt(s, 5)
        self.assertEqual(m.connect(cid, clean=True, keepalive=60, username=username), 0)
        line = self.broker.wait_log("as %s (" % cid)[0]
        if self.PROXY:
            self.assertIn("New client connected from 127.0.0.2:%d as %s (" % (src[1], cid), line)
        else:
            # without PROXY the broker only ever sees HAProxy's own address
            self.assertRegex(line, r"New client connected from 127\.0\.0\.1:\d+ as ")
        return m

    def flow(self, topic="proxy/test", tag="", username=None):
        """Subscribe and publish through HAProxy; the message must arrive."""
        sub = self.client("sub" + tag, username=username)
        pub = self.client("pub" + tag, username=username)
        try:
            self.assertEqual(sub.subscribe(topic, 1), 1)
            self.assertEqual(pub.publish(topic, b"hello through haproxy", 1), 0)
            self.assertEqual(sub.recv_publish(5), (topic, b"hello through haproxy"))
        finally:
            sub.disconnect()
            pub.disconnect()

    def checks_ran_without_errors(self):
        """HAProxy's checks (every 200 ms) kept passing for a while and the broker logged
        nothing bad about them. HAProxy's layer-4 check is a connect then a reset, sometimes
        after the LOCAL header (v2) or a PROXY TCP4 line with its own endpoints (v1), so the
        broker cannot reliably count them: the condition is taken from HAProxy's stats."""
        def passing():
            st = self.haproxy.stat()
            return (st["status"] == "UP" and st["check_status"] == self.CHECK_STATUS
                    and st["chkfail"] == "0" and int(st["lastchg"]) >= 1)
        wait_for(passing, 10, "haproxy checks to pass for 1 s (about 5 checks)", 0.1)
        self.broker.barrier()
        bad = [l for l in self.broker.lines()
               if "rejected" in l or "error" in l.lower() or "bad socket" in l]
        self.assertEqual(bad, [], "health checks caused error lines")
        if self.PROXY and self.LOCAL_CHECKS:
            # no line may show the proxy's own address as a client (v1 checks do carry
            # 127.0.0.1 in their header, so this only holds for v2)
            rx = re.compile(r"New connection from 127\.0\.0\.1:\d+ on port %d\."
                            % self.broker.port)
            self.assertEqual([l for l in self.broker.lines() if rx.search(l)], [])

    def refused(self, frontend="fe", log=None, **conn):
        """A client that must not get a CONNACK; `log` (a format with the client's source port)
        must appear in the broker log."""
        mark = self.broker.mark()
        opts = dict(self.CLIENT)
        opts.update(conn)
        try:
            s = client_via(self.haproxy.ports[frontend], **opts)
        except (OSError, Closed):
            self.assertIsNone(log, "refused by HAProxy, expected the broker to refuse")
            return
        sport = s.getsockname()[1]
        try:
            s.sendall(mqtt_connect("wrong-client", clean=True, keepalive=60))
            got = wait_closed(s, 5)
        except (OSError, Closed):
            got = b""
        finally:
            s.close()
        self.assertEqual(got, b"", "the wrong client got an answer")
        if log:
            self.broker.wait_log(log % sport, since=mark)
        self.broker.barrier(mark)
        self.assertFalse([l for l in self.broker.lines(mark) if "as wrong-client" in l])

    def direct_refused(self):
        """A client bypassing HAProxy (no header) is refused by a PROXY listener."""
        mark = self.broker.mark()
        s = open_conn(self.broker.port)
        s.sendall(mqtt_connect("wrong-client", clean=True, keepalive=60))
        self.assertEqual(wait_closed(s, 5), b"")
        s.close()
        self.broker.wait_log("rejected, corrupt PROXY header.", since=mark)


# ---------------------------------------------------------------------------- without PROXY

class T1PassThroughNoProxy(Setup):
    """Plain TCP pass-through: works, but the broker sees only HAProxy's address."""
    PROXY = False

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()


class T2TlsTerminationNoProxy(Setup):
    """HAProxy terminates TLS (server certificate); the broker speaks plain MQTT."""
    PROXY = False
    FRONTENDS = (("fe", "ssl crt {server.pem}"),)
    CLIENT = {"tls": True}

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.refused(tls=False)          # plaintext MQTT to the TLS port


class T3MutualTlsNoProxy(Setup):
    PROXY = False
    FRONTENDS = (("fe", "ssl crt {server.pem} verify required ca-file {ca.pem}"),)
    CLIENT = {"tls_cert": "client-one"}

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.refused(tls_cert=None, tls=True)     # no client certificate
        self.refused(tls_cert="client-rogue")     # certificate from another CA


# ---------------------------------------------------------------------------- with PROXY

class T4PassThroughProxyV2(Setup):
    SERVER = "send-proxy-v2"
    BROKER = ("enable_proxy_protocol 2",)

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.direct_refused()


class T5PassThroughProxyV1(Setup):
    SERVER = "send-proxy"
    BROKER = ("enable_proxy_protocol 1",)
    LOCAL_CHECKS = False

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.direct_refused()


class T6TlsTerminationRequireTls(Setup):
    """TLS on HAProxy, send-proxy-v2-ssl, broker requires TLS. A second, plaintext frontend on
    the same backend makes HAProxy send an SSL TLV with client bits 0x00: refused."""
    SERVER = "send-proxy-v2-ssl"
    FRONTENDS = (("fe", "ssl crt {server.pem}"), ("fe_plain", ""))
    BROKER = ("enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true")
    CLIENT = {"tls": True}

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.refused(frontend="fe_plain", tls=False,
                     log="Connection from 127.0.0.2:%d rejected, client did not connect using "
                         "TLS.")


class T7MutualTlsRequireCertificate(Setup):
    """`verify optional` so that a client without a certificate reaches the broker, which
    must refuse it; a certificate from another CA is refused by HAProxy itself."""
    SERVER = "send-proxy-v2-ssl"
    FRONTENDS = (("fe", "ssl crt {server.pem} verify optional ca-file {ca.pem}"),)
    BROKER = ("enable_proxy_protocol 2", "proxy_protocol_v2_require_tls true",
              "require_certificate true")
    CLIENT = {"tls_cert": "client-one"}

    def test_setup(self):
        self.flow()
        self.checks_ran_without_errors()
        self.refused(tls_cert=None, tls=True,
                     log="Connection from 127.0.0.2:%d rejected, client did not provide a "
                         "certificate.")
        self.refused(tls_cert="client-rogue")


class T8MutualTlsCnAsUsername(Setup):
    """send-proxy-v2-ssl-cn + use_identity_as_username: the username is the certificate CN
    whatever CONNECT says, and the ACL file grants that user its topics."""
    SERVER = "send-proxy-v2-ssl-cn"
    FRONTENDS = (("fe", "ssl crt {server.pem} verify required ca-file {ca.pem}"),)
    BROKER = ("enable_proxy_protocol 2", "require_certificate true",
              "use_identity_as_username true")
    CLIENT = {"tls_cert": "client-one"}

    @classmethod
    def setUpClass(cls):
        cls.acl = os.path.join(make_certs()["ca.pem"] + ".acl")
        with open(cls.acl, "w") as f:
            # anonymous control clients may read $SYS; client-one gets its own subtree
            f.write("topic read $SYS/#\n\nuser client-one\ntopic readwrite proxy/client-one/#\n")
        os.chmod(cls.acl, 0o644)
        cls.GLOBAL = ("acl_file " + cls.acl,)
        super().setUpClass()

    def test_setup(self):
        self.flow(topic="proxy/client-one/t", username="impostor")
        self.broker.wait_log("u'client-one')", count=2)
        self.assertFalse([l for l in self.broker.lines() if "impostor" in l])
        self.checks_ran_without_errors()
        self.refused(tls_cert="client-rogue")
        self.refused(tls_cert=None, tls=True)


class T9MqttHealthCheckProxyV2(Setup):
    """An MQTT health check through `send-proxy-v2`: each check is a LOCAL header, then CONNECT,
    and HAProxy wants a CONNACK. LOCAL is accepted with the socket's addresses (semantics
    reference §9 decisions 7-8, revised), so the server stays UP on layer-7 checks and each one
    is counted in $SYS/broker/proxy/health_checks. (2.1.2 closes LOCAL connections: such a check
    marks it DOWN.) Debian 12's HAProxy 2.6 has no `option mqtt-chk`, so the check is spelled out
    with tcp-check: the same CONNECT (MQTT 3.1.1, client id haproxy-check) and the CONNACK
    "accepted" it expects."""
    SERVER = "send-proxy-v2"
    BROKER = ("enable_proxy_protocol 2",)
    GLOBAL = ("sys_interval 1",)
    BACKEND = ("option tcp-check",
               "tcp-check send-binary 101900044d5154540402001e000d686170726f78792d636865636b",
               "tcp-check expect binary 20020000")
    CHECK_STATUS = "L7OK"

    def test_setup(self):
        def passing_many():
            st = self.haproxy.stat()
            return (st["status"] == "UP" and st["check_status"] == "L7OK"
                    and st["chkfail"] == "0" and st["chkdown"] == "0"
                    and int(st["lastchg"]) >= 2)
        wait_for(passing_many, 15, "MQTT checks to pass for 2 s (about 10 checks)", 0.1)
        # HAProxy's own log says why a check passed: a CONNACK came back
        self.assertRegex(self.haproxy.log(), r"Health check for server be/mosq succeeded")
        # the checks reached MQTT with the socket's own address (HAProxy's 127.0.0.1)
        self.broker.wait_log("New client connected from 127.0.0.1:")
        self.broker.barrier()
        bad = [l for l in self.broker.lines() if "rejected" in l or "error" in l.lower()]
        self.assertEqual(bad, [], "health checks caused error lines")
        w = SysWatcher(self.broker, "$SYS/broker/proxy/health_checks")
        try:
            w.wait("$SYS/broker/proxy/health_checks", lambda v: v >= 5)
        finally:
            w.close()
        self.flow()                      # real clients still get their own address


if __name__ == "__main__":
    unittest.main()
