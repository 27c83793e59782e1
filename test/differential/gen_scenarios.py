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
            # A close in the middle of a later packet, and right after its first byte: 2.1.2
            # logs "Success." once the fixed header is complete, "closed by client" before.
            sc("connect/%s/truncated-publish" % v, [C("a", proto=p), HEX("a", "300a0003612f62"),
                                                   CLOSE("a")]),
            sc("connect/%s/close-after-first-byte" % v, [C("a", proto=p), HEX("a", "30"),
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
            # $SYS/#: the SUBACK, without the $SYS messages (the sys area covers them, whose
            # values and order vary): sys_interval 0 publishes none.
            out.append(sc("subscribe/%s/filter-%s" % (v, tag),
                          [C("a", proto=p), SUB("a", f, 1, mid=3), R("a"), D("a")],
                          config="sys_interval 0" if tag == "sys" else ""))
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
        # TLS listeners: what is checked at start, and where 2.1.2 says it
        ("tls-certfile-without-keyfile", "listener {port2}\ncertfile {dir}/nope.crt"),
        ("tls-keyfile-without-certfile", "listener {port2}\nkeyfile {dir}/nope.key"),
        ("tls-certfile-missing", "listener {port2}\ncertfile {dir}/nope.crt\n"
                                 "keyfile {dir}/nope.key"),
        ("tls-cafile-without-certfile", "listener {port2}\ncafile {dir}/nope.crt"),
        ("tls-capath-without-certfile", "listener {port2}\ncapath {dir}"),
        ("tls-version-on-plain-listener", "listener {port2}\ntls_version tlsv9"),
        ("tls-require-certificate-on-plain-listener", "listener {port2}\nrequire_certificate true"),
        # PROXY listeners: the options 2.1.2 has too
        ("proxy-protocol-0", "listener {port2}\nenable_proxy_protocol 0"),
        ("proxy-protocol-3", "listener {port2}\nenable_proxy_protocol 3"),
        ("proxy-protocol-garbage", "listener {port2}\nenable_proxy_protocol two"),
        ("proxy-protocol-empty", "listener {port2}\nenable_proxy_protocol"),
        ("proxy-protocol-1-ok", "listener {port2}\nenable_proxy_protocol 1"),
        ("proxy-protocol-2-ok", "listener {port2}\nenable_proxy_protocol 2"),
        ("proxy-v2-subject-as-username", "listener {port2}\nenable_proxy_protocol 2\n"
                                         "use_subject_as_username true"),
        ("proxy-v2-require-certificate-ok", "listener {port2}\nenable_proxy_protocol 2\n"
                                            "require_certificate true"),
        ("proxy-v1-certfile-missing", "listener {port2}\nenable_proxy_protocol 1\n"
                                      "certfile {dir}/nope.crt\nkeyfile {dir}/nope.key"),
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
        cli("cli/tls-keylog-unwritable", ["-c", "{conf}", "--tls-keylog", "{dir}/no/such/dir/keys"],
            base),
        cli("cli/two-c", ["-c", "{conf}", "-c", "{conf}"], base),
        cli("cli/positional-argument", ["-c", "{conf}", "extra"], base),
        cli("cli/version-flag-long", ["--version"]),
    ]


# ---- retained messages -----------------------------------------------------------------------

@area("retain")
def retain_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        for q in (0, 1, 2):
            for sq in (0, 1, 2):
                st = [C("a", proto=p), PUB("a", "r/t", "kept", qos=q, retain=True, mid=2)]
                if q == 1:
                    st += [R("a")]
                if q == 2:
                    st += [R("a"), S("a", "pubrel", mid=2), R("a")]
                st += [C("s", proto=p), SUB("s", "r/t", sq), R("s", 2), D("s")]
                out.append(sc("retain/%s/q%d-then-sub-q%d" % (v, q, sq), st))
        out += [
            sc("retain/%s/clear-with-empty" % v,
               [C("a", proto=p), PUB("a", "r/t", "x", retain=True), PUB("a", "r/t", "", retain=True),
                D("a"), C("s", proto=p), SUB("s", "r/t", 0), R("s"), D("s")]),
            sc("retain/%s/replace" % v,
               [C("a", proto=p), PUB("a", "r/t", "old", retain=True),
                PUB("a", "r/t", "new", retain=True), D("a"), C("s", proto=p), SUB("s", "r/t", 0),
                R("s", 2), D("s")]),
            sc("retain/%s/wildcard-one-match" % v,
               [C("a", proto=p), PUB("a", "r/x/t", "x", retain=True), PUB("a", "q/t", "y", retain=True),
                D("a"), C("s", proto=p), SUB("s", "r/+/t", 0), R("s", 2), D("s")]),
            sc("retain/%s/wildcard-three-matches" % v,
               [C("a", proto=p)] + [PUB("a", "w/%d" % i, "m%d" % i, retain=True) for i in range(3)] +
               [D("a"), C("s", proto=p), SUB("s", "w/#", 0), R("s"), D("s", sort=True)]),
            sc("retain/%s/live-delivery-flag" % v,
               [C("s", proto=p), SUB("s", "r/t", 0), R("s"), C("a", proto=p),
                PUB("a", "r/t", "x", retain=True), R("s"), D("s")]),
            sc("retain/%s/resubscribe-gets-it-again" % v,
               [C("a", proto=p), PUB("a", "r/t", "x", retain=True), D("a"), C("s", proto=p),
                SUB("s", "r/t", 0), R("s", 2), SUB("s", "r/t", 0, mid=2), R("s", 2), D("s")]),
            sc("retain/%s/empty-payload-not-stored" % v,
               [C("a", proto=p), PUB("a", "r/e", "", retain=True), D("a"), C("s", proto=p),
                SUB("s", "r/e", 0), R("s"), D("s")]),
            sc("retain/%s/hash-matches-parent" % v,
               [C("a", proto=p), PUB("a", "r", "parent", retain=True), D("a"), C("s", proto=p),
                SUB("s", "r/#", 0), R("s", 2), D("s")]),
            sc("retain/%s/sys-not-matched-by-plus" % v,
               [C("s", proto=p), SUB("s", "+/broker/version", 0), R("s"), D("s")]),
        ]
    out += [
        sc("retain/v5/rh1-resubscribe-no-retained",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True), D("a"), C("s", proto=V5),
            SUB("s", "r/t", 0x10), R("s", 2), SUB("s", "r/t", 0x10, mid=2), R("s"), D("s")]),
        sc("retain/v5/rh2-never",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True), D("a"), C("s", proto=V5),
            SUB("s", "r/t", 0x20), R("s"), D("s")]),
        sc("retain/v5/properties-kept",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True,
                                  properties=[["content_type", "text/plain"],
                                              ["user_property", ["k", "v"]],
                                              ["response_topic", "resp"],
                                              ["correlation_data", "cd"],
                                              ["payload_format", 1]]),
            D("a"), C("s", proto=V5), SUB("s", "r/t", 0), R("s", 2), D("s")]),
        sc("retain/v5/expired-before-subscribe",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True, properties=[["message_expiry", 1]]),
            D("a"), SLEEP(2.2), C("s", proto=V5), SUB("s", "r/t", 0), R("s"), D("s")]),
        sc("retain/v5/subscription-id-on-retained",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True), D("a"), C("s", proto=V5),
            SUB("s", "r/t", 0, properties=[["subscription_id", 9]]), R("s", 2), D("s")]),
        sc("retain/v311/retain-available-false-sub",
           [C("s"), SUB("s", "r/t", 0), R("s"), D("s")], config="retain_available false"),
        sc("retain/v311/retained-from-v5-to-v311",
           [C("a", proto=V5), PUB("a", "r/t", "x", retain=True, properties=[["user_property", ["k", "v"]]]),
            D("a"), C("s"), SUB("s", "r/t", 1), R("s", 2), D("s")]),
    ]
    return out


