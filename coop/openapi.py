"""The error answers in the OpenAPI document: every operation declares each status it can
answer with an ``application/problem+json`` body of the ``Problem`` schema, so generated
clients and fuzzers know them.

The common ones are derived here, in one place, from what a route is: every operation can
find the database unavailable (503); one that needs credentials can be refused them (401,
403); a path parameter can name nothing (404); parameters and bodies can be invalid (422);
a body can be malformed (400) or too large (413). A route declares what only it knows, such
as its conflicts, with :func:`problems`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

PROBLEM_JSON = "application/problem+json"


class FieldIssue(BaseModel):
    """One part of a request that did not match the schema."""

    loc: list[str | int] = Field(description="where: body, query, path or header, then the field")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document, with a stable ``code`` and the extension members the
    cooperative adds where they apply."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:coop:problem:<code>", examples=["urn:coop:problem:member-not-found"])
    code: str = Field(description="stable: what went wrong", examples=["member-not-found"])
    title: str
    status: int
    detail: str = Field(description="for people; may change")
    instance: str | None = Field(default=None, description="RFC 9457; not sent by this service")
    errors: list[FieldIssue] | None = Field(default=None, description="invalid: each part that did not match")
    field: str | None = Field(default=None, description="the field a rule refused")
    fields: list[str] | None = Field(
        default=None, description="a repeated key with another body: the fields that differ from what was recorded"
    )
    retry_after: int | None = Field(default=None, description="seconds to wait, as in the Retry-After header")
    etag: str | None = Field(default=None, description="version-mismatch: the current ETag")
    vote: str | None = Field(default=None, description="already-voted: the vote cast")


MEANING: dict[int, str] = {
    400: "Malformed body (malformed-json)",
    401: "No or bad credentials (unauthenticated)",
    403: "The credentials do not allow this (forbidden, or a more specific code)",
    404: "Not found, or not the caller's to know of",
    409: "Conflicts with the current state",
    410: "Existed, but can no longer be used",
    412: "The If-Match precondition did not hold",
    413: "The body is over the size limit (payload-too-large)",
    422: "Invalid request (invalid: `errors` lists each part that did not match; or a rule's code and `field`)",
    429: "Too many attempts (too-many-requests); wait Retry-After seconds",
    503: "The database cannot be reached now (database-unavailable); try again after Retry-After seconds",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}


def _response(status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def problems(codes: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """The error answers a route knows of itself, by status: ``{409: "member-exists"}``."""
    return {status: _response(status, f"{MEANING[status]}: {text}") for status, text in codes.items()}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def derived_statuses(route: APIRoute) -> set[int]:
    """The statuses an operation can answer by what it is, whatever it does."""
    nodes = list(_dependants(route.dependant))
    statuses = {503}
    if any(isinstance(node.call, SecurityBase) for node in nodes):
        statuses |= {401, 403}
    if any(node.path_params for node in nodes):
        statuses |= {404, 422}
    if any(node.query_params or node.header_params or node.cookie_params for node in nodes):
        statuses.add(422)
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    return statuses


def declare_problems(routes: Iterable[BaseRoute]) -> None:
    """Give every operation among ``routes`` the error answers it can give by what it is
    (a router's, before it is included in the application)."""
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for status in derived_statuses(route):
                route.responses.setdefault(status, _response(status, MEANING[status]))


def install_problem_schema(app: FastAPI) -> None:
    """Put the ``Problem`` schema, which every error answer names, into the document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(schema.pop("$defs", {}))
            schemas["Problem"] = schema
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
