#!/usr/bin/env python3
"""gen_scenarios - the scenario tables, area by area; writes scenarios/<area>.json.

Run it after editing a table, then record what changed:
  python3 gen_scenarios.py
  MOSQ_REFERENCE=/path/to/mosquitto-2.1.2 python3 diffrun.py --record -k <name>
Unchanged scenarios keep their recorded answers (see scen_dsl.main).
"""

from scen_dsl import (V31, V311, V5, PROTOS, LOG_CONN, PWFILE, area, sc, C, S, HEX, O, R, D,
                      QUIET, CLOSE, SLEEP, SIG, WAITLOG, ALIVE, WRITE, SUB, PUB, DISC, main)

ALL = (V31, V311, V5)


# ---- CONNECT / CONNACK -----------------------------------------------------------------------

@area("connect")
def connect_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        out += [
            sc("connect/%s/clean" % v, [C("a", proto=p), D("a"), DISC("a"), R("a")]),
            sc("connect/%s/persistent" % v, [C("a", proto=p, clean=False), DISC("a")]),
            sc("connect/%s/empty-id-clean" % v, [C("a", id="", proto=p), D("a")]),
            sc("connect/%s/empty-id-persistent" % v, [C("a", id="", proto=p, clean=False)]),
            sc("connect/%s/id-23-chars" % v, [C("a", id="x" * 23, proto=p)]),
            sc("connect/%s/id-24-chars" % v, [C("a", id="y" * 24, proto=p)]),
            sc("connect/%s/id-200-chars" % v, [C("a", id="z" * 200, proto=p)]),
            sc("connect/%s/keepalive-0" % v, [C("a", proto=p, keepalive=0), D("a")]),
            sc("connect/%s/reserved-flag" % v, [C("a", proto=p, flags=0x03)]),
            sc("connect/%s/will-qos3" % v, [C("a", proto=p, flags=0x1E)]),
            sc("connect/%s/will-retain-no-will" % v, [C("a", proto=p, flags=0x22)]),
            sc("connect/%s/will-qos-no-will" % v, [C("a", proto=p, flags=0x0A)]),
            sc("connect/%s/password-no-username" % v, [C("a", proto=p, password="pw")]),
            sc("connect/%s/username-only" % v, [C("a", proto=p, username="u"), D("a")]),
            sc("connect/%s/second-connect" % v,
               [C("a", proto=p), S("a", "connect", id="a", proto=p), R("a")]),
            sc("connect/%s/not-authorised" % v, [C("a", proto=p)],
               config="allow_anonymous false"),
            sc("connect/%s/good-password" % v,
               [C("a", proto=p, username="alice", password="secret"), D("a")],
               config="password_file {dir}/pw", files={"pw": PWFILE}),
            sc("connect/%s/bad-password" % v,
               [C("a", proto=p, username="alice", password="wrong")],
               config="password_file {dir}/pw", files={"pw": PWFILE}),
            sc("connect/%s/unknown-user" % v,
               [C("a", proto=p, username="carol", password="secret")],
               config="password_file {dir}/pw", files={"pw": PWFILE}),
            sc("connect/%s/no-username-with-password-file" % v, [C("a", proto=p)],
               config="password_file {dir}/pw", files={"pw": PWFILE}),
            sc("connect/%s/invalid-utf8-id" % v, [C("a", id={"hex": "61ff62"}, proto=p)]),
            sc("connect/%s/nul-in-id" % v, [C("a", id={"hex": "610062"}, proto=p)]),
            sc("connect/%s/will-wildcard-topic" % v,
               [C("a", proto=p, will_topic="w/#", will_payload="x")]),
            sc("connect/%s/will-empty-topic" % v,
               [C("a", proto=p, will_topic="", will_payload="x")]),
            sc("connect/%s/keepalive-above-max" % v, [C("a", proto=p, keepalive=120), D("a")],
               config="max_keepalive 60"),
            sc("connect/%s/zero-length-id-disallowed" % v, [C("a", id="", proto=p)],
               config="allow_zero_length_clientid false"),
            sc("connect/%s/auto-id-prefix" % v, [C("a", id="", proto=p), D("a")],
               config="auto_id_prefix pre-", log=LOG_CONN),
            sc("connect/%s/clientid-prefixes-refused" % v, [C("a", id="other", proto=p)],
               config="clientid_prefixes ok-"),
            sc("connect/%s/clientid-prefixes-accepted" % v, [C("a", id="ok-1", proto=p)],
               config="clientid_prefixes ok-"),
            sc("connect/%s/use-username-as-clientid" % v,
               [C("a", id="ignored", proto=p, username="alice", password="secret"), D("a")],
               config="password_file {dir}/pw", files={"pw": PWFILE},
               listener_config="use_username_as_clientid true"),
            sc("connect/%s/max-connections" % v,
               [C("a", proto=p), C("b", proto=p), D("a")],
               listener_config="max_connections 1"),
            sc("connect/%s/publish-before-connect" % v,
               [O("a", p), PUB("a", "t", "x"), R("a")]),
            sc("connect/%s/pingreq-before-connect" % v, [O("a", p), S("a", "pingreq"), R("a")]),
            sc("connect/%s/truncated-connect" % v, [O("a", p), HEX("a", "100c00044d51545404"),
                                                   CLOSE("a")]),
        ]
    # Protocol name / version combinations.
    for name, ver, tag in (("MQTT", 3, "MQTT-v3"), ("MQIsdp", 4, "MQIsdp-v4"),
                           ("MQTT", 6, "MQTT-v6"), ("MQTT", 2, "MQTT-v2"), ("MQTT", 0, "MQTT-v0"),
                           ("XXXX", 4, "XXXX-v4"), ("MQIsdp", 5, "MQIsdp-v5"),
                           ("mqtt", 4, "lowercase-v4")):
        out.append(sc("connect/protocol/%s" % tag,
                      [O("a"), S("a", "connect", id="a", proto=ver, proto_name=name), R("a")]))
    # v5 CONNECT properties, one by one.
    props = [
        ("session-expiry-0", [["session_expiry", 0]]),
        ("session-expiry-60", [["session_expiry", 60]]),
        ("session-expiry-max", [["session_expiry", 0xFFFFFFFF]]),
        ("receive-maximum-1", [["receive_maximum", 1]]),
        ("receive-maximum-0", [["receive_maximum", 0]]),
        ("max-packet-size-100", [["maximum_packet_size", 100]]),
        ("max-packet-size-0", [["maximum_packet_size", 0]]),
        ("topic-alias-max-10", [["topic_alias_maximum", 10]]),
        ("request-response-info-1", [["request_response_info", 1]]),
        ("request-response-info-2", [["request_response_info", 2]]),
        ("request-problem-info-0", [["request_problem_info", 0]]),
        ("request-problem-info-2", [["request_problem_info", 2]]),
        ("user-property", [["user_property", ["k", "v"]]]),
        ("user-property-twice", [["user_property", ["k", "v"]], ["user_property", ["k", "w"]]]),
        ("auth-method", [["auth_method", "SCRAM-SHA-1"]]),
        ("auth-data-no-method", [["auth_data", "xx"]]),
        ("duplicate-session-expiry", [["session_expiry", 1], ["session_expiry", 2]]),
        ("duplicate-receive-maximum", [["receive_maximum", 1], ["receive_maximum", 2]]),
        ("not-allowed-topic-alias", [["topic_alias", 1]]),
        ("not-allowed-payload-format", [["payload_format", 1]]),
        ("not-allowed-will-delay", [["will_delay", 1]]),
        ("not-allowed-server-keep-alive", [["server_keep_alive", 1]]),
    ]
    for tag, pl in props:
        out.append(sc("connect/v5-prop/%s" % tag, [C("a", proto=V5, properties=pl), D("a")]))
    wprops = [
        ("will-delay", [["will_delay", 5]]),
        ("payload-format-1-valid", [["payload_format", 1]]),
        ("message-expiry", [["message_expiry", 30]]),
        ("content-type", [["content_type", "text/plain"]]),
        ("response-topic", [["response_topic", "r/t"]]),
        ("response-topic-wildcard", [["response_topic", "r/#"]]),
        ("correlation-data", [["correlation_data", "cd"]]),
        ("user-property", [["user_property", ["a", "b"]]]),
        ("not-allowed-session-expiry", [["session_expiry", 5]]),
        ("not-allowed-topic-alias", [["topic_alias", 1]]),
    ]
    for tag, pl in wprops:
        out.append(sc("connect/v5-will-prop/%s" % tag,
                      [C("a", proto=V5, will_topic="w/t", will_payload="bye", will_properties=pl),
                       D("a")]))
    out.append(sc("connect/v5-will-prop/payload-format-1-invalid-utf8",
                  [C("a", proto=V5, will_topic="w/t", will_payload={"hex": "ff"},
                     will_properties=[["payload_format", 1]])]))
    # CONNACK as the listener's options shape it.
    for tag, conf, lconf in (
            ("max-qos-1", "", "max_qos 1"),
            ("max-qos-0", "", "max_qos 0"),
            ("retain-unavailable", "retain_available false", ""),
            ("max-topic-alias-0", "", "max_topic_alias 0"),
            ("max-topic-alias-5", "", "max_topic_alias 5"),
            ("max-inflight-5", "max_inflight_messages 5", ""),
            ("max-packet-size-1000", "max_packet_size 1000", ""),
            ("max-keepalive-30", "max_keepalive 30", ""),
            ("message-size-limit", "message_size_limit 100", ""),
    ):
        out.append(sc("connect/v5-connack/%s" % tag,
                      [C("a", proto=V5, keepalive=60), D("a")], config=conf,
                      listener_config=lconf))
    # Refusal codes in v5 and 3.1.1 for the same causes.
    out.append(sc("connect/v5/unsupported-version-6",
                  [O("a"), S("a", "connect", id="a", proto=6), R("a")]))
    out.append(sc("connect/v5/keepalive-0-with-max",
                  [C("a", proto=V5, keepalive=0), D("a")], config="max_keepalive 30"))
    return out


