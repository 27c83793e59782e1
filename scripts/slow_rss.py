#!/usr/bin/env python3
"""slow_rss.py - memory under fan-out, with and without one stuck receiver (issue 12).

Runs, against each broker binary given, a fresh broker on a free loopback port and
  fanout: 200 subscribers that read normally, one publisher flooding 16 KB QoS 0 for 10 s;
  stuck:  1000 healthy subscribers plus one QoS 0 subscriber on '#' that never reads its socket
          (and one QoS 1 subscriber on '#' that never acknowledges), one publisher flooding
          QoS 0 at full speed for 10 s; 1 KB payloads (--stuck-size), so that enough messages
          get through 1000 receivers for the stuck ones to pass their queue limits.
and prints, per run: deliveries to the healthy subscribers (mqtt_bench's count, against the
expected count), messages the broker counted as dropped ($SYS/broker/publish/messages/dropped),
and the broker's peak RSS (VmHWM). A measurement for the notes, not a test.

usage: scripts/slow_rss.py [--tool build/apps/mqtt_bench] [--seconds 10] [--scenario fanout|stuck]
                           BROKER [BROKER...]
"""
import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "integration"))
import mqtt_raw as m  # noqa: E402


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def start_broker(binary, tmp):
    port = free_port()
    conf = os.path.join(tmp, "b-%d.conf" % port)
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\nsys_interval 1\n"
                "log_dest file %s/b-%d.log\n" % (port, tmp, port))
    def nofile():  # 1000 subscribers and more: lift the usual 1024
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    p = subprocess.Popen([binary, "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=nofile)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("%s did not start" % binary)


def stuck_clients(port):
    """One QoS 0 subscriber that never reads, one QoS 1 subscriber that never acknowledges."""
    out = []
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    c = m.Conn.__new__(m.Conn)
    c.proto, c.buf, c.stash, c.sock, c._local = m.V311, b"", [], s, s.getsockname()
    s.settimeout(5)
    c.connect("stuck-reader")
    c.subscribe("#", 0)
    out.append(c)
    c = m.Conn(port)
    c.connect("stuck-acker")
    c.subscribe("#", 1)
    out.append(c)
    return out


def dropped(port):
    """The broker's $SYS drop counter, or None if it does not answer."""
    try:
        return read_dropped(port)
    except (OSError, m.ProtocolError):
        return None


def read_dropped(port):
    c = m.Conn(port, timeout=30)  # a broker may still be busy with the flood's backlog
    c.connect("rss-sys")
    c.subscribe("$SYS/broker/publish/messages/dropped", 0)
    value = None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            p = c.read_packet(0.5)
        except socket.timeout:
            continue
        if p is not None and p.type == m.PUBLISH:
            value = int(p.payload)
    c.close()
    return value


def run(binary, tool, scenario, seconds, tmp, stuck_size):
    proc, port = start_broker(binary, tmp)
    stuck = stuck_clients(port) if scenario == "stuck" else []
    subs = 1000 if scenario == "stuck" else 200
    args = [tool, "--port", str(port), "--pub", "1", "--sub", str(subs), "--qos", "0",
            "--size", str(stuck_size if scenario == "stuck" else 16384), "--topic", "bench/x", "--sub-topic", "bench/#",
            "--inflight", "100000", "--duration", str(seconds), "--drain", "3",
            "--broker-pid", str(proc.pid), "--json", "--label", scenario]
    peak = 0
    bench = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    while bench.poll() is None:
        peak = max(peak, vm(proc.pid, "VmRSS"))
        time.sleep(0.1)
    out = bench.stdout.read().decode()
    hwm = vm(proc.pid, "VmHWM")
    res = {}
    for line in out.splitlines():
        if line.startswith("{"):
            res = json.loads(line)
    drops = dropped(port)
    for c in stuck:
        c.close()
    proc.terminate()
    proc.wait(20)
    with open(os.path.join(tmp, "b-%d.log" % port), errors="replace") as f:
        drop_lines = [l.split("for client ")[1].rstrip(".\n") for l in f
                      if "Outgoing messages are being dropped for client" in l]
    return {"broker": binary, "scenario": scenario, "published": res.get("published"),
            "delivered": res.get("delivered"), "expected": res.get("expected"),
            "dropped_sys": drops, "drop_log": drop_lines, "peak_rss_mb": round(max(peak, hwm) / 1048576, 1),
            "tail": "" if res else out[-300:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default=os.path.join(HERE, "..", "build", "apps", "mqtt_bench"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--stuck-size", type=int, default=1024)
    ap.add_argument("--scenario", action="append", choices=["fanout", "stuck"])
    ap.add_argument("brokers", nargs="+")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="slow-rss-")
    os.chmod(tmp, 0o777)
    for sc in a.scenario or ["fanout", "stuck"]:
        for b in a.brokers:
            print(json.dumps(run(b, a.tool, sc, a.seconds, tmp, a.stuck_size)), flush=True)


if __name__ == "__main__":
    main()