# ---- wills -------------------------------------------------------------------------------------

@area("will")
def will_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        for q in (0, 1, 2):
            out.append(sc("will/%s/abrupt-close-q%d" % (v, q),
                          [C("s", proto=p), SUB("s", "w/#", 2), R("s"),
                           C("a", proto=p, will_topic="w/a", will_payload="gone", will_qos=q),
                           CLOSE("a"), R("s"), D("s")]))
        out += [
            sc("will/%s/clean-disconnect-no-will" % v,
               [C("s", proto=p), SUB("s", "w/#", 0), R("s"),
                C("a", proto=p, will_topic="w/a", will_payload="gone"), DISC("a"), CLOSE("a"),
                QUIET("s", 0.5)]),
            sc("will/%s/retained-will" % v,
               [C("a", proto=p, will_topic="w/r", will_payload="gone", will_retain=True),
                CLOSE("a"), C("s", proto=p), SUB("s", "w/r", 1), R("s", 2), D("s")]),
            sc("will/%s/takeover-sends-will" % v,
               [C("s", proto=p), SUB("s", "w/#", 0), R("s"),
                C("a", proto=p, id="same", will_topic="w/a", will_payload="gone"),
                C("b", proto=p, id="same"), R("a"), R("s"), D("s")]),
            sc("will/%s/keepalive-timeout-sends-will" % v,
               [C("s", proto=p), SUB("s", "w/#", 0), R("s"),
                C("a", proto=p, keepalive=1, will_topic="w/a", will_payload="late"),
                R("s", timeout=5), R("a", timeout=3)],
               log=LOG_CONN),
            sc("will/%s/oversize-will" % v,
               [C("a", proto=p, will_topic="w/a", will_payload={"len": 50})],
               config="message_size_limit 20"),
            sc("will/%s/will-topic-sys" % v,
               [C("s", proto=p), SUB("s", "$SYS/w", 0), R("s"),
                C("a", proto=p, will_topic="$SYS/w", will_payload="x"), CLOSE("a"), QUIET("s", 0.5)]),
            sc("will/%s/will-qos2-max-qos-1" % v,
               [C("a", proto=p, will_topic="w/a", will_payload="x", will_qos=2)],
               listener_config="max_qos 1"),
            sc("will/%s/will-retain-unavailable" % v,
               [C("a", proto=p, will_topic="w/a", will_payload="x", will_retain=True)],
               config="retain_available false"),
            sc("will/%s/protocol-error-sends-will" % v,
               [C("s", proto=p), SUB("s", "w/#", 0), R("s"),
                C("a", proto=p, will_topic="w/a", will_payload="bad"), HEX("a", "f000"), R("a"),
                R("s"), D("s")]),
        ]
    out += [
        sc("will/v5/disconnect-with-will-0x04",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="gone"), DISC("a", reason=0x04),
            R("s"), D("s")]),
        sc("will/v5/delay-2s",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="late",
              will_properties=[["will_delay", 2]], properties=[["session_expiry", 60]]),
            CLOSE("a"), QUIET("s", 0.8), R("s", timeout=4), D("s")]),
        sc("will/v5/delay-reconnect-cancels",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, id="wd", will_topic="w/a", will_payload="late",
              will_properties=[["will_delay", 2]], properties=[["session_expiry", 60]]),
            CLOSE("a"), C("b", proto=V5, id="wd", clean=False, properties=[["session_expiry", 60]]),
            QUIET("s", 2.8)]),
        sc("will/v5/delay-longer-than-session",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="late",
              will_properties=[["will_delay", 30]], properties=[["session_expiry", 1]]),
            CLOSE("a"), QUIET("s", 0.5), R("s", timeout=4), D("s")]),
        sc("will/v5/delay-session-expiry-0",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="now",
              will_properties=[["will_delay", 30]]),
            CLOSE("a"), R("s"), D("s")]),
        sc("will/v5/takeover-with-delay",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, id="tk", will_topic="w/a", will_payload="late",
              will_properties=[["will_delay", 30]], properties=[["session_expiry", 60]]),
            C("b", proto=V5, id="tk", clean=False, properties=[["session_expiry", 60]]), R("a"),
            QUIET("s", 0.8)]),
        sc("will/v5/properties-forwarded",
           [C("s", proto=V5), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="x",
              will_properties=[["content_type", "text/plain"], ["response_topic", "r/t"],
                               ["correlation_data", "cd"], ["user_property", ["k", "v"]],
                               ["payload_format", 1], ["message_expiry", 100]]),
            CLOSE("a"), R("s"), D("s")]),
        sc("will/v5/to-v311-subscriber",
           [C("s"), SUB("s", "w/#", 1), R("s"),
            C("a", proto=V5, will_topic="w/a", will_payload="x", will_qos=1,
              will_properties=[["user_property", ["k", "v"]]]),
            CLOSE("a"), R("s"), D("s")]),
        sc("will/v5/acl-denied-will",
           [C("s", proto=V5, username="bob", password="builder"), SUB("s", "w/#", 0), R("s"),
            C("a", proto=V5, username="alice", password="secret", will_topic="w/a",
              will_payload="x"), CLOSE("a"), QUIET("s", 0.5)],
           config="password_file {dir}/pw\nacl_file {dir}/acl", files={
               "pw": PWFILE, "acl": "user alice\ntopic read w/#\nuser bob\ntopic read w/#\n"}),
    ]
    return out


