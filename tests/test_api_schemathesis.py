"""Property-based tests of ``eocat serve`` from its own OpenAPI document (schemathesis).

Every operation of ``/api`` gets generated requests (fixed seed, a bounded number per operation) against a
small catalogue over real HTTP; no answer may be a 5xx, and every answer must have a status, content type
and body that the document declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.store import Store
from tests.api_fixtures import Server

EXAMPLES_PER_OPERATION = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from eocat import samples

    db = Path(tmp_path_factory.mktemp("schemathesis")) / "api.db"
    with Store(db) as store:
        for collection in samples.collections():
            store.upsert_collection(collection)
        store.upsert_items(samples.generate_items(300, seed=3))
    server = Server(db)
    yield server.url
    server.stop()


def test_api_conforms_to_its_openapi_document(served: str) -> None:
    """Each operation in turn (schemathesis' pytest plugin does not support this pytest yet)."""
    schema = schemathesis.openapi.from_url(f"{served}/api")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13, [operation.label for operation in operations]
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,  # a fixed seed: the same requests in every run
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure as it is
        )
        def run(case: Any) -> None:
            calls.append(case.call_and_validate(base_url=served, checks=CHECKS).status_code)

        try:
            run()
        except Exception as exc:  # one line per failing operation, the details below
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:2000]}")
    assert failures == [], "\n\n".join(failures)
    assert len(calls) >= 10 * len(operations)  # the requests were made
    assert {200, 400, 404} <= set(calls)  # good and bad requests, both answered as documented
