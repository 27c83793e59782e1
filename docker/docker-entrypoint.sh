#!/bin/sh
# Runs the command given (the broker by default). As root, first:
# - PUID / PGID: give the mosquitto user and group these ids, so files in bind-mounted folders
#   belong to the host user that owns them (the image's default is 1883:1883, as upstream's);
# - hands /mosquitto/data and /mosquitto/log to that user: a fresh volume mounts as root's.
# The broker then starts as root and drops to `mosquitto` itself (mosquitto.conf `user`).
set -e
if [ "$(id -u)" = "0" ]; then
    if [ -n "${PGID:-}" ] && [ "$PGID" != "$(id -g mosquitto)" ]; then
        groupmod -o -g "$PGID" mosquitto
    fi
    if [ -n "${PUID:-}" ] && [ "$PUID" != "$(id -u mosquitto)" ]; then
        usermod -o -u "$PUID" mosquitto
    fi
    chown -R mosquitto:mosquitto /mosquitto/data /mosquitto/log 2>/dev/null || true
fi
# `docker run IMAGE mosquitto -c ...` as with eclipse-mosquitto: the name alone works too.
if [ "${1:-}" = "mosquitto" ]; then
    shift
    set -- /usr/sbin/mosquitto "$@"
fi
exec "$@"