# ---- sessions and takeover ---------------------------------------------------------------------

@area("session")
def session_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        for q in (0, 1, 2):
            out.append(sc("session/%s/offline-queue-q%d" % (v, q),
                          [C("s", id="sess", proto=p, clean=False,
                             **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                           SUB("s", "q/t", 2), R("s"), DISC("s"), CLOSE("s"),
                           C("a", proto=p), PUB("a", "q/t", "while-away", qos=q, mid=4)] +
                          ([R("a")] if q else [D("a")]) +
                          ([S("a", "pubrel", mid=4), R("a")] if q == 2 else []) + [

                           C("s2", id="sess", proto=p, clean=False,
                             **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                           R("s2"), D("s2")]))
        out += [
            sc("session/%s/offline-queue-q2-unreleased" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 2), R("s"), DISC("s"), CLOSE("s"),
                C("a", proto=p), PUB("a", "q/t", "no-pubrel", qos=2, mid=4), R("a"),
                C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                R("s2"), D("s2")]),
            sc("session/%s/clean-reconnect-drops" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"), C("a", proto=p),
                PUB("a", "q/t", "x", qos=1), R("a"), C("s2", id="sess", proto=p), D("s2")]),
            sc("session/%s/takeover" % v,
               [C("a", id="same", proto=p), SUB("a", "t", 0), R("a"), C("b", id="same", proto=p),
                R("a"), PUB("b", "t", "x"), D("b")]),
            sc("session/%s/takeover-persistent-keeps-subs" % v,
               [C("a", id="same", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("a", "t", 1), R("a"),
                C("b", id="same", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                R("a"), PUB("b", "t", "x", qos=1), R("b", 2)]),
            sc("session/%s/unacked-q1-resent-dup" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 1), R("s"), C("a", proto=p), PUB("a", "q/t", "x", qos=1), R("a"),
                R("s"), CLOSE("s"),
                C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                R("s2"), S("s2", "puback", mid=1), D("s2")]),
            sc("session/%s/unacked-q2-pubrel-resent" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 2), R("s"), C("a", proto=p), PUB("a", "q/t", "x", qos=2), R("a"),
                S("a", "pubrel", mid=1), R("a"), R("s"), S("s", "pubrec", mid=1), R("s"),
                CLOSE("s"),
                C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                R("s2"), S("s2", "pubcomp", mid=1), D("s2")]),
            sc("session/%s/max-queued-messages-2" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"), C("a", proto=p)] +
               [PUB("a", "q/t", "m%d" % i, qos=1, mid=i + 1) for i in range(4)] + [R("a", 4)] +
               [C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                R("s2", 3), D("s2")], config="max_queued_messages 2"),
            sc("session/%s/qos0-not-queued" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 0), R("s"), DISC("s"), CLOSE("s"), C("a", proto=p),
                PUB("a", "q/t", "x"), D("a"),
                C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                D("s2")]),
            sc("session/%s/qos0-queued-when-asked" % v,
               [C("s", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                SUB("s", "q/t", 0), R("s"), DISC("s"), CLOSE("s"), C("a", proto=p),
                PUB("a", "q/t", "x"), D("a"),
                C("s2", id="sess", proto=p, clean=False,
                  **({"properties": [["session_expiry", 60]]} if p == V5 else {})),
                D("s2")], config="queue_qos0_messages true"),
        ]
    out += [
        sc("session/v5/expiry-0-ends-with-connection",
           [C("s", id="sess", proto=V5, clean=False), SUB("s", "q/t", 1), R("s"), DISC("s"),
            CLOSE("s"), C("s2", id="sess", proto=V5, clean=False), D("s2")]),
        sc("session/v5/expiry-1-expires",
           [C("s", id="sess", proto=V5, clean=False, properties=[["session_expiry", 1]]),
            SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"), SLEEP(2.2),
            C("s2", id="sess", proto=V5, clean=False, properties=[["session_expiry", 1]]),
            D("s2")]),
        sc("session/v5/clean-start-with-expiry",
           [C("s", id="sess", proto=V5, clean=False, properties=[["session_expiry", 60]]),
            SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"),
            C("s2", id="sess", proto=V5, clean=True, properties=[["session_expiry", 60]]),
            D("s2")]),
        sc("session/v5/disconnect-sets-expiry-from-0",
           [C("s", id="sess", proto=V5), DISC("s", reason=0, properties=[["session_expiry", 30]]),
            R("s")]),
        sc("session/v5/disconnect-changes-expiry",
           [C("s", id="sess", proto=V5, clean=False, properties=[["session_expiry", 60]]),
            SUB("s", "q/t", 1), R("s"),
            DISC("s", reason=0, properties=[["session_expiry", 0]]), R("s"),
            C("s2", id="sess", proto=V5, clean=False, properties=[["session_expiry", 60]]),
            D("s2")]),
        sc("session/v5/takeover-expiry-0",
           [C("a", id="same", proto=V5), SUB("a", "t", 0), R("a"),
            C("b", id="same", proto=V5, clean=False), R("a"), PUB("b", "t", "x"), D("b")]),
        sc("session/v5/takeover-disconnect-reason",
           [C("a", id="same", proto=V5), C("b", id="same", proto=V5), R("a", 2)]),
        sc("session/v311/persistent-then-clean-then-persistent",
           [C("s", id="sess", clean=False), SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"),
            C("s2", id="sess", clean=True), DISC("s2"), CLOSE("s2"),
            C("s3", id="sess", clean=False), D("s3")]),
        sc("session/v5/persistent-client-expiration",
           [C("s", id="sess", clean=False), SUB("s", "q/t", 1), R("s"), DISC("s"), CLOSE("s"),
            SLEEP(2.5), C("s2", id="sess", clean=False), D("s2")],
           config="persistent_client_expiration 1s"),
    ]
    return out