# ---- PUBLISH and acknowledgements ------------------------------------------------------------

@area("publish")
def publish_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        for q in (0, 1, 2):
            # No subscriber: the acks alone.
            st = [C("a", proto=p), PUB("a", "t/%d" % q, "m", qos=q, mid=7)]
            if q == 1:
                st += [R("a")]
            if q == 2:
                st += [R("a"), S("a", "pubrel", mid=7), R("a")]
            out.append(sc("publish/%s/q%d-no-subscriber" % (v, q), st + [D("a")]))
            for sq in (0, 1, 2):
                st = [C("s", proto=p), SUB("s", "t/#", sq), R("s"),
                      C("a", proto=p), PUB("a", "t/x", "hello", qos=q, mid=9)]
                if q == 1:
                    st += [R("a")]
                if q == 2:
                    st += [R("a"), S("a", "pubrel", mid=9), R("a")]
                st += [R("s")]
                eff = min(q, sq)
                if eff == 1:
                    st += [S("s", "puback", mid=1)]
                if eff == 2:
                    st += [S("s", "pubrec", mid=1), R("s"), S("s", "pubcomp", mid=1)]
                st += [D("s")]
                out.append(sc("publish/%s/q%d-to-sub-q%d" % (v, q, sq), st))
        out += [
            sc("publish/%s/qos3" % v, [C("a", proto=p), PUB("a", "t", "x", qos=3), R("a")]),
            sc("publish/%s/wildcard-topic-plus" % v,
               [C("a", proto=p), PUB("a", "t/+", "x", qos=1), R("a")]),
            sc("publish/%s/wildcard-topic-hash" % v,
               [C("a", proto=p), PUB("a", "t/#", "x", qos=1), R("a")]),
            sc("publish/%s/empty-topic" % v, [C("a", proto=p), PUB("a", "", "x", qos=1), R("a")]),
            sc("publish/%s/sys-topic" % v,
               [C("a", proto=p), PUB("a", "$SYS/x", "x", qos=1), R("a"), D("a")]),
            sc("publish/%s/sys-topic-q2" % v,
               [C("a", proto=p), PUB("a", "$SYS/x", "x", qos=2), R("a"), D("a")]),
            sc("publish/%s/dup-on-qos0" % v,
               [C("a", proto=p), PUB("a", "t", "x", qos=0, dup=True), D("a")]),
            sc("publish/%s/mid-0-qos1" % v,
               [C("a", proto=p), PUB("a", "t", "x", qos=1, mid=0), R("a")]),
            sc("publish/%s/q2-same-mid-twice" % v,
               [C("s", proto=p), SUB("s", "t", 2), R("s"), C("a", proto=p),
                PUB("a", "t", "one", qos=2, mid=3), R("a"), PUB("a", "t", "two", qos=2, mid=3),
                R("a"), S("a", "pubrel", mid=3), R("a"), R("s"),
                S("s", "pubrec", mid=1), R("s"), S("s", "pubcomp", mid=1), D("s")]),
            sc("publish/%s/q2-dup-resend" % v,
               [C("s", proto=p), SUB("s", "t", 2), R("s"), C("a", proto=p),
                PUB("a", "t", "one", qos=2, mid=3), R("a"),
                PUB("a", "t", "one", qos=2, mid=3, dup=True), R("a"), S("a", "pubrel", mid=3),
                R("a"), R("s"), S("s", "pubrec", mid=1), R("s"), S("s", "pubcomp", mid=1),
                D("s")]),
            sc("publish/%s/pubrel-unknown-mid" % v,
               [C("a", proto=p), S("a", "pubrel", mid=44), R("a"), D("a")]),
            sc("publish/%s/puback-unknown-mid" % v,
               [C("a", proto=p), S("a", "puback", mid=44), D("a")]),
            sc("publish/%s/pubrec-unknown-mid" % v,
               [C("a", proto=p), S("a", "pubrec", mid=44), R("a"), D("a")]),
            sc("publish/%s/pubcomp-unknown-mid" % v,
               [C("a", proto=p), S("a", "pubcomp", mid=44), D("a")]),
            sc("publish/%s/self-subscribe-q1" % v,
               [C("a", proto=p), SUB("a", "t", 1), R("a"), PUB("a", "t", "me", qos=1, mid=5),
                R("a", 2), S("a", "puback", mid=1), D("a")]),
            sc("publish/%s/message-size-limit" % v,
               [C("s", proto=p), SUB("s", "t", 1), R("s"), C("a", proto=p),
                PUB("a", "t", {"len": 101}, qos=1), R("a"), D("s")],
               config="message_size_limit 100"),
            sc("publish/%s/max-qos-1-listener" % v,
               [C("a", proto=p), PUB("a", "t", "x", qos=2), R("a")],
               listener_config="max_qos 1"),
            sc("publish/%s/retain-unavailable" % v,
               [C("a", proto=p), PUB("a", "t", "x", qos=1, retain=True), R("a")],
               config="retain_available false"),
            sc("publish/%s/upgrade-outgoing-qos" % v,
               [C("s", proto=p), SUB("s", "t", 2), R("s"), C("a", proto=p),
                PUB("a", "t", "x", qos=0), R("s")], config="upgrade_outgoing_qos true"),
            sc("publish/%s/order-10-q1" % v,
               [C("s", proto=p), SUB("s", "t", 1), R("s"), C("a", proto=p)] +
               [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(10)] +
               [R("a", 10), R("s", 10)]),
            sc("publish/%s/flags-on-pubrel-wrong" % v,
               [C("a", proto=p), PUB("a", "t", "x", qos=2, mid=2), R("a"),
                HEX("a", "60020002"), R("a")]),
        ]
    # v5 properties on PUBLISH are forwarded to a v5 subscriber, dropped for a 3.1.1 one.
    pprops = [
        ("payload-format", [["payload_format", 1]], "text"),
        ("payload-format-invalid-utf8", [["payload_format", 1]], {"hex": "ff"}),
        ("content-type", [["content_type", "application/json"]], "{}"),
        ("response-topic", [["response_topic", "resp/1"]], "x"),
        ("response-topic-wildcard", [["response_topic", "resp/#"]], "x"),
        ("correlation-data", [["correlation_data", "abc"]], "x"),
        ("user-properties", [["user_property", ["a", "1"]], ["user_property", ["a", "2"]],
                             ["user_property", ["b", "3"]]], "x"),
        ("message-expiry", [["message_expiry", 100]], "x"),
        ("subscription-id-from-client", [["subscription_id", 3]], "x"),
        ("topic-alias-0", [["topic_alias", 0]], "x"),
        ("topic-alias-above-max", [["topic_alias", 11]], "x"),
        ("duplicate-content-type", [["content_type", "a"], ["content_type", "b"]], "x"),
        ("not-allowed-session-expiry", [["session_expiry", 1]], "x"),
    ]
    for tag, pl, payload in pprops:
        for sp in (V311, V5):
            out.append(sc("publish/v5-prop/%s/to-%s" % (tag, PROTOS[sp]),
                          [C("s", proto=sp), SUB("s", "t", 0), R("s"), C("a", proto=V5),
                           PUB("a", "t", payload, qos=1, properties=pl), R("a"), D("s")]))
    return out


