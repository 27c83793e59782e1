#!/bin/bash
# Docker HEALTHCHECK: healthy when the broker answers an MQTT CONNECT with a CONNACK, whatever
# its return code (the probe has no credentials, so "not authorised" is a fine answer).
#   HEALTHCHECK_HOST, HEALTHCHECK_PORT   default 127.0.0.1 and 1883
#   HEALTHCHECK_PROXY=1|2                the listener wants a PROXY header first: send v1
#                                        "UNKNOWN", or a v2 PROXY header for 127.0.0.1 (a v2
#                                        LOCAL header, HAProxy's own check, gets no CONNACK:
#                                        Mosquitto 2.1 closes those connections quietly)
# Exit 0 healthy, 1 not.
host=${HEALTHCHECK_HOST:-127.0.0.1}
port=${HEALTHCHECK_PORT:-1883}
exec 3<>"/dev/tcp/$host/$port" || exit 1
case "${HEALTHCHECK_PROXY:-}" in
1) printf 'PROXY UNKNOWN\r\n' >&3 ;;
2) # signature, v2 PROXY over TCP/IPv4 (12 address bytes): 127.0.0.1:1 -> 127.0.0.1:1883
   printf '\r\n\r\n\000\r\nQUIT\n\041\021\000\014\177\000\000\001\177\000\000\001\000\001\007\133' >&3 ;;
esac
# CONNECT, MQTT 3.1.1, clean session, keepalive 60, empty client id.
printf '\020\014\000\004MQTT\004\002\000\074\000\000' >&3
reply=$(timeout 3 head -c 2 <&3 | od -An -tx1 | tr -d ' \n')
printf '\340\000' >&3 2>/dev/null   # DISCONNECT: a clean goodbye, not a dropped client
exec 3>&-
[ "$reply" = "2002" ]
