"""test_ws_tls.py - websockets over the broker's own TLS (`protocol websockets` + `certfile`),
alone and behind the PROXY protocol: paho with transport="websockets" and tls_set, a raw
websocket client over Python's ssl module, and HAProxy in `mode tcp` with `send-proxy-v2`.

The TLS stage is tls.c's, as on MQTT listeners (ws_tls.c relays the plaintext to
libwebsockets), so the options and log lines are the same. Expected lines are Mosquitto
2.1.2's answers to the same input (../shared/oracle, `protocol websockets` + certfile + cafile,
same PKI, 2026-11-30), quoted where they are asserted. 2.1.2 cannot put a PROXY header in front
of its own TLS; those tests have no oracle answer."""

import os
import shutil
import signal
import socket
import ssl
import time
import unittest

import mqtt_raw as m
import pki
import test_websockets as tw
from proxy_fixture import Broker, HAProxy, open_conn, v1, v2, wait_closed, wait_for
from test_tls import TlsCase, get_pki, tls_ctx

WSS = ("protocol websockets", "certfile {server_chain}", "keyfile {server_key}")
UPGRADE = (b"GET /mqtt HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade"
           b"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: mqtt\r\n\r\n")


def Wss(port, p, client_id, cert=None, ca=None, ctx=None, bind="", username=None):
    """paho over websockets with tls_set (test_websockets.Paho); "localhost" is the name in
    the server certificate."""
    def prepare(c):
        if ctx is not None:
            c.tls_set_context(ctx)
        else:
            c.tls_set(ca_certs=ca or p["ca"], certfile=cert and p[cert],
                      keyfile=cert and p[cert + "_key"])
        if username is not None:
            c.username_pw_set(username)
    return tw.Paho(port, client_id, transport="websockets", prepare=prepare, host="localhost",
                   bind=bind)


def got(c):
    msg = c.expect(timeout=10)
    return msg.topic, msg.payload


def refused(port, p, **kw):
    """Tries a paho websocket-over-TLS connection that must fail; returns the exception."""
    try:
        Wss(port, p, "refused-%d" % time.monotonic_ns(), **kw).stop()
    except Exception as e:  # noqa: BLE001 (ssl errors, websocket upgrade errors, no CONNACK)
        return e
    raise AssertionError("connected, but should have been refused")


def raw_wss(sock, p, cert=None):
    """A raw websocket client (test_websockets.WsConn) over TLS on sock."""
    return tw.WsConn(None, sock=tls_ctx(p, cert).wrap_socket(sock, server_hostname="localhost"))


def fd_count(b):
    return len(os.listdir("/proc/%d/fd" % b.proc.pid))


class WssCase(TlsCase):
    LISTENER = WSS

    def assert_serving(self):
        c = Wss(self.b.port, self.p, "probe-%d" % time.monotonic_ns())
        c.subscribe("probe/t", 1)
        c.publish("probe/t", b"p", 1)
        self.assertEqual(got(c), ("probe/t", b"p"))
        c.stop()