# ---- SUBSCRIBE / UNSUBSCRIBE -----------------------------------------------------------------

@area("subscribe")
def subscribe_area():
    out = []
    filters = [("plain", "a/b"), ("plus", "a/+/c"), ("hash", "a/#"), ("root-hash", "#"),
               ("plus-only", "+"), ("empty-level", "a//b"), ("leading-slash", "/a"),
               ("sys", "$SYS/#"), ("bad-hash-mid", "a/#/b"), ("bad-plus-attached", "a+/b"),
               ("bad-hash-attached", "a/b#"), ("empty", ""), ("share", "$share/g/a/b"),
               ("share-wild", "$share/g/#"), ("share-no-filter", "$share/g"),
               ("share-empty-group", "$share//a"), ("share-group-plus", "$share/g+/a"),
               ("share-no-group", "$share/"), ("long-65535", "x" * 300),
               ("dollar-other", "$foo/bar")]
    for p in ALL:
        v = PROTOS[p]
        for tag, f in filters:
            out.append(sc("subscribe/%s/filter-%s" % (v, tag),
                          [C("a", proto=p), SUB("a", f, 1, mid=3), R("a"), D("a")]))
        for q in (0, 1, 2, 3):
            out.append(sc("subscribe/%s/qos-%d" % (v, q),
                          [C("a", proto=p), SUB("a", "t", q), R("a"), D("a")]))
        out += [
            sc("subscribe/%s/three-topics" % v,
               [C("a", proto=p), S("a", "subscribe", mid=4, topics=[["a", 0], ["b/#", 1],
                                                                   ["c/+", 2]]), R("a")]),
            sc("subscribe/%s/no-topics" % v,
               [C("a", proto=p), S("a", "subscribe", mid=4, topics=[]), R("a")]),
            sc("subscribe/%s/wrong-flags" % v,
               [C("a", proto=p), HEX("a", "8006000100017400"), R("a")]),
            sc("subscribe/%s/mid-0" % v, [C("a", proto=p), SUB("a", "t", 0, mid=0), R("a")]),
            sc("subscribe/%s/unsubscribe-existing" % v,
               [C("a", proto=p), SUB("a", "t", 0), R("a"),
                S("a", "unsubscribe", mid=2, topics=["t"]), R("a"), PUB("a", "t", "x"),
                D("a")]),
            sc("subscribe/%s/unsubscribe-missing" % v,
               [C("a", proto=p), S("a", "unsubscribe", mid=2, topics=["t", "u"]), R("a")]),
            sc("subscribe/%s/unsubscribe-no-topics" % v,
               [C("a", proto=p), S("a", "unsubscribe", mid=2, topics=[]), R("a")]),
            sc("subscribe/%s/unsubscribe-wrong-flags" % v,
               [C("a", proto=p), HEX("a", "a00500020001" "74"), R("a")]),
            sc("subscribe/%s/unsubscribe-invalid-filter" % v,
               [C("a", proto=p), S("a", "unsubscribe", mid=2, topics=["a/#/b"]), R("a")]),
            sc("subscribe/%s/resubscribe-changes-qos" % v,
               [C("a", proto=p), SUB("a", "t", 0), R("a"), SUB("a", "t", 1, mid=2), R("a"),
                PUB("a", "t", "x", qos=1, mid=8), R("a", 2)]),
            sc("subscribe/%s/overlap-two-copies" % v,
               [C("a", proto=p), SUB("a", "t/#", 0), R("a"), SUB("a", "t/+", 1, mid=2),
                R("a"), C("b", proto=p), PUB("b", "t/x", "x", qos=1), R("b"), D("a")]),
            sc("subscribe/%s/sys-not-matched-by-hash" % v,
               [C("a", proto=p), SUB("a", "#", 0), R("a"), SUB("a", "+/x", 0, mid=2), R("a"),
                QUIET("a", 0.3)]),
            sc("subscribe/%s/max-qos-1-grant" % v,
               [C("a", proto=p), SUB("a", "t", 2), R("a")], listener_config="max_qos 1"),
        ]
    # v5 subscription options.
    for tag, opts in (("no-local", 0x05), ("retain-as-published", 0x09), ("rh-1", 0x11),
                      ("rh-2", 0x21), ("rh-3-invalid", 0x31), ("reserved-bits", 0x41),
                      ("reserved-bit-7", 0x81)):
        out.append(sc("subscribe/v5-opts/%s" % tag,
                      [C("a", proto=V5), SUB("a", "t", opts), R("a"), D("a")]))
    out += [
        sc("subscribe/v5-opts/no-local-own-message",
           [C("a", proto=V5), SUB("a", "t", 0x05), R("a"), PUB("a", "t", "x", qos=1), R("a"),
            D("a")]),
        sc("subscribe/v5-opts/no-local-shared-invalid",
           [C("a", proto=V5), SUB("a", "$share/g/t", 0x05), R("a")]),
        sc("subscribe/v5-opts/rap-keeps-retain",
           [C("a", proto=V5), SUB("a", "t", 0x09), R("a"), C("b", proto=V5),
            PUB("b", "t", "x", retain=True), R("a"), D("a")]),
        sc("subscribe/v5-opts/no-rap-clears-retain",
           [C("a", proto=V5), SUB("a", "t", 0x01), R("a"), C("b", proto=V5),
            PUB("b", "t", "x", retain=True), R("a"), D("a")]),
        sc("subscribe/v5-props/subscription-id",
           [C("a", proto=V5), SUB("a", "t", 0, properties=[["subscription_id", 5]]), R("a"),
            PUB("a", "t", "x"), D("a")]),
        sc("subscribe/v5-props/subscription-id-0",
           [C("a", proto=V5), SUB("a", "t", 0, properties=[["subscription_id", 0]]), R("a")]),
        sc("subscribe/v5-props/subscription-id-twice",
           [C("a", proto=V5), SUB("a", "t", 0, properties=[["subscription_id", 1],
                                                          ["subscription_id", 2]]), R("a")]),
        sc("subscribe/v5-props/two-ids-overlap",
           [C("a", proto=V5), SUB("a", "t/#", 0, properties=[["subscription_id", 2]]), R("a"),
            SUB("a", "t/+", 0, mid=2, properties=[["subscription_id", 3]]), R("a"),
            C("b", proto=V5), PUB("b", "t/x", "x"), D("a")]),
        sc("subscribe/v5-props/user-property",
           [C("a", proto=V5), SUB("a", "t", 0, properties=[["user_property", ["k", "v"]]]),
            R("a")]),
        sc("subscribe/v5-props/not-allowed-topic-alias",
           [C("a", proto=V5), SUB("a", "t", 0, properties=[["topic_alias", 1]]), R("a")]),
        sc("subscribe/v5-props/unsubscribe-user-property",
           [C("a", proto=V5), SUB("a", "t", 0), R("a"),
            S("a", "unsubscribe", mid=2, topics=["t"],
              properties=[["user_property", ["k", "v"]]]), R("a")]),
    ]
    return out