# ---- keep-alive --------------------------------------------------------------------------------

@area("keepalive")
def keepalive_area():
    out = []
    for p in ALL:
        v = PROTOS[p]
        out += [
            sc("keepalive/%s/k1-silent-closed" % v, [C("a", proto=p, keepalive=1),
                                                     R("a", timeout=6)]),
            sc("keepalive/%s/k2-pings-keep-it" % v,
               [C("a", proto=p, keepalive=2), SLEEP(1.2), D("a"), SLEEP(1.2), D("a"), SLEEP(1.2),
                D("a")]),
            sc("keepalive/%s/k0-never-closed" % v, [C("a", proto=p, keepalive=0), QUIET("a", 2.5)]),
            sc("keepalive/%s/publish-counts-as-activity" % v,
               [C("a", proto=p, keepalive=2)] +
               [x for _ in range(3) for x in (SLEEP(1.0), PUB("a", "t", "x"))] + [D("a")]),
            sc("keepalive/%s/no-connect-within-timeout" % v, [O("a", p), QUIET("a", 1.0)]),
            sc("keepalive/%s/pingreq-with-payload" % v,
               [C("a", proto=p), HEX("a", "c00100"), R("a")]),
            sc("keepalive/%s/pingresp-from-client" % v,
               [C("a", proto=p), HEX("a", "d000"), R("a")]),
        ]
    out += [
        sc("keepalive/v5/server-keep-alive-enforced",
           [C("a", proto=V5, keepalive=0), R("a", timeout=6)], config="max_keepalive 1"),
        sc("keepalive/v311/max-keepalive-1-client-k0",
           [C("a", keepalive=0), QUIET("a", 2.0)], config="max_keepalive 1"),
    ]
    return out


# ---- $SYS ----------------------------------------------------------------------------------------

SYS_TOPICS = ["$SYS/broker/version", "$SYS/broker/clients/connected", "$SYS/broker/clients/total",
              "$SYS/broker/subscriptions/count", "$SYS/broker/retained messages/count",
              "$SYS/broker/clients/maximum", "$SYS/broker/clients/disconnected",
              "$SYS/broker/clients/expired", "$SYS/broker/messages/stored"]


@area("sys")
def sys_area():
    # $SYS values move on the broker's clock: scenarios subscribe after one sys_interval tick
    # and look at the retained copies (what a new subscriber gets), not at live updates.
    ret = dict(sort=True, payload=False, retained_only=True)
    out = [
        sc("sys/retained-topics-before-first-tick", [C("a"), SUB("a", "$SYS/#", 0), R("a"),
                                                    D("a", **ret)], config="sys_interval 60"),
        sc("sys/retained-topics-after-a-tick", [SLEEP(1.5), C("a"), SUB("a", "$SYS/#", 0), R("a"),
                                               D("a", **ret)], config="sys_interval 1"),
        sc("sys/sys-interval-0-nothing", [SLEEP(1.2), C("a"), SUB("a", "$SYS/#", 0), R("a"),
                                          D("a", **ret)], config="sys_interval 0"),
        sc("sys/sys-qos1-subscription", [C("a"), SUB("a", "$SYS/broker/version", 1), R("a"),
                                         R("a"), D("a", retained_only=True)],
           config="sys_interval 60"),
        # The retained copy, then the first live update (not retained); how many more arrive
        # in a given time depends on where in its second each broker started.
        sc("sys/live-updates-not-retained", [C("a"), SUB("a", "$SYS/broker/uptime", 0), R("a"),
                                             R("a", 2, payload=False)],
           config="sys_interval 1"),
        sc("sys/unsubscribe-sys", [C("a"), SUB("a", "$SYS/broker/version", 0), R("a", 2),
                                   S("a", "unsubscribe", mid=2, topics=["$SYS/broker/version"]),
                                   R("a"), D("a")], config="sys_interval 60"),
    ]
    # Counts of stored and retained messages include the broker's own $SYS messages, which
    # differ in number between brokers and with timing (2.1.2 gave 56 and 57): topic only.
    own = ("$SYS/broker/retained messages/count", "$SYS/broker/messages/stored")
    for t in SYS_TOPICS:
        tag = t.split("/", 2)[2].replace(" ", "-").replace("/", "-")
        last = D("b", retained_only=True, payload=False) if t in own else \
            D("b", retained_only=True)
        out.append(sc("sys/value/%s" % tag,
                      [C("x"), C("a"), SUB("a", "r/t", 1), R("a"), PUB("a", "r/t", "x", retain=True),
                       D("a"), SLEEP(1.5), C("b"), SUB("b", t, 0), R("b"), last],
                      config="sys_interval 1"))
    return out


