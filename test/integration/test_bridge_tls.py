"""Bridges over TLS (bridge_cafile/capath/certfile/keyfile/insecure/tls_version/alpn/
identity+psk/tls_use_os_certs): our broker as a TLS client of a remote broker, ours or Debian's
Mosquitto 2.0.11, with the throw-away PKI of pki.py (server certificate for DNS:localhost and
IP:127.0.0.1), and a Python TLS server where the test must see what the bridge offered.

Reference answers (Mosquitto 2.1.2, ../shared/oracle, bridging to Debian's 2.0.11 with this PKI,
observed 2026-11-30 and recorded here):
- TLS is on when bridge_cafile, bridge_capath, bridge_tls_use_os_certs or bridge_identity is
  set; bridge_certfile, bridge_alpn or bridge_insecure alone connect in clear (ours warns).
- a CA that did not sign the remote's certificate:
    OpenSSL Error while trying to get the error[0]: error:0A000086:SSL routines::certificate
    verify failed
    Client local.vm.b1 [(null):0] disconnected: Protocol error.
    Bridge b1 next backoff will be 1485 ms
  then "Connecting bridge b1 (...)" again; the remote logs "tlsv1 alert unknown ca".
- the address 127.0.0.2 (not in the certificate): the same OpenSSL line, then "disconnected:
  bad socket read/write: A TLS error occurred" (ours: "Protocol error" for both, and a line
  naming the reason, e.g. "IP address mismatch"); the remote logs "sslv3 alert bad
  certificate".
- a missing bridge_cafile, at each attempt:
    Error: Unable to load CA certificates, check bridge_cafile "/nonexistent.crt".
    OpenSSL Error while trying to load the ca[0]: error:80000002:system library::No such file...
    Warning: Unable to connect bridge b1.
- a missing certificate / key: "Error: Unable to load client certificate, check
  bridge_certfile "F"." / "Error: Unable to load client key file, check bridge_keyfile "F"."
- bridge_tls_version tlsv1.0: "Error: Protocol tlsv1.0 not supported." then the warning.
- bridge_identity/bridge_psk against a psk_hint listener: connects; a wrong key: "OpenSSL
  Error ...: sslv3 alert bad record mac" (2.0.11 remote: "binder does not verify" with TLS 1.3).
- bridge_require_ocsp true: 2.1.2 takes it and asks for a stapled response; ours refuses it at
  start-up (no OCSP response checking in this build; see test_bridge_config.py).
"""

import os
import socket
import ssl
import subprocess
import time
import unittest

import pki
from broker import DEBIAN_BIN, free_port, make_tmpdir
import mqtt_raw
from test_bridge import BridgeBase, bridge_conf

_PKI = {}


def get_pki():
    if not _PKI:
        d = os.path.join(make_tmpdir(), "pki")
        os.makedirs(d)
        os.chmod(d, 0o755)
        _PKI.update(pki.make_pki(d))
        _PKI["dir"] = d
    return _PKI


def tls_listener(port, p, extra="", bind="127.0.0.1"):
    """A TLS listener section for the remote broker (its plain listener stays for clients)."""
    return "\n".join(["listener %d %s" % (port, bind), "certfile " + p["server_chain"],
                      "keyfile " + p["server_key"], extra.strip()]) + "\n"