# ---- configuration errors --------------------------------------------------------------------

CONF_ERR_LOG = [r"rror", r"arning", r"nknown", r"nvalid", r"not supported"]


def conf_err(name, text, files=None, args=None):
    return sc(name, [], config=text, log=CONF_ERR_LOG, raw_config=True, mode="exit",
              stdout=["."], files=files or {}, **({"args": args} if args else {}))


@area("config")
def config_area():
    base = "log_dest stderr\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
    out = []
    bad = [
        ("unknown-option", "no_such_option true"),
        ("unknown-option-after-blank-lines", "\n\n\nno_such_option true"),
        ("bool-garbage", "retain_available maybe"),
        ("bool-empty", "retain_available"),
        ("int-garbage", "max_keepalive abc"),
        ("int-negative", "max_keepalive -1"),
        ("int-too-big", "max_keepalive 70000"),
        ("max-qos-3", "listener {port2}\nmax_qos 3"),
        ("port-0", "listener 0"),
        ("port-65536", "listener 65536"),
        ("port-garbage", "listener abc"),
        ("listener-no-port", "listener"),
        ("duplicate-listener", "listener {port} 127.0.0.1"),
        ("log-type-bad", "log_type nonsense"),
        ("log-dest-bad", "log_dest nowhere"),
        ("password-file-missing", "password_file {dir}/nope"),
        ("acl-file-missing", "acl_file {dir}/nope"),
        ("include-dir-missing", "include_dir {dir}/nope"),
        ("protocol-bad", "listener {port2}\nprotocol carrier-pigeon"),
        ("max-packet-size-small", "max_packet_size 10"),
        ("message-size-limit-huge", "message_size_limit 300000000"),
        ("sys-interval-garbage", "sys_interval x"),
        ("persistent-client-expiration-bad", "persistent_client_expiration 5x"),
        ("persistent-client-expiration-ok", "persistent_client_expiration 2h"),
        ("auto-id-prefix-long", "auto_id_prefix " + "p" * 60),
        ("max-inflight-messages-negative", "max_inflight_messages -5"),
        ("max-queued-messages-garbage", "max_queued_messages many"),
        ("trailing-space-ok", "retain_available true   "),
        ("comment-mid-line", "retain_available true # comment"),
        ("option-leading-space", "   retain_available true"),
        ("tab-separated", "retain_available\ttrue"),
        ("two-values", "max_keepalive 10 20"),
        ("retry-interval-obsolete", "retry_interval 10"),
        ("store-clean-interval-obsolete", "store_clean_interval 10"),
        ("socket-domain-bad", "listener {port2}\nsocket_domain ipx"),
        ("mount-point-wildcard", "listener {port2}\nmount_point a/#"),
        ("max-connections-garbage", "listener {port2}\nmax_connections x"),
        ("allow-anonymous-garbage", "allow_anonymous perhaps"),
        ("per-listener-after-listener", "listener {port2}\nper_listener_settings true"),
        ("user-missing-value", "user"),
        ("bind-address-missing", "bind_address"),
        ("max-topic-alias-too-big", "listener {port2}\nmax_topic_alias 70000"),
        ("keepalive-65535-ok", "max_keepalive 65535"),
        ("log-timestamp-format", "log_timestamp_format %Y"),
        ("upgrade-outgoing-qos-ok", "upgrade_outgoing_qos true"),
    ]
    for tag, extra in bad:
        out.append(conf_err("config/%s" % tag, base + extra))
    out += [
        conf_err("config/include-dir-with-bad-file", base + "include_dir {dir}/inc",
                 files={"inc/a.conf": "bogus_option 1\n"}),
        conf_err("config/password-file-invalid-line", base + "password_file {dir}/pw",
                 files={"pw": "justaname\n"}),
        conf_err("config/password-file-empty", base + "password_file {dir}/pw",
                 files={"pw": ""}),
        conf_err("config/acl-file-invalid-line", base + "acl_file {dir}/acl",
                 files={"acl": "topic\nnonsense here\n"}),
        conf_err("config/acl-file-bad-access", base + "acl_file {dir}/acl",
                 files={"acl": "topic bogus a/b\n"}),
        conf_err("config/empty-file", ""),
    ]
    return out


