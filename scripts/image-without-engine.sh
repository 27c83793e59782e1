#!/usr/bin/env bash
# Builds docker/Dockerfile into an image without a Docker engine or registry, then tries the
# image out, for machines like ours where neither exists (issue 11). Optional: not part of
# `make test` (it downloads a Debian base system and takes minutes).
#
#   scripts/image-without-engine.sh [WORKDIR]      as root, from the repository root
#
# 1. debootstrap makes a minimal Debian 12 root file system from Debian's mirror (MIRROR),
#    which buildah stores as docker.io/library/debian:bookworm-slim, the name the Dockerfile's
#    FROM lines use, in a private image store under WORKDIR (nothing of the host's changes).
#    It is not the official image (which lives on Docker Hub): it is a minbase debootstrap of
#    the same release, with the same package manager and mirror.
# 2. `buildah build --isolation chroot` runs the Dockerfile as written, both stages.
# 3. The image is tried with `buildah run`: no library missing (ldd), the shipped configs
#    pass --test-config, the entrypoint with PUID/PGID starts the broker as that user, the
#    HEALTHCHECK script passes, and mosquitto_pub/mosquitto_sub from the image talk through it.
# 4. The image is saved as WORKDIR/mosquitto-proxy.tar, for `docker load -i` elsewhere.
#
# Needs Debian's buildah and debootstrap (apt-get install buildah debootstrap); exits 2 if
# they are missing, 1 if a step fails.
set -euo pipefail

MIRROR=${MIRROR:-http://deb.debian.org/debian}
TAG=${TAG:-localhost/mosquitto-proxy:latest}
WORK=${1:-$(mktemp -d /tmp/image-without-engine-XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for tool in buildah debootstrap; do
    command -v "$tool" >/dev/null || { echo "$0: needs $tool (apt-get install $tool)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "$0: run as root (debootstrap, chroot isolation)" >&2; exit 2; }
mkdir -p "$WORK"
# vfs: plain directories, no overlay or fuse needed inside a container or VM.
B=(buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
step() { printf '\n== %s\n' "$*"; }

step "base image: debootstrap bookworm (minbase) from $MIRROR"
if ! "${B[@]}" inspect --type image docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log"
    ctr=$("${B[@]}" from scratch)
    mnt=$("${B[@]}" mount "$ctr")
    cp -a "$WORK/rootfs/." "$mnt/"
    rm -rf "$mnt"/var/lib/apt/lists/* "$mnt"/var/cache/apt/archives/*.deb
    "${B[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --cmd bash "$ctr"
    "${B[@]}" commit -q "$ctr" docker.io/library/debian:bookworm-slim >/dev/null
    "${B[@]}" rm "$ctr" >/dev/null
    rm -rf "$WORK/rootfs"
fi

step "buildah build -f docker/Dockerfile"
"${B[@]}" build --isolation chroot --pull=never --layers=false -f "$ROOT/docker/Dockerfile" \
    -t "$TAG" "$ROOT"

step "trying the image"
ctr=$("${B[@]}" from "$TAG")
trap '"${B[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
run() { "${B[@]}" run --isolation chroot "$@"; }
mnt=$("${B[@]}" mount "$ctr")

# Every library the binaries link is in the runtime stage.
missing=$(run "$ctr" -- sh -c 'ldd /usr/sbin/mosquitto /usr/bin/mosquitto_passwd' | grep 'not found' || true)
[ -z "$missing" ] || { echo "missing libraries: $missing" >&2; exit 1; }
echo "ok: every library of mosquitto and mosquitto_passwd is in the image"
run "$ctr" -- /usr/sbin/mosquitto --test-config -c /mosquitto/config/mosquitto.conf
run "$ctr" -- /usr/sbin/mosquitto --test-config -c /mosquitto-no-auth.conf
run "$ctr" -- mosquitto_pub --help >/dev/null 2>&1 || [ $? = 1 ]  # present (usage exits 1)

# The broker through the entrypoint, as `docker run -e PUID -e PGID` would start it. chroot
# isolation shares the host's network: a free port instead of 1883.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npid_file /tmp/smoke.pid\n' "$port" \
    > "$mnt/tmp/smoke.conf"
run --env PUID=1000 --env PGID=1000 "$ctr" -- /docker-entrypoint.sh mosquitto -c /tmp/smoke.conf \
    >"$WORK/broker.log" 2>&1 &
runner=$!
for _ in $(seq 100); do
    [ -s "$mnt/tmp/smoke.pid" ] && break
    sleep 0.1
done
[ -s "$mnt/tmp/smoke.pid" ] || { cat "$WORK/broker.log" >&2; echo "broker did not start" >&2; exit 1; }
stop() { kill "$(cat "$mnt/tmp/smoke.pid")" 2>/dev/null || true; wait "$runner" || true; }
trap 'stop; "${B[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
# PUID/PGID: the broker runs as 1000:1000 and the volumes are that user's (buildah run mounts
# the image's VOLUMEs over the folders, so they are looked at from inside).
ids=$(awk '/^Uid:/ {u = $2} /^Gid:/ {g = $2} END {print u ":" g}' "/proc/$(cat "$mnt/tmp/smoke.pid")/status")
[ "$ids" = 1000:1000 ] || { echo "PUID/PGID: the broker runs as $ids" >&2; exit 1; }
owner=$(run "$ctr" -- stat -c %u:%g /mosquitto/data /mosquitto/log | sort -u)
[ "$owner" = 1000:1000 ] || { echo "PUID/PGID: the volumes belong to $owner" >&2; exit 1; }
echo "ok: PUID=1000 PGID=1000: the broker and the volumes are 1000:1000"
run --env HEALTHCHECK_PORT="$port" "$ctr" -- /usr/local/bin/mosquitto-healthcheck
echo "ok: the HEALTHCHECK script passes"
got=$(run "$ctr" -- sh -c "mosquitto_sub -p $port -t smoke -C 1 -W 5 & sleep 1; \
    mosquitto_pub -p $port -t smoke -m hello; wait")
[ "$got" = hello ] || { echo "pub/sub through the image's broker: got '$got'" >&2; exit 1; }
grep -q "running" "$WORK/broker.log"
echo "ok: mosquitto_sub and mosquitto_pub of the image through its broker"
stop
trap '"${B[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT

step "saving $WORK/mosquitto-proxy.tar (docker load -i)"
rm -f "$WORK/mosquitto-proxy.tar"
"${B[@]}" push -q "$TAG" "docker-archive:$WORK/mosquitto-proxy.tar:mosquitto-proxy:latest"
ls -l "$WORK/mosquitto-proxy.tar"
echo "image built and tried: $TAG (store $WORK/storage)"
