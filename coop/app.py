"""The FastAPI application: routers, the problem+json error handler, request limits, security headers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from coop import docs
from coop.admission import WriteAdmission
from coop.auth.throttle import LoginThrottle
from coop.db import Database
from coop.errors import BadRequest, Conflict, CoopError, Invalid, PayloadTooLarge, Unavailable, problem
from coop.mail.worker import MailSchedule
from coop.openapi import declare_problems, install_problem_schema
from coop.portal.deps import FormAgain
from coop.portal.deps import install as install_portal
from coop.record.service import HeadSchedule
from coop.record.witnesses import WitnessSchedule
from coop.settings import Settings, get_settings
from coop.surface import API_ROUTERS, MAIL_PASSES, PAGES
from coop.transient import RetryTransient
from ledger import books
from ledger.canonical import CanonicalJsonError
from ledger.events import EventError

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger("coop")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _problem_response(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    headers = {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"  # RFC 9110: a 401 names the scheme to authenticate with
    return JSONResponse(
        problem(status, code, title, detail, **extra), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _error_response(exc: CoopError) -> JSONResponse:
    return _problem_response(exc.status, exc.code, exc.title, exc.detail, **exc.extra)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over the configured size with 413, before anything is parsed.

    A body without Content-Length (chunked) is counted as it arrives; once it passes the
    limit, reading stops and whatever the application would answer to the cut-off body
    (FastAPI turns a failed read into 400) is replaced by the 413.
    """

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int, larger: dict[str, int]
    ) -> None:
        self.app = app
        self.default_bytes = max_bytes
        self.larger = larger
        """Paths that take files (a bulk import), and their own limit."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.default_bytes)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(scope, receive, send, limit)
            return
        seen = 0
        too_large = False
        started = refused = False

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, refused
            if message["type"] == "http.response.start" and not started:
                started = True
                refused = too_large
                if refused:
                    await self._refuse(scope, receive, send, limit)
            if not refused:  # else: the application's answer to the cut-off body, replaced
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = _error_response(PayloadTooLarge(f"request bodies are limited to {limit} bytes"))
        await response(scope, receive, send)


IMPORT_PATHS = ("/api/v1/members/import", "/board/members/import")
"""Where the board sends a file of members: bodies up to ``auth.max_import_bytes`` there."""


PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Portal pages and the transparency page: no script at all, styles and images from this site."""
RECEIPT_CHECK_PATH = "/receipt/verify"
RECEIPT_CHECK_POLICY = PAGE_POLICY + "; script-src 'self'; connect-src 'none'"
"""The page that checks a receipt in the browser: its one script from this site, and no
connection to anywhere, so the receipt it reads cannot be sent (see :mod:`coop.record.receipt_pages`)."""
DOCS_POLICY = "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
"""The interactive API documentation's scripts and styles. Its pages carry a stricter policy of
their own (see :mod:`coop.docs`)."""
DOCUMENT_POLICY = "frame-ancestors 'none'"
"""PDFs: the browser shows them with its own viewer, which a stricter policy could block."""
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
"""JSON, CSV and text: nothing in them ever runs or loads."""
DOCS_PATHS = ("/docs", "/redoc")
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def content_security_policy(path: str, content_type: str) -> str:
    """The policy for one response, chosen by where it is and what it is."""
    if path.startswith(DOCS_PATHS):
        return DOCS_POLICY
    if content_type.startswith("text/html"):
        return RECEIPT_CHECK_POLICY if path == RECEIPT_CHECK_PATH else PAGE_POLICY
    if content_type.startswith("application/pdf"):
        return DOCUMENT_POLICY
    return DATA_POLICY


