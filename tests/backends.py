"""The catalogue backends every shared test runs on, and the mark that runs one test on each."""

from __future__ import annotations

import pytest

BACKENDS = ("sqlite", "pgstac")

#: run a test that takes the ``store`` fixture once on SQLite and once on pgstac
both_backends = pytest.mark.parametrize("store", BACKENDS, indirect=True)
