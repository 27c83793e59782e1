#!/usr/bin/env bash
# Installs the Debian packages the build and the test suite need, only those missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev libssl-dev libuv1-dev libcjson-dev
      libwebsockets-dev libwebsockets-evlib-uv libcunit1-dev python3 python3-paho-mqtt
      mosquitto-clients mosquitto haproxy openssl)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
        exit 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Keep Debian from starting the services it installs (mosquitto would take port 1883).
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    # Debian starts the haproxy and mosquitto services on install; our tests run their own
    # instances (Debian's mosquitto is there for interoperability tests and benchmarks).
    systemctl disable --now haproxy mosquitto >/dev/null 2>&1 || true
fi
