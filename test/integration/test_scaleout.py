"""test_scaleout - the README's "Scaling out" set-up, end to end: HAProxy (`balance leastconn`,
`send-proxy-v2`, health checks) in front of three of our brokers, each bridged to a hub with
`topic e2e/# both 1`. 50 subscribers and 50 publishers (paho, MQTT 3.1.1, QoS 1) connect through
HAProxy; every subscriber must receive every message exactly once. Then one broker is killed:
its clients reconnect through HAProxy to the two others and carry on, again exactly once."""

import os
import re
import signal
import socket
import subprocess
import threading
import unittest

from broker import BrokerTest, free_port, make_tmpdir, paho, wait_until

N_SUB, N_PUB, ROUND1, ROUND2 = 50, 50, 4, 2


class Fleet:
    """paho clients on their own network threads; what they receive, under one lock."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.got = {}          # subscriber id -> list of payloads
        self.connects = {}     # client id -> number of CONNACKs
        self.subscribed = {}   # subscriber id -> number of SUBACKs
        self.clients = {}

    def _client(self, cid, sub):
        c = paho.Client(client_id=cid, clean_session=True, protocol=paho.MQTTv311)
        c.reconnect_delay_set(1, 2)

        def on_connect(cl, userdata, flags, rc):
            if rc != 0:
                return
            with self.lock:
                self.connects[cid] = self.connects.get(cid, 0) + 1
            if sub:
                cl.subscribe("e2e/#", 1)   # a new session on whichever broker: subscribe again

        def on_subscribe(cl, userdata, mid, granted):
            with self.lock:
                self.subscribed[cid] = self.subscribed.get(cid, 0) + 1

        def on_message(cl, userdata, msg):
            with self.lock:
                self.got.setdefault(cid, []).append(msg.payload)
        c.on_connect = on_connect
        c.on_subscribe = on_subscribe
        c.on_message = on_message
        c.connect_async("127.0.0.1", self.port, keepalive=5)
        c.loop_start()
        self.clients[cid] = c
        return c

    def start(self):
        for i in range(N_SUB):
            self._client("sub-%d" % i, True)
        for i in range(N_PUB):
            self._client("pub-%d" % i, False)

    def stop(self):
        for c in self.clients.values():
            c.disconnect()
            c.loop_stop()

    def count(self, table, prefix, at_least):
        with self.lock:
            return sum(1 for k, v in table.items() if k.startswith(prefix) and v >= at_least)

    def publish_round(self, tag, n):
        infos = []
        for i in range(N_PUB):
            c = self.clients["pub-%d" % i]
            for k in range(n):
                infos.append(c.publish("e2e/pub-%d" % i, b"%s-%d-%d" % (tag, i, k), qos=1))
        return infos


HAPROXY_CFG = """global
    stats socket {tmp}/haproxy.sock level admin
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend fe
    bind 127.0.0.1:{port}
    default_backend brokers
