#!/usr/bin/env python3
"""persist_restart.py - restart time and memory with a big persistent state, for `make bench`.

    persist_restart.py BROKER_BIN RETAINED SESSIONS [WORKDIR]

Fills a broker (persistence true) with RETAINED retained messages (64-byte payloads, topics
r/<i/1000>/<i>) and SESSIONS persistent sessions (3.1.1, clean session false, one subscription
each), then:
  rss_before_kb   broker RSS with that state, before the restart
  snapshot_stall_ms  the longest PINGREQ -> PINGRESP a connected client saw while SIGUSR1's
                  snapshot of that state was written (ping_p50_ms: the same client's median)
  stop_s          SIGTERM until the process is gone (Mosquitto writes its snapshot here)
  restart_s       start until a new client gets the last retained message (restore done)
  rss_after_kb    RSS once restored
Prints one JSON line. Bounded: every wait has a deadline.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test",
                                "integration"))
import mqtt_raw as m  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port, proc, deadline):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("broker exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.005)
    raise SystemExit("broker did not listen in time")


def topic(i):
    return "r/%d/%d" % (i // 1000, i)


def fill(port, retained, sessions):
    c = m.Conn(port, timeout=600)
    c.connect("filler")
    payload = b"x" * 64
    batch = 2000
    for start in range(0, retained, batch):
        c.send(b"".join(m.publish(topic(i), payload, retain=True)
                        for i in range(start, min(start + batch, retained))))
    c.ping()  # everything before it has been handled
    c.publish("r/done", b"last", qos=1, retain=True, mid=1)
    c.close()
    for i in range(sessions):
        s = m.Conn(port, timeout=30)
        s.connect("sess-%d" % i, clean=False)
        s.send(m.subscribe(1, [("s/%d/#" % i, 1)]))
        s.expect(m.SUBACK)
        s.close()


def restored(port, deadline):
    """Waits until a subscriber gets the last retained message: the state is back."""
    while time.monotonic() < deadline:
        try:
            c = m.Conn(port, timeout=30)
            c.connect("probe")
            c.subscribe("r/done", 0)
            p = c.expect(m.PUBLISH, timeout=30)
            c.close()
            if p.payload == b"last":
                return
        except (OSError, m.ProtocolError):
            time.sleep(0.01)
    raise SystemExit("state not restored in time")


def snapshot_stall(port, proc):
    """Pings back to back; SIGUSR1 0.2 s in; stops 3 s after the signal (the ping then in
    flight is waited for). Returns (longest, median) round trip in ms."""
    c = m.Conn(port, timeout=120)
    c.connect("pinger")
    rtts = []
    start = time.monotonic()
    signalled = None
    while signalled is None or time.monotonic() - signalled < 3:
        if signalled is None and time.monotonic() - start > 0.2:
            proc.send_signal(signal.SIGUSR1)
            signalled = time.monotonic()
        t = time.monotonic()
        c.send(m.pingreq())
        c.expect(m.PINGRESP, timeout=120)
        rtts.append(time.monotonic() - t)
    c.close()
    rtts.sort()
    return round(rtts[-1] * 1000, 1), round(rtts[len(rtts) // 2] * 1000, 3)


def main():
    binary, retained, sessions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    work = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp(prefix="persist-restart-")
    os.chmod(work, 0o777)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
                "persistence_location %s/\nlog_dest file %s/broker.log\n" % (port, work, work))
    out = open(os.path.join(work, "broker.out"), "wb")
    proc = subprocess.Popen([binary, "-c", conf], stdout=out, stderr=out)
    try:
        wait_port(port, proc, time.monotonic() + 10)
        t = time.monotonic()
        fill(port, retained, sessions)
        fill_s = time.monotonic() - t
        time.sleep(1)
        before = rss_kb(proc.pid)
        stall_ms, ping_p50_ms = snapshot_stall(port, proc)
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(600)
        stop_s = time.monotonic() - t
        t = time.monotonic()
        proc = subprocess.Popen([binary, "-c", conf], stdout=out, stderr=out)
        wait_port(port, proc, t + 600)
        restored(port, t + 600)
        restart_s = time.monotonic() - t
        time.sleep(0.5)
        after = rss_kb(proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(600)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(json.dumps({"retained": retained, "sessions": sessions, "fill_s": round(fill_s, 2),
                      "rss_before_kb": before, "stop_s": round(stop_s, 2),
                      "restart_s": round(restart_s, 2), "rss_after_kb": after,
                      "rss_growth_pct": round(100.0 * (after - before) / before, 1),
                      "snapshot_stall_ms": stall_ms, "ping_p50_ms": ping_p50_ms,
                      "ok": True}))


if __name__ == "__main__":
    main()
