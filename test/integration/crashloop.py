"""crashloop - a QoS 1 and a QoS 2 publisher flood one persistent subscriber while the broker is
killed with SIGKILL at random points and restarted; at the end, which acknowledged messages never
arrived, and which QoS 2 messages arrived twice.

"Acknowledged" is what the publisher holds as the broker's promise: PUBACK for QoS 1, PUBREC for
QoS 2. The subscriber behaves as MQTT asks of a receiver: QoS 2 packet ids it answered with PUBREC
are duplicates until PUBREL releases them (method B, MQTT 5 section 4.3.3), so a QoS 2 message
counted twice is the broker's fault. Packet ids are never reused within a run.

Used by test_persist.py (ours must lose nothing) and by scripts/bench.sh, which runs it against
Debian's mosquitto too:  python3 crashloop.py BROKER_BIN ROUNDS [persistence lines...]
"""

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import mqtt_raw as m

BATCH = 50


class Client(threading.Thread):
    def __init__(self, run, cid):
        super().__init__(daemon=True)
        self.run_ = run
        self.cid = cid
        self.error = None

    def connect(self):
        """Connects (clean=False) once the broker is up; None when the run is over."""
        while not self.run_.over.is_set():
            gen = self.run_.gen
            c = None
            try:
                c = m.Conn(self.run_.port, timeout=2.0)
                if c.connect(self.cid, clean=False, keepalive=60).rc == 0:
                    return c
            except (OSError, m.ProtocolError):
                pass
            if c is not None:
                c.close()
            while self.run_.gen == gen and not self.run_.over.is_set():
                time.sleep(0.01)  # wait for the next broker
        return None

    def run(self):
        try:
            while not self.run_.over.is_set():
                c = self.connect()
                if c is None:
                    return
                try:
                    self.session(c)
                except (OSError, m.ProtocolError, socket.timeout):
                    pass
                finally:
                    c.close()
        except Exception as e:  # reported by the caller, not lost in a thread
            self.error = e


class Publisher(Client):
    def __init__(self, run, cid, qos):
        super().__init__(run, cid)
        self.qos = qos
        self.next = 1
        self.acked = set()
        self.unreleased = set()   # QoS 2: PUBREC seen, PUBCOMP not yet

    def session(self, c):
        for pid in sorted(self.unreleased):   # finish QoS 2 flows the broker already owns
            c.send(m.pubrel(pid))
        while not self.run_.over.is_set() and not self.run_.stop_publishing.is_set():
            if self.next + BATCH >= 65535:
                self.run_.stop_publishing.set()
                break
            first = self.next
            data = b"".join(m.publish("flood/%d" % self.qos, b"q%d-%d" % (self.qos, n),
                                      qos=self.qos, mid=n) for n in range(first, first + BATCH))
            self.next += BATCH
            c.send(data)
            waiting = set(range(first, first + BATCH))
            while waiting:
                p = c.read_packet(5.0)
                if p is None:
                    return
                if p.type == m.PUBACK:
                    waiting.discard(p.mid)
                    self.acked.add(p.mid)
                elif p.type == m.PUBREC:
                    waiting.discard(p.mid)
                    self.acked.add(p.mid)
                    self.unreleased.add(p.mid)
                    c.send(m.pubrel(p.mid))
                elif p.type == m.PUBCOMP:
                    self.unreleased.discard(p.mid)
        while self.unreleased and not self.run_.over.is_set():
            p = c.read_packet(5.0)
            if p is None:
                return
            if p.type == m.PUBCOMP:
                self.unreleased.discard(p.mid)
        while not self.run_.over.is_set():
            time.sleep(0.05)


