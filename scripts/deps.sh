#!/usr/bin/env bash
# Installs the Debian packages that are missing, and nothing else:
#   scripts/deps.sh build   what `make`, `make run` and `make install` need
#   scripts/deps.sh test    the above plus what `make test` needs (clang for ASan, HAProxy,
#                           Debian's mosquitto and clients for interop, fail2ban, lintian, ...)
#   scripts/deps.sh --list build|test   print the list and exit (the Dockerfile and tests use it)
# It never starts, stops, enables or disables a service on the host: while apt-get runs, a
# policy-rc.d answers "no" to every start request, and the file that was there before (if any)
# is put back byte for byte afterwards.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config python3 libssl-dev libuv1-dev libcjson-dev
            libwebsockets-dev libwebsockets-evlib-uv libcunit1-dev libsystemd-dev)
# Debian's mosquitto package is only a reference for interop tests and `make bench`; its postinst
# registers mosquitto.service the way Debian always does (policy-rc.d keeps it from starting now).
test_pkgs=(clang libclang-rt-14-dev python3-paho-mqtt mosquitto-clients mosquitto haproxy openssl
           systemd fail2ban lintian debhelper dpkg-dev fakeroot man-db groff-base)

list=0
if [ "${1:-}" = "--list" ]; then
    list=1
    shift
fi
case "${1:-test}" in
build) pkgs=("${build_pkgs[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [--list] build|test" >&2; exit 2 ;;
esac
if [ "$list" = 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

policy=${DEPS_POLICY_RC_D:-/usr/sbin/policy-rc.d}   # overridable for the test only
saved=""
restore_policy() {
    if [ -n "$saved" ]; then
        mv -f "$saved" "$policy"        # the original file, with its mode and owner
    else
        rm -f "$policy"
    fi
}
if [ -e "$policy" ] || [ -L "$policy" ]; then
    saved=$(mktemp "$policy.deps-sh.XXXXXX")
    cp -a "$policy" "$saved"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs packages\nexit 101\n' >"$policy.new"
chmod 755 "$policy.new"
mv -f "$policy.new" "$policy"

apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
