"""test_sys - the $SYS tree published every sys_interval seconds."""

import re
import unittest

import mqtt_raw as m
from broker import BrokerTest, wait_until

WANT = {
    "$SYS/broker/version": r"^mosquitto version \d+\.\d+",
    "$SYS/broker/uptime": r"^\d+ seconds$",
    "$SYS/broker/clients/connected": r"^\d+$",
    "$SYS/broker/messages/received": r"^\d+$",
    "$SYS/broker/bytes/received": r"^\d+$",
    "$SYS/broker/load/messages/received/1min": r"^\d+(\.\d+)?$",
    "$SYS/broker/retained messages/count": r"^\d+$",
    "$SYS/broker/subscriptions/count": r"^\d+$",
}


class SysTest(BrokerTest):
    def test_sys_topics(self):
        b = self.broker("sys_interval 1")
        c = b.client("sys")
        self.addCleanup(c.close)
        with b.client("pub") as pub:
            pub.publish("keep/it", b"r", qos=1, retain=True)
        c.subscribe("$SYS/#", 0)
        seen = {}

        def all_seen():
            p = c.expect(m.PUBLISH, timeout=3)
            seen[p.topic] = p.payload.decode()
            return all(t in seen for t in WANT)
        wait_until(all_seen, 6, interval=0, what="$SYS topics")
        for t, rx in WANT.items():
            self.assertRegex(seen[t], rx, t)
        self.assertGreaterEqual(int(seen["$SYS/broker/retained messages/count"]), 1)

    def test_clients_connected_tracks_count(self):
        b = self.broker("sys_interval 1")
        c = b.client("sys")
        self.addCleanup(c.close)
        extra = [b.client("x%d" % i) for i in range(2)]
        for e in extra:
            self.addCleanup(e.close)
        c.subscribe("$SYS/broker/clients/connected", 0)

        def three():
            p = c.expect(m.PUBLISH, timeout=3)
            return p.payload == b"3"
        wait_until(three, 5, interval=0, what="clients/connected == 3")


if __name__ == "__main__":
    unittest.main()