class TlsBridgeTest(BridgeBase):

    def remote_tls(self, extra="", binary=None, bind="127.0.0.1"):
        p = get_pki()
        tport = free_port()
        remote = self.broker(tls_listener(tport, p, extra, bind), binary=binary)
        return remote, tport

    def connected(self, local, remote, timeout=10):
        remote.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as \S+\.b1", timeout=timeout)
        self.bridged(remote, local)

    # ---- working connections ----------------------------------------------------------------

    def test_cafile_to_ours_both_ways(self):
        remote, tport = self.remote_tls()
        p = get_pki()
        local = self.broker(bridge_conf(tport, ["a/# both 1 loc/ rem/"],
                                        extra="bridge_cafile " + p["ca"]))
        self.connected(local, remote)
        self.both_ways(remote, local)
        # Encrypted: the remote's listener ran a handshake for it, nothing in clear.
        self.assertFalse(remote.log_has(r"plaintext MQTT"))

    def test_host_name_and_client_certificate_to_debian(self):
        """address localhost (the certificate's DNS name), our client certificate required by
        Debian's 2.0.11, which takes its CN as the user name."""
        p = get_pki()
        remote, tport = self.remote_tls(
            "cafile %s\nrequire_certificate true\nuse_identity_as_username true" % p["ca"],
            binary=DEBIAN_BIN)
        local = self.broker(bridge_conf(
            tport, ["a/# both 1 loc/ rem/"], addresses="localhost:%d" % tport,
            extra="bridge_cafile %s\nbridge_certfile %s\nbridge_keyfile %s"
                  % (p["ca"], p["client"], p["client_key"])))
        # "localhost" resolves to ::1 first, where nothing listens: the bridge moves on to
        # 127.0.0.1 within the same attempt.
        remote.wait_log(r"New bridge connected from 127\.0\.0\.1:\d+ as \S+\.b1 \(p2, c0, k60, "
                        r"u'client-cn'\)\.", timeout=10)
        self.bridged(remote, local)
        self.both_ways(remote, local)

    def test_capath(self):
        p = get_pki()
        d = os.path.join(self.tmpdir(), "capath")
        os.makedirs(d)
        with open(p["ca"]) as src, open(os.path.join(d, "root.pem"), "w") as dst:
            dst.write(src.read())
        subprocess.run(["openssl", "rehash", d], check=True, stdout=subprocess.DEVNULL)
        remote, tport = self.remote_tls()
        local = self.broker(bridge_conf(tport, ["a/# out 1"], extra="bridge_capath " + d))
        self.connected(local, remote)

    def test_psk_to_ours_and_debian(self):
        for binary in (None, DEBIAN_BIN):
            with self.subTest(remote=binary or "ours"):
                d = self.tmpdir()
                psk = os.path.join(d, "psk")
                with open(psk, "w") as f:
                    f.write("bridge1:0123456789abcdef\n")
                os.chmod(psk, 0o644)
                tport = free_port()
                remote = self.broker("psk_file %s\nlistener %d 127.0.0.1\npsk_hint h\n"
                                     "use_identity_as_username true\n" % (psk, tport),
                                     binary=binary)
                local = self.broker(bridge_conf(tport, ["a/# both 1 loc/ rem/"],
                                                extra="bridge_identity bridge1\n"
                                                      "bridge_psk 0123456789abcdef"))
                self.connected(local, remote)
                self.both_ways(remote, local)
                # A wrong key: the handshake fails, the bridge says so and tries again.
                bad = self.broker(bridge_conf(tport, ["a/# out 1"], name="b1",
                                              extra="bridge_identity bridge1\n"
                                                    "bridge_psk 00112233"))
                bad.wait_log(r"OpenSSL Error while trying to get the error\[0\]: ", timeout=10)
                bad.wait_log(r"Client local\.\S+ \[127\.0\.0\.1:%d\] disconnected: Protocol "
                             r"error\." % tport, timeout=5)
                mark = bad.mark()
                bad.wait_log(r"Connecting bridge b1", since=mark, timeout=10)

    # ---- refused remotes: a line saying why, and the backoff -------------------------------

    def assert_retries(self, local, port, reason):
        local.wait_log(r"OpenSSL Error while trying to get the error\[0\]: error:0A000086:SSL "
                       r"routines::certificate verify failed", timeout=10)
        local.wait_log(r"Bridge local\.\S+: certificate of the remote broker [\d.]+:%d "
                       r"rejected: %s\." % (port, reason), timeout=5)
        local.wait_log(r"Client local\.\S+ \[[\d.]+:%d\] disconnected: Protocol error\." % port,
                       timeout=5)
        m = local.wait_log(r"Bridge b1 next backoff will be (\d+) ms", timeout=5)
        # restart_timeout 1 3: the first delay is drawn from [1 s, 3 s] as 2.1.2's.
        self.assertGreaterEqual(int(m.group(1)), 1000)
        self.assertLessEqual(int(m.group(1)), 3000)
        local.wait_log(r"Connecting bridge b1", since=local.mark(), timeout=10)
        self.assert_still_serving(local)

    def test_wrong_ca_fails_and_retries(self):
        p = get_pki()
        remote, tport = self.remote_tls()
        local = self.broker(bridge_conf(tport, ["a/# out 1"], extra="restart_timeout 1 3\n"
                                        "bridge_cafile " + p["other_ca"]))
        self.assert_retries(local, tport, "unable to get local issuer certificate")
        self.assertFalse(remote.log_has(r"New bridge connected"))

    def test_wrong_host_name_fails_insecure_connects(self):
        p = get_pki()
        remote, tport = self.remote_tls(bind="0.0.0.0")
        local = self.broker(bridge_conf(tport, ["a/# out 1"], addresses="127.0.0.2:%d" % tport,
                                        extra="restart_timeout 1 3\nbridge_cafile " + p["ca"]))
        self.assert_retries(local, tport, "IP address mismatch")
        self.assertFalse(remote.log_has(r"New bridge connected"))
        # bridge_insecure: the chain is still checked, the name is not.
        ok = self.broker(bridge_conf(tport, ["a/# out 1"], name="b2",
                                     addresses="127.0.0.2:%d" % tport,
                                     extra="bridge_cafile %s\nbridge_insecure true" % p["ca"]))
        ok.wait_log(r"Received (UN)?SUBACK from local\.", timeout=10)
        self.assertRegex(ok.output(), r"Warning: Bridge 'b2' using insecure mode\.")

    def test_os_certs_do_not_trust_the_test_ca(self):
        remote, tport = self.remote_tls()
        local = self.broker(bridge_conf(tport, ["a/# out 1"], addresses="localhost:%d" % tport,
                                        extra="bridge_tls_use_os_certs true"))
        local.wait_log(r"certificate of the remote broker localhost:%d rejected: unable to get "
                       r"local issuer certificate\." % tport, timeout=10)

    def test_unreadable_files_logged_each_attempt(self):
        p = get_pki()
        cases = [
            ("bridge_cafile /nonexistent.crt",
             r'Error: Unable to load CA certificates, check bridge_cafile "/nonexistent\.crt"\.',
             r"OpenSSL Error while trying to load the ca\[0\]: "),
            ("bridge_cafile %s\nbridge_certfile /nonexistent.crt\nbridge_keyfile %s"
             % (p["ca"], p["client_key"]),
             r'Error: Unable to load client certificate, check bridge_certfile '
             r'"/nonexistent\.crt"\.',
             r"OpenSSL Error while trying to use the certificate chain file\[0\]: "),
            ("bridge_cafile %s\nbridge_certfile %s\nbridge_keyfile %s"
             % (p["ca"], p["client"], p["other_key"]),
             r'Error: Unable to load client key file, check bridge_keyfile "%s"\.'
             % p["other_key"],
             r"OpenSSL Error while trying to use the private key file\[0\]: .*key values "
             r"mismatch"),
            ("bridge_cafile %s\nbridge_tls_version tlsv1.0" % p["ca"],
             r"Error: Protocol tlsv1\.0 not supported\.", None),
        ]
        for extra, err, ossl in cases:
            with self.subTest(extra=extra):
                local = self.broker(bridge_conf(free_port(), ["a/# out 1"], extra=extra))
                local.wait_log(err, timeout=10)
                if ossl:
                    local.wait_log(ossl, timeout=5)
                local.wait_log(r"Warning: Unable to connect bridge b1\.", timeout=5)
                local.wait_log(r"Connecting bridge b1", since=local.mark(), timeout=10)
                self.assert_still_serving(local)
                local.stop()

    # ---- what the bridge offers: a Python TLS server looks -------------------------------------

    def fake_tls_remote(self, configure):
        """A TLS server on loopback that records SNI, ALPN and version of each handshake."""
        p = get_pki()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(p["server_chain"], p["server_key"])
        seen = []

        def sni(sock, name, _ctx):
            seen.append(("sni", name))
        ctx.sni_callback = sni
        configure(ctx)
        def handshake(c):
            c.settimeout(5)
            try:
                t = ctx.wrap_socket(c, server_side=True)
                seen.append(("ok", t.version(), t.selected_alpn_protocol()))
                t.close()
            except (ssl.SSLError, OSError) as e:
                seen.append(("fail", str(e)))
        return self._fake_remote(handshake)[0], seen

    def test_sni_alpn_and_version(self):
        port, seen = self.fake_tls_remote(lambda ctx: ctx.set_alpn_protocols(["mqtt"]))
        p = get_pki()
        self.broker(bridge_conf(port, ["a/# out 1"], addresses="localhost:%d" % port,
                                extra="bridge_cafile %s\nbridge_alpn mqtt\n"
                                      "bridge_tls_version tlsv1.3" % p["ca"]))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(s[0] == "ok" for s in seen):
            time.sleep(0.05)
        self.assertIn(("sni", "localhost"), seen)
        self.assertIn(("ok", "TLSv1.3", "mqtt"), seen)

    def test_tls_version_minimum_refuses_older_remote(self):
        def only_12(ctx):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        port, seen = self.fake_tls_remote(only_12)
        p = get_pki()
        local = self.broker(bridge_conf(port, ["a/# out 1"],
                                        extra="bridge_cafile %s\nbridge_tls_version tlsv1.3"
                                              % p["ca"]))
        local.wait_log(r"OpenSSL Error while trying to get the error\[0\]: ", timeout=10)
        local.wait_log(r"disconnected: Protocol error\.", timeout=5)
        self.assertFalse(any(s[0] == "ok" for s in seen))


if __name__ == "__main__":
    unittest.main()