class ServerOnly(WssCase):
    """The browser set-up: certfile + keyfile, clients check the server against the CA."""

    def test_paho_round_trip(self):
        # 2.1.2: "New connection from 127.0.0.1:52135 on port 48375." ... "Client good
        # negotiated TLSv1.3 cipher TLS_AES_256_GCM_SHA384"
        c = Wss(self.b.port, self.p, "wss-paho")
        c.subscribe("wss/t", 1)
        c.publish("wss/t", b"hello", 1)
        self.assertEqual(got(c), ("wss/t", b"hello"))
        c.stop()
        self.log("New connection from 127.0.0.1:")
        self.log("Client wss-paho negotiated TLSv1.3 cipher TLS_AES_256_GCM_SHA384")
        self.log("Client wss-paho [127.0.0.1:")

    def test_large_messages_both_ways(self):
        # more than the relay's buffers and the socketpair hold at once, in both directions
        big = os.urandom(700 * 1024)
        c = Wss(self.b.port, self.p, "wss-big")
        c.subscribe("big/t", 1)
        for i in range(3):
            c.publish("big/t", big[i:], 1)
        for i in range(3):
            self.assertEqual(got(c), ("big/t", big[i:]))
        c.stop()

    def test_subscriber_that_stops_reading(self):
        # 6 MB for a subscriber that reads nothing: TLS, the relay, the socketpair and
        # libwebsockets all fill up; others are served meanwhile, and once it reads, every
        # message arrives whole and in order.
        big = [bytes([i]) * (384 * 1024) for i in range(16)]
        slow = raw_wss(open_conn(self.b.port), self.p)
        slow.send(m.connect("wss-slow"))
        self.assertEqual(slow.expect(m.CONNACK).rc, 0)
        slow.send(m.subscribe(1, [("slow/t", 1)]))
        slow.expect(m.SUBACK)
        pub = Wss(self.b.port, self.p, "wss-slow-pub")
        for payload in big:
            pub.publish("slow/t", payload, 1)
        pub.stop()
        self.assert_serving()
        for i, payload in enumerate(big):
            pkt = slow.expect(m.PUBLISH, timeout=20)
            self.assertEqual((pkt.topic, len(pkt.payload), pkt.payload[:1]),
                             ("slow/t", len(payload), payload[:1]), "message %d" % i)
            self.assertEqual(pkt.payload, payload)
            slow.send(m.puback(pkt.mid))
        slow.send(m.disconnect())
        slow.close()

    def test_wrong_ca_refused_by_client(self):
        # 2.1.2: "OpenSSL Error while trying to get the error[0]: error:0A000418:SSL
        # routines::tlsv1 alert unknown ca" then "Client 127.0.0.1 [127.0.0.1:60567]
        # disconnected: Protocol error."
        e = refused(self.b.port, self.p, ca=self.p["other_ca"])
        self.assertIsInstance(e, ssl.SSLCertVerificationError)
        self.log("OpenSSL Error while trying to get the error[0]: error:0A000418:SSL "
                 "routines::tlsv1 alert unknown ca")
        self.log("disconnected: Protocol error.")

    def test_plaintext_websocket_refused(self):
        # 2.1.2: "OpenSSL Error while trying to get the error[0]: error:0A00009C:SSL
        # routines::http request" then "Client 127.0.0.1 [127.0.0.1:55588] disconnected:
        # Protocol error." (and it resets the connection; we close it)
        s = open_conn(self.b.port)
        s.sendall(UPGRADE)
        wait_closed(s)
        port = s.getsockname()[1]
        self.log("OpenSSL Error while trying to get the error[0]: error:0A00009C:SSL "
                 "routines::http request")
        self.log("Client 127.0.0.1:%d sent plaintext HTTP (a websocket without TLS?) to a TLS "
                 "listener." % port)
        self.log("Client 127.0.0.1 [127.0.0.1:%d] disconnected: Protocol error." % port)
        self.assert_serving()

    def test_plaintext_mqtt_refused(self):
        # 2.1.2: "... error:0A00010B:SSL routines::wrong version number"
        s = open_conn(self.b.port)
        s.sendall(m.connect("plain"))
        wait_closed(s)
        self.log("error:0A00010B:SSL routines::wrong version number")
        self.log("sent plaintext MQTT (CONNECT) to a TLS listener.")

    def test_stalled_handshake_and_upgrade_do_not_block_others(self):
        # Half a ClientHello, then silence: closed at the handshake deadline (10 s) with a line
        # naming the peer. TLS done and half an upgrade request, then silence: closed at the
        # CONNECT deadline, as 2.1.2 does ("Client 127.0.0.1 [127.0.0.1:49630] disconnected:
        # exceeded timeout." 30 s after "New connection from"; libwebsockets alone would drop
        # it after 10 s, which looked like the client's doing). Others are served meanwhile.
        hello = open_conn(self.b.port)
        hello.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        upgrade = tls_ctx(self.p).wrap_socket(open_conn(self.b.port),
                                              server_hostname="localhost")
        upgrade.sendall(UPGRADE[:30])
        t0 = time.monotonic()
        self.assert_serving()
        self.assertLess(time.monotonic() - t0, 5.0)
        self.log("[127.0.0.1:%d] disconnected: TLS handshake not complete within 10 seconds."
                 % hello.getsockname()[1], timeout=15)
        wait_closed(hello, timeout=3)
        self.log("Client 127.0.0.1 [127.0.0.1:%d] disconnected: exceeded timeout."
                 % upgrade.getsockname()[1], timeout=40)
        self.assertGreater(time.monotonic() - t0, 25)
        wait_closed(upgrade, timeout=5)

    def test_closes_free_everything(self):
        # Both ends of each relay go away with the connection, whoever closes it: the client
        # (DISCONNECT, or dropping TLS), or the broker (a session taken over).
        base = fd_count(self.b)
        for i in range(5):
            Wss(self.b.port, self.p, "cycle-%d" % i).stop()
            s = raw_wss(open_conn(self.b.port), self.p)
            s.send(m.connect("raw-%d" % i))
            self.assertEqual(s.expect(m.CONNACK).rc, 0)
            s.sock.close()
        first = Wss(self.b.port, self.p, "twice")
        second = Wss(self.b.port, self.p, "twice")
        self.assertTrue(first.disconnected.wait(10), "the taken-over client was not closed")
        first.c.loop_stop()
        second.stop()
        wait_for(lambda: fd_count(self.b) <= base, timeout=10,
                 what="descriptors back to %d (now %d)" % (base, fd_count(self.b)))

    def test_broker_close_sends_close_frame(self):
        # A refused CONNECT: CONNACK, then libwebsockets' close frame through the relay, then
        # TLS close_notify and the end of the stream.
        s = raw_wss(open_conn(self.b.port), self.p)
        s.send(m.connect("", proto=m.V31))   # 3.1 does not allow an empty client id
        self.assertEqual(s.expect(m.CONNACK).rc, 2)
        self.assertEqual(s.expect_closed(), [])
        self.assertEqual(s.close_frame[0], 1000)


