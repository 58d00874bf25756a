"""The cooperative's domain errors: one hierarchy, each carrying its HTTP status and a
stable code. Services raise these; one handler in :mod:`coop.app` turns them into
``application/problem+json`` (RFC 9457). Services never raise ``HTTPException``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CoopError(Exception):
    """Something the caller asked for cannot be done."""

    status: ClassVar[int] = 400
    code: str = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if code is not None:
            self.code = code  # a more specific stable code within the same status


class BadRequest(CoopError):
    """The request is malformed (for example, invalid JSON)."""

    code = "bad-request"


class Unauthenticated(CoopError):
    """No valid credentials: log in, or send an API key."""

    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(CoopError):
    """The credentials are valid but do not allow this."""

    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(CoopError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(CoopError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(CoopError):
    """The thing existed but can no longer be used."""

    status = 410
    code = "gone"
    title = "Gone"


class PreconditionFailed(CoopError):
    """An If-Match precondition did not hold: someone changed it first."""

    status = 412
    code = "precondition-failed"
    title = "Precondition failed"


class PayloadTooLarge(CoopError):
    """The request body is larger than the service accepts."""

    status = 413
    code = "payload-too-large"
    title = "Payload too large"


class Invalid(CoopError):
    """The payload is well-formed but breaks a rule."""

    status = 422
    code = "invalid"
    title = "Invalid request"


class TooManyRequests(CoopError):
    """Too many attempts; wait and try again."""

    status = 429
    code = "too-many-requests"
    title = "Too many requests"


class Unavailable(CoopError):
    """The service cannot reach its database just now; try again after ``retry_after`` seconds."""

    status = 503
    code = "database-unavailable"
    title = "Service unavailable"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {
        "type": f"urn:coop:problem:{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
