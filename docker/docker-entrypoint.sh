#!/bin/sh
# Runs the broker as given; as root, first gives the mosquitto user the data and log folders,
# which a fresh volume mounts as root-owned.
set -e
if [ "$(id -u)" = "0" ]; then
    chown -R mosquitto:mosquitto /mosquitto/data /mosquitto/log 2>/dev/null || true
fi
exec "$@"
