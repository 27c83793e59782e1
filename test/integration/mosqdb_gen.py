"""mosqdb_gen - makes a mosquitto.db with a real Mosquitto broker (Debian's 2.0.11 at test time, or
Mosquitto 2.1.2 for test/vectors/persist/), holding every kind of state the import must carry:

- retained "ret/plain" (QoS 0, 3.1.1) and "ret/props" (QoS 1, v5: content type, user property,
  message expiry 3600, published with username "alice")
- session "sess5" (v5, session expiry 7200, username "bob"): "q/+" QoS 2 with subscription
  identifier 7, no-local and retain-as-published; "w/#" QoS 1; two messages queued while offline
  ("q/1" QoS 1 "one", "q/2" QoS 2 "two")
- session "sess3" (3.1.1, clean session false): "q/#" QoS 1; an outgoing QoS 2 message it
  answered with PUBREC (so the broker awaits PUBCOMP) and "q/1"/"q/2" queued behind it
- session "pub2" (3.1.1, clean false): an incoming QoS 2 PUBLISH (packet id 33) acknowledged with
  PUBREC and never released

Usage: python3 mosqdb_gen.py BROKER_BIN OUT_DIR  -> OUT_DIR/mosquitto.db (and .log)
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import mqtt_raw as m


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def generate(binary, out_dir):
    work = tempfile.mkdtemp(prefix="mosqdb-gen-")
    os.chmod(work, 0o777)
    port = free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nlog_dest file %s/broker.log\nlog_type all\n" %
                (port, work, work))
    proc = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.01)

        def conn(cid, proto=m.V311, **kw):
            c = m.Conn(port, proto=proto)
            ack = c.connect(cid, **kw)
            assert ack.rc == 0, ack
            return c

        c = conn("retainer")
        c.publish("ret/plain", b"plain", qos=0, retain=True)
        c.ping()
        c.close()
        c = conn("retainer5", proto=m.V5, username="alice")
        c.publish("ret/props", b"props", qos=1, retain=True, properties=[
            (m.P_CONTENT_TYPE, "text/plain"), (m.P_USER_PROPERTY, ("k", "v")),
            (m.P_MESSAGE_EXPIRY, 3600)])
        c.close()

        s5 = conn("sess5", proto=m.V5, clean=False, username="bob",
                  properties=[(m.P_SESSION_EXPIRY, 7200)])
        s5.send(m.subscribe(1, [("q/+", 2 | 0x04 | 0x08)], proto=m.V5,
                            properties=[(m.P_SUBSCRIPTION_ID, 7)]))
        s5.expect(m.SUBACK)
        s5.send(m.subscribe(2, [("w/#", 1)], proto=m.V5))
        s5.expect(m.SUBACK)
        s5.send(m.disconnect(m.V5))
        s5.close()

        s3 = conn("sess3", clean=False)
        s3.subscribe("q/#", 1)
        s3.subscribe("inflight", 2, mid=2)
        p = conn("feeder")
        p.publish("inflight", b"held", qos=2, mid=5)
        msg = s3.expect(m.PUBLISH)
        s3.send(m.pubrec(msg.mid))
        s3.expect(m.PUBREL)
        s3.close()  # no PUBCOMP: the broker keeps waiting for it
        time.sleep(0.2)
        p.publish("q/1", b"one", qos=1, mid=6)
        p.publish("q/2", b"two", qos=2, mid=7)
        p.close()

        p2 = conn("pub2", clean=False)
        p2.send(m.publish("w/in", b"incoming", qos=2, mid=33))
        p2.expect(m.PUBREC)
        p2.close()
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    os.makedirs(out_dir, exist_ok=True)
    shutil.copy(os.path.join(work, "mosquitto.db"), os.path.join(out_dir, "mosquitto.db"))
    shutil.copy(os.path.join(work, "broker.log"), os.path.join(out_dir, "broker.log"))
    shutil.rmtree(work, ignore_errors=True)
    return os.path.join(out_dir, "mosquitto.db")


if __name__ == "__main__":
    print(generate(sys.argv[1], sys.argv[2]))
