"""Schemathesis drives every operation in the OpenAPI document with generated input, as
the board and as nobody: no 500 ever, every error is problem+json with a code, and every
status, media type and body an operation answers is the one the document declares."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from coop.db import Database
from tests import factories as f

EXAMPLES = int(os.environ.get("COOP_FUZZ_EXAMPLES", "10"))
"""Per operation, mode and engine; raise it for a deeper run."""
DOCUMENTED = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


PARTS = 4
"""The operations are fuzzed in this many tests, so that the test workers share them."""
_LOADED: dict[int, list] = {}
"""The operations of the OpenAPI document, by application: the tests of a worker share one
application (tests/conftest.py, ``shared_app``), bound to each test's database, so the
document is read once per worker rather than in each part."""


def _operations(app: object) -> list:
    if id(app) not in _LOADED:
        api = schemathesis.openapi.from_asgi("/openapi.json", app)
        _LOADED[id(app)] = [result.ok() for result in api.get_all_operations()]
    return _LOADED[id(app)]


@pytest.mark.parametrize("part", range(PARTS))
def test_no_server_errors_and_problems_are_json(client: TestClient, database: Database, part: int) -> None:
    board = f.board(client, database)
    f.admit(client, board)
    operations = _operations(client.app)
    assert len(operations) >= 10
    for operation in operations[part::PARTS]:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            def exercise(case: schemathesis.Case) -> None:
                for headers in (board, {}):
                    response = case.call(headers={**(case.headers or {}), **headers})
                    what = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.content[:300]!r}"
                    assert response.status_code < 500, what
                    if response.status_code >= 400:
                        content_type = response.headers.get("content-type") or [""]
                        assert content_type[0] == "application/problem+json", what
                        assert "code" in response.json(), what
                    case.validate_response(response, checks=DOCUMENTED)

            try:
                exercise()
            except Unsatisfiable:
                # an operation without parameters or body has no invalid input to send
                assert mode is GenerationMode.NEGATIVE, operation.label