# ---- ACL and password files ----------------------------------------------------------------------

ACL = ("# anonymous clients\n"
       "topic read public/#\n"
       "user alice\n"
       "topic readwrite alice/#\n"
       "topic write in/#\n"
       "topic read out/#\n"
       "topic deny alice/secret\n"
       "user bob\n"
       "topic read alice/#\n"
       "pattern readwrite clients/%c/#\n"
       "pattern read users/%u/#\n")
AUTH_CONF = "password_file {dir}/pw\nacl_file {dir}/acl\nallow_anonymous true"


@area("acl")
def acl_area():
    out = []
    users = {"alice": "secret", "bob": "builder"}

    def login(c, who, p):
        if who is None:
            return C(c, proto=p)
        return C(c, id=c, proto=p, username=who, password=users[who])

    cases = [  # (who, subscribe filter, publish topic, publisher)
        ("alice", "alice/x", "alice/x", "alice"), ("alice", "in/x", "in/x", "alice"),
        ("alice", "out/x", "out/x", "alice"), ("alice", "alice/secret", "alice/secret", "alice"),
        ("alice", "alice/#", "alice/secret", "alice"), ("bob", "alice/#", "alice/x", "alice"),
        ("bob", "bob/x", "bob/x", "bob"), (None, "public/x", "public/x", None),
        (None, "alice/x", "alice/x", "alice"), ("alice", "clients/sa/x", "clients/sa/x", "alice"),
        ("bob", "users/bob/x", "users/bob/x", "bob"), ("bob", "users/alice/x", "users/alice/x", "bob"),
        ("alice", "#", "alice/x", "alice"), ("alice", "+/x", "in/x", "alice"),
    ]
    for p in (V311, V5):
        v = PROTOS[p]
        for who, filt, topic, pubber in cases:
            name = "acl/%s/%s-sub-%s-pub-%s-by-%s" % (v, who or "anon", filt.replace("/", "_"),
                                                     topic.replace("/", "_"), pubber or "anon")
            out.append(sc(name.replace("#", "HASH").replace("+", "PLUS"),
                          [login("sa", who, p), SUB("sa", filt, 1), R("sa"), login("pa", pubber, p),
                           PUB("pa", topic, "x", qos=1), R("pa"), D("sa")],
                          config=AUTH_CONF, files={"pw": PWFILE, "acl": ACL}))
        out += [
            sc("acl/%s/retained-not-readable" % v,
               [C("pa", proto=p, username="alice", password="secret"),
                PUB("pa", "alice/r", "x", qos=1, retain=True), R("pa"),
                C("sa", proto=p, username="bob", password="builder"), SUB("sa", "#", 0), R("sa"),
                D("sa")], config=AUTH_CONF, files={"pw": PWFILE, "acl": ACL}),
            sc("acl/%s/sys-not-in-acl" % v,
               [C("sa", proto=p, username="alice", password="secret"),
                SUB("sa", "$SYS/broker/version", 0), R("sa"), D("sa")],
               config=AUTH_CONF + "\nsys_interval 1", files={"pw": PWFILE, "acl": ACL}),
        ]
    pw_bad = PWFILE + "garbage line without colon\n:nouser\ncarol:\n"
    out += [
        sc("acl/password/invalid-lines-at-start",
           [C("a", username="alice", password="secret"), C("b", username="bob", password="builder")],
           config="password_file {dir}/pw", files={"pw": pw_bad}, mode="exit",
           log=LOG_CONN + ["rror", "arning", "nvalid"]),
        sc("acl/password/sighup-invalid-lines",
           [C("a", username="alice", password="secret"), WRITE("pw", pw_bad), SIG("HUP"),
            WAITLOG("Reloading|reload"), ALIVE(), C("b", username="bob", password="builder"),
            C("c", username="alice", password="secret")],
           config="password_file {dir}/pw", files={"pw": PWFILE},
           log=LOG_CONN + ["rror", "arning", "nvalid", "eload"]),
        sc("acl/password/sighup-adds-user",
           [C("a", username="carol", password="secret"),
            WRITE("pw", PWFILE + PWFILE.split("\n")[0].replace("alice", "carol") + "\n"),
            SIG("HUP"), WAITLOG("Reloading|reload"), ALIVE(),
            C("b", username="carol", password="secret")],
           config="password_file {dir}/pw", files={"pw": PWFILE},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        # On SIGHUP 2.1.2 checks every connected client again: a removed user, a changed
        # password, an anonymous client once allow_anonymous is off are disconnected.
        sc("acl/password/sighup-removes-user-disconnects",
           [C("a", username="bob", password="builder"), WRITE("pw", PWFILE.split("\n")[0] + "\n"),
            SIG("HUP"), WAITLOG("Reloading|reload"), ALIVE(), D("a"),
            C("b", username="bob", password="builder")],
           config="password_file {dir}/pw", files={"pw": PWFILE},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        sc("acl/password/sighup-changes-password-disconnects",
           [C("a", username="bob", password="builder"), C("c", username="alice", password="secret"),
            WRITE("pw", PWFILE.split("\n")[0] + "\nbob:" +
                  PWFILE.split("\n")[0].split(":", 1)[1] + "\n"),
            SIG("HUP"), WAITLOG("Reloading|reload"), ALIVE(), D("a"), D("c"),
            C("b", username="bob", password="secret")],
           config="password_file {dir}/pw", files={"pw": PWFILE},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        sc("acl/password/sighup-anonymous-off-disconnects",
           [C("a", username="bob", password="builder"), C("n", proto=5),
            WRITE("mosquitto.conf", "log_dest stderr\nlog_type all\nallow_anonymous false\n"
                  "password_file {dir}/pw\nlistener {port} 127.0.0.1\n"),
            SIG("HUP"), WAITLOG("Reloading|reload"), ALIVE(), D("n"), D("a"), C("m", proto=5)],
           config="password_file {dir}/pw\nallow_anonymous true", files={"pw": PWFILE},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        sc("acl/password/world-readable-warnings",
           [C("a", username="alice", password="secret")], config="password_file {dir}/pw",
           files={"pw": PWFILE}, file_mode="0644", log=LOG_CONN + ["arning"]),
        sc("acl/password/plaintext-line",
           [C("a", username="dave", password="plain")], config="password_file {dir}/pw",
           files={"pw": "dave:plain\n"}, log=LOG_CONN + ["rror", "arning"]),
        sc("acl/password/empty-password-hash",
           [C("a", username="alice", password="")], config="password_file {dir}/pw",
           files={"pw": PWFILE}),
        sc("acl/password/username-no-password-sent",
           [C("a", username="alice")], config="password_file {dir}/pw", files={"pw": PWFILE}),
        sc("acl/password/anonymous-with-password-file-allowed",
           [C("a"), D("a")], config="password_file {dir}/pw\nallow_anonymous true",
           files={"pw": PWFILE}),
        sc("acl/file/sighup-invalid-line",
           [C("a", username="alice", password="secret"), WRITE("acl", "topic bogus x\n"),
            SIG("HUP"), WAITLOG("Reloading|reload"), ALIVE(),
            C("b", username="alice", password="secret")],
           config="password_file {dir}/pw\nacl_file {dir}/acl", files={"pw": PWFILE, "acl": ACL},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        sc("acl/file/sighup-tightens",
           [C("a", username="alice", password="secret"), SUB("a", "alice/#", 0), R("a"),
            WRITE("acl", "user alice\ntopic read nothing/#\n"), SIG("HUP"),
            WAITLOG("Reloading|reload"), C("b", username="alice", password="secret"),
            PUB("b", "alice/x", "x", qos=1), R("b"), D("a")],
           config="password_file {dir}/pw\nacl_file {dir}/acl", files={"pw": PWFILE, "acl": ACL},
           log=LOG_CONN + ["rror", "arning", "eload"]),
        sc("acl/file/empty-acl-denies-all",
           [C("a", username="alice", password="secret"), SUB("a", "x", 0), R("a"),
            PUB("a", "x", "x", qos=1), R("a"), D("a")],
           config="password_file {dir}/pw\nacl_file {dir}/acl", files={"pw": PWFILE, "acl": ""}),
        sc("acl/file/topic-with-spaces",
           [C("a", username="alice", password="secret"), SUB("a", "a b/c", 0), R("a"),
            PUB("a", "a b/c", "x", qos=1), R("a"), D("a")],
           config="password_file {dir}/pw\nacl_file {dir}/acl",
           files={"pw": PWFILE, "acl": "user alice\ntopic readwrite a b/c\n"}),
        sc("acl/file/v5-subscribe-denied-code",
           [C("a", proto=V5, username="alice", password="secret"),
            S("a", "subscribe", mid=3, topics=[["alice/x", 0], ["nope", 1], ["in/x", 2]]), R("a")],
           config=AUTH_CONF, files={"pw": PWFILE, "acl": ACL}),
        sc("acl/file/v311-subscribe-denied-code",
           [C("a", username="alice", password="secret"),
            S("a", "subscribe", mid=3, topics=[["alice/x", 0], ["nope", 1], ["in/x", 2]]), R("a")],
           config=AUTH_CONF, files={"pw": PWFILE, "acl": ACL}),
    ]
    return out


# ---- shared subscriptions --------------------------------------------------------------------------

@area("shared")
def shared_area():
    out = []
    for p in (V311, V5):
        v = PROTOS[p]
        out += [
            sc("shared/%s/two-members-round" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t", 0), R("m1"), C("m2", proto=p),
                SUB("m2", "$share/g/t", 0), R("m2"), C("a", proto=p)] +
               [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(4)] +
               [R("a", 4), D("m1"), D("m2")]),
            sc("shared/%s/shared-and-plain" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t", 0), R("m1"), C("n", proto=p),
                SUB("n", "t", 0), R("n"), C("a", proto=p), PUB("a", "t", "x", qos=1), R("a"),
                D("m1"), D("n")]),
            sc("shared/%s/two-groups" % v,
               [C("m1", proto=p), SUB("m1", "$share/g1/t", 0), R("m1"), C("m2", proto=p),
                SUB("m2", "$share/g2/t", 0), R("m2"), C("a", proto=p), PUB("a", "t", "x", qos=1),
                R("a"), D("m1"), D("m2")]),
            sc("shared/%s/no-retained-on-subscribe" % v,
               [C("a", proto=p), PUB("a", "t", "kept", retain=True), D("a"), C("m1", proto=p),
                SUB("m1", "$share/g/t", 0), R("m1"), D("m1")]),
            sc("shared/%s/unsubscribe" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t", 0), R("m1"),
                S("m1", "unsubscribe", mid=2, topics=["$share/g/t"]), R("m1"), C("a", proto=p),
                PUB("a", "t", "x", qos=1), R("a"), D("m1")]),
            sc("shared/%s/wildcard-filter" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t/#", 1), R("m1"), C("a", proto=p),
                PUB("a", "t/x/y", "x", qos=1), R("a"), R("m1"), S("m1", "puback", mid=1),
                D("m1")]),
            sc("shared/%s/qos-per-member" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t", 2), R("m1"), C("a", proto=p),
                PUB("a", "t", "x", qos=1), R("a"), R("m1"), S("m1", "puback", mid=1), D("m1")]),
            sc("shared/%s/member-leaves" % v,
               [C("m1", proto=p), SUB("m1", "$share/g/t", 0), R("m1"), C("m2", proto=p),
                SUB("m2", "$share/g/t", 0), R("m2"), CLOSE("m1"), C("a", proto=p)] +
               [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(2)] +
               [R("a", 2), D("m2")]),
        ]
    out.append(sc("shared/v5/subscription-id",
                  [C("m1", proto=V5), SUB("m1", "$share/g/t", 0, properties=[["subscription_id", 4]]),
                   R("m1"), C("a", proto=V5), PUB("a", "t", "x"), D("a"), D("m1")]))
    return out