backend brokers
    balance leastconn
{servers}
"""


class ScaleOutTest(BrokerTest):

    def haproxy(self, ports):
        tmp = make_tmpdir()
        self.addCleanup(lambda: __import__("shutil").rmtree(tmp, True))
        port = free_port()
        servers = "\n".join("    server b%d 127.0.0.1:%d send-proxy-v2 check inter 200ms fall 1 "
                            "rise 1" % (i, p) for i, p in enumerate(ports))
        cfg = os.path.join(tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CFG.format(tmp=tmp, port=port, servers=servers))
        log = open(os.path.join(tmp, "haproxy.log"), "wb")
        proc = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=log,
                                stderr=subprocess.STDOUT)

        def stop():
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            log.close()
        self.addCleanup(stop)
        self.haproxy_sock = os.path.join(tmp, "haproxy.sock")
        wait_until(lambda: self.server_states() and all(
            s == "UP" for s in self.server_states().values()), 10, what="HAProxy servers UP")
        return port

    def server_states(self):
        data = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(self.haproxy_sock)
                s.sendall(b"show stat\n")
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return {}
        rows = [r.split(",") for r in data.decode().splitlines()[1:]]
        return {r[1]: r[17] for r in rows if len(r) > 17 and r[0] == "brokers"
                and r[1] not in ("BACKEND",)}

    def snapshot(self, fleet):
        with fleet.lock:
            return {"sub-%d" % i: len(fleet.got.get("sub-%d" % i, [])) for i in range(N_SUB)}

    def round_msgs(self, fleet, start):
        with fleet.lock:
            return {k: sorted(p for p in fleet.got.get(k, [])[n:] if not p.startswith(b"mk-"))
                    for k, n in start.items()}

    def expect_each_once(self, fleet, expected, start, tag):
        """Every subscriber gets exactly `expected` (after its first start[k] messages)."""
        def done():
            return all(len(v) >= len(expected) for v in self.round_msgs(fleet, start).values())
        wait_until(done, 30, what="every subscriber to receive every message")
        # A barrier: each publisher sends a marker after its round, on the same connection and
        # so the same path. Once every subscriber has every marker, a duplicate of the round
        # would have arrived too.
        markers = set()
        for i in range(N_PUB):
            m = ("mk-%s-%d" % (tag, i)).encode()
            markers.add(m)
            fleet.clients["pub-%d" % i].publish("e2e/pub-%d" % i, m, qos=1)

        def have_markers():
            with fleet.lock:
                return all(markers <= set(fleet.got.get(k, [])) for k in start)
        wait_until(have_markers, 20, what="markers through every broker")
        for k, v in self.round_msgs(fleet, start).items():
            self.assertEqual(v, expected, "%s: %d messages, %d expected" % (k, len(v),
                                                                            len(expected)))

    def test_haproxy_three_brokers_and_a_hub(self):
        hub = self.broker()
        leaves = []
        for i in range(3):
            b = self.broker("connection leaf%d\naddress 127.0.0.1:%d\ntopic e2e/# both 1\n"
                            "restart_timeout 1\n" % (i, hub.port),
                            listener_config="enable_proxy_protocol 2")
            leaves.append(b)
        for b in leaves:
            b.wait_log(r"Received SUBACK from local\.", timeout=10)
        port = self.haproxy([b.port for b in leaves])
        fleet = Fleet(port)
        self.addCleanup(fleet.stop)
        fleet.start()
        wait_until(lambda: fleet.count(fleet.connects, "", 1) == N_SUB + N_PUB, 20,
                   what="100 clients connected through HAProxy")
        wait_until(lambda: fleet.count(fleet.subscribed, "sub-", 1) == N_SUB, 20,
                   what="50 subscriptions")
        # leastconn spread them: every broker serves some, and logged the real address.
        per_leaf = [len(re.findall(r"New client connected from 127\.0\.0\.1:\d+ as (?:sub|pub)-",
                                   b.log_text())) for b in leaves]
        self.assertEqual(sum(per_leaf), N_SUB + N_PUB)
        self.assertTrue(all(n >= 20 for n in per_leaf), per_leaf)

        expected = sorted(b"r1-%d-%d" % (i, k) for i in range(N_PUB) for k in range(ROUND1))
        start = self.snapshot(fleet)
        for info in fleet.publish_round(b"r1", ROUND1):
            info.wait_for_publish()
        self.expect_each_once(fleet, expected, start, "r1")

        # One broker dies. Its clients come back through HAProxy on the two others.
        victim = max(range(3), key=lambda i: per_leaf[i])
        before = dict(fleet.connects)
        leaves[victim].proc.kill()
        leaves[victim].proc.wait(5)
        wait_until(lambda: self.server_states().get("b%d" % victim, "").startswith("DOWN"), 10,
                   what="HAProxy marks the dead broker DOWN")

        def all_back():
            with fleet.lock:
                moved = [k for k in fleet.connects if fleet.connects[k] > before.get(k, 0)]
                subs_ok = all(fleet.subscribed.get(k, 0) >= 2 for k in moved
                              if k.startswith("sub-"))
                return len(moved) >= per_leaf[victim] and subs_ok
        wait_until(all_back, 30, what="the dead broker's clients back, resubscribed")
        expected2 = sorted(b"r2-%d-%d" % (i, k) for i in range(N_PUB) for k in range(ROUND2))
        start = self.snapshot(fleet)
        for info in fleet.publish_round(b"r2", ROUND2):
            info.wait_for_publish()
        self.expect_each_once(fleet, expected2, start, "r2")


if __name__ == "__main__":
    unittest.main()
