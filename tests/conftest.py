"""Test configuration: bounded, deterministic Hypothesis profiles."""

import os

from hypothesis import HealthCheck, settings

# "dev" for local runs; "ci" (derandomized) is loaded automatically when CI is set.
settings.register_profile(
    "dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
