#!/usr/bin/env bash
# `make images`: the two OCI images of Dr. Skin, built with buildah (no Docker daemon), from the project's own files.
#
#   scripts/images/build.sh [base|site|service|all|push]   (default all; run from anywhere, as root)
#
#   site     Dockerfile.webapp on BASE_IMAGE                           -> drskin-site:TAG
#   service  `bentoml build` (bentofile.yaml) + `bentoml containerize --backend buildah`, its generated Dockerfile's
#            FROM replaced by BASE_IMAGE (buildah --from)               -> drskin-service:TAG
#   base     scripts/images/base.sh, only when BASE_IMAGE is the local one and missing
#   push     both images to $REGISTRY/drskin-{site,service}:TAG (make images-push REGISTRY=...)
#
# TAG is the chart's appVersion (helm/drskin/Chart.yaml), and the names are the chart's default repositories, so the
# chart runs what this builds; buildah stores them as localhost/drskin-site:TAG and localhost/drskin-service:TAG.
# Environment: BASE_IMAGE (default localhost/drskin-base:bookworm-py3.11; python:3.11-slim where a registry is
# reachable), IMAGE_TAG, VENV (default .venv: the bentoml and python used), BENTOML_HOME (the store whose models are
# packed; an empty store gets synthetic first-run models, as `make run` does), CONTAINERS_STORAGE_CONF (default
# scripts/images/storage.conf: vfs under /var/lib/containers).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
WHAT=${1:-all}
TAG=${IMAGE_TAG:-$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' helm/drskin/Chart.yaml)}
BASE_IMAGE=${BASE_IMAGE:-localhost/drskin-base:bookworm-py3.11}
SITE_IMAGE=drskin-site:$TAG
SERVICE_IMAGE=drskin-service:$TAG
VENV=${VENV:-.venv}
export CONTAINERS_STORAGE_CONF=${CONTAINERS_STORAGE_CONF:-$ROOT/scripts/images/storage.conf}
# chroot isolation: no runtime (runc/crun), no cgroups and no user namespaces needed to run the build's RUN steps.
export BUILDAH_ISOLATION=chroot
export BUILDAH_FORMAT=oci

# The host's CA bundle, mounted read-only into the build's RUN steps (never stored in an image): pip and uv then
# trust what the host trusts (a TLS-inspecting proxy's CA, say). CA_BUNDLE= (empty) turns it off.
CA_BUNDLE=${CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
CA_BUD=() CA_OPT=()
if [ -n "$CA_BUNDLE" ] && [ -f "$CA_BUNDLE" ]; then
    CA_BUD=(--volume "$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro")
    CA_OPT=(--opt "volume=$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro")
fi

command -v buildah >/dev/null || { echo "build.sh: buildah is missing: apt-get install -y buildah" >&2; exit 1; }
[ -n "$TAG" ] || { echo "build.sh: no appVersion in helm/drskin/Chart.yaml" >&2; exit 1; }

has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

seconds() { echo $(( $(date +%s) - $1 )); }

build_base() {
    if [[ "$BASE_IMAGE" == localhost/* ]] && ! has_image "$BASE_IMAGE"; then
        bash scripts/images/base.sh "$BASE_IMAGE"
    fi
}

build_site() {
    local start; start=$(date +%s)
    # --pull=false: use the base in local storage, pull only when it is not there (python:3.11-slim online).
    buildah bud --pull=false --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" "${CA_BUD[@]}" \
        -f Dockerfile.webapp -t "$SITE_IMAGE" .
    echo "build.sh: built localhost/$SITE_IMAGE in $(seconds "$start") s"
}

build_service() {
    local start bento; start=$(date +%s)
    [ -x "$VENV/bin/bentoml" ] || { echo "build.sh: $VENV/bin/bentoml is missing: make install" >&2; exit 1; }
    if ! "$VENV/bin/bentoml" models get skin-classifier:latest >/dev/null 2>&1 \
        || ! "$VENV/bin/bentoml" models get skin-segmenter:latest >/dev/null 2>&1; then
        echo "build.sh: the BentoML store has no models to pack: training synthetic first-run models (drskin train quick)"
        "$VENV/bin/python" -m training.cli train quick
    fi
    bento=$("$VENV/bin/bentoml" build --output tag | sed -n 's/^__tag__://p' | tail -1)
    [ -n "$bento" ] || { echo "build.sh: bentoml build gave no Bento tag" >&2; exit 1; }
    # BentoML logs a failed build and still exits 0: the image is checked for below.
    buildah rmi "$SERVICE_IMAGE" >/dev/null 2>&1 || true
    "$VENV/bin/bentoml" containerize "$bento" --backend buildah --image-tag "$SERVICE_IMAGE" \
        --opt "from=$BASE_IMAGE" --opt network=host "${CA_OPT[@]}"
    has_image "$SERVICE_IMAGE" || { echo "build.sh: bentoml containerize did not produce $SERVICE_IMAGE" >&2; exit 1; }
    echo "build.sh: built localhost/$SERVICE_IMAGE from the Bento $bento in $(seconds "$start") s"
}

push_images() {
    [ -n "${REGISTRY:-}" ] || { echo "build.sh push: set REGISTRY (e.g. registry.example.com/drskin)" >&2; exit 2; }
    for image in "$SITE_IMAGE" "$SERVICE_IMAGE"; do
        buildah push "localhost/$image" "docker://$REGISTRY/$image"
    done
    echo "build.sh: pushed; install with --set service.image.repository=$REGISTRY/drskin-service" \
         "--set site.image.repository=$REGISTRY/drskin-site"
}

case "$WHAT" in
    base) build_base ;;
    site) build_base; build_site ;;
    service) build_base; build_service ;;
    all) build_base; build_site; build_service ;;
    push) push_images; exit 0 ;;
    *) echo "usage: $0 [base|site|service|all|push]" >&2; exit 2 ;;
esac
buildah images --filter reference="localhost/drskin-*"
