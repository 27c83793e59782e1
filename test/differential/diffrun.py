#!/usr/bin/env python3
"""diffrun - differential harness: runs scenarios against our broker and compares its answers
with Mosquitto 2.1.2's, recorded in the scenario files.

A scenario (scenarios/<area>.json, see README.md here) is a config, a command line and a list of
steps (raw packets sent, packets read back, signals, file edits); running it yields a transcript:
one line per observation (a packet rendered field by field, a close, a timeout), the log lines the
scenario asks for, the exit code. Only what legitimately varies between runs is normalised: the
listener and client ports, log timestamps, broker-generated client ids.

  diffrun.py [--area A] [-k SUBSTR]        ours against the recorded reference answers
  MOSQ_REFERENCE=/path/mosquitto diffrun.py   also runs the reference live and compares
  MOSQ_REFERENCE=... diffrun.py --record      (re)writes the recorded reference answers

Exit status 1 when a scenario differs and is neither explained (scenario "explained": ours kept
on purpose, with the reason) nor pending (pending.txt: a fix under way on another branch).
"""

import argparse
import concurrent.futures
import fnmatch
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import mqtt_raw as mr  # noqa: E402
from broker import free_port  # noqa: E402

SCEN_DIR = os.path.join(HERE, "scenarios")
PENDING = os.path.join(HERE, "pending.json")
OURS = os.path.abspath(os.environ.get("MOSQUITTO_BIN") or os.path.normpath(
    os.path.join(HERE, "..", "..", "build", "src", "mosquitto")))
RECV_TIMEOUT = 3.0
try:
    BROKER_USER = pwd.getpwnam("mosquitto")   # both brokers drop root for this user
except KeyError:
    BROKER_USER = None

PROP_NAMES = {v: k[2:].lower() for k, v in vars(mr).items()
              if k.startswith("P_") and isinstance(v, int)}
PROP_IDS = {v: k for k, v in PROP_NAMES.items()}
SIGNALS = {"HUP": signal.SIGHUP, "INT": signal.SIGINT, "TERM": signal.SIGTERM,
           "USR1": signal.SIGUSR1, "USR2": signal.SIGUSR2, "RTMIN": signal.SIGRTMIN,
           "PIPE": signal.SIGPIPE}


# ---- packets: JSON description -> bytes -----------------------------------------------------

def _bytes(v):
    """A JSON value as bytes: a string is UTF-8, {"hex": ...} is raw, {"len": n, "fill": c}
    is n copies of c (for size limits)."""
    if isinstance(v, dict):
        if "hex" in v:
            return bytes.fromhex(v["hex"])
        return (v.get("fill", "x") * v["len"]).encode()
    return v.encode() if isinstance(v, str) else v


def _props(plist):
    out = []
    for name, val in plist or []:
        pid = PROP_IDS[name] if isinstance(name, str) else name
        if pid == mr.P_USER_PROPERTY:
            val = (val[0], val[1])
        elif pid in (mr.P_CORRELATION_DATA, mr.P_AUTH_DATA):
            val = _bytes(val)
        out.append((pid, val))
    return out


def build(spec, proto):
    """spec is [kind, {arguments}]; arguments are mqtt_raw's, properties as [[name, value]]."""
    kind, kw = spec[0], dict(spec[1] if len(spec) > 1 else {})
    for k in ("properties", "will_properties"):
        if k in kw:
            kw[k] = _props(kw[k])
    for k in ("payload", "will_payload", "password"):
        if k in kw:
            kw[k] = _bytes(kw[k])
    for k in ("id", "username", "will_topic", "topic"):
        if isinstance(kw.get(k), dict):
            kw[k] = _bytes(kw[k])     # deliberately invalid UTF-8 and the like
    if kind == "connect":
        kw.setdefault("proto", proto)
        cid = kw.pop("id", "")
        return mr.connect(cid, **kw)
    if kind == "publish":
        return mr.publish(kw.pop("topic"), proto=proto, **kw)
    if kind in ("puback", "pubrec", "pubrel", "pubcomp"):
        return getattr(mr, kind)(kw.pop("mid"), proto=proto, **kw)
    if kind in ("subscribe", "unsubscribe"):
        topics = kw.pop("topics")
        if kind == "subscribe":
            topics = [tuple(t) for t in topics]
        return getattr(mr, kind)(kw.pop("mid", 1), topics, proto=proto, **kw)
    if kind == "pingreq":
        return mr.pingreq()
    if kind == "disconnect":
        return mr.disconnect(proto=proto, **kw)
    if kind == "auth":
        body = bytes([kw.get("reason", 0)]) + mr.props(kw.get("properties"))
        return mr.packet(mr.AUTH, 0, body)
    raise ValueError("unknown packet kind %r" % kind)


