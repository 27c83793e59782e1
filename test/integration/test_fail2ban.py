"""test_fail2ban - dist/fail2ban-filter.conf (installed as filter.d/mosquitto-proxy.conf) under
Debian's fail2ban-regex: it bans the address that failed to authenticate, in Mosquitto 2.0's
wording, 2.1's, and ours, where behind a PROXY v1/v2 header that is the real client's address
(issue 11).

The 2.0.11 and 2.1.2 lines below were recorded 2026-11-30 from Debian's /usr/sbin/mosquitto
and the 2.1.2 release build, with `allow_anonymous false`, a password file, `log_type all`, and
mosquitto_pub sending a wrong password, an unknown user and no user (MQTT 3.1.1), and no user
(MQTT 5). 2.0.11 names the address only in "Sending CONNACK to <address> (0, rc)"; 2.1.2 names
the client id there and the address in the disconnect line. Edited from the recording: the
second client's address is 192.0.2.20/.21 (the runs were all on loopback) so the tests can tell
the lines apart, and 2.0's log gets an accepted client (rc 0) that must not count."""

import ast
import os
import subprocess
import tempfile
import unittest

import proxy_fixture as pf
from broker import BrokerTest, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
FILTER = os.path.normpath(os.path.join(HERE, "..", "..", "dist", "fail2ban-filter.conf"))

LOG_2_0_11 = """\
1796038786: mosquitto version 2.0.11 starting
1796038786: Config loaded from m-usr.conf.
1796038786: Opening ipv4 listen socket on port 18834.
1796038786: mosquitto version 2.0.11 running
1796038786: New connection from 127.0.0.1:33442 on port 18834.
1796038786: Sending CONNACK to 127.0.0.1 (0, 5)
1796038786: Client <unknown> disconnected, not authorised.
1796038786: New connection from 192.0.2.20:33448 on port 18834.
1796038786: Sending CONNACK to 192.0.2.20 (0, 5)
1796038786: Client <unknown> disconnected, not authorised.
1796038786: New connection from 127.0.0.1:33460 on port 18834.
1796038786: Sending CONNACK to 127.0.0.1 (0, 135)
1796038786: Client <unknown> disconnected, not authorised.
1796038786: New connection from 127.0.0.1:33461 on port 18834.
1796038786: Sending CONNACK to 127.0.0.1 (0, 0)
1796038786: mosquitto version 2.0.11 terminating
"""

LOG_2_1_2 = """\
2026-11-30T11:46:27: mosquitto version 2.1.2 starting
2026-11-30T11:46:27: Config loaded from m-mosquitto-2.1.2.conf.
2026-11-30T11:46:27: Plugin builtin-security has registered to receive 'basic-auth' events.
2026-11-30T11:46:27: mosquitto version 2.1.2 running
2026-11-30T11:46:27: New connection from 127.0.0.1:33464 on port 18834.
2026-11-30T11:46:27: Sending CONNACK to badpw (0, 5)
2026-11-30T11:46:27: Client badpw [127.0.0.1:33464] disconnected: not authorised.
2026-11-30T11:46:27: New connection from 192.0.2.21:33470 on port 18834.
2026-11-30T11:46:27: Sending CONNACK to nouser (0, 5)
2026-11-30T11:46:27: Client nouser [192.0.2.21:33470] disconnected: not authorised.
2026-11-30T11:46:27: New connection from 127.0.0.1:33488 on port 18834.
2026-11-30T11:46:27: Sending CONNACK to anon5 (0, 135)
2026-11-30T11:46:27: Client anon5 [127.0.0.1:33488] disconnected: not authorised.
2026-11-30T11:46:28: mosquitto version 2.1.2 terminating
"""


