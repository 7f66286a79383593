"""Shared test set-up: hypothesis profiles and a JIT configuration per test."""
import os
import tempfile

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.register_profile(
    "deep", deadline=None, max_examples=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("METAJIT_HYPOTHESIS", "ci"))

# the native code cache of the tests (and of the processes they start) goes to a
# directory of their own, never to the user's ~/.cache
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="metajit-tests-cache-")


@pytest.fixture
def jit():
    """Configure the JIT for one test and restore the defaults after it.

    ``jit(threshold=3, backend="python")`` returns the fresh Stats object."""
    from metajit.interp.params import configure
    from metajit.interp.stats import reset_stats

    def setup(enabled=True, backend="python", **params):
        configure(enabled=enabled, backend=backend, params=params, reset=True)
        return reset_stats()

    yield setup
    configure(reset=True)
    reset_stats()