class RequireCertificate(WssCase):
    LISTENER = WSS + ("cafile {ca}", "require_certificate true", "use_identity_as_username true",
                      "crlfile {crl}")
    GLOBAL = ("acl_file {dir}/acl-wss",)
    FILES = {"acl-wss": "user client-cn\ntopic readwrite mine/#\n"}

    def test_identity_is_username_and_acl_grants_by_it(self):
        # 2.1.2 (MQTT listener, same options): "... as cn-pub (p4, c1, k60, u'client-cn')."
        c = Wss(self.b.port, self.p, "wss-cn", cert="client", username="someone-else")
        self.log("as wss-cn (p4, c1, k60, u'client-cn').")
        c.subscribe("mine/t", 1)
        c.subscribe("other/t", 1)   # granted (as 2.1.2 does) but nothing denied is delivered
        c.publish("other/t", b"denied", qos=0)
        c.publish("mine/t", b"ok", qos=0)
        self.assertEqual(got(c), ("mine/t", b"ok"))
        c.stop()

    def test_no_certificate(self):
        # 2.1.2: "... error:0A0000C7:SSL routines::peer did not return a certificate"
        refused(self.b.port, self.p)
        self.log("OpenSSL Error while trying to get the error[0]: error:0A0000C7:SSL "
                 "routines::peer did not return a certificate")
        self.log("disconnected: Protocol error.")

    def test_revoked(self):
        refused(self.b.port, self.p, cert="revoked")
        self.log("error:0A000086:SSL routines::certificate verify failed")
        self.log("rejected: certificate revoked.")

    def test_other_ca(self):
        refused(self.b.port, self.p, cert="other")
        self.log("rejected: unable to get local issuer certificate.")


class SubjectAsUsername(WssCase):
    LISTENER = WSS + ("cafile {ca}", "require_certificate true", "use_subject_as_username true")

    def test_subject_text(self):
        # 2.1.2: u'CN=subject-client,OU=Testing,O=Mosquitto Project,L=Derby,ST=Derbyshire,C=GB'
        Wss(self.b.port, self.p, "wss-subj", cert="subject").stop()
        self.log("as wss-subj (p4, c1, k60, u'CN=subject-client,OU=Testing,O=Mosquitto Project,"
                 "L=Derby,ST=Derbyshire,C=GB').")


class VersionAndCiphers(WssCase):
    LISTENER = WSS + ("tls_version tlsv1.2", "ciphers ECDHE-ECDSA-AES128-GCM-SHA256")

    def test_tls12_cipher(self):
        ctx = tls_ctx(self.p)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        Wss(self.b.port, self.p, "wss-12", ctx=ctx).stop()
        self.log("Client wss-12 negotiated TLSv1.2 cipher ECDHE-ECDSA-AES128-GCM-SHA256")


class ProxyThenWss(WssCase):
    """enable_proxy_protocol 2|1 + websockets + certfile: the header in clear, our handshake,
    then the upgrade. The address comes from the header, the identity from our check (the
    header's SSL TLVs are ignored). 2.1.2 refuses PROXY with its own TLS at start-up."""
    LISTENER = WSS + ("enable_proxy_protocol 2", "cafile {ca}", "require_certificate true",
                      "use_identity_as_username true")

    def test_v2_header_then_wss(self):
        s = open_conn(self.b.port)
        s.sendall(v2(src="198.51.100.9", sport=4444))
        c = raw_wss(s, self.p, "client")
        c.send(m.connect("wss-proxied"))
        self.assertEqual(c.expect(m.CONNACK).rc, 0)
        self.log("New client connected from 198.51.100.9:4444 as wss-proxied (p4, c1, k60, "
                 "u'client-cn').")
        c.send(m.disconnect())
        c.close()

    def test_v2_header_without_certificate(self):
        s = open_conn(self.b.port)
        s.sendall(v2(src="198.51.100.10", sport=4445))
        try:
            c = raw_wss(s, self.p)
            c.send(m.connect("no-cert"))
            c.expect(m.CONNACK)
            self.fail("CONNACK without a client certificate")
        except (ssl.SSLError, OSError, m.ProtocolError):
            pass
        self.log("peer did not return a certificate")
        self.log("Client 198.51.100.10 [198.51.100.10:4445] disconnected: Protocol error.")


