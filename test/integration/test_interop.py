"""test_interop - real clients: mosquitto_pub/mosquitto_sub (3.1.1 and 5) and paho 1.6."""

import threading
import unittest

from broker import BrokerTest, paho


class ToolsTest(BrokerTest):
    def setUp(self):
        self.b = self.broker()

    def roundtrip(self, version, qos):
        topic = "i/%s/%d" % (version, qos)
        mark = self.b.mark()
        sub = self.b.sub_start(["-V", version, "-q", str(qos), "-t", topic, "-C", "1",
                                "-W", "10", "-i", "sub-%s-%d" % (version, qos)])
        self.b.wait_log(r"sub-%s-%d \d+ %s" % (version, qos, topic), since=mark)
        self.b.pub(["-V", version, "-q", str(qos), "-t", topic, "-m", "hello %d" % qos])
        out, err = sub.communicate(timeout=10)
        self.assertEqual(sub.returncode, 0, err)
        self.assertEqual(out.decode().strip(), "hello %d" % qos)

    def test_tools(self):
        for version in ("mqttv311", "mqttv5"):
            for qos in (0, 1, 2):
                with self.subTest(version=version, qos=qos):
                    self.roundtrip(version, qos)


class PahoTest(BrokerTest):
    def roundtrip(self, protocol):
        b = self.broker()
        got = threading.Event()
        result = {}
        sub = paho.Client("paho-sub", protocol=protocol)
        subscribed = threading.Event()
        sub.on_subscribe = lambda *a: subscribed.set()

        def on_message(client, userdata, msg):
            result["msg"] = (msg.topic, msg.payload, msg.qos)
            got.set()
        sub.on_message = on_message
        sub.connect("127.0.0.1", b.port)
        sub.loop_start()
        self.addCleanup(sub.loop_stop)
        sub.subscribe("paho/t", 2)
        self.assertTrue(subscribed.wait(5))
        pub = paho.Client("paho-pub", protocol=protocol)
        pub.connect("127.0.0.1", b.port)
        pub.loop_start()
        self.addCleanup(pub.loop_stop)
        pub.publish("paho/t", b"from paho", qos=2).wait_for_publish(5)
        self.assertTrue(got.wait(5))
        self.assertEqual(result["msg"], ("paho/t", b"from paho", 2))
        pub.disconnect()
        sub.disconnect()

    def test_paho_311(self):
        self.roundtrip(paho.MQTTv311)

    def test_paho_5(self):
        self.roundtrip(paho.MQTTv5)


if __name__ == "__main__":
    unittest.main()
