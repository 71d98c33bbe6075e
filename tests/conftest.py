"""Shared fixtures. Environment is set here, before any application module is imported."""

from __future__ import annotations

import os

os.environ.setdefault("DRSKIN_ENV", "test")
# Keep torch and friends from fighting over the two cores when several processes run.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Spinning OpenMP threads starve the other processes a test starts (bentoml serve, the site, Chromium).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

pytest_plugins = ["tests.fixtures.postgres", "tests.fixtures.stores", "tests.fixtures.service"]