# ---- topic aliases -------------------------------------------------------------------------------

@area("alias")
def alias_area():
    sub = [C("s", proto=V5), SUB("s", "#", 0), R("s")]
    return [
        sc("alias/in/set-then-use",
           sub + [C("a", proto=V5), PUB("a", "t/1", "one", properties=[["topic_alias", 1]]),
                  PUB("a", "", "two", properties=[["topic_alias", 1]]), D("a"), D("s")]),
        sc("alias/in/use-unset",
           sub + [C("a", proto=V5), PUB("a", "", "x", properties=[["topic_alias", 3]]), R("a"),
                  D("s")]),
        sc("alias/in/remap",
           sub + [C("a", proto=V5), PUB("a", "t/1", "one", properties=[["topic_alias", 1]]),
                  PUB("a", "t/2", "two", properties=[["topic_alias", 1]]),
                  PUB("a", "", "three", properties=[["topic_alias", 1]]), D("a"), D("s")]),
        sc("alias/in/max-10",
           sub + [C("a", proto=V5), PUB("a", "t/1", "x", properties=[["topic_alias", 10]]), D("a"),
                  D("s")]),
        sc("alias/in/listener-max-0",
           [C("a", proto=V5), PUB("a", "t/1", "x", properties=[["topic_alias", 1]]), R("a")],
           listener_config="max_topic_alias 0"),
        sc("alias/in/per-connection",
           sub + [C("a", proto=V5), PUB("a", "t/1", "x", properties=[["topic_alias", 1]]),
                  C("b", proto=V5), PUB("b", "", "y", properties=[["topic_alias", 1]]), R("b"),
                  D("s")]),
        sc("alias/in/qos1-with-alias",
           sub + [C("a", proto=V5), PUB("a", "t/1", "x", qos=1, properties=[["topic_alias", 2]]),
                  R("a"), PUB("a", "", "y", qos=1, mid=2, properties=[["topic_alias", 2]]), R("a"),
                  D("s")]),
        sc("alias/in/alias-in-v311-client",
           [C("a"), HEX("a", "3009000374" "2f31" "0323000178"), D("a")]),
        sc("alias/out/subscriber-allows-5",
           [C("s", proto=V5, properties=[["topic_alias_maximum", 5]]), SUB("s", "t/#", 0), R("s"),
            C("a", proto=V5)] + [PUB("a", "t/%d" % (i % 2), "m%d" % i) for i in range(4)] +
           [D("a"), D("s")]),
        sc("alias/out/subscriber-allows-1",
           [C("s", proto=V5, properties=[["topic_alias_maximum", 1]]), SUB("s", "t/#", 0), R("s"),
            C("a", proto=V5)] + [PUB("a", "t/%d" % (i % 3), "m%d" % i) for i in range(5)] +
           [D("a"), D("s")]),
        sc("alias/out/subscriber-allows-0",
           [C("s", proto=V5), SUB("s", "t/#", 0), R("s"), C("a", proto=V5),
            PUB("a", "t/1", "x"), PUB("a", "t/1", "y"), D("a"), D("s")]),
        sc("alias/out/retained-with-aliases",
           [C("a", proto=V5), PUB("a", "t/1", "x", retain=True), D("a"),
            C("s", proto=V5, properties=[["topic_alias_maximum", 5]]), SUB("s", "t/#", 0),
            R("s", 2), SUB("s", "t/#", 0, mid=2), R("s", 2), D("s")]),
    ]