class Subscriber(Client):
    def __init__(self, run):
        super().__init__(run, "crash-sink")
        self.count = {}           # payload -> times delivered
        self.awaiting_rel = set()
        self.lock = threading.Lock()
        self.subscribed = threading.Event()

    def session(self, c):
        if not self.subscribed.is_set():
            # Once only: after a restart the subscription must come back from the store.
            c.send(m.subscribe(1, [("flood/#", 2)]))
            c.expect(m.SUBACK)
            self.subscribed.set()
        while not self.run_.over.is_set():
            try:
                p = c.read_packet(0.5)
            except socket.timeout:
                continue
            if p is None:
                return
            if p.type == m.PUBLISH:
                fresh = p.qos < 2 or p.mid not in self.awaiting_rel
                if fresh:
                    with self.lock:
                        self.count[p.payload] = self.count.get(p.payload, 0) + 1
                if p.qos == 1:
                    c.send(m.puback(p.mid))
                elif p.qos == 2:
                    self.awaiting_rel.add(p.mid)
                    c.send(m.pubrec(p.mid))
            elif p.type == m.PUBREL:
                self.awaiting_rel.discard(p.mid)
                c.send(m.pubcomp(p.mid))


class Run:
    """start() -> Popen of a broker listening on self.port, with its store in place."""

    def __init__(self, start, rounds, seed=None, min_s=0.1, max_s=0.6):
        self.start = start
        self.rounds = rounds
        self.rng = random.Random(seed)
        self.min_s, self.max_s = min_s, max_s
        self.gen = 0
        self.over = threading.Event()
        self.stop_publishing = threading.Event()
        self.port = None
        self.kills = 0

    def go(self, drain_timeout=30.0):
        proc = self.start()
        sub = Subscriber(self)
        pubs = [Publisher(self, "crash-pub1", 1), Publisher(self, "crash-pub2", 2)]
        sub.start()
        if not sub.subscribed.wait(10):
            raise AssertionError("subscriber could not subscribe")
        for t in pubs:
            t.start()
        try:
            for _ in range(self.rounds):
                time.sleep(self.rng.uniform(self.min_s, self.max_s))
                proc.kill()
                proc.wait()
                self.kills += 1
                proc = self.start()
                self.gen += 1
            time.sleep(self.rng.uniform(self.min_s, self.max_s))
            self.stop_publishing.set()
            deadline = time.monotonic() + drain_timeout
            while time.monotonic() < deadline:
                want = {b"q%d-%d" % (p.qos, n) for p in pubs for n in list(p.acked)}
                with sub.lock:
                    if all(x in sub.count for x in want):
                        break
                time.sleep(0.1)
            time.sleep(0.5)  # anything still in flight that would arrive twice
        finally:
            self.over.set()
            for t in [sub] + pubs:
                t.join(10)
        errors = [t.error for t in [sub] + pubs if t.error is not None]
        with sub.lock:
            got = dict(sub.count)
        res = {"kills": self.kills, "errors": errors, "proc": proc}
        for p in pubs:
            names = {n: b"q%d-%d" % (p.qos, n) for n in p.acked}
            res["acked%d" % p.qos] = len(p.acked)
            res["lost%d" % p.qos] = sorted(n for n, k in names.items() if k not in got)
        res["dup2"] = sorted(k for k, v in got.items() if k.startswith(b"q2-") and v > 1)
        return res


def main():
    """Command line, for bench.sh: prints 'acked1 lost1 acked2 lost2 dup2 kills'."""
    binary, rounds = sys.argv[1], int(sys.argv[2])
    extra = "\n".join(sys.argv[3:])
    work = tempfile.mkdtemp(prefix="crashloop-")
    os.chmod(work, 0o777)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nmax_queued_messages 1000000\n%s\n" %
                (port, work, extra))
    procs = []

    def start():
        p = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        for _ in range(500):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return p
            except OSError:
                time.sleep(0.01)
        return p

    run = Run(start, rounds, seed=int(os.environ.get("CRASHLOOP_SEED", "1")))
    run.port = port
    res = run.go()
    res["proc"].send_signal(signal.SIGTERM)
    res["proc"].wait(20)
    print(res["acked1"], len(res["lost1"]), res["acked2"], len(res["lost2"]), len(res["dup2"]),
          res["kills"])


if __name__ == "__main__":
    main()
