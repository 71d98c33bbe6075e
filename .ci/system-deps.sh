#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing: PostgreSQL server binaries
# (initdb, pg_ctl) and Chromium for the browser tests. Idempotent; quiet when everything is there.
set -euo pipefail
need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! command -v chromium >/dev/null 2>&1; then
  need+=(chromium)
fi
# Korean glyphs: NanumGothic is the font the PDF report embeds (webapp/reports/fonts.py; its tests need it), and the
# browser screenshots use it too.
if ! fc-list 2>/dev/null | grep -qi nanum; then
  need+=(fonts-nanum)
fi
if ((${#need[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${need[*]} — install them (sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