def banned(log_text, mode=None):
    """Addresses fail2ban-regex reports for the log, in order (one per matched line)."""
    with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
        f.write(log_text)
        f.flush()
        spec = FILTER if mode is None else "%s[mode=%s]" % (FILTER, mode)
        r = subprocess.run(["fail2ban-regex", "-o", "ip", f.name, spec], capture_output=True,
                           text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("fail2ban-regex failed: %s%s" % (r.stdout, r.stderr))
    return r.stdout.split()


class RecordedWordingTest(unittest.TestCase):
    def test_2_0_wording(self):
        self.assertEqual(banned(LOG_2_0_11, "2.0"), ["127.0.0.1", "192.0.2.20", "127.0.0.1"])

    def test_2_1_wording_default_mode(self):
        self.assertEqual(banned(LOG_2_1_2), ["127.0.0.1", "192.0.2.21", "127.0.0.1"])

    def test_modes_do_not_cross(self):
        # 2.1's CONNACK line names a client id; the 2.1 rule must not read 2.0's lines either.
        self.assertEqual(banned(LOG_2_0_11), [])
        self.assertEqual(banned(LOG_2_1_2, "2.0"), [])

    def test_both_mode_reads_a_mixed_log(self):
        self.assertEqual(len(banned(LOG_2_0_11 + LOG_2_1_2, "both")), 6)

    def test_client_id_cannot_pick_the_address(self):
        # The id is the client's choice; the address in the last brackets is the broker's.
        line = ("1796038786: Client x [203.0.113.99:1] disconnected: not authorised. "
                "[192.0.2.30:4242] disconnected: not authorised.\n")
        self.assertEqual(banned(line), ["192.0.2.30"])

    def test_syslog_prefix(self):
        line = ("Nov 30 11:46:27 host mosquitto[4242]: Client c1 [192.0.2.31:1000] "
                "disconnected: not authorised.\n")
        self.assertEqual(banned(line), ["192.0.2.31"])


class OurBrokerTest(BrokerTest):
    """The real broker refusing anonymous clients, directly and behind PROXY v1 and v2."""

    def test_real_addresses_behind_proxy(self):
        p1, p2 = free_port(), free_port()
        b = self.broker("listener %d 127.0.0.1\nenable_proxy_protocol 1\n"
                        "listener %d 127.0.0.1\nenable_proxy_protocol 2\n" % (p1, p2),
                        anonymous=False)

        def attempt(port, header, client_id, proto=4):
            s = pf.open_conn(port)
            try:
                s.sendall(header + pf.mqtt_connect(client_id, proto=proto, clean=True))
                self.assertIn(pf.read_connack(s), (5, 0x87))  # not authorised (3.1.1 / 5)
            finally:
                s.close()
            b.wait_log(r"Client %s \[.*\] disconnected: not authorised\." % client_id)

        attempt(b.port, b"", "direct")
        attempt(p1, pf.v1(src="198.51.100.7", sport=40001), "behind-v1")
        attempt(p2, pf.v2_ipv4(src="203.0.113.8", sport=40002), "behind-v2")
        attempt(p2, pf.v2(fam=pf.FAM_INET6, src="2001:db8::9", sport=40003), "behind-v2-6",
                proto=5)
        # A client id shaped like an address changes nothing.
        attempt(b.port, b"", "192.0.2.66")
        self.assertEqual(banned(b.log_text()),
                         ["127.0.0.1", "198.51.100.7", "203.0.113.8", "2001:db8::9",
                          "127.0.0.1"])


class ReadmeJailTest(unittest.TestCase):
    """The jail the README's "Installing" section tells users to write, with the filter as the
    package installs it, loaded by Debian's fail2ban-client from a copy of /etc/fail2ban (its
    own sshd jail taken out: this machine has no auth.log). Each `filter =` spelling the
    README gives must load the jail with the filter's regexes."""

    def readme_jail(self):
        with open(os.path.join(HERE, "..", "..", "README.md")) as f:
            readme = f.read()
        start = readme.index("jail.d/mosquitto.local")
        block = readme[readme.index("```", start) + 3:]
        return block[:block.index("```")].strip() + "\n"

    def test_readme_jail_loads(self):
        jail = self.readme_jail()
        self.assertIn("filter   = mosquitto-proxy\n", jail)
        work = tempfile.mkdtemp(prefix="f2b-conf-")
        self.addCleanup(subprocess.run, ["rm", "-rf", work])
        conf = os.path.join(work, "fail2ban")
        subprocess.run(["cp", "-r", "/etc/fail2ban", conf], check=True)
        for name in os.listdir(os.path.join(conf, "jail.d")):
            os.unlink(os.path.join(conf, "jail.d", name))
        subprocess.run(["cp", FILTER, os.path.join(conf, "filter.d", "mosquitto-proxy.conf")],
                       check=True)
        log = os.path.join(work, "mosquitto.log")
        open(log, "w").close()
        jail = jail.replace("/var/log/mosquitto/mosquitto.log", log)
        # The spelling, and the wording of each regex fail2ban must then watch for.
        for spec, wording in (("mosquitto-proxy", ["disconnected: not authorised"]),
                              ("mosquitto-proxy[mode=2.0]", ["Sending CONNACK to <HOST>"]),
                              ("mosquitto-proxy[mode=both]", ["disconnected: not authorised",
                                                              "Sending CONNACK to <HOST>"])):
            with open(os.path.join(conf, "jail.d", "mosquitto.local"), "w") as f:
                f.write(jail.replace("filter   = mosquitto-proxy\n", "filter   = %s\n" % spec))
            r = subprocess.run(["fail2ban-client", "-c", conf, "-d"], capture_output=True,
                               text=True, timeout=120)
            self.assertEqual(r.returncode, 0, spec + r.stderr)
            self.assertIn("['add', 'mosquitto', 'auto']", r.stdout, spec)
            self.assertIn("['set', 'mosquitto', 'addlogpath', '%s'" % log, r.stdout, spec)
            regexes = []   # one regex: ['set', jail, 'addfailregex', r]; more: 'multi-set'
            for line in r.stdout.splitlines():
                cmd = ast.literal_eval(line) if line.startswith("[") else []
                if cmd[1:3] == ["mosquitto", "addfailregex"]:
                    regexes += cmd[3] if isinstance(cmd[3], list) else [cmd[3]]
            self.assertEqual(len(regexes), len(wording), spec)
            for w in wording:
                self.assertTrue(any(w.replace(" ", "") in x.replace(" ", "") for x in regexes),
                                (spec, w, regexes))


if __name__ == "__main__":
    unittest.main()