class ProxyV1ThenWss(WssCase):
    LISTENER = WSS + ("enable_proxy_protocol 1",)

    def test_v1_header_then_wss(self):
        s = open_conn(self.b.port)
        s.sendall(v1(src="203.0.113.4", sport=5151))
        c = raw_wss(s, self.p)
        c.send(m.connect("wss-v1"))
        self.assertEqual(c.expect(m.CONNACK).rc, 0)
        self.log("New client connected from 203.0.113.4:5151 as wss-v1 (p4, c1, k60).")
        c.close()


@unittest.skipIf(shutil.which("haproxy") is None, "haproxy not installed")
class HaproxyThenWss(unittest.TestCase):
    """Websockets over end-to-end TLS through HAProxy `mode tcp` + `send-proxy-v2`: HAProxy sees
    only ciphertext; the broker logs the client's real address (127.0.0.2) and takes the
    identity from the certificate it checked itself."""

    def test_paho_through_haproxy(self):
        p = get_pki()
        b = Broker([l.format(**p) for l in WSS] +
                   ["enable_proxy_protocol 2", "cafile " + p["ca"], "require_certificate true",
                    "use_identity_as_username true"])
        b.start()
        h = HAProxy(b.port, "send-proxy-v2")
        try:
            h.start()
            h.wait_up()
            c = Wss(h.ports["fe"], p, "wss-haproxy", cert="client", bind="127.0.0.2")
            c.subscribe("ha/t", 1)
            c.publish("ha/t", b"through", 1)
            self.assertEqual(got(c), ("ha/t", b"through"))
            c.stop()
            b.wait_log(r"New client connected from 127\.0\.0\.2:\d+ as wss-haproxy \(p4, c1, "
                       r"k60, u'client-cn'\)\.", regex=True)
            b.wait_log(r"Client wss-haproxy \[127\.0\.0\.2:\d+\] disconnected\.", regex=True)
        finally:
            h.stop()
            b.stop()


class Reload(unittest.TestCase):
    """SIGHUP rereads certificate and key for new websocket-over-TLS connections; a connected
    client stays and keeps receiving."""

    def test_reload(self):
        p = get_pki()
        b = Broker(["protocol websockets", "certfile {tmp}/cert.pem", "keyfile {tmp}/key.pem"])
        shutil.copy(p["server_chain"], os.path.join(b.tmp, "cert.pem"))
        shutil.copy(p["server_key"], os.path.join(b.tmp, "key.pem"))
        for f in ("cert.pem", "key.pem"):
            os.chmod(os.path.join(b.tmp, f), 0o644)
        b.start()

        def serial():
            s = tls_ctx(p).wrap_socket(open_conn(b.port), server_hostname="localhost")
            n = s.getpeercert()["serialNumber"]
            s.close()
            return n
        try:
            stay = Wss(b.port, p, "wss-stayer")
            stay.subscribe("r/t", 1)
            before = serial()
            new = pki._issue(p["dir"], {"conf": os.path.join(p["dir"], "inter_db", "ca.cnf"),
                                        "crt": p["inter"],
                                        "key": os.path.join(p["dir"], "inter.key")},
                             "wss-renewed-%d" % time.monotonic_ns(), "/CN=localhost",
                             "v3_server")
            with open(os.path.join(b.tmp, "cert.pem"), "w") as out:
                for part in (new[0], p["inter"]):
                    with open(part) as f:
                        out.write(f.read())
            shutil.copy(new[1], os.path.join(b.tmp, "key.pem"))
            os.chmod(os.path.join(b.tmp, "key.pem"), 0o644)
            mark = b.mark()
            b.proc.send_signal(signal.SIGHUP)
            b.wait_log("Reloading config.", since=mark)
            wait_for(lambda: serial() != before, what="the renewed certificate")
            pub = Wss(b.port, p, "wss-pub-after")
            pub.publish("r/t", b"after", 1)
            self.assertEqual(got(stay), ("r/t", b"after"))
            self.assertFalse(stay.disconnected.is_set())
            pub.stop()
            stay.stop()
        finally:
            b.stop()


if __name__ == "__main__":
    unittest.main()