# ---- packets: bytes -> one line of text ---------------------------------------------------

# A client id the broker generates (auto_id_prefix + a random UUID) varies from run to run.
AUTO_ID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                     r"[0-9A-Fa-f]{12}")


def _render_props(r):
    """Properties in wire order (a repeated one, like Subscription Identifier, appears twice)."""
    end = r.varint() + r.pos
    items = []
    while r.pos < end:
        pid = r.varint()
        t = mr.PROP_TYPES.get(pid)
        if t is None:
            raise mr.ProtocolError("unknown property 0x%02x" % pid)
        if t == mr._BYTE:
            v = r.byte()
        elif t == mr._U16:
            v = r.u16()
        elif t == mr._U32:
            v = r.u32()
        elif t == mr._VARINT:
            v = r.varint()
        elif t == mr._STR:
            v = repr(r.string())
        elif t == mr._BIN:
            v = "0x" + r.binary().hex()
        else:
            v = "%r:%r" % (r.string(), r.string())
        items.append("%s=%s" % (PROP_NAMES.get(pid, "0x%02x" % pid), v))
    if r.pos != end:
        raise mr.ProtocolError("property length overrun")
    return " {" + ", ".join(items) + "}" if items else ""


def render(first, body, proto):
    t, flags = first >> 4, first & 0x0F
    name = mr.TYPE_NAMES.get(t, "type%d" % t)
    r = mr.Reader(body)
    v5 = proto == mr.V5
    try:
        if t == mr.CONNACK:
            s = "CONNACK sp=%d rc=0x%02x" % (r.byte(), r.byte())
            if v5 and r.left():
                s += _render_props(r)
        elif t == mr.PUBLISH:
            qos = (flags >> 1) & 3
            s = "PUBLISH q%d%s%s %r" % (qos, " retain" if flags & 1 else "",
                                        " dup" if flags & 8 else "", r.string())
            if qos:
                s += " mid=%d" % r.u16()
            if v5:
                s += _render_props(r)
            s += " payload=%r" % r.take(r.left())
            return AUTO_ID.sub("<ID>", s)
        elif t in (mr.PUBACK, mr.PUBREC, mr.PUBREL, mr.PUBCOMP):
            s = "%s mid=%d" % (name, r.u16())
            if r.left():
                s += " rc=0x%02x" % r.byte()
            if r.left():
                s += _render_props(r)
        elif t in (mr.SUBACK, mr.UNSUBACK):
            s = "%s mid=%d" % (name, r.u16())
            if v5:
                s += _render_props(r)
            if r.left():
                s += " codes=[%s]" % ",".join("0x%02x" % b for b in r.take(r.left()))
        elif t in (mr.DISCONNECT, mr.AUTH):
            s = name
            if r.left():
                s += " rc=0x%02x" % r.byte()
            if r.left():
                s += _render_props(r)
        else:
            s = name
        if r.left():
            s += " trailing=" + r.take(r.left()).hex()
    except (mr.ProtocolError, UnicodeDecodeError) as e:
        s = "%s undecodable (%s) body=%s" % (name, e, body.hex())
    default_flags = 2 if t in (mr.PUBREL, mr.SUBSCRIBE, mr.UNSUBSCRIBE) else 0
    if t != mr.PUBLISH and flags != default_flags:
        s += " flags=%x" % flags
    return AUTO_ID.sub("<ID>", s)


# ---- one broker run ------------------------------------------------------------------------