# ---- message expiry, receive maximum, maximum packet size ------------------------------------------

@area("flow")
def flow_area():
    persist = {"clean": False, "properties": [["session_expiry", 60]]}
    return [
        sc("flow/expiry/queued-message-expires",
           [C("s", id="sess", proto=V5, **persist), SUB("s", "t", 1), R("s"), DISC("s"), CLOSE("s"),
            C("a", proto=V5), PUB("a", "t", "x", qos=1, properties=[["message_expiry", 1]]), R("a"),
            SLEEP(2.2), C("s2", id="sess", proto=V5, **persist), D("s2")]),
        sc("flow/expiry/queued-message-kept",
           [C("s", id="sess", proto=V5, **persist), SUB("s", "t", 1), R("s"), DISC("s"), CLOSE("s"),
            C("a", proto=V5), PUB("a", "t", "x", qos=1, properties=[["message_expiry", 100]]),
            R("a"), C("s2", id="sess", proto=V5, **persist), R("s2", 2, timeout=2),
            S("s2", "puback", mid=1), D("s2")], log=[]),
        sc("flow/expiry/live-forwarded",
           [C("s", proto=V5), SUB("s", "t", 0), R("s"), C("a", proto=V5),
            PUB("a", "t", "x", properties=[["message_expiry", 100]]), D("a"), D("s")]),
        sc("flow/expiry/zero",
           [C("s", proto=V5), SUB("s", "t", 0), R("s"), C("a", proto=V5),
            PUB("a", "t", "x", properties=[["message_expiry", 0]]), D("a"), D("s")]),
        sc("flow/expiry/to-v311",
           [C("s"), SUB("s", "t", 0), R("s"), C("a", proto=V5),
            PUB("a", "t", "x", properties=[["message_expiry", 100]]), D("a"), D("s")]),
        sc("flow/recv-max/client-1",
           [C("s", proto=V5, properties=[["receive_maximum", 1]]), SUB("s", "t", 1), R("s"),
            C("a", proto=V5)] + [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(3)] +
           [R("a", 3), D("s"), S("s", "puback", mid=1), D("s"), S("s", "puback", mid=2), D("s")]),
        sc("flow/recv-max/client-2-qos2",
           [C("s", proto=V5, properties=[["receive_maximum", 2]]), SUB("s", "t", 2), R("s"),
            C("a", proto=V5)] +
           [x for i in range(3) for x in (PUB("a", "t", "m%d" % i, qos=2, mid=i + 1), R("a"),
                                            S("a", "pubrel", mid=i + 1), R("a"))] +
           [D("s"), S("s", "pubrec", mid=1), D("s"), S("s", "pubcomp", mid=1), D("s")]),
        sc("flow/recv-max/broker-exceeded-qos2",
           [C("a", proto=V5)] +
           [x for i in range(4) for x in (PUB("a", "t", "m%d" % i, qos=2, mid=i + 1), R("a"))] +
           [D("a")], config="max_inflight_messages 3"),
        sc("flow/recv-max/broker-exceeded-qos1",
           [C("a", proto=V5)] + [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(4)] +
           [R("a", 4), D("a")], config="max_inflight_messages 3"),
        sc("flow/recv-max/v311-inflight-limit",
           [C("s"), SUB("s", "t", 1), R("s"), C("a")] +
           [PUB("a", "t", "m%d" % i, qos=1, mid=i + 1) for i in range(3)] +
           [R("a", 3), D("s"), S("s", "puback", mid=1), D("s")], config="max_inflight_messages 1"),
        sc("flow/max-packet/client-limit-drops-large",
           [C("s", proto=V5, properties=[["maximum_packet_size", 40]]), SUB("s", "t", 1), R("s"),
            C("a", proto=V5), PUB("a", "t", {"len": 60}, qos=1), R("a"),
            PUB("a", "t", "small", qos=1, mid=2), R("a"), D("s")]),
        sc("flow/max-packet/broker-limit-exceeded",
           [C("a", proto=V5), PUB("a", "t", {"len": 200}, qos=1), R("a")],
           config="max_packet_size 100"),
        sc("flow/max-packet/broker-limit-v311",
           [C("a"), PUB("a", "t", {"len": 200}, qos=1), R("a")], config="max_packet_size 100"),
        sc("flow/max-packet/broker-limit-connect",
           [C("a", proto=V5, will_topic="w", will_payload={"len": 200})],
           config="max_packet_size 100"),
        sc("flow/max-packet/broker-limit-ok",
           [C("a", proto=V5), PUB("a", "t", {"len": 50}, qos=1), R("a")],
           config="max_packet_size 100"),
        sc("flow/max-packet/message-size-limit-v5",
           [C("a", proto=V5), PUB("a", "t", {"len": 50}, qos=1), R("a"), D("a")],
           config="message_size_limit 20"),
    ]


