"""The OpenAPI document declares every error an operation can answer, as problem+json with
the Problem schema, so generated clients and fuzzers know them (test_api_fuzz checks that
the answers keep to it)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


def _expected(op: dict[str, Any]) -> set[int]:
    """What every operation of its kind can answer, read from the document itself."""
    expected = {503}  # the database can always be unavailable
    parameters = op.get("parameters", [])
    if op.get("security"):
        expected |= {401, 403}
    if any(p["in"] == "path" for p in parameters):
        expected |= {404, 422}
    if parameters:
        expected.add(422)
    if "requestBody" in op:
        expected |= {400, 413, 422}
    return expected


def test_every_operation_declares_each_error_it_can_answer(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = _operations(document)
    assert len(operations) >= 50
    for method, path, op in operations:
        responses = op["responses"]
        errors = {int(status) for status in responses if status[0] in "45"}
        assert _expected(op) <= errors, (method, path, _expected(op) - errors)
        for status in errors:
            response = responses[str(status)]
            assert response["content"] == PROBLEM, (method, path, status)
            assert response["description"], (method, path, status)
            if status in (429, 503):
                assert response["headers"]["Retry-After"]["schema"] == {"type": "integer"}, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body is not what the API sends


def test_the_problem_schema_is_rfc_9457_with_the_cooperatives_members(client: TestClient) -> None:
    problem = client.get("/openapi.json").json()["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "code", "title", "status", "detail"}
    assert {"instance", "errors", "field", "fields", "retry_after", "etag"} <= problem["properties"].keys()
    assert problem["additionalProperties"] is True  # RFC 9457 extension members


def test_routes_declare_what_only_they_know(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def described(path: str, method: str, status: int) -> str:
        text: str = paths[path][method]["responses"][str(status)]["description"]
        return text

    assert "member-exists" in described("/api/v1/members", "post", 409)
    assert "version-mismatch" in described("/api/v1/members/{member_id}/choices", "patch", 412)
    assert "invitation-expired" in described("/api/v1/auth/accept-invitation", "post", 410)
    assert "too-many-requests" in described("/api/v1/auth/token", "post", 429)
    assert "unauthenticated" in described("/api/v1/auth/token", "post", 401)  # public, yet it refuses logins
    assert "no-mandate" in described("/api/v1/mandate", "get", 404)  # public, and without a path parameter
    assert "second-approval-needed" in described("/api/v1/distributions/{distribution_id}/commit", "post", 409)
    assert "insufficient-funds" in described("/api/v1/approvals/{approval_id}/approve", "post", 409)
    assert "own-request" in described("/api/v1/approvals/{approval_id}/approve", "post", 403)
    assert "401" not in paths["/api/v1/vocabulary"]["get"]["responses"]  # public routes ask for no credentials


def test_the_documentation_pages_still_load(client: TestClient) -> None:
    for url, marker in (("/docs", "swagger-ui"), ("/redoc", "redoc")):
        page = client.get(url)
        assert page.status_code == 200 and marker in page.text, url