class Conn:
    """A raw client connection that records what it reads as rendered lines."""

    def __init__(self, port, proto):
        self.proto = proto
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=RECV_TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.buf = b""
        self.closed = False

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            pass                        # the broker may have closed already; reads will tell

    def read(self, timeout):
        """(first, body), "closed" or "timeout"."""
        deadline = time.monotonic() + timeout
        while True:
            f = mr.split_frame(self.buf)
            if f:
                first, body, self.buf = f
                return first, body
            if self.closed:
                return "closed"
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return "timeout"
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                if self.buf:
                    self.buf = b""
                    return "closed mid-packet"
            self.buf += chunk

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class Run:
    """One scenario against one binary: returns its transcript (dict of lists)."""

    def __init__(self, binary, scen, label):
        self.bin = binary
        self.s = scen
        self.label = label
        self.tmp = tempfile.mkdtemp(prefix="diff-%s-" % label)
        os.chmod(self.tmp, 0o777)
        self.port = free_port()
        self.port2 = free_port()
        self.conns = {}
        self.out = []
        self.proc = None

    def subst(self, text):
        return (text.replace("{port}", str(self.port)).replace("{port2}", str(self.port2))
                .replace("{dir}", self.tmp))

    def write_file(self, name, text):
        """Password and ACL files as a careful admin keeps them (mode 0600, owned by the user
        the broker runs as), so 2.1.2's permission warnings appear only where a scenario asks
        for other permissions with "file_mode"."""
        p = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(p), mode=0o777, exist_ok=True)
        with open(p, "w") as f:
            f.write(self.subst(text))
        os.chmod(p, int(self.s.get("file_mode", "0600"), 8))
        if BROKER_USER is not None and os.geteuid() == 0:
            os.chown(p, BROKER_USER.pw_uid, BROKER_USER.pw_gid)

    def write_files(self):
        for name, text in self.s.get("files", {}).items():
            self.write_file(name, text)

    def config_text(self):
        body = self.s.get("config", "")
        if self.s.get("raw_config"):
            return self.subst(body)
        # Anonymous access on unless the scenario says otherwise (2.1.2's default is off).
        anon = [] if "allow_anonymous" in body else ["allow_anonymous true"]
        lines = ["log_dest stderr", "log_type all"] + anon + [body,
                 "listener {port} 127.0.0.1", self.s.get("listener_config", "")]
        return self.subst("\n".join(lines) + "\n")

    def start(self):
        self.write_files()
        conf = os.path.join(self.tmp, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(self.config_text())
        os.chmod(conf, 0o644)
        args = [self.subst(a).replace("{conf}", conf) for a in self.s.get("args", ["-c", "{conf}"])]
        self.errf = os.path.join(self.tmp, "stderr.txt")
        self.outf = os.path.join(self.tmp, "stdout.txt")
        with open(self.outf, "wb") as o, open(self.errf, "wb") as e:
            self.proc = subprocess.Popen([self.bin] + args, stdout=o, stderr=e,
                                         stdin=subprocess.DEVNULL, cwd=self.tmp)

    def text(self, path):
        try:
            with open(path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_running(self, timeout=10.0):
        """True once the broker logs that it runs (or, with "ready": "port", accepts a TCP
        connection: for -q, which silences that line), False if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(r"mosquitto version \S+ running", self.text(self.errf) +
                         self.text(self.outf)):
                return True
            if self.s.get("ready") == "port":
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    return True
                except OSError:
                    pass
            if self.proc.poll() is not None:
                return False
            time.sleep(0.01)
        return False

    def rec(self, line):
        self.out.append(line)

    # ---- steps ----

    def step(self, st):
        op = st["op"]
        c = st.get("c", "a")
        if op == "open":
            try:
                self.conns[c] = Conn(self.port if not st.get("port2") else self.port2,
                                     st.get("proto", mr.V311))
            except OSError as e:
                self.rec("%s: open failed (%s)" % (c, e.__class__.__name__))
        elif op == "connect":
            # Shorthand: open, CONNECT with the given arguments, read the answer.
            kw = dict(st.get("args", {}))
            proto = kw.get("proto", mr.V311)
            if c not in self.conns:
                self.step({"op": "open", "c": c, "proto": proto, "port2": st.get("port2")})
            if c in self.conns:
                self.conns[c].proto = proto
                self.conns[c].send(build(["connect", kw], proto))
                self.step({"op": "recv", "c": c})
        elif op == "send":
            conn = self.conns[c]
            if "hex" in st:
                conn.send(bytes.fromhex(st["hex"]))
            else:
                if st["p"][0] == "connect":
                    conn.proto = st["p"][1].get("proto", mr.V311)
                conn.send(build(st["p"], conn.proto))
        elif op == "recv":
            n = st.get("n", 1)
            for _ in range(n):
                self.rec_read(c, st.get("timeout", RECV_TIMEOUT), st.get("payload", True))
        elif op == "drain":
            # Everything the broker queued for this client before it answers a PINGREQ.
            # "sort": in topic order (for sets whose order is not part of the behaviour, like
            # the retained $SYS topics); "payload": false drops payloads and packet ids (for
            # values that vary from run to run, like uptime).
            conn = self.conns[c]
            conn.send(mr.pingreq())
            lines, tail = [], None
            while True:
                got = conn.read(st.get("timeout", RECV_TIMEOUT))
                if isinstance(got, str):
                    tail = "%s: %s" % (c, got)
                    break
                if got[0] >> 4 == mr.PINGRESP:
                    break
                if st.get("retained_only") and not (got[0] >> 4 == mr.PUBLISH and got[0] & 1):
                    continue      # live $SYS updates arrive on the broker's clock, not ours
                line = "%s: %s" % (c, render(got[0], got[1], conn.proto))
                if st.get("payload") is False:
                    line = re.sub(r" mid=\d+| payload=.*$", "", line)
                lines.append(line)
            for line in sorted(lines) if st.get("sort") else lines:
                self.rec(line)
            if tail:
                self.rec(tail)
        elif op == "silent":
            # Nothing must arrive for a while (the broker keeps the connection open).
            got = self.conns[c].read(st.get("s", 0.5))
            self.rec("%s: %s" % (c, got if isinstance(got, str) else
                                 render(got[0], got[1], self.conns[c].proto)))
        elif op == "close":
            self.close_one(self.conns[c])
        elif op == "sleep":
            time.sleep(st["s"])
        elif op == "signal":
            if self.proc.poll() is None:
                self.proc.send_signal(SIGNALS[st["sig"]])
        elif op == "write":
            self.write_file(st["file"], st["text"])
        elif op == "wait_log":
            rx = re.compile(st["re"], re.M)
            deadline = time.monotonic() + st.get("timeout", 5.0)
            found = False
            while time.monotonic() < deadline:
                if rx.search(self.text(self.errf)[st.get("since", 0):]):
                    found = True
                    break
                time.sleep(0.01)
            self.rec("log /%s/: %s" % (st["re"], "seen" if found else "not seen"))
        elif op == "wait_exit":
            try:
                rc = self.proc.wait(st.get("timeout", 15.0))
                self.rec("broker: exited %d" % rc)
            except subprocess.TimeoutExpired:
                self.rec("broker: running")
        elif op == "alive":
            time.sleep(st.get("s", 0.3))
            rc = self.proc.poll()
            self.rec("broker: %s" % ("running" if rc is None else "exited %d" % rc))
        else:
            raise ValueError("unknown step %r" % op)

    def close_all(self):
        """Closes the clients one by one, each after the broker logged the previous close, so
        the order of the "disconnected" lines is the scenario's, not the scheduler's."""
        for cn in self.conns.values():
            if not cn.closed:
                self.close_one(cn)

    def close_one(self, cn):
        """Closes a client and waits (up to 5 s, for loaded machines and sanitizer builds)
        for the broker to log it."""
        cn.close()
        tag = "127.0.0.1:%d]" % cn.port
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and self.proc.poll() is None:
            if tag in self.text(self.errf):
                break
            time.sleep(0.005)

    def rec_read(self, c, timeout, payload=True):
        conn = self.conns.get(c)
        if conn is None:
            self.rec("%s: not open" % c)
            return
        got = conn.read(timeout)
        line = "%s: %s" % (c, got if isinstance(got, str) else render(got[0], got[1], conn.proto))
        if not payload:
            line = re.sub(r" mid=\d+| payload=.*$", "", line)
        self.rec(line)

    # ---- whole run ----

    def normalise(self, text):
        ports = {str(cn.port): n for n, cn in self.conns.items()}
        text = re.sub(r"^\d{9,}: ", "", text, flags=re.M)
        text = AUTO_ID.sub("<ID>", text)
        text = text.replace(self.tmp, "<dir>")
        text = re.sub(r"\b%d\b" % self.port, "<port>", text)
        text = re.sub(r"\b%d\b" % self.port2, "<port2>", text)
        return re.sub(r"127\.0\.0\.1:(\d+)", lambda m: "127.0.0.1:<%s>" %
                      ports.get(m.group(1), "?"), text)

    def pick(self, text, patterns):
        lines = []
        for ln in self.normalise(text).splitlines():
            if "127.0.0.1:<?>" in ln:
                continue    # a stray client of another test that found our port: not ours
            if any(re.search(p, ln) for p in patterns):
                lines.append(ln)
        return lines

    def run(self):
        """Runs the scenario; a broker-mode start that lost its free port to another process
        in the meantime (EADDRINUSE) is retried on new ports."""
        for _ in range(3):
            result = self._run()
            if not str(result.get("start", "")).startswith("exited") or \
                    "Address already in use" not in self.last_err:
                return result
            self.tmp = tempfile.mkdtemp(prefix="diff-%s-" % self.label)
            os.chmod(self.tmp, 0o777)
            self.port, self.port2 = free_port(), free_port()
            self.conns, self.out, self.proc = {}, [], None
        return result

    def _run(self):
        s = self.s
        result = {}
        self.last_err = ""
        try:
            self.start()
            if s.get("mode", "broker") == "broker":
                if not self.wait_running():
                    self.proc.wait(5)
                    result["start"] = "exited %d before running" % self.proc.returncode
                else:
                    for st in s.get("steps", []):
                        self.step(st)
                    self.close_all()
                    result["exit"] = self.stop()
                result["packets"] = self.out
            else:
                # Start-up only: exit code and output, or "running" if it got that far.
                running = self.wait_running(s.get("timeout", 5.0))
                if running:
                    for st in s.get("steps", []):
                        self.step(st)
                    result["exit"] = "ran, then %s" % self.stop()
                else:
                    try:
                        result["exit"] = self.proc.wait(10)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        result["exit"] = "neither exited nor logged running"
                if self.out:
                    result["packets"] = self.out
                pidf = os.path.join(self.tmp, "pid")
                if os.path.exists(pidf):
                    self.kill_daemon(pidf)
                result["stdout"] = self.pick(self.text(self.outf), s.get("stdout", ["."]))
            pats = s.get("log", [])
            if pats:
                result["log"] = self.pick(self.text(self.errf), pats)
            err = self.text(self.errf) + self.text(self.outf)
            if "runtime error:" in err or "Sanitizer" in err:
                result["sanitizer"] = err[-3000:]
        finally:
            self.last_err = self.text(self.errf) if hasattr(self, "errf") else ""
            for cn in self.conns.values():
                cn.close()
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            if not os.environ.get("DIFF_KEEP_TMP"):
                shutil.rmtree(self.tmp, ignore_errors=True)
        return result

    def stop(self):
        """SIGTERM (unless it already exited); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "killed (no exit on SIGTERM)"

    def kill_daemon(self, pidf):
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                pid = int(open(pidf).read().strip())
                os.kill(pid, signal.SIGTERM)
                return
            except (ValueError, ProcessLookupError):
                time.sleep(0.02)


# ---- scenario files ------------------------------------------------------------------------

def load_scenarios():
    out = []
    for fn in sorted(os.listdir(SCEN_DIR)):
        if fn.endswith(".json"):
            with open(os.path.join(SCEN_DIR, fn)) as f:
                for sc in json.load(f):
                    sc["_file"] = fn
                    out.append(sc)
    return out


def save_file(fn, scens):
    path = os.path.join(SCEN_DIR, fn)
    clean = [{k: v for k, v in s.items() if not k.startswith("_")} for s in scens]
    with open(path, "w") as f:
        json.dump(clean, f, indent=1, ensure_ascii=False)
        f.write("\n")


def expected_answer(sc):
    """The recorded reference answer, with the parts an explained difference keeps as ours."""
    exp = dict(sc["reference"])
    for k, v in sc.get("explained", {}).get("ours", {}).items():
        if v is None:
            exp.pop(k, None)
        else:
            exp[k] = v
    return exp


def save_done(done):
    """Writes back every scenario file, with the scenarios in done (by name) replaced."""
    by_file = {}
    for sc in load_scenarios():
        by_file.setdefault(sc["_file"], []).append(sc)
    for fn, lst in by_file.items():
        if any(s["name"] in done for s in lst):
            save_file(fn, [done.get(s["name"], s) for s in lst])


def load_pending():
    """pending.json: differences another branch is fixing. Each entry names scenarios (a glob)
    and either nothing more (the whole scenario is pending) or a regex and replacement that
    turn the recorded answer into ours (only that part is pending; the rest must match)."""
    if not os.path.exists(PENDING):
        return []
    with open(PENDING) as f:
        return json.load(f)


def rewrite(answer, rules):
    """The recorded answer with the pending rules' rewrites applied to each line."""
    def fix(v):
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, (str, int)):
            t = str(v)
            for r in rules:
                t = re.sub(r["expect_re"], r.get("ours", ""), t)
            return t if isinstance(v, str) or t != str(v) else v
        return v
    return {k: fix(v) for k, v in answer.items()}


def diff_lines(a, b):
    """Short human diff of two transcripts."""
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if va == vb:
            continue
        if isinstance(va, list) and isinstance(vb, list):
            for i in range(max(len(va), len(vb))):
                x = va[i] if i < len(va) else "<none>"
                y = vb[i] if i < len(vb) else "<none>"
                if x != y:
                    out.append("  %s[%d]: expected %s" % (k, i, x))
                    out.append("  %s[%d]:      got %s" % (k, i, y))
        else:
            out.append("  %s: expected %r" % (k, va))
            out.append("  %s:      got %r" % (k, vb))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--area", help="only scenarios of this file (without .json)")
    ap.add_argument("-k", help="only scenarios whose name contains this")
    ap.add_argument("--record", action="store_true",
                    help="run MOSQ_REFERENCE and write its answers into the scenario files")
    ap.add_argument("--name", action="append", help="only this scenario (repeatable)")
    ap.add_argument("--explain", metavar="WHY",
                    help="keep our answer on purpose: record it as the scenario's explained "
                         "difference, with the reason (specification section, security, 2.0.11)")
    ap.add_argument("-j", type=int, default=int(os.environ.get("DIFF_JOBS", "4")))
    ap.add_argument("-v", action="store_true", help="print every transcript")
    a = ap.parse_args()
    ref = os.environ.get("MOSQ_REFERENCE")
    if a.record and not ref:
        sys.exit("--record needs MOSQ_REFERENCE")
    scens = [s for s in load_scenarios()
             if (not a.area or s["_file"] == a.area + ".json") and (not a.k or a.k in s["name"])
             and (not a.name or s["name"] in a.name)]
    if not scens:
        sys.exit("no scenario selected")
    pending = load_pending()
    lock = threading.Lock()
    if a.explain:
        if not a.name:
            sys.exit("--explain needs --name")
        done = {}
        for sc in scens:
            # Only the parts of the transcript (packets, log, exit...) where we differ are
            # kept as ours; the rest stays the reference's, so a pending fix elsewhere in the
            # same scenario still lands on the recorded answer.
            ours = Run(OURS, sc, "ours").run()
            rules = [r for r in pending if fnmatch.fnmatchcase(sc["name"], r["scenarios"])
                     and "expect_re" in r]
            ref = rewrite(sc["reference"], rules)
            part = {k: v for k, v in ours.items() if ref.get(k) != v}
            part.update({k: None for k in ref if k not in ours})
            done[sc["name"]] = dict(sc, explained={"why": a.explain, "ours": part})
            print("explained %s: %s" % (sc["name"], ", ".join(sorted(part))))
        save_done(done)
        return 0

    def one(sc):
        res = {}
        if not a.record:
            res["ours"] = Run(OURS, sc, "ours").run()
        if ref:
            res["ref"] = Run(ref, sc, "ref").run()
        return sc, res

    counts = {"same": 0, "explained": 0, "pending": 0, "fail": 0, "pending_fixed": 0,
              "stale": 0, "unrecorded": 0}
    failures = []
    used_rules = set()
    pend_owner = {}
    with concurrent.futures.ThreadPoolExecutor(a.j) as ex:
        for sc, res in ex.map(one, scens):
            name = sc["name"]
            with lock:
                if a.record:
                    sc["reference"] = res["ref"]
                    print("recorded %s" % name)
                    continue
                ours = res["ours"]
                recorded = sc.get("reference")
                if recorded is None:
                    counts["unrecorded"] += 1
                    failures.append("%s: no recorded reference answer" % name)
                    continue
                if ref and res["ref"] != recorded:
                    counts["stale"] += 1
                    print("STALE %s: the live reference differs from the recording\n%s" %
                          (name, diff_lines(recorded, res["ref"])))
                expected = expected_answer(sc)
                rules = [r for r in pending if fnmatch.fnmatchcase(name, r["scenarios"])]
                if a.v:
                    print("%s\n  %s" % (name, json.dumps(ours)))
                whole = [r for r in rules if "expect_re" not in r]
                if "sanitizer" in ours and whole:
                    counts["pending"] += 1
                    print("PENDING %s [sanitizer report; %s]" % (name, "; ".join(
                        "%s: %s" % (r.get("owner", "?"), r["why"]) for r in whole)))
                    continue
                if "sanitizer" in ours:
                    counts["fail"] += 1
                    failures.append("%s: sanitizer report\n%s" % (name, ours["sanitizer"]))
                    continue
                if ours == expected:
                    counts["explained" if "explained" in sc else "same"] += 1
                    for r in rules:
                        if "expect_re" not in r:
                            counts["pending_fixed"] += 1
                            print("PENDING-NOW-PASSES %s: remove it from pending.json" % name)
                    continue
                whole = [r for r in rules if "expect_re" not in r]
                partial = [r for r in rules if "expect_re" in r]
                if partial and rewrite(expected, partial) == ours:
                    whole = []     # the rewrites explain it all: a whole-scenario entry is stale
                if whole or (partial and rewrite(expected, partial) == ours):
                    counts["pending"] += 1
                    for r in whole + partial:
                        used_rules.add(id(r))
                    eff = whole + [r for r in partial if rewrite(expected, [r]) != expected]
                    whys = []
                    for r in eff:
                        w = "%s: %s" % (r.get("owner", "?"), r["why"])
                        if w not in whys:
                            whys.append(w)
                    for o in set(r.get("owner", "?") for r in eff):
                        pend_owner[o] = pend_owner.get(o, 0) + 1
                    print("PENDING %s [%s]" % (name, "; ".join(whys)))
                    if a.v:
                        print(diff_lines(expected, ours))
                    continue
                counts["fail"] += 1
                shown = rewrite(expected, partial) if partial else expected
                failures.append("%s (%s)%s\n%s" % (
                    name, sc["_file"], " [pending rewrites applied]" if partial else "",
                    diff_lines(shown, ours)))
    if a.record:
        save_done({s["name"]: s for s in scens})
        return 0
    for f in failures:
        print("DIFFERENCE %s" % f)
    if not a.area and not a.k:
        for r in pending:
            if id(r) not in used_rules:
                print("PENDING-RULE-UNUSED %s: %s (remove it from pending.json)" %
                      (r["scenarios"], r["why"]))
    for owner, n in sorted(pend_owner.items()):
        print("pending scenarios, owner %s: %d" % (owner, n))
    print("scenarios: %d  same: %d  explained: %d  pending: %d  pending-now-passing: %d  "
          "unexplained: %d  unrecorded: %d%s" % (
              len(scens), counts["same"], counts["explained"], counts["pending"],
              counts["pending_fixed"], counts["fail"], counts["unrecorded"],
              "  stale recordings: %d" % counts["stale"] if ref else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