# ---- signals ---------------------------------------------------------------------------------------

@area("signals")
def signals_area():
    out = []
    for sig in ("HUP", "USR1", "USR2", "RTMIN", "PIPE"):
        out.append(sc("signals/%s-keeps-running" % sig, [C("a"), SIG(sig), ALIVE(0.5), D("a")],
                      log=LOG_CONN + ["eload", "eopen", "ignal"]))
    out += [
        sc("signals/INT-exits", [C("a"), SIG("INT"), R("a"), {"op": "wait_exit"}],
           log=LOG_CONN + ["terminating"]),
        sc("signals/TERM-exits-v5-clients", [C("a", proto=V5), SIG("TERM"), R("a", 2),
                                             {"op": "wait_exit"}],
           log=LOG_CONN + ["terminating"]),
        sc("signals/HUP-reloads-config-change",
           [C("a", proto=V5), WRITE("inc/a.conf", "max_keepalive 30\n"), SIG("HUP"),
            WAITLOG("Reloading|reload"), C("b", proto=V5, keepalive=60)],
           config="include_dir {dir}/inc", files={"inc/a.conf": "max_keepalive 60\n"},
           log=LOG_CONN + ["eload"]),
        # SIGUSR1 writes the persistent state now, and says so
        sc("signals/USR1-saves-with-persistence", [C("a"), SIG("USR1"), WAITLOG("Saving"),
                                                   ALIVE(0.3), D("a")],
           config="persistence true\npersistence_location {dir}/",
           log=LOG_CONN + ["Saving", "ignal"]),
        sc("signals/HUP-reloads-acl", [C("a"), SUB("a", "t/#", 0), R("a"),
                                       WRITE("acl", "topic readwrite nothing\n"), SIG("HUP"),
                                       WAITLOG("Reloading"), C("p"), PUB("p", "t/x", "after"),
                                       D("a")],
           config="acl_file {dir}/acl", files={"acl": "topic readwrite t/#\n"},
           log=LOG_CONN + ["eload", "rror"]),
        sc("signals/HUP-with-broken-config",
           [C("a"), WRITE("inc/a.conf", "bogus_option 1\n"), SIG("HUP"), ALIVE(1.0), D("a"),
            C("b")],
           config="include_dir {dir}/inc", files={"inc/a.conf": "max_keepalive 60\n"},
           log=LOG_CONN + ["eload", "rror"]),
    ]
    return out


if __name__ == "__main__":
    main()