# ---- command line -----------------------------------------------------------------------------

def cli(name, args, config=None, steps=(), stdout=("."), log=CONF_ERR_LOG + [r"listen socket"],
        **kw):
    return sc(name, list(steps), config=config or "", log=list(log), raw_config=True,
              mode="exit", args=list(args), stdout=list(stdout), **kw)


@area("cli")
def cli_area():
    base = "log_dest stderr\nlistener {port} 127.0.0.1\nallow_anonymous true\n"
    return [
        cli("cli/help-h", ["-h"]),
        cli("cli/help-long", ["--help"]),
        cli("cli/unknown-flag", ["--frobnicate"]),
        cli("cli/c-missing-argument", ["-c"]),
        cli("cli/c-missing-file", ["-c", "{dir}/nope.conf"]),
        cli("cli/p-missing-argument", ["-p"]),
        cli("cli/p-garbage", ["-p", "abc"]),
        cli("cli/p-zero", ["-p", "0"]),
        cli("cli/p-too-big", ["-p", "70000"]),
        cli("cli/test-config-ok", ["-c", "{conf}", "--test-config"], base),
        cli("cli/test-config-bad", ["-c", "{conf}", "--test-config"], base + "bogus 1\n"),
        cli("cli/test-config-no-c", ["--test-config"]),
        cli("cli/v-logs-to-stderr", ["-c", "{conf}", "-v"],
            "listener {port} 127.0.0.1\nallow_anonymous true\n", steps=[C("a"), D("a")],
            log=[r"New client connected", r"listen socket", r"rror"]),
        cli("cli/c-with-p-listener-in-config", ["-c", "{conf}", "-p", "{port}"], base),
        cli("cli/c-with-p-no-listener", ["-c", "{conf}", "-p", "{port}"],
            "log_dest stderr\nallow_anonymous true\n"),
        cli("cli/q-quiet", ["-c", "{conf}", "-q"], base, ready="port"),
        cli("cli/d-daemon", ["-c", "{conf}", "-d"], base + "pid_file {dir}/pid\n"),
        cli("cli/tls-keylog-missing-arg", ["-c", "{conf}", "--tls-keylog"], base),
        cli("cli/tls-keylog", ["-c", "{conf}", "--tls-keylog", "{dir}/keys"], base),
        cli("cli/two-c", ["-c", "{conf}", "-c", "{conf}"], base),
        cli("cli/positional-argument", ["-c", "{conf}", "extra"], base),
        cli("cli/version-flag-long", ["--version"]),
    ]


if __name__ == "__main__":
    main()
