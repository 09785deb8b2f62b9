"""Shared test configuration: hypothesis profiles and the reference-case loader."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"

# "ci" is fixed and bounded; "nightly" searches much longer. Choose with HYPOTHESIS_PROFILE.
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load_cases(name: str) -> Any:
    """Load a YAML file of reference cases from tests/data."""
    with open(DATA / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)
