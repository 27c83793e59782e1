"""test_tls_options.py - TLS listener options beyond test_tls.py: `capath` (a hashed directory
made with `openssl rehash`), `tls_version tlsv1.1` and `dhparamfile`.

Expected lines are Mosquitto 2.1.2's answers to the same input (../shared/oracle, same PKI and
options, 2026-11-30), quoted where they are asserted."""

import os
import shutil
import ssl
import subprocess
import time
import unittest

from proxy_fixture import Broker, Mqtt, open_conn
from test_tls import get_pki, pub_args, server_lines, tls_ctx, tool


def hashed_dir(p):
    """A capath directory holding only the root CA, under its subject-hash name."""
    d = os.path.join(p["dir"], "capath-%d-%d" % (os.getpid(), time.monotonic_ns()))
    os.makedirs(d)
    shutil.copy(p["ca"], os.path.join(d, "ca.crt"))
    subprocess.run(["openssl", "rehash", d], check=True)
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o644)
    os.chmod(d, 0o755)  # the broker runs as 'mosquitto'
    return d


class Capath(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = get_pki()
        cls.capath = hashed_dir(cls.p)
        cls.b = Broker(server_lines(cls.p, "capath " + cls.capath, "require_certificate true",
                                    "use_identity_as_username true"))
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def test_client_from_hashed_ca_accepted(self):
        # 2.1.2: "New client connected from 127.0.0.1:36402 as capok (p4, c1, k60,
        # u'client-cn')."
        m = self.b.mark()
        r = tool(pub_args(self.b.port, self.p, "client", ["-i", "capok"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.b.wait_log("as capok (p4, c1, k60, u'client-cn').", since=m)

    def test_client_from_other_ca_refused(self):
        # 2.1.2: "OpenSSL Error while trying to get the error[0]: error:0A000086:SSL
        # routines::certificate verify failed" + "... disconnected: Protocol error."
        m = self.b.mark()
        r = tool(pub_args(self.b.port, self.p, "other", ["-i", "capother"]))
        self.assertNotEqual(r.returncode, 0)
        self.b.wait_log("error:0A000086:SSL routines::certificate verify failed", since=m)
        self.b.wait_log("rejected: unable to get local issuer certificate.", since=m)

    def test_empty_directory_trusts_nobody(self):
        empty = os.path.join(self.p["dir"], "capath-empty-%d" % time.monotonic_ns())
        os.makedirs(empty)
        os.chmod(empty, 0o755)
        b = Broker(server_lines(self.p, "capath " + empty, "require_certificate true"))
        b.start()
        try:
            m = b.mark()
            r = tool(pub_args(b.port, self.p, "client", ["-i", "nobody"]))
            self.assertNotEqual(r.returncode, 0)
            b.wait_log("error:0A000086:SSL routines::certificate verify failed", since=m)
        finally:
            b.stop()


class Tls11(unittest.TestCase):
    """`tls_version tlsv1.1` lowers the minimum to TLS 1.1 in the configuration, but Debian's
    OpenSSL 3.0 allows TLS 1.0/1.1 only at security level 0 (its default is 2), and the
    broker, like 2.1.2, keeps the default: a TLS 1.1 client is refused even when it lowers
    its own level. Clients at Debian's defaults have no cipher for TLS 1.1 and do not try. TLS 1.2 and 1.3
    clients are served."""

    @classmethod
    def setUpClass(cls):
        cls.p = get_pki()
        cls.b = Broker(server_lines(cls.p, "tls_version tlsv1.1"))
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def test_startup_warning(self):
        # 2.1.2, right after "Opening ipv4 listen socket on port ...": "Please be aware that
        # support for TLS v1.1 will go away eventually and that you should plan now to migrate
        # away from it."
        self.assertIn("Please be aware that support for TLS v1.1 will go away eventually and "
                      "that you should plan now to migrate away from it.", self.b.output())

    def test_tls12_client_served(self):
        ctx = tls_ctx(self.p)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        m = self.b.mark()
        c = Mqtt(ctx.wrap_socket(open_conn(self.b.port), server_hostname="localhost"), proto=4)
        self.assertEqual(c.connect("tls12-on-11"), 0)
        c.disconnect()
        self.b.wait_log("Client tls12-on-11 negotiated TLSv1.2 cipher", since=m)

    def test_tls11_client_refused(self):
        # 2.1.2, for `openssl s_client -tls1_1 -cipher DEFAULT@SECLEVEL=0`: "OpenSSL Error
        # while trying to get the error[0]: error:0A000076:SSL routines::no suitable signature
        # algorithm" + "Client 127.0.0.1 [127.0.0.1:36428] disconnected: Protocol error."
        m = self.b.mark()
        r = tool(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.b.port, "-tls1_1",
                  "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", self.p["ca"]])
        self.assertNotIn(b"Protocol  : TLSv1.1\n    Cipher    : ECDHE", r.stdout)
        self.b.wait_log("OpenSSL Error while trying to get the error[0]: error:0A000076:SSL "
                        "routines::no suitable signature algorithm", since=m)
        self.b.wait_log("disconnected: Protocol error.", since=m)

    def test_debian_client_defaults_do_not_offer_tls11(self):
        ctx = tls_ctx(self.p)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises(ssl.SSLError) as e:
            ctx.wrap_socket(open_conn(self.b.port), server_hostname="localhost")
        # at security level 2 no TLS 1.1 cipher suite is left: the client stops before sending
        self.assertIn("NO_CIPHERS_AVAILABLE", str(e.exception))


class Dhparamfile(unittest.TestCase):
    def test_warning(self):
        # 2.1.2 (global, on a plain listener or on a TLS listener, file present or not):
        # "Warning: dhparamfile is no longer required." and it starts. Ours: the same line
        # (obsolete options are warned about in 2.1.2's words, as config/retry-interval-obsolete).
        p = get_pki()
        b = Broker(server_lines(p, "dhparamfile /nonexistent/dh.pem"))
        b.start()
        try:
            self.assertRegex(b.output(), r"(?m)^\d+: Warning: dhparamfile is no longer "
                             r"required\.$")
            c = Mqtt(tls_ctx(p).wrap_socket(open_conn(b.port), server_hostname="localhost"))
            self.assertEqual(c.connect("dh"), 0)
            c.disconnect()
        finally:
            b.stop()


if __name__ == "__main__":
    unittest.main()