class SecurityHeaders:
    """Every response tells the browser not to guess content types, not to send the address
    of a page elsewhere (it may hold an invitation token), and what the page may load and
    who may frame it (nobody)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                policy = content_security_policy(scope["path"], headers.get("content-type", ""))
                headers.setdefault("Content-Security-Policy", policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_page(request: Request) -> bool:
    """A portal page (HTML), not the API or its documentation."""
    return not request.url.path.startswith(("/api/", "/docs", "/redoc", "/openapi", "/health"))


def _page_error(request: Request, status: int, code: str) -> Response:
    """The portal's own words for the refusal, in the visitor's language: never the API's
    English detail."""
    from coop.portal import web

    who = web.actor(request)
    lang = web.language(request)
    message = web.refusal_text(code, lang) or web.refusal_text("failed", lang)
    return web.render(request, "error.html", who, lang, status_code=status, status=status, message=message)


def _page_code(exc: CoopError) -> str:
    """The refusal's code as the portal explains it (a password's length has words of its own)."""
    too_short = exc.code == "invalid" and exc.extra.get("field") in ("password", "new_password")
    return "password-length" if too_short else exc.code


def _form_again(request: Request, again: FormAgain, exc: CoopError) -> Response:
    """The refused public form again, in the visitor's language, with the fields it was sent
    and the refusal (``refused``, ``retry_after``) to say why."""
    from coop.portal import web

    code = _page_code(exc)
    context = {**again.fields, "error": code, "refused": code, "retry_after": exc.extra.get("retry_after")}
    return web.render(request, again.template, None, web.language(request), exc.status, **context)


def page_refusal(request: Request, exc: CoopError) -> Response:
    """A refusal on a page, beside the API's problem+json: a public form is shown again,
    saying why (its route names the template, see :func:`coop.portal.deps.form_again`); any
    other form sends the browser back to the page it came from (see
    :func:`coop.portal.deps.back_to`) with the refusal's code, which that page explains;
    anything else is an error page."""
    from coop.portal import web

    again: FormAgain | None = getattr(request.state, "form_again", None)
    back: str | None = getattr(request.state, "back", None)
    if request.method == "POST" and again is not None:
        return _form_again(request, again, exc)
    if request.method == "POST" and back is not None:
        return web.refused(back, _page_code(exc))
    return _page_error(request, exc.status, exc.code)


def _refusal(request: Request, exc: CoopError) -> Response:
    """A refusal, as a page or as problem+json."""
    return page_refusal(request, exc) if _is_page(request) else _error_response(exc)


def _unavailable(request: Request, retry_after: int) -> Response:
    """The answer when the database cannot be reached: never a 500, always when to come back."""
    if _is_page(request):
        from coop.portal import web

        lang = web.language(request)
        page = web.render(request, "error.html", None, lang, status_code=503, status=503, message=web.unavailable(lang))
        page.headers["Retry-After"] = str(retry_after)
        return page
    detail = "the database cannot be reached just now; nothing was changed, try again shortly"
    return _error_response(Unavailable(detail, retry_after=retry_after))


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CoopError)
    async def coop_error(request: Request, exc: CoopError) -> Response:
        return _refusal(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _is_page(request):
            return _page_error(request, 422, "invalid")
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return _error_response(BadRequest("the request body is not valid JSON", code="malformed-json"))
        return _problem_response(
            422, "invalid", "Invalid request", "the request does not match the schema", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not-found", 405: "method-not-allowed"}
        return _problem_response(
            exc.status_code, codes.get(exc.status_code, "http-error"), str(exc.detail), str(exc.detail)
        )

    @app.exception_handler(books.EntryConflict)
    async def entry_conflict(request: Request, exc: books.EntryConflict) -> Response:
        return _refusal(request, Conflict(str(exc), code="entry-differs", fields=exc.fields))

    @app.exception_handler(books.WouldGoNegative)
    async def would_go_negative(request: Request, exc: books.WouldGoNegative) -> Response:
        return _refusal(request, Conflict(f"not enough money: {exc}", code="insufficient-funds"))

    @app.exception_handler(books.BooksError)
    async def books_error(request: Request, exc: books.BooksError) -> Response:
        return _refusal(request, Invalid(str(exc), code="invalid-entry"))

    @app.exception_handler(EventError)
    @app.exception_handler(CanonicalJsonError)
    async def ledger_input_error(_request: Request, exc: Exception) -> JSONResponse:
        return _problem_response(422, "invalid", "Invalid request", str(exc))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        response = _problem_response(
            500, "internal-error", "Internal error", "an unexpected error occurred; it has been logged"
        )
        # Starlette answers this outside every middleware, so the security headers come from here.
        response.headers.update(SECURITY_HEADERS)
        response.headers["Content-Security-Policy"] = content_security_policy(request.url.path, PROBLEM_JSON)
        return response


def bind(app: FastAPI, settings: Settings) -> None:
    """What the application keeps of its settings in ``app.state``, where every route finds
    it: the database, the secret its tokens are signed with, the login throttle."""
    app.state.db = Database(settings)
    app.state.jwt_secret = settings.auth.secret_file.read_bytes().strip()
    app.state.login_throttle = LoginThrottle(app.state.db, settings.auth)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        witnesses = WitnessSchedule(app.state.db)
        witnesses.start()
        schedule = HeadSchedule(app.state.db, on_signed=witnesses.nudge)
        schedule.start()
        mail = MailSchedule(app.state.db, MAIL_PASSES) if settings.mail.background else None
        if mail is not None:
            mail.start()
        yield
        if mail is not None:
            mail.stop()
        schedule.stop()
        witnesses.stop()
        app.state.db.dispose()

    app = FastAPI(
        title="Health-data cooperative: system of record",
        version="1",
        description=(
            "Members' delegated choices about the reuse of their health data under the EHDS, "
            "the permits that use the pooled data, and the benefits that flow back. "
            "Errors are RFC 9457 problem+json. Every state change is an event in a verifiable, "
            "append-only ledger of record (RFC 9162 Merkle tree, Ed25519-signed tree heads)."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    docs.install(app)
    bind(app, settings)
    _install_error_handlers(app)
    for router in API_ROUTERS:
        declare_problems(router.routes)
        app.include_router(router, prefix=API_PREFIX)
    for page_router in PAGES:
        app.include_router(page_router)
    install_portal(app)

    @app.get("/health", tags=["service"], summary="Liveness (public)")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    declare_problems(app.routes)
    install_problem_schema(app)

    app.mount("/static", StaticFiles(packages=[("coop", "static")]), name="static")
    app.add_middleware(RetryTransient, unavailable=_unavailable)
    app.add_middleware(WriteAdmission)  # around the retries: a request run again keeps its place
    imports = {path: settings.auth.max_import_bytes for path in IMPORT_PATHS}
    app.add_middleware(BodyLimit, max_bytes=settings.auth.max_body_bytes, larger=imports)  # refuses before keeping
    app.add_middleware(SecurityHeaders)  # outermost: the body limit's 413 carries the headers too
    return app
