#!/bin/sh
# Run by the service image's build (bentofile.yaml: docker.setup_script), as root, before its packages are installed.
# BentoML creates bentos/, models/, envs/ and tmp/ under BENTOML_HOME whenever it starts (even `bentoml serve` of the
# packed Bento), and the chart runs the image with a read-only root file system: without these folders the service
# stops at start-up with "Read-only file system: '/home/bentoml/bentos'" (found by `make images-smoke`). They stay
# empty: the Bento and its models live in $BENTO_PATH.
set -eu
for folder in bentos models envs tmp; do
    mkdir -p "${BENTOML_HOME:?}/$folder"
done
