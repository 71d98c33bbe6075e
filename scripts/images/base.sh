#!/usr/bin/env bash
# The local base image of both Dr. Skin images: Debian bookworm with its Python 3.11, made from Debian packages with
# debootstrap and committed with `buildah from scratch`. It stands in for python:3.11-slim where no container
# registry is reachable (Debian's archive is enough); online builds keep python:3.11-slim.
#
#   scripts/images/base.sh [IMAGE]          (default: localhost/drskin-base:bookworm-py3.11; needs root)
#
# What python:3.11-slim offers and the two builds use is here too: `python` and `pip` on PATH, `python -m venv`,
# pip allowed to install outside a virtualenv (BentoML's Dockerfile pip-installs uv), CA certificates, apt.
set -euo pipefail

IMAGE=${1:-${DRSKIN_BASE_IMAGE:-localhost/drskin-base:bookworm-py3.11}}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
HERE=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_STORAGE_CONF=${CONTAINERS_STORAGE_CONF:-$HERE/storage.conf}

for tool in debootstrap buildah; do
    command -v "$tool" >/dev/null || { echo "base.sh: $tool is missing: apt-get install -y buildah debootstrap" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "base.sh: debootstrap needs root" >&2; exit 1; }

ROOTFS=$(mktemp -d /var/tmp/drskin-base.XXXXXX)
trap 'rm -rf --one-file-system "$ROOTFS"' EXIT

# minbase: essential packages + apt only (no init, no man pages); Python and what the builds call on top.
debootstrap --variant=minbase \
    --include=python3,python3-pip,python3-venv,python-is-python3,ca-certificates \
    "$SUITE" "$ROOTFS" "$MIRROR"

cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://security.debian.org/debian-security $SUITE-security main
SOURCES
# Like the official images: no downloaded .debs kept, no recommends, no translations.
cat > "$ROOTFS/etc/apt/apt.conf.d/90drskin-slim" <<'APT'
APT::Install-Recommends "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
APT
# uv (which BentoML's Dockerfile installs packages with) trusts the system's CA store like pip and apt, so a build
# behind a TLS-inspecting proxy works with the host's bundle mounted (scripts/images/build.sh).
mkdir -p "$ROOTFS/etc/uv" && printf 'native-tls = true\n' > "$ROOTFS/etc/uv/uv.toml"
# In an image, pip outside a virtualenv is the point (python:3.11-slim has no such marker either).
rm -f "$ROOTFS"/usr/lib/python3.*/EXTERNALLY-MANAGED
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log

container=$(buildah from scratch)
trap 'buildah rm "$container" >/dev/null 2>&1 || true; rm -rf --one-file-system "$ROOTFS"' EXIT
buildah copy --quiet "$container" "$ROOTFS" /
# The security and point-release updates (debootstrap installs the release's versions). Besides being due, they keep
# the image builds from upgrading ca-certificates, whose bundle build.sh mounts read-only during their RUN steps.
buildah run --isolation chroot --network host "$container" -- sh -c \
    'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get -y -q dist-upgrade && apt-get clean \
     && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log \
     && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED'  # the python3.11 update brings the marker back
buildah config \
    --env LANG=C.UTF-8 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd python3 \
    --label org.opencontainers.image.title=drskin-base \
    --label "org.opencontainers.image.description=Debian $SUITE (debootstrap minbase) with Python 3.11, pip and venv" \
    --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$container"
buildah commit --quiet --rm "$container" "$IMAGE" >/dev/null
trap 'rm -rf --one-file-system "$ROOTFS"' EXIT
echo "base.sh: built $IMAGE"
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$IMAGE"
