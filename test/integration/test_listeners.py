"""test_listeners - unix socket listener, IPv6 loopback listener, several listeners at once."""

import os
import socket
import unittest

import mqtt_raw as m
from broker import BrokerTest, free_port


class ListenerTest(BrokerTest):
    def test_unix_socket(self):
        d = self.tmpdir()
        path = os.path.join(d, "mqtt.sock")
        b = self.broker(listener_config="listener 0 %s" % path)
        b.wait_log(r"Opening unix listen socket on path %s\." % path)
        with m.Conn(path=path) as c:
            self.assertEqual(c.connect("unix").rc, 0)
            c.subscribe("u/t", 0)
            c.publish("u/t", b"via unix")
            self.assertEqual(c.expect(m.PUBLISH).payload, b"via unix")

    def test_ipv6_loopback(self):
        port6 = free_port(socket.AF_INET6, "::1")
        b = self.broker(listener_config="listener %d ::1" % port6)
        b.wait_ready(host="::1", port=port6)
        with m.Conn(port6, host="::1") as c:
            self.assertEqual(c.connect("v6").rc, 0)
            c.ping()
        b.wait_log(r"New client connected from ::1:\d+ as v6 ")

    def test_two_tcp_listeners_share_one_broker(self):
        port2 = free_port()
        b = self.broker(listener_config="listener %d 127.0.0.1" % port2)
        b.wait_ready(port=port2)
        sub = b.client("on-first")
        self.addCleanup(sub.close)
        sub.subscribe("x/t", 0)
        with m.Conn(port2) as c:
            c.connect("on-second")
            c.publish("x/t", b"across")
        self.assertEqual(sub.expect(m.PUBLISH).payload, b"across")


if __name__ == "__main__":
    unittest.main()
