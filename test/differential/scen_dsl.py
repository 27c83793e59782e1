"""scen_dsl - shorthands for writing scenarios, and the writer gen_scenarios.py calls.

The scenario files are the data the runner reads; this script only saves typing. It keeps the
recorded reference answer ("reference") and any "explained" block of a scenario whose definition
did not change, so regenerating never loses a recording: only new or edited scenarios need
`MOSQ_REFERENCE=... diffrun.py --record -k <name>`.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SCEN_DIR = os.path.join(HERE, "scenarios")
V31, V311, V5 = 3, 4, 5
PROTOS = {V31: "v31", V311: "v311", V5: "v5"}

# Log lines compared by default: connection life cycle and errors, not start-up chatter.
LOG_CONN = [r"New client connected", r"disconnected", r"closed its connection",
            r"exceeded timeout", r"^Error", r"^Warning", r"Denied", r"not authori"]

# Password file with alice:secret and bob:builder ($7$ hashes written by mosquitto_passwd).
PWFILE = ("alice:$7$101$6AKz4NFGz4RRM2pd$FgjhmdoDUB75Rcv62FEOCUkecoG2t2kihefFkuhTH3Wol5Sgrlmt12"
          "zGFUXmfWEgrk7LRyqVGpRpW952wQcRfA==\n"
          "bob:$7$101$u3/VoTsz9GIz0SKU$dCtcIMLupZah4M983vC3mu4Xk/OJPgu8E40JbKrR7CXfP4W5cVrj60f8"
          "qyk1NS4uu5fFuGWc/dukI/ysMQQQDQ==\n")

AREAS = {}


def area(name):
    def deco(fn):
        AREAS[name] = fn
        return fn
    return deco


def sc(name, steps=(), config="", log=LOG_CONN, **kw):
    d = {"name": name, "config": config, "steps": list(steps)}
    if log:
        d["log"] = list(log)
    d.update(kw)
    return d


# ---- step shorthands ----

def C(c="a", id=None, proto=V311, **args):
    """open + CONNECT + read the answer."""
    args["proto"] = proto
    args["id"] = c if id is None else id
    return {"op": "connect", "c": c, "args": args}


def S(c, kind, **kw):
    return {"op": "send", "c": c, "p": [kind, kw]}


def HEX(c, h):
    return {"op": "send", "c": c, "hex": h}


def O(c="a", proto=V311):
    return {"op": "open", "c": c, "proto": proto}


def R(c="a", n=1, timeout=None, payload=True):
    d = {"op": "recv", "c": c, "n": n}
    if timeout:
        d["timeout"] = timeout
    if not payload:
        d["payload"] = False     # values that vary from run to run (uptime)
    return d


def D(c="a", **kw):
    d = {"op": "drain", "c": c}
    d.update(kw)
    return d


def QUIET(c="a", s=0.5):
    return {"op": "silent", "c": c, "s": s}


def CLOSE(c="a"):
    return {"op": "close", "c": c}


def SLEEP(s):
    return {"op": "sleep", "s": s}


def SIG(sig):
    return {"op": "signal", "sig": sig}


def WAITLOG(rx, timeout=5.0):
    return {"op": "wait_log", "re": rx, "timeout": timeout}


def ALIVE(s=0.3):
    return {"op": "alive", "s": s}


def WRITE(f, text):
    return {"op": "write", "file": f, "text": text}


def SUB(c, topic, opts=0, mid=1, **kw):
    return S(c, "subscribe", mid=mid, topics=[[topic, opts]], **kw)


def PUB(c, topic, payload="", qos=0, mid=1, **kw):
    return S(c, "publish", topic=topic, payload=payload, qos=qos, mid=mid, **kw)


def DISC(c="a", **kw):
    return S(c, "disconnect", **kw)


# ---- the output -----------------------------------------------------------------------------

def main():
    os.makedirs(SCEN_DIR, exist_ok=True)
    total = 0
    for name, fn in AREAS.items():
        scens = fn()
        path = os.path.join(SCEN_DIR, name + ".json")
        old = {}
        if os.path.exists(path):
            with open(path) as f:
                old = {s["name"]: s for s in json.load(f)}
        names = set()
        for s in scens:
            if s["name"] in names:
                raise SystemExit("duplicate scenario name %s" % s["name"])
            names.add(s["name"])
            o = old.get(s["name"])
            if o is not None:
                same = {k: v for k, v in o.items() if k not in ("reference", "explained")} == s
                if same:
                    for k in ("reference", "explained"):
                        if k in o:
                            s[k] = o[k]
        with open(path, "w") as f:
            json.dump(scens, f, indent=1, ensure_ascii=False)
            f.write("\n")
        total += len(scens)
        print("%-12s %4d" % (name, len(scens)))
    print("%-12s %4d" % ("total", total))


